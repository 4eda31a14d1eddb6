import { MentiaError } from "../errors.js";
import type { SweepConfig } from "../sweep/config.js";
import { describeJob } from "../sweep/plan.js";
import { sweepStatus } from "../sweep/status.js";
import { SweepStore } from "../sweep/store.js";
import type { TrainingRecord, TrainJob } from "../train/job.js";

/**
 * What the report's header says about the run that produced the results: read from the
 * sweep's store (through the sweep stage's own functions), or given by the caller.
 */
export interface ReportMeta {
  /** The sweep directory (as given). */
  sweepDir: string;
  config?: SweepConfig;
  /** The dataset the sweep trained on (store meta; absent when unknown). */
  dataset?: string;
  /** Dataset file name → checksum, as recorded by the sweep. */
  checksums?: Record<string, string>;
  /** Engines that computed the finished jobs. */
  engines: string[];
  /** Distinct software version sets of the finished jobs, e.g. "mentia 0.1.0, node v20.1.0". */
  versions: string[];
  jobs: { planned: number | null; done: number; failed: number; running: number; pending: number; outOfPlan: number };
  failures: Array<{ key: string; job: string; error: string }>;
  /** Sum of the finished jobs' wall times (work, over all workers). */
  workSeconds: number;
  /** First job start → last job finish (elapsed), null when unknown. */
  elapsedSeconds: number | null;
  firstStart: string | null;
  lastFinish: string | null;
  /** Things the reader should know about the run (unmerged shards, unreadable store...). */
  notes: string[];
  /** How long the finished jobs trained, per (width, depth, p_train, N): means over seeds. */
  training: TrainingSummary[];
}

export interface TrainingSummary {
  width: number;
  depth: number;
  pTrain: number;
  n: number;
  jobs: number;
  /** Steps trained, and the step whose weights were evaluated (also in epochs). */
  meanSteps: number;
  meanBestStep: number;
  meanBestEpoch: number;
  /** Mean best validation loss (null without a validation split). */
  meanBestValLoss: number | null;
  /** Jobs per stop reason ("patience", "max-steps", "budget"). */
  stoppedBy: Record<string, number>;
}

/** Groups finished jobs' training records (src/train/job.ts) by (width, depth, p_train, N). */
export function summariseTraining(jobs: Array<{ job: TrainJob; training: TrainingRecord }>): TrainingSummary[] {
  const groups = new Map<string, Array<{ job: TrainJob; training: TrainingRecord }>>();
  for (const j of jobs) {
    const k = `${j.job.width}|${j.job.depth}|${j.job.pTrain}|${j.job.n}`;
    groups.set(k, [...(groups.get(k) ?? []), j]);
  }
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return [...groups.values()]
    .map((g) => {
      const { width, depth, pTrain, n, batch } = g[0].job;
      const vals = g.map((j) => j.training.bestValLoss).filter((v): v is number => v !== null);
      const stoppedBy: Record<string, number> = {};
      for (const j of g) stoppedBy[j.training.stoppedBy] = (stoppedBy[j.training.stoppedBy] ?? 0) + 1;
      const bestStep = mean(g.map((j) => j.training.bestStep));
      return { width, depth, pTrain, n, jobs: g.length, meanSteps: mean(g.map((j) => j.training.steps)), meanBestStep: bestStep, meanBestEpoch: bestStep / Math.ceil(n / batch), meanBestValLoss: vals.length === g.length ? mean(vals) : null, stoppedBy };
    })
    .sort((a, b) => a.width - b.width || a.depth - b.depth || a.pTrain - b.pTrain || a.n - b.n);
}

/** A header for results whose run is unknown (e.g. analysis.json without its store). */
export function emptyMeta(sweepDir: string, note: string): ReportMeta {
  return {
    sweepDir,
    engines: [],
    versions: [],
    jobs: { planned: null, done: 0, failed: 0, running: 0, pending: 0, outOfPlan: 0 },
    failures: [],
    workSeconds: 0,
    elapsedSeconds: null,
    firstStart: null,
    lastFinish: null,
    notes: [note],
    training: [],
  };
}

