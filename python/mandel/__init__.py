"""The Mandelbrot set, exact and on every core, as numpy arrays.

``mandel.render()`` returns the escape counts of the seed program (the blog post that maps
``mandelbrotCalcRow`` over the rows of a 400x400 picture), bit for bit, computed by the same
library as the ``mandel`` command: SIMD kernels on every core, with the GIL released.

    >>> import mandel
    >>> counts = mandel.render(400, 400, 1000)      # uint32, shape (400, 400), row 0 at ymin
    >>> import matplotlib.pyplot as plt
    >>> plt.imshow(counts, origin="lower")           # the seed's picture, the right way up

Row 0 of every array here is the bottom edge of the view (ymin), as in the seed, so matplotlib
needs ``origin="lower"`` to show it upright (and an image library wants ``array[::-1]``).

- ``render``: the escape counts (uint32, height x width).
- ``colorize``: counts to colours (uint8, height x width x 3), as the command's pictures.
- ``picture``: the command's picture itself, smooth colour and supersampling included.
- ``save``: any of the command's formats (png, jpg, ppm, pgm, pbm, npy) to a file, with the
  parameters embedded, so that ``mandel render --from FILE`` renders it again.
- ``kernels``: the kernels this CPU can run.

``mandel.seed`` holds the seed's own functions as drop-ins: change its import line and the
seed's program, ``multiprocessing.Pool.map`` included, runs unchanged and gets the same lists.
"""

import os as _os

import numpy as _np

from . import _mandel

# A process forked from one that rendered on threads (multiprocessing's default on Linux) has
# none of those threads: the renderer starts new ones there.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_mandel._after_fork_in_child)

__all__ = ["render", "colorize", "picture", "save", "kernels", "seed"]


def _doc(**parts):
    """Fills a docstring's ``{name}`` blocks, shared by the functions that take them."""
    def fill(f):
        f.__doc__ = f.__doc__.format(**parts)
        return f
    return fill


_VIEW = """width, height : int
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
    reference : (float, float) or str, optional
        Past double precision, the point whose orbit every pixel is perturbed about (the
        centre by default; within 64 view widths of it). Renders in one process keep the
        orbits of their points (64 MB of them, the least recently used going first), so a
        second render of a deep view, at another size or colouring, skips its orbit.
    rows : (int, int), optional
        Only rows ``start`` to ``end - 1`` (row 0 at ymin): the array then has that many
        rows.
    precision : str
        ``"auto"`` (the seed's doubles where they stay faithful, perturbation around an
        arbitrary-precision reference orbit beyond: any depth, ``zoom="1e1000"``),
        ``"double"``, ``"perturbation"`` or ``"direct"`` (every pixel in arbitrary
        precision: slow, the ground truth)."""

_STYLE = """colormap : str
        A matplotlib colormap's name: viridis (the seed's), magma, inferno, plasma, turbo,
        twilight, greys or cubehelix.
    color : str
        ``"counts"`` (linear in the count, as the seed's ``imshow``), ``"histogram"`` (each
        colour covers as many pixels) or ``"smooth"`` (the continuous count: no bands).
    cycle : float, optional
        Repeat the colormap every this many iterations.
    offset : float
        Shift along the colormap, as a fraction of it.
    inside : str, optional
        The colour of the set, ``"#rrggbb"`` or a CSS name; by default the colormap's top
        colour for ``counts``, black otherwise."""

_RUN = """kernel : str
        ``"auto"`` (the fastest this CPU has) or one of ``mandel.kernels()``; all give the
        same counts.
    jobs : int, optional
        Threads to use (every core by default).
    pool : str
        ``"threads"`` (work-stealing threads) or ``"sequential"`` (one row after another, as
        the seed's ``map``).
    shortcuts : bool
        Let orbits proven never to escape stop early (the same counts, less work)."""

_RAISES = """ValueError
        For a bad argument, naming it: ``max_iter = 0 must be at least 1``.
    KeyboardInterrupt
        On Ctrl-C, within about a tenth of a second, however long the render."""


def _style_pairs(colormap, color, cycle, offset, inside, supersample=1):
    """The style as the (key, text) pairs of the command's canonical form."""
    pairs = [("colormap", str(colormap)), ("color", str(color)), ("offset", _text(offset)),
             ("supersample", _text(supersample))]
    if cycle is not None:
        pairs.append(("cycle", _text(cycle)))
    if inside is not None:
        pairs.append(("inside", str(inside)))
    return pairs


def _text(x):
    # repr() is the shortest text that reads back as the same float.
    return repr(x) if isinstance(x, float) else str(x)


@_doc(view=_VIEW, run=_RUN, raises=_RAISES)
def render(width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None, ymax=None,
           *, center=None, zoom=None, reference=None, rows=None, precision="auto",
           kernel="auto", jobs=None, pool="threads", shortcuts=True):
    """Escape counts of the Mandelbrot set, as a numpy array.

    Pixel (r, c) samples the point ``c*dx + xmin + i*(r*dy + ymin)`` with ``dx = (xmax -
    xmin)/width`` and ``dy = (ymax - ymin)/height``, and its count is how many times
    ``z <- z*z + c`` runs from 0 while ``|z| < 2`` and the count is below ``max_iter``: the
    seed's arithmetic, bit for bit, whatever the kernel or pool.

    Parameters
    ----------
    {view}
    {run}

    Returns
    -------
    numpy.ndarray
        uint32, shape ``(height, width)`` (or the rows asked for), C-contiguous, row 0 at
        ymin: the counts of ``mandel render -o FILE.npy``. The array owns the renderer's
        buffer: nothing is copied.

    Raises
    ------
    {raises}
    """
    job = _mandel.job(width, height, max_iter, xmin, xmax, ymin, ymax, center=center,
                      zoom=zoom, reference=reference, rows=rows, precision=precision,
                      kernel=kernel, jobs=jobs, pool=pool, shortcuts=shortcuts)
    return _mandel.counts(job)


