import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeRecords } from "../src/analysis/analyze.js";
import { phaseBoundaries, type PhaseInput } from "../src/analysis/phases.js";
import type { GridPoint, PhaseLabel } from "../src/analysis/schema.js";
import { syntheticRecords, type SyntheticGrid } from "../src/analysis/synthetic.js";

/**
 * Synthetic phase maps with known boundaries. Truth: for p_train < 0.9 the loss is
 *   L = 1.5 (1 + p_eval) (N/250)^(−α),  α = 0.8 (p_c(p_train) − p_eval),  p_c = 0.35 + 0.4 p_train
 * (eumentia below p_c, dementia above: flat-then-growing), and for p_train = 0.97 the
 * network never learns (L ≈ ln 10 at every N: amentia). Boundaries are where α = 0.
 */
const pcOf = (pt: number): number => 0.35 + 0.4 * pt;
const truth = (g: GridPoint, n: number): number => (g.pTrain >= 0.9 ? Math.log(10) * (1 + 0.2 * g.pEval) : 1.5 * (1 + g.pEval) * Math.pow(n / 250, -0.8 * (pcOf(g.pTrain) - g.pEval)));
const GRID: SyntheticGrid = { widths: [64], depths: [2], pTrains: [0, 0.25, 0.5, 0.97], pEvals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], sizes: [250, 500, 1000, 2000, 4000, 8000, 16000, 32000], seeds: 4, masks: 3, seedNoise: 0.03, maskNoise: 0.02 };
// These tests check the global rule's mechanics (the power law over the whole range and its tail fit); the default window rule: analysis-phase-rule.test.ts.
const OPTS = { bootstrapReplicates: 150, phaseRule: "global" as const };

test("synthetic phase map: every label and both boundary curves are recovered", () => {
  for (const seed of [11, 12]) {
    const a = analyzeRecords(syntheticRecords(GRID, truth, seed), OPTS, { collapseBootstrapReplicates: 3 });
    for (const l of a.phases) {
      const want = l.pTrain >= 0.9 ? "amentia" : l.pEval < pcOf(l.pTrain) ? "eumentia" : "dementia";
      assert.equal(l.phase, want, `p_train ${l.pTrain}, p_eval ${l.pEval}: ${l.phase} (${l.rule}: ${l.reason})`);
      assert.ok(l.reason.length > 0 && l.alphaCI[0] <= l.alpha && l.alpha <= l.alphaCI[1]);
    }
    const rules = new Set(a.phases.map((l) => l.rule));
    for (const r of ["eumentia.alpha-positive", "amentia.baseline-at-chance"]) assert.ok(rules.has(r as never), `rule ${r} never fired`);
    assert.ok(rules.has("dementia.alpha-nonpositive") || rules.has("dementia.rising-tail"));
    const [bc] = a.boundaries;
    // p_eval,c(p_train): one eumentia→dementia crossing per trained p_train.
    for (const pt of [0, 0.25, 0.5]) {
      const b = bc.pEvalCritical.filter((x) => x.fixed === pt);
      assert.equal(b.length, 1, `p_train ${pt}: ${JSON.stringify(b)}`);
      assert.equal(b[0].method, "alpha-zero");
      assert.deepEqual([b[0].from, b[0].to], ["eumentia", "dementia"]);
      const pull = (b[0].critical - pcOf(pt)) / b[0].criticalErr;
      console.log(`  seed ${seed}: p_eval,c(p_train ${pt}) = ${b[0].critical.toFixed(4)} ± ${b[0].criticalErr.toFixed(4)} (true ${pcOf(pt).toFixed(3)}, pull ${pull.toFixed(2)})`);
      assert.ok(Math.abs(b[0].critical - pcOf(pt)) < 3.5 * b[0].criticalErr + 0.002, `p_train ${pt}: ${b[0].critical} ± ${b[0].criticalErr}`);
    }
    assert.equal(bc.pEvalCritical.filter((x) => x.fixed === 0.97).length, 0, "no boundary inside the amentia row");
    // p_train,c(p_eval): dementia→eumentia where α crosses 0, then →amentia.
    for (const pe of [0.4, 0.5]) {
      const want = (pe - 0.35) / 0.4;
      const b = bc.pTrainCritical.find((x) => x.fixed === pe && x.from === "dementia" && x.to === "eumentia");
      assert.ok(b, `p_eval ${pe}: no dementia→eumentia crossing`);
      console.log(`  seed ${seed}: p_train,c(p_eval ${pe}) = ${b.critical.toFixed(4)} ± ${b.criticalErr.toFixed(4)} (true ${want.toFixed(3)})`);
      assert.ok(Math.abs(b.critical - want) < 3.5 * b.criticalErr + 0.005);
      const am = bc.pTrainCritical.find((x) => x.fixed === pe && x.to === "amentia");
      assert.ok(am && am.method === "bracket-midpoint" && am.bracket[0] === 0.5 && am.bracket[1] === 0.97);
    }
  }
});

