#!/bin/sh
# guest-check.sh PAYLOAD_DIR - the checks of the system test, run as root
# inside the Debian 12 arm64 guest (tests/system/run.sh boots it; the
# guest's systest-runner starts this script once multi-user.target is
# reached).  PAYLOAD_DIR holds the wasmd .deb, this script, the test
# module gpio-high.wasm with its manifest, and the daemon config.
#
# Report on stdout, one line each, all starting with "SYSTEST ":
#   SYSTEST PASS|FAIL <what> (<observed>)   one per check
#   SYSTEST TIME <name> <seconds>            measured figures (install, ready)
#   SYSTEST INFO <text>                      context, not a check
#   SYSTEST END pass=N fail=N
# Everything else (apt's output, diagnostics) goes to stderr; after a
# failure the interesting part is copied to the report as "SYSTEST | ...".
set -u
P=${1:?usage: guest-check.sh PAYLOAD_DIR}
MODULE="gpio-high"       # the module, its manifest and its .wasm file
CHIP=gpiochip0          # QEMU virt's PL061: 8 lines, line 3 is the power button
LINE=5                  # the module's output (gpio-high.yaml)
SAFE=0                  # its safe_value
USER_OK=alice           # a member of group wasmd
USER_NO=mallory         # not a member
pass=0 fail=0

say() { printf 'SYSTEST %s\n' "$*"; }
ok() { say "PASS $1 ($2)"; pass=$((pass + 1)); }
ko() { say "FAIL $1 ($2)"; fail=$((fail + 1)); }
# check WHAT OBSERVED COMMAND...: PASS when COMMAND succeeds.
check() {
    what=$1 seen=$2
    shift 2
    if "$@"; then ok "$what" "$seen"; else ko "$what" "$seen"; fi
}
# verdict STATUS WHAT OBSERVED: PASS when STATUS is 0.
verdict() { if [ "$1" -eq 0 ]; then ok "$2" "$3"; else ko "$2" "$3"; fi; }
# Diagnostics into the report: the last lines of a file or a command.
show() { sed -n 's/^/SYSTEST | /p' | tail -n "${1:-30}"; }
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# One line of text from a value that may hold several (for the report).
oneline() { tr '\n' ' ' | sed 's/  */ /g; s/ $//'; }
finish() {
    say "END pass=$pass fail=$fail"
    [ "$fail" -eq 0 ]
    exit
}

say "INFO kernel $(uname -r) on $(uname -m); systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'); system state $(systemctl is-system-running 2>/dev/null)"

# ---- The GPIO chip, before wasmd is installed ---------------------------

cfg=/boot/config-$(uname -r)
pl061=$(grep -E '^CONFIG_GPIO_PL061=' "$cfg" 2>/dev/null)
check "kernel has the PL061 GPIO driver" "${pl061:-not in $cfg}" \
    grep -qE '^CONFIG_GPIO_PL061=[ym]' "$cfg"
chip=$(gpiodetect 2>&1 | grep "^$CHIP " | oneline)
if [ -c "/dev/$CHIP" ] && echo "$chip" | grep -q pl061; then r=0; else r=1; fi
verdict $r "/dev/$CHIP is the PL061" "${chip:-no $CHIP in gpiodetect: $(gpiodetect 2>&1 | oneline)}"

# The debugfs view of the chip: the line's row while it is requested
# ("out hi"), nothing for a line nobody holds.
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
# The first global GPIO number of the chip, from its sysfs entry.
base=""
for d in /sys/class/gpio/gpiochip*; do
    [ -e "$d/device" ] || continue
    case $(ls "$d/device" 2>/dev/null) in *"$CHIP"*) base=$(cat "$d/base") ;; esac
done
[ -n "$base" ] || ko "the sysfs GPIO interface has $CHIP" "none of /sys/class/gpio/gpiochip* is $CHIP"
gpio=$((${base:-0} + LINE))
say "INFO $CHIP base ${base:-unknown}: line $LINE is gpio-$gpio"
debug_row() { grep -E "^ *gpio-$gpio " /sys/kernel/debug/gpio | sed 's/^ *//; s/  */ /g'; }
# The line's direction and value without changing either: the sysfs GPIO
# interface exports a line as it is, where libgpiod 1.6's gpioget would
# make it an input and read what the pin is given, not what it drives.
sysfs_read() {
    echo "$gpio" >/sys/class/gpio/export 2>/dev/null || { echo "export failed"; return; }
    printf '%s %s\n' "$(cat /sys/class/gpio/gpio$gpio/direction)" "$(cat /sys/class/gpio/gpio$gpio/value)"
    echo "$gpio" >/sys/class/gpio/unexport
}
say "INFO before install: line $LINE $(sysfs_read) (direction value, read through sysfs)"

