# test_run.sh - the `wasmctl run` contract of the engine issue: running a
# WASI command, --invoke with typed arguments and exactly printed results,
# options only before the module path, traps and bad modules.
. "$(dirname "$0")/lib.sh"
W=$BUILD/tests/wasi
V=$W/values.wasm

check hello 0 "Hello, world!" -- "$WASMCTL" run "$W/hello.wasm"

# Integers: signed decimal out; signed, unsigned and hex in.
check add-neg 0 "-2" -- "$WASMCTL" run --invoke add "$V" -1 -1
check add-unsigned-spelling 0 "-2" -- "$WASMCTL" run --invoke add "$V" -1 4294967295
check add-hex 0 "-2147483648" -- "$WASMCTL" run --invoke add "$V" 0x7fffffff 1
check add64 0 "-9223372036854775808" -- "$WASMCTL" run --invoke add64 "$V" 9223372036854775807 1
check multi-value 0 "$(printf '3\n1')" -- "$WASMCTL" run --invoke divmod "$V" 7 2
check no-results 0 "" -- "$WASMCTL" run --invoke nothing "$V"

# Floats: round-trip digits, signed zero, infinities, NaN payloads.
check f32-digits 0 "0.100000001" -- "$WASMCTL" run --invoke f32 "$V" 0.1
check f64-digits 0 "0.10000000000000001" -- "$WASMCTL" run --invoke f64 "$V" 0.1
check f32-neg-zero 0 "-0" -- "$WASMCTL" run --invoke f32 "$V" -0
check f64-inf 0 "-inf" -- "$WASMCTL" run --invoke f64 "$V" -inf
check f64-nan 0 "nan" -- "$WASMCTL" run --invoke f64 "$V" nan
check f64-nan-payload 0 "nan:0x1" -- "$WASMCTL" run --invoke f64 "$V" nan:0x1
check f32-bits 0 "2143289344" -- "$WASMCTL" run --invoke f32_bits "$V" nan
check f64-hex-float 0 "0.5" -- "$WASMCTL" run --invoke f64 "$V" 0x1p-1
check externref-null 0 "null" -- "$WASMCTL" run --invoke null "$V"

# Options are recognised only before the module path: after it, all is arguments.
check option-after-path 2 "" -- "$WASMCTL" run --invoke add "$V" --fuel 3
check_err wrong-arg-count 2 "argument" -- "$WASMCTL" run --invoke add "$V" 1
check_err bad-integer 2 "" -- "$WASMCTL" run --invoke add "$V" 1 12abc
check_err no-such-export 2 "nope" -- "$WASMCTL" run --invoke nope "$V"

# A trap: its kind and a backtrace on stderr, a distinct exit status.
check_err trap-kind 134 "integer divide by zero" -- "$WASMCTL" run --invoke crash "$V"
check_err trap-backtrace 134 "inner" -- "$WASMCTL" run --invoke crash "$V"
check_err out-of-fuel 124 "fuel" -- "$WASMCTL" run --fuel 1000 --invoke spin "$V"

# Bad modules: a named error, no crash.
printf '\0asm\1\0\0\0\1\5\1' > "$TMP/truncated.wasm"
check_err truncated-section 1 "length out of bounds" -- "$WASMCTL" run "$TMP/truncated.wasm"
printf '\0asm\1\0' > "$TMP/short.wasm"
check_err truncated-header 1 "unexpected end" -- "$WASMCTL" run "$TMP/short.wasm"
printf 'not wasm' > "$TMP/junk.wasm"
check_err not-a-module 1 "magic header not detected" -- "$WASMCTL" run "$TMP/junk.wasm"
# Four billion functions declared in a ten-byte section.
printf '\0asm\1\0\0\0\3\5\377\377\377\377\17' > "$TMP/huge.wasm"
check_err huge-count 1 "length out of bounds" -- "$WASMCTL" run "$TMP/huge.wasm"
check_err missing-file 1 "" -- "$WASMCTL" run "$TMP/missing.wasm"

finish
