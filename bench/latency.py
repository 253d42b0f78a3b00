#!/usr/bin/env python3
"""bench/latency.py [BUILD_DIR] - input-to-output latency of a wasmd module.

Measures how long wasmd takes from an input edge to a module's output
change, with the module alone and with busy neighbours.  For each
configuration it starts BUILD_DIR/wasmd (default: build/ next to bench/) on a
temporary config whose GPIO backend is simulated, with a modules directory
holding the reactor examples/button_led.c (button: line 27, input, pull-up,
active_low, edge both; led: line 22, output) and N copies of examples/busy.c
(a command that computes forever and is preempted at the end of each fuel
slice).  It then talks to the control socket directly (JSON lines, see
daemon/proto.h):

  - waits until `list` shows the reactor waiting and every busy instance
    running;
  - drives the button's wire to 1 (released: pull-up + active_low) and waits
    for the LED to be off;
  - for each sample, after a random pause (so that samples do not phase-lock
    with the slices), toggles the wire with `sim gpio set`, whose answer
    carries changed_ns, the edge's time; then polls `sim gpio get` of the LED
    until its level follows (pressed = wire 0 = LED 1), and takes
        latency = led.changed_ns - button.changed_ns.
    Both time stamps are taken by the daemon's simulator (CLOCK_MONOTONIC),
    so the client's own delays (polling, scheduling) do not count.

The first --warmup samples are dropped.  Percentiles are nearest-rank (p99 of
200 samples is the 198th smallest).  With busy instances it also prints how
long one busy slice takes: the wall time of a window in which nothing else is
asked of the daemon, divided by the slices all busy instances ran in it (from
`list`), so it includes the scheduler's own overhead.

Reading it: the daemon serves the control socket only between scheduler
turns (daemon/sched.c: one turn gives every queued instance one slice), so a
simulated edge always starts at the end of a turn, unlike a real one.  Its
descriptor becomes readable in the following poll phase, after one more
whole turn; the reactor is then queued behind the busy instances and runs at
the end of the turn after that.  Expect about 2 x N busy slices with N busy
instances (a real edge, arriving at any time, would see between 1 and 2
turns).

Exit status: 0 when every configuration ran; 1 when the daemon did not come
up, an instance did not reach its state, or the LED did not follow an edge
within --timeout seconds; 2 for a usage error.  The daemon is stopped on any
exit, Ctrl-C and SIGTERM included.

Environment: BENCH_LATENCY_SAMPLES, BENCH_LATENCY_BUSY give the defaults of
--samples and --busy (for bench/run.sh).
"""

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUTTON_LINE = 27
LED_LINE = 22
CHIP = "gpiochip0"
DEFAULT_FUEL = 100000  # wasmd.yaml(5)'s default fuel_per_slice, written explicitly


class BenchError(Exception):
    """A failed measurement: reported, then exit status 1."""


