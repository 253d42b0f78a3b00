# test_observe.sh - watching modules: logs with times and streams (one
# module or all, --since/--until, -n, -f, JSON Lines of one shape), the
# daemon's lifecycle events in the same log (start, exit, trap with its
# backtrace), `logs -f` ending with exit 3 when the daemon stops, the
# per-module figures (list, status, top) and the metrics in the Prometheus
# text format (`wasmctl metrics` and the textfile the config names),
# checked with a strict parser of the format.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
PROM=$TMP/prom
mkdir -p "$MODS" "$PROM"
export WASMD_SOCKET=$SOCK

printf 'module: %s\nargs: [50]\nrestart: never\n' "$G/ticker.wasm" > "$MODS/tick.yaml"
printf 'module: %s\nargs: [10, 3]\nrestart: never\n' "$G/ticker.wasm" > "$MODS/once.yaml"
printf 'module: %s\nrestart: never\n' "$G/trap.wasm" > "$MODS/trap.yaml"
printf 'socket_group: %s\nmetrics:\n  textfile_dir: %s\n  interval_ms: 100\n' "$(id -gn)" "$PROM" > "$TMP/wasmd.yaml"

# A bad metrics key is refused with its place.
printf 'metrics:\n  interval_ms: 5\n' > "$TMP/bad.yaml"
check_err metrics-config-checked 1 "bad.yaml:2:16: .*interval_ms" -- "$WASMD" --config "$TMP/bad.yaml" --modules-dir "$MODS" --socket "$TMP/bad.sock"

"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$TMP/state" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null' EXIT
wait_socket "$SOCK"
wait_for 5 is_active tick
wait_state trap failed >/dev/null
wait_state once stopped >/dev/null
wait_log_count tick '^tick' 3

# ---- logs ------------------------------------------------------------------------

check_rc logs-times 0 -- "$WASMCTL" logs -n 2 tick
verdict logs-every-line-timed "$([ "$(wc -l < "$TMP/stdout")" = 2 ] &&
    ! grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} (tick [0-9]+|\[wasmd\] .*)' "$TMP/stdout" && echo 1)" \
    "$(cat "$TMP/stdout")"
# Lifecycle events in the module's log: started, the output, the trap with its backtrace.
check_rc logs-json 0 -- "$WASMCTL" --json logs trap
verdict logs-json-shape "$(python3 -c '
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) >= 4, rows
for r in rows:
    assert set(r) >= {"time", "time_us", "module", "stream", "message"}, r
    assert r["module"] == "trap" and r["stream"] in ("stdout", "stderr", "log", "event"), r
    t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs(t.timestamp() * 1e6 - r["time_us"]) < 2, r
    assert ("level" in r) == (r["stream"] == "log"), r
msgs = [(r["stream"], r["message"]) for r in rows]
assert ("event", "started (command)") in msgs, msgs
assert ("stdout", "about to trap") in msgs, msgs
assert any(s == "event" and m.startswith("backtrace: #0 crash") for s, m in msgs), msgs
assert any(s == "event" and m.startswith("failed: trap: unreachable") for s, m in msgs), msgs
failed = [i for i, (s, m) in enumerate(msgs) if m.startswith("failed: trap")][0]
assert msgs[failed + 1][1].startswith("backtrace: "), msgs  # the backtrace right after the failure
assert msgs.index(("stdout", "about to trap")) < failed, msgs  # the last output of the module before it
assert [r["time_us"] for r in rows] == sorted(r["time_us"] for r in rows), rows' "$TMP/stdout" 2>&1 && echo 1)" \
    "$(head -c 1500 "$TMP/stdout")"
check_rc logs-exit-event 0 -- "$WASMCTL" logs -o cat once
verdict logs-exit-event-text "$(grep -q '^\[wasmd\] stopped: exited with code 0$\|^\[wasmd\] stopped: exited: _start returned$' "$TMP/stdout" && echo 1)" \
    "$(cat "$TMP/stdout")"

# Every module's log at once, merged by time, each line with its module.
check_rc logs-all 0 -- "$WASMCTL" logs -o cat
verdict logs-all-prefixed "$(grep -q '^tick: tick [0-9]' "$TMP/stdout" && grep -q '^trap: about to trap$' "$TMP/stdout" &&
    grep -q '^once: \[wasmd\] started (command)$' "$TMP/stdout" && ! grep -Evq '^(tick|once|trap): ' "$TMP/stdout" && echo 1)" \
    "$(head -c 600 "$TMP/stdout")"
check_rc logs-all-json 0 -- "$WASMCTL" --json logs -n 5
verdict logs-all-merged "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 5, len(rows)
assert [r["time_us"] for r in rows] == sorted(r["time_us"] for r in rows), rows' "$TMP/stdout" 2>&1 && echo 1)" "$(head -c 600 "$TMP/stdout")"

