#!/usr/bin/env bash
# fetch.sh BUILD_DIR [RUNS] - what a remote deploy of a 1 MiB module costs.
#
# A loopback HTTPS server (tests/integration/fetch_server.py, a test CA made
# here with openssl) serves a valid 1 MiB module (the ticker padded with a
# custom section).  A wasmd with a 10 ms ticker beside it deploys it RUNS
# times (default 5) with `wasmctl deploy URL MANIFEST --sha256`; printed:
#   - the wall time of each deploy, from the command to its answer (which
#     comes once the module has started and run for WD_DEPLOY_SETTLE_MS, 1 s:
#     that second is reported apart as "without the settle");
#   - the loop's stall: the largest gap between two ticks of the ticker
#     during the deploys, against the same measure over as long a time without
#     a deploy (a 10 ms ticker's gaps are 10 ms plus the loop's lateness).
set -eu
build=$(cd "${1:?usage: fetch.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $srv $wasmd 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
mkdir www mods state
# 1 MiB in all: the ticker and a custom section of padding (its header takes 16 bytes at most).
python3 "$here/tests/integration/pad_module.py" "$build/tests/daemon/ticker.wasm" www/big.wasm \
    $((1024 * 1024 - $(stat -c %s "$build/tests/daemon/ticker.wasm") - 16))
sum=$(sha256sum www/big.wasm | cut -d' ' -f1)
python3 "$here/tests/integration/fetch_server.py" www port server.pem server.key 2>/dev/null &
srv=$!
while [ ! -s port ]; do sleep 0.05; done
printf 'log_lines: 10000\nfetch:\n  ca_file: %s/ca.pem\n' "$tmp" >wasmd.yaml
printf 'module: %s\nargs: [10]\nrestart: never\n' "$build/tests/daemon/ticker.wasm" >mods/tick.yaml
printf 'module: big.wasm\nargs: [1000]\nrestart: never\n' >big.yaml
export WASMD_SOCKET=$tmp/sock
"$build/wasmd" --config wasmd.yaml --modules-dir mods --state-dir state --socket "$WASMD_SOCKET" 2>wasmd.log &
wasmd=$!
while ! "$build/wasmctl" version >/dev/null 2>&1; do sleep 0.05; done
ticks() { "$build/wasmctl" logs -o cat tick | awk '$1 == "tick" { print $3 }'; }
max_gap() { awk -v from="$1" -v to="$2" '$1 >= from && $1 <= to { if (p) { g = $1 - p; if (g > m) m = g } p = $1 } END { print m + 0 }'; }
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; } # the ticker's clock
sleep 2
url=https://127.0.0.1:$(cat port)/big.wasm
total=0
t_first=$(now_ms)
for i in $(seq "$runs"); do
    t0=$(now_ms)
    "$build/wasmctl" deploy "$url" big.yaml --sha256 "$sum" >/dev/null
    t1=$(now_ms)
    echo "deploy $i: $((t1 - t0)) ms (without the 1 s settle: $((t1 - t0 - 1000)) ms)"
    total=$((total + t1 - t0))
done
t_last=$(now_ms)
sleep $(( (t_last - t_first) / 1000 + 1 ))
t_end=$(now_ms)
ticks >ticks.txt
during=$(max_gap "$t_first" "$t_last" <ticks.txt)
quiet=$(max_gap "$t_last" "$t_end" <ticks.txt)
echo "1 MiB over loopback HTTPS: mean $((total / runs)) ms per deploy ($(( total / runs - 1000 )) ms without the settle)"
echo "10 ms ticker's largest gap: ${during} ms during the deploys, ${quiet} ms without"
