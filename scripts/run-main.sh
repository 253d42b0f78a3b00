#!/usr/bin/env bash
# run-main.sh BUILD_DIR - the main job: runs the example modules.
#
# For now the engine and `wasmctl run` (the daemon comes with its issue):
# a WASI command with arguments, environment and a sandboxed directory,
# exported functions called with --invoke, and a trap with its backtrace.
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
