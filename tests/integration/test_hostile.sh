# test_hostile.sh - one module must never stall the others (issue 10).
#
# Time: beside a 10 ms ticker, modules that try to monopolise the daemon --
# a 16 MiB memory.fill in a loop, random_get of 64 KiB in a loop, a stdout
# flood, a tight spin with the largest fuel_per_slice the schema allows --
# while a manifest asking for fuel_per_slice 1e12 is refused with its
# file:line:column.  The ticker keeps ticking, `wasmctl status` answers,
# every hostile module still gets its turns, and SIGTERM stops the daemon.
#
# Memory: with a daemon memory budget of 8 MiB, memory.grow past it returns
# -1 (the module sees it) and the module's log says why; a module whose
# minimum memory does not fit is refused at start; `wasmctl status` shows
# what each module holds and its limits; a stopped module gives its memory
# back.
#
# Only outcomes and their order are checked, never durations: every wait
# polls for a condition with a generous deadline (lib.sh's wait_for), so the
# test passes on a machine whose cores are saturated.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
G=$BUILD/tests/daemon
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
DEADLINE=${HOSTILE_DEADLINE_S:-120}
mkdir -p "$MODS"
export WASMD_SOCKET=$SOCK

start_daemon() {
    "$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
    WASMD_PID=$!
    wait_for "$DEADLINE" test -S "$SOCK"
}
stop_daemon() {
    if [ -n "${WASMD_PID:-}" ] && kill -0 "$WASMD_PID" 2>/dev/null; then
        kill -KILL "$WASMD_PID" 2>/dev/null
        wait "$WASMD_PID" 2>/dev/null
    fi
}
trap stop_daemon EXIT

# ctl ARGS...: wasmctl, killed if it does not answer within the deadline (a deaf daemon fails a check, not the run).
ctl() { timeout "$DEADLINE" "$WASMCTL" "$@"; }

ticks() { ctl logs -o cat ticker 2>/dev/null | awk '$1 == "tick" { n = $2 } END { print n + 0 }'; } # the last tick's number: the log is a ring of log_lines lines
ticks_at_least() { [ "$(ticks)" -ge "$1" ]; }
is_state() { [ "$(field "$1" state)" = "$2" ]; }
slices_above() { [ "$(numfield "$1" slices)" -gt "$2" ]; }
log_has() { ctl logs -o cat "$1" 2>/dev/null | grep -q -- "$2"; }
not_running() { ! kill -0 "$1" 2>/dev/null; }

# sigterm_stops NAME: SIGTERM ends the daemon, with status 0, whatever its modules do.
sigterm_stops() {
    kill -TERM "$WASMD_PID"
    local gone=0 rc=-1
    wait_for "$DEADLINE" not_running "$WASMD_PID" && gone=1
    if [ $gone = 1 ]; then
        wait "$WASMD_PID"
        rc=$?
    fi
    verdict "$1" "$([ $gone = 1 ] && [ $rc = 0 ] && echo 1)" "gone=$gone status=$rc: $(tail -c 300 "$TMP/wasmd.log")"
    WASMD_PID=
    rm -f "$SOCK"
}

# ---- Time: hostile modules beside a ticker --------------------------------

cat > "$TMP/wasmd.yaml" <<EOF
socket_group: $(id -gn)
log_lines: 1000
EOF
printf 'module: %s\nargs: [10]\nrestart: never\n' "$G/ticker.wasm" > "$MODS/ticker.yaml"
for m in bulkfill randloop flood; do
    printf 'module: %s\nrestart: never\n' "$G/$m.wasm" > "$MODS/$m.yaml"
done
printf 'module: %s\nrestart: never\nlimits:\n  fuel_per_slice: 10000000\n' "$G/spinner.wasm" > "$MODS/spinner.yaml"
printf 'module: %s\nrestart: never\nlimits:\n  fuel_per_slice: 1000000000000\n' "$G/spinner.wasm" > "$MODS/spinhuge.yaml"

start_daemon
verdict daemon-up "$([ -S "$SOCK" ] && echo 1)" "no socket: $(head -c 300 "$TMP/wasmd.log")"

# The schema refuses a slice of 1e12 fuel, naming the file, line and column; only that manifest is skipped.
verdict huge-fuel-refused \
    "$(grep -q 'spinhuge.yaml:4:19: limits.fuel_per_slice: 1000000000000 is out of range (expected an integer from 1000 to 10000000)' "$TMP/wasmd.log" &&
       ! ctl list | grep -q '^spinhuge ' && echo 1)" "$(head -c 600 "$TMP/wasmd.log")"

for m in bulkfill randloop flood spinner; do
    verdict "$m-running" "$(wait_for "$DEADLINE" is_state "$m" running && echo 1)" "$m: $(field "$m" state) $(field "$m" reason)"
done

# The ticker keeps ticking: 50 more ticks while they all compute ...
n=$(ticks)
verdict ticker-ticks "$(wait_for "$DEADLINE" ticks_at_least $((n + 50)) && echo 1)" "ticks: $n, then $(ticks)"
# ... in order, none lost: its log holds consecutive tick numbers.
ctl logs -o cat ticker | awk '/^tick/ { if (p && $2 != p + 1) bad = 1; p = $2 } END { exit bad }'
verdict ticker-in-order "$([ $? = 0 ] && echo 1)" "$(ctl logs -o cat ticker | grep '^tick' | head -c 300)"

