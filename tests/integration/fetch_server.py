#!/usr/bin/env python3
"""fetch_server.py - a test web server for the daemon's downloads (test_fetch.sh).

    fetch_server.py DIR PORTFILE [CERT KEY]

Serves the files of DIR on 127.0.0.1 (HTTPS with CERT and KEY, else HTTP)
on a free port, written to PORTFILE once listening.  Besides plain files
(/NAME, with Range support), these paths misbehave on purpose:

    /stall/NAME   sends the headers, then nothing, ever
    /drop/NAME    the first request for NAME gets half the bytes and a closed
                  connection; later ones (a resume, with Range) the rest
    /norange/NAME like /drop/NAME but ignores Range: always the whole file
    /status/N     answers HTTP status N
    /loop         redirects to itself
    /redirect/NAME  redirects to /NAME
Plain files carry an ETag and a Last-Modified, and a request whose
If-None-Match matches gets 304.
Each request is logged to DIR/requests.log as "METHOD PATH RANGE INM"
(INM: the If-None-Match it sent, or -).
"""
import http.server
import os
import ssl
import sys
import threading
import time

ROOT, PORTFILE = sys.argv[1], sys.argv[2]
dropped = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        with lock, open(os.path.join(ROOT, "requests.log"), "a") as log:
            log.write("%s %s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-"),
                                          self.headers.get("If-None-Match", "-")))

    def send_file(self, name, drop=False, ranges=True):
        path = os.path.join(ROOT, os.path.basename(name))
        try:
            data = open(path, "rb").read()
            st = os.stat(path)
        except OSError:
            self.send_error(404)
            return
        etag = '"%d-%d"' % (st.st_size, st.st_mtime_ns)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and ranges and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def do_GET(self):
        self.log_message("")
        p = self.path
        if p.startswith("/stall/"):
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3600)
        elif p.startswith("/drop/") or p.startswith("/norange/"):
            name = p.split("/", 2)[2]
            with lock:
                first = p not in dropped
                dropped.add(p)
            self.send_file(name, drop=first, ranges=p.startswith("/drop/"))
        elif p.startswith("/status/"):
            self.send_response(int(p[8:]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + p[10:])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_file(p[1:])


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
