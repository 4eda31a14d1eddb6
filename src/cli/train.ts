import { MentiaError } from "../errors.js";
import { DATASET_NAMES, datasetSource, type DatasetName } from "../data/datasets.js";
import { DEFAULT_DEFORMATION, DEFORMATION_BOUNDS, type DeformationParams } from "../data/deform.js";
import { getEngine } from "../engine/select.js";
import { EVAL_MODES, type EngineName, type EvalMode, type OptimizerName } from "../engine/types.js";
import type { DataDraw } from "../data/mnist.js";
import { CONFIG_DEFAULTS } from "../sweep/config.js";
import { TRAINING_POLICIES, type TrainingPolicy, type TrainJob, type ValEvery } from "../train/job.js";
import { runJob, validateJob } from "../train/train.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  width: { kind: "int", default: 256, help: "hidden units per layer", metavar: "W" },
  depth: { kind: "int", default: 2, help: "number of hidden layers", metavar: "D" },
  "p-train": { kind: "number", default: 0, help: "dropout rate at training, in [0,1)", metavar: "P" },
  dataset: { kind: "string", default: "mnist", help: `${DATASET_NAMES.join(" | ")} (docs/datasets.md)`, metavar: "NAME" },
  deformation: {
    kind: "string",
    help: `mnist-deformed: KEY=V,... of ${Object.keys(DEFORMATION_BOUNDS).join(", ")} (default ${Object.entries(DEFAULT_DEFORMATION).map(([k, v]) => `${k}=${v}`).join(",")})`,
    metavar: "K=V,..",
  },
  n: { kind: "int", default: 10000, help: "training-set size N (the first N images of the job's permutation; N ≤ 60000 − validation, mnist-deformed: ≤ 10^8)", metavar: "N" },
  policy: { kind: "string", default: CONFIG_DEFAULTS.policy, help: "how long to train: early-stop | epochs | steps | epochs-min-steps (docs/protocol.md)", metavar: "NAME" },
  epochs: { kind: "int", default: CONFIG_DEFAULTS.epochs, help: "passes over the N samples (policies epochs, epochs-min-steps)", metavar: "E" },
  steps: { kind: "int", default: CONFIG_DEFAULTS.steps, help: "optimisation steps (policy steps: exactly; epochs-min-steps: at least)", metavar: "S" },
  patience: { kind: "int", default: CONFIG_DEFAULTS.patience, help: "early-stop: validations without improvement before stopping", metavar: "K" },
  "val-every": { kind: "string", default: String(CONFIG_DEFAULTS.valEvery), help: "early-stop: steps between validations, half-epoch (½ epoch, ≥ 10 steps) or epoch (1 epoch, ≥ 50 steps)", metavar: "S" },
  "max-steps": { kind: "int", default: CONFIG_DEFAULTS.maxSteps, help: "early-stop: most steps to train", metavar: "S" },
  validation: { kind: "int", default: CONFIG_DEFAULTS.validation, help: "training images held out for validation (the last of the permutation)", metavar: "V" },
  "data-draw": { kind: "string", default: CONFIG_DEFAULTS.dataDraw, help: "per-seed (each seed its own images) | shared (one permutation, --subset-seed)", metavar: "HOW" },
  batch: { kind: "int", default: 64, help: "mini-batch size", metavar: "B" },
  lr: { kind: "number", default: 1e-3, help: "learning rate", metavar: "LR" },
  optimizer: { kind: "string", default: "adam", help: "adam | sgd (momentum 0.9)", metavar: "NAME" },
  seed: { kind: "int", default: 1, help: "seed of init, shuffles and every dropout mask", metavar: "S" },
  "subset-seed": { kind: "int", default: 0, help: "seed of the shared permutation (also mixed into per-seed ones)", metavar: "S" },
  "p-eval": { kind: "numbers", default: [0, 0.1, 0.2, 0.5], help: "comma-separated removal rates at evaluation", metavar: "P,P,..." },
  "eval-mode": {
    kind: "string",
    default: "sample",
    help: "sample (fresh neuron mask per test sample) | mask (one set of removed neurons per draw) | neuron-magnitude (least important neurons per layer) | weight-random (each weight with prob. p_eval) | weight-magnitude (smallest |w| per layer); comma-separated: the one trained network in each (docs/pruning.md)",
    metavar: "MODE[,MODE..]",
  },
  masks: { kind: "int", default: 4, help: "independent draws (sample, weight-random) or masks (mask) averaged per p_eval; magnitude modes make one", metavar: "K" },
  rescale: { kind: "boolean", default: true, help: "random modes: scale survivors by 1/(1-p_eval); --no-rescale removes without rescaling" },
  "magnitude-rescale": { kind: "boolean", help: "magnitude modes: scale survivors by 1/(1-p_eval) too (default: kept as they are)" },
  global: { kind: "boolean", help: "weight-magnitude: one |w| threshold across all layers (default: per layer)" },
  engine: { kind: "string", help: "reference | native (default: native when built; env MENTIA_ENGINE)", metavar: "NAME" },
  json: { kind: "boolean", help: "print exactly one JSON object on stdout" },
};