# Status answers, again and again.
ok=1
for _ in 1 2 3 4 5 6 7 8 9 10; do
    ctl status ticker >/dev/null 2>&1 || ok=
done
verdict status-answers "$ok" "wasmctl status failed or hung"

# Each hostile module still gets its turns (none is starved either).
for m in bulkfill randloop flood spinner; do
    s=$(numfield "$m" slices)
    verdict "$m-progresses" "$(wait_for "$DEADLINE" slices_above "$m" "$s" && echo 1)" "$m: slices $s"
done
verdict flood-logged "$(log_has flood 'flood!!' && echo 1)" "$(ctl logs -n 3 flood)"

# Status shows the memory each holds and its limit: bulkfill's 256 pages, the default limit of 256.
verdict status-memory-json "$([ "$(numfield bulkfill memory_bytes)" = 16777216 ] &&
    [ "$(numfield bulkfill memory_limit_bytes)" = 16777216 ] && echo 1)" \
    "$(ctl --json status bulkfill | head -c 600)"
verdict status-memory-human "$(ctl status bulkfill | grep -q '^memory: *16.0 MiB (limit 16.0 MiB per memory' && echo 1)" \
    "$(ctl status bulkfill)"

sigterm_stops sigterm-stops-hostile

# ---- Memory: a budget for all modules ---------------------------------------

rm -f "$MODS"/*.yaml
cat > "$TMP/wasmd.yaml" <<EOF
socket_group: $(id -gn)
log_lines: 1000
memory_budget_mib: 8
EOF
printf 'module: %s\nargs: [10]\nrestart: never\n' "$G/ticker.wasm" > "$MODS/ticker.yaml"
printf 'module: %s\nrestart: never\n' "$G/bigmin.wasm" > "$MODS/bigmin.yaml"
start_daemon
verdict budget-daemon-up "$([ -S "$SOCK" ] && echo 1)" "no socket: $(head -c 300 "$TMP/wasmd.log")"
verdict budget-announced "$(grep -q 'memory budget 8 MiB (memory_budget_mib)' "$TMP/wasmd.log" && echo 1)" \
    "$(head -c 300 "$TMP/wasmd.log")"
# The ticker holds its memory before growhold takes what is left of the
# budget (started together, either could be first, and the ticker would
# then be refused).
verdict budget-ticker-up "$(wait_for "$DEADLINE" is_active ticker && echo 1)" "ticker: $(field ticker state): $(field ticker reason)"
printf 'module: %s\nrestart: never\nlimits:\n  memory_pages: 16384\n' "$G/growhold.wasm" > "$MODS/growhold.yaml"
# The reload starts growhold; it also retries bigmin (failed, in case its file
# was fixed), which the budget still refuses: exit 8, naming bigmin alone.
check_rc budget-reload 8 -- ctl reload
verdict budget-reload-names-bigmin "$(grep -q 'bigmin.yaml: .*does not fit in the memory budget' "$TMP/stderr" &&
    ! grep -q growhold "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"

# Growth past the budget returns -1 to the module, and its log says why; what
# it holds (its memory, and its table's few elements) is within the budget.
verdict grow-returns-minus-1 "$(wait_for "$DEADLINE" log_has growhold 'memory.grow returned -1 at' && echo 1)" \
    "$(ctl logs growhold | tail -5)"
verdict grow-refusal-logged \
    "$(log_has growhold "\[wasmd\] memory.grow or table.grow refused 1 time: the daemon's memory budget is used up" && echo 1)" \
    "$(ctl logs growhold | tail -5)"
pages=$(ctl logs growhold | sed -n 's/.*memory.grow returned -1 at \([0-9]*\) pages.*/\1/p' | head -1)
used=$(numfield growhold memory_bytes)
verdict grow-within-budget \
    "$([ -n "$pages" ] && [ "$used" -ge $((pages * 65536)) ] && [ "$used" -le $((8 << 20)) ] && echo 1)" \
    "pages=$pages memory_bytes=$used"
verdict grow-status "$([ "$(numfield growhold memory_budget_bytes)" = $((8 << 20)) ] &&
    [ "$(numfield growhold memory_limit_bytes)" = $((16384 * 65536)) ] && is_state growhold waiting && echo 1)" \
    "$(ctl --json status growhold | head -c 600)"

# A module whose minimum does not fit is refused at start, saying so.
verdict min-refused "$(wait_for "$DEADLINE" is_state bigmin failed &&
    field bigmin reason | grep -q 'memory 0: its minimum of 12800 KiB does not fit in the memory budget' && echo 1)" \
    "bigmin: $(field bigmin state): $(field bigmin reason)"

# A stopped module gives its memory back: then the budget holds only the ticker's.
check_rc stop-growhold 0 -- ctl stop growhold
budget_is_tickers() { [ "$(numfield ticker memory_budget_used_bytes)" = "$(numfield ticker memory_bytes)" ]; }
verdict budget-given-back "$(wait_for "$DEADLINE" budget_is_tickers && echo 1)" \
    "$(ctl --json status ticker | head -c 600)"
n=$(ticks)
verdict budget-ticker-ticks "$(wait_for "$DEADLINE" ticks_at_least $((n + 10)) && echo 1)" "ticks: $n, then $(ticks)"
sigterm_stops sigterm-stops-budget
finish
