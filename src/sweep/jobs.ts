import type { JobResult, TrainJob } from "../train/job.js";
import { canonicalJson, configJson, type SweepConfig } from "./config.js";
import { jobKey, jobSteps, type JobKey, type PlannedJob } from "./plan.js";
import type { EvalDump, JobDump, JobStatus } from "./schema.js";
import { formatShard, type Shard } from "./shard.js";
import type { SweepStore } from "./store.js";

/**
 * The life of a job in the sweep database: planned (pending) → running → done | failed.
 * A job's results (its evals rows and its status 'done') are written in one transaction,
 * so a killed sweep never holds half a job. `in_plan` is 0 for jobs kept from an earlier
 * config (see --force-new-config); they stay in the file but are not read as results.
 */
export interface StatusCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  total: number;
  /** Jobs kept from an earlier config, not part of the current plan. */
  outOfPlan: number;
}

export interface FailedJob {
  key: JobKey;
  job: TrainJob;
  error: string;
}

/** Software that produced a result, stored with every job. */
export interface Versions {
  mentia: string;
  node: string;
  sqlite?: string;
  [other: string]: string | undefined;
}

interface JobRow {
  key: string;
  job: string;
  cost: number;
  status: JobStatus;
  error: string | null;
}

function now(): string {
  return new Date().toISOString();
}

/**
 * Records the config (and shard, data checksums, version) and adds the planned jobs as
 * pending; jobs already in the file keep their status. In one transaction. With
 * `forceNewConfig` a different stored config is replaced (kept in config_history) and
 * jobs outside the new plan are marked out of plan.
 */
export function initialise(
  store: SweepStore,
  config: SweepConfig,
  plan: PlannedJob[],
  opts: { shard?: Shard; checksums?: Record<string, string>; forceNewConfig?: boolean; mentiaVersion: string },
): void {
  const insert = store.stmt(
    `INSERT INTO jobs (key, job, width, depth, p_train, n, seed, cost, in_plan, status)
     VALUES (@key, @job, @width, @depth, @pTrain, @n, @seed, @cost, 1, 'pending')
     ON CONFLICT (key) DO UPDATE SET in_plan = 1`,
  );
  store.db
    .transaction(() => {
      store.checkCompatible(config, opts);
      const stored = store.storedConfig();
      const text = configJson(config);
      if (stored !== undefined && configJson(stored) !== text) {
        const history = JSON.parse(store.getMeta("config_history") ?? "[]") as Array<{ config: SweepConfig; replacedAt: string }>;
        history.push({ config: stored, replacedAt: now() });
        store.setMeta("config_history", JSON.stringify(history));
      }
      if (stored === undefined) store.setMeta("created_at", now());
      store.setMeta("config", text);
      store.setMeta("shard", opts.shard ? formatShard(opts.shard) : "");
      store.setMeta("mentia_version", opts.mentiaVersion);
      store.setMeta("dataset", config.dataset ?? "mnist");
      if (opts.checksums) store.setMeta("dataset_checksums", canonicalJson(opts.checksums));
      store.stmt("UPDATE jobs SET in_plan = 0").run();
      for (const p of plan) insert.run({ key: p.key, job: canonicalJson(p.job), width: p.job.width, depth: p.job.depth, pTrain: p.job.pTrain, n: p.job.n, seed: p.job.seed, cost: p.cost });
    })
    .immediate();
}

/** Jobs left 'running' by an interrupted run go back to pending. Returns how many. */
export function resetRunning(store: SweepStore): number {
  return store.stmt("UPDATE jobs SET status = 'pending', worker = NULL WHERE status = 'running'").run().changes;
}

/** Jobs of the plan still to run, largest first. */
export function todo(store: SweepStore, retryFailed = false): PlannedJob[] {
  const rows = store.stmt(`SELECT key, job, cost, status, error FROM jobs WHERE in_plan = 1 AND status IN ('pending'${retryFailed ? ", 'failed'" : ""}) ORDER BY cost DESC, key`).all() as JobRow[];
  return rows.map((r) => {
    const job = JSON.parse(r.job) as TrainJob;
    return { key: r.key, job, cost: r.cost, steps: jobSteps(job) };
  });
}

export function markRunning(store: SweepStore, key: JobKey, worker: string): void {
  store.stmt("UPDATE jobs SET status = 'running', worker = ?, started_at = ?, attempts = attempts + 1 WHERE key = ?").run(worker, now(), key);
}