const USAGE = "mentia train [options]";
const DESCRIPTION = "Trains one network on real MNIST (or --dataset) with dropout p_train and evaluates it on the 10,000\ntest images at every p_eval. Progress goes to stderr; the result table (or --json) to stdout.";

function parseDeformation(v: string | undefined, dataset: DatasetName): DeformationParams | undefined {
  if (v === undefined) return dataset === "mnist-deformed" ? { ...DEFAULT_DEFORMATION } : undefined;
  if (dataset !== "mnist-deformed") throw new MentiaError(`--deformation applies to --dataset mnist-deformed only, not ${dataset}`);
  const out: DeformationParams = { ...DEFAULT_DEFORMATION };
  for (const part of v.split(",")) {
    const [k, val] = part.split("=").map((x) => x.trim());
    if (!(k in DEFORMATION_BOUNDS) || val === undefined || val === "" || !Number.isFinite(Number(val)))
      throw new MentiaError(`--deformation: '${part}' is not KEY=NUMBER with KEY one of ${Object.keys(DEFORMATION_BOUNDS).join(", ")}`);
    out[k as keyof DeformationParams] = Number(val);
  }
  return out;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new MentiaError(`${what} must be one of ${allowed.join(", ")}, got '${String(value)}'`);
}

function parseEvalModes(v: string): EvalMode | EvalMode[] {
  const modes = v.split(",").map((m) => oneOf<EvalMode>(m.trim(), EVAL_MODES, "--eval-mode"));
  if (new Set(modes).size !== modes.length) throw new MentiaError(`--eval-mode lists a mode twice: ${v}`);
  return modes.length === 1 ? modes[0] : modes;
}

function parseValEvery(v: string): ValEvery {
  if (v === "half-epoch" || v === "epoch") return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new MentiaError(`--val-every must be an integer ≥ 1, 'half-epoch' or 'epoch', got '${v}'`);
  return n;
}

