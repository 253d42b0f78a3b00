#!/usr/bin/env bash
# check.sh [ARCH] - checks the Debian packages that `make deb` left in
# build/deb/ (lintian has already passed on them): the files they install,
# their maintainer scripts, the hardened unit as installed (scored with
# systemd-analyze security --offline), the binaries' hardening, one version
# everywhere, and, on this machine's architecture, that the installed
# binaries run and accept the default config.
# Prints one line per check and "package: N passed, N failed" last.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
arch=${1:-$(dpkg --print-architecture)}
version=$(cat "$repo/VERSION")
deb=$repo/build/deb/wasmd_${version}_$arch.deb
sdk=$repo/build/deb/wasmd-sdk_${version}_all.deb
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
verdict() { # verdict NAME OKAY WHY
    if [ "$2" = 1 ]; then
        echo "ok $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1: $3"
        failed=$((failed + 1))
    fi
}

if [ ! -f "$deb" ] || [ ! -f "$sdk" ]; then
    echo "FAIL packages: $deb or $sdk is missing (run make deb first)"
    echo "package: 0 passed, 1 failed"
    exit 1
fi
root=$TMP/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$TMP/control"
dpkg-deb -x "$sdk" "$TMP/sdk"

# ---- Files -------------------------------------------------------------
for f in usr/sbin/wasmd usr/bin/wasmctl \
    lib/systemd/system/wasmd.service lib/systemd/system/wasmd.socket \
    usr/lib/sysusers.d/wasmd.conf lib/udev/rules.d/60-wasmd.rules \
    usr/share/bash-completion/completions/wasmctl \
    usr/share/man/man1/wasmctl.1.gz usr/share/man/man5/wasmd.yaml.5.gz usr/share/man/man8/wasmd.8.gz \
    etc/wasmd/wasmd.yaml usr/share/doc/wasmd/copyright; do
    verdict "file-$f" "$([ -f "$root/$f" ] && echo 1)" "not in $(basename "$deb")"
done
verdict modules-dir-empty "$([ -d "$root/etc/wasmd/modules.d" ] && [ -z "$(ls -A "$root/etc/wasmd/modules.d")" ] && echo 1)" \
    "/etc/wasmd/modules.d missing or not empty"
verdict trusted-dir-empty "$([ -d "$root/etc/wasmd/trusted.d" ] && [ -z "$(ls -A "$root/etc/wasmd/trusted.d")" ] && echo 1)" \
    "/etc/wasmd/trusted.d missing or not empty"
verdict no-state-in-package "$([ ! -e "$root/var/lib/wasmd" ] && echo 1)" "/var/lib/wasmd is shipped (state belongs to the system)"
verdict no-usr-local "$([ ! -e "$root/usr/local" ] && echo 1)" "files under /usr/local"
verdict conffile "$(grep -qx /etc/wasmd/wasmd.yaml "$TMP/control/conffiles" && echo 1)" "conffiles: $(cat "$TMP/control/conffiles" 2>/dev/null)"
for f in usr/include/wasmd/wasmd.h usr/share/doc/wasmd-sdk/GUIDE.md.gz usr/share/doc/wasmd-sdk/examples/blinky.c \
    usr/share/doc/wasmd-sdk/examples/modules.d/blinky.yaml; do
    verdict "sdk-$f" "$([ -f "$TMP/sdk/$f" ] && echo 1)" "not in $(basename "$sdk")"
done
verdict sdk-header-same "$(cmp -s "$TMP/sdk/usr/include/wasmd/wasmd.h" "$repo/sdk/wasmd.h" && echo 1)" "differs from sdk/wasmd.h"

# ---- The user, the groups, the devices ----------------------------------
sysusers=$root/usr/lib/sysusers.d/wasmd.conf
verdict sysusers-user "$(grep -Eq '^u wasmd - .* /var/lib/wasmd$' "$sysusers" && echo 1)" "$(grep -v '^#' "$sysusers")"
verdict sysusers-groups "$(grep -q '^g gpio -' "$sysusers" && grep -q '^g i2c -' "$sysusers" && echo 1)" "$(grep -v '^#' "$sysusers")"
rules=$root/lib/udev/rules.d/60-wasmd.rules
verdict udev-gpio "$(grep -q 'KERNEL=="gpiochip\[0-9\]\*", GROUP="gpio", MODE="0660"' "$rules" && echo 1)" "$(grep -v '^#' "$rules")"
verdict udev-i2c "$(grep -q 'KERNEL=="i2c-\[0-9\]\*", GROUP="i2c", MODE="0660"' "$rules" && echo 1)" "$(grep -v '^#' "$rules")"

# ---- Maintainer scripts -------------------------------------------------
postinst=$TMP/control/postinst
verdict postinst-sysusers "$(awk '/systemd-sysusers wasmd.conf/ {u = NR} /deb-systemd-invoke/ && !s {s = NR} END {exit !(u && s && u < s)}' "$postinst" && echo 1)" "no systemd-sysusers call"
verdict postinst-enable "$(grep -q 'deb-systemd-helper.*enable.*wasmd.service' "$postinst" && grep -q 'wasmd.socket' "$postinst" && echo 1)" \
    "wasmd.service/socket not enabled"
verdict postinst-start "$(grep -q '_dh_action=start' "$postinst" && grep -q "deb-systemd-invoke \$_dh_action 'wasmd.service'" "$postinst" && echo 1)" \
    "not started on install"
verdict postinst-udev-before-start "$(awk '/udevadm trigger/ {u = NR} /deb-systemd-invoke/ && !s {s = NR} END {exit !(u && s && u < s)}' "$postinst" && echo 1)" \
    "the devices are not given to their groups before the service starts"
