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


@pytest.mark.parametrize("kwargs,named", [
    (dict(width=0), "width"),
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


def test_ctrl_c_interrupts_a_long_render_promptly():
    code = ("import mandel, sys; print('ready', flush=True); "
            "mandel.render(4000, 4000, 1000000, xmin=-0.1, xmax=0.1, ymin=-0.1, ymax=0.1, "
            "shortcuts=False)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # let the render get going: the interrupt must reach it mid-render
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    took = time.monotonic() - sent
    assert "KeyboardInterrupt" in err, err
    assert took < 0.5, took


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
