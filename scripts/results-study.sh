#!/usr/bin/env bash
# Runs (or resumes) one results study and puts what docs/results.md shows into docs/results/<study>/:
# analysis.json, numbers.md (scripts/results-numbers.ts), the exported CSV (gzipped), and the
# report figures whose file names match the given patterns.
#
#   scripts/results-study.sh STUDY [PATTERN ...]      e.g. scripts/results-study.sh transition 'fig4-*'
#
# STUDY names configs/STUDY.yaml; the sweep lives in runs/STUDY (never committed).
# Set SKIP_RUN=1 to analyse an existing (e.g. merged) sweep without running it.
# Set SLICES=early-stop,steps=3000,epochs=5 (a study with a 'trajectory' key) to also analyse L(N)
# at those training lengths: analysis-slice-<slice>.json and numbers-slice-<slice>.md each, and the
# trajectories exported (trajectories.csv.gz).
set -euo pipefail
study=$1; shift
cd "$(dirname "$0")/.."
run=runs/$study
out=docs/results/$study
mentia() { node bin/mentia.js "$@"; }
if [ "${SKIP_RUN:-0}" != 1 ]; then
  /usr/bin/time -f "wall %e s, CPU %U s user + %S s system" node bin/mentia.js run "configs/$study.yaml" --out "$run" 2>&1 | grep -v '^sweep: .* done · ' || true
fi
mentia analyze "$run"
if [ -n "${SLICES:-}" ]; then mentia analyze "$run" --slice "$SLICES" --collapse-bootstrap 4; fi
mentia report "$run"
mkdir -p "$out"
cp "$run/analysis.json" "$out/"
node dist/scripts/results-numbers.js "$run/analysis.json" --store "$run" > "$out/numbers.md"
mentia export "$run" --format csv --output "$out/results.csv" && gzip -f "$out/results.csv"
if [ -n "${SLICES:-}" ]; then
  for f in "$run"/analysis-slice-*.json; do
    name=$(basename "$f" .json); name=${name#analysis-slice-}
    cp "$f" "$out/"
    node dist/scripts/results-numbers.js "$f" > "$out/numbers-slice-$name.md"
  done
  mentia export "$run" --trajectory --format csv --output "$out/trajectories.csv" && gzip -f "$out/trajectories.csv"
fi
for pat in "$@"; do cp $run/report/$pat.png "$out/" 2>/dev/null || echo "no figure matches $pat"; done
# keep the repository light: an analysis over 8 MB (e.g. 9 architectures with slices) is committed gzipped
find "$out" -name '*.json' -size +8M -exec gzip -9f {} \;
ls -la "$out"
