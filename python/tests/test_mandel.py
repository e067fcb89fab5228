"""`import mandel` against the seed's own Python (python/seed.py), and its contracts."""
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from multiprocessing import Pool

import numpy as np
import pytest

import mandel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import seed as reference  # noqa: E402  (python/seed.py, the seed's program)


def seed_grid(w, h, max_iter, xmin=-2.5, xmax=1.0, ymin=-1.0, ymax=1.0):
    return np.array([reference.mandelbrotCalcRow(y, h, w, max_iter, xmin, xmax, ymin, ymax)
                     for y in range(h)], dtype=np.uint32).reshape(h, w)


@pytest.mark.parametrize("w,h,max_iter", [(40, 30, 200), (17, 1, 50), (1, 9, 80), (33, 21, 1)])
def test_counts_equal_the_seed_on_its_view(w, h, max_iter):
    assert np.array_equal(mandel.render(w, h, max_iter), seed_grid(w, h, max_iter))


def test_counts_equal_the_seed_on_another_view():
    view = dict(xmin=-0.8, xmax=-0.7, ymin=0.05, ymax=0.15)
    got = mandel.render(37, 23, 700, **view)
    assert np.array_equal(got, seed_grid(37, 23, 700, **view))


def test_deep_zoom_through_the_same_call():
    # Past double precision, about c = i (a Misiurewicz point: spirals at every depth), with
    # a centre of 60 digits and a zoom no double holds.
    center = ("0.000000000000000000000000000000000000000000000000000000000001", "1")
    deep = mandel.render(24, 16, 3000, center=center, zoom="2.5e45")
    assert deep.dtype == np.uint32 and deep.shape == (16, 24)
    assert len(np.unique(deep)) > 5, "the detail of the view, not blocks"
    assert np.array_equal(deep, mandel.render(24, 16, 3000, center=",".join(center),
                                              zoom="2.5e45", precision="perturbation"))
    spiral = mandel.render(16, 12, 5000, center="0,1", zoom="1e300")
    assert (spiral > 500).all()
    # Doubles where they serve: auto is the seed's arithmetic, bit for bit.
    assert np.array_equal(mandel.render(40, 30, 200), mandel.render(40, 30, 200,
                                                                     precision="double"))
    with pytest.raises(ValueError, match="precision = exact"):
        mandel.render(8, 8, precision="exact")
    with pytest.raises(ValueError, match="zoom = 1e"):
        mandel.render(8, 8, center="0,0", zoom="1e99999")


def test_dtype_shape_contiguity_and_orientation():
    a = mandel.render(64, 48, 100)
    assert a.dtype == np.uint32 and a.shape == (48, 64)
    assert a.flags["C_CONTIGUOUS"]
    assert a.base is not None, "a view of the renderer's own buffer, not a copy"
    # Row 0 is ymin: in the upper half-plane, row 0 lies on the real axis, which crosses the
    # set from -2 to 0.25, and the last row at y = 0.9 misses the main cardioid.
    upper = mandel.render(40, 10, 200, ymin=0.0, ymax=1.0)
    assert (upper[0] == 200).sum() > (upper[-1] == 200).sum()
    whole = mandel.render(40, 21, 100)
    assert whole[10, 16] == 100  # (-1.1, 0) is in the set
    assert np.array_equal(mandel.render(40, 21, 100, rows=(3, 7)), whole[3:7])


def test_every_kernel_and_both_pools_agree():
    expected = mandel.render(97, 61, 600, pool="sequential", kernel="scalar")
    for kernel in mandel.kernels():
        for pool in ["sequential", "threads"]:
            for shortcuts in [True, False]:
                got = mandel.render(97, 61, 600, kernel=kernel, pool=pool, shortcuts=shortcuts)
                assert np.array_equal(got, expected), (kernel, pool, shortcuts)


def test_center_and_zoom_as_numbers_or_text():
    a = mandel.render(32, 32, 300, center=(-0.75, 0.1), zoom=3)
    b = mandel.render(32, 32, 300, center="-0.75,0.1", zoom="3")
    assert np.array_equal(a, b)


def test_a_reference_point_other_than_the_centre():
    # The spiral at 1e30 perturbed about a point two view widths to its left: the counts of
    # the render about the centre (but where direct iteration itself cannot settle a pixel),
    # the same again from the process's kept orbit, and a point too far is named.
    left = "-" + "0." + "0" * 29 + "7"
    about = mandel.render(32, 24, 4000, center="0,1", zoom="1e30")
    moved = mandel.render(32, 24, 4000, center="0,1", zoom="1e30", reference=(left, "1"))
    assert len(np.unique(about)) > 8
    assert (about != moved).sum() <= 1
    again = mandel.render(32, 24, 4000, center="0,1", zoom="1e30", reference=f"{left},1")
    assert np.array_equal(again, moved)
    picture = mandel.picture(32, 24, 4000, center="0,1", zoom="1e30", reference=(left, "1"),
                             color="counts", cycle=64)
    assert picture.shape == (24, 32, 3)
    with pytest.raises(ValueError, match="reference = -0.00000001,1 is more than 64 view"):
        mandel.render(8, 8, center="0,1", zoom="1e30", reference="-0.00000001,1")