function versionsLine(v: Record<string, string | undefined>): string {
  const order = ["mentia", "node", "sqlite"];
  const keys = [...order.filter((k) => v[k] !== undefined), ...Object.keys(v).filter((k) => !order.includes(k) && v[k] !== undefined).sort()];
  return keys.map((k) => `${k} ${v[k]}`).join(", ");
}

/** The run metadata of the sweep in `dir` (MentiaError when it is not a readable sweep). */
export function readReportMeta(dir: string): ReportMeta {
  const st = sweepStatus(dir);
  const notes: string[] = [];
  const db = st.results;
  const dbs = db ? [db] : st.shards;
  if (!db) notes.push(`${dir} has shard files but no merged results.sqlite: the counts below add up the shards`);
  if (st.unmerged > 0) notes.push(`${st.unmerged} finished jobs in shard files are not merged into results.sqlite (run 'mentia merge ${dir}')`);
  if (st.missingShards.length > 0) notes.push(`missing shard files: ${st.missingShards.map((i) => `shard-${i}.sqlite`).join(", ")}`);
  if (db?.activeRun) notes.push(`a run was active while this report was written (pid ${db.activeRun.pid} on ${db.activeRun.host}): results may be incomplete`);

  const sum = (f: (c: (typeof dbs)[number]["counts"]) => number): number => dbs.reduce((a, s) => a + f(s.counts), 0);
  const jobs = {
    planned: st.planned ?? null,
    done: sum((c) => c.done),
    failed: sum((c) => c.failed),
    running: sum((c) => c.running),
    pending: sum((c) => c.pending),
    outOfPlan: sum((c) => c.outOfPlan),
  };
  const failures = dbs.flatMap((s) => s.failures).map((f) => ({ key: f.key, job: describeJob(f.job), error: f.error }));
  const engines = [...new Set(dbs.flatMap((s) => s.engines))].sort();
  const workSeconds = dbs.reduce((a, s) => a + s.workSeconds, 0);

  let checksums: Record<string, string> | undefined;
  let dataset: string | undefined;
  const versions = new Set<string>();
  let firstStart: string | null = null;
  let lastFinish: string | null = null;
  const trained: Array<{ job: TrainJob; training: TrainingRecord }> = [];
  for (const s of dbs) {
    const store = SweepStore.openShared(s.path);
    try {
      checksums ??= store.storedChecksums();
      dataset ??= store.storedDataset();
      for (const j of store.dumpJobs()) {
        if (j.status !== "done") continue;
        if (j.training) trained.push({ job: JSON.parse(j.job) as TrainJob, training: JSON.parse(j.training) as TrainingRecord });
        if (j.versions) {
          try {
            versions.add(versionsLine(JSON.parse(j.versions) as Record<string, string>));
          } catch {
            versions.add(j.versions);
          }
        }
        if (j.started_at && (firstStart === null || j.started_at < firstStart)) firstStart = j.started_at;
        if (j.finished_at && (lastFinish === null || j.finished_at > lastFinish)) lastFinish = j.finished_at;
      }
    } finally {
      store.close();
    }
  }
  const elapsedSeconds = firstStart && lastFinish ? Math.max(0, (Date.parse(lastFinish) - Date.parse(firstStart)) / 1000) : null;
  return {
    sweepDir: dir,
    config: st.config,
    dataset,
    checksums,
    engines,
    versions: [...versions].sort(),
    jobs,
    failures,
    workSeconds,
    elapsedSeconds: elapsedSeconds !== null && Number.isFinite(elapsedSeconds) ? elapsedSeconds : null,
    firstStart,
    lastFinish,
    notes,
    training: summariseTraining(trained),
  };
}

/**
 * readReportMeta, or — when DIR holds no readable sweep store — a header that says so (the
 * report can still be drawn from analysis.json alone).
 */
export function readReportMetaOrNote(dir: string): ReportMeta {
  try {
    return readReportMeta(dir);
  } catch (err) {
    if (err instanceof MentiaError) return emptyMeta(dir, `run metadata unavailable: ${err.message}`);
    throw err;
  }
}
