import type { DeformationParams } from "../data/deform.js";
import type { EvalMode } from "../engine/types.js";
import type { TrainingRecord, Trajectory, TrainJob, ValEvery } from "../train/job.js";
import type { EvalRecord, TrajectoryRecord } from "./records.js";
import type { EvalDump } from "./schema.js";
import type { SweepStore } from "./store.js";

/** One row of a tidy export: a job evaluated in one mode at one p_eval, with the job's settings. */
export interface ExportRow extends EvalRecord {
  accuracyStderr: number;
  maskAccuracies: number[];
  policy: string;
  epochs: number;
  /** The policy's `steps` setting (steps trained: `steps`). */
  stepsSetting: number;
  patience: number;
  valEvery: ValEvery;
  maxSteps: number;
  validation: number;
  dataDraw: string;
  batch: number;
  lr: number;
  optimizer: string;
  masks: number;
  rescale: boolean;
  subsetSeed: number;
  steps: number;
  finalTrainLoss: number;
  /** Step of the weights evaluated, their validation loss, and why training stopped. */
  bestStep: number;
  bestValLoss: number | null;
  stoppedBy: string;
  trainSeconds: number;
  evalSeconds: number;
  engine: string;
  /** The job's dataset, and mnist-deformed's parameters (JSON export only). */
  dataset: string;
  deformation?: DeformationParams;
}

/** The tidy table: one row per finished job of the plan × p_eval. */
export function exportRows(store: SweepStore): ExportRow[] {
  const rows = store
    .stmt(
      `SELECT j.key, j.job, j.steps, j.final_train_loss, j.training, j.train_seconds, j.eval_seconds, j.engine,
              e.eval_mode, e.p_eval, e.loss, e.loss_stderr, e.accuracy, e.accuracy_stderr, e.mask_losses, e.mask_accuracies
       FROM jobs j JOIN evals e ON e.job_key = j.key
       WHERE j.in_plan = 1 AND j.status = 'done'
       ORDER BY j.width, j.depth, j.p_train, j.n, j.seed, j.key, e.eval_mode, e.p_eval`,
    )
    .all() as Array<
    Omit<EvalDump, "job_key"> & { key: string; job: string; steps: number; final_train_loss: number; training: string | null; train_seconds: number; eval_seconds: number; engine: string }
  >;
  return rows.map((r) => {
    const job = JSON.parse(r.job) as TrainJob;
    const training: Pick<TrainingRecord, "bestStep" | "bestValLoss" | "stoppedBy"> = r.training ? (JSON.parse(r.training) as TrainingRecord) : { bestStep: r.steps, bestValLoss: null, stoppedBy: "budget" };
    return {
      jobKey: r.key,
      width: job.width,
      depth: job.depth,
      pTrain: job.pTrain,
      n: job.n,
      seed: job.seed,
      pEval: r.p_eval,
      loss: r.loss,
      lossStderr: r.loss_stderr,
      accuracy: r.accuracy,
      accuracyStderr: r.accuracy_stderr,
      maskLosses: JSON.parse(r.mask_losses) as number[],
      maskAccuracies: JSON.parse(r.mask_accuracies) as number[],
      policy: job.policy,
      epochs: job.epochs,
      stepsSetting: job.steps,
      patience: job.patience,
      valEvery: job.valEvery,
      maxSteps: job.maxSteps,
      validation: job.validation,
      dataDraw: job.dataDraw,
      batch: job.batch,
      lr: job.lr,
      optimizer: job.optimizer,
      evalMode: r.eval_mode as EvalMode,
      masks: job.masks,
      rescale: job.rescale,
      subsetSeed: job.subsetSeed,
      steps: r.steps,
      finalTrainLoss: r.final_train_loss,
      bestStep: training.bestStep,
      bestValLoss: training.bestValLoss,
      stoppedBy: training.stoppedBy,
      trainSeconds: r.train_seconds,
      evalSeconds: r.eval_seconds,
      engine: r.engine,
      dataset: job.dataset ?? "mnist",
      ...(job.deformation ? { deformation: job.deformation } : {}),
    };
  });
}

