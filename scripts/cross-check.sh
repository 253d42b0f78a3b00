#!/usr/bin/env bash
# cross-check.sh ARCH [--deps-only] - builds wasmd for ARCH (arm64 or armhf)
# with Debian's cross toolchain and runs its unit tests, the spec suite and
# the mutation check under qemu-user.  `make cross-check ARCH=...` calls it.
#
# 1. Installs what it needs, like scripts/deps.sh: quiet and without
#    `apt-get update` when everything is present.  The host's packages
#    (scripts/deps.sh: clang, wabt, ... for the .wasm test modules, which do
#    not depend on the architecture), then ARCH as a dpkg foreign
#    architecture, crossbuild-essential-ARCH, pkgconf:ARCH (which provides
#    TRIPLET-pkg-config), the -dev:ARCH libraries the build links against,
#    and qemu-user + qemu-user-binfmt.
# 2. Makes sure the kernel runs ARCH binaries through qemu: without systemd
#    (containers, chroots) nobody loads /usr/lib/binfmt.d/qemu-*.conf, so
#    this mounts binfmt_misc when needed and registers the missing entries
#    (an entry that another process registers at the same time is fine).
# 3. `make ARCH=ARCH all`, then `unit`, `spec` and `mutate` in build-ARCH/,
#    each logged to build-ARCH/cross-STAGE.log, and prints a tally.
#
# With CROSS_INTEGRATION=1, `make integration` runs under qemu as a fifth
# stage.  It is not part of the default: its checks of wall-clock times
# (ticks per second, prompt answers, a 10 s wait that the test must reach
# in time) do not hold under emulation, see README.md.
#
# --deps-only stops after steps 1 and 2.  Exit status 0 when every stage
# passed.  Extra make variables can come from the environment (e.g. SPEC_DIR).
set -u

usage() {
    echo "usage: $0 arm64|armhf [--deps-only]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
arch=$1
deps_only=0
[ "${2:-}" = "--deps-only" ] && deps_only=1

case $arch in
arm64) triplet=aarch64-linux-gnu qemu=aarch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=arm ;;
*) usage ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    SUDO="missing"
fi

die() {
    echo "cross-check: $*" >&2
    exit 1
}

# ---- 1. Packages -------------------------------------------------------------

"$repo/scripts/deps.sh" || die "scripts/deps.sh failed"

# The libraries of the Makefile's link lines (wasmd, wasmctl, unit tests,
# spectest), for ARCH.  They are all Multi-Arch: same, so they install beside
# the amd64 ones as long as both are at the same version (apt keeps them so).
CROSS_PACKAGES="
    crossbuild-essential-$arch
    pkgconf:$arch
    libuv1-dev:$arch libyaml-dev:$arch libgpiod-dev:$arch libasound2-dev:$arch
    libsystemd-dev:$arch libcjson-dev:$arch libcmocka-dev:$arch
    libcurl4-openssl-dev:$arch libsodium-dev:$arch
    qemu-user qemu-user-binfmt
"

as_root() {
    [ "$SUDO" = missing ] && die "need root (or sudo) for: $*"
    $SUDO "$@"
}

if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "cross-check: adding the dpkg architecture $arch" >&2
    as_root dpkg --add-architecture "$arch" || die "dpkg --add-architecture $arch failed"
fi

missing=""
for pkg in $CROSS_PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "cross-check: installing$missing" >&2
    log=$(mktemp)
    # The package lists are refreshed only when something is missing; the
    # lists of a newly added architecture come with that update.
    # shellcheck disable=SC2086 # $missing is meant to split into words
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 ||
       ! as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends $missing >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "installing$missing failed"
    fi
    rm -f "$log"
fi

# ---- 2. binfmt_misc ------------------------------------------------------------

binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
    as_root mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null
    # Someone else may have mounted it in between; only its absence is fatal.
    [ -e "$binfmt/register" ] || die "cannot mount binfmt_misc on $binfmt"