@pytest.mark.parametrize("kwargs,named", [
    (dict(width=0), "width"),
    (dict(reference="0;1"), "reference"),
    (dict(max_iter=0), "max_iter"),
    (dict(xmin=float("nan")), "xmin"),
    (dict(xmin=1.0, xmax=0.0), "xmin"),
    (dict(kernel="sse9"), "kernel"),
    (dict(pool="processes"), "pool"),
    (dict(jobs=0), "jobs"),
    (dict(zoom=2.0), "zoom"),
    (dict(center="1"), "center"),
    (dict(center=(0.0, 0.0), xmin=-1.0), "xmin"),
    (dict(rows=(5, 3)), "rows"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, named):
    with pytest.raises(ValueError, match=named):
        mandel.render(**{"width": 16, "height": 16, **kwargs})


@pytest.mark.parametrize("kwargs", [dict(width=-1), dict(max_iter="many"), dict(width=2**40)])
def test_arguments_of_the_wrong_type_or_range_raise(kwargs):
    with pytest.raises((TypeError, ValueError, OverflowError)):
        mandel.render(**kwargs)


def test_the_gil_is_released_while_rendering():
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)  # pacing this thread, not waiting for the render

    t = threading.Thread(target=count)
    t.start()
    start = len(ticks)
    mandel.render(600, 600, 20000, shortcuts=False, jobs=1)
    during = len(ticks) - start
    done.set()
    t.join()
    assert during > 10, "the other thread did not run during the render"


LONG = "4000, 4000, 1000000, xmin=-0.1, xmax=0.1, ymin=-0.1, ymax=0.1, shortcuts=False"


def interrupt_in_a_long_call(call):
    """Seconds from SIGINT to KeyboardInterrupt in a child process busy in `call`, as the
    child saw it (CLOCK_MONOTONIC is one clock for every process)."""
    # A shell starts background jobs with SIGINT ignored, and Python then installs no
    # handler of its own: install it, as an interactive session has it.
    code = ("import mandel, signal, sys, time\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "print('ready', flush=True)\n"
            "try:\n"
            f"    {call}\n"
            "except KeyboardInterrupt:\n"
            "    print(time.monotonic(), flush=True)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # let the render get going: the interrupt must reach it mid-render
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert out.strip(), f"no KeyboardInterrupt: {err}"
    return float(out) - sent


def test_ctrl_c_interrupts_a_long_render_promptly():
    took = interrupt_in_a_long_call(f"mandel.render({LONG})")
    # It polls every 50 ms; the rest is slack for a loaded two-core machine.
    assert took < 0.25, took


def test_ctrl_c_during_a_save_leaves_no_file(tmp_path):
    target = tmp_path / "big.png"
    took = interrupt_in_a_long_call(f"mandel.save({str(target)!r}, {LONG})")
    assert took < 0.25, took
    assert list(tmp_path.iterdir()) == [], "neither the file nor its temporary may remain"


def test_colorize_gives_the_pictures_colours():
    view = dict(xmin=-1.5, xmax=0.5, ymin=-0.2, ymax=0.9)
    counts = mandel.render(53, 37, 250, **view)
    for style in [dict(), dict(colormap="magma", color="histogram"),
                  dict(colormap="turbo", cycle=40.0, offset=0.3), dict(inside="#102030")]:
        got = mandel.colorize(counts, max_iter=250, **style)
        assert got.dtype == np.uint8 and got.shape == (37, 53, 3), style
        assert np.array_equal(got, mandel.picture(53, 37, 250, **view, **style)), style
    # Without max_iter the largest count stands for it: the same on a view that holds the set.
    assert np.array_equal(mandel.colorize(counts, color="histogram"),
                          mandel.colorize(counts, color="histogram", max_iter=250))
    # Any integer array will do, and a non-contiguous one.
    assert np.array_equal(mandel.colorize(counts.astype(np.int64)[:, ::2]),
                          mandel.colorize(np.ascontiguousarray(counts[:, ::2])))


@pytest.mark.parametrize("args,kwargs,error,named", [
    ((), dict(color="smooth"), ValueError, "color = smooth"),
    ((), dict(max_iter=10), ValueError, "max_iter = 10"),
    ((), dict(colormap="jet"), ValueError, "colormap = jet"),
    ((), dict(cycle=0.0), ValueError, "cycle = 0"),
    ((), dict(inside="nocolour"), ValueError, "inside = nocolour"),
    ((np.zeros((2, 2, 2), np.uint32),), dict(), ValueError, "dimensions"),
    ((np.zeros((2, 2)),), dict(), TypeError, "float64"),
    ((np.full((2, 2), -1),), dict(), ValueError, "-1"),
])
def test_colorize_refuses_what_it_cannot_colour(args, kwargs, error, named):
    counts = args[0] if args else mandel.render(16, 16, 100)
    with pytest.raises(error, match=named):
        mandel.colorize(counts, **kwargs)


def read_ppm(path):
    """The pixels of a binary PPM (top row first) and its comment line."""
    data = path.read_bytes()
    magic, comment, size, depth, body = data.split(b"\n", 4)
    assert magic == b"P6" and depth == b"255"
    w, h = map(int, size.split())
    return np.frombuffer(body, np.uint8).reshape(h, w, 3), comment.decode()


def test_pictures_and_saved_files_are_the_commands(tmp_path):
    view = dict(center="-0.7436,0.1318", zoom=300)
    for style in [dict(), dict(color="smooth", colormap="twilight"), dict(supersample=3)]:
        pic = mandel.picture(45, 30, 600, **view, **style)
        assert pic.dtype == np.uint8 and pic.shape == (30, 45, 3) and pic.flags["C_CONTIGUOUS"]
        mandel.save(tmp_path / "a.ppm", 45, 30, 600, **view, **style)
        pixels, comment = read_ppm(tmp_path / "a.ppm")
        assert np.array_equal(pixels, pic[::-1]), style
        assert "render width=45&height=30&max_iter=600&center=-0.7436%2C0.1318" in comment
    mandel.save(str(tmp_path / "c.npy"), 45, 30, 600, **view)
    assert np.array_equal(np.load(tmp_path / "c.npy"), mandel.render(45, 30, 600, **view))
    mandel.save(tmp_path / "c.bin", 45, 30, 600, format="npy", **view)
    assert (tmp_path / "c.bin").read_bytes() == (tmp_path / "c.npy").read_bytes()
    for name in ["a.png", "a.jpg", "a.pgm", "a.pbm"]:
        mandel.save(tmp_path / name, 45, 30, 600)
        assert (tmp_path / name).stat().st_size > 0


def test_a_bad_save_raises_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="output = .*a.gif"):
        mandel.save(tmp_path / "a.gif", 16, 16)
    with pytest.raises(ValueError, match="supersample = 2"):
        mandel.save(tmp_path / "a.npy", 16, 16, supersample=2)
    with pytest.raises(ValueError, match="max_iter = 0"):
        mandel.save(tmp_path / "a.png", 16, 16, 0)
    with pytest.raises(FileNotFoundError, match="missing"):
        mandel.save(tmp_path / "missing" / "a.png", 16, 16)
    assert list(tmp_path.iterdir()) == []


def test_the_seed_drop_ins_equal_the_seeds_functions():
    for (y, h, w, m) in [(0, 30, 40, 200), (29, 30, 40, 200), (5, 7, 1, 3), (3, 4, 5, 1)]:
        assert mandel.seed.mandelbrotCalcRow(y, h, w, m) == reference.seed_row_verbatim(y, h, w, m)
    # Inputs the renderer does not take fall back on the seed's loop.
    for (y, h, w, m) in [(-1, 10, 8, 50), (12, 10, 8, 50), (2, 10, 8, 0), (2, 10, 8, -3)]:
        assert mandel.seed.mandelbrotCalcRow(y, h, w, m) == reference.seed_row_verbatim(y, h, w, m)
    got = mandel.seed.mandelbrotCalcSet(21, 34, 300)
    assert got == [reference.seed_row_verbatim(y, 21, 34, 300) for y in range(21)]
    assert isinstance(got[0][0], int)


def test_the_drop_in_row_function_works_under_a_process_pool():
    with Pool(2) as pool:
        rows = pool.map(partial(mandel.seed.mandelbrotCalcRow, h=20, w=30, max_iteration=100),
                        range(20))
    assert rows == [reference.seed_row_verbatim(y, 20, 30, 100) for y in range(20)]


def _small_render(_):
    return mandel.render(24, 16, 100).sum()


def test_a_process_forked_after_a_threaded_render_can_render():
    # The parent's thread pool exists before the fork; the children must not wait on it.
    expected = int(mandel.render(24, 16, 100, jobs=2).sum())
    with Pool(2) as pool:
        assert pool.map(_small_render, range(4)) == [expected] * 4
