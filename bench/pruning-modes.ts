/**
 * The pruning modes (src/engine/prune.ts), measured on real MNIST with the native engine:
 *
 * 1. Speed: one job's evaluation (the default study's 11 p_eval, K = 2 draws, the 10,000 test
 *    images, a trained 128/2 network) in each mode against `mask` mode, interleaved
 *    (mask, mode, mask, mode, ...), best of 5 in CPU ms of this process; the ratio is mode/mask.
 * 2. Test loss in every mode at p_eval 0.3-0.9 of networks trained at p_train 0 and 0.5
 *    (N 8000, early stopping, 3 seeds), and the neuron-magnitude score: ‖incoming‖·‖outgoing‖
 *    weights vs the mean activation on 2,000 training images of the job.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pruning-modes.js [--speed-only | --losses-only]
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

if (arg !== "--losses-only") {
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
  // Test loss (10,000 images) of networks trained at p_train 0 and 0.5 (N 8000, early stopping,
  // seeds 0-2) in every mode, and neuron-magnitude with the activation score; mean ± standard
  // error over the 3 seeds.
  const ps = [0.3, 0.5, 0.7, 0.9];
  // Each mode with its default scaling of the survivors and with the other one.
  const variants = EVAL_MODES.flatMap((mode) => {
    const random = mode === "sample" || mode === "mask" || mode === "weight-random";
    return [
      { name: `${mode}${random ? ", rescaled (default)" : " (default: not rescaled)"}`, mode, rescale: random, magnitudeRescale: false },
      { name: `${mode}${random ? ", not rescaled" : ", rescaled"}`, mode, rescale: false, magnitudeRescale: !random },
    ];
  });
  const rows = [...variants.map((v) => v.name), "neuron-magnitude (activation score, not rescaled)"];
  const fmt = (v: number[]): string => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const se = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) / v.length);
    return `${m.toFixed(3)} ± ${se.toFixed(3)}`;
  };
  for (const pTrain of [0, 0.5]) {
    const loss: Record<string, number[][]> = Object.fromEntries(rows.map((r) => [r, ps.map(() => [])]));
    const base: number[] = [];
    for (const seed of [0, 1, 2]) {
      const j = job(pTrain, 8000, seed);
      const { net } = trainJob(j, data, native);
      base.push(net.evaluate(data.test, { pEval: 0, mode: "sample", masks: 1, rescale: true }).loss);
      for (const v of variants) net.evaluateAll(data.test, ps, { mode: v.mode, masks: 2, rescale: v.rescale, magnitudeRescale: v.magnitudeRescale }).forEach((r, i) => loss[v.name][i].push(r.loss));
      const sub = selectRows(data.train, jobData(j).train.subarray(0, 2000));
      const o = { mode: "neuron-magnitude" as const, masks: 1, rescale: false, batch: 1000 };
      evaluatePruned(net, seed, data.test, ps, o, activationScores(net.spec, net.getParams(), sub)).forEach((r, i) => loss[rows[rows.length - 1]][i].push(r.loss));
      // The default score through the same path, as a check that only the score differs.
      const w = evaluatePruned(net, seed, data.test, ps, o, neuronScores(net.spec, net.getParams()));
      w.forEach((r, i) => {
        if (Math.abs(r.loss - loss[variants[4].name][i][seed]) > 1e-5 * r.loss) throw new Error("neuron-magnitude differs between paths");
      });
      net.dispose();
    }
    console.log(`\np_train ${pTrain}, width 128, depth 2, N 8000 (early stopping), seeds 0-2; unpruned test loss ${fmt(base)}; test loss (mean ± s.e. over seeds), K = 2 draws in the random modes:`);
    console.log(`| mode | ${ps.map((p) => `p_eval ${p}`).join(" | ")} |`);
    console.log(`|---|${ps.map(() => "---|").join("")}`);
    for (const r of rows) console.log(`| ${r} | ${loss[r].map(fmt).join(" | ")} |`);
  }
}
