#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - wasmd's benchmarks: our engine against native code.
#
# Builds every workload in bench/workloads/ twice, natively (gcc -O2) and to
# wasm32-wasi (clang -O2), runs both, checks that their checksum lines agree,
# and prints the best-of-N wall-clock time of each, the ratio wasmd/native and
# the geometric mean of the ratios; then the start-up time and peak memory of
# a "hello world" command, the size of the engine's code, and the latency from
# a simulated GPIO edge to a module's output, alone and among 50 busy
# instances (bench/latency.py), and a 10 ms ticker's lateness and `status`'s
# latency beside four hostile modules (bench/hostile.py).  `make bench` runs it after building
# everything; see bench/README.md for how to read it.
#
# Exit status: 0 if every workload built, ran and agreed; 1 if any did not
# (the table is still printed); 2 for a usage error.
#
# Environment:
#   BENCH_RUNS         runs of each measurement, the best one counts (default 3)
#   BENCH_ONLY         comma-separated workloads to run (default: all); "hello"
#                      selects the start-up/memory section, "latency" the
#                      latency one, "hostile" the hostile-modules one and
#                      "sched" the daemon's scheduling figures (bench/sched.sh),
#                      which otherwise run only when BENCH_ONLY is unset
#   BENCH_HELLO_RUNS   runs averaged for the start-up time (default 20)
#   BENCH_TIMEOUT      seconds after which one run is killed (default 600)
#   BENCH_ARG_<name>   argument for workload <name> instead of its default
#                      size, for both native and wasm (e.g. BENCH_ARG_fib=35)
#   CC_NATIVE, CC_WASM compilers (default gcc; clang, else clang-14)
#   BENCH_WASM3        a wasm3 command line runner (`wasm3 FILE.wasm ARGS`), or
#                      any engine run the same way: measured beside ours in
#                      this run, its ratios replace the recorded yardstick
#   BENCH_LATENCY_SAMPLES, BENCH_LATENCY_BUSY
#                      samples per configuration (default 200) and the numbers
#                      of busy instances (default 0,50) of bench/latency.py
#   BENCH_HOSTILE_SECONDS  how long bench/hostile.py measures each configuration
#                      (default 10)
#   BENCH_SCALE_COUNTS, BENCH_SCALE_10K
#                      numbers of idle instances of bench/scale.sh (default
#                      "1 100 1000"; BENCH_SCALE_10K=1 adds 10000); "scale"
#                      in BENCH_ONLY selects that section
set -eu

WORKLOADS="fib sha256 nbody qsort mandel mix lz json vm"

usage() {
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
}
[ $# -eq 1 ] || usage

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
mkdir -p "$1/bench/native" "$1/bench/wasm" "$1/bench/out"
BUILD=$(cd "$1" && pwd)
RUNS=${BENCH_RUNS:-3}
HELLO_RUNS=${BENCH_HELLO_RUNS:-20}
TIMEOUT=${BENCH_TIMEOUT:-600}
ONLY=${BENCH_ONLY:-}
CC_NATIVE=${CC_NATIVE:-gcc}
# Debian's clang-14 package (scripts/deps.sh) has no unversioned `clang`.
if [ -z "${CC_WASM:-}" ]; then
    CC_WASM=clang
    command -v clang >/dev/null 2>&1 || CC_WASM=clang-14
fi
WASMCTL=$BUILD/wasmctl
TIMER=$BUILD/bench/timer
OUT=$BUILD/bench/out

# wasm3's figures on the same workloads, for comparison: its ratio to native,
# recorded from side-by-side runs on the development machine (2 cores, AMD
# EPYC) on 2026-12-02: wasm3 0.5.0 built out of tree with clang-14 -O3
# -march=native -flto (its own release flags), every engine pinned to one
# core, the median of 15 interleaved rounds in three runs of the afternoon
# (bench/README.md; the evening's runs gave wasm3 higher ratios, so these
# are the harder yardstick).  With BENCH_WASM3
# set, wasm3 runs here instead and its measured ratios are used.  The "vs
# wasm3" column is our ratio over wasm3's: our time relative to wasm3's
# (issue 13's goal: <= 0.67).
yardstick() {
    if [ -n "${W3_RATIO:-}" ]; then
        echo "$W3_RATIO"
        return
    fi
    case $1 in
    fib) echo 25.9 ;;
    sha256) echo 21.8 ;;
    nbody) echo 15.7 ;;
    qsort) echo 5.4 ;;
    mandel) echo 6.7 ;;
    mix) echo 12.6 ;;
    lz) echo 7.5 ;;
    json) echo 13.6 ;;
    vm) echo 18.0 ;;
    *) echo - ;;
    esac
}
WASM3=${BENCH_WASM3:-}
if [ -n "$WASM3" ] && ! command -v "$WASM3" >/dev/null 2>&1; then
    echo "$0: BENCH_WASM3: '$WASM3' not found" >&2
    exit 2
