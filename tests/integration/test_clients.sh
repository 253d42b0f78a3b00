# test_clients.sh - the control socket's bounds on its clients (issue 10,
# "Clients"), with raw clients from clients.py:
#   - a client that sends requests and never reads is dropped once its
#     unread replies pass the limit; the daemon's memory stays bounded;
#   - a refused peer always gets its refusal (wasmctl exits 6 with the
#     reason, 50 times in a row) and each refusal is logged with uid and pid;
#   - a group member holding every connection it may have keeps root able to
#     get in (reserved slots), is itself refused past the limit, and its
#     refused connections hold no slot;
#   - idle connections, a half-sent request and a refused peer that never
#     closes are closed by the daemon, while a log follower stays.
# The peer checks need root, setpriv and the user nobody; otherwise skipped.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
CLIENTS=$(dirname "$0")/clients.py
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
mkdir -p "$MODS"
chmod 755 "$TMP"
export WASMD_SOCKET=$SOCK

printf 'socket_group: %s\n' "$(id -gn)" >"$TMP/wasmd.yaml"
printf 'module: %s\nargs: [20]\nrestart: never\n' "$G/ticker.wasm" >"$MODS/ticker.yaml"

PIDS=
start_daemon() { # CONFIG LOG: a daemon on $SOCK
    "$WASMD" --config "$1" --modules-dir "$MODS" --socket "$SOCK" >"$2" 2>&1 &
    WASMD_PID=$!
    PIDS="$PIDS $WASMD_PID"
    wait_socket "$SOCK"
}
stop_daemon() {
    kill -TERM "$WASMD_PID" 2>/dev/null
    wait "$WASMD_PID"
}
cleanup() {
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$WASMD_PID/status"; }

# As a user who is not root: `member` is in the socket group, `stranger` is not.
can_switch=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    can_switch=1
fi
PY_ANY=/usr/bin/python3   # a user other than root may not reach a python3 of root's (pyenv)
[ -x "$PY_ANY" ] || PY_ANY=python3
member() { setpriv --reuid=nobody --regid="$(id -g)" --clear-groups "$@"; }
stranger() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }

start_daemon "$TMP/wasmd.yaml" "$TMP/wasmd.log"
verdict daemon-up "$([ -S "$SOCK" ] && echo 1)" "no socket: $(head -c 300 "$TMP/wasmd.log")"
wait_state ticker waiting >/dev/null

# ---- A client that never reads ---------------------------------------------

rss0=$(rss_kb)
out=$(python3 "$CLIENTS" "$SOCK" flood)
rss1=$(rss_kb)
echo "# never-reading client: $out; daemon RSS $rss0 kB before, $rss1 kB after"
verdict never-reading-client-dropped "$(printf '%s' "$out" | grep -q '^dropped after' && echo 1)" "$out"
verdict never-reading-client-logged "$(grep -Eq '^wasmd: client uid 0 pid [0-9]+: dropped: [0-9]+ bytes of replies unread' "$TMP/wasmd.log" && echo 1)" \
    "$(grep 'client uid' "$TMP/wasmd.log" | head -3)"
# Replies are capped at 1 MiB per client; 64 MB leaves room for allocator and sanitizer slack
# (without the cap the daemon grew by hundreds of MB).
verdict never-reading-memory-bounded "$([ $((rss1 - rss0)) -lt 65536 ] && echo 1)" "RSS grew from $rss0 to $rss1 kB"
check_rc alive-after-flood 0 -- "$WASMCTL" list

