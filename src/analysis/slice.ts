/**
 * Slices of the training-length axis: L(N) read from the jobs' trajectories (src/train/
 * trajectory.ts) at early stopping, at a fixed number of optimisation steps, of epochs or of
 * training samples seen, as ordinary EvalRecords, so that the whole analysis (curves, phases,
 * α, N*, N*(p), collapses) runs on them unchanged. docs/analysis.md, "Slices", says why the
 * values between checkpoints are interpolated linearly in ln(step) and what error that makes.
 */
import { MentiaError } from "../errors.js";
import type { EvalRecord, TrajectoryRecord } from "../sweep/records.js";

export type SliceKind = "early-stop" | "steps" | "epochs" | "samples";
export const SLICE_KINDS: readonly SliceKind[] = ["early-stop", "steps", "epochs", "samples"];

/** Where along the training L(N) is read (analysis.json `slice`; value null for early-stop). */
export interface Slice {
  kind: SliceKind;
  value: number | null;
}

/** Parses `early-stop`, `steps=T`, `epochs=E` or `samples=S` (T, S integers ≥ 1; E > 0). */
export function parseSlice(text: string): Slice {
  const bad = (): never => {
    throw new MentiaError(`--slice must be early-stop, steps=T, epochs=E or samples=S (T, S whole numbers ≥ 1, E > 0), got '${text}'`);
  };
  if (text === "early-stop") return { kind: "early-stop", value: null };
  const m = /^(steps|epochs|samples)=([0-9]*\.?[0-9]+(?:e[0-9]+)?)$/.exec(text.trim());
  if (!m) return bad();
  const value = Number(m[2]);
  if (!(value > 0) || !Number.isFinite(value) || (m[1] !== "epochs" && !Number.isInteger(value))) return bad();
  return { kind: m[1] as SliceKind, value };
}

/** A slice as a file-name part and as words: "steps-3000", "3000 steps". */
export function sliceName(s: Slice): string {
  return s.kind === "early-stop" ? "early-stop" : `${s.kind}-${s.value}`;
}
export function describeSlice(s: Slice): string {
  return s.kind === "early-stop" ? "at early stopping (the best-validation weights)" : `at ${s.value} ${s.kind === "steps" ? "optimisation steps" : s.kind === "epochs" ? "epochs" : "training samples seen"}`;
}

/** The x of a checkpoint on the slice's axis (ln of steps, epochs or samples). */
function axis(kind: SliceKind, r: TrajectoryRecord): number {
  return Math.log(kind === "epochs" ? r.epoch : kind === "samples" ? r.samples : r.step);
}

export interface SliceResult {
  records: EvalRecord[];
  /** Trainings whose recorded range does not reach the slice (not extrapolated), one line each. */
  outside: string[];
}

/**
 * The records at a slice: per job and p_eval, the best-validation checkpoint (early-stop), or
 * the value at the slice interpolated linearly in ln(axis) between the two checkpoints around
 * it (per mask draw: every checkpoint uses the same draws, so the draw-to-draw spread is kept).
 * A job whose checkpoints do not reach the slice is left out and named in `outside`.
 */
