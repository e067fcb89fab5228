#!/usr/bin/env python3
"""The soak driver of scripts/soak.sh: mixes good renders, bad parameters, clients that trickle
their headers, clients that vanish mid-response and SIGKILLs of random workers against a
running `mandel serve`, for a bounded time, then checks what must hold afterwards:

- PRAGMA integrity_check is ok;
- no worker is left a zombie, and none is still busy once the load has stopped;
- every render answered 200 is in the log as ok (by the id the server answered with);
- the metrics agree: as many 200s counted as answered at least, no render in flight.

Prints one line of figures per behaviour and exits 1 if a check fails. Standard library only.

Usage: soak.py ADDR DB SUPERVISOR_PID [SECONDS]
"""
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import threading
import time

ADDR, DB, SUPERVISOR = sys.argv[1], sys.argv[2], int(sys.argv[3])
SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
HOST, PORT = ADDR.rsplit(":", 1)
PORT = int(PORT)
END = time.monotonic() + SECONDS

lock = threading.Lock()
stats = {}
acknowledged = []  # render ids answered with 200
failures = []


def count(what, n=1):
    with lock:
        stats[what] = stats.get(what, 0) + n


def fail(message):
    with lock:
        failures.append(message)


def get(path, timeout=30):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def good_renders():
    while time.monotonic() < END:
        w = random.choice([16, 32, 64, 100])
        q = "/render?width=%d&height=%d&max_iter=%d&color=%s" % (
            w, w, random.choice([50, 500, 5000]), random.choice(["counts", "smooth", "histogram"]))
        try:
            status, headers, _ = get(q)
        except OSError:
            count("good: no answer (worker killed)")
            continue
        if status == 200:
            with lock:
                acknowledged.append(int(headers["x-mandel-render-id"]))
            count("good: 200")
        elif status >= 500:
            count("good: %d (worker killed or deadline)" % status)
        else:
            fail("a good render got %d: %s" % (status, q))


def bad_parameters():
    bad = ["width=abc", "max_iter=0", "xmin=nan", "format=gif", "zoom=-1", "width=2147483648&"
           "height=2147483648&supersample=2", "colormap=%00", "center=1", "nope=1", "width=3&width=4"]
    while time.monotonic() < END:
        q = random.choice(bad)
        try:
            status, _, body = get("/render?" + q)
        except OSError:
            count("bad: no answer (worker killed)")
            continue
        if 400 <= status < 500 and "field" in json.loads(body):
            count("bad: 4xx naming the field")
        elif status >= 500:
            count("bad: %d (worker killed)" % status)
        else:
            fail("bad parameters %s got %d" % (q, status))
        time.sleep(0.01)  # pacing this client, not waiting for the server


def slow_headers():
    while time.monotonic() < END:
        s = socket.create_connection((HOST, PORT), timeout=10)
        start = time.monotonic()
        dropped = False
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n":
                s.sendall(bytes([byte]))
                time.sleep(0.25)  # pacing this client: a byte every 250 ms
                s.setblocking(False)
                try:
                    if s.recv(256) == b"":
                        dropped = True
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
        except OSError:
            dropped = True
        s.close()
        if dropped and time.monotonic() - start < 6:
            count("slow headers: dropped")
        elif dropped:
            fail("a slow-header client was dropped only after %.1f s" % (time.monotonic() - start))
        else:
            count("slow headers: served (worker killed mid-trickle?)")


def vanishing_clients():
    while time.monotonic() < END:
        s = socket.create_connection((HOST, PORT), timeout=10)
        q = "/render?width=2000&height=2000&max_iter=%d&format=ppm" % random.choice([20, 2000])
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % q).encode())
        # Gone before the answer (its render is cancelled), or after its first bytes.
        read = random.choice([0, 1, 4096])
        try:
            if read:
                s.recv(read)
        except OSError:
            pass
        s.close()
        count("vanished mid-response" if read else "vanished before the answer")
        time.sleep(0.05)  # pacing this client


def worker_killer():
    while time.monotonic() < END:
        time.sleep(random.uniform(0.2, 1.0))  # pacing: a kill every 0.2-1 s
        kids = children(SUPERVISOR)
        if kids:
            try:
                os.kill(random.choice(kids)[0], signal.SIGKILL)
                count("workers SIGKILLed")
            except ProcessLookupError:
                pass


def children(parent):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            out.append((int(pid), fields[0]))
    return out


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def main():
    threads = [threading.Thread(target=f) for f in
               [good_renders] * 6 + [bad_parameters] * 2 + [slow_headers] * 3 +
               [vanishing_clients] * 2 + [worker_killer]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Idle now: every worker must finish (or be reaped) within the timeouts, none a zombie.
    deadline = time.monotonic() + 30
    while children(SUPERVISOR) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = children(SUPERVISOR)
    if left:
        fail("workers still alive or unreaped after the load: %s" % left)
    _, _, body = get("/metrics")
    metrics = body.decode()
    if metric(metrics, "mandel_renders_in_flight") != 0:
        fail("renders still in flight by the metrics")
    ok_200 = metric(metrics, 'mandel_http_requests_total{status="200"}')
    if ok_200 < len(acknowledged):
        fail("metrics count %d 200s, clients received %d" % (ok_200, len(acknowledged)))

    db = sqlite3.connect(DB, timeout=30)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        fail("integrity_check: %s" % integrity)
    status = dict(db.execute("SELECT id, status FROM renders WHERE id IN (%s)" % ",".join(
        str(i) for i in acknowledged) if acknowledged else "SELECT 0, 0 WHERE 0").fetchall())
    missing = [i for i in acknowledged if status.get(i) != "ok"]
    if missing:
        fail("%d renders answered 200 are not logged ok: %s" % (len(missing), missing[:10]))
    by_status = dict(db.execute("SELECT status, count(*) FROM renders GROUP BY 1").fetchall())

    for what in sorted(stats):
        print("%-48s %d" % (what, stats[what]))
    print("%-48s %s" % ("log by status", json.dumps(by_status, sort_keys=True)))
    print("%-48s %s" % ("integrity_check", integrity))
    print("%-48s %d of %d" % ("answered 200 and logged ok", len(acknowledged) - len(missing),
                              len(acknowledged)))
    for f in failures:
        print("FAILED: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
