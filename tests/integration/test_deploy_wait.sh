# test_deploy_wait.sh - a deploy waits for its module's outcome.
#
# `wasmctl deploy` answers once the module has started (a command entered
# _start or exited 0, a reactor's wasmd_init returned).  A module that fails
# to start -- its GPIO line held by another module, a trap in _start, a
# wasmd_init that reports failure -- makes the deploy exit 1 with the reason,
# and leaves the previous state as it was: nothing installed for a new name;
# for a redeploy the previous unit back on disk and running again if it ran
# (stopped if it was stopped).  The failed version is not left crash-looping.
. "$(dirname "$0")/lib.sh"

daemon_paths

cat >"$TMP/wasmd.yaml" <<YAML
hardware:
  gpio:
    backend: sim
YAML
gpio_manifest() { # FILE NAME: blinky on gpiochip0 line 17
    printf 'name: %s\nmodule: %s\nstop_timeout_ms: 500\ncapabilities:\n  gpio:\n    - {label: led, chip: gpiochip0, line: 17, direction: output}\n' \
        "$2" "$3" >"$1"
}
gpio_manifest "$MODS/blinky.yaml" blinky "$BUILD/examples/blinky.wasm"
cp "$BUILD/examples/blinky.wasm" "$SRC/blinky2.wasm"
gpio_manifest "$SRC/blinky2.yaml" blinky2 blinky2.wasm
cp "$G/ticker.wasm" "$SRC/ticker.wasm"
cp "$G/trap.wasm" "$SRC/trap.wasm"
cp "$G/reactor_initfail.wasm" "$SRC/initfail.wasm"
cp "$G/command_log.wasm" "$SRC/once.wasm"
mkdir -p "$SRC/v1" "$SRC/bad" "$SRC/init" "$SRC/once"
printf 'module: dep.wasm\nargs: [200]\nrestart: never\n' >"$SRC/v1/dep.yaml"
printf 'module: dep.wasm\n# traps at once, restart on-failure (the default)\n' >"$SRC/bad/dep.yaml"
printf 'module: dep.wasm\n# wasmd_init returns 7\n' >"$SRC/init/dep.yaml"
printf 'module: once.wasm\nrestart: never\n' >"$SRC/once/once.yaml"

"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null' EXIT
wait_socket "$SOCK"
wait_until is_active blinky

# ---- A new module whose line is held: refused, nothing installed ---------
check_err held-line-fails 1 "blinky2 failed to start: .*held by module blinky" -- \
    "$WASMCTL" deploy "$SRC/blinky2.wasm" "$SRC/blinky2.yaml"
verdict held-line-says-nothing-installed "$(grep -q 'nothing was installed' "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"
verdict held-line-no-unit "$([ -z "$(ls -A "$DEPLOYED" 2>/dev/null)" ] && echo 1)" "left: $(ls -A "$DEPLOYED")"
check_rc held-line-no-instance 4 -- "$WASMCTL" status blinky2
verdict held-line-holder-runs "$(is_active blinky && echo 1)" "blinky: $(field blinky state)"
"$WASMCTL" --json deploy "$SRC/blinky2.wasm" "$SRC/blinky2.yaml" >"$TMP/json" 2>/dev/null
verdict held-line-json "$(grep -q '"status":"failed"' "$TMP/json" && grep -q '"exit":1' "$TMP/json" && echo 1)" "$(cat "$TMP/json")"

# ---- A good version, then a bad one: the good one comes back -------------
cp "$SRC/ticker.wasm" "$SRC/v1/dep.wasm"
check_rc deploy-v1 0 -- "$WASMCTL" deploy "$SRC/v1/dep.wasm" "$SRC/v1/dep.yaml"
verdict deploy-v1-started "$(grep -Eqx 'dep: (running|waiting)' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
unit_v1=$(readlink "$DEPLOYED/dep")
cp "$SRC/trap.wasm" "$SRC/bad/dep.wasm"
check_err trap-fails 1 "dep failed to start: trap" -- "$WASMCTL" deploy "$SRC/bad/dep.wasm" "$SRC/bad/dep.yaml"
verdict trap-says-back "$(grep -q 'previous version is back and running' "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"
verdict trap-old-unit "$([ "$(readlink "$DEPLOYED/dep")" = "$unit_v1" ] && cmp -s "$DEPLOYED/dep/dep.yaml" "$SRC/v1/dep.yaml" && echo 1)" \
    "$(ls -laR "$DEPLOYED")"
verdict trap-one-unit "$([ "$(ls -A "$DEPLOYED" | grep -c '^\.unit-')" = 1 ] && echo 1)" "$(ls -A "$DEPLOYED")"
verdict trap-old-runs "$(wait_until is_active dep && echo 1)" "dep: $(field dep state)"
verdict trap-old-is-v1 "$([ "$(field dep module)" = "$DEPLOYED/dep/dep.wasm" ] && wait_until log_count_at_least dep '^tick' 1 && echo 1)" \
    "$("$WASMCTL" logs dep 2>&1 | tail -3)"

# wasmd_init returning non-zero: refused the same way.
cp "$SRC/initfail.wasm" "$SRC/init/dep.wasm"
check_err initfail-fails 1 "dep failed to start: wasmd_init returned 7" -- "$WASMCTL" deploy "$SRC/init/dep.wasm" "$SRC/init/dep.yaml"
verdict initfail-old-unit "$([ "$(readlink "$DEPLOYED/dep")" = "$unit_v1" ] && echo 1)" "$(ls -la "$DEPLOYED")"

# A stopped previous version comes back stopped.
"$WASMCTL" stop dep >/dev/null 2>&1
check_err stopped-trap-fails 1 "previous version is back" -- "$WASMCTL" deploy "$SRC/bad/dep.wasm" "$SRC/bad/dep.yaml"
verdict stopped-stays-stopped "$([ "$(field dep state)" = stopped ] && echo 1)" "dep: $(field dep state)"

# ---- A command that exits 0 at once is a success -------------------------
cp "$SRC/once.wasm" "$SRC/once/once.wasm"
check deploy-command-exits-0 0 "once: stopped" -- "$WASMCTL" deploy "$SRC/once/once.wasm" "$SRC/once/once.yaml"

finish
