# test_fleet.sh - fleet mode (daemon/fleet.c): the daemon follows a
# desired-state document on a loopback web server (fetch_server.py, with
# ETags), polled every second with conditional requests, and converges
# through an add, a change (a manifest, a module), a removal, and an
# unreachable server (the modules keep running).  A listed name that a
# module of the modules directory uses is reported as a conflict and that
# module is left alone.  A second daemon with fleet.require_signature refuses
# the document unsigned and signed by an untrusted key, and follows it once
# signed (with the real minisign tool) by its trusted key.
. "$(dirname "$0")/lib.sh"

daemon_paths
mkdir -p "$WWW"
here=$(cd "$(dirname "$0")" && pwd)

# Keys for the signed document: ops (trusted by both gateways), rogue (by neither).
KEYS=$TMP/keys
mkdir -p "$KEYS/trusted"
minisign -G -W -p "$KEYS/ops.pub" -s "$KEYS/ops.key" >/dev/null 2>&1
minisign -G -W -p "$KEYS/rogue.pub" -s "$KEYS/rogue.key" >/dev/null 2>&1
cp "$KEYS/ops.pub" "$KEYS/trusted/"

cp "$G/ticker.wasm" "$WWW/ticker.wasm"
cp "$G/spinner.wasm" "$WWW/spinner.wasm"
sha() { sha256sum "$WWW/$1" | cut -d' ' -f1; }
printf 'module: %s\nargs: [200]\nrestart: never\n' "$G/ticker.wasm" >"$MODS/local.yaml"

python3 "$here/fetch_server.py" "$WWW" "$TMP/http.port" 2>"$TMP/http.log" &
HTTP_PID=$!
wait_until test -s "$TMP/http.port"
PORT=$(cat "$TMP/http.port")
BASE=http://127.0.0.1:$PORT

entry() { # entry NAME WASM ARGS
    printf '  - name: %s\n    url: %s/%s\n    sha256: %s\n    manifest: |\n      module: %s.wasm\n      args: [%s]\n      restart: never\n' \
        "$1" "$BASE" "$2" "$(sha "$2")" "$1" "$3"
}
publish() { # publish VERSION ENTRIES...: the document, replaced at once
    { printf 'version: "%s"\nmodules:\n' "$1"; shift; printf '%s\n' "$@"; } >"$WWW/.desired.tmp"
    mv "$WWW/.desired.tmp" "$WWW/desired.yaml"
}
publish 1 "$(entry alpha ticker.wasm 100)" "$(entry beta ticker.wasm 150)" "$(entry local ticker.wasm 100)"

printf 'health_window_s: 0\nhistory_keep: 1\ntrusted_keys_dir: %s\nfleet:\n  url: %s/desired.yaml\n  interval_s: 1\n' "$KEYS/trusted" "$BASE" >"$TMP/wasmd.yaml"
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null; kill $HTTP_PID 2>/dev/null' EXIT
wait_socket "$SOCK"

fleet() { "$WASMCTL" fleet status 2>&1; }
state_of() { fleet | awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print }'; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
version_is() { fleet | grep -q "^version: *$1\$"; }

# ---- add --------------------------------------------------------------------
verdict add-alpha "$(wait_until is_state alpha converged && is_active alpha && echo 1)" "$(fleet)"
verdict add-beta "$(wait_until is_state beta converged && is_active beta && echo 1)" "$(fleet)"
verdict local-conflict "$(wait_until is_state local 'conflict: a module of the modules directory has this name' && echo 1)" "$(fleet)"
verdict local-left-alone "$([ "$(field local module)" = "$G/ticker.wasm" ] && is_active local && echo 1)" "local: $(field local module)"
verdict version-1 "$(version_is 1 && echo 1)" "$(fleet)"
verdict conditional-requests "$(wait_until grep -q '^GET /desired.yaml - "' "$WWW/requests.log" && echo 1)" "$(grep desired "$WWW/requests.log" | tail -3)"
uptime_alpha=$(numfield alpha uptime_ms)

# ---- change: beta's module, alpha unchanged ------------------------------------
publish 2 "$(entry alpha ticker.wasm 100)" "$(entry beta spinner.wasm '')"
beta_is_spinner() { cmp -s "$DEPLOYED/beta/beta.wasm" "$WWW/spinner.wasm" && is_state beta converged; }
verdict change-beta "$(wait_until beta_is_spinner && wait_until is_active beta && echo 1)" "$(fleet); $(ls -l "$DEPLOYED/beta/")"
verdict version-2 "$(wait_until version_is 2 && echo 1)" "$(fleet)"
verdict alpha-not-restarted "$([ "$(numfield alpha uptime_ms)" -ge "$uptime_alpha" ] && echo 1)" "uptime $uptime_alpha -> $(numfield alpha uptime_ms)"
verdict local-no-longer-listed-kept "$(is_active local && echo 1)" "local: $(field local state)"

