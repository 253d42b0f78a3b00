# test_deploy_crash.sh - deploys and removes survive a crash and a full disk.
#
# The daemon is killed (SIGKILL, through the WASMD_CRASH_POINT hook of
# daemon/deploy.c) at every step of a redeploy (v1 -> v2) and of a remove;
# after a restart the module must be exactly v1 or exactly v2 (manifest and
# module together, as the step implies), running, with nothing left over.
# Then a deploy into a state directory on a full file system fails cleanly
# and leaves no partial file behind.
. "$(dirname "$0")/lib.sh"

daemon_paths

start_daemon() { # start_daemon [ENV=VALUE]: waits until the socket answers
    env "$@" "$WASMD" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >>"$TMP/wasmd.log" 2>&1 &
    WASMD_PID=$!
    wait_for 30 "$WASMCTL" version >/dev/null 2>&1
}
stop_daemon() {
    if [ -n "${WASMD_PID:-}" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
        kill -TERM "$WASMD_PID"
        wait "$WASMD_PID" 2>/dev/null
    fi
    WASMD_PID=
}
trap stop_daemon EXIT

# Two versions that differ in both files: the module and the manifest.
cp "$G/ticker.wasm" "$SRC/v1.wasm"
cp "$G/spinner.wasm" "$SRC/v2.wasm"
mkdir -p "$SRC/v1" "$SRC/v2"
printf 'module: dep.wasm\nargs: [1000]\nrestart: never\n' >"$SRC/v1/dep.yaml"
printf 'module: dep.wasm\nrestart: never\n# version 2\n' >"$SRC/v2/dep.yaml"

# version_on_disk: v1 or v2 when the deployed unit is that version whole, else what it is.
version_on_disk() {
    local m=$DEPLOYED/dep/dep.yaml w=$DEPLOYED/dep/dep.wasm
    if [ ! -e "$DEPLOYED/dep" ]; then echo none
    elif cmp -s "$m" "$SRC/v1/dep.yaml" && cmp -s "$w" "$SRC/v1.wasm"; then echo v1
    elif cmp -s "$m" "$SRC/v2/dep.yaml" && cmp -s "$w" "$SRC/v2.wasm"; then echo v2
    else echo "mixed: $(ls -lR "$DEPLOYED" | tr '\n' ' ')"
    fi
}
# leftovers: hidden entries of the deploy directory besides the unit in use, the
# module's history (.history-dep) and the previous units it keeps for rollback.
leftovers() {
    local used e
    used=$(readlink "$DEPLOYED/dep" 2>/dev/null)
    for e in $(ls -A "$DEPLOYED" 2>/dev/null | grep '^\.'); do
        [ "$e" = "${used:-/}" ] && continue
        [ "$e" = .history-dep ] && [ -n "$used" ] && continue
        grep -q "\"$e\"" "$DEPLOYED/.history-dep" 2>/dev/null && [ -n "$used" ] && continue
        printf '%s ' "$e"
    done
}

# ---- Killed at each step of a redeploy -----------------------------------
# Steps 1-3 come before the switch (the old version must survive), 4 after it
# while the deploy waits for v2 to start, 5 after v2 has started and v1's unit is deleted.
for step in 1 2 3 4 5; do
    rm -rf "$STATE"
    start_daemon
    "$WASMCTL" deploy "$SRC/v1.wasm" "$SRC/v1/dep.yaml" >/dev/null 2>&1
    stop_daemon
    want=v1
    [ "$step" -ge 4 ] && want=v2
    start_daemon WASMD_CRASH_POINT="deploy-$step"
    "$WASMCTL" deploy "$SRC/v2.wasm" "$SRC/v2/dep.yaml" >"$TMP/stdout" 2>&1
    pid=$WASMD_PID
    wait "$pid" 2>/dev/null
    rc=$?
    verdict "deploy-crash-$step-killed" "$([ "$rc" = 137 ] && echo 1)" "wasmd exited $rc (expected 137, SIGKILL)"
    WASMD_PID=
    start_daemon
    got=$(version_on_disk)
    verdict "deploy-crash-$step-whole" "$([ "$got" = "$want" ] && echo 1)" "on disk: $got, expected $want"
    verdict "deploy-crash-$step-runs" "$(wait_for 10 is_active dep && echo 1)" "dep: $(field dep state)"
    verdict "deploy-crash-$step-cleaned" "$([ -z "$(leftovers)" ] && echo 1)" "left over: $(leftovers)"
    stop_daemon
done

# ---- Killed while a failed deploy rolls back -------------------------------
# v3 traps at once: the deploy fails and switches back to v1.  Killed before
# the switch back (rollback-1) v3 is on disk, whole; after it (rollback-2) v1.
cp "$G/trap.wasm" "$SRC/v3.wasm"
mkdir -p "$SRC/v3"
printf 'module: dep.wasm
restart: never
# version 3
' >"$SRC/v3/dep.yaml"
for step in 1 2; do
    rm -rf "$STATE"
    start_daemon
    "$WASMCTL" deploy "$SRC/v1.wasm" "$SRC/v1/dep.yaml" >/dev/null 2>&1
    stop_daemon
    start_daemon WASMD_CRASH_POINT="rollback-$step"
    "$WASMCTL" deploy "$SRC/v3.wasm" "$SRC/v3/dep.yaml" >"$TMP/stdout" 2>&1
    wait "$WASMD_PID" 2>/dev/null
    rc=$?
    WASMD_PID=
    verdict "rollback-crash-$step-killed" "$([ "$rc" = 137 ] && echo 1)" "wasmd exited $rc (expected 137, SIGKILL)"
    start_daemon
    got=$(version_on_disk)
    if [ "$got" != v1 ] && cmp -s "$DEPLOYED/dep/dep.yaml" "$SRC/v3/dep.yaml" && cmp -s "$DEPLOYED/dep/dep.wasm" "$SRC/v3.wasm"; then
        got=v3
    fi
    want=v3
    [ "$step" = 2 ] && want=v1
    verdict "rollback-crash-$step-whole" "$([ "$got" = "$want" ] && echo 1)" "on disk: $got, expected $want"
    verdict "rollback-crash-$step-cleaned" "$([ -z "$(leftovers)" ] && echo 1)" "left over: $(leftovers)"
    stop_daemon
done

# ---- Killed in the middle of a remove -------------------------------------
rm -rf "$STATE"
start_daemon
"$WASMCTL" deploy "$SRC/v1.wasm" "$SRC/v1/dep.yaml" >/dev/null 2>&1
stop_daemon
start_daemon WASMD_CRASH_POINT=remove-1
"$WASMCTL" remove dep >/dev/null 2>&1
wait "$WASMD_PID" 2>/dev/null
WASMD_PID=
start_daemon
verdict remove-crash-gone "$(! "$WASMCTL" status dep >/dev/null 2>&1 && [ "$(version_on_disk)" = none ] && echo 1)" \
    "dep: $(field dep state); on disk: $(version_on_disk)"
verdict remove-crash-cleaned "$([ -z "$(ls -A "$DEPLOYED")" ] && echo 1)" "left over: $(ls -A "$DEPLOYED" | tr '\n' ' ')"
stop_daemon

# ---- A full disk ----------------------------------------------------------
# A small tmpfs as the state directory (needs root, as CI has); the module is
# larger than the free space, so writing it fails with ENOSPC.
FULL=$TMP/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=64k tmpfs "$FULL" 2>/dev/null; then
    # A valid module with a 200 kB custom section.
    python3 "$(dirname "$0")/pad_module.py" "$G/ticker.wasm" "$SRC/big.wasm" 200000
    "$WASMD" --modules-dir "$MODS" --state-dir "$FULL" --socket "$SOCK" >>"$TMP/wasmd.log" 2>&1 &
    WASMD_PID=$!
    wait_for 30 "$WASMCTL" version >/dev/null 2>&1
    printf 'module: big.wasm\nrestart: never\n' >"$SRC/big.yaml"
    check_err deploy-enospc 1 "No space left on device" -- "$WASMCTL" deploy "$SRC/big.wasm" "$SRC/big.yaml"
    verdict deploy-enospc-nothing-left "$([ -z "$(ls -A "$FULL/modules")" ] && echo 1)" "left: $(ls -AR "$FULL")"
    verdict deploy-enospc-space-back "$([ "$(du -sk "$FULL" | cut -f1)" -le 4 ] && echo 1)" "$(du -sk "$FULL")"
    stop_daemon
    umount "$FULL"
else
    echo "skip deploy-enospc: cannot mount a tmpfs here (not root?)"
fi

finish
