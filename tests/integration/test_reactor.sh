# test_reactor.sh - reactor modules and graceful stop, on a real wasmd
# driven with wasmctl: timers fire in the order of their due times, a trapping handler fails
# the instance (restart policy, crash loop), unknown wasmd imports and bad
# handler signatures are refused with the name in the reason, the error
# codes of the wasmd imports, wasmd_shutdown runs on stop, restart and
# daemon shutdown, a runaway wasmd_shutdown is cut off after
# stop_timeout_ms, and a start section looping forever is sliced instead of
# blocking the daemon.  (The timer's rate and how soon a runaway handler is
# cut off are figures for `make bench`, bench/sched.sh; the checks here hold
# on a loaded machine.)
#
# Guests: $BUILD/tests/daemon/*.wasm (from tests/daemon/*.wat).
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
mkdir -p "$MODS"
export WASMD_SOCKET=$SOCK

cat > "$TMP/wasmd.yaml" <<EOT
socket_group: $(id -gn)
log_lines: 100000
EOT
manifest() { # NAME MODULE [EXTRA YAML LINES...]
    local name=$1 module=$2
    shift 2
    { echo "module: $G/$module.wasm"; echo "restart: never"; printf '%s\n' "$@"; } > "$MODS/$name.yaml"
}
manifest hb reactor_timer "stop_timeout_ms: 1000"
manifest hbdown reactor_timer
manifest rtrap reactor_trap
sed -i 's/restart: never/restart: on-failure/' "$MODS/rtrap.yaml"
printf 'restart_backoff_ms: 20\ncrash_loop_limit: 3\ncrash_loop_window_s: 60\n' >> "$MODS/rtrap.yaml"
manifest badimp reactor_badimport
manifest badtype reactor_badtype
manifest initfail reactor_initfail
manifest runaway reactor_runaway "stop_timeout_ms: 300"
manifest runaway2 reactor_runaway "stop_timeout_ms: 400"
manifest startloop startloop
manifest cmdlog command_log

"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
stop_daemon() {
    if [ -n "${WASMD_PID:-}" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
        kill -KILL "$WASMD_PID" 2>/dev/null
        wait "$WASMD_PID" 2>/dev/null
    fi
}
trap stop_daemon EXIT

logcount() { "$WASMCTL" logs -o cat "$1" 2>/dev/null | grep -c -- "$2"; }

wait_socket "$SOCK"
verdict daemon-up "$([ -S "$SOCK" ] && echo 1)" "no socket: $(head -c 300 "$TMP/wasmd.log")"

# ---- Timers ---------------------------------------------------------------

verdict reactor-waiting "$([ "$(wait_state hb waiting)" = waiting ] && echo 1)" "hb: $(field hb state) $(field hb reason)"
verdict reactor-kind-logged "$([ "$(logcount hb 'started (reactor)')" = 1 ] && echo 1)" "$("$WASMCTL" logs -o cat hb | head -3)"
verdict import-error-codes "$([ "$(logcount hb '^\[info\] error codes ok$')" = 1 ] && echo 1)" "$("$WASMCTL" logs -o cat hb | head -5)"
# Timer 7 repeats every 50 ms; timer 1 fires once, at 120 ms: after the
# first tick (due at 50) and before the third (due at 150 or later), however
# late the loop runs them.
verdict timer-repeats "$(wait_log_count hb '^\[info\] tick$' 10 && echo 1)" "$(logcount hb '^\[info\] tick$') ticks"
verdict one-shot-timer "$([ "$(logcount hb '^\[info\] once$')" = 1 ] && echo 1)" "$(logcount hb once) 'once' lines"
ticks_before_once=$("$WASMCTL" logs -o cat hb | awk '/^\[info\] once$/ { print n; exit } /^\[info\] tick$/ { n++ }')
verdict timers-in-due-order "$([ "${ticks_before_once:-0}" -ge 1 ] && [ "${ticks_before_once:-0}" -le 2 ] && echo 1)" \
    "$ticks_before_once ticks before 'once' (expected 1 or 2): $("$WASMCTL" logs -o cat hb | head -8 | tr '\n' '|')"
verdict waiting-between-events "$([ "$(field hb state)" = waiting ] && echo 1)" "hb: $(field hb state)"

# ---- Failures ------------------------------------------------------------

verdict handler-trap-crash-loop "$([ "$(wait_state rtrap crash-looping)" = crash-looping ] && echo 1)" \
    "rtrap: $(field rtrap state) $(field rtrap reason)"
verdict handler-trap-reason "$(field rtrap reason | grep -q 'unreachable (in boom) during wasmd_on_timer' && echo 1)" \
    "$(field rtrap reason)"
verdict handler-trap-restarts "$([ "$(numfield rtrap restarts)" = 2 ] && [ "$(logcount rtrap '^\[info\] handler runs$')" = 3 ] && echo 1)" \
    "restarts $(numfield rtrap restarts); $("$WASMCTL" logs -o cat rtrap | head -c 500)"
verdict unknown-import-refused "$([ "$(wait_state badimp failed)" = failed ] && field badimp reason | grep -q 'unknown import wasmd.frobnicate' && echo 1)" \
    "badimp: $(field badimp state) $(field badimp reason)"
verdict bad-handler-type "$([ "$(wait_state badtype failed)" = failed ] && field badtype reason | grep -qF 'wasmd_on_timer must be a function (i32) -> ()' && echo 1)" \
    "badtype: $(field badtype state) $(field badtype reason)"
verdict init-failure "$([ "$(wait_state initfail failed)" = failed ] && [ "$(field initfail reason)" = 'wasmd_init returned 7' ] && echo 1)" \
    "initfail: $(field initfail state) $(field initfail reason)"

# A command may use wasmd.log (split at newlines); timers need a reactor.
verdict command-log "$([ "$(wait_state cmdlog stopped)" = stopped ] &&
    [ "$("$WASMCTL" logs -o cat cmdlog | grep -v '^\[wasmd\]' | tr '\n' '|')" = '[warn] from a command|[warn] second line|[info] enotsup ok|' ] && echo 1)" \
    "cmdlog: $(field cmdlog state); $("$WASMCTL" logs -o cat cmdlog | tr '\n' '|')"

