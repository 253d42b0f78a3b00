# test_cli.sh - wasmctl's scripting contract: every --json call prints
# exactly one JSON document on stdout (errors included, with the human
# form's text and the exit status in "exit"); global options in every
# position the man page allows; unknown verbs and options say what is wrong
# and suggest the nearest verb instead of dumping the help; the verb table
# gives `help VERB`.
. "$(dirname "$0")/lib.sh"

WASMD=${WASMD:-$BUILD/wasmd}
SOCK=$TMP/wasmd.sock
MODS=$TMP/modules.d
mkdir -p "$MODS"
export WASMD_SOCKET=$SOCK

cat > "$TMP/add.wat" <<'WAT'
(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
WAT
wat2wasm "$TMP/add.wat" -o "$TMP/add.wasm"
cp "$BUILD/tests/daemon/ticker.wasm" "$TMP/ticker.wasm"
printf 'module: %s\nargs: [100]\nrestart: never\n' "$TMP/ticker.wasm" > "$MODS/ticker.yaml"
printf 'module: %s\nno_such_kye: 1\n' "$TMP/ticker.wasm" > "$TMP/typo.yaml"
printf 'module: %s\nrestrat: never\n' "$TMP/ticker.wasm" > "$TMP/near.yaml"
# A module that uses GPIO, with a manifest that does not grant it.
cat > "$TMP/gpio.wat" <<'WAT'
(module (import "wasmd" "gpio_write" (func (param i32 i32) (result i32))) (func (export "_start")))
WAT
wat2wasm "$TMP/gpio.wat" -o "$TMP/gpio.wasm"
printf 'module: %s\n' "$TMP/gpio.wasm" > "$TMP/ungranted.yaml"

# one_doc NAME: $TMP/stdout holds exactly one JSON object whose "exit" is
# the exit status seen, and (optionally) whose fields pass a Python expression over r.
json_ok() { # json_ok NAME RC EXPR
    verdict "$1" "$(python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
assert len(lines) == 1, "expected one line, got %d" % len(lines)
r = json.loads(lines[0])
assert r["exit"] == int(sys.argv[2]), r
assert eval(sys.argv[3]), r' "$TMP/stdout" "$2" "$3" 2>&1 && echo 1)" "$(head -c 400 "$TMP/stdout") $(python3 -c 'pass' 2>&1)"
}

# ---- Offline: validate, inspect, run -----------------------------------------

check_rc json-validate-bad 8 -- "$WASMCTL" --json validate "$TMP/typo.yaml"
json_ok json-validate-bad-doc 8 'r["status"] == "invalid" and not r["valid"] and "typo.yaml:2:1: " in r["error"] and "no_such_kye" in r["error"]'
verdict json-validate-bad-stderr "$(grep -q 'typo.yaml:2:1: ' "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"
check_rc json-validate-ungranted 8 -- "$WASMCTL" --json validate "$TMP/ungranted.yaml"
json_ok json-validate-ungranted-doc 8 'not r["valid"] and "gpio" in r["error"] and r["error"] in open(sys.argv[1]).read()'
verdict json-validate-same-text "$(grep -qF "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$TMP/stdout")" "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"
check_rc json-validate-missing 1 -- "$WASMCTL" --json validate "$TMP/nothere.yaml"
json_ok json-validate-missing-doc 1 'r["status"] == "failed" and "nothere.yaml" in r["error"]'
check_rc json-validate-ok 0 -- "$WASMCTL" validate --json "$MODS/ticker.yaml"
json_ok json-validate-ok-doc 0 'r["valid"] and r["status"] == "ok" and r["name"] == "ticker"'
check_rc json-inspect-missing 1 -- "$WASMCTL" --json inspect "$TMP/nothere.wasm"
json_ok json-inspect-missing-doc 1 '"No such file" in r["error"]'

# Global options before and after the verb (run: before FILE.wasm).
check json-run-before 0 '{"status":"ok","results":["5"],"exit":0}' -- "$WASMCTL" --json run --invoke add "$TMP/add.wasm" 2 3
check_rc run-results 0 -- "$WASMCTL" run --invoke add "$TMP/add.wasm" 2 3
verdict run-results-out "$([ "$(cat "$TMP/stdout")" = 5 ] && echo 1)" "$(cat "$TMP/stdout")"
check_rc json-run-among 2 -- "$WASMCTL" run --invoke nope --json "$TMP/add.wasm"
json_ok json-run-error-doc 2 'r["status"] == "usage" and "no exported function \"nope\"" in r["error"]'
check_rc run-args-untouched 2 -- "$WASMCTL" run --invoke add "$TMP/add.wasm" --json 1
verdict run-args-untouched-msg "$(grep -q 'argument 1 of add: "--json" is not a valid i32' "$TMP/stderr" && echo 1)" "$(cat "$TMP/stderr")"

# ---- Wrong command lines ------------------------------------------------------

check_rc unknown-verb 2 -- "$WASMCTL" frobnicate
verdict unknown-verb-msg "$(grep -q 'unknown command "frobnicate"' "$TMP/stderr" && grep -q -- '--help' "$TMP/stderr" &&
    [ "$(wc -l < "$TMP/stderr")" -le 2 ] && [ ! -s "$TMP/stdout" ] && echo 1)" "$(head -c 400 "$TMP/stderr")"
