#!/bin/sh
# deb.sh [ARCH] - builds the Debian packages (packaging/debian) into build/deb/
# and checks them with lintian.
#
# ARCH is a Debian architecture (arm64, armhf, amd64...); without it, this
# machine's.  A foreign ARCH is cross-built (crossbuild-essential-ARCH and the
# :ARCH -dev packages are installed as needed) and always with nocheck; a
# native build runs the package's own tests (unit + spec) unless
# DEB_BUILD_OPTIONS has nocheck.  Missing build dependencies are installed
# with apt (quietly; nothing is touched when all are present).
#
# The source tree is a copy of this checkout's files (tracked and new, not
# ignored ones) in build/deb/wasmd-VERSION, with packaging/debian as debian/
# and the spec testsuite ($SPEC_DIR or ../shared/spec-testsuite) as
# tests/spec/testsuite.  Exits non-zero if the build fails or lintian reports
# an error or a warning (overrides are in packaging/debian/*.lintian-overrides,
# each with its reason).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
host_arch=$(dpkg --print-architecture)
arch=${1:-$host_arch}
version=$(cat VERSION)
out=$repo/build/deb
src=$out/wasmd-$version

changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$changelog_version" != "$version" ]; then
    echo "deb.sh: VERSION says $version, packaging/debian/changelog says $changelog_version" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_quiet() {
    log=$(mktemp)
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
updated=false
apt_update_once() {
    $updated || apt_quiet apt-get -o DPkg::Lock::Timeout=300 update -qq
    updated=true
}

# The tools of any package build.
missing=""
for p in dpkg-dev debhelper lintian; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ "$arch" != "$host_arch" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        $SUDO dpkg --add-architecture "$arch"
        updated=false
    fi
    dpkg-query -W -f='${Status}' "crossbuild-essential-$arch" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing crossbuild-essential-$arch"
fi
if [ -n "$missing" ]; then
    echo "deb.sh: installing$missing" >&2
    apt_update_once
    # shellcheck disable=SC2086
    apt_quiet apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing
fi

# The source tree.
rm -rf "$src"
mkdir -p "$src"
git ls-files -z -c -o --exclude-standard | grep -zv '^packaging/' |
    xargs -0 -I{} sh -c 'test -e "$1" || test -L "$1" || exit 0; mkdir -p "$2/$(dirname "$1")"; cp -P "$1" "$2/$1"' _ {} "$src"
cp -r packaging/debian "$src/debian"
mkdir -p "$src/packaging"
cp packaging/wasmd.yaml "$src/packaging/"

profiles=""
opts=${DEB_BUILD_OPTIONS:-}
if [ "$arch" != "$host_arch" ]; then
    profiles="-Pnocheck,cross"
    opts="$opts nocheck"
elif echo "$opts" | grep -qw nocheck; then
    profiles="-Pnocheck"
else
    spec=${SPEC_DIR:-$(dirname "$repo")/shared/spec-testsuite}
    if [ -d "$spec" ]; then
        cp -r "$spec" "$src/tests/spec/testsuite"
    else
        echo "deb.sh: no spec testsuite at $spec: the package's tests run unit only" >&2
    fi
fi

# Build dependencies, for the architecture built for.
if ! (cd "$src" && dpkg-checkbuilddeps $profiles -a "$arch" >/dev/null 2>&1); then
    echo "deb.sh: installing the build dependencies for $arch" >&2
    apt_update_once
    # shellcheck disable=SC2086
    (cd "$src" && apt_quiet apt-get -o DPkg::Lock::Timeout=300 build-dep -y -qq --no-install-recommends \
        -a "$arch" $(echo "$profiles" | sed 's/^-P/-P /') ./)
fi

echo "deb.sh: building wasmd $version for $arch in $src" >&2
log=$out/build-$arch.log
# shellcheck disable=SC2086
if ! (cd "$src" && DEB_BUILD_OPTIONS="$opts" dpkg-buildpackage -b -us -uc -a "$arch" $profiles) >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "deb.sh: dpkg-buildpackage failed; the whole log is $log" >&2
    exit 1
fi
grep -E "^(ok|FAIL) |passed, .* failed" "$log" | tail -3 || true

changes=$out/wasmd_${version}_$arch.changes
echo "deb.sh: lintian $changes" >&2
lintian --fail-on error,warning --info "$changes"
for deb in "$out"/wasmd_"${version}"_"$arch".deb "$out"/wasmd-sdk_"${version}"_all.deb; do
    echo "deb.sh: built $deb ($(du -k "$deb" | cut -f1) KiB)"
done
