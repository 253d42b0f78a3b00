#!/bin/bash
# run.sh BUILD DEB - the system test (`make system-test`): boots Debian 12
# arm64 under qemu-system-aarch64 (software emulation), installs the wasmd
# package DEB with apt inside it, offline, and checks from inside the guest
# that systemd runs wasmd as user wasmd, that a member of group wasmd can
# use wasmctl, and that a module drives a real kernel GPIO line (the PL061
# of QEMU's virt machine) and leaves it at its safe value when stopped.
# The module is BUILD/tests/system/gpio-high.wasm (made by the Makefile).
#
# What it makes, and where:
#   $SYSTEST_CACHE (default ~/.cache/wasmd/system-test), kept between runs:
#     rootfs.tar    the guest's root filesystem, built with mmdebstrap from
#                   Debian's arm64 packages (wasmd's runtime dependencies
#                   preinstalled, so that apt needs no network)
#     base.img      an ext4 image of it, with the guest's test runner
#     vmlinuz, initrd.img   Debian's arm64 kernel, from the root filesystem
#     Each is rebuilt only when what it is made from changes (*.key files).
#     The guest writes to a throw-away overlay: base.img stays pristine.
#   BUILD/system-test/: payload.img (the .deb, guest-check.sh, the module),
#     console.log (the guest's serial console, with host time stamps).
#
# Environment: SYSTEST_CACHE, SYSTEST_TIMEOUT (seconds for the whole boot,
# default 1500), SYSTEST_MIRROR (default http://deb.debian.org/debian).
# Prints one line per check, PASS or FAIL with what it observed, and the
# figures; exits 0 only when every check passed.
set -euo pipefail

BUILD=${1:?usage: run.sh BUILD DEB}
DEB=${2:?usage: run.sh BUILD DEB}
HERE=$(cd "$(dirname "$0")" && pwd)
WASM=$BUILD/tests/system/gpio-high.wasm
CACHE=${SYSTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmd/system-test}
TIMEOUT=${SYSTEST_TIMEOUT:-1500}
MIRROR=${SYSTEST_MIRROR:-http://deb.debian.org/debian}
SECURITY=${SYSTEST_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
OUT=$BUILD/system-test

T_START=$EPOCHREALTIME
log() { printf 'system-test: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

[ -f "$DEB" ] || die "no such package: $DEB (make deb ARCH=arm64, or DEB=path/to/wasmd_VERSION_arm64.deb)"
case $(dpkg-deb -f "$DEB" Architecture 2>/dev/null) in
arm64) ;;
*) die "$DEB is not an arm64 package (Architecture: $(dpkg-deb -f "$DEB" Architecture 2>&1))" ;;
esac
[ -f "$WASM" ] || die "no $WASM (make $WASM)"
[ "$(id -u)" -eq 0 ] || die "run as root: building the guest's root filesystem needs it (mmdebstrap, binfmt_misc)"

# ---- Host packages ------------------------------------------------------

# Installed only when missing, quietly (apt's output is shown if it fails).
HOST_PACKAGES="mmdebstrap arch-test qemu-system-arm e2fsprogs"
missing=""
for pkg in $HOST_PACKAGES; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ] ||
        missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    log "installing$missing"
    aptlog=$(mktemp)
    # shellcheck disable=SC2086 # one package per word
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } >"$aptlog" 2>&1; then
        cat "$aptlog" >&2
        rm -f "$aptlog"
        die "installing$missing failed"
    fi
    rm -f "$aptlog"
fi

# ---- The cached guest ---------------------------------------------------

# The guest's packages: boot (kernel, initramfs, systemd, udev), apt for the
# .deb, gpiod for the checks, and the runtime dependencies of wasmd.
GUEST_PACKAGES="systemd systemd-sysv udev dbus kmod apt adduser passwd
    linux-image-arm64 initramfs-tools
    libuv1 libyaml-0-2 libgpiod2 libasound2 libsystemd0 libcjson1 libcurl4 libsodium23
    gpiod"