# --since and --until: trap logs nothing more, so a time taken now splits its log exactly.
n_trap=$("$WASMCTL" logs -o cat trap | wc -l)
now=$(date +%s.%N)
check since-now 0 0 -- sh -c "'$WASMCTL' logs --since @$now trap | wc -l"
check until-now 0 "$n_trap" -- sh -c "'$WASMCTL' logs --until @$now trap | wc -l"
check since-relative 0 "$n_trap" -- sh -c "'$WASMCTL' logs --since '1 hour ago' trap | wc -l"
check since-relative-short 0 "$n_trap" -- sh -c "'$WASMCTL' logs --since -1h trap | wc -l"
check since-date 0 "$n_trap" -- sh -c "'$WASMCTL' logs --since '2000-01-01 00:00:00' trap | wc -l"
check since-iso 0 "$n_trap" -- sh -c "'$WASMCTL' logs -S 2000-01-01T00:00:00Z trap | wc -l"
check until-past 0 0 -- sh -c "'$WASMCTL' logs --until '2000-01-01T00:00:00+01:00' trap | wc -l"
check since-n 0 1 -- sh -c "'$WASMCTL' logs --since today -n 1 trap | wc -l"
check_err since-bad 2 "expected a time" -- "$WASMCTL" logs --since 'next tuesday' trap
check_err until-follow 2 "exclude each other" -- "$WASMCTL" logs -f --until now trap

# -f of every module, as JSON Lines of one shape; a restart's lines arrive.
"$WASMCTL" --json logs -f -n 0 >"$TMP/follow.json" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
# The follower follows once tick's lines arrive; then once's restart shows.
tick_seen() { grep -q '"module":"tick"' "$TMP/follow.json"; }
once_seen() { grep -q '"module":"once".*"started (command)"' "$TMP/follow.json"; }
verdict follow-all "$(wait_until tick_seen && "$WASMCTL" restart once >/dev/null && wait_until once_seen && echo 1)" \
    "$(head -c 600 "$TMP/follow.json") $(cat "$TMP/follow.err")"
verdict follow-json-shape "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = {"time", "time_us", "module", "stream", "message", "line"}
assert rows and all(keys <= set(r) for r in rows), rows
assert {r["module"] for r in rows} >= {"once"}, rows' "$TMP/follow.json" 2>&1 && echo 1)" "$(head -c 600 "$TMP/follow.json")"
kill "$FOLLOW_PID" 2>/dev/null
wait "$FOLLOW_PID" 2>/dev/null

# ---- Per-module figures, top ------------------------------------------------------

check_rc list-figures 0 -- "$WASMCTL" --json list
verdict list-figures-fields "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = [i for i in r["instances"] if i["name"] == "tick"][0]
for k in ("state", "uptime_ms", "restarts", "cpu_us", "fuel_used", "slices", "slices_total", "memory_bytes",
          "memory_limit_bytes", "hardware", "events_queued", "manifest_error"):
    assert k in t, k
assert t["fuel_used"] > 0 and t["slices_total"] >= t["slices"] > 0 and t["cpu_us"] >= 0 and t["memory_bytes"] > 0, t' "$TMP/stdout" 2>&1 && echo 1)" \
    "$(head -c 800 "$TMP/stdout")"
check_rc top-snapshot 0 -- "$WASMCTL" top
verdict top-table "$(grep -q '^wasmd: 3 modules' "$TMP/stdout" && grep -q '^NAME  *STATE  *UPTIME  *RST  *CPU%  *CPU  *FUEL  *SLICES  *MEMORY  *LIMIT  *EVENTS  *HARDWARE$' "$TMP/stdout" &&
    grep -q '^tick  *\(running\|waiting\) ' "$TMP/stdout" && grep -q '^trap  *failed ' "$TMP/stdout" &&
    ! grep -q "$(printf '\033')" "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_rc top-json 0 -- "$WASMCTL" --json top
verdict top-json-doc "$(python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1
r = json.loads(lines[0])
assert r["exit"] == 0 and len(r["instances"]) == 3 and all("cpu_us" in i for i in r["instances"]), r' "$TMP/stdout" 2>&1 && echo 1)" "$(head -c 400 "$TMP/stdout")"

# ---- Metrics ------------------------------------------------------------------------

# A strict reading of the text exposition format (0.0.4): every line a HELP, a TYPE or a
# sample; a family's HELP and TYPE before its samples; names and labels well formed,
# label values escaped; counters named *_total; no series twice; the names we promise.
cat > "$TMP/promcheck.py" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "no final newline"
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
sample_re = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$" % (name_re, label_re, label_re))
helps, types, seen, values = {}, {}, set(), {}
for line in text[:-1].split("\n"):
    m = re.match(r"^# HELP (%s) (.+)$" % name_re, line)
    if m:
        assert m.group(1) not in helps, "two HELP for " + m.group(1)
        helps[m.group(1)] = m.group(2)
        continue
    m = re.match(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % name_re, line)
    if m:
        assert m.group(1) in helps and m.group(1) not in types, "TYPE before HELP or twice: " + line
        types[m.group(1)] = m.group(2)
        continue
    m = sample_re.match(line)
    assert m, "not a sample: %r" % line
    name = m.group(1)
    assert name in types, "sample before its TYPE: " + line
    assert (types[name] == "counter") == name.endswith("_total"), "counter naming: " + name
    assert (name, m.group(2)) not in seen, "series twice: " + line
    seen.add((name, m.group(2)))
    float(m.group(3))
    values[(name, m.group(2) or "")] = float(m.group(3))
