import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_ANALYSIS_OPTIONS } from "../src/analysis/analyze.js";
import { lossCurves } from "../src/analysis/curves.js";
import { bootstrapCurveWith, drawSeedSets } from "../src/analysis/seeds.js";
import { classifyPhases, phaseBoundaries } from "../src/analysis/phases.js";
import { scalingFit } from "../src/analysis/scaling.js";
import { AnalysisRng, studentTQuantile } from "../src/analysis/stats.js";
import { syntheticRecords } from "../src/analysis/synthetic.js";

/**
 * Coverage of the eumentia→dementia boundary p_eval,c (α(p) through zero) with a nonlinear
 * α(p), seed noise growing with N and half shared by every N of a seed, through the same
 * steps as analyze (seed sets drawn once per trained-network family).
 */
const PC = 0.43;
const alpha = (p: number): number => 0.6 * Math.tanh(3 * (PC - p)) + 0.3 * (PC - p) * (PC - p);

test("p_eval,c's 95 % interval (t with S − 1 dof) covers the truth in 90–99 % of 100 draws (nonlinear α(p), 6 seeds)", () => {
  const S = 6;
  const draws = 100;
  let hit = 0;
  const cs: number[] = [];
  const es: number[] = [];
  for (let d = 0; d < draws; d++) {
    const recs = syntheticRecords(
      { widths: [32], depths: [1], pTrains: [0], pEvals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], sizes: [250, 500, 1000, 2000, 4000, 8000, 16000], seeds: S, masks: 2, seedNoise: 0.03, maskNoise: 0.01, seedNoiseAt: (n) => 0.02 * Math.pow(n / 250, 0.1), seedShareAcrossN: 0.5 },
      (g, n) => 1.5 * Math.pow(n / 250, -alpha(g.pEval)),
      7000 + d,
    );
    const curves = lossCurves(recs);
    const rng = new AnalysisRng(d + 1);
    const sets = drawSeedSets(Array.from({ length: S }, (_, i) => i), 200, rng);
    const inputs = curves.map((c) => {
      const b = bootstrapCurveWith(c, sets, rng);
      const w = scalingFit(c, b, { ciLevel: 0.95 });
      return { curve: c, fit: w.fit, bootAlphas: w.bootAlphas, errorFactor: w.errorFactor };
    });
    const bc = phaseBoundaries(inputs, classifyPhases(inputs, DEFAULT_ANALYSIS_OPTIONS), DEFAULT_ANALYSIS_OPTIONS)[0].pEvalCritical.find((b) => b.method === "alpha-zero");
    assert.ok(bc, `draw ${d}: no alpha-zero boundary`);
    if (Math.abs(bc.critical - PC) <= studentTQuantile(0.975, S - 1) * bc.criticalErr) hit++;
    cs.push(bc.critical);
    es.push(bc.criticalErr);
  }
  const m = cs.reduce((a, b) => a + b, 0) / draws;
  const sd = Math.sqrt(cs.reduce((a, b) => a + (b - m) ** 2, 0) / (draws - 1));
  console.log(`VALIDATION | coverage, boundary p_eval,c (nonlinear α(p), 6 seeds, 100 draws) | ${hit}/${draws} | mean ${m.toFixed(4)} (true ${PC}), mean err ${(es.reduce((a, b) => a + b, 0) / draws).toFixed(4)} vs scatter ${sd.toFixed(4)} |`);
  assert.ok(hit >= 90 && hit <= 99, `coverage ${hit}/${draws}`);
});