# guest/initramfs-tools/ goes to /etc before the kernel is installed: an
# initramfs with only the modules that mounting the root needs.
MMDEBSTRAP_ARGS=(--mode=root --format=tar --arch=arm64 --variant=apt
    --include="$(echo $GUEST_PACKAGES | tr ' ' ',')"
    --essential-hook="copy-in $HERE/guest/initramfs-tools /etc"
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    bookworm)
SOURCES=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY bookworm-security main")
# (The checkout's path is not part of the key.)
rootfs_key=$({ printf '%s\n' "${MMDEBSTRAP_ARGS[@]}" "${SOURCES[@]}" | sed "s|$HERE|HERE|g"
    find "$HERE/guest/initramfs-tools" -type f | sort | xargs cat; } | sha256sum | cut -c1-16)
# The image also depends on the runner and on the code that makes it.
base_key=$({ echo "$rootfs_key"; cat "$HERE/guest/systest.service" "$HERE/guest/systest-runner"
    sed -n '/^# ---- base image/,/^# ---- end of base image/p' "$0"; } | sha256sum | cut -c1-16)

# The arm64 maintainer scripts run under qemu-user while mmdebstrap builds
# the tree, so binfmt_misc must hand aarch64 executables to a qemu that
# works inside the new root: an entry with the F flag (the kernel opens the
# interpreter once, at registration).  qemu-user-static's entry is such an
# entry; qemu-user-binfmt's is not, and the two packages conflict, so
# rather than installing either this uses a private copy of
# qemu-aarch64-static from qemu-user-static's .deb (kept in the cache),
# registered under a name of its own for the time of the build: the newest
# entry is the one the kernel tries first.  Without systemd nobody mounts
# binfmt_misc: mounted here when needed (someone else may do it as well).
BINFMT=/proc/sys/fs/binfmt_misc
BINFMT_OWN=wasmd-systest-aarch64
binfmt_aarch64() {
    [ -e "$BINFMT/register" ] || mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null ||
        [ -e "$BINFMT/register" ] || die "cannot mount binfmt_misc on $BINFMT"
    grep -qs '^flags:.*F' "$BINFMT/qemu-aarch64" && return 0
    # Named like Debian's binfmt interpreters: a name ending in -binfmt-P
    # tells qemu that the kernel preserved argv[0] (the P flag).
    local qemu=$CACHE/qemu/aarch64-binfmt-P dl
    if [ ! -x "$qemu" ]; then
        mkdir -p "$CACHE/qemu"
        dl=$(mktemp -d)
        (cd "$dl" && apt-get download -q=2 qemu-user-static) >/dev/null 2>&1 ||
            die "cannot download qemu-user-static (for its qemu-aarch64-static)"
        dpkg-deb --fsys-tarfile "$dl"/qemu-user-static_*.deb |
            tar -xO ./usr/bin/qemu-aarch64-static >"$qemu.new"
        chmod 0755 "$qemu.new" && mv "$qemu.new" "$qemu"
        rm -rf "$dl"
    fi
    [ -e "$BINFMT/$BINFMT_OWN" ] && echo -1 >"$BINFMT/$BINFMT_OWN"
    # The magic and mask of an aarch64 ELF executable (as in qemu's qemu-binfmt-conf.sh).
    printf ':%s:M::%s:%s:%s:POF\n' "$BINFMT_OWN" \
        '\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' \
        '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' \
        "$qemu" >"$BINFMT/register" || die "cannot register $BINFMT_OWN in $BINFMT"
    trap 'echo -1 >"$BINFMT/$BINFMT_OWN" 2>/dev/null || true' EXIT
}
binfmt_done() {
    if [ -e "$BINFMT/$BINFMT_OWN" ]; then echo -1 >"$BINFMT/$BINFMT_OWN"; fi
    trap - EXIT
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one run builds the cache at a time

if [ "$(cat "$CACHE/rootfs.key" 2>/dev/null)" != "$rootfs_key" ] || [ ! -s "$CACHE/rootfs.tar" ]; then
    log "building the arm64 root filesystem with mmdebstrap (once; several minutes)"
    binfmt_aarch64
    rm -f "$CACHE/rootfs.key" "$CACHE/base.key"
    t=$EPOCHREALTIME
    if ! mmdebstrap "${MMDEBSTRAP_ARGS[@]}" "$CACHE/rootfs.tar.new" "${SOURCES[@]}" </dev/null >"$CACHE/mmdebstrap.log" 2>&1; then
        tail -n 30 "$CACHE/mmdebstrap.log" >&2
        die "mmdebstrap failed (log: $CACHE/mmdebstrap.log)"
    fi
    binfmt_done
    mv "$CACHE/rootfs.tar.new" "$CACHE/rootfs.tar"
    echo "$rootfs_key" >"$CACHE/rootfs.key"
    log "root filesystem built in $(since "$t") s"
fi

# ---- base image: rootfs.tar, the runner, first-boot settings ----
if [ "$(cat "$CACHE/base.key" 2>/dev/null)" != "$base_key" ] || [ ! -s "$CACHE/base.img" ]; then
    log "making the guest's disk image"
    rm -f "$CACHE/base.key"
    tree=$CACHE/base.tree
    rm -rf "$tree" && mkdir -p "$tree"
    tar -C "$tree" --numeric-owner -xpf "$CACHE/rootfs.tar"
    cp "$tree"/boot/vmlinuz-* "$CACHE/vmlinuz.new"
    cp "$tree"/boot/initrd.img-* "$CACHE/initrd.img.new"
    echo wasmd-systest >"$tree/etc/hostname"
    printf '127.0.1.1\twasmd-systest\n' >>"$tree/etc/hosts"
    echo 'LABEL=wasmd-root / ext4 rw,errors=remount-ro 0 0' >"$tree/etc/fstab"
    # A machine id of its own: no first-boot setup asking questions on the console.
    echo 5a5a1e57000000000000000000000000 >"$tree/etc/machine-id"
    # No login prompt on the serial console: the test's report goes there.
    ln -sf /dev/null "$tree/etc/systemd/system/serial-getty@ttyAMA0.service"
    install -m 0755 "$HERE/guest/systest-runner" "$tree/usr/local/sbin/systest-runner"
    install -m 0644 "$HERE/guest/systest.service" "$tree/etc/systemd/system/systest.service"
    mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
    ln -sf ../systest.service "$tree/etc/systemd/system/multi-user.target.wants/systest.service"
    # Room for the package, its logs and the journal.
    size_mb=$(( $(du -sm "$tree" | cut -f1) + 512 ))
    rm -f "$CACHE/base.img.new"
    mke2fs -q -t ext4 -L wasmd-root -d "$tree" "$CACHE/base.img.new" "${size_mb}M" >/dev/null
    rm -rf "$tree"
    mv "$CACHE/vmlinuz.new" "$CACHE/vmlinuz"
    mv "$CACHE/initrd.img.new" "$CACHE/initrd.img"
    mv "$CACHE/base.img.new" "$CACHE/base.img"
    echo "$base_key" >"$CACHE/base.key"
fi
# ---- end of base image ----
flock -u 9

# ---- This run's payload -------------------------------------------------

mkdir -p "$OUT"
payload=$OUT/payload
rm -rf "$payload" && mkdir -p "$payload"
cp "$DEB" "$payload/"
install -m 0755 "$HERE/guest-check.sh" "$payload/guest-check.sh"
cp "$WASM" "$payload/gpio-high.wasm"
cp "$HERE/gpio-high.yaml" "$HERE/wasmd.yaml" "$payload/"
rm -f "$OUT/payload.img"
mke2fs -q -t ext4 -O ^has_journal -L SYSTEST -d "$payload" "$OUT/payload.img" \
    "$(( $(du -sm "$payload" | cut -f1) + 8 ))M" >/dev/null

# ---- Boot ---------------------------------------------------------------

console=$OUT/console.log
log "booting the arm64 guest (qemu-system-aarch64, software emulation; console: $console)"
T_BOOT=$EPOCHREALTIME
qemu_rc=0
# snapshot=on: the guest's writes go to a temporary overlay, not base.img.
# The root is named by its label: virt gives the virtio-mmio disks their
# names in the reverse order of the -device options.
timeout --kill-after=10 "$TIMEOUT" qemu-system-aarch64 \
    -M virt -cpu cortex-a72 -m 1024 -smp 2 \
    -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img" \
    -append "root=LABEL=wasmd-root rw console=ttyAMA0 panic=-1 quiet" \
    -drive if=none,file="$CACHE/base.img",format=raw,id=hd,snapshot=on -device virtio-blk-device,drive=hd \
    -drive if=none,file="$OUT/payload.img",format=raw,id=payload,readonly=on -device virtio-blk-device,drive=payload \
    -nic none -nographic -no-reboot </dev/null 2>&1 |
    # Each console line with the host's seconds since the boot began;
    # the test's own lines are shown as they come.
    while IFS= read -r line; do
        line=${line%$'\r'}
        printf '%s %s\n' "$(awk -v a="$T_BOOT" -v b="$EPOCHREALTIME" 'BEGIN { printf "%8.2f", b - a }')" "$line"
        case $line in SYSTEST*) printf '  %s\n' "${line#SYSTEST }" >&2 ;; esac
    done >"$console" || qemu_rc=$?
