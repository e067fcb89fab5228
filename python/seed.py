#!/usr/bin/env python3
"""The seed program, ported to Python 3: the reference that mandel's counts are checked against.

`mandelbrotCalcRow` below is the seed's function with its viewport made a parameter: the seed
computes `y0 = yPos * (2/float(h)) - 1` and `x0 = xPos * (3.5/float(w)) - 2.5`; here the 2, -1,
3.5 and -2.5 come from ymax - ymin, ymin, xmax - xmin and xmin (the same doubles, the same
operations, for the seed's view). `seed_row_verbatim` is the seed's text itself (xrange made
range), used to check that generalisation on the seed's own view.

Usage:
  seed.py [--width W] [--height H] [--max-iter N] [--xmin ..] [--xmax ..] [--ymin ..] [--ymax ..]
          [--pool sequential|processes] [--jobs J] [--out FILE] [--check-npy FILE]

Writes the counts as little-endian uint32, row 0 (ymin) first, to --out (or standard output),
and prints the seconds the map took on stderr. --check-npy loads a .npy file with numpy and
exits 1 unless its dtype, shape and values equal the seed's.
"""
import argparse
import multiprocessing
import sys
import time
from array import array
from functools import partial


def mandelbrotCalcRow(yPos, h, w, max_iteration=1000, xmin=-2.5, xmax=1.0, ymin=-1.0, ymax=1.0):
    y0 = yPos * ((ymax - ymin) / float(h)) + ymin
    row = []
    for xPos in range(w):
        x0 = xPos * ((xmax - xmin) / float(w)) + xmin
        iteration, z = 0, 0 + 0j
        c = complex(x0, y0)
        while abs(z) < 2 and iteration < max_iteration:
            z = z**2 + c
            iteration += 1
        row.append(iteration)
    return row


def seed_row_verbatim(yPos, h, w, max_iteration=1000):
    y0 = yPos * (2/float(h)) - 1 #rescale to -1 to 1
    row = []
    for xPos in range(w):
        x0 = xPos * (3.5/float(w)) - 2.5 #rescale to -2.5 to 1
        iteration, z = 0, 0 + 0j
        c = complex(x0, y0)
        while abs(z) < 2 and iteration < max_iteration:
            z = z**2 + c
            iteration += 1
        row.append(iteration)
    return row


def mandelbrotCalcSet(args):
    partialCalcRow = partial(mandelbrotCalcRow, h=args.height, w=args.width,
                             max_iteration=args.max_iter, xmin=args.xmin, xmax=args.xmax,
                             ymin=args.ymin, ymax=args.ymax)
    if args.pool == "sequential":
        return list(map(partialCalcRow, range(args.height)))
    # The seed's pool: map, then close, then join.
    pool = multiprocessing.Pool(args.jobs)
    mandelImg = pool.map(partialCalcRow, range(args.height))
    pool.close()
    pool.join()
    return mandelImg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=400)
    p.add_argument("--height", type=int, default=400)
    p.add_argument("--max-iter", type=int, default=1000)
    p.add_argument("--xmin", type=float, default=-2.5)
    p.add_argument("--xmax", type=float, default=1.0)
    p.add_argument("--ymin", type=float, default=-1.0)
    p.add_argument("--ymax", type=float, default=1.0)
    p.add_argument("--pool", choices=["sequential", "processes"], default="sequential")
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--out")
    p.add_argument("--check-npy")
    args = p.parse_args()

    start = time.perf_counter()
    rows = mandelbrotCalcSet(args)
    seconds = time.perf_counter() - start
    print(f"{seconds:.6f}", file=sys.stderr)

    if (args.xmin, args.xmax, args.ymin, args.ymax) == (-2.5, 1.0, -1.0, 1.0):
        for y in sorted({0, args.height // 2, args.height - 1}):
            assert rows[y] == seed_row_verbatim(y, args.height, args.width, args.max_iter), y

    if args.check_npy:
        import numpy
        a = numpy.load(args.check_npy)
        ok = a.dtype == numpy.dtype("<u4") and a.shape == (args.height, args.width)
        ok = ok and a.tolist() == rows
        print("npy matches the seed" if ok else f"npy differs: {a.dtype} {a.shape}", file=sys.stderr)
        sys.exit(0 if ok else 1)

    data = array("I", (n for row in rows for n in row))
    assert data.itemsize == 4
    if sys.byteorder != "little":
        data.byteswap()
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data.tobytes())
    else:
        sys.stdout.buffer.write(data.tobytes())


if __name__ == "__main__":
    main()
