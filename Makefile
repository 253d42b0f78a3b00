# wasmd - top-level Makefile.
#
#   make            build everything (runtime library, wasmctl, tests) into build/
#   make check      every test: unit (cmocka), spec, mutate, integration, the Debian package
#                   (built, lintian, checked), then again under ASan+UBSan; every pass
#                   runs, and the last line is the tally "N passed, N failed"
#   make deb        Debian packages in build/deb/ (ARCH=arm64|armhf to cross-build)
#   make bench      benchmarks: our engine against native code, printed as ratios
#   make bench-scale the instance-scale figures, up to 10,000 idle instances
#   make opstats    build-opstats/wasmctl, which counts the operations it runs
#                   (WR_OPSTATS=FILE wasmctl run X.wasm: the commonest, and pairs)
#   make run        the main job (see README.md)
#
# Out-of-tree builds: BUILD=dir.  Sanitizer builds: SAN=1 (used by `make check`).
# Cross builds: ARCH=arm64 or ARCH=armhf (any Debian architecture with a cross
# toolchain), into build-ARCH/; `make cross-check ARCH=arm64|armhf` installs
# the toolchain and tests under qemu.  ARCH=this machine's is a native build.
#
# CC, AR, PKG_CONFIG and the CPPFLAGS, CFLAGS and LDFLAGS of the environment or
# the command line (e.g. from dpkg-buildflags) are honoured: ours come first,
# theirs after (so that theirs win), EXTRA_CFLAGS last.

ARCH     ?=
ifneq ($(ARCH),)
ifneq ($(ARCH),$(shell dpkg --print-architecture 2>/dev/null))
CROSS    := $(shell dpkg-architecture -a$(ARCH) -qDEB_HOST_GNU_TYPE 2>/dev/null)
ifeq ($(CROSS),)
$(error ARCH=$(ARCH): not a Debian architecture that dpkg-architecture knows)
endif
CC         := $(CROSS)-gcc
AR         := $(CROSS)-ar
PKG_CONFIG := $(CROSS)-pkg-config
BUILD      ?= build-$(ARCH)
endif
endif

CC         ?= cc
AR         ?= ar
PKG_CONFIG ?= pkg-config
BUILD      ?= build
PREFIX     ?= /usr/local
OPT        ?= -O2

# The caller's flags (environment or command line), kept aside: the full
# flags below are not exported, so that a recursive make (asan, fuzz) gets
# the caller's again from WASMD_CALLER_*, and a foreign one (dpkg-buildpackage
# under `make deb`) its own.
define caller_flags
ifneq ($$(filter environment% command line,$$(origin $(1))),)
WASMD_CALLER_$(1) := $$($(1))
endif
export WASMD_CALLER_$(1)
unexport $(1)
endef
$(foreach v,CPPFLAGS CFLAGS LDFLAGS,$(eval $(call caller_flags,$(v))))

# Large files and inode numbers on 32-bit hosts too (readdir fails with
# EOVERFLOW otherwise).  _TIME_BITS=64 only for wasi/ (near the end): Debian
# 12's armhf libraries use a 32-bit time_t, and libgpiod and ALSA pass
# struct timespec across their ABI.
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
override CPPFLAGS := -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. -Iruntime $(WASMD_CALLER_CPPFLAGS)
override CFLAGS   := -std=gnu11 $(OPT) -g $(WARN) -fno-strict-aliasing $(WASMD_CALLER_CFLAGS) $(EXTRA_CFLAGS)
override LDFLAGS  := $(WASMD_CALLER_LDFLAGS)
LDLIBS   += -lm

ifeq ($(SAN),1)
override CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif

PKG_CJSON  := $(shell $(PKG_CONFIG) --cflags --libs libcjson 2>/dev/null || echo -lcjson)
PKG_CMOCKA := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
PKG_CURL   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
PKG_SODIUM := $(shell $(PKG_CONFIG) --libs libsodium 2>/dev/null || echo -lsodium)