# ---- A start section looping forever ---------------------------------------

verdict start-section-sliced "$([ "$(field startloop state)" = running ] && [ "$(numfield startloop slices)" -gt 10 ] && echo 1)" \
    "startloop: $(field startloop state), $(numfield startloop slices) slices"
s0=$(numfield startloop slices)
check_rc status-beside-start-loop 0 -- "$WASMCTL" status startloop
more_slices() { [ "$(numfield startloop slices)" -gt "$s0" ]; }
verdict start-loop-keeps-slicing "$(wait_until more_slices && [ "$(field startloop state)" = running ] && echo 1)" \
    "startloop: $(field startloop state), slices $s0 -> $(numfield startloop slices)"
check stop-start-loop 0 "startloop: stopped" -- "$WASMCTL" stop startloop

# ---- Graceful stop --------------------------------------------------------

check stop-reactor-cmd 0 "" -- sh -c "'$WASMCTL' stop hb >/dev/null"
verdict stop-reactor "$([ "$(wait_state hb stopped)" = stopped ] && [ "$(field hb reason)" = 'stopped by request' ] && echo 1)" \
    "hb: $(field hb state) $(field hb reason)"
verdict shutdown-handler-ran "$([ "$(logcount hb '^\[info\] shutdown handler ran$')" = 1 ] && echo 1)" \
    "$("$WASMCTL" logs -o cat -n 5 hb | tr '\n' '|')"
verdict shutdown-before-stopped "$("$WASMCTL" logs -o cat hb | grep -A1 'shutdown handler ran' | tail -1 | grep -q 'stopped: stopped by request' && echo 1)" \
    "$("$WASMCTL" logs -o cat -n 5 hb | tr '\n' '|')"
# (no-ticks-after-stop is checked below, once the stopped run has been followed by a restart.)

# A shutdown handler that never returns is cut off after stop_timeout_ms
# (300), not before (less a little: the loop's clock is cached).  The two stops go in one write on one connection, so
# the second meets the instance still stopping however slow the machine.
t0=$(now_ms)
pipeline "$SOCK" '{"v":1,"verb":"stop","name":"runaway"}' '{"v":1,"verb":"stop","name":"runaway"}' >"$TMP/out" 2>&1
verdict stopping-state "$(head -1 "$TMP/out" | grep -q '"status":"ok".*"state":"stopping"' && echo 1)" "$(cat "$TMP/out")"
verdict stop-while-stopping "$(sed -n 2p "$TMP/out" | grep -q '"status":"conflict".*already stopping' && echo 1)" "$(cat "$TMP/out")"
check_err stop-stopping-exit-code 5 "already stopping\|not running" -- "$WASMCTL" stop runaway
s=$(wait_state runaway stopped)
t1=$(now_ms)
echo "# runaway wasmd_shutdown (stop_timeout_ms 300) ended after $((t1 - t0)) ms"
verdict runaway-cut-off "$([ "$s" = stopped ] && [ $((t1 - t0)) -ge 280 ] && echo 1)" \
    "runaway: $s after $((t1 - t0)) ms"
verdict runaway-logs "$([ "$(logcount runaway '^\[warn\] shutdown begins$')" = 1 ] && [ "$(logcount runaway 'wasmd_shutdown did not return within 300 ms')" = 1 ] && echo 1)" \
    "$("$WASMCTL" logs -o cat runaway | tr '\n' '|')"

