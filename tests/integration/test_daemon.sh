# test_daemon.sh - a real wasmd on a temporary socket and modules directory,
# driven with wasmctl: every daemon verb, the lifecycle (clean exit, exit
# code, trap, restart policy, crash loop, missing module, bad manifest),
# the control socket's failure paths (malformed, oversized and abandoned
# requests, a refused peer, many concurrent clients), and time slicing: with
# one instance spinning forever, another's 10 ms sleep loop keeps ticking, in
# order, and `wasmctl status` answers.  (How regularly it ticks and how fast
# status answers are figures for `make bench`, not checks: see bench/sched.sh.)
#
# Guests: $BUILD/tests/daemon/*.wasm (from tests/daemon/) and $BUILD/tests/wasi/*.wasm.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
mkdir -p "$MODS"
export WASMD_SOCKET=$SOCK

# ---- Manifests -----------------------------------------------------------

cat > "$TMP/wasmd.yaml" <<EOF
socket_group: $(id -gn)
log_lines: 200
EOF
cat > "$MODS/ticker.yaml" <<EOF
module: $G/ticker.wasm
args: [10]
restart: never
EOF
cat > "$MODS/spin.yaml" <<EOF
module: $G/spinner.wasm
restart: never
EOF
cat > "$MODS/trap.yaml" <<EOF
module: $G/trap.wasm
restart: on-failure
restart_backoff_ms: 20
crash_loop_limit: 3
crash_loop_window_s: 60
EOF
cat > "$MODS/once.yaml" <<EOF
module: $G/ticker.wasm
args: [1, 3]
restart: never
EOF
cat > "$MODS/exit3.yaml" <<EOF
module: $G/ticker.wasm
args: [1, 1, 3]
restart: never
EOF
cat > "$MODS/again.yaml" <<EOF
module: $G/ticker.wasm
args: [1, 1]
restart: always
restart_backoff_ms: 10
EOF
cat > "$MODS/hello.yaml" <<EOF
module: $BUILD/tests/wasi/hello.wasm
restart: never
EOF
cat > "$MODS/missing.yaml" <<EOF
module: $TMP/no-such-module.wasm
restart: never
EOF
cat > "$MODS/bad.yaml" <<EOF
module: $G/ticker.wasm
no_such_key: 1
EOF

# ---- Helpers -------------------------------------------------------------

