# test_wasi.sh - the WASI layer under `wasmctl run`: the C programs of
# tests/wasi (every function, error paths, sandbox escapes), a Rust
# program when Debian's rustc with the wasm32-wasi std is installed, and
# the command-line contract of issue 3:
#   --dir HOST[::GUEST] preopened from fd 3 in order, "/" as a guest name;
#   --env gives exactly the environment; argv[0] is the module's name;
#   stdio passed through; exit code = proc_exit code, 0 when _start returns,
#   134 on a trap.
. "$(dirname "$0")/lib.sh"
W=$BUILD/tests/wasi

# A program that prints "ok ..."/"FAIL ..." lines and exits with its failure count:
# one check per program, failing lines shown.
check_program() {
    local name=$1
    shift
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    local nok nfail
    nok=$(printf '%s\n' "$out" | grep -c '^ok ')
    nfail=$(printf '%s\n' "$out" | grep -c '^FAIL ')
    if [ "$rc" -ne 0 ] || [ "$nfail" -ne 0 ] || [ "$nok" -eq 0 ]; then
        echo "FAIL $name: exit $rc, $nok ok, $nfail failed"
        printf '%s\n' "$out" | grep -v '^ok ' | head -20 | sed 's/^/    /'
        FAILED=$((FAILED + 1))
    else
        echo "ok $name ($nok checks)"
    fi
}

# ---- Every function --------------------------------------------------------

mkdir -p "$TMP/fs"
check_program fs-calls "$WASMCTL" run --dir "$TMP/fs::/sb" "$W/fs.wasm" /sb
echo piped-data | check_program misc-calls "$WASMCTL" run "$W/misc.wasm"

# ---- Sandbox escapes --------------------------------------------------------

top=$TMP/top
mkdir -p "$top/sb/sub"
echo "TOP SECRET" > "$top/secret.txt"
touch -d '2001-01-01 00:00:00' "$top/secret.txt"
ln -s "$top" "$top/sb/abs"
ln -s .. "$top/sb/up"
ln -s sub/../.. "$top/sb/mid"
ln -s ../created.txt "$top/sb/dang"
ln -s loop "$top/sb/loop"
# Size, mtime, inode and link count: a write, a set_times, a rename or a link would show.
before=$(stat -c '%s %Y %i %h' "$top/secret.txt")
check_program escapes "$WASMCTL" run --dir "$top/sb::/sb" "$W/escape.wasm"
after=$(stat -c '%s %Y %i %h' "$top/secret.txt")
check secret-unchanged 0 "TOP SECRET $before" -- sh -c 'printf "%s %s" "$(cat "$1")" "$2"' sh "$top/secret.txt" "$after"
check nothing-new-outside 0 "sb secret.txt" -- sh -c 'ls "$1" | tr "\n" " " | sed "s/ $//"' sh "$top"
# The same escapes with the sandbox mapped as the guest's "/" (the links the
# first run made are removed so that it can make them again).
rm -f "$top/sb/mine" "$top/sb/mine_abs" "$top/sb/sub/mine_mid" "$top/sb/mine_hard"
check_program escapes-root-guest "$WASMCTL" run --dir "$top/sb::/" "$W/escape.wasm"
check secret-still-unchanged 0 "$before" -- stat -c '%s %Y %i %h' "$top/secret.txt"
echo inside > "$top/sb/inside.txt"
check root-guest-name 0 "inside" -- "$WASMCTL" run --dir "$top/sb::/" "$W/cat.wasm" /inside.txt
check_err root-guest-no-dotdot 1 "secret.txt" -- "$WASMCTL" run --dir "$top/sb::/" "$W/cat.wasm" /../secret.txt
check_err root-guest-no-link-out 1 "secret.txt" -- "$WASMCTL" run --dir "$top/sb::/" "$W/cat.wasm" /up/secret.txt

# ---- The command-line contract ------------------------------------------

