#!/usr/bin/env bash
# bench/sched.sh [BUILD_DIR] - timing figures of the daemon's scheduling,
# measured on a real wasmd (the integration tests check only behaviour and
# order, which hold on a loaded machine; these numbers do not):
#
#   - a 10 ms sleep loop (tests/daemon/ticker.wasm) beside a module
#     computing forever (spinner.wasm): ticks in 1 s (100 is perfect) and
#     the largest gap between two ticks;
#   - `wasmctl status` beside the spinner: wall time of a whole call
#     (process start included), median and largest of BENCH_SCHED_STATUS_RUNS;
#   - a reactor's 50 ms repeating timer (reactor_timer.wasm): ticks in its
#     first 2 s against the 40 expected;
#   - a wasmd_shutdown that never returns (reactor_runaway.wasm) with
#     stop_timeout_ms 300: time from `wasmctl stop` to the state stopped.
#
# Run alone on a quiet machine (`make bench` runs it last).  Exit status 1
# when the daemon does not come up or a module does not reach its state.
set -u
BUILD=$(cd "${1:-$(dirname "$0")/../build}" && pwd)
WASMD=$BUILD/wasmd WASMCTL=$BUILD/wasmctl G=$BUILD/tests/daemon
RUNS=${BENCH_SCHED_STATUS_RUNS:-20}
TMP=$(mktemp -d)
SOCK=$TMP/wasmd.sock
export WASMD_SOCKET=$SOCK
mkdir -p "$TMP/mods"
printf 'socket_group: %s\n' "$(id -gn)" >"$TMP/wasmd.yaml"
printf 'module: %s\nargs: [10]\nrestart: never\n' "$G/ticker.wasm" >"$TMP/mods/ticker.yaml"
printf 'module: %s\nrestart: never\n' "$G/spinner.wasm" >"$TMP/mods/spin.yaml"
printf 'module: %s\nrestart: never\n' "$G/reactor_timer.wasm" >"$TMP/mods/hb.yaml"
printf 'module: %s\nrestart: never\nstop_timeout_ms: 300\n' "$G/reactor_runaway.wasm" >"$TMP/mods/runaway.yaml"

"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$TMP/mods" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
state() { "$WASMCTL" --json status "$1" 2>/dev/null | grep -o '"state":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/'; }
wait_state() { # NAME STATE: up to 10 s
    for _ in $(seq 500); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.02; done
    echo "sched.sh: $1 did not reach $2: $(state "$1")" >&2
    return 1
}
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "sched.sh: no daemon: $(head -c 300 "$TMP/wasmd.log")" >&2; exit 1; }
wait_state ticker waiting && wait_state hb waiting && wait_state runaway waiting || exit 1

echo "daemon scheduling (bench/sched.sh)"
# 1. The ticker beside the spinner, over its last second.
sleep 2
read -r count gap <<<"$("$WASMCTL" logs -o cat ticker | awk '/^tick/ { t[++n] = $3 } END {
    last = t[n]; c = 0; g = 0
    for (i = 1; i <= n; i++) if (t[i] > last - 1000) { c++; if (i > 1 && t[i] - t[i-1] > g) g = t[i] - t[i-1] }
    print c, g }')"
printf '  %-44s %s\n' "10 ms ticker beside a spinner, ticks in 1 s" "$count (100 is perfect)"
printf '  %-44s %s ms\n' "  largest gap between ticks" "$gap"
# 2. wasmctl status beside the spinner.
times=()
for _ in $(seq "$RUNS"); do
    t0=$(now_ms)
    "$WASMCTL" status spin >/dev/null
    times+=($(( $(now_ms) - t0 )))
done
read -r p50 max <<<"$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }')"
printf '  %-44s %s ms median, %s ms max (%s calls)\n' "wasmctl status beside a spinner" "$p50" "$max" "$RUNS"
# 3. The reactor's 50 ms timer over its first 2 s (reactor_timer's first tick is at 50 ms).
"$WASMCTL" restart hb >/dev/null && wait_state hb waiting || exit 1
sleep 2
up=$("$WASMCTL" --json status hb | grep -o '"uptime_ms":[0-9]*' | sed 's/.*://')
ticks=$("$WASMCTL" logs -o cat hb | awk '/started \(reactor\)/ { n = 0 } /^\[info\] tick$/ { n++ } END { print n }')
printf '  %-44s %s in %s ms (%s expected)\n' "50 ms reactor timer, ticks" "$ticks" "$up" "$((up / 50))"
# 4. A runaway wasmd_shutdown cut off after stop_timeout_ms 300.
t0=$(now_ms)
"$WASMCTL" stop runaway >/dev/null
wait_state runaway stopped || exit 1
printf '  %-44s %s ms (300 configured)\n' "runaway wasmd_shutdown cut off after" "$(( $(now_ms) - t0 ))"
