import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeRecords } from "../src/analysis/analyze.js";
import { syntheticRecords, type SyntheticGrid } from "../src/analysis/synthetic.js";

/** When most points are uncertain, analyze names the lever that would decide them (issue 15, item 9). */
test("mostly uncertain → advice naming seeds, N range and sizes; a decided study gets none", () => {
  const small: SyntheticGrid = { widths: [32], depths: [1], pTrains: [0, 0.5], pEvals: [0, 0.3, 0.6, 0.9], sizes: [250, 500, 1000, 2000], seeds: 3, masks: 2, seedNoise: 0.15, maskNoise: 0.02 };
  const slow = (g: { pEval: number }, n: number): number => 1.5 * Math.pow(n / 250, -0.1 * (0.7 - g.pEval));
  const a = analyzeRecords(syntheticRecords(small, slow, 2), { bootstrapReplicates: 60 });
  const head = a.warnings.findIndex((w) => /grid points are uncertain/.test(w));
  assert.ok(head >= 0, a.warnings.join("\n"));
  const advice = a.warnings.slice(head).join("\n");
  assert.match(advice, /more seeds: with 3 seed\(s\) the 95% CI is α̂ ± 4\.30·σ_α/);
  assert.match(advice, /wider N range: N spans a factor 8 \(250…2000\)/);
  assert.match(advice, /more sizes: 4 sizes/);

  const big: SyntheticGrid = { ...small, sizes: [250, 500, 1000, 2000, 4000, 8000, 16000], seeds: 6, seedNoise: 0.01 };
  const b = analyzeRecords(syntheticRecords(big, (g, n) => 1.5 * Math.pow(n / 250, -0.8 * (0.5 - g.pEval)), 2), { bootstrapReplicates: 60 });
  assert.ok(!b.warnings.some((w) => /grid points are uncertain/.test(w)), b.warnings.join("\n"));
});
