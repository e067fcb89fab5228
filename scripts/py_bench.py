#!/usr/bin/env python3
"""From Python: the seed's function, numpy, numba and `mandel.render` on the same grids.

Each program computes the seed's counts (the seed's view, `x0 = col*dx + xmin`, `z = z*z + c`
while |z| < 2) and is checked against `mandel.render`'s, pixel for pixel: the script stops if
any but numpy's complex-array version differs in a single count, and reports how many of
that one's differ. Iterations per second are the seed's iterations (the sum of the counts) over the wall
time, whatever work a program skips. All programs run in this one process run, the fast ones
best of --repeat in interleaved rounds, so the ratios compare like with like.

The seed's loop is too slow for every row of the large grid: there it runs on every
--sample-rows'th row, its rate is measured on those rows, and its time for the whole grid is
that rate over the whole grid's iterations (marked "~"); so does numpy, on every
--numpy-sample'th row.

Needs: numpy, numba (`pip install numba`), and mandel (`pip install .`).
Usage: python3 scripts/py_bench.py [--repeat N] [--sample-rows K] [--out FILE]
"""
import argparse
import os
import sys
import time
from functools import partial
from multiprocessing import Pool

import numpy as np

import mandel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import seed  # noqa: E402  (python/seed.py: the seed's program, its view a parameter)

XMIN, XMAX, YMIN, YMAX = -2.5, 1.0, -1.0, 1.0


def seed_map(w, h, max_iter, rows):
    """The seed's first program: `map` of its row function over the rows."""
    return np.array(list(map(partial(seed.mandelbrotCalcRow, h=h, w=w,
                                     max_iteration=max_iter), rows)), dtype=np.uint32)


def seed_pool(w, h, max_iter, rows):
    """The seed's second program: the same function under `multiprocessing.Pool().map`."""
    with Pool() as pool:
        out = pool.map(partial(seed.mandelbrotCalcRow, h=h, w=w, max_iteration=max_iter),
                       rows)
    return np.array(out, dtype=np.uint32)


def numpy_complex(w, h, max_iter, rows):
    """The well-known numpy version: the grid as one complex array, stepped together, the
    points that escaped dropped from the working set. numpy's complex product and modulus
    are not Python's to the last bit (SIMD loops, a different hypot), so a few counts
    differ: it is timed, and the differences are reported, not hidden."""
    x = np.arange(w) * ((XMAX - XMIN) / w) + XMIN
    y = np.asarray(rows) * ((YMAX - YMIN) / h) + YMIN
    c = (x[np.newaxis, :] + 1j * y[:, np.newaxis]).ravel()
    counts = np.zeros(c.size, np.uint32)
    index = np.arange(c.size)
    z = np.zeros_like(c)
    for _ in range(max_iter):
        alive = np.abs(z) < 2
        index, z, c = index[alive], z[alive], c[alive]
        if index.size == 0:
            break
        z = z**2 + c
        counts[index] += 1
    return counts.reshape(len(rows), w)


def numpy_exact(w, h, max_iter, rows):
    """The same on real arrays, in the seed's arithmetic: Python's complex product
    (re = a*a - b*b, im = a*b + b*a), each operation its own ufunc (so none is fused), and
    Python's modulus, hypot."""
    x = np.arange(w) * ((XMAX - XMIN) / w) + XMIN
    y = np.asarray(rows) * ((YMAX - YMIN) / h) + YMIN
    cr = np.broadcast_to(x[np.newaxis, :], (len(rows), w)).ravel()
    ci = np.broadcast_to(y[:, np.newaxis], (len(rows), w)).ravel()
    counts = np.zeros(cr.size, np.uint32)
    index = np.arange(cr.size)
    zr, zi = np.zeros_like(cr), np.zeros_like(cr)
    for _ in range(max_iter):
        alive = np.hypot(zr, zi) < 2
        index, zr, zi, cr, ci = index[alive], zr[alive], zi[alive], cr[alive], ci[alive]
        if index.size == 0:
            break
        zr, zi = (zr * zr - zi * zi) + cr, (zr * zi + zi * zr) + ci
        counts[index] += 1
    return counts.reshape(len(rows), w)


