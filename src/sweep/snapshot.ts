import { closeSync, copyFileSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { MentiaError } from "../errors.js";

/**
 * Reading a sweep database that a process on another host may be writing (a shard on NFS or
 * Lustre, read by `status` or `merge` on the login node). File locks cannot be trusted
 * across hosts there (Lustre mounted with localflock, NFS without a lock manager), so the
 * reader does not lock: it copies the file and keeps the copy only if nothing was committed
 * while it copied. A rollback-journal database increments the "file change counter" in its
 * header on every commit, and its DIR/NAME-journal exists while a transaction writes:
 * counter equal before and after, and no journal, means the copy is one committed state.
 * A journal that stays unchanged for `staleMs` is the remains of a writer killed in a
 * transaction: the copy is then taken with it, and SQLite rolls that transaction back when
 * it opens the copy (the original is rolled back by the next run that writes it).
 *
 * WAL databases cannot be read this way (their last commits live in DIR/NAME-wal and a
 * shared-memory index); they are read in place, which is safe only on the writer's host.
 */
export type JournalMode = "wal" | "rollback";

export interface Header {
  mode: JournalMode;
  changeCounter: number;
}

/** The journal mode and change counter from the 100-byte SQLite header, or undefined. */
export function readHeader(path: string): Header | undefined {
  const buf = Buffer.alloc(100);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    if (readSync(fd, buf, 0, 100, 0) < 100) return undefined;
  } finally {
    closeSync(fd);
  }
  if (buf.subarray(0, 16).toString("latin1") !== "SQLite format 3\u0000") return undefined;
  // Bytes 18 and 19: file format write/read versions, 1 = legacy (rollback journal), 2 = WAL.
  return { mode: buf[18] === 2 ? "wal" : "rollback", changeCounter: buf.readUInt32BE(24) };
}

export interface Snapshot {
  /** The copy to open (read-write if `hotJournal`, so that SQLite rolls it back). */
  path: string;
  /** Whether the copy came with the journal of a transaction its writer never finished. */
  hotJournal: boolean;
  /** Removes the copy. */
  remove(): void;
}

export interface SnapshotOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** A journal unchanged this long is taken as left by a dead writer (default 5 s). */
  staleMs?: number;
}

function journalState(path: string): string | undefined {
  const j = `${path}-journal`;
  try {
    const s = statSync(j);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A consistent copy of the rollback-journal database at `path` (see above), in a temporary
 * folder. MentiaError when the file kept changing (or kept a journal that was still being
 * written) for `timeoutMs`.
 */
export function snapshotCopy(path: string, opts: SnapshotOptions = {}): Snapshot {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const staleMs = opts.staleMs ?? 5_000;
  const dir = mkdtempSync(join(tmpdir(), "mentia-snapshot-"));
  const copy = join(dir, basename(path));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const t0 = Date.now();
  let journal: { state: string; since: number } | undefined;
  let wait = 20;
  let tries = 0;
  try {
    for (;;) {
      tries++;
      const before = readHeader(path);
      if (!before) throw new MentiaError(`${path}: not an SQLite database (or unreadable)`);
      const j = journalState(path);
      if (j === undefined) {
        journal = undefined;
        copyFileSync(path, copy);
        const copied = readHeader(copy);
        const after = readHeader(path);
        if (journalState(path) === undefined && copied?.changeCounter === before.changeCounter && after?.changeCounter === before.changeCounter) return { path: copy, hotJournal: false, remove };
      } else if (!journal || journal.state !== j) {
        journal = { state: j, since: Date.now() };
      } else if (Date.now() - journal.since >= staleMs) {
        // The same journal for staleMs: its writer is gone. Copy the file with it.
        copyFileSync(path, copy);
        copyFileSync(`${path}-journal`, `${copy}-journal`);
        const after = readHeader(path);
        if (journalState(path) === j && after?.changeCounter === before.changeCounter) return { path: copy, hotJournal: true, remove };
        journal = undefined;
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new MentiaError(
          `${path} kept changing while mentia tried to read it (${tries} tries in ${Math.round(timeoutMs / 1000)} s${journal ? ", with a transaction journal being written" : ""}); try again`,
        );
      }
      sleepMs(wait);
      wait = Math.min(200, wait * 2);
    }
  } catch (err) {
    remove();
    throw err;
  }
}
