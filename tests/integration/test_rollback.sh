# test_rollback.sh - versions of deployed modules (daemon/history.c): the
# previous units kept (history_keep), `wasmctl history`, `wasmctl rollback`
# (to the previous version, or --to a number), and the health gate: a new
# version that crash-loops a few seconds after its deploy succeeded is
# switched back to the version it replaced, automatically, and `status`
# says so.  Removing a module deletes its history and every kept unit.
. "$(dirname "$0")/lib.sh"

daemon_paths

printf 'history_keep: 2\nhealth_window_s: 60\n' >"$TMP/wasmd.yaml"
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null' EXIT
wait_socket "$SOCK"

version() { # version NAME WASM ARGS: $SRC/NAME/dep.{wasm,yaml}
    mkdir -p "$SRC/$1"
    cp "$2" "$SRC/$1/dep.wasm"
    printf 'module: dep.wasm\nargs: [%s]\nrestart: on-failure\n# %s\n' "$3" "$1" >"$SRC/$1/dep.yaml"
}
version v1 "$G/ticker.wasm" 100
version v2 "$G/spinner.wasm" ""
version v3 "$G/ticker.wasm" "300, 10, 3"   # ticks for 3 s, then exits 3 (and again at each restart)
on_disk() { cmp -s "$DEPLOYED/dep/dep.yaml" "$SRC/$1/dep.yaml" && cmp -s "$DEPLOYED/dep/dep.wasm" "$SRC/$1/dep.wasm"; }
units() { ls -A "$DEPLOYED" | grep -c '^\.unit-'; }
history_json() { "$WASMCTL" --json history dep 2>/dev/null; }

check_rc deploy-v1 0 -- "$WASMCTL" deploy "$SRC/v1/dep.wasm" "$SRC/v1/dep.yaml"
check_rc deploy-v2 0 -- "$WASMCTL" deploy "$SRC/v2/dep.wasm" "$SRC/v2/dep.yaml"
verdict v1-unit-kept "$([ "$(units)" = 2 ] && on_disk v2 && echo 1)" "$(ls -A "$DEPLOYED")"
check_rc history 0 -- "$WASMCTL" history dep
verdict history-lists-both "$(grep -Ec '^[12] ' "$TMP/stdout" | grep -qx 2 && grep -q '^2 *\*' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
verdict history-json-sha256 "$(history_json | grep -q "\"sha256\":\"$(sha256sum "$SRC/v1/dep.wasm" | cut -d' ' -f1)\"" && echo 1)" "$(history_json)"

# ---- rollback, and --to ----------------------------------------------------
check_rc rollback-previous 0 -- "$WASMCTL" rollback dep
verdict rollback-previous-on-disk "$(on_disk v1 && is_active dep && echo 1)" "dep: $(field dep state); $(cat "$TMP/stderr")"
verdict rollback-recorded "$(history_json | grep -q '"source":"rollback"' && echo 1)" "$(history_json)"
check_rc rollback-to-2 0 -- "$WASMCTL" rollback --to 2 dep
verdict rollback-to-2-on-disk "$(on_disk v2 && echo 1)" "$(ls -lA "$DEPLOYED/dep/")"
check_err rollback-to-missing 4 "no kept version 99" -- "$WASMCTL" rollback --to 99 dep
check_err rollback-not-deployed 4 "no deployed module" -- "$WASMCTL" rollback nosuch

# ---- health gate: v3 starts, then crash-loops: back to v2 by itself ---------
check_rc deploy-v3-starts 0 -- "$WASMCTL" deploy "$SRC/v3/dep.wasm" "$SRC/v3/dep.yaml"
note_seen() { "$WASMCTL" status dep 2>/dev/null | grep -q '^deploy: .*failed within'; }
verdict auto-rollback-in-status "$(wait_until note_seen && echo 1)" "$("$WASMCTL" status dep 2>&1)"
verdict auto-rollback-v2-back "$(on_disk v2 && wait_until is_active dep && echo 1)" "dep: $(field dep state); $(ls -lA "$DEPLOYED/dep/")"
verdict auto-rollback-logged "$(grep -q 'automatic rollback: dep' "$TMP/wasmd.log" && echo 1)" "$(tail -5 "$TMP/wasmd.log")"
verdict auto-rollback-history "$(history_json | grep -q '"outcome":"rolled back: exited with code 3"' && echo 1)" "$(history_json)"

# ---- pruning: the running unit, the one it replaced, and history_keep more --
for i in 4 5 6 7; do
    version "v$i" "$G/ticker.wasm" "10$i"
    "$WASMCTL" deploy "$SRC/v$i/dep.wasm" "$SRC/v$i/dep.yaml" >/dev/null 2>&1
done
verdict pruned "$(on_disk v7 && [ "$(units)" -le 4 ] && echo 1)" "$(units) units: $(ls -A "$DEPLOYED")"

# ---- remove: history and kept units go ------------------------------------
check_rc remove 0 -- "$WASMCTL" remove dep
verdict remove-deletes-all "$([ -z "$(ls -A "$DEPLOYED")" ] && echo 1)" "left: $(ls -A "$DEPLOYED")"

finish
