/**
 * One short real-MNIST job's training (no test evaluation), for instruction-count profiles of
 * the native engine: repeatable on a busy machine, where wall-clock times are not.
 *
 *   steps       400 steps at 128/2/64, p_train 0.3, N = 10,000: training steps only
 *   early-stop  N = 1,000, early stopping (validation every 10 steps on 10,000 images), max
 *               400 steps: the mix of a small-N job of the default study
 *
 *   npx tsc -p tsconfig.json
 *   MENTIA_ISA=avx2 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *     node dist/bench/callgrind-train.js steps
 *   callgrind_annotate --inclusive=yes /tmp/cg.out | grep mentia_avx2
 *
 * (valgrind runs no AVX-512: profile the avx2 variant.) MENTIA_LAYER0=dense|sparse picks the path.
 */
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import { CONFIG_DEFAULTS } from "../src/sweep/config.js";
import type { TrainJob } from "../src/train/job.js";
import { trainJob } from "../src/train/train.js";

const which = process.argv[2] ?? "steps";
if (which !== "steps" && which !== "early-stop") throw new Error(`usage: callgrind-train.js steps|early-stop, got '${which}'`);
const job: TrainJob = {
  ...CONFIG_DEFAULTS,
  width: 128,
  depth: 2,
  pTrain: 0.3,
  seed: 1,
  pEvals: [0],
  evalMode: "sample",
  ...(which === "steps" ? { policy: "steps", steps: 400, n: 10000 } : { policy: "early-stop", maxSteps: 400, n: 1000 }),
};
const data = loadMnist();
const engine = getEngine("native");
const { net, finalTrainLoss, training } = trainJob(job, data, engine);
net.dispose();
console.log(JSON.stringify({ which, layer0: process.env.MENTIA_LAYER0 ?? "auto", finalTrainLoss, training }));