# ---- Installing the package, offline ------------------------------------

deb=$(ls "$P"/wasmd_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
    ko "the wasmd .deb is on the payload" "none in $P"
    finish
fi
# apt reads a local .deb as user _apt: give it a copy it can read.
cp "$deb" /tmp/ && deb=/tmp/$(basename "$deb")
t0=$(now)
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" >/tmp/apt.log 2>&1
rc=$?
t1=$(now)
say "TIME install $(elapsed "$t0" "$t1")"
ver=$(dpkg-query -W -f='${Version} ${Status}' wasmd 2>/dev/null)
check "apt-get install ./$(basename "$deb") (offline)" "exit $rc; wasmd ${ver:-not installed}" \
    [ "$rc" -eq 0 ]
if [ "$rc" -ne 0 ]; then
    show 40 </tmp/apt.log
    finish
fi
say "INFO after install: wasmd is $(systemctl is-active wasmd) ($(systemctl is-enabled wasmd 2>&1)), wasmd.socket $(systemctl is-active wasmd.socket); unit $(systemctl show -p User,Group,SupplementaryGroups wasmd | oneline); /dev/$CHIP $(stat -c '%U:%G %a' /dev/$CHIP)"

# ---- The test's config and module; a restart measures the time to READY ---

install -m 0644 "$P/wasmd.yaml" /etc/wasmd/wasmd.yaml
install -m 0644 "$P/$MODULE.wasm" "$P/$MODULE.yaml" /etc/wasmd/modules.d/
t0=$(now)
systemctl restart wasmd 2>/tmp/restart.err
rc=$?
t1=$(now)
# Type=notify: systemctl restart returns once wasmd has sent READY=1.
say "TIME ready $(elapsed "$t0" "$t1")"
state=$(systemctl show -p Type,ActiveState,SubState,Result,StatusText wasmd | oneline)
if [ "$rc" -eq 0 ] && [ "$(systemctl is-active wasmd)" = active ] &&
   [ "$(systemctl show -p Type --value wasmd)" = notify ]; then r=0; else r=1; fi
verdict $r "systemd reports wasmd active (READY sent)" "systemctl restart exit $rc; $state"
if [ "$rc" -ne 0 ]; then
    show 5 </tmp/restart.err
    journalctl -u wasmd -b --no-pager -o cat 2>&1 | show 30
fi

# The process itself: its uid, not the unit file's User=.
pid=$(systemctl show -p MainPID --value wasmd)
wuid=$(id -u wasmd 2>/dev/null)
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null)
exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
if [ -n "$wuid" ] && [ "$wuid" != 0 ] && [ "$uids" = "$wuid $wuid $wuid $wuid" ]; then r=0; else r=1; fi
verdict $r "wasmd runs as the non-root user wasmd" \
    "pid ${pid:-?} $exe; uid real/effective/saved/fs ${uids:-?}; user wasmd is uid ${wuid:-missing}"

# ---- wasmctl as a member of group wasmd, and as someone else -------------

