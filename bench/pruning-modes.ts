/**
 * The pruning modes (src/engine/prune.ts), measured on real MNIST with the native engine:
 *
 * 1. Speed: one job's evaluation (the default study's 11 p_eval, K = 2 draws, the 10,000 test
 *    images, a trained 128/2 network) in each mode against `mask` mode, interleaved
 *    (mask, mode, mask, mode, ...), best of 5 in CPU ms of this process; the ratio is mode/mask.
 * 2. The neuron-magnitude score: ‖incoming‖·‖outgoing‖ weights vs the mean activation on
 *    2,000 training images of the job, test loss after removing the p_eval least important
 *    neurons per layer, on networks trained at p_train 0 and 0.5 (N 8000, 3 seeds).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pruning-modes.js [--speed-only | --score-only]
 */
import { loadMnist, selectRows } from "../src/data/mnist.js";
import { loadNativeEngine, nativeIsa } from "../src/engine/native/index.js";
import { activationScores, evaluatePruned, neuronScores } from "../src/engine/prune.js";
import { EVAL_MODES, type EvalMode } from "../src/engine/types.js";
import { CONFIG_DEFAULTS } from "../src/sweep/config.js";
import type { TrainJob } from "../src/train/job.js";
import { jobData, trainJob } from "../src/train/train.js";

const native = loadNativeEngine();
if (!native) throw new Error("the native engine is not built");
const data = loadMnist();
const pEvals = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const job = (pTrain: number, n: number, seed: number): TrainJob => ({ ...CONFIG_DEFAULTS, width: 128, depth: 2, pTrain, n, seed, pEvals, evalMode: "mask", masks: 2 });
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const arg = process.argv[2];
console.log(`native ${nativeIsa()}; load average ${(await import("node:os")).loadavg()[0].toFixed(2)} at start`);

if (arg !== "--score-only") {
  const { net } = trainJob(job(0, 4000, 1), data, native);
  const opts = (mode: EvalMode) => ({ mode, masks: 2, rescale: true, batch: 1000 });
  const best: Record<string, number> = {};
  const modes = EVAL_MODES.filter((m) => m !== "mask");
  for (let rep = 0; rep < 5; rep++) {
    for (const mode of modes) {
      for (const m of ["mask", mode] as EvalMode[]) {
        const t = cpuMs();
        net.evaluateAll(data.test, pEvals, opts(m));
        const ms = cpuMs() - t;
        const key = m === "mask" ? `mask|${mode}` : mode;
        best[key] = Math.min(best[key] ?? Infinity, ms);
      }
    }
  }
  console.log("evaluation of one job (128/2, 11 p_eval, K = 2, 10,000 test images), best of 5, CPU ms:");
  for (const mode of modes) console.log(`  ${mode.padEnd(17)} ${best[mode].toFixed(0).padStart(6)} ms   mask ${best[`mask|${mode}`].toFixed(0).padStart(5)} ms   ratio ${(best[mode] / best[`mask|${mode}`]).toFixed(2)}×`);
  net.dispose();
}

if (arg !== "--speed-only") {
  const ps = [0.3, 0.5, 0.7, 0.9];
  console.log("\nneuron-magnitude test loss by score (128/2, N 8000, early stopping), p_eval " + ps.join(", ") + ":");
  for (const pTrain of [0, 0.5]) {
    for (const seed of [0, 1, 2]) {
      const j = job(pTrain, 8000, seed);
      const { net } = trainJob(j, data, native);
      const rows = jobData(j).train.subarray(0, 2000);
      const sub = selectRows(data.train, rows);
      const o = { mode: "neuron-magnitude" as const, masks: 1, rescale: false, batch: 1000 };
      const wLoss = evaluatePruned(net, seed, data.test, ps, o, neuronScores(net.spec, net.getParams())).map((r) => r.loss);
      const aLoss = evaluatePruned(net, seed, data.test, ps, o, activationScores(net.spec, net.getParams(), sub)).map((r) => r.loss);
      console.log(`  p_train ${pTrain} seed ${seed}: weights ${wLoss.map((v) => v.toFixed(3)).join(" ")} | activation ${aLoss.map((v) => v.toFixed(3)).join(" ")}`);
      net.dispose();
    }
  }
}