test("a loss that falls then rises with N is dementia by the window rule too (α over the largest sizes < 0)", () => {
  const grid: SyntheticGrid = { ...GRID, pTrains: [0], pEvals: [0, 0.5], sizes: [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000], seeds: 4 };
  const t = (g: GridPoint, n: number): number => (g.pEval === 0 ? 2 * Math.pow(n / 250, -0.4) : 2 * Math.pow(n / 250, -0.3) * (1 + Math.pow(n / 4000, 0.6)));
  const a = analyzeRecords(syntheticRecords(grid, t, 5), { bootstrapReplicates: 150 }, { collapseBootstrapReplicates: 3 });
  const l = a.phases.find((x) => x.pEval === 0.5)!;
  assert.equal(l.phase, "dementia", `${l.rule}: ${l.reason}`);
  assert.match(l.reason, /α over the window N = 16000…64000, 3 sizes/);
  const w = a.windowSlopes!.find((x) => x.pEval === 0.5)!;
  assert.ok(w.alphaCI[1] < 0 && l.alpha === w.alpha);
});

test("a loss that falls then rises with N is dementia by the rising-tail rule; N* is found inside the range", () => {
  const grid: SyntheticGrid = { ...GRID, pTrains: [0], pEvals: [0, 0.5], sizes: [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000], seeds: 4 };
  const t = (g: GridPoint, n: number): number => (g.pEval === 0 ? 2 * Math.pow(n / 250, -0.4) : 2 * Math.pow(n / 250, -0.3) * (1 + Math.pow(n / 4000, 0.6)));
  const a = analyzeRecords(syntheticRecords(grid, t, 5), OPTS, { collapseBootstrapReplicates: 3 });
  const l = a.phases.find((x) => x.pEval === 0.5)!;
  assert.equal(l.phase, "dementia", `${l.rule}: ${l.reason}`);
  assert.equal(l.rule, "dementia.rising-tail");
  const x = a.crossovers.find((c) => c.pEval === 0.5)!;
  assert.equal(x.censored, "none");
  assert.ok(x.significant && x.nStar > 1000 && x.nStar < 20000, `N* ${x.nStar}`);
  const base = a.crossovers.find((c) => c.pEval === 0)!;
  assert.equal(base.censored, "above");
});

test("no baseline at p_eval ≈ 0: positive α is still eumentia, non-positive α is uncertain (no claim of dementia)", () => {
  const grid: SyntheticGrid = { ...GRID, pTrains: [0], pEvals: [0.2, 0.6] };
  const a = analyzeRecords(syntheticRecords(grid, truth, 3), OPTS, { collapseBootstrapReplicates: 3 });
  const [lo, hi] = a.phases;
  assert.equal(lo.phase, "eumentia");
  assert.equal(lo.baselinePEval, null);
  assert.equal(hi.phase, "uncertain");
  assert.equal(hi.rule, "uncertain.no-baseline");
});

test("noise too large to decide → uncertain with the straddling CI named", () => {
  const grid: SyntheticGrid = { ...GRID, pTrains: [0], pEvals: [0, 0.38], seeds: 3, seedNoise: 0.3 };
  const a = analyzeRecords(syntheticRecords(grid, (g, n) => (g.pEval === 0 ? 2 * Math.pow(n, -0.5) : 1.5 * Math.pow(n, -0.02)), 8), OPTS, { collapseBootstrapReplicates: 3 });
  const l = a.phases.find((x) => x.pEval === 0.38)!;
  assert.equal(l.phase, "uncertain", `${l.rule}: ${l.reason}`);
  assert.equal(l.rule, "uncertain.ci-straddles");
  assert.ok(l.alphaCI[0] < 0 && l.alphaCI[1] > 0.05);
});

/** A labelled grid point with a given α (only what phaseBoundaries reads). */
function point(pTrain: number, pEval: number, phase: "eumentia" | "dementia" | "amentia" | "uncertain", alpha: number, boot: number[]) {
  const g = { width: 8, depth: 1, pTrain, pEval };
  const input = { curve: { ...g, points: [] }, fit: { ...g, powerLaw: { alpha } }, bootAlphas: boot, errorFactor: 1 } as unknown as PhaseInput;
  const label = { ...g, phase, rule: "eumentia.alpha-positive", reason: "", alpha, alphaCI: [alpha, alpha], lossAtMaxN: 1, baselinePEval: 0 } as PhaseLabel;
  return { input, label };
}