mkdir -p "$TMP/d1" "$TMP/d2"
echo one > "$TMP/d1/f"
echo two > "$TMP/d2/f"
check dir-guest-names 0 "$(printf 'one\ntwo')" -- "$WASMCTL" run --dir "$TMP/d1::/a" --dir "$TMP/d2::/b" "$W/cat.wasm" /a/f /b/f
check dir-default-guest 0 "one" -- "$WASMCTL" run --dir "$TMP/d1" "$W/cat.wasm" "$TMP/d1/f"
# fs.wasm checks that fd 3 is the first --dir: give it a second one after.
mkdir -p "$TMP/fs2"
check_program dir-order-fd3 "$WASMCTL" run --dir "$TMP/fs2::/first" --dir "$TMP/d2::/second" "$W/fs.wasm" /first
check env-exact 0 "$(printf 'argc=1\nargv[0]=%s\nenv A=1\nenv B=two words' "$W/args.wasm")" -- \
    env HOME=/should/not/leak SECRET_VAR=x "$WASMCTL" run --env A=1 --env "B=two words" "$W/args.wasm"
check env-none 0 "$(printf 'argc=1\nargv[0]=%s' "$W/args.wasm")" -- env LEAK=1 "$WASMCTL" run "$W/args.wasm"
check argv 0 "$(printf 'argc=3\nargv[0]=%s\nargv[1]=0\nargv[2]=two words' "$W/args.wasm")" -- \
    "$WASMCTL" run "$W/args.wasm" 0 "two words"
check stdin-stdout 0 "$(printf 'line 1\nline 2')" -- sh -c 'printf "line 1\nline 2\n" | "$1" run "$2" copy 2>/dev/null' sh "$WASMCTL" "$W/misc.wasm"
check_err stderr-passed 0 "to stderr" -- "$WASMCTL" run "$W/misc.wasm" copy
check exit-code 7 "" -- "$WASMCTL" run "$W/misc.wasm" exit 7
check exit-zero-via-proc-exit 0 "" -- "$WASMCTL" run "$W/misc.wasm" exit 0
check exit-status-from-args 3 "$(printf 'argc=2\nargv[0]=%s\nargv[1]=3' "$W/args.wasm")" -- "$WASMCTL" run "$W/args.wasm" 3
check return-from-start 0 "Hello, world!" -- "$WASMCTL" run "$W/hello.wasm"
check_err trap-code 134 "unreachable" -- "$WASMCTL" run "$W/misc.wasm" trap
check_err missing-dir 1 "" -- "$WASMCTL" run --dir "$TMP/nonexistent" "$W/hello.wasm"

# ---- Rust (wasm32-wasi std from Debian: rustc + libstd-rust-dev-wasm32) -----

RUSTC=/usr/bin/rustc
if [ -x "$RUSTC" ] && "$RUSTC" --print sysroot >/dev/null 2>&1 &&
   [ -d "$("$RUSTC" --print sysroot)/lib/rustlib/wasm32-wasi" ]; then
    src=$(cd "$(dirname "$0")/../wasi" && pwd)/rust_hello.rs
    if "$RUSTC" --target wasm32-wasi -O "$src" -o "$W/rust_hello.wasm" 2>"$TMP/rustc.log"; then
        echo "hello from a file" > "$TMP/d1/hello.txt"
        check rust-hello 0 "$(printf 'arg %s\narg /data/hello.txt\nenv GREETING=hi\nfile: hello from a file' "$W/rust_hello.wasm")" -- \
            "$WASMCTL" run --dir "$TMP/d1::/data" --env GREETING=hi "$W/rust_hello.wasm" /data/hello.txt
        check_err rust-sandbox 3 "rust_hello" -- "$WASMCTL" run --dir "$TMP/d1::/data" "$W/rust_hello.wasm" /data/../d2/f
    else
        echo "FAIL rust-build: $(head -c 300 "$TMP/rustc.log")"
        FAILED=$((FAILED + 1))
    fi
else
    echo "skip rust: /usr/bin/rustc with the wasm32-wasi std not installed"
fi

finish