want = ["wasmd_modules", "wasmd_memory_budget_bytes", "wasmd_module_up", "wasmd_module_cpu_seconds_total",
        "wasmd_module_fuel_consumed_total", "wasmd_module_restarts_total", "wasmd_module_memory_bytes",
        "wasmd_module_memory_limit_bytes", "wasmd_module_slices_total", "wasmd_module_state"]
for w in want:
    assert w in types, "missing " + w
assert values[("wasmd_modules", "")] == 3, values
assert values[("wasmd_module_up", '{module="tick"}')] == 1
assert values[("wasmd_module_up", '{module="trap"}')] == 0
assert values[("wasmd_module_state", '{module="trap",state="failed"}')] == 1
assert values[("wasmd_module_fuel_consumed_total", '{module="tick"}')] > 0
print("ok")
PY
check_rc metrics-verb 0 -- "$WASMCTL" metrics
cp "$TMP/stdout" "$TMP/metrics.txt"
verdict metrics-format "$(python3 "$TMP/promcheck.py" "$TMP/metrics.txt" 2>&1 | grep -qx ok && echo 1)" \
    "$(python3 "$TMP/promcheck.py" "$TMP/metrics.txt" 2>&1 | tail -2)"
if command -v promtool >/dev/null; then
    check_rc metrics-promtool 0 -- promtool check metrics <"$TMP/metrics.txt"
fi
check_rc metrics-json 0 -- "$WASMCTL" --json metrics
verdict metrics-json-doc "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == 0 and r["text"].startswith("# HELP wasmd_"), r' "$TMP/stdout" 2>&1 && echo 1)" "$(head -c 300 "$TMP/stdout")"
prom_ok() { [ -f "$PROM/wasmd.prom" ] && python3 "$TMP/promcheck.py" "$PROM/wasmd.prom" >/dev/null 2>&1; }
verdict metrics-textfile "$(wait_until prom_ok && echo 1)" "$(ls -A "$PROM"); $(grep metrics "$TMP/wasmd.log")"

# ---- logs -f ends with exit 3 when the daemon stops (defect 12) ----------------------

"$WASMCTL" logs -f tick >"$TMP/f12.out" 2>"$TMP/f12.err" &
F12_PID=$!
following() { [ -s "$TMP/f12.out" ]; }
wait_until following
# With --retry, a follower waits for the daemon to come back and goes on.
"$WASMCTL" logs -f --retry -n 0 -o cat tick >"$TMP/retry.out" 2>"$TMP/retry.err" &
RETRY_PID=$!
retry_following() { grep -q '^tick' "$TMP/retry.out"; }
wait_until retry_following
kill -TERM "$WASMD_PID"
wait "$WASMD_PID"
rc_daemon=$?
wait "$F12_PID"
rc=$?
verdict follow-daemon-gone-exit-3 "$([ "$rc" = 3 ] && grep -q 'wasmd closed the connection' "$TMP/f12.err" && echo 1)" \
    "exit $rc: $(cat "$TMP/f12.err")"
WASMD_PID=
verdict shutdown-clean "$([ "$rc_daemon" = 0 ] && echo 1)" "exit $rc_daemon: $(tail -c 300 "$TMP/wasmd.log")"
verdict metrics-textfile-removed "$([ -z "$(ls -A "$PROM")" ] && echo 1)" "$(ls -A "$PROM")"
verdict no-sanitizer-reports "$(! grep -q 'Sanitizer' "$TMP/wasmd.log" && echo 1)" "$(grep -A5 'Sanitizer' "$TMP/wasmd.log" | head -c 600)"

verdict retry-survives "$(kill -0 "$RETRY_PID" 2>/dev/null && echo 1)" "$(cat "$TMP/retry.err")"
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$TMP/state" --socket "$SOCK" >"$TMP/wasmd2.log" 2>&1 &
WASMD_PID=$!
# The new daemon's lines come: its tick's start, then its ticks from 1, each line once.
new_run_seen() { grep -q '^\[wasmd\] started (command)$' "$TMP/retry.out" && grep -A3 '^\[wasmd\] started' "$TMP/retry.out" | grep -q '^tick 1 '; }
verdict retry-follows-new-daemon "$(wait_until new_run_seen && grep -q 'waiting for wasmd to come back' "$TMP/retry.err" &&
    [ "$(grep -c '^\[wasmd\] started (command)$' "$TMP/retry.out")" = 1 ] && echo 1)" \
    "$(tail -5 "$TMP/retry.out" | tr '\n' '|') $(cat "$TMP/retry.err")"
kill "$RETRY_PID" 2>/dev/null
wait "$RETRY_PID" 2>/dev/null

finish
