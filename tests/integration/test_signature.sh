# test_signature.sh - signed modules (daemon/signature.c), made with the real
# minisign tool (Debian's), so that what operators sign is what wasmd checks.
#
# Keys: ops (in the daemon's trusted_keys_dir) and rogue (not).  Checked:
# prehashed (minisign's default) and legacy (-l) signatures verify; the
# trusted comment must name the module and a version; a replayed older
# release is refused unless --allow-downgrade; a tampered module, a tampered
# trusted comment, a wrong key, a signature for another module are refused
# and change nothing; require_signature (manifest, then daemon config)
# refuses unsigned modules, local ones included; a deploy by URL fetches
# URL.minisig.
. "$(dirname "$0")/lib.sh"

daemon_paths
KEYS=$TMP/keys
TRUSTED=$TMP/trusted.d
mkdir -p "$KEYS" "$TRUSTED" "$WWW"
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v minisign >/dev/null 2>&1; then
    echo "FAIL minisign: not installed (scripts/deps.sh installs it)"
    exit 1
fi
minisign -G -W -p "$KEYS/ops.pub" -s "$KEYS/ops.key" >/dev/null 2>&1
minisign -G -W -p "$KEYS/rogue.pub" -s "$KEYS/rogue.key" >/dev/null 2>&1
cp "$KEYS/ops.pub" "$TRUSTED/ops.pub"

# release DIR WASM COMMENT [KEY] [-l]: DIR/dep.wasm and its signature DIR/dep.wasm.minisig
release() {
    local dir=$SRC/$1 key=${4:-ops}
    mkdir -p "$dir"
    cp "$2" "$dir/dep.wasm"
    printf 'module: dep.wasm\nargs: [200]\nrestart: never\n' >"$dir/dep.yaml"
    minisign -S -W ${5:-} -s "$KEYS/$key.key" -m "$dir/dep.wasm" -t "$3" >/dev/null 2>&1 ||
        echo "FAIL minisign-sign-$1"
}
release v1 "$G/ticker.wasm" "module:dep version:1"
release v2 "$G/spinner.wasm" "module:dep version:2" ops -l   # legacy (not prehashed)
release v10 "$G/ticker.wasm" "module:dep version:1.10"
release rogue "$G/ticker.wasm" "module:dep version:9" rogue
release other "$G/ticker.wasm" "module:other version:9"
release nover "$G/ticker.wasm" "module:dep built-today"
release tampered "$G/ticker.wasm" "module:dep version:9"
printf '\0' | dd of="$SRC/tampered/dep.wasm" bs=1 seek=100 conv=notrunc 2>/dev/null
release comment "$G/ticker.wasm" "module:dep version:1"
sed -i '3s/version:1/version:99/' "$SRC/comment/dep.wasm.minisig"

start_daemon() { # start_daemon [require]: the daemon trusting ops.pub
    printf 'trusted_keys_dir: %s\nrequire_signature: %s\n' "$TRUSTED" "${1:-false}" >"$TMP/wasmd.yaml"
    "$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >>"$TMP/wasmd.log" 2>&1 &
    WASMD_PID=$!
    wait_until "$WASMCTL" version >/dev/null 2>&1
}
stop_daemon() { kill -TERM "$WASMD_PID" 2>/dev/null; wait "$WASMD_PID" 2>/dev/null; }
trap 'stop_daemon; kill $HTTP_PID 2>/dev/null' EXIT
start_daemon
installed() { cmp -s "$DEPLOYED/dep/dep.wasm" "$SRC/$1/dep.wasm" && cmp -s "$DEPLOYED/dep/dep.yaml" "$SRC/$1/dep.yaml"; }
deploy() { "$WASMCTL" deploy "$@"; }

