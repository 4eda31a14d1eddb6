import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapCurveWith, drawSeedSets, type CurveBootstrap } from "../src/analysis/seeds.js";
import { DEFAULT_SLOPE_WINDOW, logSlopeAlpha, windowIndices, windowPhaseInputs } from "../src/analysis/phase-rule.js";
import { classifyPhases, type PhaseInput } from "../src/analysis/phases.js";
import { scalingFit } from "../src/analysis/scaling.js";
import type { LossCurve } from "../src/analysis/schema.js";
import { AnalysisRng } from "../src/analysis/stats.js";
import { DEFAULT_ANALYSIS_OPTIONS } from "../src/analysis/analyze.js";

/**
 * The phase rule (local slope over the window of the largest sizes) on synthetic L(N) whose
 * slope sign at large N is known: power laws, an interior minimum, a rise then a fall; and
 * the coverage of α_w's interval over many draws. Small problems, fixed seeds.
 */
const NS = [250, 450, 800, 1400, 2500, 4500, 8000, 16000];

/** One curve: per seed, L(N)·exp(r·(0.6 z_seed + 0.8 z_seed,N)) (a seed's offset shared by every N). */
function curve(L: (n: number) => number, pEval: number, seeds: number, r: number, rng: AnalysisRng): LossCurve {
  const zs = Array.from({ length: seeds }, () => rng.normal());
  return {
    width: 64, depth: 2, pTrain: 0, pEval,
    points: NS.map((n) => {
      const per = zs.map((z) => L(n) * Math.exp(r * (0.6 * z + 0.8 * rng.normal())));
      const mean = per.reduce((a, b) => a + b, 0) / seeds;
      const sd = Math.sqrt(per.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1));
      return { n, mean, stderr: sd / Math.sqrt(seeds), accuracy: 0.9, seeds: per.map((_, i) => i), perSeed: per, perSeedMasks: per.map((v) => [v]) };
    }),
  };
}

const baseline = (n: number): number => 3 * n ** -0.3;
const falling = (n: number): number => 2 * n ** -0.15;
/** Minimum near N ≈ 2,000: falls as N^-0.4, then rises as N^0.25. */
const interiorMin = (n: number): number => 4 * n ** -0.4 + 0.04 * n ** 0.25;
/** A maximum near N ≈ 3,000, falling beyond: it rises over most of the range, then falls. */
const riseThenFall = (n: number): number => 0.8 + 0.9 * Math.exp(-((Math.log(n) - Math.log(3000)) ** 2) / 1.2);

function label(L: (n: number) => number, seeds: number, rng: AnalysisRng): { phase: string; alpha: number; ci: [number, number]; globalAlpha: number } {
  const curves = [curve(baseline, 0, seeds, 0.03, rng), curve(L, 0.5, seeds, 0.03, rng)];
  const sets = drawSeedSets(curves[0].points[0].seeds, 200, rng);
  const boot = new Map<LossCurve, CurveBootstrap>(curves.map((c) => [c, bootstrapCurveWith(c, sets, rng)]));
  const inputs: PhaseInput[] = curves.map((c) => {
    const w = scalingFit(c, boot.get(c)!, { ciLevel: 0.95 });
    return { curve: c, fit: w.fit, bootAlphas: w.bootAlphas, errorFactor: w.errorFactor };
  });
  const win = windowPhaseInputs(inputs, boot, DEFAULT_SLOPE_WINDOW, 0.95);
  const labels = classifyPhases(win.inputs, DEFAULT_ANALYSIS_OPTIONS);
  return { phase: labels[1].phase, alpha: win.slopes[1].alpha, ci: win.slopes[1].alphaCI, globalAlpha: inputs[1].fit.powerLaw.alpha };
}

test("the window: the sizes within a factor e^window of the largest, at least the 3 largest", () => {
  assert.deepEqual(windowIndices(NS, DEFAULT_SLOPE_WINDOW), [5, 6, 7], "4,500 … 16,000");
  assert.deepEqual(windowIndices(NS, Math.log(10)), [4, 5, 6, 7], "2,500 … 16,000");
  assert.deepEqual(windowIndices([100, 1000, 10000, 100000], DEFAULT_SLOPE_WINDOW), [1, 2, 3], "widened to 3 sizes");
  assert.deepEqual(windowIndices([100, 1000], 1), [0, 1]);
  assert.ok(Math.abs(logSlopeAlpha(NS, NS.map((n) => n ** -0.2), [5, 6, 7]) - 0.2) < 1e-12);
});

test("labels follow the slope sign at the largest sizes: falling → eumentia, interior minimum → dementia, rise then fall → eumentia (200 draws each, 6 seeds)", (t) => {
  const rng = new AnalysisRng(7);
  // Why a window: the interior-minimum curve falls over the whole range by one power law.
  assert.ok(logSlopeAlpha(NS, NS.map(interiorMin), NS.map((_, i) => i)) > 0, "global power law says 'falls'");
  assert.ok(logSlopeAlpha(NS, NS.map(interiorMin), windowIndices(NS, DEFAULT_SLOPE_WINDOW)) < -0.05, "the window says 'rises'");
  assert.ok(logSlopeAlpha(NS, NS.map(riseThenFall), NS.map((_, i) => i)) < 0 && logSlopeAlpha(NS, NS.map(riseThenFall), windowIndices(NS, DEFAULT_SLOPE_WINDOW)) > 0.05);
  const cases: Array<[string, (n: number) => number, string]> = [["falling power law", falling, "eumentia"], ["interior minimum", interiorMin, "dementia"], ["rise then fall", riseThenFall, "eumentia"]];
  for (const [name, L, want] of cases) {
    const counts: Record<string, number> = {};
    for (let k = 0; k < 200; k++) {
      const { phase } = label(L, 6, rng);
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    t.diagnostic(`PHASE-RULE | ${name} | ${JSON.stringify(counts)}`);
    const wrong = want === "eumentia" ? (counts.dementia ?? 0) : (counts.eumentia ?? 0);
    assert.ok((counts[want] ?? 0) >= 180, `${name}: ${JSON.stringify(counts)}`);
    assert.ok(wrong <= 4, `${name}: the opposite label ${wrong} times (${JSON.stringify(counts)})`);
  }
});

test("α_w's interval covers the true window slope at its level (300 draws, 8 and 4 seeds)", (t) => {
  const rng = new AnalysisRng(11);
  const idx = windowIndices(NS, DEFAULT_SLOPE_WINDOW);
  for (const [L, seeds, lo, hi] of [[interiorMin, 8, 0.9, 0.99], [falling, 8, 0.9, 0.99], [interiorMin, 4, 0.85, 0.995]] as const) {
    const truth = logSlopeAlpha(NS, NS.map(L), idx);
    let covered = 0;
    for (let k = 0; k < 300; k++) {
      const { ci } = label(L, seeds, rng);
      if (ci[0] <= truth && truth <= ci[1]) covered++;
    }
    t.diagnostic(`PHASE-RULE | coverage | ${L === falling ? "falling" : "interior minimum"} | ${seeds} seeds | ${covered}/300`);
    assert.ok(covered / 300 >= lo && covered / 300 <= hi, `${seeds} seeds: coverage ${covered}/300`);
  }
});
