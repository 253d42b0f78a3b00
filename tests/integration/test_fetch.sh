# test_fetch.sh - deploys of modules named by URL (daemon/fetch.c).
#
# Real servers on loopback, started here (fetch_server.py): HTTP, and HTTPS
# with a certificate of a test CA made with openssl.  A manifest's
# source: {url, sha256} and `deploy URL MANIFEST --sha256` install the
# download only when its hash matches; each failure gets its own message
# and changes nothing on disk: DNS, connection refused, TLS (a CA that does
# not match), HTTP 404 and 500, a redirect loop, a file larger than
# fetch.max_module_mib, a server that stalls (fetch.timeout_s), plain
# http:// to a host that is not loopback.  A connection dropped mid-transfer
# is resumed with a Range request; a server that ignores ranges is read
# again from the start.  A ticker keeps ticking while a download stalls.
. "$(dirname "$0")/lib.sh"

daemon_paths
mkdir -p "$WWW"
here=$(cd "$(dirname "$0")" && pwd)

# ---- A test CA, a server certificate for 127.0.0.1, and another CA -------
PKI=$TMP/pki
mkdir -p "$PKI"
(
    cd "$PKI" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=wasmd-test-ca
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
) >"$TMP/openssl.log" 2>&1 || echo "FAIL openssl: $(tail -3 "$TMP/openssl.log")"

# ---- Content: the ticker, something larger than the limit ---------------
cp "$G/ticker.wasm" "$WWW/ticker.wasm"
cp "$G/spinner.wasm" "$WWW/spinner.wasm"
# A valid module padded past 1 MiB with a custom section (the limit below is 1 MiB).
python3 "$here/pad_module.py" "$G/ticker.wasm" "$WWW/big.wasm" 1200000
# A module large enough that a dropped connection leaves a real part behind.
python3 "$here/pad_module.py" "$G/ticker.wasm" "$WWW/mid.wasm" 300000
cp "$WWW/mid.wasm" "$WWW/mid2.wasm"
sha() { sha256sum "$1" | cut -d' ' -f1; }
TICKER_SHA=$(sha "$WWW/ticker.wasm")

python3 "$here/fetch_server.py" "$WWW" "$TMP/http.port" 2>"$TMP/http.log" &
HTTP_PID=$!
python3 "$here/fetch_server.py" "$WWW" "$TMP/https.port" "$PKI/server.pem" "$PKI/server.key" 2>"$TMP/https.log" &
HTTPS_PID=$!
wait_until test -s "$TMP/http.port"
wait_until test -s "$TMP/https.port"
HTTP=http://127.0.0.1:$(cat "$TMP/http.port")
HTTPS=https://127.0.0.1:$(cat "$TMP/https.port")

cat >"$TMP/wasmd.yaml" <<YAML
fetch:
  ca_file: $PKI/ca.pem
  max_module_mib: 1
  timeout_s: 3
  connect_timeout_s: 3
YAML
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null; kill $HTTP_PID $HTTPS_PID 2>/dev/null' EXIT
wait_socket "$SOCK"

# A ticker beside the downloads: it must keep ticking while they stall.
printf 'module: %s\nargs: [20]\nrestart: never\n' "$G/ticker.wasm" >"$MODS/beside.yaml"
"$WASMCTL" reload >/dev/null 2>&1
wait_until log_count_at_least beside '^tick' 1

src_manifest() { # FILE NAME URL SHA [EXTRA LINE]
    printf 'name: %s\nmodule: %s.wasm\nargs: [100]\nrestart: never\nsource:\n  url: %s\n  sha256: %s\n%s' \
        "$2" "$2" "$3" "$4" "${5:-}" >"$1"
}
nothing_new() { # nothing_new NAME: no instance of that name, and the deploy directory as it was ($before)
    ! "$WASMCTL" status "$1" >/dev/null 2>&1 && [ "$(ls -A "$DEPLOYED")" = "$before" ]
}

# ---- Success over HTTPS (the test CA from the daemon config) and HTTP ----
src_manifest "$SRC/https.yaml" viahttps "$HTTPS/ticker.wasm" "$TICKER_SHA"
check_rc https-manifest-source 0 -- "$WASMCTL" deploy "$SRC/https.yaml"
verdict https-installed "$(cmp -s "$DEPLOYED/viahttps/viahttps.wasm" "$WWW/ticker.wasm" && is_active viahttps && echo 1)" \
    "$(ls -lR "$DEPLOYED" | head -20); $(cat "$TMP/stderr")"
printf 'name: viahttp\nmodule: viahttp.wasm\nargs: [100]\nrestart: never\n' >"$SRC/viahttp.yaml"
check_rc http-loopback-url-arg 0 -- "$WASMCTL" deploy "$HTTP/ticker.wasm" "$SRC/viahttp.yaml" --sha256 "$TICKER_SHA"
verdict http-installed "$(cmp -s "$DEPLOYED/viahttp/viahttp.wasm" "$WWW/ticker.wasm" && echo 1)" "$(cat "$TMP/stderr")"
"$WASMCTL" --json deploy "$HTTPS/redirect/ticker.wasm" "$SRC/viahttp.yaml" --sha256 "$TICKER_SHA" >"$TMP/json" 2>/dev/null
verdict redirect-followed-json-one-doc "$([ "$(wc -l <"$TMP/json")" = 1 ] && grep -q '"exit":0' "$TMP/json" && echo 1)" "$(cat "$TMP/json")"

