# test_admin.sh - administering a running wasmd: reload (wasmctl reload and
# SIGHUP) adds, removes and restarts modules while an unchanged one keeps
# running (its uptime continues); deploy and remove; validate and inspect
# (offline) with their exit codes; sd_notify messages seen on a
# NOTIFY_SOCKET of our own; socket activation; hundreds of concurrent
# clients and a client that disconnects in the middle of a deploy.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
STATE=$TMP/state          # deployed modules: $STATE/modules/NAME -> .unit-XXXXXX
DEPLOYED=$STATE/modules
SRC=$TMP/src
mkdir -p "$MODS" "$SRC"
export WASMD_SOCKET=$SOCK


# ---- Modules -------------------------------------------------------------

cp "$G/ticker.wasm" "$SRC/ticker.wasm"
# No previous versions kept and no health window: a redeploy replaces the unit (test_rollback.sh has those).
printf 'socket_group: %s\nhistory_keep: 0\nhealth_window_s: 0\n' "$(id -gn)" > "$TMP/wasmd.yaml"
manifest() { # manifest FILE INTERVAL: a ticker that runs forever
    printf 'module: %s\nargs: [%s]\nrestart: never\n' "$SRC/ticker.wasm" "$2" > "$1"
}
manifest "$MODS/keep.yaml" 100
manifest "$MODS/gone.yaml" 100
manifest "$MODS/change.yaml" 100

# Modules for validate, inspect and deploy: one importing something wasmd lacks, and garbage.
cat > "$TMP/needs.wat" <<'WAT'
(module
  (import "env" "frobnicate" (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1 4)
  (table (export "tab") 2 funcref)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "_start")))
WAT
wat2wasm "$TMP/needs.wat" -o "$SRC/needs.wasm"
printf 'not a module' > "$SRC/garbage.wasm"

# ---- sd_notify listener --------------------------------------------------

NOTIFY=$TMP/notify.sock
python3 - "$NOTIFY" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        data = s.recv(4096).decode()
        log.write(data.replace("\n", "|") + "\n")
        log.flush()
        if "STOPPING=1" in data:
            break
PY
NOTIFY_PID=$!
wait_for 5 test -S "$NOTIFY"

NOTIFY_SOCKET=$NOTIFY "$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
cleanup() {
    [ -n "${WASMD_PID:-}" ] && kill -TERM "$WASMD_PID" 2>/dev/null && wait "$WASMD_PID" 2>/dev/null
    [ -n "${ACT_PID:-}" ] && kill -TERM "$ACT_PID" 2>/dev/null
    kill "$NOTIFY_PID" 2>/dev/null
}
trap cleanup EXIT

wait_for 5 test -S "$SOCK"
verdict daemon-up "$([ -S "$SOCK" ] && echo 1)" "$(head -c 300 "$TMP/wasmd.log")"
wait_for 5 grep -q 'READY=1' "$TMP/notify.log"
verdict notify-ready "$(grep -q 'READY=1' "$TMP/notify.log" && echo 1)" "$(cat "$TMP/notify.log")"
wait_for 5 grep -q 'STATUS=3 modules: 3 waiting' "$TMP/notify.log"
verdict notify-status "$(grep -q 'STATUS=3 modules: 3 waiting' "$TMP/notify.log" && echo 1)" "$(cat "$TMP/notify.log")"

# ---- Reload with wasmctl -------------------------------------------------

wait_for 5 is_active keep
up_1s() { [ "$(numfield keep uptime_ms)" -ge 1000 ]; }
wait_until up_1s
up0=$(numfield keep uptime_ms)
manifest "$MODS/new.yaml" 100
rm "$MODS/gone.yaml"
manifest "$MODS/change.yaml" 50
printf 'module: %s\nno_such_key: 1\n' "$SRC/ticker.wasm" > "$MODS/bad.yaml"
check_rc reload-bad-manifest 8 -- "$WASMCTL" reload
verdict reload-output "$(grep -q '^added  *new$' "$TMP/stdout" && grep -q '^removed  *gone$' "$TMP/stdout" &&
    grep -q '^restarted  *change$' "$TMP/stdout" && grep -q '^unchanged  *keep$' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
