#!/usr/bin/env bash
# bench/scale.sh [BUILD_DIR] - instance scale: how much memory and time N
# idle instances of one small command cost the daemon.
#
# For each N (BENCH_SCALE_COUNTS, default "1 100 1000"; BENCH_SCALE_10K=1
# adds 10000): starts a real wasmd on an empty modules directory, reads its
# RSS, writes N manifests of bench/scale/idle.c (a C command with 2 pages
# of linear memory that sleeps in poll_oneoff), asks for a reload and
# polls `wasmctl --json list` until all N are waiting, then reads VmRSS
# from /proc/PID/status.  Prints one row per N: the start time (reload to
# all waiting; the polling adds up to BENCH_SCALE_POLL_MS), the daemon's
# RSS, the RSS per instance above the empty daemon's, and the daemon's
# open descriptors.
#
# Exit status 1 when the daemon does not come up or the instances do not
# all reach `waiting` within BENCH_SCALE_TIMEOUT seconds (default 300).
set -u
BUILD=$(cd "${1:-$(dirname "$0")/../build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
WASMD=$BUILD/wasmd WASMCTL=$BUILD/wasmctl
COUNTS=${BENCH_SCALE_COUNTS:-1 100 1000}
[ "${BENCH_SCALE_10K:-0}" = 1 ] && COUNTS="$COUNTS 10000"
TIMEOUT=${BENCH_SCALE_TIMEOUT:-300}
POLL_MS=${BENCH_SCALE_POLL_MS:-20}
if [ -z "${CC_WASM:-}" ]; then
    CC_WASM=clang
    command -v clang >/dev/null 2>&1 || CC_WASM=clang-14
fi

[ -x "$WASMD" ] && [ -x "$WASMCTL" ] || { echo "scale: $WASMD or $WASMCTL not found (run make first)" >&2; exit 1; }
mkdir -p "$BUILD/bench/wasm"
IDLE=$BUILD/bench/wasm/idle.wasm
if [ ! -f "$IDLE" ] || [ "$HERE/scale/idle.c" -nt "$IDLE" ]; then
    "$CC_WASM" --target=wasm32-wasi -O2 "$HERE/scale/idle.c" -Wl,--strip-debug -o "$IDLE" || exit 1
fi

TMP=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# waiting_count: instances in the state `waiting`.
waiting_count() { "$WASMCTL" --json list 2>/dev/null | grep -o '"state":"waiting"' | wc -l; }

echo "instance scale (bench/scale.sh): N idle instances of a 2-page C command sleeping in poll_oneoff"
echo "  (start = reload until all are waiting, polled every $POLL_MS ms; fds = the daemon's open descriptors)"
printf '  %8s %10s %10s %12s %14s %6s\n' instances "start ms" "RSS MiB" "empty MiB" "KiB/instance" fds
printf '  %8s %10s %10s %12s %14s %6s\n' -------- ---------- ---------- ------------ -------------- ------
status=0
for n in $COUNTS; do
    rm -rf "$TMP/run" && mkdir -p "$TMP/run/mods"
    export WASMD_SOCKET=$TMP/run/wasmd.sock
    printf 'socket_group: %s\nmemory_budget_mib: 65536\n' "$(id -gn)" >"$TMP/run/wasmd.yaml"
    "$WASMD" --config "$TMP/run/wasmd.yaml" --modules-dir "$TMP/run/mods" --socket "$WASMD_SOCKET" \
        >"$TMP/run/wasmd.log" 2>&1 &
    PID=$!
    for _ in $(seq 500); do "$WASMCTL" list >/dev/null 2>&1 && break; sleep 0.02; done
    if ! "$WASMCTL" list >/dev/null 2>&1; then
        echo "scale: no daemon: $(head -c 300 "$TMP/run/wasmd.log")" >&2
        status=1
        break
    fi
    empty=$(rss_kib "$PID")
    for i in $(seq "$n"); do
        printf 'module: %s\nrestart: never\n' "$IDLE" >"$TMP/run/mods/idle$i.yaml"
    done
    t0=$(now_ns)
    "$WASMCTL" reload >/dev/null || { echo "scale: reload failed" >&2; status=1; break; }
    end=$(( $(date +%s) + TIMEOUT ))
    got=0
    while :; do
        got=$(waiting_count)
        [ "$got" -ge "$n" ] && break
        if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$PID" 2>/dev/null; then
            break
        fi
        sleep "$(awk -v m="$POLL_MS" 'BEGIN { print m / 1000 }')"
    done
    t1=$(now_ns)
    if [ "$got" -lt "$n" ]; then
        failed=$("$WASMCTL" list 2>/dev/null | awk 'NR > 1 && $2 != "waiting"' | head -3)
        printf '  %8d %10s   only %d waiting after %d s; e.g.:\n%s\n' "$n" - "$got" "$TIMEOUT" "$failed"
        grep -v ': idle$' "$TMP/run/wasmd.log" | grep -v 'started (command)' | tail -3 | sed 's/^/    /'
        status=1
    else
        rss=$(rss_kib "$PID")
        fds=$(ls "/proc/$PID/fd" | wc -l)
        awk -v n="$n" -v ms="$(( (t1 - t0) / 1000000 ))" -v rss="$rss" -v e="$empty" -v fds="$fds" 'BEGIN {
            printf "  %8d %10d %10.1f %12.1f %14.1f %6d\n", n, ms, rss / 1024, e / 1024, (rss - e) / n, fds }'
    fi
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
done
exit $status
