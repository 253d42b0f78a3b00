# test_assemblyscript.sh - an AssemblyScript module (WASI through
# @assemblyscript/wasi-shim) runs unchanged under `wasmctl run`.
# The toolchain comes from the npm registry, pinned by the lockfile in
# tests/wasi/assemblyscript/, and is installed once into $BUILD.
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../wasi/assemblyscript" && pwd)
tool=$BUILD/assemblyscript

if ! command -v npm >/dev/null 2>&1; then
    echo "skip assemblyscript: npm is not installed"
    finish
    exit
fi
if [ ! -x "$tool/node_modules/.bin/asc" ] || [ "$src/package-lock.json" -nt "$tool/package-lock.json" ]; then
    mkdir -p "$tool"
    cp "$src/package.json" "$src/package-lock.json" "$tool/"
    (cd "$tool" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) || {
        echo "FAIL assemblyscript-toolchain: npm ci failed in $tool"
        exit 1
    }
fi
# asc resolves the shim's library paths from its working directory.
(cd "$tool" && ./node_modules/.bin/asc "$src/hello.ts" --config node_modules/@assemblyscript/wasi-shim/asconfig.json \
    -O2 --outFile "$TMP/hello.wasm") 2>"$TMP/asc.err" || { echo "FAIL assemblyscript-build: $(head -c 300 "$TMP/asc.err")"; exit 1; }

check assemblyscript-hello 3 "$(printf 'Hello from AssemblyScript!\narg 0: %s\narg 1: one\narg 2: -x' "$TMP/hello.wasm")" \
    -- "$WASMCTL" run "$TMP/hello.wasm" one -x
finish
