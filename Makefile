# wasmd - top-level Makefile.
#
#   make            build everything (runtime library, wasmctl, tests) into build/
#   make check      every test: unit (cmocka), spec, integration, then again under ASan+UBSan
#   make bench      benchmarks: our engine against native code, printed as ratios
#   make run        the main job (see README.md)
#
# Out-of-tree builds: BUILD=dir.  Sanitizer builds: SAN=1 (used by `make check`).

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
OPT      ?= -O2

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -I. -Iruntime
CFLAGS   ?=
CFLAGS   += -std=gnu11 $(OPT) -g $(WARN) -fno-strict-aliasing
LDLIBS   += -lm

ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

PKG_CJSON  := $(shell pkg-config --cflags --libs libcjson 2>/dev/null || echo -lcjson)
PKG_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

# ---- Layers -------------------------------------------------------------

RUNTIME_SRC := $(sort $(wildcard runtime/*.c))
WASI_SRC    := $(sort $(wildcard wasi/*.c))
CLI_SRC     := $(sort $(wildcard cli/*.c))

RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
WASI_OBJ    := $(WASI_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ     := $(CLI_SRC:%.c=$(BUILD)/%.o)

LIBWR       := $(BUILD)/libwr.a
LIBWASI     := $(BUILD)/libwasi.a
WASMCTL     := $(BUILD)/wasmctl

# ---- Tests --------------------------------------------------------------

WAT_SRC     := $(sort $(wildcard tests/wat/*.wat))
WAT_WASM    := $(WAT_SRC:tests/wat/%.wat=$(BUILD)/tests/wat/%.wasm)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
SPECTEST    := $(BUILD)/tests/spec/spectest

.PHONY: all check check-fast unit spec integration asan bench run install clean deps
all: $(LIBWR) $(LIBWASI) $(WASMCTL) $(UNIT_BIN) $(SPECTEST) $(WAT_WASM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBWR): $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBWASI): $(WASI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(WASMCTL): $(CLI_OBJ) $(LIBWASI) $(LIBWR)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBWASI) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(PKG_CMOCKA) $(LDLIBS)

# Test modules written in the text format.
$(BUILD)/tests/wat/%.wasm: tests/wat/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --debug-names $< -o $@

$(SPECTEST): $(wildcard tests/spec/*.c) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(PKG_CJSON) $(LDLIBS)

# ---- Running tests ------------------------------------------------------

unit: $(UNIT_BIN) $(WAT_WASM)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; TEST_WASM_DIR=$(BUILD)/tests/wat $$t; done

spec: $(SPECTEST)
	tests/spec/run.sh $(SPECTEST) $(BUILD)/spec-json

integration: $(WASMCTL)
	tests/integration/run.sh $(BUILD)

# The sanitizer pass rebuilds everything in build-asan/ and runs the same suites.
asan:
	$(MAKE) BUILD=$(BUILD)-asan SAN=1 OPT=-O1 unit spec integration

check-fast: all unit spec integration

check: deps
	$(MAKE) check-fast
	$(MAKE) asan

# ---- Benchmarks, main job, install -------------------------------------

bench: all
	bench/run.sh $(BUILD)

run: all
	scripts/run-main.sh $(BUILD)

deps:
	scripts/deps.sh

install: all
	install -D -m 0755 $(WASMCTL) $(DESTDIR)$(PREFIX)/bin/wasmctl

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