verdict reload-error-position "$(grep -q 'bad.yaml:2:1: .*no_such_key' "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"
up1=$(numfield keep uptime_ms)
verdict reload-unchanged-keeps-uptime "$([ "$up1" -ge "$up0" ] && [ "$up0" -ge 900 ] && echo 1)" "uptime $up0 then $up1"
verdict reload-added "$(wait_for 5 is_active new && echo 1)" "new: $(field new state)"
check_err reload-removed 4 "no module named" -- "$WASMCTL" status gone
verdict reload-restarted "$([ "$(numfield change uptime_ms)" -lt "$up1" ] && echo 1)" "change uptime $(numfield change uptime_ms)"
verdict reload-bad-not-listed "$(! "$WASMCTL" list | grep -q '^bad ' && echo 1)" "bad listed"
check_rc reload-json 8 -- "$WASMCTL" --json reload
verdict reload-json-format "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["unchanged"]==["change","keep","new"] and len(r["errors"])==1' "$TMP/stdout" 2>/dev/null && echo 1)" "$(cat "$TMP/stdout")"

# ---- Reload on SIGHUP ------------------------------------------------------

rm "$MODS/bad.yaml"
up0=$(numfield keep uptime_ms)
printf 'module: %s\nargs: [oops\n' "$SRC/ticker.wasm" > "$MODS/change.yaml"   # now bad: change keeps running
manifest "$MODS/hup.yaml" 100
rm "$MODS/new.yaml"
kill -HUP "$WASMD_PID"
verdict sighup-added "$(wait_for 5 is_active hup && echo 1)" "hup: $(field hup state)"
verdict sighup-removed "$(wait_for 5 sh -c "! '$WASMCTL' status new >/dev/null 2>&1" && echo 1)" "new still there"
verdict sighup-bad-keeps-old "$([ "$(active change)" = 1 ] && echo 1)" "change: $(field change state)"
verdict sighup-error-logged "$(grep -q 'change.yaml:3:1: syntax error' "$TMP/wasmd.log" && echo 1)" "$(tail -5 "$TMP/wasmd.log")"
verdict sighup-unchanged-keeps-uptime "$([ "$(numfield keep uptime_ms)" -ge "$up0" ] && echo 1)" "keep uptime $up0 then $(numfield keep uptime_ms)"
verdict notify-reloading "$(grep -q 'RELOADING=1' "$TMP/notify.log" && echo 1)" "$(cat "$TMP/notify.log")"
manifest "$MODS/change.yaml" 50

# ---- deploy and remove ---------------------------------------------------

printf 'module: dep.wasm\nargs: [100]\nrestart: never\n' > "$SRC/dep.yaml"
check_rc deploy 0 -- "$WASMCTL" deploy "$SRC/ticker.wasm" "$SRC/dep.yaml"
verdict deploy-files "$(cmp -s "$DEPLOYED/dep/dep.wasm" "$SRC/ticker.wasm" && cmp -s "$DEPLOYED/dep/dep.yaml" "$SRC/dep.yaml" && echo 1)" "$(ls -aR "$STATE")"
verdict deploy-not-in-modules-dir "$([ ! -e "$MODS/dep.yaml" ] && [ ! -e "$MODS/dep.wasm" ] && echo 1)" "$(ls -A "$MODS")"
verdict deploy-running "$(wait_for 5 is_active dep && echo 1)" "dep: $(field dep state)"
verdict deploy-one-unit "$([ "$(ls -A "$DEPLOYED" | grep -c '^\.unit-')" = 1 ] && [ "$(ls -A "$DEPLOYED" | grep -vc '^\.history-')" = 2 ] && echo 1)" "$(ls -A "$DEPLOYED")"
# Deploying it again replaces it (an upgrade).
check_rc deploy-again 0 -- "$WASMCTL" deploy "$SRC/ticker.wasm" "$SRC/dep.yaml"
verdict deploy-again-replaces-unit "$([ "$(ls -A "$DEPLOYED" | grep -c '^\.unit-')" = 1 ] && echo 1)" "$(ls -A "$DEPLOYED")"
# A reload afterwards sees the deployed manifest as unchanged.
check_rc reload-after-deploy 0 -- "$WASMCTL" reload
verdict reload-after-deploy-unchanged "$(grep -q '^unchanged  *dep$' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"

