#!/usr/bin/env bash
# check.sh [--fast | --asan] - the passes of `make check`, every one of them.
#
# Runs, in order: the build, unit, spec, mutate and integration in $BUILD
# (default build/), the Debian package (make package-check), then the build
# and suites again in $BUILD-asan with AddressSanitizer and
# UndefinedBehaviorSanitizer (SAN=1 OPT=-O1).  A failing pass does not
# stop the ones after it: each prints its own output, then a line
# "== check: PASS ok|FAILED"; the end lists every pass's result and the last
# line is the tally "N passed, N failed" (of passes; README.md and CI read
# it).  Exit status 1 when any pass failed.
#
#   --fast   without the package and the sanitizer passes (`make check-fast`)
#   --asan   only the sanitizer passes (`make asan`)
#
# Environment: MAKE (the make to call, from the Makefile), BUILD.
set -u
cd "$(dirname "$0")/.."
make=${MAKE:-make}
build=${BUILD:-build}
plain=1 asan=1
case ${1:-} in
--fast) asan=0 ;;
--asan) plain=0 ;;
"") ;;
*) echo "usage: $0 [--fast | --asan]" >&2; exit 2 ;;
esac

passed=0 failed=0 results=()
# pass NAME MAKE_ARGS...: one pass, whatever happened before.
pass() {
    local name=$1 t0 rc
    shift
    echo "== check: $name"
    t0=$(date +%s)
    "$make" --no-print-directory "$@"
    rc=$?
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        results+=("ok      $name ($(( $(date +%s) - t0 )) s)")
        echo "== check: $name ok"
    else
        failed=$((failed + 1))
        results+=("FAILED  $name (exit $rc)")
        echo "== check: $name FAILED (exit $rc)"
    fi
}

passes() { # PREFIX MAKE_ARGS...: the build and every suite, with these make arguments
    local prefix=$1
    shift
    pass "${prefix}build" "$@" all
    for suite in unit spec mutate integration; do
        pass "$prefix$suite" "$@" "$suite"
    done
}

if [ "$plain" = 1 ]; then
    passes "" BUILD="$build"
    [ "$asan" = 1 ] && pass package package-check
fi
[ "$asan" = 1 ] && passes "asan " BUILD="$build-asan" SAN=1 OPT=-O1

echo "== check: results"
printf '   %s\n' "${results[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