getent passwd "$USER_OK" >/dev/null || useradd -m -G wasmd "$USER_OK"
getent passwd "$USER_NO" >/dev/null || useradd -m "$USER_NO"
list=$(runuser -u "$USER_OK" -- wasmctl list 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && echo "$list" | grep -q "^$MODULE "; then r=0; else r=1; fi
verdict $r "wasmctl list as $USER_OK (groups $(id -nG "$USER_OK")) lists the modules" \
    "exit $rc: $(echo "$list" | oneline)"
denied=$(runuser -u "$USER_NO" -- wasmctl list 2>&1)
rc=$?
if [ "$rc" -eq 6 ] && echo "$denied" | grep -q 'neither root nor in group wasmd'; then r=0; else r=1; fi
verdict $r "wasmctl list as $USER_NO (groups $(id -nG "$USER_NO")) is refused with the reason (exit 6)" \
    "exit $rc: $(echo "$denied" | oneline)"

# ---- The module drives the real line ------------------------------------

# wasmd_init has run once the module is past "starting"; give it a moment.
i=0
while [ $i -lt 50 ]; do
    st=$(wasmctl status "$MODULE" 2>&1)
    echo "$st" | grep -qiE 'state: *(running|waiting)' && break
    i=$((i + 1))
    sleep 0.2
done
say "INFO $(echo "$st" | grep -iE '^ *(state|gpio|hardware|held)' | oneline)"
row=$(debug_row)
if echo "$row" | grep -q "|$MODULE *) *out hi"; then r=0; else r=1; fi
verdict $r "line $LINE is driven high by $MODULE (debugfs)" "${row:-no row for gpio-$gpio in /sys/kernel/debug/gpio}"
info=$(gpioinfo "$CHIP" 2>&1 | grep -E "^[[:space:]]*line +$LINE:" | sed 's/^[[:space:]]*//; s/  */ /g')
say "INFO gpioinfo: $info"
logs=$(wasmctl logs -n 5 "$MODULE" 2>&1 | oneline)
if echo "$logs" | grep -q 'out driven high'; then r=0; else r=1; fi
verdict $r "the module logged its write" "$logs"

stop=$(wasmctl stop "$MODULE" 2>&1)
rc=$?
st=$(wasmctl status "$MODULE" 2>&1 | grep -iE '^ *state' | oneline)
check "wasmctl stop $MODULE" "exit $rc: $(echo "$stop" | oneline); $st" [ "$rc" -eq 0 ]
row=$(debug_row)
check "line $LINE is released after the stop (debugfs)" "${row:-no row for gpio-$gpio: nobody holds it}" \
    [ -z "$row" ]
after=$(sysfs_read)
check "line $LINE is back at its safe_value $SAFE (sysfs: direction value)" "$after" \
    [ "$after" = "out $SAFE" ]

# ---- A deploy, as a member of group wasmd: state under /var/lib/wasmd ----

# The same module under another name, from a manifest the member has.
sed 's/^module: .*/module: deployed.wasm/' "$P/$MODULE.yaml" >/tmp/deployed.yaml
cp "$P/$MODULE.wasm" /tmp/deployed.wasm
chmod 0644 /tmp/deployed.yaml /tmp/deployed.wasm
dep=$(runuser -u "$USER_OK" -- wasmctl deploy /tmp/deployed.wasm /tmp/deployed.yaml 2>&1)
rc=$?
unit=$(ls -l /var/lib/wasmd/modules/ 2>&1 | grep deployed | oneline)
if [ "$rc" -eq 0 ] && [ -f /var/lib/wasmd/modules/deployed/deployed.wasm ] &&
   [ "$(stat -c %U /var/lib/wasmd/modules/deployed/deployed.wasm)" = wasmd ]; then r=0; else r=1; fi
verdict $r "wasmctl deploy as $USER_OK keeps the module in /var/lib/wasmd" "exit $rc: $(echo "$dep" | oneline); $unit"
i=0
while [ $i -lt 50 ] && ! wasmctl status deployed 2>&1 | grep -qiE 'state: *(running|waiting)'; do
    i=$((i + 1))
    sleep 0.2
done
row=$(debug_row)
if echo "$row" | grep -q "|deployed *) *out hi"; then r=0; else r=1; fi
verdict $r "the deployed module drives line $LINE high (debugfs)" "${row:-no row for gpio-$gpio}"

# ---- apt remove stops the service and keeps the state; purge removes it ----

apt-get remove -y wasmd >/tmp/remove.log 2>&1
rc=$?
active=$(systemctl is-active wasmd 2>&1)
if [ "$rc" -eq 0 ] && [ "$active" != active ] && ! pgrep -x wasmd >/dev/null && [ ! -e /usr/sbin/wasmd ] &&
   [ -d /var/lib/wasmd/modules/deployed ]; then r=0; else r=1; fi
verdict $r "apt-get remove wasmd stops it and keeps /var/lib/wasmd" \
    "exit $rc; wasmd $active; process $(pgrep -x wasmd >/dev/null && echo running || echo gone); state $(ls /var/lib/wasmd/modules 2>&1 | oneline)"
after=$(sysfs_read)
check "line $LINE is back at its safe_value $SAFE after the remove" "$after" [ "$after" = "out $SAFE" ]
apt-get purge -y wasmd >/tmp/purge.log 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -e /var/lib/wasmd ] && [ ! -e /etc/wasmd/wasmd.yaml ]; then r=0; else r=1; fi
verdict $r "apt-get purge wasmd removes /var/lib/wasmd and the config" \
    "exit $rc; /var/lib/wasmd $([ -e /var/lib/wasmd ] && echo still there || echo gone); /etc/wasmd/wasmd.yaml $([ -e /etc/wasmd/wasmd.yaml ] && echo still there || echo gone)"
[ "$rc" -ne 0 ] && show 20 </tmp/purge.log

if [ "$fail" -ne 0 ]; then
    journalctl -u wasmd -b --no-pager -o cat 2>&1 | show 30
fi
finish
