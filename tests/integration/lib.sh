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
