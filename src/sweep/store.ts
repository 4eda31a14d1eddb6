import { existsSync, readdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MentiaError } from "../errors.js";
import type { JobResult, TrainingRecord, TrainJob } from "../train/job.js";
import { canonicalJson, configDifferences, configJson, type SweepConfig } from "./config.js";
import { jobKey, jobSteps, type JobKey, type PlannedJob } from "./plan.js";
import type { EvalRecord } from "./records.js";
import { formatShard, RESULTS_FILE, SHARD_FILE_PATTERN, type Shard } from "./shard.js";

/**
 * The results of a sweep: one SQLite file (WAL mode) per sweep directory, DIR/results.sqlite,
 * or DIR/shard-i.sqlite for shard i of a cluster run.
 *
 *   meta  (key, value)            config, dataset checksums, mentia version, shard, run lock
 *   jobs  (key, job JSON, grid columns, status pending|running|done|failed, timings,
 *          error, engine, versions, in_plan)
 *   evals (job_key, p_eval, loss, loss_stderr, accuracy, accuracy_stderr,
 *          mask_losses JSON, mask_accuracies JSON)
 *
 * A job's results (its evals rows and its status 'done') are written in one transaction,
 * so a killed sweep never holds half a job. Several connections (worker threads, other
 * processes on the same machine) may write at once: WAL plus a long busy timeout serialise
 * them. `in_plan` is 0 for jobs kept from an earlier config (see --force-new-config); they
 * stay in the file but are not read as results.
 */
export type JobStatus = "pending" | "running" | "done" | "failed";

/** 2: the training protocol of docs/protocol.md (policies, validation split, per-seed draws,
 *  non-overlapping random streams) and the jobs.training column. Schema-1 sweeps hold numbers
 *  made another way and are refused rather than mixed. */
export const SCHEMA_VERSION = 2;
const BUSY_TIMEOUT_MS = 120_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  key              TEXT PRIMARY KEY,
  job              TEXT NOT NULL,
  width            INTEGER NOT NULL,
  depth            INTEGER NOT NULL,
  p_train          REAL NOT NULL,
  n                INTEGER NOT NULL,
  seed             INTEGER NOT NULL,
  cost             REAL NOT NULL,
  in_plan          INTEGER NOT NULL DEFAULT 1,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  worker           TEXT,
  started_at       TEXT,
  finished_at      TEXT,
  wall_seconds     REAL,
  train_seconds    REAL,
  eval_seconds     REAL,
  steps            INTEGER,
  final_train_loss REAL,
  training         TEXT,
  error            TEXT,
  engine           TEXT,
  versions         TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (in_plan, status);
