import { Worker } from "node:worker_threads";
import type { MnistData } from "../data/mnist.js";
import type { Dataset, EngineName } from "../engine/types.js";
import { MentiaError } from "../errors.js";
import type { JobResult, TrainJob } from "../train/job.js";
import type { JobKey, PlannedJob } from "./plan.js";
import type { JournalMode, SweepStore, Versions } from "./store.js";

/**
 * The worker pool: K worker threads (one per core by default), each with its own engine
 * and database connection, over MNIST arrays loaded once and shared (SharedArrayBuffer).
 * Jobs are handed out one at a time in the given order (largest first), so the pool keeps
 * every core busy until the queue is empty. Each worker writes its job's result itself, in
 * one transaction (worker.ts).
 *
 * Stopping (AbortSignal, e.g. Ctrl-C): no new job is handed out, and a shared flag tells
 * the workers to abandon their jobs at the next epoch boundary; abandoned jobs stay
 * unfinished (the caller puts them back to pending, so a rerun redoes them), and a job
 * already past training finishes and is kept. Workers are never terminated from outside:
 * a thread killed inside a native call can take the whole process down, while a stop
 * between epochs is clean. A job that throws or whose numbers are not finite is
 * recorded as failed by its worker and the pool goes on; a worker that dies in a job gets
 * the job recorded as failed and is replaced.
 *
 * A database error (disk full, I/O error, file removed) in any store call, the main
 * thread's or a worker's, stops the sweep as a stop signal does: running jobs are abandoned,
 * every job stored before is kept, and the pool rejects with a SweepStoppedError saying
 * what failed. It never escapes from an event handler (which would kill the process).
 */

export interface WorkerSetup {
  dbPath: string;
  journal: JournalMode;
  /** Int32Array over a SharedArrayBuffer; element 0 becomes 1 when the sweep is stopping. */
  cancel: Int32Array;
  data: MnistData;
  versions: Versions;
  engine: EngineName;
}

export type ToWorker = { type: "job"; key: JobKey; job: TrainJob } | { type: "stop" };

export type FromWorker =
  | { type: "ready"; engine: string }
  | { type: "epoch"; key: JobKey; epoch: number; epochs: number }
  | { type: "finished"; key: JobKey; status: "done" | "failed"; error?: string; seconds: number }
  | { type: "abandoned"; key: JobKey }
  /** The worker could not store the job's outcome (a database error): the sweep must stop. */
  | { type: "storeError"; key: JobKey; error: string };

export interface JobOutcome {
  status: "done" | "failed";
  error?: string;
  seconds: number;
}

export interface PoolEvents {
  jobStarted?(job: PlannedJob, worker: number): void;
  jobEpoch?(key: JobKey, epoch: number, epochs: number): void;
  jobFinished?(job: PlannedJob, outcome: JobOutcome): void;
}

export interface PoolOptions {
  dbPath: string;
  journal: JournalMode;
  jobs: PlannedJob[];
  workers: number;
  /** MNIST with SharedArrayBuffer-backed arrays (see shareMnist), so workers share it. */
  data: MnistData;
  versions: Versions;
  engine: EngineName;
  /** The main thread's connection, used to mark jobs running and to record crashes. */
  store: SweepStore;
  signal?: AbortSignal;
  events?: PoolEvents;
  /**
   * Testing hook: once this many jobs have finished, hand out no more and wait for the
   * signal (a test uses it to stop a run at a known point; see testHold in sweep.ts).
   */
  holdAfter?: number;
}

export interface PoolResult {
  done: number;
  failed: number;
  /** Stopped by the signal with jobs not run or abandoned. */
  interrupted: boolean;
}