before=$(ls -A "$MODS" "$DEPLOYED")
printf 'module: bad.wasm\nrestart: never\n' > "$SRC/badmod.yaml"
check_err deploy-bad-module 8 "magic header" -- "$WASMCTL" deploy "$SRC/garbage.wasm" "$SRC/badmod.yaml"
printf 'module: nm.wasm\nrestart: sometimes\n' > "$SRC/badman.yaml"
check_err deploy-bad-manifest 8 "badman.yaml:2:10: .*sometimes" -- "$WASMCTL" deploy "$SRC/ticker.wasm" "$SRC/badman.yaml"
verdict deploy-error-once "$([ "$(grep -c 'badman.yaml:2:10' "$TMP/stderr")" = 1 ] && echo 1)" "$(cat "$TMP/stderr")"
printf 'module: needs.wasm\n' > "$SRC/needs.yaml"
check_err deploy-unsatisfied-import 8 "env.frobnicate (func): not provided" -- "$WASMCTL" deploy "$SRC/needs.wasm" "$SRC/needs.yaml"
printf 'module: sub/x.wasm\n' > "$SRC/subdir.yaml"
# A module using GPIO with a manifest that grants none: refused, naming the capability and the import.
printf 'module: blinky.wasm\n' >"$SRC/nogpio.yaml"
check_err deploy-ungranted-capability 8 "capability gpio not granted: the module imports wasmd.gpio_request" -- \
    "$WASMCTL" deploy "$BUILD/examples/blinky.wasm" "$SRC/nogpio.yaml"
check_err validate-ungranted-capability 8 "capability gpio not granted: the module imports wasmd.gpio_set" -- \
    "$WASMCTL" validate "$SRC/nogpio.yaml" "$BUILD/examples/blinky.wasm"
check_err deploy-module-path 8 "plain file name" -- "$WASMCTL" deploy "$SRC/ticker.wasm" "$SRC/subdir.yaml"
verdict deploy-refused-writes-nothing "$([ "$(ls -A "$MODS" "$DEPLOYED")" = "$before" ] && echo 1)" "before: $before; after: $(ls -A "$MODS" "$DEPLOYED")"
check_err deploy-usage 2 "names no source: url: give FILE.wasm or URL too" -- "$WASMCTL" deploy "$SRC/ticker.wasm"

check remove 0 "dep: removed" -- "$WASMCTL" remove dep
verdict remove-files "$([ -z "$(ls -A "$DEPLOYED")" ] && echo 1)" "$(ls -A "$DEPLOYED")"
check_err remove-forgotten 4 "no module named" -- "$WASMCTL" status dep
check_err remove-unknown 4 "no module named" -- "$WASMCTL" remove dep
# A module outside the modules directory is not deleted with its manifest.
check remove-keeps-outside-module 0 "hup: removed" -- "$WASMCTL" remove hup
verdict remove-outside-module-kept "$([ ! -e "$MODS/hup.yaml" ] && [ -e "$SRC/ticker.wasm" ] && echo 1)" "$(ls -A "$MODS" "$SRC")"

# ---- validate and inspect (offline) ---------------------------------------

unset WASMD_SOCKET
check_rc validate-ok 0 -- "$WASMCTL" --socket /nonexistent validate "$MODS/keep.yaml"
verdict validate-ok-output "$(grep -q 'keep.yaml: ok (module keep' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_rc validate-with-module 0 -- "$WASMCTL" validate "$SRC/dep.yaml" "$SRC/ticker.wasm"
check_err validate-bad-manifest 8 "badman.yaml:2:10: " -- "$WASMCTL" validate "$SRC/badman.yaml"
check_err validate-missing-manifest 1 "nothere.yaml" -- "$WASMCTL" validate "$SRC/nothere.yaml"
check_err validate-bad-module 8 "garbage.wasm: offset 0x.*magic header" -- "$WASMCTL" validate "$SRC/badmod.yaml" "$SRC/garbage.wasm"
check_err validate-missing-module 1 "dep.wasm: No such file" -- "$WASMCTL" validate "$SRC/dep.yaml"
check_err validate-unsatisfied 8 "needs.wasm: import env.frobnicate (func): not provided by wasmd" -- \
    "$WASMCTL" validate "$SRC/needs.yaml" "$SRC/needs.wasm"
