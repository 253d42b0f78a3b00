#!/usr/bin/env bash
# run.sh SPECTEST_BIN OUTDIR [RUNNER_OPTIONS...] - runs the WebAssembly spec tests.
#
# Converts every .wast of the spec testsuite with wast2json into
# OUTDIR/NAME/NAME.json (+ .wasm files), one folder per .wast so that a stale
# file of one never mixes with another, then runs SPECTEST_BIN over all of
# them in one process.  A json newer than its .wast is not converted again.
#
# The simd_*.wast files are converted too, but only so that the runner can
# count their tests as skipped (-s): the engine has no v128.  The final line
# of the output is the runner's "N passed, N failed, N skipped".
#
# The testsuite is ../shared/spec-testsuite beside the repository, or
# $SPEC_DIR.  Extra arguments go to the runner (e.g. -v).  Exits non-zero
# when anything failed.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 SPECTEST_BIN OUTDIR [RUNNER_OPTIONS...]" >&2
    exit 2
fi
bin=$1
out=$2
shift 2

repo=$(cd "$(dirname "$0")/../.." && pwd)
spec_dir=${SPEC_DIR:-$(dirname "$repo")/shared/spec-testsuite}

if [ ! -d "$spec_dir" ]; then
    echo "run.sh: no spec testsuite at $spec_dir (set SPEC_DIR)" >&2
    exit 1
fi
if ! command -v wast2json >/dev/null; then
    echo "run.sh: wast2json not found (Debian package wabt; see scripts/deps.sh)" >&2
    exit 1
fi

shopt -s nullglob
wasts=("$spec_dir"/*.wast)
if [ ${#wasts[@]} -eq 0 ]; then
    echo "run.sh: no .wast files in $spec_dir" >&2
    exit 1
fi

args=()
for wast in "${wasts[@]}"; do
    name=$(basename "$wast" .wast)
    dir=$out/$name
    json=$dir/$name.json
    if [ ! -f "$json" ] || [ "$wast" -nt "$json" ]; then
        # Old .wasm files of an earlier conversion must not survive: their
        # numbering may have changed.
        rm -rf "$dir"
        mkdir -p "$dir"
        if wast2json "$wast" -o "$json" 2>"$dir/wast2json.log"; then
            rm -f "$dir/wast2json.log"
        else
            # The runner reports the missing json as a failure of this file.
            echo "run.sh: wast2json failed on $wast:" >&2
            cat "$dir/wast2json.log" >&2
            rm -f "$json"
        fi
    fi
    case $name in
        simd_*) args+=(-s "$json") ;;
        *) args+=("$json") ;;
    esac
done

exec "$bin" "$@" "${args[@]}"
