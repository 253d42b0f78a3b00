#!/usr/bin/env bash
# run.sh BUILD_DIR - runs every tests/integration/test_*.sh against BUILD_DIR.
#
# Each test script is run with BUILD (the build directory), WASMCTL (the
# wasmctl binary) and TMP (a fresh scratch directory, removed afterwards) in
# its environment, and sources lib.sh for its check helpers.  A script
# prints one line per check and exits non-zero when any check failed.
# The last line is the total: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
export BUILD=$build WASMCTL=$build/wasmctl
passed=0 failed=0
for t in "$here"/test_*.sh; do
    [ -e "$t" ] || continue
    TMP=$(mktemp -d)
    export TMP
    out=$(bash "$t" 2>&1)
    rc=$?
    rm -rf "$TMP"
    p=$(printf '%s\n' "$out" | grep -c '^ok ')
    f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    echo "== $(basename "$t"): $p passed, $f failed"
    printf '%s\n' "$out" | grep -v '^ok ' | sed 's/^/   /'
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