verdict prerm-stop "$(grep -q 'deb-systemd-invoke stop.*wasmd' "$TMP/control/prerm" && echo 1)" "not stopped on remove"
verdict postrm-purge-state "$(grep -A3 '"purge"' "$TMP/control/postrm" | grep -q 'rm -rf /var/lib/wasmd' && echo 1)" "purge keeps /var/lib/wasmd"
for s in postinst postrm prerm; do
    verdict "$s-syntax" "$(sh -n "$TMP/control/$s" && echo 1)" "sh -n fails"
done

# ---- The unit as installed ------------------------------------------------
unit=$root/lib/systemd/system/wasmd.service
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
verdict unit-execstart "$([ "$exec_start" = /usr/sbin/wasmd ] && [ -x "$root$exec_start" ] && echo 1)" "ExecStart=$exec_start"
verdict unit-user "$(grep -qx 'User=wasmd' "$unit" && ! grep -q '^DynamicUser=yes' "$unit" && echo 1)" "not User=wasmd"
verdict unit-notify "$(grep -qx 'Type=notify' "$unit" && echo 1)" "not Type=notify"
verdict unit-state-dir "$(grep -qx 'StateDirectory=wasmd' "$unit" && grep -qx 'ProtectSystem=strict' "$unit" && echo 1)" \
    "StateDirectory/ProtectSystem"
if command -v systemd-analyze >/dev/null 2>&1; then
    # The offline check reads the unit from a root tree: the package's files.
    score=$(systemd-analyze security --offline=true --root="$root" wasmd.service 2>"$TMP/analyze.err" |
        sed -n 's/.*Overall exposure level for wasmd.service: \([0-9.]*\).*/\1/p')
    # 1.5 since remote deploys reopened the network (AF_INET/AF_INET6, no PrivateNetwork=); 0.7 before.
    verdict "unit-exposure-${score:-none}" "$(awk -v s="${score:-99}" 'BEGIN {exit !(s <= 1.5)}' && echo 1)" \
        "systemd-analyze security: ${score:-no score} (want <= 1.5): $(head -c 300 "$TMP/analyze.err")"
else
    verdict unit-exposure "" "systemd-analyze is not installed (scripts/deps.sh installs systemd)"
fi

# ---- Binaries: hardening, version ----------------------------------------
for b in usr/sbin/wasmd usr/bin/wasmctl; do
    dyn=$(readelf -d "$root/$b" 2>/dev/null)
    verdict "pie-$b" "$(readelf -h "$root/$b" | grep -q 'Type:.*DYN' && echo 1)" "not a PIE"
    verdict "bindnow-$b" "$(echo "$dyn" | grep -q 'BIND_NOW' && echo 1)" "no BIND_NOW"
    verdict "relro-$b" "$(readelf -l "$root/$b" | grep -q GNU_RELRO && echo 1)" "no RELRO"
    verdict "stack-protector-$b" "$(readelf -s --wide "$root/$b" | grep -q '__stack_chk_fail' && echo 1)" "no stack protector"
    verdict "fortify-$b" "$(readelf -s --wide "$root/$b" | grep -q '__.*_chk@' && echo 1)" "no _FORTIFY_SOURCE functions"
done
for page in wasmctl.1 wasmd.8; do
    sect=${page##*.}
    verdict "man-version-$page" "$(zcat "$root/usr/share/man/man$sect/$page.gz" | head -1 | grep -q "\"wasmd $version\"" && echo 1)" \
        "$(zcat "$root/usr/share/man/man$sect/$page.gz" | head -1) (VERSION is $version)"
done
for page in man1/wasmctl.1 man5/wasmd.yaml.5 man8/wasmd.8; do
    # Under its own name: mandoc checks the section against the file name's suffix.
    file=$TMP/$(basename "$page")
    zcat "$root/usr/share/man/$page.gz" >"$file"
    out=$( (groff -ww -z -man "$file"; cd "$TMP" && mandoc -T lint -W warning "$(basename "$page")") 2>&1)
    verdict "man-lint-$page" "$([ -z "$out" ] && echo 1)" "$(echo "$out" | head -3 | tr '\n' '|')"
done
verdict changelog-version "$(dpkg-deb -f "$deb" Version | grep -qx "$version" && echo 1)" "package $(dpkg-deb -f "$deb" Version), VERSION $version"
verdict completion-syntax "$(bash -n "$root/usr/share/bash-completion/completions/wasmctl" && echo 1)" "bash -n fails"

if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    verdict wasmd-version "$("$root/usr/sbin/wasmd" --version | grep -q "^wasmd $version " && echo 1)" "$("$root/usr/sbin/wasmd" --version)"
    verdict wasmctl-version "$("$root/usr/bin/wasmctl" --version | grep -q "^wasmctl $version" && echo 1)" "$("$root/usr/bin/wasmctl" --version)"
    # The default config as shipped (its group may not exist here: root stands in).
    sed 's/^socket_group: wasmd$/socket_group: root/' "$root/etc/wasmd/wasmd.yaml" >"$TMP/wasmd.yaml"
    mkdir -p "$TMP/mods"
    "$root/usr/sbin/wasmd" --config "$TMP/wasmd.yaml" --modules-dir "$TMP/mods" --state-dir "$TMP/state" \
        --socket "$TMP/s.sock" >"$TMP/wasmd.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        grep -q 'wasmd: ready' "$TMP/wasmd.log" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    verdict default-config-starts "$(grep -q 'wasmd: ready' "$TMP/wasmd.log" && echo 1)" "$(head -c 300 "$TMP/wasmd.log")"
    verdict default-config-answers "$(WASMD_SOCKET=$TMP/s.sock "$root/usr/bin/wasmctl" list >/dev/null && echo 1)" "wasmctl list failed"
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
fi

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