check_err validate-usage 2 "validate needs MANIFEST.yaml" -- "$WASMCTL" validate

check_rc inspect 0 -- "$WASMCTL" inspect "$SRC/ticker.wasm"
verdict inspect-output "$(grep -q '^capabilities: wasi$' "$TMP/stdout" && grep -q '_start  *func () -> ()' "$TMP/stdout" &&
    grep -q 'wasi_snapshot_preview1.fd_write  *func (i32, i32, i32, i32) -> (i32)  *wasi' "$TMP/stdout" && echo 1)" "$(head -c 800 "$TMP/stdout")"
check_rc inspect-unsatisfied 8 -- "$WASMCTL" inspect "$SRC/needs.wasm"
verdict inspect-details "$(grep -q '^unsatisfied:  *env.frobnicate' "$TMP/stdout" && grep -q 'memory  *memory 1..4 pages' "$TMP/stdout" &&
    grep -q 'tab  *table funcref 2..' "$TMP/stdout" && grep -q 'g  *global mut i32' "$TMP/stdout" &&
    grep -q 'env.frobnicate  *func (i32) -> (i32)  *(not provided)' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_rc inspect-json 8 -- "$WASMCTL" --json inspect "$SRC/needs.wasm"
verdict inspect-json-format "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["capabilities"] == ["wasi"] and r["unsatisfied"] == ["env.frobnicate"]
assert r["memories"] == [{"min_pages": 1, "max_pages": 4, "imported": False}]
assert {"name": "_start", "kind": "func", "type": "func () -> ()"} in r["exports"]' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
# The daemon's own imports are recognised, with their capability.
cat > "$TMP/host.wat" <<'WAT'
(module
  (import "wasmd" "timer_start" (func (param i32 i32 i32) (result i32)))
  (import "wasmd" "timer_stop" (func (param i32) (result i32)))
  (import "wasmd" "log" (func (param i64) (result i32))))
WAT
wat2wasm "$TMP/host.wat" -o "$SRC/host.wasm"
check_rc inspect-host-imports 8 -- "$WASMCTL" inspect "$SRC/host.wasm"
verdict inspect-host-capabilities "$(grep -q '^capabilities: wasmd timers, wasmd log$' "$TMP/stdout" &&
    grep -q '^problem: *import wasmd.log: incompatible import type' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_err validate-host-import-type 8 "import wasmd.log: incompatible import type" -- "$WASMCTL" validate "$SRC/needs.yaml" "$SRC/host.wasm"
check_err inspect-garbage 8 "magic header" -- "$WASMCTL" inspect "$SRC/garbage.wasm"
check_err inspect-missing 1 "No such file" -- "$WASMCTL" inspect "$SRC/nothere.wasm"
export WASMD_SOCKET=$SOCK

# ---- reload: load errors are failures, not retried (defect 5) -----------------

printf 'module: %s\nrestart: on-failure\n' "$SRC/nothere.wasm" > "$MODS/missing.yaml"
printf 'module: %s\nrestart: always\n' "$SRC/garbage.wasm" > "$MODS/garbage.yaml"
head -c 200 "$SRC/ticker.wasm" > "$SRC/trunc.wasm"
printf 'module: %s\n' "$SRC/trunc.wasm" > "$MODS/trunc.yaml"
printf 'module: %s\n' "$BUILD/examples/blinky.wasm" > "$MODS/nocap.yaml"
check_rc reload-load-errors 8 -- "$WASMCTL" --json reload
verdict reload-load-errors-failed "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["failed"] == ["garbage", "missing", "nocap", "trunc"], r
assert r["added"] == [], r
e = " ".join(r["errors"])
assert "missing.yaml: cannot read" in e and "No such file" in e and "garbage.yaml: " in e and "magic header" in e, e
assert "trunc.yaml: " in e and "capability gpio not granted" in e, e' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
verdict load-error-reason "$([ "$(field missing state)" = failed ] && field missing reason | grep -q 'No such file' && echo 1)" \
    "missing: $(field missing state): $(field missing reason)"
