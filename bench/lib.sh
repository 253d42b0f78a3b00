# shellcheck shell=bash
# bench/lib.sh - shared by bench/run.sh and bench/real.sh (sourced).

# table_row NAME NATIVE_S WASMD_S RATIO YARD CHECK: one row of the timing
# table, with "vs wasm3" = RATIO / YARD ("-" for a missing figure).
table_row() {
    local name=$1 nat=$2 was=$3 ratio=$4 yard=$5 check=$6 vs=-
    if [ "$ratio" != - ] && [ "$yard" != - ]; then
        vs=$(awk -v a="$ratio" -v b="$yard" 'BEGIN { printf "%.2f", a / b }')
    fi
    [ "$ratio" = - ] || ratio="${ratio}x"
    [ "$yard" = - ] || yard="${yard}x"
    printf '%-9s %10s %10s %9s %9s %8s   %s\n' "$name" "$nat" "$was" "$ratio" "$yard" "$vs" "$check"
}
