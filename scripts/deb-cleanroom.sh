#!/bin/sh
# deb-cleanroom.sh - proves that packaging/debian/control's Build-Depends are
# all the package build needs: builds the host's packages, with their own
# tests (unit + spec), in a fresh Debian 12 chroot that holds only the
# buildd essentials and those Build-Depends (mmdebstrap, from Debian's
# mirror; a few minutes).  The .debs it makes stay in the chroot
# (build/cleanroom/src); the result is the build's exit status.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
root=$repo/build/cleanroom
version=$(cat VERSION)

command -v mmdebstrap >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends mmdebstrap
# The Build-Depends, all of them (profiles aside), as a comma-separated list.
deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' packaging/debian/control | sed '$d' |
    sed 's/^Build-Depends://; s/<[^>]*>//g; s/([^)]*)//g; s/debhelper-compat/debhelper/' |
    tr ',' '\n' | sed 's/[[:space:]]//g' | grep -v '^$' | paste -sd, -)
echo "deb-cleanroom: a bookworm chroot with: $deps" >&2
rm -rf "$root"
mmdebstrap --quiet --variant=buildd --include="$deps" bookworm "$root" http://deb.debian.org/debian

# The source tree as make deb lays it out (with the spec testsuite).
DEB_BUILD_OPTIONS=nocheck scripts/deb.sh >/dev/null
mkdir -p "$root/src"
cp -a "build/deb/wasmd-$version" "$root/src/"
spec=${SPEC_DIR:-$(dirname "$repo")/shared/spec-testsuite}
[ -d "$spec" ] && cp -r "$spec" "$root/src/wasmd-$version/tests/spec/testsuite"
(cd "$root/src/wasmd-$version" && rm -rf build debian/.debhelper debian/wasmd debian/wasmd-sdk debian/tmp \
    debian/files debian/*.substvars debian/debhelper-build-stamp)
mount --bind /proc "$root/proc"
trap 'umount "$root/proc"' EXIT
chroot "$root" sh -c "cd /src/wasmd-$version && dpkg-checkbuilddeps && dpkg-buildpackage -b -us -uc" \
    >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; echo "deb-cleanroom: the build failed; log: $root.log" >&2; exit 1; }
grep -E 'passed, [0-9]+ failed' "$root.log" | tail -2
echo "deb-cleanroom: built $(ls "$root"/src/*.deb | xargs -n1 basename | tr '\n' ' ')"