# ---- Good signatures, and anti-rollback ----------------------------------
check_rc signed-v1 0 -- deploy "$SRC/v1/dep.wasm" "$SRC/v1/dep.yaml"
verdict signed-v1-logged "$(grep -q 'deployed dep version 1 signed by ops.pub' "$TMP/wasmd.log" && echo 1)" "$(tail -3 "$TMP/wasmd.log")"
check_rc signed-v2-legacy 0 -- deploy "$SRC/v2/dep.wasm" "$SRC/v2/dep.yaml"
verdict signed-v2-installed "$(installed v2 && echo 1)" "$(ls -l "$DEPLOYED/dep/")"
check_err replay-v1-refused 5 "version 1 is older than the installed version 2" -- deploy "$SRC/v1/dep.wasm" "$SRC/v1/dep.yaml"
verdict replay-v1-kept-v2 "$(installed v2 && echo 1)" "$(ls -l "$DEPLOYED/dep/")"
check_rc replay-v1-allowed 0 -- deploy --allow-downgrade "$SRC/v1/dep.wasm" "$SRC/v1/dep.yaml"
verdict replay-v1-installed "$(installed v1 && echo 1)" "$(ls -l "$DEPLOYED/dep/")"
check_rc version-1.10-newer-than-1 0 -- deploy "$SRC/v10/dep.wasm" "$SRC/v10/dep.yaml"

# ---- Bad signatures: refused, nothing changes -----------------------------
bad() { # bad NAME PATTERN DIR
    check_err "$1" 8 "$2" -- deploy "$SRC/$3/dep.wasm" "$SRC/$3/dep.yaml"
    verdict "$1-unchanged" "$(installed v10 && echo 1)" "$(ls -l "$DEPLOYED/dep/")"
}
bad tampered-module "signature does not match the module" tampered
bad tampered-comment "trusted comment's signature does not verify" comment
bad wrong-key "not a trusted key" rogue
bad other-module "does not name module:dep" other
bad no-version "has no version" nover

# ---- require_signature ---------------------------------------------------
mkdir -p "$SRC/plain"
cp "$G/ticker.wasm" "$SRC/plain/req.wasm"
printf 'module: req.wasm\nargs: [200]\nrestart: never\nrequire_signature: true\n' >"$SRC/plain/req.yaml"
check_err manifest-requires-signature 8 "unsigned module refused: its manifest requires" -- deploy "$SRC/plain/req.wasm" "$SRC/plain/req.yaml"
check_rc manifest-requires-nothing-left 4 -- "$WASMCTL" status req
stop_daemon
start_daemon true
cp "$G/ticker.wasm" "$SRC/plain/free.wasm"
printf 'module: free.wasm\nargs: [200]\nrestart: never\n' >"$SRC/plain/free.yaml"
check_err daemon-requires-signature 8 "unsigned module refused: the daemon config requires" -- deploy "$SRC/plain/free.wasm" "$SRC/plain/free.yaml"
release v11 "$G/ticker.wasm" "module:dep version:11"
check_rc daemon-requires-signed-ok 0 -- deploy "$SRC/v11/dep.wasm" "$SRC/v11/dep.yaml"

# ---- By URL: the daemon fetches URL.minisig --------------------------------
release v12 "$G/ticker.wasm" "module:dep version:12"
cp "$SRC/v12/dep.wasm" "$WWW/dep12.wasm"
cp "$SRC/v12/dep.wasm.minisig" "$WWW/dep12.wasm.minisig"
cp "$G/ticker.wasm" "$WWW/unsigned.wasm"
python3 "$here/fetch_server.py" "$WWW" "$TMP/http.port" 2>"$TMP/http.log" &
HTTP_PID=$!
wait_until test -s "$TMP/http.port"
HTTP=http://127.0.0.1:$(cat "$TMP/http.port")
sum() { sha256sum "$1" | cut -d' ' -f1; }
check_rc url-signed 0 -- deploy "$HTTP/dep12.wasm" "$SRC/v12/dep.yaml" --sha256 "$(sum "$WWW/dep12.wasm")"
verdict url-signed-fetched-minisig "$(grep -q '^GET /dep12.wasm.minisig' "$WWW/requests.log" && grep -q 'deployed dep version 12 signed by ops.pub' "$TMP/wasmd.log" && echo 1)" \
    "$(cat "$WWW/requests.log")"
check_err url-unsigned-refused 8 "unsigned module refused" -- deploy "$HTTP/unsigned.wasm" "$SRC/plain/free.yaml" --sha256 "$(sum "$WWW/unsigned.wasm")"

finish
