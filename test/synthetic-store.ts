import { join } from "node:path";
import { AnalysisRng } from "../src/analysis/stats.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { SweepStore } from "../src/sweep/store.js";
import type { JobResult, TrainJob } from "../src/train/job.js";

/**
 * A sweep store filled with synthetic results (no training) for the analyze-command tests:
 * width 16, depth 1, p_train 0, p_eval 0/0.3/0.6, N = 100…800, 3 seeds, 2 masks; each loss is
 * truth(...) with 2 % seed noise and 1 % mask noise. `skip` leaves jobs out (an unfinished sweep).
 * Not a test file.
 */
export function writeSyntheticSweep(dir: string, truth: (g: { width: number; depth: number; pTrain: number; pEval: number }, n: number) => number, rngSeed: number, skip: (job: TrainJob) => boolean = () => false): void {
  const config = parseConfig({ widths: [16], depths: [1], pTrain: [0], pEval: [0, 0.3, 0.6], sizes: [100, 200, 400, 800], seeds: [0, 1, 2], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 2 });
  const plan = planJobs(config);
  const store = SweepStore.open(join(dir, "results.sqlite"), { create: true });
  const rng = new AnalysisRng(rngSeed);
  try {
    store.initialise(config, plan, { mentiaVersion: "test" });
    for (const pj of plan.filter((p) => !skip(p.job))) {
      const evals = pj.job.pEvals.map((pEval) => {
        const base = truth({ width: 16, depth: 1, pTrain: pj.job.pTrain, pEval }, pj.job.n) * Math.exp(0.02 * rng.normal());
        const masks = [base * (1 + 0.01 * rng.normal()), base * (1 + 0.01 * rng.normal())];
        return { evalMode: "sample" as const, pEval, loss: (masks[0] + masks[1]) / 2, lossStderr: Math.abs(masks[0] - masks[1]) / 2, accuracy: 0.9, accuracyStderr: 0.01, maskLosses: masks, maskAccuracies: [0.9, 0.9] };
      });
      const training = { steps: pj.steps, bestStep: pj.steps, bestValLoss: null, validations: 0, stoppedBy: "budget" as const };
      const result: JobResult = { job: pj.job, engine: "synthetic", trainSeconds: 0, evalSeconds: 0, steps: pj.steps, finalTrainLoss: 0.1, training, evals };
      store.recordResult(pj.key, result, { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
    }
  } finally {
    store.close();
  }
}