"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
stop_daemon() {
    if [ -n "${WASMD_PID:-}" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
        kill -TERM "$WASMD_PID" 2>/dev/null
        wait "$WASMD_PID" 2>/dev/null
    fi
}
trap stop_daemon EXIT

wait_socket "$SOCK"
verdict daemon-up "$([ -S "$SOCK" ] && echo 1)" "no socket: $(head -c 300 "$TMP/wasmd.log")"

# ---- Verbs ---------------------------------------------------------------

check_rc version 0 -- "$WASMCTL" version
verdict version-daemon "$(grep -q '^wasmd ' "$TMP/stdout" && echo 1)" "no daemon version: $(cat "$TMP/stdout")"

"$WASMCTL" list >"$TMP/list" 2>&1
verdict list-header "$(head -1 "$TMP/list" | grep -q '^NAME *STATE' && echo 1)" "$(head -c 300 "$TMP/list")"
verdict list-ticker "$(grep -Eq '^ticker +(running|waiting)' "$TMP/list" && echo 1)" "$(cat "$TMP/list")"
verdict bad-manifest-skipped "$(! grep -q '^bad ' "$TMP/list" && grep -q 'bad.yaml' "$TMP/wasmd.log" && echo 1)" \
    "bad listed or not reported: $(cat "$TMP/list")"
check_rc list-json 0 -- "$WASMCTL" --json list
verdict list-json-format "$(grep -q '"instances":\[' "$TMP/stdout" && echo 1)" "$(head -c 300 "$TMP/stdout")"

# ---- Lifecycle -----------------------------------------------------------

verdict clean-exit "$([ "$(wait_state once stopped)" = stopped ] && [ "$(numfield once exit_code)" = 0 ] && echo 1)" \
    "once: $(field once state) $(field once reason)"
check once-logs 0 "$(printf 'tick 1\ntick 2\ntick 3')" -- sh -c "'$WASMCTL' logs -o cat once | grep '^tick' | cut -d' ' -f1,2"
verdict exit-code "$([ "$(wait_state exit3 failed)" = failed ] && [ "$(field exit3 reason)" = "exited with code 3" ] && echo 1)" \
    "exit3: $(field exit3 state) $(field exit3 reason)"
check hello-output 0 "Hello, world!" -- sh -c "'$WASMCTL' logs -o cat hello | grep -v '^\\[wasmd\\]'"
verdict missing-module "$([ "$(wait_state missing failed)" = failed ] && field missing reason | grep -q 'cannot read' && echo 1)" \
    "missing: $(field missing state) $(field missing reason)"

# A trapping module fails, is restarted with backoff, and ends crash-looping.
verdict trap-crash-loop "$([ "$(wait_state trap crash-looping)" = crash-looping ] && echo 1)" \
    "trap: $(field trap state) $(field trap reason)"
verdict trap-reason "$(field trap reason | grep -q 'unreachable (in crash)' && echo 1)" "$(field trap reason)"
verdict trap-restarts "$([ "$(numfield trap restarts)" = 2 ] && echo 1)" "restarts $(numfield trap restarts)"
"$WASMCTL" logs -o cat trap >"$TMP/traplog" 2>&1
verdict trap-logs "$([ "$(grep -c 'about to trap' "$TMP/traplog")" = 3 ] && grep -q 'restarting in 40 ms' "$TMP/traplog" && echo 1)" \
    "$(head -c 600 "$TMP/traplog")"
# Its output comes before the line saying how the run ended.
verdict trap-log-order "$(grep -A1 'about to trap' "$TMP/traplog" | head -2 | tail -1 | grep -q 'failed: trap' && echo 1)" \
    "$(head -c 600 "$TMP/traplog")"
# A user's start begins afresh (--no-wait: whether the wait would see the new
# run running or already failed depends on how fast it traps).
check_rc trap-start 0 -- "$WASMCTL" start --no-wait trap
verdict trap-start-restarts "$(grep -q '^trap: ' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"

# restart: always restarts after clean exits too.
restarted_twice() { [ "$(numfield again restarts)" -ge 2 ] 2>/dev/null; }
verdict always-restarts "$(wait_until restarted_twice && echo 1)" "restarts $(numfield again restarts)"

# stop / start / restart and their conflicts.
check stop 0 "ticker: stopped" -- "$WASMCTL" stop ticker
check_err stop-again 5 "not running" -- "$WASMCTL" stop ticker
verdict stopped-reason "$([ "$(field ticker reason)" = "stopped by request" ] && echo 1)" "$(field ticker reason)"
check_rc start 0 -- "$WASMCTL" start ticker
# start waits, as stop does: it answers with the new run running or waiting.
verdict start-waits "$(grep -Eq '^ticker: (running|waiting)$' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_err start-again 5 "already" -- "$WASMCTL" start ticker
check_rc restart 0 -- "$WASMCTL" restart ticker
check_err status-unknown 4 "no module named" -- "$WASMCTL" status nope
check_err start-unknown 4 "no module named" -- "$WASMCTL" start nope
check_err usage-no-name 2 "status needs NAME" -- "$WASMCTL" status
check_err usage-bad-n 2 "expected a number" -- "$WASMCTL" logs -o cat -n x ticker
check_err unreachable 3 "cannot reach" -- "$WASMCTL" --socket "$TMP/nothing.sock" list

wait_log_count ticker '^tick' 2
check logs-n 0 2 -- sh -c "'$WASMCTL' logs -o cat -n 2 ticker | wc -l"
# Following: the next 10 lines as they come, in order (tick numbers one apart).
timeout "$DEADLINE" sh -c "'$WASMCTL' logs -o cat -f -n 0 ticker | head -n 10" >"$TMP/follow" 2>&1
verdict logs-follow "$([ "$(grep -c '^tick' "$TMP/follow")" = 10 ] &&
    awk 'NR > 1 && $2 != prev + 1 { bad = 1 } { prev = $2 } END { exit bad }' "$TMP/follow" && echo 1)" \
    "$(head -c 300 "$TMP/follow")"

# ---- Time slicing: the key test -----------------------------------------
# A module computing forever is preempted: beside it, the ticker's new run
# ticks 1, 2, 3, ... in order with time stamps that never go back, the
# spinner goes on getting slices in the meantime, and the daemon answers.

