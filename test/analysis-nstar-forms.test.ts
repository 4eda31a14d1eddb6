import { test } from "node:test";
import assert from "node:assert/strict";
import { fitLengthScale, type LengthScalePoint } from "../src/analysis/lengthscale.js";
import { compareNStarForms, fitNStarQuadratic } from "../src/analysis/nstar-forms.js";
import type { LengthScaleFit } from "../src/analysis/schema.js";
import { AnalysisRng } from "../src/analysis/stats.js";

/**
 * N*(p): the non-divergent quadratic beside BKT and the power law. On N* that diverge (BKT
 * truth) the verdict is "diverging"; on N* that grow smoothly without diverging (quadratic
 * truth, the shape of a minimum drifting over the grid) it is never "diverging". 100 draws each.
 */
const line = { width: 64, depth: 2, pTrain: 0 };
const PS = [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

function points(truth: (p: number) => number, err: number, rng: AnalysisRng): LengthScalePoint[] {
  return PS.map((p) => ({ p, lnNStar: truth(p) + err * rng.normal(), lnNStarErr: err }));
}

function verdict(pts: LengthScalePoint[], minDeltaAic = 10): string {
  const fits: LengthScaleFit[] = [];
  for (const [form, sigma] of [["bkt", 0.5], ["power", null]] as const) {
    const f = fitLengthScale(pts, form, sigma);
    if (f) fits.push({ ...line, ...f });
  }
  return compareNStarForms(line, fits, fitNStarQuadratic(pts), minDeltaAic).verdict;
}

test("the quadratic: exact on a parabola, bounds enter χ², dof counts uncensored points", () => {
  const pts = PS.map((p) => ({ p, lnNStar: 8 - 6 * (p - 0.7) + 10 * (p - 0.7) ** 2, lnNStarErr: 0.1 }));
  const q = fitNStarQuadratic(pts)!;
  assert.ok(q.chi2 < 1e-18 && q.dof === 5 && q.aic === q.chi2 + 6);
  assert.ok(Math.abs(q.params.c2 - 10) < 1e-9 && Math.abs(q.params.c1 - (-6 + 20 * (q.params.pMean - 0.7))) < 1e-9);
  const held = fitNStarQuadratic([...pts, { p: 0.5, lnNStar: 5, lnNStarErr: 0.1, censored: "above" }])!;
  assert.equal(held.boundsViolated, 0);
  assert.equal(held.dof, 5);
  const pulled = fitNStarQuadratic([...pts, { p: 0.5, lnNStar: 12, lnNStarErr: 0.1, censored: "above" }])!;
  assert.equal(pulled.boundsViolated, 1);
  assert.ok(pulled.chi2 > 1);
  assert.equal(fitNStarQuadratic(pts.slice(0, 3)), null, "dof 0");
});

test("verdicts: BKT-divergent N* → diverging; smooth non-divergent N* → never diverging (100 draws each)", (t) => {
  const rng = new AnalysisRng(3);
  const bkt = (p: number): number => Math.log(100) + 0.8 * Math.abs(p - 0.5) ** -0.5;
  const smooth = (p: number): number => 8 - 6 * (p - 0.7) + 10 * (p - 0.7) ** 2;
  for (const [name, truth, err] of [["bkt", bkt, 0.05], ["quadratic", smooth, 0.1]] as const) {
    const counts: Record<string, number> = {};
    for (let k = 0; k < 100; k++) {
      const v = verdict(points(truth, err, rng));
      counts[v] = (counts[v] ?? 0) + 1;
    }
    t.diagnostic(`NSTAR-FORMS | truth ${name} | ${JSON.stringify(counts)}`);
    if (name === "bkt") assert.ok((counts.diverging ?? 0) >= 90, JSON.stringify(counts));
    else assert.ok((counts.diverging ?? 0) <= 5, JSON.stringify(counts));
  }
});

test("a divergent fit whose p_c sits at its search edge does not count as diverging", () => {
  const pts = PS.map((p) => ({ p, lnNStar: 8 + 0.5 * p, lnNStarErr: 0.1 }));
  const fits: LengthScaleFit[] = [{ ...line, ...fitLengthScale(pts, "power", null)! }];
  const c = compareNStarForms(line, fits.map((f) => ({ ...f, pcBound: "upper" as const, aic: 0 })), fitNStarQuadratic(pts), 10);
  assert.notEqual(c.verdict, "diverging");
  assert.match(c.reason, /search edge|beats every divergent/);
});

test("the threshold: at ΔAIC 10 (analyze's nStarMinDeltaAic) smooth non-divergent N* are rarely 'diverging'; at 6 (the collapse comparison's) more often (200 draws per truth)", (t) => {
  // Non-divergent truths that curve upward toward the low-p end of the grid, as a divergence
  // below the data would: the diverging/not call is only as good as this false-positive rate.
  const truths: [string, (p: number) => number, number, number][] = [
    // name, truth, error, most 'diverging' allowed at 10 (of 200)
    ["quadratic", (p) => 8 - 6 * (p - 0.7) + 10 * (p - 0.7) ** 2, 0.1, 10],
    ["cubic", (p) => 8 - 8 * (p - 0.7) + 20 * (p - 0.7) ** 2 - 40 * (p - 0.7) ** 3, 0.1, 10],
    // an exponential in p mimics a divergence below the grid: measured, not bounded by 5 %
    ["exponential", (p) => 4 + 3 * Math.exp(-8 * (p - 0.55)), 0.1, 60],
  ];
  for (const [name, truth, err, maxAt10] of truths) {
    const rng = new AnalysisRng(11);
    const at: Record<number, Record<string, number>> = { 10: {}, 6: {} };
    for (let k = 0; k < 200; k++) {
      const pts = points(truth, err, rng);
      for (const thr of [10, 6]) {
        const v = verdict(pts, thr);
        at[thr][v] = (at[thr][v] ?? 0) + 1;
      }
    }
    console.log(`VALIDATION | N*(p) verdicts, non-divergent ${name} truth, 200 draws | ΔAIC ≥ 10: ${JSON.stringify(at[10])} | ΔAIC ≥ 6: ${JSON.stringify(at[6])} |`);
    t.diagnostic(`${name}: ${JSON.stringify(at)}`);
    assert.ok((at[10].diverging ?? 0) <= maxAt10, `${name}: ${JSON.stringify(at[10])}`);
  }
});

test("censored N*: 'diverging' must hold on the uncensored N* alone — a divergence carried by bounds is undecided; a real one with bounds stays diverging", () => {
  const fitAll = (pts: LengthScalePoint[]): { divergent: LengthScaleFit[]; quadratic: ReturnType<typeof fitNStarQuadratic> } => {
    const divergent: LengthScaleFit[] = [];
    for (const [form, sigma] of [["bkt", 0.5], ["power", null]] as const) {
      const f = fitLengthScale(pts, form, sigma);
      if (f) divergent.push({ ...line, ...f });
    }
    return { divergent, quadratic: fitNStarQuadratic(pts) };
  };
  const judge = (pts: LengthScalePoint[], withMeasured: boolean) => {
    const all = fitAll(pts);
    return compareNStarForms(line, all.divergent, all.quadratic, 10, withMeasured ? () => fitAll(pts.filter((q) => !q.censored)) : undefined);
  };
  // the robustness-trajectory case (3,000 steps, 64×2, p_train 0.8): flat N*, then N* > 16,000
  const flat: LengthScalePoint[] = [
    { p: 0, lnNStar: 8.743, lnNStarErr: 0.017 },
    { p: 0.3, lnNStar: 8.794, lnNStarErr: 0.017 },
    { p: 0.5, lnNStar: 8.823, lnNStarErr: 0.005 },
    { p: 0.6, lnNStar: 8.849, lnNStarErr: 0.005 },
    { p: 0.7, lnNStar: 8.904, lnNStarErr: 0.38 },
    { p: 0.8, lnNStar: Math.log(16000), lnNStarErr: 0.017, censored: "above" },
    { p: 0.9, lnNStar: Math.log(16000), lnNStarErr: 0.017, censored: "above" },
  ];
  assert.equal(judge(flat, false).verdict, "diverging", "the bounds alone make the divergent forms win (what the rule is for)");
  const v = judge(flat, true);
  assert.equal(v.verdict, "undecided");
  assert.match(v.reason, /only with the censored N\*/);
  // a BKT divergence at p_c = 0.5 measured on 8 N* above it, the two nearest p censored (N* > N_max)
  const rng = new AnalysisRng(5);
  const bkt = (p: number): number => Math.log(100) + 0.8 * Math.abs(p - 0.5) ** -0.5;
  let diverging = 0;
  for (let k = 0; k < 20; k++) {
    const pts: LengthScalePoint[] = [
      ...[0.505, 0.51].map((p) => ({ p, lnNStar: 9.5, lnNStarErr: 0.05, censored: "above" as const })),
      ...points(bkt, 0.05, rng),
    ];
    if (judge(pts, true).verdict === "diverging") diverging++;
  }
  assert.ok(diverging >= 18, `BKT with bounds: diverging in ${diverging}/20`);
});
