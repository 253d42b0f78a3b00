#!/usr/bin/env bash
# bench/real.sh BUILD_DIR - real programs, not written here: bzip2 and zlib's
# minigzip, built from Debian bookworm's source packages, natively and to
# wasm32-wasi, compressing and decompressing the same input; our engine's
# time against native, beside wasm3's ratio (recorded, or measured here with
# BENCH_WASM3).  `make bench` runs it after bench/run.sh (which builds
# BUILD/bench/timer).
#
# The sources are the packages' upstream tarballs from deb.debian.org,
# checked against the SHA-256 sums Debian's Sources index gives for them, and
# kept in BUILD/bench/real/ for later runs.  Without network access (and no
# copy there) the section is skipped, saying so, with exit status 0.
#
# Exit status: 0 if every program built, ran and agreed with the native
# build (or the section was skipped); 1 if not; 2 for a usage error.
#
# Environment: BENCH_RUNS (default 3), BENCH_TIMEOUT (default 600),
# BENCH_WASM3, CC_NATIVE, CC_WASM, as for bench/run.sh.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$1/bench/real"
BUILD=$(cd "$1" && pwd)
DIR=$BUILD/bench/real
RUNS=${BENCH_RUNS:-3}
TIMEOUT=${BENCH_TIMEOUT:-600}
WASMCTL=$BUILD/wasmctl
TIMER=$BUILD/bench/timer
WASM3=${BENCH_WASM3:-}
CC_NATIVE=${CC_NATIVE:-gcc}
if [ -z "${CC_WASM:-}" ]; then
    CC_WASM=clang
    command -v clang >/dev/null 2>&1 || CC_WASM=clang-14
fi
POOL=http://deb.debian.org/debian/pool/main

# name, file in the pool, its SHA-256 (Debian bookworm: bzip2 1.0.8-5,
# zlib 1:1.2.13.dfsg-1).
SOURCES="
bzip2 b/bzip2/bzip2_1.0.8.orig.tar.gz ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269
zlib z/zlib/zlib_1.2.13.dfsg.orig.tar.bz2 71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
"

# wasm3's ratio to native on this input, recorded with BENCH_WASM3 on the
# development machine (wasm3 0.5.0 as in bench/run.sh; best of 5, two runs).
yardstick() {
    if [ -n "${W3_RATIO:-}" ]; then echo "$W3_RATIO"; return; fi
    case $1 in
    bzip2-9) echo 12.1 ;;
    bzip2-d) echo 9.6 ;;
    gzip) echo 9.3 ;;
    gzip-d) echo 6.5 ;;
    *) echo - ;;
    esac
}

echo
echo "real programs (Debian bookworm's bzip2 1.0.8 and zlib 1.2.13 minigzip; best of $RUNS runs):"

# ---- Sources --------------------------------------------------------------

fetch() { # name path sum: DIR/name.tar.* verified, or return 1
    local name=$1 path=$2 sum=$3 file
    file=$DIR/$(basename "$path")
    if [ ! -s "$file" ] || ! echo "$sum  $file" | sha256sum -c --status; then
        rm -f "$file"
        curl -fsS --max-time 120 -o "$file.part" "$POOL/$path" || { rm -f "$file.part"; return 1; }
        if ! echo "$sum  $file.part" | sha256sum -c --status; then
            echo "  $name: $(basename "$path") does not match its SHA-256; not used" >&2
            rm -f "$file.part"
            return 1
        fi
        mv "$file.part" "$file"
    fi
    rm -rf "${DIR:?}/$name"
    mkdir -p "$DIR/$name"
    tar -xf "$file" -C "$DIR/$name" --strip-components=1
}
while read -r name path sum; do
    [ -n "$name" ] || continue
    if ! fetch "$name" "$path" "$sum"; then
        echo "  skipped: $POOL/$path could not be fetched (no network?)"
        exit 0
    fi
done <<<"$SOURCES"

# ---- Build ----------------------------------------------------------------

# bzip2.c sets a file's owner and mode after writing it; WASI has neither.
cat >"$DIR/nochmod.c" <<'EOF'
#include <sys/types.h>
int fchmod(int fd, mode_t mode) { (void)fd; (void)mode; return 0; }
int fchown(int fd, uid_t uid, gid_t gid) { (void)fd; (void)uid; (void)gid; return 0; }
EOF
BZ="blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c"
ZL="adler32.c crc32.c deflate.c infback.c inffast.c inflate.c inftrees.c trees.c zutil.c compress.c
    uncompr.c gzclose.c gzlib.c gzread.c gzwrite.c test/minigzip.c"
