import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Analysis } from "../src/analysis/schema.js";
import { AnalysisRng } from "../src/analysis/stats.js";
import type { EvalMode } from "../src/engine/types.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { SweepStore } from "../src/sweep/store.js";
import type { JobResult } from "../src/train/job.js";

const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const mentia = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

/** Where each mode's synthetic networks forget: eumentia (L falls with N) below, dementia (L grows) above. */
const PC: Partial<Record<EvalMode, number>> = { mask: 0.5, "weight-magnitude": 0.7 };

/** A store of synthetic results of one sweep evaluated in two modes (no training). */
function writeTwoModeSweep(dir: string): void {
  const config = parseConfig({ widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.2, 0.4, 0.6, 0.8], sizes: [100, 200, 400, 800, 1600, 3200], seeds: [0, 1, 2], policy: "steps", steps: 10, masks: 2, evalMode: ["mask", "weight-magnitude"] });
  const store = SweepStore.open(join(dir, "results.sqlite"), { create: true });
  const rng = new AnalysisRng(3);
  try {
    store.initialise(config, planJobs(config), { mentiaVersion: "test" });
    for (const pj of planJobs(config)) {
      const evals = (["mask", "weight-magnitude"] as const).flatMap((evalMode) =>
        pj.job.pEvals.map((pEval) => {
          const truth = pEval < (PC[evalMode] as number) ? 2 * pj.job.n ** -0.3 : 0.3 * pj.job.n ** 0.15;
          const base = truth * Math.exp(0.02 * rng.normal());
          const masks = [base * (1 + 0.01 * rng.normal()), base * (1 + 0.01 * rng.normal())];
          return { evalMode, pEval, loss: (masks[0] + masks[1]) / 2, lossStderr: Math.abs(masks[0] - masks[1]) / 2, accuracy: 0.9, accuracyStderr: 0.01, maskLosses: masks, maskAccuracies: [0.9, 0.9] };
        }),
      );
      const result: JobResult = { job: pj.job, engine: "synthetic", trainSeconds: 0, evalSeconds: 0, steps: 10, finalTrainLoss: 0.1, training: { steps: 10, bestStep: 10, bestValLoss: null, validations: 0, stoppedBy: "budget" }, evals };
      store.recordResult(pj.key, result, { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
    }
  } finally {
    store.close();
  }
}

test("a sweep evaluated in two modes: analysed per mode (each its own boundary), reported with both modes' phase diagrams and boundaries, and per mode", () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-modes-"));
  writeTwoModeSweep(dir);
  const a = mentia("analyze", dir, "--bootstrap", "100");
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /=== eval mode mask ===[\s\S]*=== eval mode weight-magnitude ===/);
  const read = (f: string): Analysis => JSON.parse(readFileSync(join(dir, f), "utf8")) as Analysis;
  const main = read("analysis.json");
  assert.equal(main.evalMode, "mask", "analysis.json is the config's first mode");
  assert.deepEqual(main.modes?.map((m) => [m.evalMode, m.file]), [["mask", "analysis-mask.json"], ["weight-magnitude", "analysis-weight-magnitude.json"]]);
  for (const mode of ["mask", "weight-magnitude"] as const) {
    const own = read(`analysis-${mode}.json`);
    assert.equal(own.evalMode, mode);
    assert.equal(own.input.records, 2 * 5 * 6 * 3, "one mode's records only");
    // Each mode's eumentia–dementia boundary lies between the grid values around its own p_c.
    const pc = own.boundaries[0].pEvalCritical.filter((b) => b.fixed === 0).map((b) => b.critical);
    assert.equal(pc.length, 1, mode);
    assert.ok(Math.abs(pc[0] - (PC[mode] as number)) < 0.1, `${mode}: p_eval,c ${pc[0]}`);
    assert.deepEqual(main.modes?.find((m) => m.evalMode === mode)?.boundaries, own.boundaries);
  }
  const r = mentia("report", dir);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ["fig1d-modes-phase-diagrams-w16-d1.png", "fig1e-modes-boundaries-w16-d1.svg"]) assert.ok(existsSync(join(dir, "report", f)), f);
  const svg = readFileSync(join(dir, "report", "fig1e-modes-boundaries-w16-d1.svg"), "utf8");
  assert.match(svg, /weight-magnitude/);
  const one = mentia("report", dir, "--eval-mode", "weight-magnitude");
  assert.equal(one.status, 0, one.stderr);
  assert.ok(existsSync(join(dir, "report-weight-magnitude", "index.html")));
  assert.ok(!existsSync(join(dir, "report-weight-magnitude", "fig1d-modes-phase-diagrams-w16-d1.svg")), "a one-mode report has no comparison figures");
  const bad = mentia("report", dir, "--eval-mode", "sample");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /has no eval mode 'sample' \(it has mask, weight-magnitude\)/);
});
