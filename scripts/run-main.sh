#!/usr/bin/env bash
# run-main.sh BUILD_DIR - the main job: runs the example modules.
#
# First the engine through `wasmctl run`: a WASI command with arguments,
# environment and a sandboxed directory, exported functions called with
# --invoke, fuel, and a trap with its backtrace.  Then the daemon: wasmd
# runs examples/modules.d (a clock, a module that computes forever, hello,
# a reactor called on timer events, and the hardware examples: blinky,
# button-to-LED, a TMP102 reader and a voice-activity detector) on one event
# loop with simulated hardware, driven with wasmctl (list, status, logs,
# top, metrics, sim, stop).
set -eu
build=${1:-build}
ex=$build/examples
ctl=$build/wasmctl
here=$(cd "$(dirname "$0")/.." && pwd)

# Bold commands on a terminal only, and never with NO_COLOR (no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
    step() { printf '\n$ %s\n' "$*"; }
fi

step wasmctl run --dir examples/data::/data --env GREETING=Hi hello.wasm Ada
"$ctl" run --dir "$here/examples/data::/data" --env GREETING=Hi "$ex/hello.wasm" Ada

step wasmctl run --invoke count_primes primes.wasm 100000
"$ctl" run --invoke count_primes "$ex/primes.wasm" 100000

step wasmctl run --invoke fib primes.wasm 30
"$ctl" run --invoke fib "$ex/primes.wasm" 30

step "wasmctl run --fuel 100000 --invoke fib primes.wasm 40   (stops when its fuel is spent)"
"$ctl" run --fuel 100000 --invoke fib "$ex/primes.wasm" 40 || echo "(exit status $?)"

step "wasmctl run --invoke crash values.wasm   (a trap: kind, backtrace, exit status 134)"
"$ctl" run --invoke crash "$build/tests/wasi/values.wasm" || echo "(exit status $?)"

# ---- The daemon: all the examples side by side on one event loop -------
# examples/wasmd.yaml simulates the hardware: a GPIO chip, a TMP102 on I2C
# bus 1, and a microphone that is ALSA's `file` plugin reading speech made
# here with espeak-ng and sox (a real ALSA capture device on any machine).
run=$build/examples/run
rm -rf "$run" && mkdir -p "$run"
cp -r "$here/examples/modules.d" "$here/examples/data" "$here/examples/wasmd.yaml" "$run/"
for m in clock busy hello heartbeat blinky button_led temperature vad; do cp "$ex/$m.wasm" "$run/"; done
espeak-ng -w "$run/speech.wav" "Hello. This gateway is listening. Lights on while I speak." 2>/dev/null
sox "$run/speech.wav" -r 16000 -c 1 -b 16 -e signed-integer -t raw "$run/speech.raw" pad 1.0 1.5
cat >"$run/speech.conf" <<EOF
pcm.wasmd_speech {
    type file
    slave.pcm { type null }
    file "/dev/null"
    infile "$(cd "$run" && pwd)/speech.raw"
    format raw
}
EOF
sock=$run/wasmd.sock
export WASMD_SOCKET=$sock

step "wasmd --config examples/wasmd.yaml --socket $sock &   (modules from examples/modules.d)"
"$build/wasmd" --config "$run/wasmd.yaml" --socket "$sock" 2>"$run/wasmd.stderr" &
daemon=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

# Watch vad's LED (line 23) from the start: the speech begins a second in
# and lasts a few seconds, before the demo reaches vad.  Each change of the
# line's level is written with its time since the daemon started.
t0=$(date +%s%N)
(
    prev=
    while :; do
        level=$("$ctl" --json sim gpio get gpiochip0 23 2>/dev/null | grep -o '"level":[01]' | cut -d: -f2)
        if [ -n "$level" ] && [ "$level" != "$prev" ]; then
            printf '  +%5d ms  gpiochip0 23: level %s\n' $((($(date +%s%N) - t0) / 1000000)) "$level"
            prev=$level
        fi
        sleep 0.05
    done
) >"$run/line23.log" &
watcher=$!
trap 'kill $watcher $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT

sleep 2
step "wasmctl list   (busy computes forever; the others still get their turns)"
"$ctl" list
step wasmctl status clock
"$ctl" status clock
step wasmctl logs -n 3 clock
"$ctl" logs -n 3 clock
step wasmctl logs hello
"$ctl" logs hello
step "wasmctl logs -n 3 heartbeat   (a reactor: wasmd calls its timer handler)"
"$ctl" logs -n 3 heartbeat

step "blinky toggles its LED (gpiochip0 line 17) every 500 ms:"
for _ in 1 2 3; do "$ctl" sim gpio get gpiochip0 17; sleep 0.3; done
step "wasmctl sim gpio set gpiochip0 27 0   (press the button: the wire goes low; button_led lights line 22)"
"$ctl" sim gpio set gpiochip0 27 0
sleep 0.2
"$ctl" sim gpio get gpiochip0 22
step "wasmctl sim gpio set gpiochip0 27 1   (release it)"
"$ctl" sim gpio set gpiochip0 27 1
sleep 0.2
"$ctl" sim gpio get gpiochip0 22
"$ctl" logs -n 2 button_led
step "wasmctl sim i2c temperature 1 0x48 31.5   (warm the simulated TMP102)"
"$ctl" sim i2c temperature 1 0x48 31.5
sleep 2.2
"$ctl" logs -n 3 temperature
step "vad hears the speech file through ALSA and lights line 23 while it lasts:"
# Until the line has gone up and down again (the speech ends about 6 s in).
for _ in $(seq 100); do [ "$(grep -c 'level' "$run/line23.log")" -ge 3 ] && break; sleep 0.1; done
"$ctl" logs vad
echo "line 23 as seen by polling it every 50 ms since the daemon started:"
cat "$run/line23.log"
step "wasmctl top   (one snapshot when not on a terminal: CPU, fuel, memory, events per module)"
"$ctl" top
step "wasmctl logs -n 6   (every module's log, merged by time)"
"$ctl" logs -n 6
step "wasmctl metrics | grep cpu_seconds   (the Prometheus text format)"
"$ctl" metrics | grep '^wasmd_module_cpu_seconds_total'
step "wasmctl stop blinky   (waits until it has stopped; its LED goes to its safe value, 0)"
"$ctl" stop blinky
"$ctl" sim gpio get gpiochip0 17
step wasmctl stop busy
"$ctl" stop busy
"$ctl" list
kill "$watcher" "$daemon"
wait "$daemon" 2>/dev/null || true
trap - EXIT
step "wasmd stopped; the start of its own log:"
head -12 "$run/wasmd.stderr"