def numba_program():
    """The numba version, rows in parallel (`prange`), no fastmath (which would change
    counts), compiled once here so that its compile time is not its run time."""
    import numba

    @numba.njit(parallel=True)
    def counts(w, h, max_iter, xmin, xmax, ymin, ymax):
        dx, dy = (xmax - xmin) / w, (ymax - ymin) / h
        out = np.empty((h, w), np.uint32)
        for r in numba.prange(h):
            y0 = r * dy + ymin
            for col in range(w):
                c = complex(col * dx + xmin, y0)
                z = 0j
                n = 0
                while abs(z) < 2 and n < max_iter:
                    z = z * z + c
                    n += 1
                out[r, col] = n
        return out

    start = time.perf_counter()
    counts(8, 8, 10, XMIN, XMAX, YMIN, YMAX)
    compile_s = time.perf_counter() - start

    def run(w, h, max_iter, rows):
        assert len(rows) == h, "numba runs whole grids"
        return counts(w, h, max_iter, XMIN, XMAX, YMIN, YMAX)
    return run, compile_s, numba.config.NUMBA_NUM_THREADS


def mandel_render(jobs, shortcuts=True):
    """`mandel.render`; with shortcuts=False it does every iteration the counts stand for."""
    def run(w, h, max_iter, rows):
        assert len(rows) == h, "mandel runs whole grids"
        return mandel.render(w, h, max_iter, jobs=jobs, shortcuts=shortcuts)
    return run


def timed(program, w, h, max_iter, rows):
    start = time.perf_counter()
    counts = program(w, h, max_iter, rows)
    return time.perf_counter() - start, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fast program (best)")
    ap.add_argument("--sample-rows", type=int, default=40,
                    help="the seed runs every K'th row of the large grid")
    ap.add_argument("--numpy-sample", type=int, default=10,
                    help="numpy runs every K'th row of the large grid (1: all)")
    ap.add_argument("--grids", default="400x400x1000,2000x2000x5000")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()

    numba_run, compile_s, numba_threads = numba_program()
    cores = os.cpu_count()
    lines = [f"# {sys.version.split()[0]}, numpy {np.__version__}, "
             f"numba {__import__('numba').__version__} ({numba_threads} threads, compiled in "
             f"{compile_s:.1f} s, not counted), mandel kernels {','.join(mandel.kernels())}, "
             f"{cores} cores", ""]
    for grid in args.grids.split(","):
        w, h, max_iter = map(int, grid.split("x"))
        large = w * h > 400 * 400
        every_row = list(range(h))
        seed_rows = every_row[::args.sample_rows] if large else every_row
        numpy_rows = every_row[::args.numpy_sample] if large else every_row
        programs = [
            ("seed, map (1 core)", seed_map, seed_rows, 1),
            ("seed, Pool.map", seed_pool, seed_rows, 1),
            ("numpy, complex arrays (1 core)", numpy_complex, numpy_rows, 1),
            ("numpy, the seed's arithmetic (1 core)", numpy_exact, numpy_rows, 1),
            (f"numba parallel ({numba_threads} threads)", numba_run, every_row, args.repeat),
            ("mandel.render, jobs=1", mandel_render(1), every_row, args.repeat),
            (f"mandel.render ({cores} threads)", mandel_render(None), every_row, args.repeat),
            (f"mandel.render, shortcuts=False ({cores} threads)",
             mandel_render(None, shortcuts=False), every_row, args.repeat),
        ]
        truth = mandel.render(w, h, max_iter, kernel="scalar", pool="sequential")
        total = int(truth.sum(dtype=np.uint64))
        best, differ = {}, {}
        for round_ in range(args.repeat):
            for name, program, rows, repeats in programs:
                if round_ >= repeats:
                    continue
                took, counts = timed(program, w, h, max_iter, rows)
                wrong = int((counts != truth[rows]).sum())
                if wrong and program is not numpy_complex:
                    sys.exit(f"{name}: {wrong} of {counts.size} counts differ from mandel's")
                differ[name] = (wrong, counts.size)
                rate = int(truth[rows].sum(dtype=np.uint64)) / took
                best[name] = max(best.get(name, (0, False)), (rate, len(rows) < h))
        lines.append(f"## {w}x{h}, max-iter {max_iter}: {total:,} iterations")
        lines.append("")
        lines.append("| program | seconds | iterations/s | vs the seed's map | counts unlike "
                     "mandel's |")
        lines.append("|---|---:|---:|---:|---:|")
        base = best["seed, map (1 core)"][0]
        for name, *_ in programs:
            rate, sampled = best[name]
            mark = "~" if sampled else ""
            wrong, size = differ[name]
            lines.append(f"| {name} | {mark}{total / rate:.3g} | {rate / 1e6:,.1f} M | "
                         f"{rate / base:,.1f}x | {wrong} of {size:,} |")
        lines.append("")
        if any(s for _, s in best.values()):
            lines.append(f"~ measured on every {args.sample_rows}th row (seed) or "
                         f"{args.numpy_sample}th row (numpy); time = the whole grid's "
                         "iterations at the measured rate.")
            lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