if [ -n "$can_switch" ]; then
    # ---- A refused peer always reads its refusal ----------------------------

    bad=0 why=
    for i in $(seq 50); do
        stranger "$WASMCTL" --socket "$SOCK" list >/dev/null 2>"$TMP/refused.err"
        rc=$?
        if [ "$rc" != 6 ] || ! grep -q 'wasmctl: list: uid [0-9]* is neither root nor in group' "$TMP/refused.err"; then
            bad=$((bad + 1))
            why="exit $rc: $(head -c 200 "$TMP/refused.err")"
        fi
    done
    verdict refused-peer-50-times "$([ "$bad" = 0 ] && echo 1)" "$bad of 50 runs wrong, e.g. $why"
    n=$(grep -Ec "^wasmd: client uid $(id -u nobody) pid [0-9]+: refused: uid $(id -u nobody) is neither root nor in group" "$TMP/wasmd.log")
    verdict refused-peers-logged "$([ "$n" -ge 50 ] && echo 1)" "$n refusals logged, expected 50"

    # ---- A group member holding every connection it may have --------------

    rm -f "$TMP/stop"
    (ulimit -n 4096 && member "$PY_ANY" "$CLIENTS" "$SOCK" hold 1100 "$TMP/stop" >"$TMP/hold.out" 2>&1) &
    HOLD_PID=$!
    PIDS="$PIDS $HOLD_PID"
    wait_until grep -q '^served' "$TMP/hold.out"
    echo "# 1100 connections from a group member: $(cut -c1-200 "$TMP/hold.out")"
    # 1024 connections are served at most, 16 of them for root only.
    verdict member-capped "$(grep -q '^served 1008 denied 92 .*too many clients' "$TMP/hold.out" && echo 1)" "$(cut -c1-300 "$TMP/hold.out")"
    check_rc root-still-gets-in 0 -- "$WASMCTL" list
    verdict root-still-gets-in-output "$(grep -q '^ticker ' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
    check_err member-refused-when-full 6 "too many clients" -- member "$WASMCTL" --socket "$SOCK" version
    touch "$TMP/stop"
    wait "$HOLD_PID"
    member_gets_in() { member "$WASMCTL" --socket "$SOCK" version >/dev/null 2>&1; }
    verdict member-gets-in-after "$(wait_until member_gets_in && echo 1)" "still refused after the holder closed"
else
    echo "# not root (or no setpriv/nobody): refused-peer and slot checks skipped"
fi
stop_daemon
verdict shutdown-clean "$([ $? = 0 ] && echo 1)" "$(tail -c 300 "$TMP/wasmd.log")"
verdict no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/wasmd.log" && echo 1)" "$(grep -A5 'Sanitizer' "$TMP/wasmd.log" | head -c 600)"

# ---- Idle connections time out --------------------------------------------

printf 'socket_group: %s\nclient_idle_timeout_ms: 1000\n' "$(id -gn)" >"$TMP/idle.yaml"
start_daemon "$TMP/idle.yaml" "$TMP/idle.log"
wait_state ticker waiting >/dev/null
"$WASMCTL" logs -o cat -f -n 0 ticker >"$TMP/follow.out" 2>&1 &
FOLLOW_PID=$!
PIDS="$PIDS $FOLLOW_PID"
out=$(python3 "$CLIENTS" "$SOCK" idle 20)
verdict idle-connections-closed "$([ "$out" = "closed 21 of 21" ] && echo 1)" "$out"
verdict idle-closes-logged "$([ "$(grep -c 'closed after 1000 ms without traffic' "$TMP/idle.log")" -ge 21 ] && echo 1)" \
    "$(grep -c 'without traffic' "$TMP/idle.log") idle closes logged"
# The follower connected before them and only listens: it is still there, still receiving.
n0=$(grep -c '^tick' "$TMP/follow.out")
more_ticks() { [ "$(grep -c '^tick' "$TMP/follow.out")" -gt "$n0" ]; }
verdict follower-not-idle "$(kill -0 "$FOLLOW_PID" 2>/dev/null && wait_until more_ticks && echo 1)" \
    "follower: $(tail -c 300 "$TMP/follow.out")"
kill "$FOLLOW_PID" 2>/dev/null
if [ -n "$can_switch" ]; then
    out=$(stranger "$PY_ANY" "$CLIENTS" "$SOCK" linger)
    verdict refused-silent-peer-closed "$([ "$out" = "refused, then closed" ] && echo 1)" "$out"
fi
check_rc alive-after-idle 0 -- "$WASMCTL" list
stop_daemon
verdict idle-shutdown-clean "$([ $? = 0 ] && echo 1)" "$(tail -c 300 "$TMP/idle.log")"
verdict idle-no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/idle.log" && echo 1)" "$(grep -A5 'Sanitizer' "$TMP/idle.log" | head -c 600)"

finish