# ---- Each failure: its message, its exit status, nothing on disk ---------
bad() { # bad NAME EXIT PATTERN URL [SHA]: a deploy of a new module from URL fails so, leaving nothing
    local name=$1 rc=$2 pattern=$3 url=$4 sum=${5:-$TICKER_SHA}
    printf 'name: bad\nmodule: bad.wasm\nrestart: never\n' >"$SRC/bad.yaml"
    before=$(ls -A "$DEPLOYED")
    check_err "$name" "$rc" "$pattern" -- "$WASMCTL" deploy "$url" "$SRC/bad.yaml" --sha256 "$sum"
    verdict "$name-nothing-left" "$(nothing_new bad && echo 1)" "$(ls -A "$DEPLOYED")"
}
bad hash-mismatch 8 "SHA-256 mismatch" "$HTTPS/spinner.wasm"
bad dns 1 "DNS: .*nonexistent.invalid" "https://nonexistent.invalid/ticker.wasm"
bad refused 1 "connection refused" "http://127.0.0.1:1/ticker.wasm"
bad http-404 1 "HTTP status 404" "$HTTPS/status/404"
bad http-500 1 "HTTP status 500" "$HTTPS/status/500"
bad redirect-loop 1 "too many redirects" "$HTTPS/loop"
bad too-large 1 "too large: more than 1 MiB" "$HTTPS/big.wasm" "$(sha "$WWW/big.wasm")"
bad stall 9 "timed out" "$HTTPS/stall/ticker.wasm"
bad plain-http-remote 1 "plain http:// is refused" "http://example.invalid/ticker.wasm"
bad plain-http-not-loopback 1 "plain http:// is refused" "http://127.0.0.1.example.invalid/ticker.wasm"
src_manifest "$SRC/otherca.yaml" bad "$HTTPS/ticker.wasm" "$TICKER_SHA" "  ca_file: $PKI/other.pem
"
before=$(ls -A "$DEPLOYED")
check_err tls-wrong-ca 1 "TLS: " -- "$WASMCTL" deploy "$SRC/otherca.yaml"
verdict tls-wrong-ca-nothing-left "$(nothing_new bad && echo 1)" "$(ls -A "$DEPLOYED")"
check_err url-needs-sha256 2 "sha256 HEX is required" -- "$WASMCTL" deploy "$HTTPS/ticker.wasm" "$SRC/bad.yaml"
printf 'module: x.wasm\nsource: {url: "%s/ticker.wasm", sha256: "abc"}\n' "$HTTPS" >"$SRC/badsha.yaml"
check_err manifest-bad-sha256 8 "badsha.yaml:2:.*sha256" -- "$WASMCTL" deploy "$WWW/ticker.wasm" "$SRC/badsha.yaml"

# The ticker beside went on through all that (a stall included): its ticks are still coming.
n=$(last_count beside tick)
verdict ticker-beside-ticks "$(wait_until last_count_at_least beside tick $((n + 5)) && echo 1)" "ticks: $(last_count beside tick)"

# ---- Dropped connections: resumed, or read again ------------------------
src_manifest "$SRC/drop.yaml" dropped "$HTTPS/drop/mid.wasm" "$(sha "$WWW/mid.wasm")"
check_rc drop-resumed 0 -- "$WASMCTL" deploy "$SRC/drop.yaml"
verdict drop-resumed-with-range "$(grep -q '^GET /drop/mid.wasm bytes=[1-9][0-9]*- ' "$WWW/requests.log" && cmp -s "$DEPLOYED/dropped/dropped.wasm" "$WWW/mid.wasm" && echo 1)" \
    "$(grep drop "$WWW/requests.log"); $(cat "$TMP/stderr")"
src_manifest "$SRC/norange.yaml" norange "$HTTPS/norange/mid2.wasm" "$(sha "$WWW/mid2.wasm")"
check_rc drop-no-range-restarted 0 -- "$WASMCTL" deploy "$SRC/norange.yaml"
verdict drop-no-range-whole "$(cmp -s "$DEPLOYED/norange/norange.wasm" "$WWW/mid2.wasm" && echo 1)" "$(grep norange "$WWW/requests.log")"

# ---- kill -9 in the middle of a download: nothing changed on disk -----------
before=$(ls -A "$DEPLOYED")
src_manifest "$SRC/killed.yaml" viahttps "$HTTPS/stall/ticker.wasm" "$TICKER_SHA"
"$WASMCTL" deploy "$SRC/killed.yaml" >/dev/null 2>&1 &
CLIENT_PID=$!
wait_until grep -q '^GET /stall/ticker.wasm' "$WWW/requests.log"
kill -9 "$WASMD_PID"
wait "$WASMD_PID" 2>/dev/null
wait "$CLIENT_PID" 2>/dev/null
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >>"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
wait_until "$WASMCTL" version >/dev/null 2>&1
verdict kill-mid-download-unchanged "$([ "$(ls -A "$DEPLOYED")" = "$before" ] && cmp -s "$DEPLOYED/viahttps/viahttps.wasm" "$WWW/ticker.wasm" && echo 1)" \
    "before: $before; after: $(ls -A "$DEPLOYED")"
verdict kill-mid-download-runs "$(wait_until is_active viahttps && echo 1)" "viahttps: $(field viahttps state)"

finish
