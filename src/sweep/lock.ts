import { hostname } from "node:os";
import { MentiaError } from "../errors.js";
import type { SweepStore } from "./store.js";

/**
 * The run lock of a sweep database: one `mentia run` per file at a time, so that the jobs
 * marked 'running' in it are known to be that run's own. Stored in meta as JSON.
 */
export interface RunLock {
  host: string;
  pid: number;
  since: string;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The run lock of this file, if a run holds (or held) it. */
export function readLock(store: SweepStore): RunLock | undefined {
  const text = store.getMeta("lock");
  return text ? (JSON.parse(text) as RunLock) : undefined;
}

/** Whether a live process (on this host) or a process on another host holds the lock. */
export function lockHolder(store: SweepStore): RunLock | undefined {
  const lock = readLock(store);
  if (!lock) return undefined;
  if (lock.host === hostname() && (lock.pid === process.pid || !processAlive(lock.pid))) return undefined;
  return lock;
}

/**
 * Takes the run lock. A lock left by a dead process on this host is taken over (that is
 * how a killed sweep resumes); one held by another host is refused unless `breakLock`.
 */
export function acquireLock(store: SweepStore, breakLock = false): void {
  store.db
    .transaction(() => {
      const holder = lockHolder(store);
      if (holder) {
        if (holder.host === hostname()) throw new MentiaError(`${store.path} is in use by another mentia run (pid ${holder.pid}, since ${holder.since}); wait for it to finish or stop it first`);
        if (!breakLock) throw new MentiaError(`${store.path} is marked in use by a mentia run on host ${holder.host} (pid ${holder.pid}, since ${holder.since}); if that run is dead, rerun with --break-lock (for several machines, use --shard i/n)`);
      }
      store.setMeta("lock", JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString() } satisfies RunLock));
    })
    .immediate();
}

export function releaseLock(store: SweepStore): void {
  if (!store.db.open) return;
  const lock = readLock(store);
  if (lock && lock.host === hostname() && lock.pid === process.pid) store.stmt("DELETE FROM meta WHERE key = 'lock'").run();
}