CREATE TABLE IF NOT EXISTS evals (
  job_key         TEXT NOT NULL REFERENCES jobs (key),
  p_eval          REAL NOT NULL,
  loss            REAL NOT NULL,
  loss_stderr     REAL NOT NULL,
  accuracy        REAL NOT NULL,
  accuracy_stderr REAL NOT NULL,
  mask_losses     TEXT NOT NULL,
  mask_accuracies TEXT NOT NULL,
  PRIMARY KEY (job_key, p_eval)
);
`;

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

export interface RunLock {
  host: string;
  pid: number;
  since: string;
}

/** Software that produced a result, stored with every job. */
export interface Versions {
  mentia: string;
  node: string;
  sqlite?: string;
  [other: string]: string | undefined;
}

/** One row of a tidy export: a job evaluated at one p_eval, with the job's settings. */
export interface ExportRow extends EvalRecord {
  accuracyStderr: number;
  maskAccuracies: number[];
  policy: string;
  epochs: number;
  stepsSetting: number;
  patience: number;
  valEvery: number | "auto";
  maxSteps: number;
  validation: number;
  dataDraw: string;
  batch: number;
  lr: number;
  optimizer: string;
  evalMode: string;
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
}

interface JobRow {
  key: string;
  job: string;
  cost: number;
  status: JobStatus;
  error: string | null;
}

export interface JobDump {
  key: string;
  job: string;
  width: number;
  depth: number;
  p_train: number;
  n: number;
  seed: number;
  cost: number;
  in_plan: number;
  status: JobStatus;
  attempts: number;
  worker: string | null;
  started_at: string | null;
  finished_at: string | null;
  wall_seconds: number | null;
  train_seconds: number | null;
  eval_seconds: number | null;
  steps: number | null;
  final_train_loss: number | null;
  training: string | null;
  error: string | null;
  engine: string | null;
  versions: string | null;
}

export interface EvalDump {
  job_key: string;
  p_eval: number;
  loss: number;
  loss_stderr: number;
  accuracy: number;
  accuracy_stderr: number;
  mask_losses: string;
  mask_accuracies: string;
}

function now(): string {
  return new Date().toISOString();
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class SweepStore {
  private constructor(
    readonly path: string,
    readonly db: Database.Database,
  ) {}

  /**
   * Opens (and with `create`, creates) a sweep database. Read-only opening never creates
   * or changes anything. A file that is not a mentia store is a MentiaError.
   */
  static open(path: string, opts: { create?: boolean; readonly?: boolean } = {}): SweepStore {
    const exists = existsSync(path);
    if (!exists && (opts.readonly || !opts.create)) throw new MentiaError(`${path}: no such sweep database`);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: !opts.create, timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new MentiaError(`${path}: cannot open the sweep database (${(err as Error).message})`);
    }
    const store = new SweepStore(path, db);
    try {
      if (!opts.readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
        db.exec(SCHEMA);
        db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
      }
      const version = store.getMeta("schema_version");
      if (version === undefined) throw new MentiaError(`${path}: not a mentia sweep database (no schema version)`);
      if (Number(version) === 1)
        throw new MentiaError(
          `${path} was made before mentia's training-protocol change (early stopping, per-seed data draws, new random streams) and its numbers cannot be mixed with new ones: use a new --out directory (or delete this one to start over)`,
        );
      if (Number(version) !== SCHEMA_VERSION) throw new MentiaError(`${path}: sweep database schema ${version}, this mentia reads schema ${SCHEMA_VERSION}`);
    } catch (err) {
      db.close();
      if (err instanceof MentiaError) throw err;
      const code = (err as { code?: string }).code;
      if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code === "SQLITE_ERROR") throw new MentiaError(`${path}: not a mentia sweep database (${(err as Error).message})`);
      throw err;
    }
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  storedConfig(): SweepConfig | undefined {
    const text = this.getMeta("config");
    return text === undefined ? undefined : (JSON.parse(text) as SweepConfig);
  }

  storedShard(): string | undefined {
    const s = this.getMeta("shard");
    return s ? s : undefined;
  }

  storedChecksums(): Record<string, string> | undefined {
    const text = this.getMeta("dataset_checksums");
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, string>);
  }

  /**
   * Refuses (MentiaError) when this file holds another config, another shard split, or
   * results computed on other data, unless `forceNewConfig`. Reads only.
   */
  checkCompatible(config: SweepConfig, opts: { shard?: Shard; checksums?: Record<string, string>; forceNewConfig?: boolean }): void {
    if (opts.forceNewConfig) return;
    const stored = this.storedConfig();
    if (stored !== undefined && configJson(stored) !== configJson(config)) {
      const diffs = configDifferences(stored, config);
      throw new MentiaError(
        `${this.path} holds a sweep with a different config (${diffs.join("; ")}); use another --out directory, or --force-new-config to run the new config there (finished jobs that are unchanged are kept)`,
      );
    }
    const storedShard = this.storedShard();
    const shard = opts.shard ? formatShard(opts.shard) : undefined;
    if (stored !== undefined && storedShard !== shard) {
      throw new MentiaError(`${this.path} was written by ${storedShard ? `shard ${storedShard}` : "an unsharded run"}, not ${shard ? `shard ${shard}` : "an unsharded run"}; use the same --shard as before, or another --out directory`);
    }
    const storedSums = this.storedChecksums();
    if (storedSums !== undefined && opts.checksums !== undefined && canonicalJson(storedSums) !== canonicalJson(opts.checksums)) {
      throw new MentiaError(`${this.path} holds results computed on other MNIST files (checksums ${canonicalJson(storedSums)}, now ${canonicalJson(opts.checksums)}); use another --out directory, or --force-new-config`);
    }
  }

  /**
   * Records the config (and shard, data checksums, version) and adds the planned jobs as
   * pending; jobs already in the file keep their status. In one transaction. With
   * `forceNewConfig` a different stored config is replaced (kept in config_history) and
   * jobs outside the new plan are marked out of plan.
   */
  initialise(config: SweepConfig, plan: PlannedJob[], opts: { shard?: Shard; checksums?: Record<string, string>; forceNewConfig?: boolean; mentiaVersion: string }): void {
    const insert = this.db.prepare(
      `INSERT INTO jobs (key, job, width, depth, p_train, n, seed, cost, in_plan, status)
       VALUES (@key, @job, @width, @depth, @pTrain, @n, @seed, @cost, 1, 'pending')
       ON CONFLICT (key) DO UPDATE SET in_plan = 1`,
    );
    this.db
      .transaction(() => {
        this.checkCompatible(config, opts);
        const stored = this.storedConfig();
        const text = configJson(config);
        if (stored !== undefined && configJson(stored) !== text) {
          const history = JSON.parse(this.getMeta("config_history") ?? "[]") as Array<{ config: SweepConfig; replacedAt: string }>;
          history.push({ config: stored, replacedAt: now() });
          this.setMeta("config_history", JSON.stringify(history));
        }
        if (stored === undefined) this.setMeta("created_at", now());
        this.setMeta("config", text);
        this.setMeta("shard", opts.shard ? formatShard(opts.shard) : "");
        this.setMeta("mentia_version", opts.mentiaVersion);
        if (opts.checksums) this.setMeta("dataset_checksums", canonicalJson(opts.checksums));
        this.db.prepare("UPDATE jobs SET in_plan = 0").run();
        for (const p of plan) insert.run({ key: p.key, job: canonicalJson(p.job), width: p.job.width, depth: p.job.depth, pTrain: p.job.pTrain, n: p.job.n, seed: p.job.seed, cost: p.cost });
      })
      .immediate();
  }

  /** The run lock of this file, if a run holds (or held) it. */
  lock(): RunLock | undefined {
    const text = this.getMeta("lock");
    return text ? (JSON.parse(text) as RunLock) : undefined;
  }

  /** Whether a live process (on this host) or a process on another host holds the lock. */
  lockHolder(): RunLock | undefined {
    const lock = this.lock();
    if (!lock) return undefined;
    if (lock.host === hostname() && (lock.pid === process.pid || !processAlive(lock.pid))) return undefined;
    return lock;
  }

  /**
   * Takes the run lock: one `mentia run` per database file at a time, so that its
   * 'running' jobs are known to be its own. A lock left by a dead process on this host is
   * taken over (that is how a killed sweep resumes); one held by another host is refused
   * unless `breakLock`.
   */
  acquireLock(breakLock = false): void {
    this.db
      .transaction(() => {
        const holder = this.lockHolder();
        if (holder) {
          if (holder.host === hostname()) throw new MentiaError(`${this.path} is in use by another mentia run (pid ${holder.pid}, since ${holder.since}); wait for it to finish or stop it first`);
          if (!breakLock) throw new MentiaError(`${this.path} is marked in use by a mentia run on host ${holder.host} (pid ${holder.pid}, since ${holder.since}); if that run is dead, rerun with --break-lock (for several machines, use --shard i/n)`);
        }
        this.setMeta("lock", JSON.stringify({ host: hostname(), pid: process.pid, since: now() } satisfies RunLock));
      })
      .immediate();
  }

  releaseLock(): void {
    if (!this.db.open) return;
    const lock = this.lock();
    if (lock && lock.host === hostname() && lock.pid === process.pid) this.db.prepare("DELETE FROM meta WHERE key = 'lock'").run();
  }

  /** Jobs left 'running' by an interrupted run go back to pending. Returns how many. */
  resetRunning(): number {
    return this.db.prepare("UPDATE jobs SET status = 'pending', worker = NULL WHERE status = 'running'").run().changes;
  }

  /** Jobs of the plan still to run, largest first. */
  todo(retryFailed = false): PlannedJob[] {
    const rows = this.db
      .prepare(`SELECT key, job, cost, status, error FROM jobs WHERE in_plan = 1 AND status IN ('pending'${retryFailed ? ", 'failed'" : ""}) ORDER BY cost DESC, key`)
      .all() as JobRow[];
    return rows.map((r) => {
      const job = JSON.parse(r.job) as TrainJob;
      return { key: r.key, job, cost: r.cost, steps: jobSteps(job) };
    });
  }

  markRunning(key: JobKey, worker: string): void {
    this.db.prepare("UPDATE jobs SET status = 'running', worker = ?, started_at = ?, attempts = attempts + 1 WHERE key = ?").run(worker, now(), key);
  }

  /** A finished job: its evals and status 'done', in one transaction. */
  recordResult(key: JobKey, result: JobResult, info: { versions: Versions; wallSeconds: number }): void {
    if (jobKey(result.job) !== key) throw new Error(`recordResult: result is for job ${jobKey(result.job)}, not ${key}`);
    const del = this.db.prepare("DELETE FROM evals WHERE job_key = ?");
    const ins = this.db.prepare(
      `INSERT INTO evals (job_key, p_eval, loss, loss_stderr, accuracy, accuracy_stderr, mask_losses, mask_accuracies)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const upd = this.db.prepare(
      `UPDATE jobs SET status = 'done', finished_at = ?, wall_seconds = ?, train_seconds = ?, eval_seconds = ?, steps = ?,
         final_train_loss = ?, training = ?, error = NULL, engine = ?, versions = ? WHERE key = ?`,
    );
    this.db
      .transaction(() => {
        del.run(key);
        for (const e of result.evals) ins.run(key, e.pEval, e.loss, e.lossStderr, e.accuracy, e.accuracyStderr, JSON.stringify(e.maskLosses), JSON.stringify(e.maskAccuracies));
        const changed = upd.run(now(), info.wallSeconds, result.trainSeconds, result.evalSeconds, result.steps, result.finalTrainLoss, JSON.stringify(result.training), result.engine, JSON.stringify(info.versions), key).changes;
        if (changed !== 1) throw new Error(`recordResult: job ${key} is not in ${this.path}`);
      })
      .immediate();
  }

  /** A job that failed (diverged, or threw): status 'failed' with the reason; no evals. */
  recordFailure(key: JobKey, reason: string, info: { versions: Versions; wallSeconds: number; engine?: string }): void {
    this.db
      .transaction(() => {
        this.db.prepare("DELETE FROM evals WHERE job_key = ?").run(key);
        this.db
          .prepare("UPDATE jobs SET status = 'failed', finished_at = ?, wall_seconds = ?, error = ?, engine = ?, versions = ? WHERE key = ?")
          .run(now(), info.wallSeconds, reason, info.engine ?? null, JSON.stringify(info.versions), key);
      })
      .immediate();
  }

  counts(): StatusCounts {
    const rows = this.db.prepare("SELECT in_plan, status, count(*) AS c FROM jobs GROUP BY in_plan, status").all() as Array<{ in_plan: number; status: JobStatus; c: number }>;
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
  doneKeys(): Set<JobKey> {
    const rows = this.db.prepare("SELECT key FROM jobs WHERE in_plan = 1 AND status = 'done'").all() as Array<{ key: string }>;
    return new Set(rows.map((r) => r.key));
  }

  failures(): FailedJob[] {
    const rows = this.db.prepare("SELECT key, job, error FROM jobs WHERE in_plan = 1 AND status = 'failed' ORDER BY width, depth, p_train, n, seed").all() as JobRow[];
    return rows.map((r) => ({ key: r.key, job: JSON.parse(r.job) as TrainJob, error: r.error ?? "(no reason recorded)" }));
  }

  /** Seconds of work of the plan's finished jobs (sum of wall times) and their engines. */
  workSummary(): { seconds: number; jobs: number; engines: string[] } {
    const row = this.db.prepare("SELECT coalesce(sum(wall_seconds), 0) AS s, count(*) AS c FROM jobs WHERE in_plan = 1 AND status = 'done'").get() as { s: number; c: number };
    const engines = (this.db.prepare("SELECT DISTINCT engine FROM jobs WHERE in_plan = 1 AND status = 'done' AND engine IS NOT NULL ORDER BY engine").all() as Array<{ engine: string }>).map((r) => r.engine);
    return { seconds: row.s, jobs: row.c, engines };
  }

  /** The tidy table: one row per finished job of the plan × p_eval. */
  exportRows(): ExportRow[] {
    const rows = this.db
      .prepare(
        `SELECT j.key, j.job, j.steps, j.final_train_loss, j.training, j.train_seconds, j.eval_seconds, j.engine,
                e.p_eval, e.loss, e.loss_stderr, e.accuracy, e.accuracy_stderr, e.mask_losses, e.mask_accuracies
         FROM jobs j JOIN evals e ON e.job_key = j.key
         WHERE j.in_plan = 1 AND j.status = 'done'
         ORDER BY j.width, j.depth, j.p_train, j.n, j.seed, j.key, e.p_eval`,
      )
      .all() as Array<
      Omit<EvalDump, "job_key"> & { key: string; job: string; steps: number; final_train_loss: number; training: string | null; train_seconds: number; eval_seconds: number; engine: string }
    >;
    return rows.map((r) => {
      const job = JSON.parse(r.job) as TrainJob;
      const training = r.training ? (JSON.parse(r.training) as TrainingRecord) : { bestStep: r.steps, bestValLoss: null, stoppedBy: "budget" };
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
        evalMode: job.evalMode,
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
      };
    });
  }

  /** What analysis reads: one EvalRecord per finished job of the plan × p_eval. */
  evalRecords(): EvalRecord[] {
    return this.exportRows().map((r) => ({
      jobKey: r.jobKey,
      width: r.width,
      depth: r.depth,
      pTrain: r.pTrain,
      n: r.n,
      seed: r.seed,
      pEval: r.pEval,
      loss: r.loss,
      lossStderr: r.lossStderr,
      accuracy: r.accuracy,
      maskLosses: r.maskLosses,
    }));
  }

  /** Raw rows, for merging. */
  dumpJobs(onlyInPlan = true): JobDump[] {
    return this.db.prepare(`SELECT * FROM jobs${onlyInPlan ? " WHERE in_plan = 1" : ""} ORDER BY key`).all() as JobDump[];
  }

  dumpEvals(key: JobKey): EvalDump[] {
    return this.db.prepare("SELECT * FROM evals WHERE job_key = ? ORDER BY p_eval").all(key) as EvalDump[];
  }
}

/** DIR/shard-i.sqlite files of a sweep directory, by shard index. */
export function shardFiles(dir: string): Array<{ index: number; path: string }> {
  if (!existsSync(dir)) return [];
  const out: Array<{ index: number; path: string }> = [];
  for (const name of readdirSync(dir)) {
    const m = SHARD_FILE_PATTERN.exec(name);
    if (m) out.push({ index: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * The results database of a sweep: DIR/results.sqlite (a path to a .sqlite file is taken
 * as it is). Unmerged shard files get a MentiaError that says to merge them.
 */
export function resultsPath(dirOrFile: string): string {
  if (!existsSync(dirOrFile)) throw new MentiaError(`${dirOrFile}: no such sweep directory`);
  if (statSync(dirOrFile).isFile()) return dirOrFile;
  const path = join(dirOrFile, RESULTS_FILE);
  if (!existsSync(path)) {
    if (shardFiles(dirOrFile).length > 0) throw new MentiaError(`${dirOrFile} holds shard files but no ${RESULTS_FILE}: run 'mentia merge ${dirOrFile}' first`);
    throw new MentiaError(`${dirOrFile}: no ${RESULTS_FILE} (not a sweep directory, or 'mentia run' has not started there)`);
  }
  return path;
}

/**
 * Every finished (job × p_eval) of the sweep in DIR, read from DIR/results.sqlite (shards
 * count once merged into it). Ordered by width, depth, pTrain, n, seed, pEval.
 */
export function readEvalRecords(dir: string): EvalRecord[] {
  const store = SweepStore.open(resultsPath(dir), { readonly: true });
  try {
    return store.evalRecords();
  } finally {
    store.close();
  }
}

/** The tidy export table of the sweep in DIR (see ExportRow). */
export function readExportRows(dir: string): ExportRow[] {
  const store = SweepStore.open(resultsPath(dir), { readonly: true });
  try {
    return store.exportRows();
  } finally {
    store.close();
  }
}
