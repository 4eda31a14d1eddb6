import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapCurve, lossCurves } from "../src/analysis/curves.js";
import { crossoverSize, fitLengthScale } from "../src/analysis/lengthscale.js";
import { AnalysisRng } from "../src/analysis/stats.js";
import { syntheticRecords } from "../src/analysis/synthetic.js";

/**
 * Crossover sizes N* of non-monotonic synthetic curves L(N) = A cosh(a (ln N − ln N*)), with
 * a known BKT divergence ln N*(p) = ln N0 + b |p − p_c|^(−1/2) on the dementia side.
 */
const SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const TRUE = { pc: 0.5, lnN0: Math.log(100), b: 0.8 };
const lnNStarTrue = (p: number): number => TRUE.lnN0 + TRUE.b * Math.pow(Math.abs(p - TRUE.pc), -0.5);
const PS = [0.55, 0.6, 0.65, 0.7, 0.8, 0.9];

function records(seed: number) {
  return syntheticRecords(
    { widths: [32], depths: [1], pTrains: [0], pEvals: PS, sizes: SIZES, seeds: 6, masks: 3, seedNoise: 0.01, maskNoise: 0.005 },
    (g, n) => 2 * Math.cosh(0.5 * (Math.log(n) - lnNStarTrue(g.pEval))),
    seed,
  );
}

test("N* of non-monotonic curves is recovered within its bootstrap error", () => {
  const curves = lossCurves(records(5));
  let worst = 0;
  for (const c of curves) {
    const x = crossoverSize(c, bootstrapCurve(c, 200, new AnalysisRng(3)).means, 1, 2);
    const truth = lnNStarTrue(c.pEval);
    assert.equal(x.censored, "none");
    assert.ok(x.significant, `p ${c.pEval} not significant`);
    assert.ok(x.lnNStarErr !== null && x.lnNStarErr > 0);
    const pull = (x.lnNStar - truth) / (x.lnNStarErr as number);
    worst = Math.max(worst, Math.abs(pull));
    console.log(`  p ${c.pEval}: ln N* ${x.lnNStar.toFixed(3)} ± ${x.lnNStarErr?.toFixed(3)} (true ${truth.toFixed(3)}), N* ${x.nStar.toFixed(0)}`);
    assert.ok(Math.abs(x.lnNStar - truth) < 4 * (x.lnNStarErr as number) + 0.05, `p ${c.pEval}: ${x.lnNStar} vs ${truth}`);
  }
  assert.ok(worst < 4);
});

test("monotonic curves are censored: falling → above the range, rising → below; flat noise is not significant", () => {
  const recs = syntheticRecords(
    { widths: [32], depths: [1], pTrains: [0], pEvals: [0, 0.5, 0.9], sizes: SIZES, seeds: 4, masks: 2, seedNoise: 0.01, maskNoise: 0.005 },
    (g, n) => (g.pEval === 0 ? 3 * Math.pow(n, -0.3) : g.pEval === 0.5 ? 0.5 * Math.pow(n, 0.2) : 2.3),
    9,
  );
  const [falling, rising, flat] = lossCurves(recs);
  const cf = crossoverSize(falling, [], 1);
  const cr = crossoverSize(rising, [], 1);
  assert.equal(cf.censored, "above");
  assert.equal(cf.nStar, SIZES[SIZES.length - 1]);
  assert.equal(cr.censored, "below");
  assert.equal(cr.nStar, SIZES[0]);
  assert.equal(cf.lnNStarErr, null);
  assert.equal(crossoverSize(flat, bootstrapCurve(flat, 50, new AnalysisRng(1)).means, 1).significant, false);
});

test("N*(p) BKT fit recovers p_c and b; the power-law form is fitted too and its χ² reported", () => {
  const curves = lossCurves(records(17));
  const pts = curves.map((c) => {
    const x = crossoverSize(c, bootstrapCurve(c, 200, new AnalysisRng(4)).means, 1, 2);
    return { p: c.pEval, lnNStar: x.lnNStar, lnNStarErr: x.lnNStarErr as number };
  });
  const bkt = fitLengthScale(pts, "bkt", 0.5);
  const pow = fitLengthScale(pts, "power");
  assert.ok(bkt && pow);
  console.log(`  BKT: p_c ${bkt.pc.toFixed(4)} ± ${bkt.pcErr?.toFixed(4)} (true 0.5), b ${bkt.params.b.toFixed(3)} ± ${bkt.paramErrs.b?.toFixed(3)} (true 0.8), ln N0 ${bkt.params.lnN0.toFixed(3)} ± ${bkt.paramErrs.lnN0?.toFixed(3)} (true ${TRUE.lnN0.toFixed(3)}), χ²/dof ${bkt.chi2.toFixed(2)}/${bkt.dof}`);
  console.log(`  power: p_c ${pow.pc.toFixed(4)} ± ${pow.pcErr?.toFixed(4)}, ν ${pow.params.nu.toFixed(3)}, χ²/dof ${pow.chi2.toFixed(2)}/${pow.dof}`);
  assert.ok(bkt.pcErr !== null && Math.abs(bkt.pc - TRUE.pc) < 3 * bkt.pcErr + 0.005, `p_c ${bkt.pc} ± ${bkt.pcErr}`);
  assert.ok(bkt.paramErrs.b !== null && Math.abs(bkt.params.b - TRUE.b) < 3 * (bkt.paramErrs.b as number) + 0.02);
  assert.ok(bkt.pc < Math.min(...PS), "p_c lies on the side where N* diverges, outside the data");
  assert.equal(bkt.dof, PS.length - 3);
  assert.ok(Number.isFinite(pow.chi2) && pow.dof === PS.length - 3);
});

test("N*(p) fit with σ free recovers σ ≈ 1/2; too few points → null", () => {
  const curves = lossCurves(records(23));
  const pts = curves.map((c) => {
    const x = crossoverSize(c, bootstrapCurve(c, 150, new AnalysisRng(5)).means, 1, 2);
    return { p: c.pEval, lnNStar: x.lnNStar, lnNStarErr: x.lnNStarErr as number };
  });
  const free = fitLengthScale(pts, "bkt", null);
  assert.ok(free);
  console.log(`  BKT σ free: σ ${free.params.sigma.toFixed(3)} ± ${free.paramErrs.sigma?.toFixed(3)}, p_c ${free.pc.toFixed(4)} ± ${free.pcErr?.toFixed(4)}`);
  assert.ok(free.paramErrs.sigma !== null && Math.abs(free.params.sigma - 0.5) < 3 * (free.paramErrs.sigma as number) + 0.05);
  assert.equal(fitLengthScale(pts.slice(0, 2), "power"), null);
});