fi

# ---- Which workloads ------------------------------------------------------

selected=$WORKLOADS
run_hello=1
run_latency=1
run_hostile=1
run_sched=1
run_scale=1
if [ -n "$ONLY" ]; then
    selected=
    run_hello=0
    run_latency=0
    run_hostile=0
    run_sched=0
    run_scale=0
    for w in $(echo "$ONLY" | tr ',' ' '); do
        case " $WORKLOADS hello latency hostile sched scale " in
        *" $w "*) ;;
        *)
            echo "$0: BENCH_ONLY: unknown workload '$w' (have: $WORKLOADS hello latency hostile sched scale)" >&2
            exit 2
            ;;
        esac
        case $w in
        hello) run_hello=1 ;;
        latency) run_latency=1 ;;
        hostile) run_hostile=1 ;;
        sched) run_sched=1 ;;
        scale) run_scale=1 ;;
        *) selected="$selected $w" ;;
        esac
    done
fi

# ---- Helpers --------------------------------------------------------------

# ns -> seconds / milliseconds, and KiB -> MiB, as text.
secs() { awk -v x="$1" 'BEGIN { printf "%.3f", x / 1e9 }'; }
msecs() { awk -v x="$1" 'BEGIN { printf "%.2f", x / 1e6 }'; }
mib() { awk -v x="$1" 'BEGIN { printf "%.1f", x / 1024 }'; }

# geomean R...: the geometric mean of the arguments, or "-" if there are none.
geomean() {
    [ $# -gt 0 ] || { echo -; return; }
    echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += log($i); printf "%.1f", exp(s / NF) }'
}

# measure NAME RUNS CMD...: run CMD RUNS times under the timer, its stdout to
# $OUT/NAME.out and stderr to $OUT/NAME.err.  Sets BEST, MEAN (ns) and RSS
# (KiB).  On failure shows why and returns 1.
measure() {
    local name=$1 runs=$2 res
    shift 2
    if res=$("$TIMER" -n "$runs" -t "$TIMEOUT" -o "$OUT/$name.out" -e "$OUT/$name.err" "$@"); then
        read -r BEST MEAN RSS <<<"$res"
        return 0
    fi
    if [ -s "$OUT/$name.err" ]; then
        echo "  stderr of $name (last lines):" >&2
        tail -n 5 "$OUT/$name.err" | sed 's/^/    /' >&2
    fi
    return 1
}

# same_output A B: are the checksum lines of runs A and B equal?  Says which
# differ if not.
same_output() {
    if [ -s "$OUT/$1.out" ] && cmp -s "$OUT/$1.out" "$OUT/$2.out"; then
        return 0
    fi
    echo "  checksum mismatch:" >&2
    echo "    $1: $(head -c 300 "$OUT/$1.out")" >&2
    echo "    $2: $(head -c 300 "$OUT/$2.out")" >&2
    return 1
}

# ---- Build ----------------------------------------------------------------

for tool in "$CC_NATIVE" "$CC_WASM" size awk cmp; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: '$tool' not found (scripts/deps.sh installs what the benchmarks need:" \
            "clang-14, lld-14, wasi-libc, libclang-rt-14-dev-wasm32)" >&2
        exit 1
    fi
done

"$CC_NATIVE" -std=gnu11 -O2 -Wall -Wextra "$HERE/timer.c" -o "$TIMER"

echo "Building workloads in $BUILD/bench/ ..."
for w in $selected hello; do
    src=$HERE/workloads/$w.c
    # No fused multiply-adds (gcc contracts by default on aarch64): wasm has
    # none, and nbody's and mandel's checksums would differ in the last bits.
    "$CC_NATIVE" -O2 -ffp-contract=off -Wall -Wextra "$src" -o "$BUILD/bench/native/$w" -lm
    "$CC_WASM" --target=wasm32-wasi -O2 -Wall -Wextra "$src" -Wl,--strip-debug \
        -o "$BUILD/bench/wasm/$w.wasm"
done

engine=1
if [ ! -x "$WASMCTL" ]; then
    engine=0
fi

# ---- Header ---------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo
echo "wasmd benchmarks: best of $RUNS runs, wall-clock, whole process"
echo "  machine: ${cpu:-unknown CPU}, $(nproc) cores"
echo "  native:  $("$CC_NATIVE" --version | head -n 1) -O2 -ffp-contract=off"
echo "  wasm:    $("$CC_WASM" --version | head -n 1) --target=wasm32-wasi -O2"
echo "  engine:  $WASMCTL run NAME.wasm"
if [ -n "$WASM3" ]; then
    echo "  yardstick: $WASM3 NAME.wasm, measured in this run"