/** A finished job: its evals and status 'done', in one transaction. */
export function recordResult(store: SweepStore, key: JobKey, result: JobResult, info: { versions: Versions; wallSeconds: number }): void {
  if (jobKey(result.job) !== key) throw new Error(`recordResult: result is for job ${jobKey(result.job)}, not ${key}`);
  const del = store.stmt("DELETE FROM evals WHERE job_key = ?");
  const ins = store.stmt(
    `INSERT INTO evals (job_key, eval_mode, p_eval, loss, loss_stderr, accuracy, accuracy_stderr, mask_losses, mask_accuracies)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const upd = store.stmt(
    `UPDATE jobs SET status = 'done', finished_at = ?, wall_seconds = ?, train_seconds = ?, eval_seconds = ?, steps = ?,
       final_train_loss = ?, training = ?, error = NULL, engine = ?, versions = ?, trajectory = ? WHERE key = ?`,
  );
  store.db
    .transaction(() => {
      del.run(key);
      for (const e of result.evals) ins.run(key, e.evalMode, e.pEval, e.loss, e.lossStderr, e.accuracy, e.accuracyStderr, JSON.stringify(e.maskLosses), JSON.stringify(e.maskAccuracies));
      const changed = upd.run(now(), info.wallSeconds, result.trainSeconds, result.evalSeconds, result.steps, result.finalTrainLoss, JSON.stringify(result.training), result.engine, JSON.stringify(info.versions), result.trajectory ? JSON.stringify(result.trajectory) : null, key).changes;
      if (changed !== 1) throw new Error(`recordResult: job ${key} is not in ${store.path}`);
    })
    .immediate();
}

/**
 * A job that failed (diverged, or threw): status 'failed' with the reason; no evals. A job
 * already done is never touched (its result is committed; a late failure report of another
 * attempt must not erase it). Returns whether the job was marked failed.
 */
export function recordFailure(store: SweepStore, key: JobKey, reason: string, info: { versions: Versions; wallSeconds: number; engine?: string }): boolean {
  const del = store.stmt("DELETE FROM evals WHERE job_key = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE key = ? AND status = 'done')");
  const upd = store.stmt("UPDATE jobs SET status = 'failed', finished_at = ?, wall_seconds = ?, error = ?, engine = ?, versions = ? WHERE key = ? AND status <> 'done'");
  return store.db
    .transaction(() => {
      del.run(key, key);
      return upd.run(now(), info.wallSeconds, reason, info.engine ?? null, JSON.stringify(info.versions), key).changes === 1;
    })
    .immediate();
}

export function counts(store: SweepStore): StatusCounts {
  const rows = store.stmt("SELECT in_plan, status, count(*) AS c FROM jobs GROUP BY in_plan, status").all() as Array<{ in_plan: number; status: JobStatus; c: number }>;
  const out: StatusCounts = { pending: 0, running: 0, done: 0, failed: 0, total: 0, outOfPlan: 0 };
  for (const r of rows) {
    if (r.in_plan) {
      out[r.status] += r.c;
      out.total += r.c;
    } else out.outOfPlan += r.c;
  }
  return out;
}

/** Keys of the plan's jobs that are done. */
export function doneKeys(store: SweepStore): Set<JobKey> {
  const rows = store.stmt("SELECT key FROM jobs WHERE in_plan = 1 AND status = 'done'").all() as Array<{ key: string }>;
  return new Set(rows.map((r) => r.key));
}

export function failures(store: SweepStore): FailedJob[] {
  const rows = store.stmt("SELECT key, job, error FROM jobs WHERE in_plan = 1 AND status = 'failed' ORDER BY width, depth, p_train, n, seed").all() as JobRow[];
  return rows.map((r) => ({ key: r.key, job: JSON.parse(r.job) as TrainJob, error: r.error ?? "(no reason recorded)" }));
}

/** Seconds of work of the plan's finished jobs (sum of wall times) and their engines. */
export function workSummary(store: SweepStore): { seconds: number; jobs: number; engines: string[] } {
  const row = store.stmt("SELECT coalesce(sum(wall_seconds), 0) AS s, count(*) AS c FROM jobs WHERE in_plan = 1 AND status = 'done'").get() as { s: number; c: number };
  const engines = (store.stmt("SELECT DISTINCT engine FROM jobs WHERE in_plan = 1 AND status = 'done' AND engine IS NOT NULL ORDER BY engine").all() as Array<{ engine: string }>).map((r) => r.engine);
  return { seconds: row.s, jobs: row.c, engines };
}

/** Raw rows, for merging. */
export function dumpJobs(store: SweepStore, onlyInPlan = true): JobDump[] {
  return store.stmt(`SELECT * FROM jobs${onlyInPlan ? " WHERE in_plan = 1" : ""} ORDER BY key`).all() as JobDump[];
}

export function dumpEvals(store: SweepStore, key: JobKey): EvalDump[] {
  return store.stmt("SELECT * FROM evals WHERE job_key = ? ORDER BY eval_mode, p_eval").all(key) as EvalDump[];
}
