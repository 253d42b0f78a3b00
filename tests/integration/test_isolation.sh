# test_isolation.sh - what one instance does cannot hurt another, nor the
# daemon: a memory hog stops at its manifest's limit, runaway recursion
# ends in a trap, both leave their neighbour ticking; and an idle daemon
# (every instance waiting) makes no needless wake-ups.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
mkdir -p "$MODS"
export WASMD_SOCKET=$SOCK

start_daemon() {
    "$WASMD" --modules-dir "$MODS" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
    WASMD_PID=$!
    wait_socket "$SOCK"
}
stop_daemon() {
    if [ -n "${WASMD_PID:-}" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
        kill -TERM "$WASMD_PID"
        wait "$WASMD_PID" 2>/dev/null
    fi
}
trap stop_daemon EXIT

manifest() { # manifest NAME LINES...: writes $MODS/NAME.yaml
    local name=$1
    shift
    printf '%s\n' "$@" > "$MODS/$name.yaml"
}

# ---- A memory hog and runaway recursion beside a ticker -----------------
manifest hog "module: $G/memhog.wasm" "limits:" "  memory_pages: 32" "restart: never"
manifest deep "module: $G/recurse.wasm" "limits:" "  call_depth: 500" "restart: never"
manifest ticker "module: $G/ticker.wasm" "args: [10]" "restart: never"
start_daemon
verdict hog-stopped-at-limit "$(wait_state hog failed >/dev/null && field hog reason | grep -q unreachable && echo 1)" \
    "hog: $(field hog state), $(field hog reason)"
verdict recursion-trapped "$(wait_state deep failed >/dev/null && field deep reason | grep -q 'call stack exhausted' && echo 1)" \
    "deep: $(field deep state), $(field deep reason)"
verdict neighbour-unaffected "$(case "$(field ticker state)" in running|waiting) echo 1;; esac)" \
    "ticker: $(field ticker state)"
n1=$(last_count ticker tick)
verdict neighbour-still-ticking "$(wait_until last_count_at_least ticker tick $((n1 + 30)) && echo 1)" \
    "tick $n1, then $(last_count ticker tick)"
verdict daemon-alive "$(kill -0 "$WASMD_PID" 2>/dev/null && echo 1)" "wasmd died: $(tail -c 300 "$TMP/wasmd.log")"
stop_daemon

# ---- Idle: every instance sleeping, no polling ---------------------------
rm -f "$MODS"/*.yaml
for i in 1 2 3; do
    manifest "sleeper$i" "module: $G/ticker.wasm" "args: [1000]" "restart: never"
done
start_daemon
# Once each sleeper has ticked, measure 3 s of idling: a window for counting
# wake-ups, not a wait for something to happen.
for i in 1 2 3; do wait_log_count "sleeper$i" '^tick' 1; done
cs0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$WASMD_PID/status")
cpu0=$(awk '{print $14 + $15}' "/proc/$WASMD_PID/stat")
sleep 3
cs1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$WASMD_PID/status")
cpu1=$(awk '{print $14 + $15}' "/proc/$WASMD_PID/stat")
wakeups=$(( (cs1 - cs0) / 3 ))
ticks=$(( cpu1 - cpu0 ))
# Three 1 s timers: about 3 wake-ups a second are the work itself.
echo "# idle daemon, 3 instances sleeping 1 s: $wakeups wake-ups/s, $ticks CPU ticks (1/100 s) in 3 s"
verdict idle-wakeups "$([ "$wakeups" -le 6 ] && echo 1)" "$wakeups wake-ups per second"
verdict idle-cpu "$([ "$ticks" -le 5 ] && echo 1)" "$ticks CPU ticks in 3 s"
stop_daemon
finish
