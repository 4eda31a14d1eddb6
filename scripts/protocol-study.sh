#!/usr/bin/env bash
# The measurement behind docs/protocol.md: every config in configs/protocol/ run on real MNIST
# (resumable: run it again to finish an interrupted study), then compared by
# dist/scripts/protocol-compare.js (tables + figures into docs/protocol/).
# Usage: scripts/protocol-study.sh [RUNS_DIR (default runs/protocol)] [WORKERS (default: all cores)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-runs/protocol}
workers=${2:-$(nproc)}
for cfg in configs/protocol/*.yaml; do
  name=$(basename "$cfg" .yaml)
  echo "== $name"
  start=$(date +%s)
  node bin/mentia.js run "$cfg" --out "$runs/$name" --workers "$workers"
  # wall seconds per study, read by protocol-compare (a study already complete adds ~0 s)
  echo "$name $(( $(date +%s) - start ))" >> "$(dirname "$runs")/protocol-walls.txt"
done
node dist/scripts/protocol-compare.js "$runs" --out docs/protocol
