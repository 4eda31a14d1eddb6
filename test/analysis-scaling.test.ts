import { test } from "node:test";
import assert from "node:assert/strict";
import { lossCurves } from "../src/analysis/curves.js";
import { bootstrapCurve } from "../src/analysis/seeds.js";
import { fitOffsetPowerLaw, localSlopes, scalingFit } from "../src/analysis/scaling.js";
import { AnalysisRng } from "../src/analysis/stats.js";
import { syntheticRecords, type SyntheticGrid } from "../src/analysis/synthetic.js";
import type { EvalRecord } from "../src/sweep/records.js";
import { MentiaError } from "../src/errors.js";

/**
 * Scaling fits on synthetic loss curves with known truth: L(N) = A N^(−α) with log-normal
 * seed and mask noise. The 95% CI of α must cover the true α at its stated rate over many
 * independent draws (not one lucky seed).
 */
const SIZES = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000];
const grid = (seeds: number, over: Partial<SyntheticGrid> = {}): SyntheticGrid => ({ widths: [64], depths: [2], pTrains: [0], pEvals: [0], sizes: SIZES, seeds, masks: 4, seedNoise: 0.05, maskNoise: 0.02, ...over });

function coverage(seeds: number, draws: number, alpha: number): { coverage: number; meanErr: number; sdAlpha: number } {
  let hit = 0;
  const est: number[] = [];
  let errSum = 0;
  for (let d = 0; d < draws; d++) {
    const [curve] = lossCurves(syntheticRecords(grid(seeds), (_, n) => 3 * Math.pow(n, -alpha), 1000 + d));
    const boot = bootstrapCurve(curve, 150, new AnalysisRng(d + 1));
    const pl = scalingFit(curve, boot, { ciLevel: 0.95 }).fit.powerLaw;
    if (pl.alphaCI[0] <= alpha && alpha <= pl.alphaCI[1]) hit++;
    est.push(pl.alpha);
    errSum += pl.alphaErr;
  }
  const m = est.reduce((a, b) => a + b, 0) / draws;
  return { coverage: hit / draws, meanErr: errSum / draws, sdAlpha: Math.sqrt(est.reduce((a, b) => a + (b - m) ** 2, 0) / (draws - 1)) };
}

test("α's 95% CI covers the true α at about 95% over 200 independent draws (8 seeds)", () => {
  const r = coverage(8, 200, 0.4);
  console.log(`  8 seeds: coverage ${r.coverage}, mean alphaErr ${r.meanErr.toFixed(4)}, sd of α over draws ${r.sdAlpha.toFixed(4)}`);
  // Binomial sd at 95% over 200 draws is 1.5%; accept 3 sd either side.
  assert.ok(r.coverage >= 0.905 && r.coverage <= 0.995, `coverage ${r.coverage}`);
  // The quoted error matches the actual scatter of α̂ within 25%.
  assert.ok(Math.abs(r.meanErr / r.sdAlpha - 1) < 0.25, `alphaErr ${r.meanErr} vs scatter ${r.sdAlpha}`);
});

test("with only 3 seeds the CI stays honest (Student t, not too narrow)", () => {
  const r = coverage(3, 120, 0.25);
  console.log(`  3 seeds: coverage ${r.coverage}, mean alphaErr ${r.meanErr.toFixed(4)}, sd of α ${r.sdAlpha.toFixed(4)}`);
  assert.ok(r.coverage >= 0.9, `coverage ${r.coverage}`);
});

test("a flat curve gives α ≈ 0 with a CI containing 0; a growing one gives α < 0", () => {
  for (const [alpha, seed] of [
    [0, 7],
    [-0.2, 8],
  ] as const) {
    const [curve] = lossCurves(syntheticRecords(grid(6), (_, n) => 2 * Math.pow(n, -alpha), seed));
    const pl = scalingFit(curve, bootstrapCurve(curve, 200, new AnalysisRng(1)), { ciLevel: 0.95 }).fit.powerLaw;
    assert.ok(pl.alphaCI[0] <= alpha && alpha <= pl.alphaCI[1], `α ${pl.alpha} CI ${pl.alphaCI} vs ${alpha}`);
    if (alpha < 0) assert.ok(pl.alphaCI[1] < 0);
  }
});

test("local slopes of an exact power law equal −α at every N, with finite errors", () => {
  const [curve] = lossCurves(syntheticRecords(grid(4, { seedNoise: 1e-6, maskNoise: 1e-6 }), (_, n) => 5 * Math.pow(n, -0.3), 3));
  const slopes = localSlopes(curve);
  assert.equal(slopes.length, SIZES.length - 1);
  for (const s of slopes) {
    assert.ok(Math.abs(s.slope + 0.3) < 1e-3, `slope ${s.slope}`);
    assert.ok(Number.isFinite(s.slopeErr) && s.slopeErr > 0);
    assert.ok(s.nMid > s.nLow && s.nMid < s.nHigh);
  }
});