fi
conf=/usr/lib/binfmt.d/qemu-$qemu.conf
[ -f "$conf" ] || die "$conf is missing (qemu-user-binfmt)"
# A .conf line is ":NAME:TYPE:...", the form the register file takes.
while IFS= read -r line; do
    case $line in '' | '#'* | ';'*) continue ;; esac
    name=$(printf '%s\n' "$line" | cut -d: -f2)
    [ -e "$binfmt/$name" ] && continue
    if ! printf '%s\n' "$line" | as_root tee "$binfmt/register" >/dev/null 2>&1; then
        # EEXIST: registered by someone else meanwhile.
        [ -e "$binfmt/$name" ] || die "cannot register $name in $binfmt"
    fi
done <"$conf"
[ "$(head -n 1 "$binfmt/qemu-$qemu")" = enabled ] || die "$binfmt/qemu-$qemu is not enabled"

[ $deps_only -eq 1 ] && exit 0

# ---- 3. Build and test -----------------------------------------------------------

build=build-$arch
mkdir -p "$build"
# The cross compiler is a native binary: as many jobs as the host has cores.
jobs=${CROSS_JOBS:-$(nproc)}
MAKE=${MAKE:-make}

names=() results=() times=() tallies=()
failed=0

# The counts of one stage's log, for the tally.
tally() {
    local log=$1
    case $2 in
    build) grep -c -- "-c .*\.c -o $build/" "$log" | sed 's/$/ objects compiled/' ;;
    unit)
        # cmocka prints one summary per test binary.
        awk '/^\[  PASSED  \] [0-9]+ test/ { p += $4 } /^\[  FAILED  \] [0-9]+ test/ { f += $4 }
             /^== / { n++ } END { printf "%d binaries, %d tests passed, %d failed\n", n, p, f }' "$log" ;;
    spec)
        # The commands of every file (SIMD ones skipped), and the assertions
        # of the files run (the figure README.md gives).
        printf '%s; assertions: %s\n' "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)" \
            "$(sed -n 's/^assertions in the files run: //p' "$log" | tail -n 1)" ;;
    mutate) grep -E '^mutate:' "$log" | tail -n 1 | sed 's/^mutate: //' ;;
    integration) grep -E '^integration:' "$log" | tail -n 1 | sed 's/^integration: //' ;;
    esac
}

# stage NAME MAKE_ARGS...: runs make for ARCH, logged to $build/cross-NAME.log.
stage() {
    local name=$1 start rc
    shift
    echo "== $arch: make ARCH=$arch $*" >&2
    start=$(date +%s)
    $MAKE --no-print-directory ARCH="$arch" "$@" >"$build/cross-$name.log" 2>&1
    rc=$?
    names+=("$name")
    times+=("$(($(date +%s) - start))s")
    tallies+=("$(tally "$build/cross-$name.log" "$name")")
    if [ $rc -eq 0 ]; then
        results+=(pass)
    else
        results+=(FAIL)
        failed=$((failed + 1))
        echo "-- the end of $build/cross-$name.log:" >&2
        tail -n 30 "$build/cross-$name.log" >&2
    fi
    return $rc
}

total_start=$(date +%s)
if stage build -j"$jobs" all; then
    stage unit unit
    stage spec spec
    # `mutate` depends on `spec`, which has just run: -o spec skips it.
    stage mutate -o spec mutate
    [ "${CROSS_INTEGRATION:-0}" = 1 ] && stage integration integration
fi
total=$(($(date +%s) - total_start))

echo
echo "cross-check $arch ($triplet-gcc, qemu-$qemu, in $build/):"
for i in "${!names[@]}"; do
    printf '  %-11s %-5s %6s  %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}" "${tallies[$i]}"
done
all_stages="build unit spec mutate"
[ "${CROSS_INTEGRATION:-0}" = 1 ] && all_stages="$all_stages integration"
nstages=$(echo $all_stages | wc -w)
for stage_name in $all_stages; do
    case " ${names[*]} " in
    *" $stage_name "*) ;;
    *) printf '  %-11s %s\n' "$stage_name" "not run"; failed=$((failed + 1)) ;;
    esac
done
echo "cross-check $arch: $((nstages - failed)) of $nstages stages passed, $failed failed (${total}s)"
[ $failed -eq 0 ]