export const command: Command = {
  summary: "train one network and evaluate it at several p_eval",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "train", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 0, what: "no arguments" } });
    if (!args) return 0;
    const { flags: f } = args;
    const dataset = oneOf<DatasetName>(f.dataset, DATASET_NAMES, "--dataset");
    const deformation = parseDeformation(f.deformation as string | undefined, dataset);
    const job: TrainJob = {
      width: f.width as number,
      depth: f.depth as number,
      pTrain: f["p-train"] as number,
      n: f.n as number,
      seed: f.seed as number,
      policy: oneOf<TrainingPolicy>(f.policy, TRAINING_POLICIES, "--policy"),
      epochs: f.epochs as number,
      steps: f.steps as number,
      patience: f.patience as number,
      valEvery: parseValEvery(f["val-every"] as string),
      maxSteps: f["max-steps"] as number,
      validation: f.validation as number,
      dataDraw: oneOf<DataDraw>(f["data-draw"], ["per-seed", "shared"], "--data-draw"),
      batch: f.batch as number,
      lr: f.lr as number,
      optimizer: oneOf<OptimizerName>(f.optimizer, ["adam", "sgd"], "--optimizer"),
      pEvals: f["p-eval"] as number[],
      evalMode: parseEvalModes(f["eval-mode"] as string),
      masks: f.masks as number,
      rescale: f.rescale as boolean,
      ...(f["magnitude-rescale"] ? { magnitudeRescale: true } : {}),
      ...(f.global ? { magnitudeGlobal: true } : {}),
      subsetSeed: f["subset-seed"] as number,
      ...(dataset !== "mnist" ? { dataset } : {}),
      ...(deformation ? { deformation } : {}),
    };
    validateJob(job);
    const engine = getEngine(f.engine === undefined ? undefined : oneOf<EngineName>(f.engine, ["reference", "native"], "--engine"));
    const data = datasetSource(dataset).load();
    console.error(`training ${784}-${Array(job.depth).fill(job.width).join("-")}-10 on ${dataset} N=${job.n}, p_train=${job.pTrain}, engine ${engine.name}`);
    const result = runJob(job, data, engine, (e) => {
      const val = e.valLoss === undefined ? "" : `  val loss ${e.valLoss.toFixed(4)} (best ${e.bestValLoss!.toFixed(4)} at step ${e.bestStep})`;
      const of = job.policy === "early-stop" ? ` (at most ${e.steps})` : `/${e.steps}`;
      console.error(`epoch ${e.epoch}  step ${e.step}${of}  train loss ${e.trainLoss.toFixed(4)}${val}  ${Math.round(e.samplesPerSec)} samples/s`);
    });
    const t = result.training;
    if (f.json) {
      const { pEvals: _unused, ...config } = job;
      console.log(JSON.stringify({
        config: { ...config, dataset, pEval: job.pEvals, engine: result.engine },
        train: { seconds: result.trainSeconds, steps: result.steps, finalTrainLoss: result.finalTrainLoss, bestStep: t.bestStep, bestValLoss: t.bestValLoss, validations: t.validations, stoppedBy: t.stoppedBy },
        evals: result.evals.map((e) => ({ evalMode: e.evalMode, pEval: e.pEval, loss: e.loss, lossStderr: e.lossStderr, accuracy: e.accuracy, accuracyStderr: e.accuracyStderr })),
      }));
      return 0;
    }
    const why = { patience: `stopped after ${job.patience} validations without improvement`, "max-steps": "stopped at maxSteps", budget: "the policy's fixed length" }[t.stoppedBy];
    const took = result.trainSeconds >= 10 ? `${result.trainSeconds.toFixed(1)} s` : result.trainSeconds >= 0.1 ? `${result.trainSeconds.toFixed(2)} s` : `${(result.trainSeconds * 1000).toFixed(1)} ms`;
    console.log(`trained ${result.steps} steps in ${took} (${why}), final train loss ${result.finalTrainLoss.toFixed(4)}`);
    if (t.bestValLoss !== null) console.log(`evaluated the weights of step ${t.bestStep}: best validation loss ${t.bestValLoss.toFixed(4)} over ${t.validations} validations on ${job.validation} held-out images`);
    const several = Array.isArray(job.evalMode);
    console.log(`\n  p_eval   test loss ± stderr        accuracy${several ? "   mode" : ""}`);
    for (const e of result.evals) console.log(`  ${e.pEval.toFixed(3).padStart(6)}   ${e.loss.toFixed(4).padStart(8)} ± ${e.lossStderr.toFixed(4).padEnd(8)}   ${(100 * e.accuracy).toFixed(2).padStart(6)} %${several ? `   ${e.evalMode}` : ""}`);
    return 0;
  },
};
