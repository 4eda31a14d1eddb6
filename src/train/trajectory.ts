import type { Dataset, EvalMode, Network } from "../engine/types.js";
import { evalModesOf, type Trajectory, type TrajectoryPoint, type TrajectorySpec, type TrainJob } from "./job.js";

/**
 * Trajectories: the test loss under removal along a training, so that L(N) can be read at
 * early stopping, at a fixed number of steps or epochs from one sweep (docs/analysis.md,
 * "Slices"). Evaluation masks come from counter-based streams keyed by (seed, draw, layer),
 * so every checkpoint sees the same removal draws and recording one changes nothing else.
 */

/**
 * The scheduled checkpoint steps: `points` steps log-spaced from `first` (the first validation
 * point) to the horizon, each rounded to a multiple of `first` (so that early stopping's
 * validations fall on them; duplicates at the low end merge).
 */
export function trajectorySchedule(spec: TrajectorySpec, first: number, budget: number): number[] {
  const horizon = trajectoryHorizon(spec, budget);
  const lo = Math.min(first, horizon);
  const out = new Set<number>();
  for (let i = 0; i < spec.points; i++) {
    const t = spec.points === 1 ? 1 : i / (spec.points - 1);
    const s = Math.exp(Math.log(lo) + t * (Math.log(horizon) - Math.log(lo)));
    out.add(Math.max(1, Math.round(s / lo)) * lo);
  }
  return [...out].sort((a, b) => a - b);
}

/** Where the log grid ends: `horizon`, else the step budget (or extendSteps when later). */
export function trajectoryHorizon(spec: TrajectorySpec, budget: number): number {
  return spec.horizon ?? Math.max(budget, spec.extendSteps ?? 0);
}

/** The step the trajectory's training runs to once the policy stopped at `stopStep`. */
export function extendedEnd(spec: TrajectorySpec, stopStep: number): number {
  return Math.max(stopStep, Math.ceil((spec.extendFactor ?? 1) * stopStep), spec.extendSteps ?? 0);
}

/** Problems of a trajectory spec, as messages (validateJob throws the first). */
export function trajectoryProblems(job: TrainJob): string[] {
  const t = job.trajectory;
  if (!t) return [];
  const out: string[] = [];
  const isInt = (v: unknown, min: number): boolean => typeof v === "number" && Number.isInteger(v) && v >= min;
  if (!isInt(t.points, 1)) out.push(`trajectory.points must be an integer ≥ 1, got ${t.points}`);
  if (!isInt(t.masks, 1)) out.push(`trajectory.masks must be an integer ≥ 1, got ${t.masks}`);
  if (!Array.isArray(t.pEval) || t.pEval.length === 0 || t.pEval.some((p) => !(p >= 0 && p < 1))) out.push(`trajectory.pEval must be a non-empty list of numbers in [0, 1), got ${JSON.stringify(t.pEval)}`);
  if (t.horizon !== undefined && !isInt(t.horizon, 1)) out.push(`trajectory.horizon must be an integer ≥ 1, got ${t.horizon}`);
  if (t.extendSteps !== undefined && !isInt(t.extendSteps, 1)) out.push(`trajectory.extendSteps must be an integer ≥ 1, got ${t.extendSteps}`);
  if (t.extendFactor !== undefined && !(t.extendFactor >= 1 && Number.isFinite(t.extendFactor))) out.push(`trajectory.extendFactor must be a number ≥ 1, got ${t.extendFactor}`);
  return out;
}

/** The eval mode a trajectory records in. */
export function trajectoryMode(job: TrainJob): EvalMode {
  return job.trajectory?.evalMode ?? evalModesOf(job)[0];
}

/** Collects a job's checkpoints as the training passes them. */
export class TrajectoryRecorder {
  private readonly schedule: number[];
  private readonly points: TrajectoryPoint[] = [];
  private readonly mode: EvalMode;
  private seconds = 0;

  constructor(
    private readonly job: TrainJob & { trajectory: TrajectorySpec },
    private readonly net: Network,
    private readonly test: Dataset,
    first: number,
    budget: number,
  ) {
    this.schedule = trajectorySchedule(job.trajectory, first, budget);
    this.mode = trajectoryMode(job);
  }

  /** The next scheduled step after `step` (Infinity when none is left). */
  next(step: number): number {
    for (const s of this.schedule) if (s > step) return s;
    return Infinity;
  }

  scheduled(step: number): boolean {
    return this.schedule.includes(step);
  }

  /** Records the current weights at `step` (once per step). */
  at(step: number, samples: number, valLoss: number | null): void {
    if (this.points.some((p) => p.step === step)) return;
    this.points.push(this.evaluate(step, samples, valLoss, false));
  }

  /**
   * The trajectory, with the best-validation point: the restored weights are evaluated unless a
   * checkpoint at that step already holds them (then it is marked best).
   */
  finish(r: { stopStep: number; endStep: number; bestStep: number; bestSamples: number; bestValLoss: number | null; divergedAt: number | null }): Trajectory {
    const same = this.points.find((p) => p.step === r.bestStep);
    if (same) same.best = true;
    else this.points.push(this.evaluate(r.bestStep, r.bestSamples, r.bestValLoss, true));
    this.points.sort((a, b) => a.step - b.step);
    return { evalMode: this.mode, masks: this.job.trajectory.masks, stepsPerEpoch: Math.ceil(this.job.n / this.job.batch), stopStep: r.stopStep, endStep: r.endStep, bestStep: r.bestStep, evalSeconds: this.seconds, ...(r.divergedAt !== null ? { divergedAt: r.divergedAt } : {}), points: this.points };
  }

  private evaluate(step: number, samples: number, valLoss: number | null, best: boolean): TrajectoryPoint {
    const { pEval, masks } = this.job.trajectory;
    const job = this.job;
    const t0 = performance.now();
    const results = this.net.evaluateAll(this.test, pEval, { mode: this.mode, masks, rescale: job.rescale, magnitudeRescale: job.magnitudeRescale, magnitudeGlobal: job.magnitudeGlobal, batch: 1000 });
    this.seconds += (performance.now() - t0) / 1000;
    return {
      step,
      samples,
      best,
      valLoss,
      evals: results.map((e, i) => ({ pEval: pEval[i], loss: e.loss, lossStderr: e.lossStderr, accuracy: e.accuracy, maskLosses: e.maskLosses })),
    };
  }
}
