import type { JobOutcome, PoolEvents } from "./pool.js";
import { describeJob, jobCostParts, type JobKey, type PlannedJob } from "./plan.js";

/**
 * Progress of a sweep: on a terminal, one bar redrawn in place (done/total, failures,
 * running jobs, jobs/s, ETA); otherwise (log files, SLURM) one plain line per finished job.
 * The ETA divides the cost (multiply-adds) still to run by the cost finished per second in
 * this session, so it is not fooled by the largest jobs running first.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress extends PoolEvents {
  /** Draws the final state and leaves the cursor on a fresh line. */
  finish(): void;
  /** Prints a line without breaking the bar. */
  log(line: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(s % 60).padStart(2, "0")}s`;
}

export function createProgress(opts: {
  stream: ProgressStream;
  /** Jobs of the plan (or shard), and how many were already done before this run. */
  total: number;
  alreadyDone: number;
  /** The jobs this run will try, with their costs. */
  jobs: PlannedJob[];
  tty?: boolean;
  label?: string;
  now?: () => number;
}): Progress {
  const { stream, total } = opts;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  const clock = opts.now ?? ((): number => performance.now() / 1000);
  const label = opts.label ?? "sweep";
  const t0 = clock();
  const costLeft = new Map<JobKey, number>(opts.jobs.map((j) => [j.key, j.cost]));
  let remainingCost = opts.jobs.reduce((s, j) => s + j.cost, 0);
  let finishedCost = 0;
  let done = opts.alreadyDone;
  let failed = 0;
  let finishedHere = 0;
  const running = new Map<JobKey, { epoch: number; epochs: number }>();
  let lastDraw = 0;
  let barShown = false;

  const trainCost = new Map<JobKey, number>(opts.jobs.map((j) => [j.key, jobCostParts(j.job).train]));
  let lastLine = clock();

  const rates = (): { jobsPerSec: number; eta: number } => {
    const elapsed = Math.max(clock() - t0, 1e-9);
    const jobsPerSec = finishedHere / elapsed;
    // Work done = finished jobs + the trained epochs of running ones.
    let partial = 0;
    for (const [key, r] of running) if (r.epochs > 0) partial += (trainCost.get(key) ?? 0) * (r.epoch / r.epochs);
    const worked = finishedCost + partial;
    const eta = worked > 0 ? (remainingCost - partial) / (worked / elapsed) : NaN;
    return { jobsPerSec, eta };
  };

  const summary = (): string => {
    const { jobsPerSec, eta } = rates();
    const parts = [`${done}/${total} done`];
    if (failed > 0) parts.push(`${failed} failed`);
    if (running.size > 0) parts.push(`${running.size} running`);
    parts.push(`${jobsPerSec.toFixed(jobsPerSec < 10 ? 2 : 1)} jobs/s`);
    if (remainingCost <= 0) parts.push(`${formatDuration(clock() - t0)} elapsed`);
    else if (Number.isFinite(eta)) parts.push(`ETA ${formatDuration(eta)}`);
    return parts.join(" · ");
  };

  const draw = (force = false): void => {
    if (!tty) return;
    const t = clock();
    if (!force && t - lastDraw < 0.1) return;
    lastDraw = t;
    const width = 24;
    const frac = total > 0 ? (done + failed) / total : 1;
    const filled = Math.round(frac * width);
    let line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${summary()}`;
    const cols = stream.columns || 100;
    if (line.length > cols - 1) line = line.slice(0, cols - 1);
    stream.write(`\r\x1b[2K${line}`);
    barShown = true;
  };

  const log = (text: string): void => {
    if (tty && barShown) stream.write("\r\x1b[2K");
    stream.write(`${text}\n`);
    barShown = false;
    draw(true);
  };

  const settle = (job: PlannedJob): void => {
    running.delete(job.key);
    const c = costLeft.get(job.key) ?? 0;
    costLeft.delete(job.key);
    remainingCost -= c;
    finishedCost += c;
    finishedHere++;
  };

  draw(true);
  // Keep the bar's clock moving on a terminal; in a log, a line every 5 minutes of silence.
  const timer = setInterval(() => {
    if (tty) draw(true);
    else if (clock() - lastLine >= 300) {
      stream.write(`${label}: ${summary()}\n`);
      lastLine = clock();
    }
  }, 1000);
  timer.unref();
  return {
    jobStarted(job) {
      running.set(job.key, { epoch: 0, epochs: 0 });
      draw();
    },
    jobEpoch(key, epoch, epochs) {
      running.set(key, { epoch, epochs });
      draw();
    },
    jobFinished(job: PlannedJob, outcome: JobOutcome) {
      settle(job);
      if (outcome.status === "done") done++;
      else failed++;
      if (outcome.status === "failed") log(`${label}: job ${job.key} (${describeJob(job.job)}) failed: ${outcome.error ?? "unknown reason"}`);
      else if (!tty) {
        stream.write(`${label}: ${summary()} · job ${job.key} (${describeJob(job.job)}) in ${formatDuration(outcome.seconds)}\n`);
        lastLine = clock();
      }
      else draw();
    },
    log,
    finish() {
      clearInterval(timer);
      if (tty) {
        draw(true);
        stream.write("\n");
        barShown = false;
      }
    },
  };
}
