"""The seed program's functions, computed by mandel: drop-ins for its own.

The seed (a blog post) defines ``mandelbrotCalcRow(yPos, h, w, max_iteration=1000)`` and
``mandelbrotCalcSet(h, w, max_iteration=1000)`` over the view -2.5..1 x -1..1. Replace its
definitions with

    from mandel.seed import mandelbrotCalcRow, mandelbrotCalcSet

and the rest of the program, ``Pool().map(partial(mandelbrotCalcRow, ...), range(h))``
included, runs unchanged and gets the same lists, far sooner. Inputs the renderer does not
take (a row outside the picture, max_iteration below 1) are computed by the seed's own loop, so
every input gives the seed's answer.
"""

from . import render

__all__ = ["mandelbrotCalcRow", "mandelbrotCalcSet"]

_U32_MAX = 2**32 - 1


def _fits(h, w, max_iteration):
    return (all(isinstance(v, int) and not isinstance(v, bool) for v in (h, w, max_iteration))
            and 0 < h <= _U32_MAX and 0 < w <= _U32_MAX and 0 < max_iteration <= _U32_MAX)


def mandelbrotCalcRow(yPos, h, w, max_iteration=1000):
    """The seed's row ``yPos`` of an ``h`` x ``w`` picture: a list of ``w`` counts."""
    if _fits(h, w, max_iteration) and isinstance(yPos, int) and 0 <= yPos < h:
        return render(w, h, max_iteration, rows=(yPos, yPos + 1))[0].tolist()
    return _seed_row(yPos, h, w, max_iteration)


def mandelbrotCalcSet(h, w, max_iteration=1000):
    """The seed's whole ``h`` x ``w`` picture: a list of ``h`` rows, row 0 first."""
    if _fits(h, w, max_iteration):
        return render(w, h, max_iteration).tolist()
    return [_seed_row(y, h, w, max_iteration) for y in range(h)]


def _seed_row(yPos, h, w, max_iteration=1000):
    # The seed's text (xrange made range), for the inputs the renderer does not take.
    y0 = yPos * (2 / float(h)) - 1
    row = []
    for xPos in range(w):
        x0 = xPos * (3.5 / float(w)) - 2.5
        iteration, z = 0, 0 + 0j
        c = complex(x0, y0)
        while abs(z) < 2 and iteration < max_iteration:
            z = z**2 + c
            iteration += 1
        row.append(iteration)
    return row