# ---- change: alpha's manifest ------------------------------------------------------
publish 3 "$(entry alpha ticker.wasm 120)" "$(entry beta spinner.wasm '')"
alpha_args_120() { grep -q 'args: \[120\]' "$DEPLOYED/alpha/alpha.yaml" 2>/dev/null && is_state alpha converged; }
verdict change-alpha-manifest "$(wait_until alpha_args_120 && echo 1)" "$(fleet); $(cat "$DEPLOYED/alpha/alpha.yaml")"

# ---- remove ---------------------------------------------------------------------
publish 4 "$(entry alpha ticker.wasm 120)"
beta_gone() { ! "$WASMCTL" status beta >/dev/null 2>&1 && is_state beta removed; }
verdict remove-beta "$(wait_until beta_gone && [ ! -e "$DEPLOYED/beta" ] && echo 1)" "$(fleet)"

# ---- a second gateway that wants the document signed ------------------------------
# Unsigned: refused, nothing deployed; signed by an untrusted key: refused; signed
# by its trusted key (the real minisign tool): followed.
publish 5 "$(entry gamma ticker.wasm 100)"
SOCK2=$TMP/wasmd2.sock
printf 'trusted_keys_dir: %s
fleet:
  url: %s/desired.yaml
  interval_s: 1
  require_signature: true
' "$KEYS/trusted" "$BASE" >"$TMP/wasmd2.yaml"
"$WASMD" --config "$TMP/wasmd2.yaml" --modules-dir "$TMP/mods2" --state-dir "$TMP/state2" --socket "$SOCK2" >"$TMP/wasmd2.log" 2>&1 &
WASMD2_PID=$!
trap 'kill -TERM $WASMD_PID $WASMD2_PID 2>/dev/null; wait $WASMD_PID $WASMD2_PID 2>/dev/null; kill $HTTP_PID 2>/dev/null' EXIT
wait_socket "$SOCK2"
fleet2() { "$WASMCTL" --socket "$SOCK2" fleet status 2>&1; }
refused_unsigned() { fleet2 | grep -q 'refused: the document is not signed'; }
verdict signed-doc-required "$(wait_until refused_unsigned && ! "$WASMCTL" --socket "$SOCK2" status gamma >/dev/null 2>&1 && echo 1)" "$(fleet2)"
minisign -S -W -s "$KEYS/rogue.key" -m "$WWW/desired.yaml" -x "$WWW/desired.yaml.minisig" -t "fleet version:5" >/dev/null 2>&1
refused_rogue() { fleet2 | grep -q "refused: the document's signature: signed with key"; }
verdict signed-doc-wrong-key "$(wait_until refused_rogue && echo 1)" "$(fleet2)"
# Signed by ops: the document is touched (a new ETag) so that it is fetched again.
publish 5 "$(entry gamma ticker.wasm 100)"
minisign -S -W -s "$KEYS/ops.key" -m "$WWW/desired.yaml" -x "$WWW/desired.yaml.minisig" -t "fleet version:5" >/dev/null 2>&1
gamma_runs() { "$WASMCTL" --socket "$SOCK2" status gamma 2>/dev/null | grep -Eq '^state: +(running|waiting)'; }
verdict signed-doc-followed "$(wait_until gamma_runs && fleet2 | grep -q 'version 5 (signed)' && echo 1)" "$(fleet2)"
kill -TERM "$WASMD2_PID"
wait "$WASMD2_PID" 2>/dev/null
# The first gateway follows version 5 too: alpha goes, gamma comes.
alpha_gone() { ! "$WASMCTL" status alpha >/dev/null 2>&1 && is_state gamma converged; }
verdict first-gateway-v5 "$(wait_until alpha_gone && echo 1)" "$(fleet)"

# ---- unreachable: the modules keep running --------------------------------------
kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null
poll_failed() { fleet | grep -q '^last poll: .*poll failed: connection refused'; }
verdict unreachable-reported "$(wait_until poll_failed && echo 1)" "$(fleet)"
verdict unreachable-gamma-runs "$(is_active gamma && is_state gamma converged && echo 1)" "$(fleet)"

finish
