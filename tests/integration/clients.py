#!/usr/bin/env python3
"""clients.py SOCKET MODE [ARGS...] - raw control-socket clients for test_clients.sh.

Each mode prints one line of results (and exits 0) or says what went wrong
(exit 1).  Every wait has a generous deadline (DEADLINE seconds): the
tests assert what happens, never how fast.

  flood
      Sends `list` requests and never reads a reply, until the daemon
      drops the connection.  Prints "dropped after N bytes sent".
  hold N STOPFILE
      Opens N connections one after the other; on each sends `version` and
      reads the answer.  Prints "served S denied D" (and the first denial),
      then keeps the served ones open, silent, until STOPFILE exists.
  idle N
      Opens N connections that send nothing, and one that sends half a
      request; waits for the daemon to close each.  Prints "closed C of M".
  linger
      Connects and neither sends nor closes; reads the refusal, then waits
      for the daemon to close.  Prints "refused, then closed".
"""
import os
import socket
import sys
import time

DEADLINE = 120


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s


def read_line(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def wait_closed(s):
    """True when the daemon closes s (EOF or reset) before the deadline; data is read and dropped."""
    s.settimeout(DEADLINE)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        return False
    except OSError:
        pass  # a reset is a close too
    return True


def flood(path):
    s = connect(path)
    s.settimeout(DEADLINE)
    batch = b'{"v":1,"verb":"list"}\n' * 1000
    sent = 0
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            sent += s.send(batch)
        except (BrokenPipeError, ConnectionResetError):
            print("dropped after %d bytes sent" % sent)
            return 0
        except socket.timeout:
            break
    print("not dropped after %d bytes sent" % sent)
    return 1


def hold(path, n, stopfile):
    served, denied, first = [], 0, ""
    for _ in range(n):
        s = connect(path)
        s.settimeout(DEADLINE)
        s.sendall(b'{"v":1,"verb":"version"}\n')
        reply = read_line(s)
        if '"status":"ok"' in reply:
            served.append(s)
        else:
            denied += 1
            first = first or reply
            s.close()
    print("served %d denied %d %s" % (len(served), denied, first), flush=True)
    end = time.monotonic() + DEADLINE
    while not os.path.exists(stopfile) and time.monotonic() < end:
        time.sleep(0.05)
    for s in served:
        s.close()
    return 0


def idle(path, n):
    conns = [connect(path) for _ in range(n)]
    half = connect(path)
    half.sendall(b'{"v":1,"verb":"li')
    conns.append(half)
    closed = sum(1 for s in conns if wait_closed(s))
    print("closed %d of %d" % (closed, len(conns)))
    return 0 if closed == len(conns) else 1


def linger(path):
    s = connect(path)
    s.settimeout(DEADLINE)
    reply = read_line(s)
    if '"status":"denied"' not in reply:
        print("no refusal: %r" % reply)
        return 1
    print("refused, then closed" if wait_closed(s) else "refused, not closed")
    return 0


def main():
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "flood":
        return flood(path)
    if mode == "hold":
        return hold(path, int(args[0]), args[1])
    if mode == "idle":
        return idle(path, int(args[0]))
    if mode == "linger":
        return linger(path)
    print("unknown mode " + mode)
    return 2


if __name__ == "__main__":
    sys.exit(main())