WFLAGS="--target=wasm32-wasi -O2 -w -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS"
WLIBS="-lwasi-emulated-signal -lwasi-emulated-process-clocks -Wl,--strip-debug"
(
    cd "$DIR/bzip2"
    # shellcheck disable=SC2086 # word splitting wanted
    "$CC_NATIVE" -O2 -w $BZ -o "$DIR/bzip2.native"
    # shellcheck disable=SC2086
    "$CC_WASM" $WFLAGS $BZ "$DIR/nochmod.c" $WLIBS -o "$DIR/bzip2.wasm"
    cd "$DIR/zlib"
    # shellcheck disable=SC2086
    "$CC_NATIVE" -O2 -w -DZ_HAVE_UNISTD_H -I. $ZL -o "$DIR/minigzip.native"
    # shellcheck disable=SC2086
    "$CC_WASM" $WFLAGS -DZ_HAVE_UNISTD_H -I. $ZL $WLIBS -o "$DIR/minigzip.wasm"
)

# The input: the zlib source tarball unpacked (text, some binary), then
# compressed by the native programs for the decompression runs.
"$DIR/bzip2.native" -dc <"$DIR/zlib_1.2.13.dfsg.orig.tar.bz2" >"$DIR/input"
"$DIR/bzip2.native" -9 <"$DIR/input" >"$DIR/input.bz2"
"$DIR/minigzip.native" <"$DIR/input" >"$DIR/input.gz"
echo "  input: $(($(stat -c %s "$DIR/input") / 1024)) KiB; engine: $WASMCTL run NAME.wasm" \
    "${WASM3:+; yardstick: $WASM3 NAME.wasm, measured in this run}"

# ---- Runs -----------------------------------------------------------------

# run NAME IN CMD...: best time (ns) of CMD <IN >DIR/NAME.out into BEST, or return 1.
run() {
    local name=$1 in=$2 res
    shift 2
    # shellcheck disable=SC2016 # expanded by the inner shell
    if res=$("$TIMER" -n "$RUNS" -t "$TIMEOUT" -o /dev/null -e "$DIR/$name.err" \
        sh -c 'in=$1 out=$2; shift 2; exec "$@" <"$in" >"$out"' sh "$in" "$DIR/$name.out" "$@"); then
        read -r BEST _ _ <<<"$res"
        return 0
    fi
    tail -n 3 "$DIR/$name.err" | sed 's/^/    /' >&2
    return 1
}

status=0
printf '\n%-9s %10s %10s %9s %9s %8s   %s\n' program "native s" "wasmd s" wasmd/nat wasm3/nat "vs wasm3" check
printf '%-9s %10s %10s %9s %9s %8s   %s\n' --------- ---------- ---------- --------- --------- -------- -----
# shellcheck disable=SC2086 # $arg: one option or none
for t in "bzip2-9 bzip2 input -9" "bzip2-d bzip2 input.bz2 -d" "gzip minigzip input" "gzip-d minigzip input.gz -d"; do
    read -r name prog src arg <<<"$t"
    nat=- was=- ratio=- check=ok W3_RATIO=
    if run "$name.native" "$DIR/$src" "$DIR/$prog.native" $arg; then
        nat_ns=$BEST
        nat=$(awk -v x="$BEST" 'BEGIN { printf "%.3f", x / 1e9 }')
        if [ -n "$WASM3" ]; then
            if run "$name.wasm3" "$DIR/$src" "$WASM3" "$DIR/$prog.wasm" $arg &&
                cmp -s "$DIR/$name.native.out" "$DIR/$name.wasm3.out"; then
                W3_RATIO=$(awk -v a="$BEST" -v b="$nat_ns" 'BEGIN { printf "%.1f", a / b }')
            else
                W3_RATIO=-
            fi
        fi
        if run "$name.wasm" "$DIR/$src" "$WASMCTL" run "$DIR/$prog.wasm" $arg; then
            was=$(awk -v x="$BEST" 'BEGIN { printf "%.3f", x / 1e9 }')
            ratio=$(awk -v a="$BEST" -v b="$nat_ns" 'BEGIN { printf "%.1f", a / b }')
            cmp -s "$DIR/$name.native.out" "$DIR/$name.wasm.out" || { check=MISMATCH; status=1; }
        else
            check="FAIL (wasmd)"
            status=1
        fi
    else
        check="FAIL (native)"
        status=1
    fi
    table_row "$name" "$nat" "$was" "$ratio" "$(yardstick "$name")" "$check"
done
exit $status
