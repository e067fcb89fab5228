"""The explorer, measured in headless Chromium against `mandel serve`, and its README pictures.

    python3 scripts/explore_bench.py [--shots] [--only TEXT] [--isolation thread]
                                                   # needs chromium and PyPI playwright

For each view: the time from opening the page to a full 1280×800 screen, cold (a new server,
its tile cache empty) and cached (the same server, a new browser with nothing cached); the
tiles' latency (p50, p99) and tiles per second while cold, from the browser's resource
timings. One run each; the figures go to stdout. --shots also writes docs/explore-desktop.jpg
and docs/explore-phone.jpg (and docs/explore-deep.jpg, of the zoom-1e30 view). --only
measures the views whose name contains TEXT; --isolation is passed to `mandel serve`.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[1]
# A point of seahorse valley with structure far past a double's precision.
DEEP = ("-0.743643887037158704752191506114774", "0.131825904205311970493132056385139")
VIEWS = {
    "home": "",
    "seahorse valley, zoom 1e5": "re=-0.743643887&im=0.131825904&zoom=1e5&colormap=classic",
    "zoom 1e11": "re=-0.7436438870371587&im=0.1318259042053&zoom=1e11&colormap=twilight",
    # Past double precision: tiles perturbed about a reference per 8×8 tiles.
    "zoom 1e20": f"re={DEEP[0]}&im={DEEP[1]}&zoom=1e20&colormap=twilight",
    "zoom 1e30": f"re={DEEP[0]}&im={DEEP[1]}&zoom=1e30&colormap=twilight",
}
SETTLED = "document.body.dataset.pending === '0'"
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def start_server(folder, isolation):
    proc = subprocess.Popen(
        [str(ROOT / "target/release/mandel"), "serve", "--listen", "127.0.0.1:0",
         "--db", str(folder / "m.db"), "--isolation", isolation],
        stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            # Its access log is read and dropped, so that the pipe never fills.
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, found.group(1)
    sys.exit("mandel serve did not start")


def open_view(browser, url, viewport=(1280, 800), scale=1):
    """Opens `url` in a new context; returns the page and the seconds to a settled screen."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=scale
    )
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.evaluate(FRAMES)
    page.wait_for_function(SETTLED, timeout=300_000)
    page.evaluate(FRAMES)
    return page, time.perf_counter() - start


def tile_timings(page):
    return page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => e.name.includes('/tile?'))
        .map(e => [e.startTime, e.responseEnd])""")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--isolation", default="process", choices=["process", "thread"])
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "mandel-cli"], cwd=ROOT,
                   check=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        print("| view | full screen, cold | cached | tiles | tile p50 | tile p99 | tiles/s cold |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for i, (name, query) in enumerate(VIEWS.items()):
            if args.only not in name:
                continue
            folder = pathlib.Path(tmp) / str(i)
            folder.mkdir()
            proc, base = start_server(folder, args.isolation)
            try:
                url = f"{base}/explore?{query}"
                page, cold = open_view(browser, url)
                spans = tile_timings(page)
                latencies = [(end - start) / 1e3 for start, end in spans]
                wall = (max(e for _, e in spans) - min(s for s, _ in spans)) / 1e3
                page.context.close()
                page, cached = open_view(browser, url)
                page.context.close()
                print(f"| {name} | {cold:.2f} s | {cached:.2f} s | {len(spans)} | "
                      f"{percentile(latencies, 50) * 1e3:.0f} ms | "
                      f"{percentile(latencies, 99) * 1e3:.0f} ms | {len(spans) / wall:.2g} |")
                if args.shots and i == 1:
                    page, _ = open_view(browser, url)
                    page.screenshot(path=str(ROOT / "docs/explore-desktop.jpg"), quality=85)
                    page.context.close()
                    page, _ = open_view(browser, url, viewport=(390, 844), scale=2)
                    page.screenshot(path=str(ROOT / "docs/explore-phone.jpg"), quality=85)
                    page.context.close()
                if args.shots and name == "zoom 1e30":
                    page, _ = open_view(browser, url)
                    page.screenshot(path=str(ROOT / "docs/explore-deep.jpg"), quality=85)
                    page.context.close()
            finally:
                proc.terminate()
                proc.wait(timeout=60)
        browser.close()


if __name__ == "__main__":
    main()
