import { MentiaError } from "../errors.js";
import { loadMnist } from "../data/mnist.js";
import { getEngine } from "../engine/select.js";
import type { EngineName, EvalMode, OptimizerName } from "../engine/types.js";
import type { TrainJob } from "../train/job.js";
import { runJob, validateJob } from "../train/train.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  width: { kind: "int", default: 256, help: "hidden units per layer", metavar: "W" },
  depth: { kind: "int", default: 2, help: "number of hidden layers", metavar: "D" },
  "p-train": { kind: "number", default: 0, help: "dropout rate at training, in [0,1)", metavar: "P" },
  n: { kind: "int", default: 10000, help: "training-set size N (first N of the seeded permutation of the 60,000 images)", metavar: "N" },
  epochs: { kind: "int", default: 20, help: "passes over the N training samples", metavar: "E" },
  "min-steps": { kind: "int", default: 1000, help: "train at least this many optimisation steps (small N gets more epochs)", metavar: "S" },
  batch: { kind: "int", default: 64, help: "mini-batch size", metavar: "B" },
  lr: { kind: "number", default: 1e-3, help: "learning rate", metavar: "LR" },
  optimizer: { kind: "string", default: "adam", help: "adam | sgd (momentum 0.9)", metavar: "NAME" },
  seed: { kind: "int", default: 1, help: "seed of init, shuffles and every dropout mask", metavar: "S" },
  "subset-seed": { kind: "int", default: 0, help: "seed of the permutation that defines the nested subsets", metavar: "S" },
  "p-eval": { kind: "numbers", default: [0, 0.1, 0.2, 0.5], help: "comma-separated removal rates at evaluation", metavar: "P,P,..." },
  "eval-mode": { kind: "string", default: "sample", help: "sample (fresh mask per test sample) | mask (one fixed set of removed neurons per draw)", metavar: "MODE" },
  masks: { kind: "int", default: 4, help: "independent draws (sample mode) or masks (mask mode) averaged per p_eval", metavar: "K" },
  rescale: { kind: "boolean", default: true, help: "scale survivors by 1/(1-p_eval); --no-rescale removes without rescaling" },
  engine: { kind: "string", help: "reference | native (default: native when built; env MENTIA_ENGINE)", metavar: "NAME" },
  json: { kind: "boolean", help: "print exactly one JSON object on stdout" },
};

const USAGE = "mentia train [options]";
const DESCRIPTION = "Trains one network on real MNIST with dropout p_train and evaluates it on the 10,000 test images\nat every p_eval. Progress goes to stderr; the result table (or --json) to stdout.";

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new MentiaError(`${what} must be one of ${allowed.join(", ")}, got '${String(value)}'`);
}

export const command: Command = {
  summary: "train one network and evaluate it at several p_eval",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "train", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 0, what: "no arguments" } });
    if (!args) return 0;
    const { flags: f } = args;
    const job: TrainJob = {
      width: f.width as number,
      depth: f.depth as number,
      pTrain: f["p-train"] as number,
      n: f.n as number,
      seed: f.seed as number,
      epochs: f.epochs as number,
      minSteps: f["min-steps"] as number,
      batch: f.batch as number,
      lr: f.lr as number,
      optimizer: oneOf<OptimizerName>(f.optimizer, ["adam", "sgd"], "--optimizer"),
      pEvals: f["p-eval"] as number[],
      evalMode: oneOf<EvalMode>(f["eval-mode"], ["sample", "mask"], "--eval-mode"),
      masks: f.masks as number,
      rescale: f.rescale as boolean,
      subsetSeed: f["subset-seed"] as number,
    };
    validateJob(job);
    const engine = getEngine(f.engine === undefined ? undefined : oneOf<EngineName>(f.engine, ["reference", "native"], "--engine"));
    const data = loadMnist();
    console.error(`training ${784}-${Array(job.depth).fill(job.width).join("-")}-10 on N=${job.n}, p_train=${job.pTrain}, engine ${engine.name}`);
    const result = runJob(job, data, engine, (e) => {
      console.error(`epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}  step ${e.step}/${e.steps}  train loss ${e.trainLoss.toFixed(4)}  ${Math.round(e.samplesPerSec)} samples/s`);
    });
    if (f.json) {
      const { pEvals: _unused, ...config } = job;
      console.log(JSON.stringify({
        config: { ...config, pEval: job.pEvals, engine: result.engine },
        train: { seconds: result.trainSeconds, steps: result.steps, finalTrainLoss: result.finalTrainLoss },
        evals: result.evals.map((e) => ({ pEval: e.pEval, loss: e.loss, lossStderr: e.lossStderr, accuracy: e.accuracy, accuracyStderr: e.accuracyStderr })),
      }));
      return 0;
    }
    const took = result.trainSeconds >= 10 ? `${result.trainSeconds.toFixed(1)} s` : result.trainSeconds >= 0.1 ? `${result.trainSeconds.toFixed(2)} s` : `${(result.trainSeconds * 1000).toFixed(1)} ms`;
    console.log(`trained in ${took} (${result.steps} steps), final train loss ${result.finalTrainLoss.toFixed(4)}`);
    console.log(`\n  p_eval   test loss ± stderr        accuracy`);
    for (const e of result.evals) console.log(`  ${e.pEval.toFixed(3).padStart(6)}   ${e.loss.toFixed(4).padStart(8)} ± ${e.lossStderr.toFixed(4).padEnd(8)}   ${(100 * e.accuracy).toFixed(2).padStart(6)} %`);
    return 0;
  },
};
