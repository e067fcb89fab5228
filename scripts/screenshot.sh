#!/usr/bin/env bash
# The README's picture of the summary page: starts `mandel serve` on a fresh database, makes
# a few renders (one that passes its deadline), and has headless Chromium take a screenshot.
#
#   bash scripts/screenshot.sh [OUT.png]     # needs chromium (apt-get install chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/serve.png}
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
MANDEL_LOG=info,mandel::access=off target/release/mandel serve --listen 127.0.0.1:0 --db "$work/m.db" \
    --render-timeout 0.5 2>"$work/log" &
for _ in $(seq 100); do grep -q 'listening on' "$work/log" && break; sleep 0.1; done
base=http://$(grep -o 'listening on http://[0-9.:]*' "$work/log" | sed 's|listening on http://||')
get() { curl -s -o /dev/null -A "$1" "$base/render?$2"; }
get 'curl/8.5' 'width=640&height=480&colormap=classic'
get 'python-requests/2.32' 'width=1024&height=768&center=-0.7436,0.1318&zoom=200&max_iter=5000&color=smooth&colormap=twilight'
get 'Mozilla/5.0 (X11; Linux x86_64)' 'width=400&height=400&format=npy'
get 'wrk/4.2' 'width=64&height=64&max_iter=256'
get 'curl/8.5' 'width=1200&height=1200&center=-0.75,0&zoom=10000&max_iter=1000000&format=npy'
get '<script>alert(1)</script>' 'width=320&height=240&colormap=magma&color=histogram&format=jpeg'
get 'numpy-fetcher/1.0' 'width=800&height=600&center=-0.16,1.04&zoom=40&max_iter=2000&colormap=inferno'
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chrome" --hide-scrollbars --window-size=1600,720 \
    --screenshot="$out" "$base/" 2>/dev/null
echo "wrote $out"
