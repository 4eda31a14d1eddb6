import { parentPort, workerData } from "node:worker_threads";
import { getEngine } from "../engine/select.js";
import { runJob } from "../train/train.js";
import { MentiaError } from "../errors.js";
import type { JobResult } from "../train/job.js";
import { nonFiniteReason, type FromWorker, type ToWorker, type WorkerSetup } from "./pool.js";
import { SweepStore } from "./store.js";

/**
 * A sweep worker thread: takes jobs from the pool one at a time, trains and evaluates each
 * on the shared MNIST arrays, and writes the result to the sweep database itself (its own
 * connection, one transaction per job) before telling the pool it is free again.
 */
if (!parentPort) throw new Error("worker.ts must run as a worker thread");
const port = parentPort;
const setup = workerData as WorkerSetup;
const engine = getEngine(setup.engine);
const store = SweepStore.open(setup.dbPath, { journal: setup.journal });

const post = (msg: FromWorker): void => port.postMessage(msg);

/** Thrown from the epoch callback when the sweep is stopping: the job is abandoned. */
class JobAbandoned extends Error {}

const stopping = (): boolean => Atomics.load(setup.cancel, 0) !== 0;

port.on("message", (msg: ToWorker) => {
  if (msg.type === "stop") {
    store.close();
    port.close();
    return;
  }
  if (stopping()) {
    post({ type: "abandoned", key: msg.key });
    return;
  }
  const t0 = performance.now();
  const wall = (): number => (performance.now() - t0) / 1000;
  let result: JobResult | undefined;
  let reason: string | undefined;
  try {
    result = runJob(msg.job, setup.data, engine, (e) => {
      if (stopping()) throw new JobAbandoned();
      post({ type: "epoch", key: msg.key, epoch: e.epoch, epochs: e.epochs });
    });
    reason = nonFiniteReason(result);
  } catch (err) {
    if (err instanceof JobAbandoned) {
      // Left unfinished (status running): the pool's owner puts it back to pending.
      post({ type: "abandoned", key: msg.key });
      return;
    }
    // A diverged training (TrainingDivergedError) or any other error in this job: the job
    // is recorded as failed with its reason and the sweep goes on.
    reason = err instanceof MentiaError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  // Storing is not part of the job: a database error stops the sweep (pool.ts), it does not fail the job.
  try {
    if (reason === undefined && result) store.recordResult(msg.key, result, { versions: setup.versions, wallSeconds: wall() });
    else store.recordFailure(msg.key, reason ?? "no result", { versions: setup.versions, wallSeconds: wall(), engine: result?.engine ?? engine.name });
  } catch (err) {
    post({ type: "storeError", key: msg.key, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  post(reason === undefined ? { type: "finished", key: msg.key, status: "done", seconds: wall() } : { type: "finished", key: msg.key, status: "failed", error: reason, seconds: wall() });
});

post({ type: "ready", engine: engine.name });
