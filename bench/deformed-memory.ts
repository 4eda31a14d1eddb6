/**
 * Memory of one mnist-deformed job: the process's resident set before the job (Node, the addon,
 * MNIST loaded) and its peak after (process.resourceUsage().maxRSS), for one job of
 * configs/deformed.yaml's settings (width 128, depth 2, early stopping, 15 p_eval, 4 masks), with
 * its recorded generation time and training time (wall clock).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/deformed-memory.js [N=1000000] [pTrain=0] [maxSteps=100000]
 */
import { loadConfig } from "../src/sweep/config.js";
import { makeJob } from "../src/sweep/plan.js";
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import { runJob } from "../src/train/train.js";

const [n = 1_000_000, pTrain = 0, maxSteps = 100_000] = process.argv.slice(2).map(Number);
const config = loadConfig("configs/deformed.yaml");
const job = { ...makeJob(config, { width: 128, depth: 2, pTrain, n, seed: 1 }), maxSteps };
const data = loadMnist();
const engine = getEngine();
const before = process.memoryUsage().rss;
const r = runJob(job, data, engine);
const peak = process.resourceUsage().maxRSS * 1024;
const g = r.training.generated;
console.log(`N ${n}, p_train ${pTrain}, maxSteps ${maxSteps}: ${r.steps} steps (best ${r.training.bestStep}, stopped by ${r.training.stoppedBy})`);
console.log(`resident set: ${(before / 1e9).toFixed(3)} GB before the job, peak ${(peak / 1e9).toFixed(3)} GB: the job's own ≈ ${((peak - before) / 1e9).toFixed(3)} GB`);
console.log(`wall clock: training ${r.trainSeconds.toFixed(1)} s, of which generation ${g ? g.seconds.toFixed(1) : 0} s (${g ? g.samples : 0} samples, ${g ? ((100 * g.seconds) / r.trainSeconds).toFixed(1) : 0} %)`);
console.log(`test loss at p_eval 0: ${r.evals.find((e) => e.pEval === 0)?.loss.toFixed(4)}`);
