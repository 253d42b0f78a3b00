#!/bin/sh
# deps.sh - installs the Debian 12 packages that wasmd needs to build, test and run.
#
# Idempotent and quiet: packages already installed are left alone, and when
# nothing is missing this script prints nothing and touches no package list.
# Run as root, or as a user with sudo.  `make deps` and `make check` call it.
set -eu

# One package per word.  Grouped by what needs them.
PACKAGES="
    build-essential pkg-config
    wabt
    clang clang-14 lld lld-14 wasi-libc libclang-rt-14-dev-wasm32
    rustc libstd-rust-dev-wasm32
    libcmocka-dev
    libcjson-dev
    libuv1-dev libyaml-dev libgpiod-dev libasound2-dev libsystemd-dev
    libcurl4-openssl-dev libsodium-dev
    python3 openssl minisign
    espeak-ng sox alsa-utils
    systemd groff-base mandoc
"
# build-essential, pkg-config:        the C toolchain and library flags for the Makefile
# wabt:                               wat2wasm/wast2json for the spec tests and hand-written test modules
# clang, clang-14, lld, lld-14, wasi-libc,
#   libclang-rt-14-dev-wasm32:        building C test programs and examples for wasm32-wasi
# rustc, libstd-rust-dev-wasm32:      Debian's rustc and its wasm32-wasi std, for the Rust test
#                                     program (tests/wasi/rust_hello.rs); the rustup toolchain has no wasm target
# libcmocka-dev:                      unit tests (tests/unit)
# libcjson-dev:                       the spec test driver (reads wast2json output)
# libuv1-dev, libyaml-dev, libgpiod-dev,
#   libasound2-dev, libsystemd-dev:   the daemon (event loop, config, GPIO, microphone, sd_notify)
# libcurl4-openssl-dev:               the daemon's downloads of modules named by URL (daemon/fetch.c)
# libsodium-dev:                      SHA-256 of downloads, minisign signatures (Ed25519, BLAKE2b)
# openssl:                            the test CA and server certificate of test_fetch.sh
# minisign:                           signing modules in the signature tests (interoperability)
# python3:                            test and benchmark scripts
# espeak-ng, sox, alsa-utils:         making and checking audio test data for the microphone HAL
# systemd:                            systemd-analyze, which scores the packaged unit's hardening
#                                     (tests/package/check.sh); scripts/deb.sh installs the package tools
# groff-base, mandoc:                 lint the man pages (tests/package/check.sh)

# npm:                                the AssemblyScript toolchain for tests/integration/test_assemblyscript.sh
#                                     (only when no npm is on PATH already, e.g. from nodesource or nvm)
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

# A package counts as present only when dpkg says "install ok installed" for
# the native architecture (or "all"); a removed package can still be known to
# dpkg with another status, and with foreign architectures (make cross-check)
# dpkg lists one line per installed architecture.
native=$(dpkg --print-architecture)
missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Architecture} ${Status}\n' "$pkg" 2>/dev/null |
            grep -Eqx "($native|all) install ok installed"; then
        missing="$missing $pkg"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps.sh: missing packages:$missing; run as root or install sudo" >&2
    exit 1
fi

echo "deps.sh: installing$missing" >&2
# apt's output is kept in a file and shown only when something fails, so
# that a successful run stays quiet (debconf chatters on stderr otherwise).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The package lists are refreshed only when something has to be installed.
# shellcheck disable=SC2086 # $SUDO and $missing are meant to split into words
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >"$log" 2>&1 ||
   ! $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >>"$log" 2>&1; then
    cat "$log" >&2
    echo "deps.sh: installing$missing failed" >&2
    exit 1
fi
