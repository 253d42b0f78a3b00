#!/usr/bin/env python3
"""bench/stall.py [BUILD_DIR] - how long wasmd's loop stalls on a deploy or a reload.

Starts BUILD_DIR/wasmd (default: build/ next to bench/) on a temporary
modules and state directory, then, from a second connection, asks `version`
over and over and records how long each answer takes, while:

  - idle: nothing else happens (the baseline);
  - deploy: `wasmctl deploy` sends a large module (--deploy-mib MiB: the
    ticker test module with a custom section of that size); the daemon
    decodes, validates, writes and syncs it in libuv's thread pool, then
    switches the unit and starts it, which loads it again in the pool;
  - reload: --reload-count manifests of a larger module (the mix benchmark
    workload) appear at once and `wasmctl reload` starts them all.

Each line gives the number of answers, p50, p99 and the longest, in ms. The
longest answer during a deploy or a reload is the loop's longest stall plus
the client's own round trip (compare with idle). Noisy machines show up in
idle's figures too: read the rows together.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def request(path, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.sendall(line)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def probe(path, stop, times):
    """Asks `version` until stop is set; appends each answer's time in ns."""
    line = b'{"v":1,"verb":"version"}\n'
    while not stop.is_set():
        t0 = time.monotonic_ns()
        request(path, line)
        times.append(time.monotonic_ns() - t0)
        time.sleep(0.002)


def summary(name, times):
    if not times:
        print(f"{name:<8} no answers")
        return
    t = sorted(times)
    pick = lambda p: t[min(len(t) - 1, max(0, -(-p * len(t) // 100) - 1))]
    ms = lambda ns: f"{ns / 1e6:8.2f}"
    print(f"{name:<8} {len(t):7d} {ms(pick(50))} {ms(pick(99))} {ms(t[-1])}")


def during(path, action):
    stop = threading.Event()
    times = []
    th = threading.Thread(target=probe, args=(path, stop, times))
    th.start()
    try:
        action()
    finally:
        stop.set()
        th.join()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--deploy-mib", type=int, default=100)
    ap.add_argument("--reload-count", type=int, default=50)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    wasmd, wasmctl = os.path.join(build, "wasmd"), os.path.join(build, "wasmctl")
    ticker = os.path.join(build, "tests", "daemon", "ticker.wasm")
    mix = os.path.join(build, "bench", "wasm", "mix.wasm")
    if not os.path.exists(mix):
        mix = ticker
    tmp = tempfile.mkdtemp(prefix="wasmd-stall-")
    mods, state, sock = os.path.join(tmp, "mods"), os.path.join(tmp, "state"), os.path.join(tmp, "s.sock")
    os.makedirs(mods)
    daemon = subprocess.Popen([wasmd, "--modules-dir", mods, "--state-dir", state, "--socket", sock],
                              stderr=open(os.path.join(tmp, "wasmd.log"), "w"))
    try:
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        env = dict(os.environ, WASMD_SOCKET=sock)
        print(f"loop stalls: time to answer `version`, ms (deploy of {args.deploy_mib} MiB, "
              f"reload of {args.reload_count} x {os.path.basename(mix)})")
        print(f"{'':<8} {'answers':>7} {'p50':>8} {'p99':>8} {'max':>8}")
        summary("idle", during(sock, lambda: time.sleep(2)))

        big = os.path.join(tmp, "big.wasm")
        pad = b"\x03pad" + b"\x01" * (args.deploy_mib << 20)
        with open(ticker, "rb") as f, open(big, "wb") as out:
            out.write(f.read() + b"\x00" + leb(len(pad)) + pad)
        with open(os.path.join(tmp, "big.yaml"), "w") as f:
            f.write("module: big.wasm\nargs: [1000]\nrestart: never\n")
        deploy = lambda: subprocess.run([wasmctl, "deploy", big, os.path.join(tmp, "big.yaml")], env=env,
                                        check=True, stdout=subprocess.DEVNULL)
        summary("deploy", during(sock, deploy))
        os.unlink(big)

        shutil.copy(mix, os.path.join(mods, "mix.wasm"))
        for i in range(args.reload_count):
            with open(os.path.join(mods, f"m{i}.yaml"), "w") as f:
                f.write("module: mix.wasm\nrestart: never\n")
        reload = lambda: subprocess.run([wasmctl, "reload"], env=env, check=True, stdout=subprocess.DEVNULL)
        summary("reload", during(sock, reload))
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