T_END=$EPOCHREALTIME

# ---- Verdict ------------------------------------------------------------

report=$(sed -n 's/^ *[0-9.]* SYSTEST //p' "$console")
begin=$(awk '$2 == "SYSTEST" && $3 == "BEGIN" { print $1; exit }' "$console")
npass=$(grep -c '^PASS ' <<<"$report" || true)
nfail=$(grep -c '^FAIL ' <<<"$report" || true)
guest_time() { sed -n "s/^TIME $1 //p" <<<"$report" | head -n 1; }

echo
echo "wasmd system test: Debian 12 arm64 under qemu-system-aarch64 (TCG), package $(basename "$DEB")"
grep -E '^(PASS|FAIL) ' <<<"$report" || true
echo
printf 'boot (QEMU start to the test runner, host clock):  %s s\n' "${begin:-?}"
printf 'boot (kernel start to the test runner, guest uptime): %s s\n' "$(sed -n 's/^BEGIN uptime=//p' <<<"$report" | head -n 1)"
printf 'install the .deb (apt-get install, offline):         %s s\n' "$(guest_time install)"
printf 'READY (systemctl restart wasmd until active):        %s s\n' "$(guest_time ready)"
printf 'guest run (QEMU start to power-off):                 %s s\n' "$(awk -v a="$T_BOOT" -v b="$T_END" 'BEGIN { printf "%.1f", b - a }')"
printf 'total (this script):                                 %s s\n' "$(since "$T_START")"
printf 'cache %s:  %s\n' "$CACHE" "$(du -sh "$CACHE" | cut -f1)"

problem=""
[ "$qemu_rc" = 124 ] && problem="the guest did not power off within $TIMEOUT s"
[ -z "$problem" ] && [ -z "$begin" ] && problem="the test runner never started in the guest"
[ -z "$problem" ] && ! grep -q '^END ' <<<"$report" && problem="the guest's checks did not finish"
[ -z "$problem" ] && [ "$nfail" -gt 0 ] && problem="$nfail check(s) failed"
[ -z "$problem" ] && [ "$npass" -eq 0 ] && problem="no check passed"
if [ -n "$problem" ]; then
    echo
    echo "FAIL: $problem; guest diagnostics:"
    grep -E '^(\||INFO|DONE)' <<<"$report" || true
    echo "(the whole console: $console)"
    exit 1
fi
echo
echo "PASS: $npass checks"