# stop waits until the module has stopped (its wasmd_shutdown cut off after 300 ms); --no-wait
# returns at once; --timeout gives up with exit 9 while the stop goes on (defect 7).
check_rc start-runaway 0 -- "$WASMCTL" start runaway
wait_state runaway waiting >/dev/null
t0=$(now_ms)
check stop-waits 0 "runaway: stopped" -- "$WASMCTL" stop runaway
t1=$(now_ms)
verdict stop-waited-for-shutdown "$([ $((t1 - t0)) -ge 280 ] && [ "$(field runaway state)" = stopped ] && echo 1)" \
    "returned after $((t1 - t0)) ms; runaway: $(field runaway state)"
check_rc start-runaway-again 0 -- "$WASMCTL" start runaway
wait_state runaway waiting >/dev/null
check stop-no-wait 0 "runaway: stopping" -- "$WASMCTL" stop --no-wait runaway
wait_state runaway stopped >/dev/null
check_rc start-runaway-third 0 -- "$WASMCTL" start runaway
wait_state runaway waiting >/dev/null
check_rc stop-timeout 9 -- "$WASMCTL" --json stop --timeout 0.05 runaway
verdict stop-timeout-doc "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == 9 and r["status"] == "timeout" and r["instance"]["state"] == "stopping" and "did not stop" in r["error"], r' "$TMP/stdout" 2>&1 && echo 1)" \
    "$(cat "$TMP/stdout")"
verdict stop-goes-on-after-timeout "$([ "$(wait_state runaway stopped)" = stopped ] && echo 1)" "runaway: $(field runaway state)"
# A request after a waiting one on the same connection is answered after it, in order.
check_rc start-runaway-fourth 0 -- "$WASMCTL" start runaway
wait_state runaway waiting >/dev/null
pipeline "$SOCK" '{"v":1,"verb":"stop","name":"runaway","wait":true}' '{"v":1,"verb":"status","name":"runaway"}' >"$TMP/out" 2>&1
verdict wait-pipelined-in-order "$(sed -n 1p "$TMP/out" | grep -q '"status":"ok".*"state":"stopped"' &&
    sed -n 2p "$TMP/out" | grep -q '"status":"ok".*"state":"stopped"' && [ "$(wc -l < "$TMP/out")" = 2 ] && echo 1)" "$(cat "$TMP/out")"

# A restart runs the shutdown handler, then starts afresh.
check_rc start-reactor 0 -- "$WASMCTL" start hb
wait_state hb waiting >/dev/null
check_rc restart-reactor 0 -- "$WASMCTL" restart hb
verdict restart-waits-for-new-run "$(grep -Eq '^hb: (running|waiting)$' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
verdict restart-reactor-state "$([ "$(wait_state hb waiting)" = waiting ] && echo 1)" "hb: $(field hb state) $(field hb reason)"
# Between the stop's "stopped" line and the next start, the stopped run ticked no more.
verdict no-ticks-after-stop "$("$WASMCTL" logs -o cat hb | awk '/stopped: stopped by request/ { off = 1 } /started \(reactor\)/ { off = 0 }
    off && /^\[info\] tick$/ { bad = 1 } END { exit bad }' && echo 1)" "$("$WASMCTL" logs -o cat hb | grep -A3 'stopped: stopped by request' | tr '\n' '|')"
verdict restart-ran-shutdown "$([ "$(logcount hb '^\[info\] shutdown handler ran$')" = 2 ] && [ "$(logcount hb 'started (reactor)')" = 3 ] && echo 1)" \
    "$("$WASMCTL" logs -o cat -n 8 hb | tr '\n' '|')"

# ---- Daemon shutdown: every reactor's wasmd_shutdown runs, a runaway one is cut off.

t0=$(now_ms)
kill -TERM "$WASMD_PID"
wait "$WASMD_PID"
rc=$?
t1=$(now_ms)
WASMD_PID=
echo "# daemon shutdown with a runaway wasmd_shutdown (400 ms): $((t1 - t0)) ms"
verdict shutdown-clean "$([ "$rc" = 0 ] && echo 1)" "wasmd exited $rc: $(tail -c 300 "$TMP/wasmd.log")"
verdict shutdown-handlers-ran "$(grep -q '^hbdown: \[info\] shutdown handler ran$' "$TMP/wasmd.log" && grep -q '^hb: \[info\] shutdown handler ran$' "$TMP/wasmd.log" && echo 1)" \
    "$(grep -i 'shutdown' "$TMP/wasmd.log" | tail -5)"
verdict shutdown-runaway-cut-off "$(grep -q '^runaway2: \[wasmd\] wasmd_shutdown did not return within 400 ms' "$TMP/wasmd.log" && [ $((t1 - t0)) -ge 350 ] && echo 1)" \
    "took $((t1 - t0)) ms; $(grep '^runaway2' "$TMP/wasmd.log" | tail -3)"
verdict no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/wasmd.log" && echo 1)" \
    "$(grep -A5 'Sanitizer' "$TMP/wasmd.log" | head -c 600)"

finish