verdict spinner-running "$([ "$(field spin state)" = running ] && echo 1)" "spin: $(field spin state)"
"$WASMCTL" restart ticker >/dev/null
s0=$(numfield spin slices)
# The tick lines of the ticker's current run: after its last "started" line
# (or all of them once that line has left the ring of log_lines lines).
this_run() { "$WASMCTL" logs -o cat ticker | awk '/^\[wasmd\] started/ { n = 0; delete t } /^tick/ { t[++n] = $0 } END { for (i = 1; i <= n; i++) print t[i] }'; }
run_ticks_at_least() { [ "$(this_run | awk '{ n = $2 } END { print n + 0 }')" -ge "$1" ]; }
wait_until run_ticks_at_least 100
this_run >"$TMP/ticks"
check_rc status-beside-spinner 0 -- "$WASMCTL" status spin
s1=$(numfield spin slices)
echo "# ticker beside a spinner: $(wc -l <"$TMP/ticks") ticks, spinner slices $s0 -> $s1"
verdict ticks-keep-coming "$([ "$(awk '{ n = $2 } END { print n + 0 }' "$TMP/ticks")" -ge 100 ] && echo 1)" \
    "this run's last ticks: $(tail -3 "$TMP/ticks" | tr '\n' '|')"
# Numbered one apart (none lost or repeated), time stamps never going back.
in_order='NR > 1 && ($2 != prev + 1 || $3 < last) { bad = NR } { prev = $2; last = $3 }'
verdict ticks-in-order "$(awk "$in_order END { exit bad || NR == 0 }" "$TMP/ticks" && echo 1)" \
    "$(awk "$in_order END { print \"out of order at line \" bad }" "$TMP/ticks"): $(head -c 300 "$TMP/ticks")"
verdict spinner-still-running "$([ "$(field spin state)" = running ] && [ "$s1" -gt "$s0" ] && echo 1)" \
    "spin: $(field spin state), slices $s0 -> $s1"

# ---- The socket's failure paths -----------------------------------------

if command -v python3 >/dev/null; then
    raw() { python3 - "$SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
mode = sys.argv[2]
if mode == "disconnect":
    s.sendall(b'{"v":1,"verb":"li')
    s.close()
    print("closed")
    sys.exit(0)
if mode == "malformed":
    s.sendall(b'this is not json\n')
elif mode == "version":
    s.sendall(b'{"v":99,"verb":"list"}\n')
elif mode == "verb":
    s.sendall(b'{"v":1,"verb":"frobnicate"}\n')
elif mode == "large":
    try:
        s.sendall(b'x' * (70 * 1024))
    except OSError:
        pass
elif mode == "two":
    s.sendall(b'{"v":1,"verb":"version"}\n{"v":1,"verb":"status","name":"spin"}\n')
data = b""
while data.count(b"\n") < (2 if mode == "two" else 1):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
EOF
    }
    verdict client-disconnect "$([ "$(raw disconnect)" = closed ] && echo 1)" "raw client failed"
    verdict malformed-request "$(raw malformed | grep -q '"status":"bad-request"' && echo 1)" "$(raw malformed)"
    verdict wrong-version "$(raw version | grep -q '"status":"unsupported-version"' && echo 1)" "$(raw version)"
    verdict unknown-verb "$(raw verb | grep -q '"status":"unknown-verb"' && echo 1)" "$(raw verb)"
    verdict oversized-request "$(raw large | grep -q '"status":"too-large"' && echo 1)" "$(raw large)"
    verdict pipelined-requests "$([ "$(raw two | grep -c '"status":"ok"')" = 2 ] && echo 1)" "$(raw two)"
else
    echo "# python3 not found: raw socket checks skipped"
fi

# Many concurrent clients.
for i in $(seq 200); do
    "$WASMCTL" status spin >/dev/null 2>&1 &
done
bad=0
for job in $(jobs -p); do
    [ "$job" = "$WASMD_PID" ] && continue
    wait "$job" || bad=$((bad + 1))
done
verdict concurrent-clients "$([ "$bad" = 0 ] && echo 1)" "$bad of 200 clients failed"
check_rc alive-after-clients 0 -- "$WASMCTL" status ticker

# A peer that is neither root nor in the socket group is refused with a reason.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    chmod 755 "$TMP"
    check_err refused-peer 6 "neither root nor in group" -- \
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$WASMCTL" --socket "$SOCK" list
else
    echo "# not root (or no setpriv/nobody): refused-peer check skipped"
fi

# ---- Shutdown ------------------------------------------------------------

kill -TERM "$WASMD_PID"
wait "$WASMD_PID"
rc=$?
WASMD_PID=
verdict shutdown-clean "$([ "$rc" = 0 ] && echo 1)" "wasmd exited $rc: $(tail -c 300 "$TMP/wasmd.log")"
verdict socket-removed "$([ ! -e "$SOCK" ] && echo 1)" "socket still there"
verdict no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/wasmd.log" && echo 1)" \
    "$(grep -A5 'Sanitizer' "$TMP/wasmd.log" | head -c 600)"

finish
