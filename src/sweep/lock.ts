import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { MentiaError } from "../errors.js";
import type { SweepStore } from "./store.js";

/**
 * The run lock of a sweep database: one `mentia run` per file at a time, so that the jobs
 * marked 'running' in it are known to be that run's own. Stored in meta as JSON.
 *
 * A lock names its process by host name and pid plus a start token: the kernel's boot id,
 * the PID namespace, and the process's start time (from /proc, on Linux). A pid alone is
 * not enough: pids are reused, and containers on one machine can share a host name while
 * each sees only its own processes. So a lock is
 *   - this process's own, or provably dead (same machine, boot and PID namespace, and the
 *     pid is gone or now belongs to a process started at another time): taken over, with a
 *     message;
 *   - provably alive (same machine, boot, namespace, pid and start time): refused, even
 *     with --break-lock;
 *   - anything else (another host, another boot or namespace, a lock without a start
 *     token whose pid is alive): refused unless --break-lock.
 */
export interface RunLock {
  host: string;
  pid: number;
  since: string;
  /** /proc/sys/kernel/random/boot_id of the machine that took the lock. */
  bootId?: string;
  /** The PID namespace of the process (readlink /proc/self/ns/pid), e.g. "pid:[4026531836]". */
  pidNs?: string;
  /** Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot. */
  startTime?: string;
}

function readOr(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

export function bootId(): string | undefined {
  return readOr(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"));
}

export function pidNamespace(): string | undefined {
  return readOr(() => readlinkSync("/proc/self/ns/pid"));
}

/** The start time of process `pid` (clock ticks after boot), or undefined where /proc cannot tell. */
export function processStartTime(pid: number): string | undefined {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
  if (!stat) return undefined;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 of the whole line; fields[0] is field 3 (state)
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock this process takes. */
export function ownLock(): RunLock {
  return { host: hostname(), pid: process.pid, since: new Date().toISOString(), bootId: bootId(), pidNs: pidNamespace(), startTime: processStartTime(process.pid) };
}

export type Liveness = { state: "own" } | { state: "dead"; why: string } | { state: "alive" } | { state: "unknown"; why: string };

/** Whether the process that holds `lock` still runs, as far as this process can tell. */
export function lockLiveness(lock: RunLock): Liveness {
  if (lock.host !== hostname()) return { state: "unknown", why: `held on host ${lock.host}` };
  const boot = bootId();
  if (lock.bootId && boot && lock.bootId !== boot) return { state: "unknown", why: "same host name but another boot id: another machine of that name, or this one since rebooted" };
  const ns = pidNamespace();
  if (lock.pidNs && ns && lock.pidNs !== ns) return { state: "unknown", why: "same host name but another PID namespace (another container)" };
  const start = processStartTime(lock.pid);
  if (lock.pid === process.pid && (!lock.startTime || lock.startTime === start)) return { state: "own" };
  if (!processAlive(lock.pid)) return { state: "dead", why: `pid ${lock.pid} is gone` };
  if (lock.startTime && start && lock.startTime !== start) return { state: "dead", why: `pid ${lock.pid} is now another process (started at another time)` };
  if (lock.startTime && start) return { state: "alive" };
  return { state: "unknown", why: `pid ${lock.pid} is alive, but the lock has no start time to confirm it is the same process` };
}

/** The run lock of this file, if a run holds (or held) it. */
export function readLock(store: SweepStore): RunLock | undefined {
  const text = store.getMeta("lock");
  return text ? (JSON.parse(text) as RunLock) : undefined;
}

/** The lock, unless it is this process's own or its process is provably gone. */
export function lockHolder(store: SweepStore): RunLock | undefined {
  const lock = readLock(store);
  if (!lock) return undefined;
  const l = lockLiveness(lock);
  return l.state === "own" || l.state === "dead" ? undefined : lock;
}

/**
 * Takes the run lock (see above). Returns a message when it took over another run's lock
 * (a dead one, or one broken with `breakLock`), to be shown to the user.
 */
export function acquireLock(store: SweepStore, breakLock = false): string | undefined {
  return store.db
    .transaction((): string | undefined => {
      const lock = readLock(store);
      let note: string | undefined;
      if (lock) {
        const l = lockLiveness(lock);
        const who = `pid ${lock.pid}${lock.host === hostname() ? "" : ` on host ${lock.host}`}, since ${lock.since}`;
        if (l.state === "alive") throw new MentiaError(`${store.path} is in use by another mentia run (${who}); wait for it to finish or stop it first (it is alive: --break-lock does not take over a live run)`);
        if (l.state === "unknown") {
          if (!breakLock) {
            throw new MentiaError(
              lock.host === hostname()
                ? `${store.path} is in use by another mentia run (${who}; ${l.why}); wait for it to finish or stop it first, or if that run is dead, rerun with --break-lock`
                : `${store.path} is marked in use by a mentia run on host ${lock.host} (pid ${lock.pid}, since ${lock.since}); if that run is dead, rerun with --break-lock (for several machines, use --shard i/n)`,
            );
          }
          note = `took over the lock of the run ${who} (--break-lock; ${l.why})`;
        } else if (l.state === "dead") note = `took over the lock of a run that is gone (${who}: ${l.why})`;
      }
      store.setMeta("lock", JSON.stringify(ownLock()));
      return note;
    })
    .immediate();
}

export function releaseLock(store: SweepStore): void {
  if (!store.db.open) return;
  const lock = readLock(store);
  if (lock && lockLiveness(lock).state === "own") store.stmt("DELETE FROM meta WHERE key = 'lock'").run();
}