# Not retried: no restart is scheduled, whatever the restart policy, and the log says why.
verdict load-error-not-retried "$([ "$(numfield garbage restart_in_ms)" = -1 ] && [ "$(numfield missing restart_in_ms)" = -1 ] &&
    [ "$(numfield garbage restarts)" = 0 ] && "$WASMCTL" logs -o cat garbage | grep -q 'not restarting: the module cannot be loaded' && echo 1)" \
    "garbage: restart in $(numfield garbage restart_in_ms) ms, $(numfield garbage restarts) restarts; $("$WASMCTL" logs -o cat garbage | tail -3 | tr '\n' '|')"
# Its module fixed (the manifest unchanged), a reload starts it again.
cp "$SRC/ticker.wasm" "$SRC/nothere.wasm"
check_rc reload-fixed-module 8 -- "$WASMCTL" --json reload
verdict reload-fixed-module-restarted "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert "missing" in r["restarted"] and r["failed"] == ["garbage", "nocap", "trunc"], r' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
rm -f "$MODS/missing.yaml" "$MODS/garbage.yaml" "$MODS/trunc.yaml" "$MODS/nocap.yaml"
check_rc reload-load-errors-gone 0 -- "$WASMCTL" reload

# restart waits for the new run, and fails with the reason when it cannot load (defects 5, 7).
cp "$SRC/ticker.wasm" "$SRC/brk.wasm"
printf 'module: %s\nargs: [100]\nrestart: on-failure\n' "$SRC/brk.wasm" > "$MODS/brk.yaml"
check_rc reload-brk 0 -- "$WASMCTL" reload
check_rc restart-brk 0 -- "$WASMCTL" restart brk
verdict restart-waits "$(grep -Eq '^brk: (running|waiting)$' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
rm "$SRC/brk.wasm"
check_err restart-load-error 1 "restart: brk failed: cannot read $SRC/brk.wasm: No such file" -- "$WASMCTL" restart brk
check_rc restart-load-error-json 1 -- "$WASMCTL" --json restart brk
verdict restart-load-error-doc "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == 1 and r["status"] == "failed" and r["instance"]["state"] == "failed" and "No such file" in r["error"], r' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
rm "$MODS/brk.yaml"

# ---- Module paths are shown normalised (defect 10) ---------------------------

printf 'module: ../src/./ticker.wasm\nargs: [100]\nrestart: never\n' > "$MODS/rel.yaml"
check_rc reload-rel 0 -- "$WASMCTL" reload
verdict module-path-normalised "$([ "$(field rel module)" = "$SRC/ticker.wasm" ] && echo 1)" "module: $(field rel module)"
rm "$MODS/rel.yaml"
check_rc reload-rel-gone 0 -- "$WASMCTL" reload

# ---- A running module whose manifest turns bad (defect 13) -------------------

wait_for 5 is_active keep
printf 'module: %s\nargs: [100]\nrestart: nope\n' "$SRC/ticker.wasm" > "$MODS/keep.yaml"
check_rc reload-keep-bad 8 -- "$WASMCTL" --json reload
verdict reload-lists-kept "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kept"] == ["keep"] and "keep" not in r["unchanged"] + r["removed"], r
assert any("keep.yaml:3:10: " in e for e in r["errors"]), r' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
check_rc list-keep-bad 0 -- "$WASMCTL" --json list
verdict list-shows-manifest-error "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
k = [i for i in r["instances"] if i["name"] == "keep"][0]
assert k["state"] in ("running", "waiting") and "keep.yaml:3:10: " in k["manifest_error"], k' "$TMP/stdout" 2>&1 && echo 1)" "$(cat "$TMP/stdout")"
check_rc status-keep-bad 0 -- "$WASMCTL" status keep
verdict status-notes-manifest-error "$(grep -q '^manifest: .*keep.yaml:3:10: ' "$TMP/stdout" && grep -q 'last good manifest' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
manifest "$MODS/keep.yaml" 100
check_rc reload-keep-good 0 -- "$WASMCTL" reload
verdict manifest-error-cleared "$([ -z "$(field keep manifest_error)" ] && grep -q '^unchanged  *keep$' "$TMP/stdout" && echo 1)" \
    "$(field keep manifest_error); $(cat "$TMP/stdout")"

# ---- Many clients, and one that goes away mid-deploy ----------------------

pids=
for i in $(seq 300); do
    "$WASMCTL" list >/dev/null 2>"$TMP/client.$i" &
    pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
