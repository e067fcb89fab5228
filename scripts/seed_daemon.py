#!/usr/bin/env python3
"""The seed's comment-thread daemon, in Python as its author wanted it: a listener that forks a
worker process per connection, at most 100 alive at once (the parent stops accepting at the cap
and resumes when one exits), workers that log every request in SQLite and answer with a very
simple HTML page. Each request renders its grid with the seed's own row function.

It is the yardstick of scripts/load.sh, which loads it exactly as it loads `mandel serve`.

Usage: seed_daemon.py [--port P] [--db PATH] [--max-workers N]
       GET /render?width=64&height=64&max_iter=256  (and xmin, xmax, ymin, ymax)
"""
import argparse
import http.server
import os
import socketserver
import sqlite3
import sys
import time
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from seed import mandelbrotCalcRow  # noqa: E402  (the seed's function, viewport as parameters)

SCHEMA = """CREATE TABLE IF NOT EXISTS renders (
    id INTEGER PRIMARY KEY, requested_at REAL NOT NULL, client TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, max_iter INTEGER NOT NULL,
    iterations INTEGER NOT NULL, seconds REAL NOT NULL)"""


class Handler(http.server.BaseHTTPRequestHandler):
    db_path = "seed-daemon.db"

    def log_message(self, *args):  # no access log: wrk sends thousands of requests
        pass

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/healthz":
            return self.answer(200, "<p>ok</p>")
        if url.path != "/render":
            return self.answer(404, "<p>no such page</p>")
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            w, h = int(q.get("width", 64)), int(q.get("height", 64))
            max_iter = int(q.get("max_iter", 1000))
            view = [float(q.get(k, d)) for k, d in
                    (("xmin", -2.5), ("xmax", 1.0), ("ymin", -1.0), ("ymax", 1.0))]
        except ValueError as e:
            return self.answer(400, "<p>bad parameter: %s</p>" % e)
        if not (0 < w * h <= 1 << 20 and 0 < max_iter <= 1000000):
            return self.answer(413, "<p>too large</p>")
        start = time.time()
        rows = [mandelbrotCalcRow(y, h, w, max_iter, *view) for y in range(h)]
        iterations = sum(map(sum, rows))
        seconds = time.time() - start
        db = sqlite3.connect(self.db_path, timeout=10)
        with db:
            db.execute("INSERT INTO renders (requested_at, client, width, height, max_iter,"
                       " iterations, seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (start, self.client_address[0], w, h, max_iter, iterations, seconds))
        total, = db.execute("SELECT count(*) FROM renders").fetchone()
        db.close()
        self.answer(200, "<h1>Mandelbrot %dx%d</h1><p>%d iterations in %.3f s; %d renders "
                         "logged</p>" % (w, h, iterations, seconds, total))

    def answer(self, status, html):
        body = ("<!doctype html><title>mandel</title>%s" % html).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class Daemon(socketserver.ForkingMixIn, http.server.HTTPServer):
    # ForkingMixIn forks a child per connection and, with max_children alive, waits for one
    # to exit before it accepts again: the cap the comment thread asks for.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A load generator that stops mid-request leaves broken pipes: not worth a traceback.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--db", default="seed-daemon.db")
    ap.add_argument("--max-workers", type=int, default=100)
    args = ap.parse_args()
    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(SCHEMA)
    db.close()
    Handler.db_path = args.db
    Daemon.max_children = args.max_workers
    with Daemon(("127.0.0.1", args.port), Handler) as daemon:
        print("listening on http://127.0.0.1:%d" % daemon.server_address[1], flush=True)
        daemon.serve_forever()


if __name__ == "__main__":
    main()