class Client:
    """One connection to the control socket; requests answered in order."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")

    def request(self, verb, **fields):
        msg = {"v": 1, "verb": verb}
        msg.update(fields)
        self.file.write((json.dumps(msg) + "\n").encode())
        self.file.flush()
        line = self.file.readline()
        if not line:
            raise BenchError(f"the daemon closed the connection (request: {msg})")
        resp = json.loads(line)
        if resp.get("status") != "ok":
            raise BenchError(f"request {msg} failed: {resp}")
        return resp

    def gpio(self, op, line, **fields):
        return self.request("sim", device="gpio", op=op, chip=CHIP, line=line, **fields)

    def instances(self):
        return self.request("list")["instances"]

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Daemon:
    """build/wasmd on a temporary config and modules directory."""

    def __init__(self, build, busy, fuel):
        self.dir = tempfile.mkdtemp(prefix="wasmd-lat.")
        self.sock = os.path.join(self.dir, "s")  # short: at most 107 bytes
        self.log = os.path.join(self.dir, "wasmd.log")
        self.proc = None
        mods = os.path.join(self.dir, "modules.d")
        os.mkdir(mods)
        with open(os.path.join(self.dir, "wasmd.yaml"), "w") as f:
            f.write(
                "modules_dir: modules.d\n"
                f"fuel_per_slice: {fuel}\n"
                "log_lines: 10\n"
                "hardware: {gpio: {backend: sim, chips: "
                f"[{{name: {CHIP}, lines: 64}}]}}}}\n"
            )
        with open(os.path.join(mods, "button_led.yaml"), "w") as f:
            f.write(
                f"module: {os.path.join(build, 'examples', 'button_led.wasm')}\n"
                "stop_timeout_ms: 500\n"
                "restart: never\n"
                "capabilities:\n"
                "  gpio:\n"
                f"    - {{label: button, chip: {CHIP}, line: {BUTTON_LINE}, direction: input,\n"
                "       bias: pull-up, active_low: true, edge: both}\n"
                f"    - {{label: led, chip: {CHIP}, line: {LED_LINE}, direction: output,"
                " safe_value: 0}\n"
            )
        self.busy = [f"busy{i:02d}" for i in range(1, busy + 1)]
        for name in self.busy:
            with open(os.path.join(mods, name + ".yaml"), "w") as f:
                f.write(
                    f"module: {os.path.join(build, 'examples', 'busy.wasm')}\n"
                    "limits:\n"
                    "  memory_pages: 16\n"
                    "restart: never\n"
                )
        self.wasmd = os.path.join(build, "wasmd")

    def start(self, timeout):
        with open(self.log, "w") as log:
            # A session of its own: Ctrl-C reaches only us, and we stop it.
            self.proc = subprocess.Popen(
                [self.wasmd, "--config", os.path.join(self.dir, "wasmd.yaml"),
                 "--socket", self.sock],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"wasmd exited with status {self.proc.returncode}"
                                 f" at start-up\n{self.tail()}")
            try:
                return Client(self.sock, timeout)
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"wasmd's socket {self.sock} did not answer within"
                                     f" {timeout} s\n{self.tail()}")
                time.sleep(0.02)

    def tail(self, n=10):
        try:
            with open(self.log, errors="replace") as f:
                lines = f.readlines()[-n:]
        except OSError:
            return ""
        return "".join("  wasmd: " + l for l in lines).rstrip("\n")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_states(client, daemon, busy_names, timeout):
    """Until button_led is waiting (idle reactor) and every busy one running."""
    want = {"button_led": "waiting"}
    want.update({n: "running" for n in busy_names})
    deadline = time.monotonic() + timeout
    while True:
        have = {i["name"]: i["state"] for i in client.instances()}
        wrong = {n: have.get(n, "absent") for n, s in want.items() if have.get(n) != s}
        if not wrong:
            return
        if time.monotonic() > deadline:
            some = ", ".join(f"{n}: {s} (want {want[n]})" for n, s in list(wrong.items())[:5])
            raise BenchError(f"instances not in their state after {timeout} s: {some}"
                             f"\n{daemon.tail()}")
        time.sleep(0.05)


def slice_time(client, busy_names, window):
    """Wall time per busy slice over a quiet window: (ms per slice, slices)."""
    def snapshot():
        t = time.monotonic()
        s = {i["name"]: i["slices"] for i in client.instances() if i["name"] in busy_names}
        return t, s
    t0, s0 = snapshot()
    time.sleep(window)
    t1, s1 = snapshot()
    slices = sum(s1[n] - s0[n] for n in busy_names if n in s0 and n in s1)
    if slices <= 0:
        return None, 0
    return (t1 - t0) * 1e3 / slices, slices


def wait_led(client, want, since_ns, timeout, poll):
    """Polls the LED until it reads `want`; returns its changed_ns."""
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(poll)
        led = client.gpio("get", LED_LINE)
        if led["level"] == want:
            if led["changed_ns"] < since_ns:
                raise BenchError(f"LED at {want} since {led['changed_ns']} ns, before the"
                                 f" edge at {since_ns} ns: it did not follow this edge")
            return led["changed_ns"]
        if time.monotonic() > deadline:
            raise BenchError(f"the LED (line {LED_LINE}) did not follow the button"
                             f" (line {BUTTON_LINE}) within {timeout} s: still {led['level']},"
                             f" want {want}")


def measure(build, busy, args, rng):
    """One configuration: returns a dict of results."""
    daemon = Daemon(build, busy, args.fuel)
    try:
        client = daemon.start(args.timeout + 3)
        wait_states(client, daemon, daemon.busy, 10 + busy * 0.2)

        result = {"busy": busy, "slice_ms": None}
        if busy:
            result["slice_ms"], result["window_slices"] = slice_time(
                client, set(daemon.busy), args.slice_window)

        # Released: wire 1.  The line's initial level may be 0 or 1 (pull-up
        # bias or not), so drive it and wait for the LED to be off either way.
        wire = 1
        edge = client.gpio("set", BUTTON_LINE, value=wire)
        if edge["level"] != wire:
            raise BenchError(f"sim set of line {BUTTON_LINE} to {wire} read back {edge['level']}")
        last_edge = edge["changed_ns"]
        try:
            wait_led(client, 0, 0, args.timeout, args.poll)
        except BenchError as e:
            raise BenchError(f"{e}\n{daemon.tail()}") from None

        lat = []
        for i in range(args.warmup + args.samples):
            time.sleep(rng.uniform(args.gap_min, args.gap_max) / 1e3)
            wire ^= 1
            edge = client.gpio("set", BUTTON_LINE, value=wire)
            if edge["level"] != wire or edge["changed_ns"] <= last_edge:
                raise BenchError(f"sim set of line {BUTTON_LINE} to {wire} made no edge: {edge}")
            last_edge = edge["changed_ns"]
            try:
                led_ns = wait_led(client, 1 - wire, last_edge, args.timeout, args.poll)
            except BenchError as e:
                raise BenchError(f"sample {i + 1}: {e}\n{daemon.tail()}") from None
            if i >= args.warmup:
                lat.append(led_ns - last_edge)

        # Still all there: nobody failed or stopped behind our back.
        wait_states(client, daemon, daemon.busy, 1)
        client.close()
        result["lat_ns"] = sorted(lat)
        return result
    finally:
        daemon.stop()


def pct(sorted_ns, p):
    """Nearest-rank percentile."""
    return sorted_ns[max(0, math.ceil(p / 100 * len(sorted_ns)) - 1)]


def ms(ns):
    return f"{ns / 1e6:.3f}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(
        description="p50/p99 latency from a simulated GPIO input edge to a reactor's"
                    " output change, alone and among busy instances.")
    ap.add_argument("build", nargs="?", default=os.path.join(here, "..", "build"),
                    help="build directory holding wasmd and examples/*.wasm (default: build)")
    ap.add_argument("--samples", type=int,
                    default=int(os.environ.get("BENCH_LATENCY_SAMPLES", 200)),
                    help="samples per configuration (default 200)")
    ap.add_argument("--warmup", type=int, default=20, help="samples dropped first (default 20)")
    ap.add_argument("--busy", default=os.environ.get("BENCH_LATENCY_BUSY", "0,50"),
                    help="comma-separated numbers of busy instances (default 0,50)")
    ap.add_argument("--fuel", type=int, default=DEFAULT_FUEL,
                    help=f"the daemon's fuel_per_slice (default {DEFAULT_FUEL}, wasmd's own)")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="seconds the LED has to follow an edge (default 2)")
    ap.add_argument("--gap-min", type=float, default=5.0, help="least pause between samples, ms")
    ap.add_argument("--gap-max", type=float, default=20.0, help="longest pause between samples, ms")
    ap.add_argument("--poll", type=float, default=0.0005,
                    help="pause before each poll of the LED, s (default 0.0005)")
    ap.add_argument("--slice-window", type=float, default=1.0,
                    help="seconds over which a busy slice is timed (default 1)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the random pauses")
    args = ap.parse_args()

    try:
        configs = [int(x) for x in args.busy.split(",") if x.strip() != ""]
    except ValueError:
        ap.error(f"--busy: not a list of integers: {args.busy!r}")
    if not configs or min(configs) < 0 or args.samples < 1 or args.warmup < 0 \
            or not 0 <= args.gap_min <= args.gap_max or args.timeout <= 0:
        ap.error("bad --busy, --samples, --warmup, --gap-min/--gap-max or --timeout")
    build = os.path.abspath(args.build)
    for f in ("wasmd", "examples/button_led.wasm", "examples/busy.wasm"):
        if not os.path.exists(os.path.join(build, f)):
            print(f"{sys.argv[0]}: {os.path.join(build, f)} not found (run make all first)",
                  file=sys.stderr)
            return 1

    # SIGTERM unwinds like Ctrl-C, through the finally that stops the daemon.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)

    print(f"wasmd latency: simulated edge on {CHIP} line {BUTTON_LINE} -> button_led's"
          f" output on line {LED_LINE}")
    print(f"  {args.samples} samples per configuration after {args.warmup} warm-up ones,"
          f" {args.gap_min:g}-{args.gap_max:g} ms apart; fuel_per_slice {args.fuel};"
          f" time stamps by the daemon's simulator")
    results = []
    try:
        for busy in configs:
            results.append(measure(build, busy, args, rng))
    except BenchError as e:
        print(f"{sys.argv[0]}: FAILED: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{sys.argv[0]}: interrupted", file=sys.stderr)
        return 130

    print()
    print(f"{'config':<22} {'samples':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9}"
          f" {'max ms':>9}")
    print(f"{'-' * 22} {'-' * 7} {'-' * 9} {'-' * 9} {'-' * 9} {'-' * 9}")
    for r in results:
        name = "1 instance (reactor)" if r["busy"] == 0 else f"reactor + {r['busy']} busy"
        lat = r["lat_ns"]
        print(f"{name:<22} {len(lat):>7} {ms(pct(lat, 50)):>9} {ms(pct(lat, 90)):>9}"
              f" {ms(pct(lat, 99)):>9} {ms(lat[-1]):>9}")

    idle = next((r for r in results if r["busy"] == 0), None)
    print()
    for r in results:
        if r["busy"] == 0:
            continue
        line = f"reactor + {r['busy']} busy:"
        if idle:
            line += (f" p50 {pct(r['lat_ns'], 50) / max(1, pct(idle['lat_ns'], 50)):.1f}x"
                     " the idle p50;")
        if r["slice_ms"] is not None:
            line += (f" one busy slice ({args.fuel} fuel) takes {r['slice_ms']:.3f} ms,"
                     f" a round of all {r['busy']} {r['slice_ms'] * r['busy']:.1f} ms"
                     f" ({r['window_slices']} slices in {args.slice_window:g} s, wall time)")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