verdict concurrent-300-clients "$([ "$bad" = 0 ] && echo 1)" "$bad of 300 failed: $(cat "$TMP"/client.* | sort | uniq -c | head -3)"

python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"verb":"deploy","file":"half.yaml","manifest":"module: half.wasm\\n","module_size":100000}\n' + b'\0asm' + b'x' * 5000)
s.close()
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"verb":"li')
s.close()
PY
check_rc alive-after-disconnects 0 -- "$WASMCTL" list
verdict disconnect-wrote-nothing "$([ ! -e "$MODS/half.yaml" ] && [ -z "$(ls -A "$MODS" | grep '^\.')" ] && echo 1)" "$(ls -A "$MODS")"

# ---- Shutdown: STOPPING=1 ---------------------------------------------------

kill -TERM "$WASMD_PID"
wait "$WASMD_PID"
rc=$?
WASMD_PID=
verdict shutdown-clean "$([ "$rc" = 0 ] && echo 1)" "exit $rc: $(tail -c 300 "$TMP/wasmd.log")"
wait_for 5 grep -q 'STOPPING=1' "$TMP/notify.log"
verdict notify-stopping "$(grep -q 'STOPPING=1' "$TMP/notify.log" && echo 1)" "$(cat "$TMP/notify.log")"
verdict no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/wasmd.log" && echo 1)" "$(grep -A5 'Sanitizer' "$TMP/wasmd.log" | head -c 600)"

# ---- Socket activation ----------------------------------------------------

if command -v systemd-socket-activate >/dev/null; then
    ASOCK=$TMP/activated.sock
    systemd-socket-activate -l "$ASOCK" "$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$STATE" \
        --socket "$TMP/unused.sock" >"$TMP/act.log" 2>&1 &
    ACT_PID=$!
    wait_for 5 test -S "$ASOCK"
    check_rc socket-activation 0 -- "$WASMCTL" --socket "$ASOCK" list
    verdict socket-activation-list "$(grep -q '^keep ' "$TMP/stdout" && [ ! -e "$TMP/unused.sock" ] && echo 1)" \
        "$(cat "$TMP/stdout") $(head -c 300 "$TMP/act.log")"
    kill -TERM "$ACT_PID" 2>/dev/null
    wait "$ACT_PID" 2>/dev/null
    ACT_PID=
    verdict socket-activation-no-sanitizer "$(! grep -q 'Sanitizer' "$TMP/act.log" && echo 1)" "$(grep -A5 Sanitizer "$TMP/act.log" | head -c 600)"
else
    echo "skip socket-activation: systemd-socket-activate not installed"
fi

# ---- Hints and causes ------------------------------------------------------

check_err unknown-verb-suggests 2 'unknown command "stauts"; did you mean "status"?' -- "$WASMCTL" stauts keep
verdict unknown-verb-no-help-dump "$([ "$(wc -l <"$TMP/stderr")" -le 2 ] && echo 1)" "$(head -5 "$TMP/stderr")"
printf 'module: x.wasm\nrestrt: never\n' >"$SRC/typo.yaml"
check_err misspelled-key-suggests 8 "typo.yaml:2:1: unknown key 'restrt' in manifest: did you mean 'restart'?" -- \
    "$WASMCTL" validate "$SRC/typo.yaml"
# The socket's directory: made when missing (one level), else the real cause.
check_err socket-dir-missing 1 "cannot create the socket's directory $TMP/no/such: No such file or directory" -- \
    "$WASMD" --modules-dir "$MODS" --state-dir "$STATE" --socket "$TMP/no/such/wasmd.sock"
mkdir -p "$TMP/empty.d"
"$WASMD" --modules-dir "$TMP/empty.d" --state-dir "$STATE" --socket "$TMP/made/wasmd.sock" >"$TMP/made.log" 2>&1 &
MADE_PID=$!
verdict socket-dir-made "$(wait_for 30 "$WASMCTL" --socket "$TMP/made/wasmd.sock" version >/dev/null 2>&1 && echo 1)" \
    "$(head -c 300 "$TMP/made.log")"
kill -TERM "$MADE_PID" 2>/dev/null
wait "$MADE_PID" 2>/dev/null

finish
