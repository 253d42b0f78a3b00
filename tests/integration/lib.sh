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

# wait_state NAME STATE [SECONDS]: waits (default 5 s) for the module to be
# in STATE; prints the state it ended in, and succeeds when that is STATE.
wait_state() {
    local name=$1 want=$2 tries=$(( ${3:-5} * 50 )) s=
    for _ in $(seq "$tries"); do
        s=$(field "$name" state)
        [ "$s" = "$want" ] && break
        sleep 0.02
    done
    echo "$s"
    [ "$s" = "$want" ]
}

active() { case "$(field "$1" state)" in running|waiting) echo 1 ;; esac; }
is_active() { # is_active NAME: the module is running or waiting (for wait_for, re-evaluated each try)
    [ "$(active "$1")" = 1 ]
}

wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
    local n=$(($1 * 20)) i
    shift
    for i in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
    return 1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