test("a boundary crossing always lies inside its bracket, between cells of different labels", () => {
  // Along p_train at p_eval 0.8 (the default study's case): D(0), D(0.3), E(0.5), with α̂ of the
  // dementia cell at 0.3 slightly positive (the flat-tolerance rule), so α̂ crosses 0 between
  // 0 and 0.3 — outside the bracket [0.3, 0.5]. The boundary must stay in [0.3, 0.5].
  const pts = [point(0, 0.8, "dementia", -0.1, [-0.12, -0.08, -0.1]), point(0.3, 0.8, "dementia", 0.01, [0.0, 0.02, 0.01]), point(0.5, 0.8, "eumentia", 0.2, [0.18, 0.22, 0.2])];
  const [bc] = phaseBoundaries(pts.map((p) => p.input), pts.map((p) => p.label), { eumentiaMinAlpha: 0, flatAlphaTolerance: 0.05, chanceFraction: 0.9, amentiaMaxAlpha: 0.05, baselineMaxPEval: 0.05 });
  const [b] = bc.pTrainCritical;
  assert.deepEqual(b.bracket, [0.3, 0.5]);
  assert.ok(b.critical >= 0.3 && b.critical <= 0.5, `crossing ${b.critical} outside its bracket ${b.bracket}`);
  assert.equal(b.method, "bracket-midpoint");
  // Inside the bracket the α crossing is kept.
  const q = [point(0, 0.8, "dementia", -0.1, [-0.12, -0.08, -0.1]), point(0.3, 0.8, "dementia", -0.05, [-0.06, -0.04, -0.05]), point(0.5, 0.8, "eumentia", 0.15, [0.14, 0.16, 0.15])];
  const [bq] = phaseBoundaries(q.map((p) => p.input), q.map((p) => p.label), { eumentiaMinAlpha: 0, flatAlphaTolerance: 0.05, chanceFraction: 0.9, amentiaMaxAlpha: 0.05, baselineMaxPEval: 0.05 })[0].pTrainCritical;
  assert.equal(bq.method, "alpha-zero");
  assert.ok(Math.abs(bq.critical - 0.35) < 1e-9, String(bq.critical));
});

test("default-study-shaped analysis: every crossing inside its bracket, its neighbouring cells labelled differently", () => {
  // The grid of configs/default.yaml; dementia from p_eval ≈ 0.45 at p_train 0, moving up with
  // p_train; amentia at 0.99.
  const grid: SyntheticGrid = { widths: [128], depths: [2], pTrains: [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99], pEvals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], sizes: [250, 452, 818, 1480, 2676, 4842, 8759, 16000], seeds: 4, masks: 2, seedNoise: 0.04, maskNoise: 0.01 };
  const pc = (pt: number): number => 0.45 + 0.5 * pt;
  const alpha = (g: GridPoint): number => {
    const a = 0.6 * (pc(g.pTrain) - g.pEval);
    // Just past the boundary α̂ stays slightly positive (labelled dementia by the flat rule).
    return a > 0 || a <= -0.04 ? a : 0.012;
  };
  const t = (g: GridPoint, n: number): number => (g.pTrain >= 0.99 ? Math.log(10) : (0.3 + 2 * g.pEval) * Math.pow(n / 250, -alpha(g)));
  for (const seed of [1, 2, 3]) {
    const a = analyzeRecords(syntheticRecords(grid, t, seed), { bootstrapReplicates: 60 }, { collapseBootstrapReplicates: 2 });
    const label = new Map(a.phases.map((l) => [`${l.pTrain}|${l.pEval}`, l.phase]));
    for (const b of [...a.boundaries[0].pEvalCritical, ...a.boundaries[0].pTrainCritical]) {
      const what = `${b.along === "pEval" ? "p_eval,c(p_train" : "p_train,c(p_eval"} ${b.fixed}) = ${b.critical} ± ${b.criticalErr}, bracket ${b.bracket}`;
      assert.ok(b.critical >= b.bracket[0] && b.critical <= b.bracket[1], `seed ${seed}: ${what} outside its bracket`);
      assert.notEqual(b.from, b.to, what);
      const values = b.along === "pEval" ? grid.pEvals : grid.pTrains;
      const below = Math.max(...values.filter((v) => v <= b.critical));
      const above = Math.min(...values.filter((v) => v >= b.critical));
      const key = (v: number): string => (b.along === "pEval" ? `${b.fixed}|${v}` : `${v}|${b.fixed}`);
      if (below !== above) assert.ok(label.get(key(below)) !== label.get(key(above)) || label.get(key(below)) === "uncertain", `seed ${seed}: ${what} lies between two ${label.get(key(below))} cells`);
    }
  }
});