else
    echo "  yardstick (wasm3 0.5.0, ratio to native, recorded side by side; see yardstick() in bench/run.sh):"
    echo "    fib 25.9x, sha256 21.8x, nbody 15.7x, qsort 5.4x, mandel 6.7x, mix 12.6x,"
    echo "    lz 7.5x, json 13.6x, vm 18.0x; hello world 1.23 ms, 2.1 MiB peak RSS"
fi
if [ $engine = 0 ]; then
    echo
    echo "NOTE: $WASMCTL not found: native runs only (the .wasm files were built" \
        "but not run)."
fi

# ---- Workloads ------------------------------------------------------------

status=0
failed=0
ratios=
yards=      # wasm3's ratios of the workloads it has a figure for, for its geomean
ratios_y=   # ours on those same workloads

if [ -n "$selected" ]; then
    echo
    printf '%-9s %10s %10s %9s %9s %8s   %s\n' workload "native s" "wasmd s" wasmd/nat wasm3/nat "vs wasm3" check
    printf '%-9s %10s %10s %9s %9s %8s   %s\n' --------- ---------- ---------- --------- --------- -------- -----
fi
for w in $selected; do
    eval "arg=\${BENCH_ARG_$w-}"
    nat=- was=- ratio=- check=ok

    if measure "$w.native" "$RUNS" "$BUILD/bench/native/$w" ${arg:+"$arg"}; then
        nat_ns=$BEST
        nat=$(secs "$BEST")
    else
        check="FAIL (native)"
        status=1
    fi

    W3_RATIO=
    if [ -n "$WASM3" ] && [ "$check" = ok ]; then
        if measure "$w.wasm3" "$RUNS" "$WASM3" "$BUILD/bench/wasm/$w.wasm" ${arg:+"$arg"} &&
            same_output "$w.native" "$w.wasm3"; then
            W3_RATIO=$(awk -v a="$BEST" -v b="$nat_ns" 'BEGIN { printf "%.1f", a / b }')
        else
            W3_RATIO=- # no figure: it failed or disagreed (shown above)
        fi
    fi

    if [ $engine = 1 ] && [ "$check" = ok ]; then
        if measure "$w.wasm" "$RUNS" "$WASMCTL" run "$BUILD/bench/wasm/$w.wasm" ${arg:+"$arg"}; then
            was=$(secs "$BEST")
            ratio=$(awk -v a="$BEST" -v b="$nat_ns" 'BEGIN { printf "%.1f", a / b }')
            if same_output "$w.native" "$w.wasm"; then
                ratios="$ratios $ratio"
                if [ "$(yardstick "$w")" != - ]; then
                    yards="$yards $(yardstick "$w")"
                    ratios_y="$ratios_y $ratio"
                fi
            else
                check="MISMATCH"
                status=1
            fi
        else
            check="FAIL (wasmd)"
            status=1
        fi
    elif [ $engine = 0 ]; then
        check="native only"
    fi

    case $check in
    ok | "native only") ;;
    *) failed=$((failed + 1)) ;;
    esac
    table_row "$w" "$nat" "$was" "$ratio" "$(yardstick "$w")" "$check"
done

if [ $engine = 1 ] && [ -n "$selected" ]; then
    # shellcheck disable=SC2086 # word splitting wanted
    g=$(geomean $ratios)
    # shellcheck disable=SC2086
    gy=$(geomean $yards)
    # shellcheck disable=SC2086
    gw=$(geomean $ratios_y)
    vs=-
    [ "$gw" = - ] || [ "$gy" = - ] || vs=$(awk -v a="$gw" -v b="$gy" 'BEGIN { printf "%.2f", a / b }')
    note=
    # wasm3's geomean and "vs wasm3" cover only the workloads it has a figure for.
    [ "$gw" = "$g" ] || [ "$gw" = - ] || note="(over the workloads with a wasm3 figure: ${gw}x)"
    [ $failed = 0 ] || note="${note:+$note; }$failed failed, not counted"
    [ "$gy" = - ] || gy="${gy}x"
    printf '%-9s %10s %10s %9s %9s %8s   %s\n' geomean "" "" "${g}x" "$gy" "$vs" "$note"
fi

# ---- Start-up and memory --------------------------------------------------

