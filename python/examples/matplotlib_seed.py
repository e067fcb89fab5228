#!/usr/bin/env python3
"""The seed's picture from Python, with matplotlib: counts from `mandel.render`, shown the
right way up with `origin="lower"`, beside a deeper view in histogram colours.

Writes docs/python-matplotlib.png (or the path given). Needs matplotlib.
Usage: python3 python/examples/matplotlib_seed.py [OUT.png]
"""
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

import mandel  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "docs/python-matplotlib.png"

# The seed: 400x400, max-iter 1000, its view -2.5..1 x -1..1; row 0 is ymin.
counts = mandel.render(400, 400, 1000)
# Seahorse valley, 200 times closer, coloured as `mandel render --color histogram` colours.
deep = mandel.render(600, 400, 2000, center=(-0.7436, 0.1318), zoom=200)
colours = mandel.colorize(deep, "magma", "histogram", max_iter=2000)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
left.imshow(counts, origin="lower", extent=(-2.5, 1.0, -1.0, 1.0))
left.set_title("mandel.render(400, 400, 1000)")
w = 3.5 / 200
h = w * 400 / 600
right.imshow(colours, origin="lower",
             extent=(-0.7436 - w / 2, -0.7436 + w / 2, 0.1318 - h / 2, 0.1318 + h / 2))
right.set_title('colorize(render(..., zoom=200), "magma", "histogram")')
for ax in (left, right):
    ax.set_xlabel("re")
    ax.set_ylabel("im")
fig.tight_layout()
fig.savefig(out)
print(out)