test("offset fit recovers L∞ and beats the pure power law in χ² when the data have an offset", () => {
  const truth = { A: 20, alpha: 0.5, lInf: 0.3 };
  const [curve] = lossCurves(syntheticRecords(grid(8, { seedNoise: 0.01, maskNoise: 0.005 }), (_, n) => truth.A * Math.pow(n, -truth.alpha) + truth.lInf, 21));
  const w = scalingFit(curve, bootstrapCurve(curve, 100, new AnalysisRng(2)), { ciLevel: 0.95 });
  const off = w.fit.offset;
  assert.ok(off, `offset fit missing: ${w.fit.offsetNote}`);
  console.log(`  offset fit: α ${off.alpha.toFixed(3)} ± ${off.alphaErr.toFixed(3)} (true 0.5), L∞ ${off.lInf.toFixed(3)} ± ${off.lInfErr.toFixed(3)} (true 0.3), χ²/dof ${off.chi2.toFixed(1)}/${off.dof} vs power law ${w.fit.powerLaw.chi2.toFixed(1)}/${w.fit.powerLaw.dof}`);
  assert.ok(Math.abs(off.lInf - truth.lInf) < 3 * off.lInfErr + 0.01, `L∞ ${off.lInf} ± ${off.lInfErr}`);
  assert.ok(Math.abs(off.alpha - truth.alpha) < 3 * off.alphaErr + 0.01, `α ${off.alpha} ± ${off.alphaErr}`);
  assert.ok(off.reducedChi2 !== null && w.fit.powerLaw.reducedChi2 !== null && off.reducedChi2 < w.fit.powerLaw.reducedChi2 / 3, "offset χ² should be far better");
});

test("offset fit on a pure power law finds L∞ consistent with 0; fewer than 4 sizes → no offset fit, with a note", () => {
  const [curve] = lossCurves(syntheticRecords(grid(8, { seedNoise: 0.01 }), (_, n) => 4 * Math.pow(n, -0.4), 5));
  const r = fitOffsetPowerLaw(curve, { amplitude: 4, alpha: 0.4 });
  assert.ok(r.fit);
  assert.ok(r.fit.lInf < 3 * r.fit.lInfErr + 1e-3, `L∞ ${r.fit.lInf} ± ${r.fit.lInfErr}`);
  const short = { ...curve, points: curve.points.slice(0, 3) };
  const s = fitOffsetPowerLaw(short, { amplitude: 4, alpha: 0.4 });
  assert.equal(s.fit, null);
  assert.match(s.note ?? "", /4 sizes/);
});

test("fits are reproducible: the same records and seed give identical numbers", () => {
  const recs = syntheticRecords(grid(5), (_, n) => 3 * Math.pow(n, -0.35), 9);
  const run = () => {
    const [c] = lossCurves(recs);
    return scalingFit(c, bootstrapCurve(c, 100, new AnalysisRng(42)), { ciLevel: 0.95 }).fit;
  };
  assert.deepEqual(run(), run());
});

test("degenerate input → clear MentiaErrors, never NaN", () => {
  const good = syntheticRecords(grid(2), (_, n) => Math.pow(n, -0.3), 1);
  const bad = (patch: Partial<EvalRecord>, re: RegExp) => assert.throws(() => lossCurves([...good.slice(1), { ...good[0], ...patch }]), (e: unknown) => e instanceof MentiaError && re.test(e.message));
  bad({ loss: NaN }, /loss is NaN/);
  bad({ loss: 0 }, /loss must be > 0/);
  bad({ maskLosses: [1, Infinity] }, /maskLosses/);
  bad({ pEval: 1.2 }, /rates/);
  assert.throws(() => lossCurves([]), (e: unknown) => e instanceof MentiaError && /no evaluation records/.test(e.message));
  assert.throws(() => lossCurves([...good, good[0]]), (e: unknown) => e instanceof MentiaError && /two records/.test(e.message));
  // One training-set size: no scaling fit possible.
  const one = syntheticRecords(grid(3, { sizes: [1000] }), () => 1, 2);
  const [c] = lossCurves(one);
  assert.throws(() => scalingFit(c, bootstrapCurve(c, 20, new AnalysisRng(1)), { ciLevel: 0.95 }), (e: unknown) => e instanceof MentiaError && /at least 2 training-set sizes/.test(e.message));
});

test("a single seed with a single mask still gives a finite α error (analytic fallback)", () => {
  const recs = syntheticRecords(grid(1, { masks: 1 }), (_, n) => 3 * Math.pow(n, -0.4), 4).map((r) => ({ ...r, lossStderr: 0.02 * r.loss }));
  const [c] = lossCurves(recs);
  const pl = scalingFit(c, bootstrapCurve(c, 50, new AnalysisRng(1)), { ciLevel: 0.95 }).fit.powerLaw;
  assert.ok(Number.isFinite(pl.alphaErr) && pl.alphaErr > 0, `alphaErr ${pl.alphaErr}`);
  // with one seed and one mask the replicates cannot vary: the analytic error, no wider than
  // the quoted 2 % relative errors allow (σ(α) = 0.02 / √(Σ (ln N − mean)²) × √(χ²/dof) ≥ …)
  const lnN = c.points.map((p) => Math.log(p.n));
  const m = lnN.reduce((a, b) => a + b, 0) / lnN.length;
  const floor = 0.02 / Math.sqrt(lnN.reduce((a, u) => a + (u - m) ** 2, 0));
  assert.ok(pl.alphaErr >= floor * (1 - 1e-6), `alphaErr ${pl.alphaErr} < analytic ${floor}`);
});
