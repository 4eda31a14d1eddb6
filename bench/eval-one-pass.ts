/**
 * Evaluation of one job, per p_eval (one evaluate() per p_eval, today's runJob before
 * evaluateAll) versus one pass (evaluateAll): a 128/2 network, the default study's 11 p_eval,
 * 2 and 4 draws of a fresh mask per sample, the 10,000 MNIST test images, native engine.
 * Best of 7, in CPU milliseconds of this process (robust on a shared machine).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/eval-one-pass.js
 */
import { loadMnist } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { loadNativeEngine, nativeIsa } from "../src/engine/native/index.js";
import { DEFAULT_OPTIMIZER } from "../src/engine/types.js";

const native = loadNativeEngine();
if (!native) throw new Error("the native engine is not built");
const data = loadMnist();
const spec = { width: 128, depth: 2 };
const net = native.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1);
const pEvals = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (const masks of [2, 4]) {
  const o = { mode: "sample" as const, masks, rescale: true, batch: 1000 };
  let perP = Infinity, all = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    let t = cpuMs();
    for (const pEval of pEvals) net.evaluate(data.test, { ...o, pEval });
    perP = Math.min(perP, cpuMs() - t);
    t = cpuMs();
    net.evaluateAll(data.test, pEvals, o);
    all = Math.min(all, cpuMs() - t);
  }
  console.log(`${nativeIsa()}, 128/2, 11 p_eval × ${masks} draws: per p_eval ${perP.toFixed(0)} ms, one pass ${all.toFixed(0)} ms (${(perP / all).toFixed(2)}×)`);
}
net.dispose();
