#!/usr/bin/env bash
# Type-checks and lints the library for aarch64 (the NEON kernel) on any machine: this
# project's machines are x86-64, so the NEON shim is otherwise never compiled. Nothing runs.
# Needs the target's standard library: rustup target add aarch64-unknown-linux-gnu
# Build scripts of some dependencies call a C compiler for the target; for a check, whose
# objects are never linked, an empty object stands in.
set -euo pipefail
cd "$(dirname "$0")/.."
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat > "$fake/cc" <<'CC'
#!/bin/sh
out=""
while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out=$2; shift; fi; shift; done
[ -n "$out" ] && : > "$out"
exit 0
CC
chmod +x "$fake/cc"
CC_aarch64_unknown_linux_gnu="$fake/cc" AR_aarch64_unknown_linux_gnu=ar \
  cargo clippy --target aarch64-unknown-linux-gnu -p mandel --lib -- -D warnings