/** The sweep stopped because its database could not be written; finished jobs are kept. */
export class SweepStoppedError extends Error {
  override readonly name = "SweepStoppedError";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why a result cannot be stored as a finished job (a NaN or infinite number), or undefined. */
export function nonFiniteReason(result: JobResult): string | undefined {
  if (!Number.isFinite(result.finalTrainLoss)) return `training diverged: final train loss ${result.finalTrainLoss}`;
  for (const e of result.evals) {
    const values: Array<[string, number]> = [
      ["test loss", e.loss],
      ["test loss stderr", e.lossStderr],
      ["accuracy", e.accuracy],
      ["accuracy stderr", e.accuracyStderr],
    ];
    e.maskLosses.forEach((v, i) => values.push([`mask ${i} loss`, v]));
    e.maskAccuracies.forEach((v, i) => values.push([`mask ${i} accuracy`, v]));
    for (const [what, v] of values) if (!Number.isFinite(v)) return `${what} at p_eval ${e.pEval} is ${v}`;
  }
  return undefined;
}

function shareArray<T extends Float32Array | Uint8Array>(a: T, make: (buf: SharedArrayBuffer) => T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const shared = make(new SharedArrayBuffer(a.byteLength));
  shared.set(a);
  return shared;
}

function shareDataset(d: Dataset): Dataset {
  return {
    x: shareArray(d.x, (b) => new Float32Array(b)),
    y: shareArray(d.y, (b) => new Uint8Array(b)),
    n: d.n,
  };
}

/** A copy of MNIST in shared memory: handed to K workers, it is stored once, not K times. */
export function shareMnist(data: MnistData): MnistData {
  return { train: shareDataset(data.train), test: shareDataset(data.test), checksums: { ...data.checksums } };
}

interface Slot {
  id: number;
  worker: Worker;
  ready: boolean;
  current?: PlannedJob;
  crashed: boolean;
}

export function runPool(opts: PoolOptions): Promise<PoolResult> {
  const workerUrl = new URL("./worker.js", import.meta.url);
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const setup: WorkerSetup = { dbPath: opts.dbPath, journal: opts.journal, cancel, data: opts.data, versions: opts.versions, engine: opts.engine };
  const queue = [...opts.jobs];
  const events = opts.events ?? {};
  return new Promise<PoolResult>((resolve, reject) => {
    let done = 0;
    let failed = 0;
    let stopping = false;
    let abandoned = 0;
    let fatal: Error | undefined;
    let nextId = 0;
    const slots = new Set<Slot>();

    const finishIfIdle = (): void => {
      if (slots.size > 0) return;
      opts.signal?.removeEventListener("abort", onAbort);
      if (fatal) reject(fatal);
      else resolve({ done, failed, interrupted: stopping && (queue.length > 0 || abandoned > 0) });
    };

    // Busy workers see the flag at their next epoch and report back; idle ones get "stop";
    // ones still starting get "stop" through dispatch() once they are ready.
    const stopAll = (): void => {
      Atomics.store(cancel, 0, 1);
      for (const s of slots) if (s.ready && !s.current) s.worker.postMessage({ type: "stop" } satisfies ToWorker);
    };

    // A store call failed: stop like a signal, and reject with what happened.
    const storeFailed = (what: string, err: unknown): void => {
      fatal ??= new SweepStoppedError(
        `${what} in ${opts.dbPath} failed (${errorText(err)}); the sweep stopped: every job stored before is kept, and rerunning the same command resumes`,
      );
      stopAll();
    };

    function onAbort(): void {
      if (stopping) return;
      stopping = true;
      stopAll();
    }

    const dispatch = (slot: Slot): void => {
      if (!stopping && !fatal && opts.holdAfter !== undefined && done + failed >= opts.holdAfter) return; // held: idle until stopped
      const job = stopping || fatal ? undefined : queue.shift();
      if (!job) {
        slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
        return;
      }
      try {
        opts.store.markRunning(job.key, `worker ${slot.id}`);
      } catch (err) {
        queue.unshift(job);
        storeFailed(`marking job ${job.key} as running`, err);
        slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
        return;
      }
      slot.current = job;
      events.jobStarted?.(job, slot.id);
      slot.worker.postMessage({ type: "job", key: job.key, job: job.job } satisfies ToWorker);
    };

    const recordCrash = (job: PlannedJob, reason: string): void => {
      let marked: boolean;
      try {
        marked = opts.store.recordFailure(job.key, reason, { versions: opts.versions, wallSeconds: 0 });
      } catch (err) {
        storeFailed(`recording the crash of job ${job.key} (${reason})`, err);
        return;
      }
      // Not marked: the worker had stored the job's result before it died; it stays done.
      if (marked) failed++;
      else done++;
      events.jobFinished?.(job, marked ? { status: "failed", error: reason, seconds: 0 } : { status: "done", seconds: 0 });
    };

    const start = (): void => {
      const slot: Slot = { id: nextId++, worker: new Worker(workerUrl, { workerData: setup }), ready: false, crashed: false };
      slots.add(slot);
      slot.worker.on("message", (msg: FromWorker) => {
        if (msg.type === "ready") {
          slot.ready = true;
          dispatch(slot);
        } else if (msg.type === "epoch") {
          events.jobEpoch?.(msg.key, msg.epoch, msg.epochs);
        } else if (msg.type === "abandoned") {
          abandoned++;
          slot.current = undefined;
          dispatch(slot);
        } else if (msg.type === "storeError") {
          // The job stays 'running' in the file; the pool's owner puts it back to pending.
          abandoned++;
          slot.current = undefined;
          storeFailed(`storing the outcome of job ${msg.key}`, msg.error);
          dispatch(slot);
        } else {
          const job = slot.current;
          slot.current = undefined;
          if (msg.status === "done") done++;
          else failed++;
          if (job) events.jobFinished?.(job, { status: msg.status, error: msg.error, seconds: msg.seconds });
          dispatch(slot);
        }
      });
      slot.worker.on("error", (err: Error) => {
        if (!slot.ready) {
          // The worker could not even start (engine or database unusable): a setup problem,
          // not a job's failure. Stop everything and report it.
          fatal ??= err.name === "MentiaError" ? new MentiaError(err.message) : err;
          stopAll();
          return;
        }
        const job = slot.current;
        slot.current = undefined;
        slot.crashed = true;
        if (job && !stopping) {
          const reason = `worker crashed: ${err.name}: ${err.message}`;
          recordCrash(job, reason);
        }
      });
      slot.worker.on("exit", (code) => {
        slots.delete(slot);
        if (!slot.ready && !stopping && !fatal) {
          fatal = new Error(`a sweep worker exited (code ${code}) before it was ready`);
          stopAll();
        }
        const job = slot.current;
        if (job && !stopping) {
          // Exited in the middle of a job without an error event (e.g. process.exit in it).
          slot.crashed = true;
          recordCrash(job, `worker exited with code ${code} during the job`);
        }
        if (slot.crashed && !stopping && !fatal && queue.length > 0) start();
        finishIfIdle();
      });
    };

    opts.signal?.addEventListener("abort", onAbort);
    if (opts.signal?.aborted) stopping = true;
    const k = Math.max(1, Math.min(opts.workers, queue.length));
    if (queue.length === 0 || stopping) {
      resolve({ done, failed, interrupted: stopping && queue.length > 0 });
      return;
    }
    for (let i = 0; i < k; i++) start();
  });
}
