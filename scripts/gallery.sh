#!/usr/bin/env bash
# Renders the README's gallery into docs/gallery/. Each picture carries its parameters, so
# `mandel render --from docs/gallery/NAME.png -o again.png` makes it again, bit for bit.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
m="target/release/mandel render --quiet --width 480 --height 320 --supersample 3"
out=docs/gallery
mkdir -p "$out"
target/release/mandel render --quiet -o docs/seed.png
$m --center -0.743643887037151,0.131825904205330 --zoom 2000 --max-iter 3000 \
   --color smooth --colormap classic --cycle 64 -o "$out/seahorse-valley.png"
$m --center -0.761574,-0.0847596 --zoom 1500 --max-iter 3000 \
   --color smooth --colormap twilight --cycle 48 --offset 0.5 -o "$out/spiral.png"
$m --center -1.7548776662466927,0 --zoom 45 --max-iter 2000 \
   --color histogram --colormap inferno -o "$out/minibrot.png"
$m --center 0.2925,0.0149 --zoom 250 --max-iter 2000 \
   --color smooth --colormap magma --cycle 40 -o "$out/elephant-valley.png"
$m --center -0.75,0 --zoom 1.1 --max-iter 500 --color smooth --colormap classic --cycle 24 \
   -o "$out/overview.png"
ls -l docs/seed.png "$out"
