#!/usr/bin/env bash
# run-main.sh BUILD_DIR - the main job: runs the example modules.
#
# First the engine through `wasmctl run`: a WASI command with arguments,
# environment and a sandboxed directory, exported functions called with
# --invoke, fuel, and a trap with its backtrace.  Then the daemon: wasmd
# runs examples/modules.d (a clock, a module that computes forever, hello,
# and a reactor called on timer events) on one event loop, driven with wasmctl.
set -eu
build=${1:-build}
ex=$build/examples
ctl=$build/wasmctl
here=$(cd "$(dirname "$0")/.." && pwd)

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step wasmctl run --dir examples/data::/data --env GREETING=Hi hello.wasm Ada
"$ctl" run --dir "$here/examples/data::/data" --env GREETING=Hi "$ex/hello.wasm" Ada

step wasmctl run --invoke count_primes primes.wasm 100000
"$ctl" run --invoke count_primes "$ex/primes.wasm" 100000

step wasmctl run --invoke fib primes.wasm 30
"$ctl" run --invoke fib "$ex/primes.wasm" 30

step "wasmctl run --fuel 100000 --invoke fib primes.wasm 40   (stops when its fuel is spent)"
"$ctl" run --fuel 100000 --invoke fib "$ex/primes.wasm" 40 || echo "(exit status $?)"

step "wasmctl run --invoke crash values.wasm   (a trap: kind, backtrace, exit status 134)"
"$ctl" run --invoke crash "$build/tests/wasi/values.wasm" || echo "(exit status $?)"

# ---- The daemon: three modules side by side on one event loop ----------
run=$build/examples/run
rm -rf "$run" && mkdir -p "$run"
cp -r "$here/examples/modules.d" "$here/examples/data" "$run/"
for m in clock busy hello heartbeat; do cp "$ex/$m.wasm" "$run/"; done
sock=$run/wasmd.sock
export WASMD_SOCKET=$sock

step "wasmd --modules-dir examples/modules.d --socket $sock &"
"$build/wasmd" --modules-dir "$run/modules.d" --socket "$sock" 2>"$run/wasmd.stderr" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

sleep 3
step "wasmctl list   (busy computes forever; clock still ticks every second)"
"$ctl" list
step wasmctl status clock
"$ctl" status clock
step wasmctl logs -n 3 clock
"$ctl" logs -n 3 clock
step wasmctl logs hello
"$ctl" logs hello
step "wasmctl logs -n 3 heartbeat   (a reactor: wasmd calls its timer handler)"
"$ctl" logs -n 3 heartbeat
step wasmctl stop busy
"$ctl" stop busy
"$ctl" list
kill "$daemon"
wait "$daemon" 2>/dev/null || true
trap - EXIT
step "wasmd stopped; its own log:"
cat "$run/wasmd.stderr" | head -20
