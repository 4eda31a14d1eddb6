/**
 * What a trajectory costs next to the training: runJob on the default protocol (early stopping,
 * width 128, depth 2, the 10 p_eval × 4 draws of the job's own evaluation) without a trajectory,
 * with {points: 14, pEval: [0, 0.5, 0.7], masks: 1}, and with extendFactor 3 too; interleaved,
 * in CPU seconds of this process (robust on a shared machine), N = 1,000 and 4,000, 3 seeds.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/trajectory-cost.js
 */
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import type { TrainJob, TrajectorySpec } from "../src/train/job.js";
import { runJob } from "../src/train/train.js";

const mnist = loadMnist();
const engine = getEngine();
const base: Omit<TrainJob, "n" | "seed"> = {
  width: 128, depth: 2, pTrain: 0, policy: "early-stop", epochs: 20, steps: 1000, patience: 10, valEvery: "half-epoch", maxSteps: 30000,
  validation: 10000, dataDraw: "per-seed", subsetSeed: 0, batch: 64, lr: 1e-3, optimizer: "adam", pEvals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], evalMode: "sample", masks: 4, rescale: true,
};
const T: TrajectorySpec = { points: 14, pEval: [0, 0.5, 0.7], masks: 1 };
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
for (const n of [1000, 4000]) {
  const sum = { plain: 0, traj: 0, ext: 0, ownEval: 0, points: 0, extPoints: 0, stop: 0, end: 0 };
  for (const seed of [0, 1, 2]) {
    const job: TrainJob = { ...base, n, seed };
    let t = cpu();
    const a = runJob(job, mnist, engine);
    sum.plain += cpu() - t;
    sum.ownEval += a.evalSeconds / (a.trainSeconds + a.evalSeconds);
    t = cpu();
    const b = runJob({ ...job, trajectory: T }, mnist, engine);
    sum.traj += cpu() - t;
    t = cpu();
    const c = runJob({ ...job, trajectory: { ...T, extendFactor: 3 } }, mnist, engine);
    sum.ext += cpu() - t;
    sum.points += b.trajectory!.points.length;
    sum.extPoints += c.trajectory!.points.length;
    sum.stop += b.trajectory!.stopStep;
    sum.end += c.trajectory!.endStep;
  }
  console.log(
    `N ${n}: policy stops at ${(sum.stop / 3).toFixed(0)} steps (mean of 3 seeds); job without a trajectory ${(sum.plain / 3).toFixed(2)} CPU s (its own evaluation ${(100 * sum.ownEval / 3).toFixed(0)} % of it); ` +
      `with ${(sum.points / 3).toFixed(1)} checkpoints: ×${(sum.traj / sum.plain).toFixed(2)}; extended to ${(sum.end / 3).toFixed(0)} steps with ${(sum.extPoints / 3).toFixed(1)} checkpoints: ×${(sum.ext / sum.plain).toFixed(2)}`,
  );
}
