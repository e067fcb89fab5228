"""A real `mandel serve` on loopback and a real headless Chromium (Debian's), for the
explorer's tests."""

import os
import pathlib
import re
import subprocess
import threading
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]


def mandel_binary():
    """MANDEL if set, else the workspace's debug build (what `cargo test` leaves), else the
    release one."""
    if os.environ.get("MANDEL"):
        return os.environ["MANDEL"]
    for profile in ("debug", "release"):
        path = ROOT / "target" / profile / "mandel"
        if path.exists():
            return str(path)
    pytest.fail("no mandel binary: run cargo build first, or set MANDEL")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The base URL of a fresh `mandel serve` (its own log and tile cache)."""
    folder = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        [mandel_binary(), "serve", "--listen", "127.0.0.1:0", "--db", str(folder / "m.db")],
        stderr=subprocess.PIPE,
        text=True,
    )
    # The rest of its log goes to a file, read if a test fails.
    log = open(folder / "serve.log", "w")
    try:
        for line in proc.stderr:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                break
        else:
            pytest.fail("mandel serve exited before listening")
        threading.Thread(target=lambda: [log.write(line) for line in proc.stderr], daemon=True).start()
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def browser(chromium):
    """The browser, whose contexts (the tests' pages and their connections) are closed after
    each test."""
    before = set(chromium.contexts)
    yield chromium
    for context in set(chromium.contexts) - before:
        context.close()


def metric(base, name, labels):
    """One sample of the server's /metrics."""
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.split()[-1])
    raise AssertionError(f"{name}{{{labels}}} is not in /metrics")