# One version for the binaries, the man pages and the package (VERSION).
VERSION  := $(shell cat VERSION)
override CPPFLAGS += -DWASMD_VERSION='"$(VERSION)"'

# ---- Layers -------------------------------------------------------------

RUNTIME_SRC := $(sort $(wildcard runtime/*.c))
WASI_SRC    := $(sort $(wildcard wasi/*.c))
CLI_SRC     := $(sort $(wildcard cli/*.c))
CONFIG_SRC  := $(sort $(wildcard config/*.c))
DAEMON_SRC  := $(sort $(wildcard daemon/*.c))
HAL_SRC     := $(sort $(wildcard hal/*.c))

RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
WASI_OBJ    := $(WASI_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ     := $(CLI_SRC:%.c=$(BUILD)/%.o)
CONFIG_OBJ  := $(CONFIG_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ  := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
HAL_OBJ     := $(HAL_SRC:%.c=$(BUILD)/%.o)

LIBWR       := $(BUILD)/libwr.a
LIBWASI     := $(BUILD)/libwasi.a
LIBCONFIG   := $(BUILD)/libconfig.a
LIBHAL      := $(BUILD)/libhal.a
PKG_HAL     := $(shell $(PKG_CONFIG) --libs libgpiod alsa 2>/dev/null || echo -lgpiod -lasound)
WASMCTL     := $(BUILD)/wasmctl
WASMD       := $(BUILD)/wasmd

# ---- Tests --------------------------------------------------------------

# Guest programs for the WASI and wasmctl tests: C built with clang + wasi-libc, and .wat.
WASI_C      := $(sort $(wildcard tests/wasi/*.c))
WASI_WAT    := $(sort $(wildcard tests/wasi/*.wat))
WASI_WASM   := $(WASI_C:tests/wasi/%.c=$(BUILD)/tests/wasi/%.wasm) $(WASI_WAT:tests/wasi/%.wat=$(BUILD)/tests/wasi/%.wasm)
WASM_CC     ?= clang
DAEMON_C    := $(sort $(wildcard tests/daemon/*.c))
DAEMON_WAT  := $(sort $(wildcard tests/daemon/*.wat))
DAEMON_WASM := $(DAEMON_C:tests/daemon/%.c=$(BUILD)/tests/daemon/%.wasm) $(DAEMON_WAT:tests/daemon/%.wat=$(BUILD)/tests/daemon/%.wasm)
EXAMPLE_C   := $(sort $(wildcard examples/*.c))
EXAMPLE_WASM := $(EXAMPLE_C:examples/%.c=$(BUILD)/examples/%.wasm)
WAT_SRC     := $(sort $(wildcard tests/wat/*.wat))
WAT_WASM    := $(WAT_SRC:tests/wat/%.wat=$(BUILD)/tests/wat/%.wasm)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
SPECTEST    := $(BUILD)/tests/spec/spectest
MUTATE      := $(BUILD)/tests/fuzz/mutate
FUZZ_MUTANTS ?= 300
FUZZ_SECONDS ?= 600

.PHONY: all bin check check-fast unit spec integration mutate fuzz asan bench bench-scale opstats run install install-sdk clean deps deb deb-cleanroom package-check
# bin: the programs alone (what the package builds); all: programs and tests.
bin: $(WASMCTL) $(WASMD)
all: $(LIBWR) $(LIBWASI) $(LIBCONFIG) $(LIBHAL) $(WASMCTL) $(WASMD) $(DAEMON_WASM) $(UNIT_BIN) $(SPECTEST) $(MUTATE) $(WAT_WASM) $(WASI_WASM) $(EXAMPLE_WASM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OBJ_OPT) -MMD -MP -c $< -o $@

# Instantiating (instance.c, module.c) runs once per run and is not where the
# time goes: compiled for size, it leaves the interpreter room within the
# engine's 100 KB of text (measured: start-up the same).  So is the decoder
# (decode.c): 3.7 KB less, for 2% more of a large module's load time; the
# validator and the translator, which read each body again, cost more.  Not
# in sanitizer builds, which set their own.
ifndef SAN
$(BUILD)/runtime/instance.o $(BUILD)/runtime/module.o $(BUILD)/runtime/decode.o: OBJ_OPT = -Os
endif

$(LIBWR): $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBWASI): $(WASI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBCONFIG): $(CONFIG_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBHAL): $(HAL_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# wasmctl validates offline with the daemon's import check and the config layer.
$(WASMCTL): $(CLI_OBJ) $(BUILD)/daemon/validate.o $(LIBCONFIG) $(LIBWASI) $(LIBWR)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_CJSON) -lyaml $(LDLIBS)

$(WASMD): $(DAEMON_OBJ) $(LIBHAL) $(LIBCONFIG) $(LIBWASI) $(LIBWR)
	$(CC) $(LDFLAGS) $^ -o $@ -luv $(PKG_CJSON) -lyaml -lsystemd $(PKG_HAL) $(PKG_CURL) $(PKG_SODIUM) $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/test_util.h $(LIBHAL) $(LIBCONFIG) $(LIBWASI) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(filter-out %.h,$^) -o $@ $(PKG_CMOCKA) -lyaml $(PKG_HAL) $(LDLIBS)

# The signature test links the daemon's signature.c and libsodium.
$(BUILD)/tests/unit/test_signature: $(BUILD)/daemon/signature.o
$(BUILD)/tests/unit/test_signature: LDLIBS += $(PKG_SODIUM)

# Test modules written in the text format.
$(BUILD)/tests/wat/%.wasm: tests/wat/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --debug-names $< -o $@

$(BUILD)/tests/wasi/%.wasm: tests/wasi/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32-wasi -O2 -Wall -Werror $< -Wl,--strip-debug -o $@

# primes.c and heartbeat.c are reactors (exports, no main, no _start).
$(BUILD)/examples/primes.wasm: WASM_MODEL := -mexec-model=reactor
$(BUILD)/examples/heartbeat.wasm: WASM_MODEL := -mexec-model=reactor
$(BUILD)/examples/blinky.wasm: WASM_MODEL := -mexec-model=reactor
$(BUILD)/examples/button_led.wasm: WASM_MODEL := -mexec-model=reactor
$(BUILD)/examples/temperature.wasm: WASM_MODEL := -mexec-model=reactor
$(BUILD)/tests/daemon/%.wasm: tests/daemon/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32-wasi $(WASM_MODEL) -O2 -Wall -Werror $< -Wl,--strip-debug -o $@

$(BUILD)/tests/daemon/%.wasm: tests/daemon/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --debug-names $< -o $@

$(BUILD)/examples/%.wasm: examples/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32-wasi $(WASM_MODEL) -O2 -Wall -Werror $< -Wl,--strip-debug -o $@

$(BUILD)/tests/wasi/%.wasm: tests/wasi/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --debug-names $< -o $@

$(SPECTEST): $(wildcard tests/spec/*.c) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(PKG_CJSON) $(LDLIBS)

$(MUTATE): tests/fuzz/fuzz_module.c tests/fuzz/mutate.c $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# ---- Running tests ------------------------------------------------------

# Every unit suite runs; the target fails at the end if any did.
unit: $(UNIT_BIN) $(WAT_WASM) $(WASI_WASM)
	@bad=; for t in $(UNIT_BIN); do echo "== $$t"; TEST_WASM_DIR=$(BUILD)/tests/wat $$t || bad="$$bad $$t"; done; \
	if [ -n "$$bad" ]; then echo "unit: failed:$$bad"; exit 1; fi

spec: $(SPECTEST)
	tests/spec/run.sh $(SPECTEST) $(BUILD)/spec-json

# Mutants of every spec-test module (converted by `make spec`) through the engine.
mutate: $(MUTATE) spec
	$(MUTATE) -n $(FUZZ_MUTANTS) $$(find $(BUILD)/spec-json -name '*.wasm' ! -path '*/simd_*' | sort)

# Coverage-guided fuzzing with libFuzzer, for as long as FUZZ_SECONDS (not part of `check`).
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SAN=1 OPT=-O1 EXTRA_CFLAGS=-fsanitize=fuzzer-no-link build-fuzz/libwr.a spec
	@mkdir -p build-fuzz/corpus
	clang -std=gnu11 -O1 -g -I. -Iruntime -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_module.c \
	    build-fuzz/libwr.a -lm -o build-fuzz/fuzz_module
	cp $$(find build-fuzz/spec-json -name '*.wasm' ! -path '*/simd_*') build-fuzz/corpus/
	build-fuzz/fuzz_module -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 build-fuzz/corpus

integration: $(WASMCTL) $(WASMD) $(WASI_WASM) $(WAT_WASM) $(DAEMON_WASM) $(EXAMPLE_WASM)
	tests/integration/run.sh $(BUILD)

# check runs every pass (build, unit, spec, mutate, integration, package-check), then the
# build and suites again in $(BUILD)-asan/ with ASan+UBSan, whatever fails on the way; it
# reports each pass and ends with the tally "N passed, N failed" (scripts/check.sh).
asan:
	@MAKE="$(MAKE)" BUILD=$(BUILD) scripts/check.sh --asan

check-fast:
	@MAKE="$(MAKE)" BUILD=$(BUILD) scripts/check.sh --fast

check: deps
	@MAKE="$(MAKE)" BUILD=$(BUILD) scripts/check.sh

# ---- Benchmarks, main job, install -------------------------------------

bench: all
	bench/run.sh $(BUILD)
	bench/real.sh $(BUILD)

# The instance-scale figures alone, with 10,000 instances too (bench/scale.sh).
bench-scale: all
	BENCH_SCALE_10K=1 bench/scale.sh $(BUILD)

# The interpreter counting every operation and pair of operations it runs
# (interp.c, WR_OPSTATS): what fusing a pair would save, measured, not guessed.
opstats:
	$(MAKE) BUILD=build-opstats EXTRA_CFLAGS=-DWR_OPSTATS build-opstats/wasmctl

run: deps
	$(MAKE) all
	scripts/run-main.sh $(BUILD)

deps:
	scripts/deps.sh

# Installed layout (the package uses PREFIX=/usr).  Config and state
# directories are fixed: /etc/wasmd and /var/lib/wasmd.
SYSTEMDUNITDIR ?= /lib/systemd/system
UDEVRULESDIR   ?= /lib/udev/rules.d
install: bin
	install -D -m 0755 $(WASMCTL) $(DESTDIR)$(PREFIX)/bin/wasmctl
	install -D -m 0755 $(WASMD) $(DESTDIR)$(PREFIX)/sbin/wasmd
	@mkdir -p $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/wasmd.service >$(DESTDIR)$(SYSTEMDUNITDIR)/wasmd.service
	install -m 0644 systemd/wasmd.socket $(DESTDIR)$(SYSTEMDUNITDIR)/wasmd.socket
	install -D -m 0644 systemd/wasmd.sysusers $(DESTDIR)/usr/lib/sysusers.d/wasmd.conf
	install -D -m 0644 systemd/60-wasmd.rules $(DESTDIR)$(UDEVRULESDIR)/60-wasmd.rules
	install -D -m 0644 cli/wasmctl.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/wasmctl
	install -D -m 0644 docs/wasmctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/wasmctl.1
	install -D -m 0644 docs/wasmd.8 $(DESTDIR)$(PREFIX)/share/man/man8/wasmd.8
	install -D -m 0644 docs/wasmd.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/wasmd.yaml.5
	install -d -m 0755 $(DESTDIR)/etc/wasmd/modules.d
	install -d -m 0755 $(DESTDIR)/etc/wasmd/trusted.d
	test -e $(DESTDIR)/etc/wasmd/wasmd.yaml || install -m 0644 packaging/wasmd.yaml $(DESTDIR)/etc/wasmd/wasmd.yaml

# The module authors' files (the wasmd-sdk package).
install-sdk:
	install -D -m 0644 sdk/wasmd.h $(DESTDIR)$(PREFIX)/include/wasmd/wasmd.h
	install -D -m 0644 sdk/GUIDE.md $(DESTDIR)$(PREFIX)/share/doc/wasmd-sdk/GUIDE.md
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/wasmd-sdk/examples/modules.d
	install -m 0644 examples/*.c $(DESTDIR)$(PREFIX)/share/doc/wasmd-sdk/examples/
	install -m 0644 examples/modules.d/*.yaml $(DESTDIR)$(PREFIX)/share/doc/wasmd-sdk/examples/modules.d/

# Debian packages (packaging/debian, built with dpkg-buildpackage) in
# build/deb/: `make deb` for this machine, `make deb ARCH=arm64|armhf` to
# cross-build.  DEB_BUILD_OPTIONS=nocheck skips the package's own tests
# (unit + spec).  scripts/deb.sh installs what the build needs and runs lintian.
deb:
	scripts/deb.sh $(ARCH)

# The host's packages built with their tests in a fresh Debian 12 chroot
# holding only the Build-Depends: they are all the build needs (minutes).
deb-cleanroom:
	scripts/deb-cleanroom.sh

# The host's packages without their own tests (check-fast ran them), then
# what they install, their scripts and the unit's exposure score.
package-check:
	DEB_BUILD_OPTIONS=nocheck scripts/deb.sh
	tests/package/check.sh

clean:
	rm -rf build build-asan build-fuzz

# ---- 32-bit hosts, cross builds ------------------------------------------

# wasi/ gets a 64-bit time_t on 32-bit hosts too (its clocks and file times
# work past 2038); nothing with a time_t crosses its public header.
$(WASI_OBJ): override CPPFLAGS += -D_TIME_BITS=64

# make cross-check ARCH=arm64|armhf: installs Debian's cross toolchain, the
# ARCH libraries and qemu-user, builds into build-ARCH/ and runs unit, spec
# and mutate under qemu (scripts/cross-check.sh).
.PHONY: cross-check clean-cross
cross-check:
	@[ -n "$(ARCH)" ] || { echo "make cross-check: set ARCH=arm64 or ARCH=armhf" >&2; exit 2; }
	scripts/cross-check.sh $(ARCH)

clean: clean-cross
clean-cross:
	rm -rf build-arm64 build-armhf

# Dependency files of our objects (not of the package trees in build/deb and build/cleanroom).
-include $(shell find $(BUILD) \( -path $(BUILD)/deb -o -path $(BUILD)/cleanroom \) -prune -o -name '*.d' -type f -print 2>/dev/null)

# ---- System test (not part of `check`: it takes minutes) ----------------
#
# make system-test [DEB=path/to/wasmd_VERSION_arm64.deb]: boots Debian 12
# arm64 under qemu-system-aarch64, installs the arm64 package with apt and
# checks the service, wasmctl and a real GPIO line (tests/system/run.sh).
# Without DEB it makes and tests build/deb/wasmd_VERSION_arm64.deb
# (`make deb ARCH=arm64`).  The guest's root filesystem is cached in
# ~/.cache/wasmd/system-test (SYSTEST_CACHE).
SYSTEST_WASM := $(BUILD)/tests/system/gpio-high.wasm
$(SYSTEST_WASM): tests/system/gpio-high.c sdk/wasmd.h
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror $< -Wl,--strip-debug -o $@

.PHONY: system-test
system-test: deps
	$(MAKE) --no-print-directory $(SYSTEST_WASM)
	$(if $(DEB),,$(MAKE) --no-print-directory deb ARCH=arm64)
	tests/system/run.sh $(BUILD) $(or $(DEB),build/deb/wasmd_$(shell cat VERSION)_arm64.deb)