export function sliceRecords(traj: readonly TrajectoryRecord[], slice: Slice): SliceResult {
  const byJob = new Map<string, TrajectoryRecord[]>();
  for (const r of traj) {
    const k = `${r.jobKey}|${r.pEval}`;
    const list = byJob.get(k);
    if (list) list.push(r);
    else byJob.set(k, [r]);
  }
  const records: EvalRecord[] = [];
  const outside = new Set<string>();
  for (const points of byJob.values()) {
    const r0 = points[0];
    const base = { jobKey: r0.jobKey, width: r0.width, depth: r0.depth, pTrain: r0.pTrain, n: r0.n, seed: r0.seed, evalMode: r0.evalMode, pEval: r0.pEval };
    if (slice.kind === "early-stop") {
      const b = points.find((p) => p.best);
      if (!b) throw new MentiaError(`trajectory of job ${r0.jobKey} has no best-validation checkpoint`);
      records.push({ ...base, loss: b.loss, lossStderr: b.lossStderr, accuracy: b.accuracy, maskLosses: b.maskLosses });
      continue;
    }
    const x = Math.log(slice.value!);
    const sorted = [...points].sort((a, b) => axis(slice.kind, a) - axis(slice.kind, b));
    const i = sorted.findIndex((p) => axis(slice.kind, p) >= x - 1e-12);
    const name = `width ${r0.width} depth ${r0.depth} p_train ${r0.pTrain} N ${r0.n} seed ${r0.seed}`;
    if (i < 0 || (i === 0 && axis(slice.kind, sorted[0]) > x + 1e-12)) {
      const last = sorted[sorted.length - 1];
      outside.add(`${name}: recorded ${slice.kind} ${fmt(Math.exp(axis(slice.kind, sorted[0])))}…${fmt(Math.exp(axis(slice.kind, last)))}`);
      continue;
    }
    const hi = sorted[i];
    const lo = i > 0 ? sorted[i - 1] : hi;
    const xl = axis(slice.kind, lo), xh = axis(slice.kind, hi);
    const t = xh > xl ? (x - xl) / (xh - xl) : 1;
    const mix = (a: number, b: number): number => a + t * (b - a);
    records.push({
      ...base,
      loss: mix(lo.loss, hi.loss),
      lossStderr: mix(lo.lossStderr, hi.lossStderr),
      accuracy: mix(lo.accuracy, hi.accuracy),
      maskLosses: hi.maskLosses.map((v, k) => mix(lo.maskLosses[k] ?? v, v)),
    });
  }
  return { records, outside: [...outside] };
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/**
 * The error interpolation makes, measured on the trajectories themselves: every interior
 * checkpoint is predicted from its two neighbours (linear in ln steps) and compared with its
 * measured loss, relative to that loss. The gaps here are twice the real ones, so this
 * overstates the slices' own error: measured on real trajectories (docs/analysis.md, "Slices"),
 * the error at the recorded spacing was about half of this check (not the quarter that
 * smooth curvature would give: L bends sharply near its minimum in steps).
 */
export function interpolationCheck(traj: readonly TrajectoryRecord[]): { checks: number; medianRelError: number; p90RelError: number } | null {
  const byJob = new Map<string, TrajectoryRecord[]>();
  for (const r of traj) {
    const k = `${r.jobKey}|${r.pEval}`;
    byJob.set(k, [...(byJob.get(k) ?? []), r]);
  }
  const errs: number[] = [];
  for (const points of byJob.values()) {
    const s = [...points].sort((a, b) => a.step - b.step);
    for (let i = 1; i + 1 < s.length; i++) {
      const [a, m, b] = [s[i - 1], s[i], s[i + 1]];
      if (!(m.step > a.step && b.step > m.step)) continue;
      const t = Math.log(m.step / a.step) / Math.log(b.step / a.step);
      const pred = a.loss + t * (b.loss - a.loss);
      errs.push(Math.abs(pred - m.loss) / m.loss);
    }
  }
  if (errs.length === 0) return null;
  errs.sort((a, b) => a - b);
  const q = (p: number): number => errs[Math.min(errs.length - 1, Math.floor(p * errs.length))];
  return { checks: errs.length, medianRelError: q(0.5), p90RelError: q(0.9) };
}

/** L against training steps at one (width, depth, p_train, p_eval, N), mean over seeds: what the report draws. */
export interface TrajectoryCurve {
  width: number;
  depth: number;
  pTrain: number;
  pEval: number;
  n: number;
  seeds: number;
  stepsPerEpoch: number;
  /** Checkpoints in step order: mean L over the seeds that have this step, its standard error, how many. */
  points: Array<{ step: number; mean: number; stderr: number; seeds: number }>;
  /** Early stopping: the median best-validation step over seeds and the mean L there. */
  best: { step: number; mean: number };
}

/** The trajectories averaged over seeds, per (width, depth, p_train, p_eval, N). */
export function trajectoryCurves(traj: readonly TrajectoryRecord[]): TrajectoryCurve[] {
  const groups = new Map<string, TrajectoryRecord[]>();
  for (const r of traj) {
    const k = `${r.width}|${r.depth}|${r.pTrain}|${r.pEval}|${r.n}`;
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  const out: TrajectoryCurve[] = [];
  for (const rs of groups.values()) {
    const r0 = rs[0];
    const bySteps = new Map<number, number[]>();
    for (const r of rs) bySteps.set(r.step, [...(bySteps.get(r.step) ?? []), r.loss]);
    const points = [...bySteps.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([step, ls]) => {
        const m = ls.reduce((a, b) => a + b, 0) / ls.length;
        const sd = ls.length > 1 ? Math.sqrt(ls.reduce((a, b) => a + (b - m) ** 2, 0) / (ls.length - 1)) : 0;
        return { step, mean: m, stderr: sd / Math.sqrt(ls.length), seeds: ls.length };
      });
    const best = rs.filter((r) => r.best);
    const steps = best.map((r) => r.step).sort((a, b) => a - b);
    const median = steps.length % 2 ? steps[(steps.length - 1) / 2] : (steps[steps.length / 2 - 1] + steps[steps.length / 2]) / 2;
    out.push({
      width: r0.width, depth: r0.depth, pTrain: r0.pTrain, pEval: r0.pEval, n: r0.n, seeds: new Set(rs.map((r) => r.seed)).size, stepsPerEpoch: r0.step / r0.epoch,
      points, best: { step: median, mean: best.reduce((a, r) => a + r.loss, 0) / Math.max(1, best.length) },
    });
  }
  return out.sort((a, b) => a.width - b.width || a.depth - b.depth || a.pTrain - b.pTrain || a.pEval - b.pEval || a.n - b.n);
}
