# lib.sh - check helpers for integration tests (sourced).
#
#   check NAME EXPECTED_EXIT EXPECTED_STDOUT -- COMMAND...
#       runs COMMAND, compares exit code and stdout exactly
#   check_err NAME EXPECTED_EXIT STDERR_PATTERN -- COMMAND...
#       runs COMMAND, compares the exit code and greps stderr for the pattern
# Each prints "ok NAME" or "FAIL NAME: why"; FAILED counts failures.
FAILED=0

check() {
    local name=$1 want_rc=$2 want_out=$3
    shift 4
    local out rc
    out=$("$@" 2>"$TMP/stderr")
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, expected $want_rc; stderr: $(head -c 300 "$TMP/stderr")"
        FAILED=$((FAILED + 1))
    elif [ "$out" != "$want_out" ]; then
        echo "FAIL $name: stdout '$(printf '%s' "$out" | head -c 300)', expected '$want_out'"
        FAILED=$((FAILED + 1))
    else
        echo "ok $name"
    fi
}

check_err() {
    local name=$1 want_rc=$2 pattern=$3
    shift 4
    local rc
    "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, expected $want_rc; stderr: $(head -c 300 "$TMP/stderr")"
        FAILED=$((FAILED + 1))
    elif ! grep -q -- "$pattern" "$TMP/stderr"; then
        echo "FAIL $name: stderr lacks '$pattern': $(head -c 300 "$TMP/stderr")"
        FAILED=$((FAILED + 1))
    else
        echo "ok $name"
    fi
}

finish() {
    [ "$FAILED" -eq 0 ]
}

# ---- Helpers for the tests that drive a real wasmd ----------------------

# daemon_paths: the paths of a test that starts its own wasmd -- WASMD (the
# binary), G (the test modules), SOCK, MODS (modules directory), STATE (state
# directory), DEPLOYED (its deployed units), SRC (the test's own files) and
# WWW (what its web servers serve) -- with MODS and SRC made, and
# WASMD_SOCKET set for wasmctl.
daemon_paths() {
    WASMD=${WASMD:-$BUILD/wasmd}
    G=$BUILD/tests/daemon
    SOCK=$TMP/wasmd.sock
    MODS=$TMP/modules.d
    STATE=$TMP/state
    DEPLOYED=$STATE/modules
    SRC=$TMP/src
    WWW=$TMP/www
    mkdir -p "$MODS" "$SRC"
    export WASMD_SOCKET=$SOCK
}

# verdict NAME OKAY WHY: ok when OKAY is 1 (a condition the caller evaluated).
verdict() {
    if [ "$2" = 1 ]; then
        echo "ok $1"
    else
        echo "FAIL $1: $3"
        FAILED=$((FAILED + 1))
    fi
}

# check_rc NAME EXPECTED_EXIT -- COMMAND...: the exit code only; output kept in $TMP/stdout and $TMP/stderr.
check_rc() {
    local name=$1 want_rc=$2 rc
    shift 3
    "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    rc=$?
    verdict "$name" "$([ "$rc" = "$want_rc" ] && echo 1)" "exit $rc, expected $want_rc; stderr: $(head -c 300 "$TMP/stderr")"
}

# field NAME KEY / numfield NAME KEY: a string / number field of `wasmctl --json status NAME`.
field() {
    "$WASMCTL" --json status "$1" 2>/dev/null | grep -o "\"$2\":\"[^\"]*\"" | head -1 | sed 's/.*:"\(.*\)"/\1/'
}
numfield() {
    "$WASMCTL" --json status "$1" 2>/dev/null | grep -o "\"$2\":-\{0,1\}[0-9]*" | head -1 | sed 's/.*://'
}

# ---- Waiting for conditions ----------------------------------------------
# A check waits for what it expects, polling, never for a fixed time, and
# asserts behaviour and order, never speed (timings belong in `make bench`):
# on a loaded machine everything is slower but must still pass.  DEADLINE is
# how long one wait may take before the check fails; generous, since a
# passing check takes only as long as its condition.
DEADLINE=${TEST_DEADLINE:-60}

# wait_until COMMAND...: runs COMMAND every 20 ms until it succeeds (0), or DEADLINE seconds (1).
wait_until() {
    local end=$(( $(date +%s) + DEADLINE ))
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.02
    done
}

active() { case "$(field "$1" state)" in running|waiting) echo 1 ;; esac; }
is_active() { # is_active NAME: the module is running or waiting (for wait_for, re-evaluated each try)
    [ "$(active "$1")" = 1 ]
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (SECONDS is ignored: DEADLINE applies).
wait_for() {
    shift
    wait_until "$@"
}

# wait_state NAME STATE: waits for the module to be in STATE; prints the
# state it ended in, and succeeds when that is STATE.
wait_state() {
    local state=
    wait_until state_seen "$1" "$2"
    echo "$state"
    [ "$state" = "$2" ]
}
state_seen() { state=$(field "$1" state); [ "$state" = "$2" ]; } # sets wait_state's $state

# pipeline SOCK REQUEST...: sends the request lines in one write on one
# connection and prints the replies, one line each, as many as were sent.
pipeline() {
    python3 - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"".join(r.encode() + b"\n" for r in sys.argv[2:]))
data = b""
while data.count(b"\n") < len(sys.argv) - 2:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
PY
}

# wait_socket PATH: waits for a daemon's socket to appear.
wait_socket() { wait_until test -S "$1"; }

# last_count NAME WORD: N of the module's last "WORD N ..." line (0 when none).  A log is
# a ring of log_lines lines: count lines only where they are few, numbers otherwise.
last_count() { "$WASMCTL" logs -o cat "$1" 2>/dev/null | awk -v w="$2" '$1 == w { n = $2 } END { print n + 0 }'; }
last_count_at_least() { [ "$(last_count "$1" "$2")" -ge "$3" ]; }

# log_count NAME ERE: lines of the module's log matching ERE.
log_count() { "$WASMCTL" logs -o cat "$1" 2>/dev/null | grep -Ec -- "$2"; }
# wait_log_count NAME ERE N: waits for at least N such lines.
log_count_at_least() { [ "$(log_count "$1" "$2")" -ge "$3" ]; }
wait_log_count() { wait_until log_count_at_least "$1" "$2" "$3"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