/** What analysis reads: one EvalRecord per finished job of the plan × p_eval. */
export function evalRecords(store: SweepStore): EvalRecord[] {
  return exportRows(store).map((r) => ({
    jobKey: r.jobKey,
    width: r.width,
    depth: r.depth,
    pTrain: r.pTrain,
    n: r.n,
    seed: r.seed,
    evalMode: r.evalMode,
    pEval: r.pEval,
    loss: r.loss,
    lossStderr: r.lossStderr,
    accuracy: r.accuracy,
    maskLosses: r.maskLosses,
  }));
}

/**
 * Tidy tables of a sweep's results: one row per (job × p_eval). CSV carries the scalar
 * columns; JSON is an array of objects that also carries the per-mask values.
 */
export const CSV_COLUMNS = [
  "jobKey",
  "width",
  "depth",
  "pTrain",
  "n",
  "seed",
  "pEval",
  "loss",
  "lossStderr",
  "accuracy",
  "accuracyStderr",
  "policy",
  "epochs",
  "stepsSetting",
  "patience",
  "valEvery",
  "maxSteps",
  "validation",
  "dataDraw",
  "steps",
  "bestStep",
  "bestValLoss",
  "stoppedBy",
  "batch",
  "lr",
  "optimizer",
  "evalMode",
  "masks",
  "rescale",
  "subsetSeed",
  "finalTrainLoss",
  "trainSeconds",
  "evalSeconds",
  "engine",
  "dataset",
] as const satisfies ReadonlyArray<keyof ExportRow>;

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header line; numbers in their shortest exact form. */
export function toCsv(rows: ExportRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvField(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** JSON array of row objects (one per line inside the array, for diff-friendly files). */
export function toJson(rows: ReadonlyArray<ExportRow | TrajectoryRecord>): string {
  return rows.length === 0 ? "[]\n" : `[\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}

/** Every checkpoint × p_eval of the trajectories of the plan's finished jobs (none without trajectories). */
export function trajectoryRecords(store: SweepStore): TrajectoryRecord[] {
  const rows = store
    .stmt("SELECT key, job, trajectory FROM jobs WHERE in_plan = 1 AND status = 'done' AND trajectory IS NOT NULL ORDER BY width, depth, p_train, n, seed, key")
    .all() as Array<{ key: string; job: string; trajectory: string }>;
  return rows.flatMap((r) => {
    const job = JSON.parse(r.job) as TrainJob;
    const t = JSON.parse(r.trajectory) as Trajectory;
    return t.points.flatMap((p) =>
      p.evals.map((e) => ({
        jobKey: r.key, width: job.width, depth: job.depth, pTrain: job.pTrain, n: job.n, seed: job.seed, evalMode: t.evalMode,
        step: p.step, epoch: p.step / t.stepsPerEpoch, samples: p.samples, best: p.best, stopStep: t.stopStep, endStep: t.endStep, valLoss: p.valLoss,
        pEval: e.pEval, loss: e.loss, lossStderr: e.lossStderr, accuracy: e.accuracy, maskLosses: e.maskLosses,
      })),
    );
  });
}

/** The columns of the trajectory CSV (JSON adds maskLosses). */
export const TRAJECTORY_CSV_COLUMNS = [
  "jobKey", "width", "depth", "pTrain", "n", "seed", "evalMode", "step", "epoch", "samples", "best", "stopStep", "endStep", "valLoss", "pEval", "loss", "lossStderr", "accuracy",
] as const satisfies ReadonlyArray<keyof TrajectoryRecord>;

/** CSV of trajectory records, with a header line. */
export function trajectoryCsv(rows: TrajectoryRecord[]): string {
  const lines = [TRAJECTORY_CSV_COLUMNS.join(",")];
  for (const r of rows) lines.push(TRAJECTORY_CSV_COLUMNS.map((c) => csvField(r[c])).join(","));
  return lines.join("\n") + "\n";
}