if [ $run_hello = 1 ]; then
    echo
    echo "hello world (mean of $HELLO_RUNS runs; peak RSS = largest ru_maxrss," \
        "as GNU time's 'Maximum resident set size'):"
    if measure hello.native "$HELLO_RUNS" "$BUILD/bench/native/hello"; then
        printf '  native:  %6s ms   peak RSS %5s MiB\n' "$(msecs "$MEAN")" "$(mib "$RSS")"
    else
        echo "  native:  FAIL"
        status=1
    fi
    if [ $engine = 1 ]; then
        if measure hello.wasm "$HELLO_RUNS" "$WASMCTL" run "$BUILD/bench/wasm/hello.wasm"; then
            printf '  wasmd:   %6s ms   peak RSS %5s MiB\n' "$(msecs "$MEAN")" "$(mib "$RSS")"
            same_output hello.native hello.wasm || status=1
        else
            echo "  wasmd:   FAIL"
            status=1
        fi
    fi
    if [ -n "$WASM3" ]; then
        if measure hello.wasm3 "$HELLO_RUNS" "$WASM3" "$BUILD/bench/wasm/hello.wasm"; then
            printf '  wasm3:   %6s ms   peak RSS %5s MiB\n' "$(msecs "$MEAN")" "$(mib "$RSS")"
        else
            echo "  wasm3:   FAIL"
        fi
    else
        echo "  (wasm3, recorded: 1.23 ms, 2.1 MiB)"
    fi
fi

# ---- Code size ------------------------------------------------------------

# text_size DIR: total text bytes of DIR/*.o as "BYTES OBJECTS", or nothing.
text_size() {
    local f objs=()
    for f in "$1"/*.o; do
        [ -e "$f" ] && objs+=("$f")
    done
    [ ${#objs[@]} -gt 0 ] || return 0
    size "${objs[@]}" | awk 'NR > 1 { t += $1; n++ } END { print t, n }'
}

echo
echo "code size (text of the objects, from size(1)):"
for layer in runtime wasi; do
    read -r bytes objs <<<"$(text_size "$BUILD/$layer")" || true
    if [ -n "${bytes:-}" ]; then
        printf '  %-8s %8d bytes (%.1f KiB) in %d objects\n' "$layer/" "$bytes" \
            "$(awk -v b="$bytes" 'BEGIN { print b / 1024 }')" "$objs"
    elif [ $layer = runtime ]; then
        echo "  runtime/ no objects in $BUILD/runtime (run make first)"
    fi
    bytes=
done

# ---- Latency --------------------------------------------------------------

# From a simulated input edge to a reactor's output change, with the reactor
# alone and among busy instances: needs the daemon and the examples.
if [ $run_latency = 1 ]; then
    echo
    if [ ! -x "$BUILD/wasmd" ] || [ ! -f "$BUILD/examples/button_led.wasm" ] ||
        [ ! -f "$BUILD/examples/busy.wasm" ]; then
        echo "latency: $BUILD/wasmd or examples/{button_led,busy}.wasm not found" \
            "(run make all first)"
        status=1
    elif ! command -v python3 >/dev/null 2>&1; then
        echo "latency: python3 not found (scripts/deps.sh installs it)"
        status=1
    elif ! python3 "$HERE/latency.py" "$BUILD"; then
        status=1
    fi
fi

# ---- Loop stalls -----------------------------------------------------------

# How long the daemon's loop stalls while a large module is deployed and
# while a reload starts many modules (their loads run in the thread pool).
if [ $run_latency = 1 ]; then
    echo
    if ! python3 "$HERE/stall.py" "$BUILD"; then
        status=1
    fi
fi

# ---- Hostile modules ------------------------------------------------------

# A 10 ms ticker's lateness and `status`'s latency, alone and beside a bulk
# memory.fill loop, a random_get loop, a stdout flood and a tight spin.
if [ $run_hostile = 1 ]; then
    echo
    if [ ! -x "$BUILD/wasmd" ] || [ ! -f "$BUILD/tests/daemon/bulkfill.wasm" ]; then
        echo "hostile: $BUILD/wasmd or tests/daemon/*.wasm not found (run make all first)"
        status=1
    elif ! command -v python3 >/dev/null 2>&1; then
        echo "hostile: python3 not found (scripts/deps.sh installs it)"
        status=1
    elif ! python3 "$HERE/hostile.py" "$BUILD"; then
        status=1
    fi
fi

# ---- Daemon scheduling -----------------------------------------------------

if [ $run_sched = 1 ]; then
    echo
    "$HERE/sched.sh" "$BUILD" || status=1
fi

# ---- Instance scale --------------------------------------------------------

# RSS and start time of 1, 100, 1000 (and with BENCH_SCALE_10K=1, 10000)
# idle instances of a small command sleeping in poll_oneoff.
if [ $run_scale = 1 ]; then
    echo
    "$HERE/scale.sh" "$BUILD" || status=1
fi

if [ $status != 0 ]; then
    echo
    echo "FAILED: see above (outputs in $OUT)"
fi
exit $status