check_err near-verb 2 'unknown command "stauts"; did you mean "status"?' -- "$WASMCTL" stauts ticker
check_err near-verb-deploy 2 'did you mean "deploy"?' -- "$WASMCTL" --socket "$SOCK" deplyo a b
check_rc json-unknown-verb 2 -- "$WASMCTL" --json stauts
json_ok json-unknown-verb-doc 2 'r["status"] == "usage" and "did you mean \"status\"" in r["error"]'
check_err near-key 8 "did you mean 'restart'?" -- "$WASMCTL" validate "$TMP/near.yaml"
check_err wrong-option 2 'stop: -f is not an option of stop' -- "$WASMCTL" stop -f ticker
check_err unknown-option 2 'list: unknown option --frob' -- "$WASMCTL" list --frob
check_err missing-value 2 '--socket needs a value' -- "$WASMCTL" list --socket
check_rc help-verb 0 -- "$WASMCTL" help logs
verdict help-verb-out "$(grep -q '^Usage: wasmctl logs' "$TMP/stdout" && grep -q '^Exit status: 0 2 3 4 6 7' "$TMP/stdout" && echo 1)" "$(cat "$TMP/stdout")"
check_rc help-all 0 -- "$WASMCTL" --help
verdict help-lists-every-verb "$(for v in run list status start stop restart logs top metrics reload deploy remove sim version validate inspect help; do
    grep -q "^  $v" "$TMP/stdout" || exit 0; done; echo 1)" "$(head -c 300 "$TMP/stdout")"

# The exit statuses: wasmctl(1) has one table, the same as CLI_EXIT_MAP (--help prints it).
MAN1=${WASMCTL_MAN:-$(dirname "$0")/../../docs/wasmctl.1}
check_rc help-exit-table 0 -- "$WASMCTL" --help
verdict exit-table-matches-man "$(python3 -c '
import re, sys
helptext = open(sys.argv[1]).read()
man = open(sys.argv[2]).read()
table = helptext.split("Exit status")[1]
codes = re.findall(r"^  ([0-9]+) +([a-z-]+) ", table, re.M)
documented = re.findall(r"^\.BR ([0-9]+) \" ([a-z-]+)\"$", man.split(".SH EXIT STATUS")[1].split(".SH ")[0], re.M)
assert codes and codes == documented, (codes, documented)
assert ("9", "timeout") in codes' "$TMP/stdout" "$MAN1" 2>&1 && echo 1)" "$(python3 -c 'pass')"

# ---- The daemon's verbs ---------------------------------------------------------

check_rc json-unreachable 3 -- "$WASMCTL" --json list
json_ok json-unreachable-doc 3 'r["status"] == "unreachable" and "cannot reach wasmd" in r["error"]'

printf 'socket_group: %s\n' "$(id -gn)" > "$TMP/wasmd.yaml"
"$WASMD" --config "$TMP/wasmd.yaml" --modules-dir "$MODS" --state-dir "$TMP/state" --socket "$SOCK" >"$TMP/wasmd.log" 2>&1 &
WASMD_PID=$!
trap 'kill -TERM $WASMD_PID 2>/dev/null; wait $WASMD_PID 2>/dev/null' EXIT
wait_for 5 test -S "$SOCK"
wait_for 5 is_active ticker

