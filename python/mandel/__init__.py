"""The Mandelbrot set, exact and on every core, as numpy arrays.

``mandel.render()`` returns the escape counts of the seed program (the blog post that maps
``mandelbrotCalcRow`` over the rows of a 400x400 picture), bit for bit, computed by the same
library as the ``mandel`` command: SIMD kernels on every core, with the GIL released.

    >>> import mandel
    >>> counts = mandel.render(400, 400, 1000)      # uint32, shape (400, 400), row 0 at ymin
    >>> import matplotlib.pyplot as plt
    >>> plt.imshow(counts, origin="lower")           # the seed's picture, the right way up

Row 0 of the array is the bottom edge of the view (ymin), as in the seed, so matplotlib needs
``origin="lower"`` to show it upright.

``mandel.seed`` holds the seed's own functions as drop-ins: change its import line and the
seed's program, ``multiprocessing.Pool.map`` included, runs unchanged and gets the same lists.
"""

import os as _os

from ._mandel import _after_fork_in_child
from ._mandel import kernels as _kernels
from ._mandel import render as _render

# A process forked from one that rendered on threads (multiprocessing's default on Linux) has
# none of those threads: the renderer starts new ones there.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["render", "kernels", "seed"]


def render(width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None, ymax=None,
           *, center=None, zoom=None, rows=None, kernel="auto", jobs=None, pool="threads",
           shortcuts=True):
    """Escape counts of the Mandelbrot set, as a numpy array.

    Pixel (r, c) samples the point ``c*dx + xmin + i*(r*dy + ymin)`` with ``dx = (xmax -
    xmin)/width`` and ``dy = (ymax - ymin)/height``, and its count is how many times
    ``z <- z*z + c`` runs from 0 while ``|z| < 2`` and the count is below ``max_iter``: the
    seed's arithmetic, bit for bit, whatever the kernel or pool.

    Parameters
    ----------
    width, height : int
        Pixels per row, and rows of the whole picture (400 x 400, as the seed).
    max_iter : int
        The iteration limit: a pixel that reaches it is taken to be in the set (1000).
    xmin, xmax, ymin, ymax : float, optional
        The view's edges; by default the seed's view, -2.5 to 1.0 by -1.0 to 1.0.
    center : (float, float) or str, optional
        The view's centre, ``(re, im)`` or ``"re,im"``, instead of its edges; with ``zoom``
        (1 shows 3.5 units across, as the seed's view). Decimal strings keep every digit.
    zoom : float or str, optional
        Magnification about ``center``.
    rows : (int, int), optional
        Only rows ``start`` to ``end - 1`` (row 0 at ymin): the array then has that many rows.
    kernel : str
        ``"auto"`` (the fastest this CPU has) or one of ``mandel.kernels()``; all give the same
        counts.
    jobs : int, optional
        Threads to use (every core by default).
    pool : str
        ``"threads"`` (work-stealing threads) or ``"sequential"`` (one row after another, as
        the seed's ``map``).
    shortcuts : bool
        Let orbits proven never to escape stop early (the same counts, less work).

    Returns
    -------
    numpy.ndarray
        uint32, shape ``(height, width)`` (or the rows asked for), C-contiguous, row 0 at ymin.
        The array owns the renderer's buffer: nothing is copied.

    Raises
    ------
    ValueError
        For a bad argument, naming it: ``max_iter = 0 must be at least 1``.
    KeyboardInterrupt
        On Ctrl-C, within about a tenth of a second, however long the render.
    """
    return _render(width, height, max_iter, xmin, xmax, ymin, ymax, center=center, zoom=zoom,
                   rows=rows, kernel=kernel, jobs=jobs, pool=pool, shortcuts=shortcuts)


def kernels():
    """The kernels this CPU can run, slowest first: names that ``render(kernel=...)`` takes."""
    return _kernels()


from . import seed  # noqa: E402  (after render, which it uses)