@_doc(style=_STYLE)
def colorize(counts, colormap="viridis", color="counts", *, max_iter=None, cycle=None,
             offset=0.0, inside=None):
    """Colours escape counts as ``mandel render`` colours its pictures.

    Parameters
    ----------
    counts : array_like
        A two-dimensional array of counts, as ``render`` returns.
    {style}
    max_iter : int, optional
        The limit the counts were rendered with: a count equal to it is a point in the set.
        By default the largest count, which is right whenever the view holds a point of the
        set (as the seed's does) and makes no difference to the default ``counts`` colours.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``counts.shape + (3,)``, in the counts' order (row 0 stays row 0). For
        the counts of a ``render`` these are the pixels of ``picture`` with the same view.

    Raises
    ------
    ValueError
        For a bad argument, naming it; for ``color="smooth"``, which needs each orbit's final
        ``|z|`` (use ``picture``); and for ``max_iter`` below the largest count.
    TypeError
        For counts that are not integers.
    """
    if str(color).lower() == "smooth":
        raise ValueError("color = smooth needs each orbit's final |z|, which counts do not "
                         "keep: mandel.picture(..., color=\"smooth\") draws it")
    a = _np.asarray(counts)
    if a.ndim != 2:
        raise ValueError(f"counts has {a.ndim} dimensions; it must have 2 (rows, columns)")
    if a.dtype.kind not in "ui":
        raise TypeError(f"counts has dtype {a.dtype}; it must hold integers")
    if a.size and (a.min() < 0 or a.max() > 2**32 - 1):
        bad = a.min() if a.min() < 0 else a.max()
        raise ValueError(f"counts holds {bad}, which is not a count (0 to 4294967295)")
    a = _np.ascontiguousarray(a, dtype=_np.uint32)
    style = _style_pairs(colormap, color, cycle, offset, inside)
    return _mandel.colorize(a, max_iter=max_iter, style=style)


@_doc(view=_VIEW, style=_STYLE, run=_RUN, raises=_RAISES)
def picture(width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None, ymax=None,
            *, center=None, zoom=None, reference=None, rows=None, precision="auto",
            colormap="viridis", color="counts", cycle=None, offset=0.0, inside=None,
            supersample=1, kernel="auto", jobs=None, pool="threads", shortcuts=True):
    """The picture ``mandel render -o FILE.png`` draws, as a numpy array of colours.

    Parameters
    ----------
    {view}
    {style}
    supersample : int
        K: K x K samples per pixel (1 to 16), averaged in linear light.
    {run}

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(height, width, 3)``, row 0 at ymin like the counts: show it with
        ``plt.imshow(a, origin="lower")``, or hand ``a[::-1]`` to an image library.

    Raises
    ------
    {raises}
    """
    job = _mandel.job(width, height, max_iter, xmin, xmax, ymin, ymax, center=center,
                      zoom=zoom, reference=reference, rows=rows, precision=precision,
                      kernel=kernel, jobs=jobs, pool=pool, shortcuts=shortcuts,
                      style=_style_pairs(colormap, color, cycle, offset, inside, supersample))
    return _mandel.picture(job)


@_doc(view=_VIEW, style=_STYLE, run=_RUN, raises=_RAISES)
def save(path, width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None,
         ymax=None, *, center=None, zoom=None, reference=None, rows=None, precision="auto",
         format=None, colormap="viridis", color="counts", cycle=None, offset=0.0, inside=None,
         supersample=1, kernel="auto", jobs=None, pool="threads", shortcuts=True):
    """Renders into a file, as ``mandel render -o PATH`` does.

    The file appears whole or not at all (it is written aside and renamed into place), and a
    PNG, JPEG or PPM carries the render's parameters, so ``mandel render --from PATH`` draws
    it again.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write.
    {view}
    format : str, optional
        png, jpg, ppm (pictures), pgm (grey levels), pbm (the set in black), npy (the counts,
        exactly); by default the one the file's extension names.
    {style}
    supersample : int
        K: K x K samples per pixel (1 to 16), averaged in linear light (pictures only).
    {run}

    Raises
    ------
    {raises}
    OSError
        When the file cannot be written (``PermissionError``, ``FileNotFoundError``...).
    """
    job = _mandel.job(width, height, max_iter, xmin, xmax, ymin, ymax, center=center,
                      zoom=zoom, reference=reference, rows=rows, precision=precision,
                      kernel=kernel, jobs=jobs, pool=pool, shortcuts=shortcuts,
                      style=_style_pairs(colormap, color, cycle, offset, inside, supersample))
    _mandel.save(job, _os.fspath(path), format=format)


def kernels():
    """The kernels this CPU can run, slowest first: names that ``render(kernel=...)`` takes."""
    return _mandel.kernels()


from . import seed  # noqa: E402  (after render, which it uses)