check_rc json-list 0 -- "$WASMCTL" list --json
json_ok json-list-doc 0 'r["status"] == "ok" and r["instances"][0]["name"] == "ticker"'
check_rc json-socket-after 0 -- env -u WASMD_SOCKET "$WASMCTL" status ticker --socket "$SOCK" --json
json_ok json-socket-after-doc 0 'r["instance"]["name"] == "ticker"'
check_rc json-not-found 4 -- "$WASMCTL" --json status nope
json_ok json-not-found-doc 4 'r["status"] == "not-found" and "no module named" in r["error"]'
check_rc json-version 0 -- "$WASMCTL" --json version
json_ok json-version-doc 0 'r["wasmctl"] == r["daemon"] and r["status"] == "ok"'
cp "$TMP/typo.yaml" "$MODS/typo.yaml"
check_rc json-reload-errors 8 -- "$WASMCTL" --json reload
json_ok json-reload-errors-doc 8 'r["status"] == "invalid" and any("typo.yaml:2:1" in e for e in r["errors"]) and r["unchanged"] == ["ticker"]'
check_rc human-reload-errors 8 -- "$WASMCTL" reload
verdict human-reload-once "$([ "$(grep -c 'typo.yaml:2:1' "$TMP/stderr")" = 1 ] && grep -q '^unchanged  *ticker' "$TMP/stdout" && echo 1)" \
    "$(cat "$TMP/stdout" "$TMP/stderr")"
rm "$MODS/typo.yaml"
# Bash completion: every verb of the verb table, each verb's options, module names from the daemon.
COMPLETION=${WASMCTL_COMPLETION:-$(dirname "$0")/../../cli/wasmctl.bash-completion}
complete_words() { # complete_words WORD...: what completing the last word offers, one per line
    PATH=$(dirname "$WASMCTL"):$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _wasmctl; printf "%s\n" "${COMPREPLY[@]}"' \
        sh "$COMPLETION" "$@" 2>&1 | sort
}
"$WASMCTL" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' | sort -u >"$TMP/verbs"
verdict completion-every-verb "$([ -s "$TMP/verbs" ] && [ "$(complete_words wasmctl '')" = "$(cat "$TMP/verbs")" ] && echo 1)" \
    "verbs: $(tr '\n' ' ' <"$TMP/verbs"); completed: $(complete_words wasmctl '' | tr '\n' ' ')"
verdict completion-logs-options "$(complete_words wasmctl logs -- | grep -qx -- --since && complete_words wasmctl logs -- | grep -qx -- --json &&
    complete_words wasmctl stop -- | grep -qx -- --no-wait && complete_words wasmctl top - | grep -qx -- -d && echo 1)" \
    "$(complete_words wasmctl logs -- | tr '\n' ' ')"
verdict completion-module-names "$([ "$(complete_words wasmctl status '')" = ticker ] && [ "$(complete_words wasmctl logs -n 3 t)" = ticker ] &&
    [ "$(WASMD_SOCKET=/nonexistent complete_words wasmctl --socket "$SOCK" restart '')" = ticker ] &&
    [ -z "$(WASMD_SOCKET=/nonexistent complete_words wasmctl restart '')" ] && echo 1)" \
    "$(complete_words wasmctl status '')"
verdict completion-sim "$([ "$(complete_words wasmctl sim i2c '' | tr '\n' ' ')" = "get set temperature " ] && echo 1)" \
    "$(complete_words wasmctl sim i2c '')"
# Pipelined requests, a stop with "wait" (nothing to wait for: ticker stops at once) among them:
# each answered once, in order (the last, version, shows nothing came twice before it).
python3 - "$SOCK" >"$TMP/pipe.out" 2>&1 <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
reqs = [{"verb": "stop", "name": "ticker", "wait": True}, {"verb": "start", "name": "ticker"},
        {"verb": "status", "name": "ticker"}, {"verb": "version"}]
s.sendall(b"".join(json.dumps(dict(r, v=1)).encode() + b"\n" for r in reqs))
data = b""
while b'"daemon"' not in data:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
for line in data.decode().strip().split("\n"):
    r = json.loads(line)
    print(r["status"], r.get("instance", {}).get("state", r.get("daemon", "")))
PY
verdict wait-pipelined-once "$([ "$(head -1 "$TMP/pipe.out")" = "ok stopped" ] && [ "$(wc -l < "$TMP/pipe.out")" = 4 ] &&
    [ "$(tail -1 "$TMP/pipe.out" | cut -d' ' -f1)" = ok ] && echo 1)" "$(cat "$TMP/pipe.out")"
wait_for 5 is_active ticker
check_rc json-logs 0 -- "$WASMCTL" --json logs -n 2 ticker
verdict json-logs-lines "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 2 and all(r["module"] == "ticker" and isinstance(r["line"], str) for r in rows), rows' "$TMP/stdout" 2>&1 && echo 1)" \
    "$(cat "$TMP/stdout")"
finish
