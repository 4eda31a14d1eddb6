import { existsSync, readdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MentiaError } from "../errors.js";
import type { JobResult } from "../train/job.js";
import { canonicalJson, configDifferences, configJson, type SweepConfig } from "./config.js";
import { evalRecords, exportRows, trajectoryRecords, type ExportRow } from "./export.js";
import * as jobs from "./jobs.js";
import type { FailedJob, StatusCounts, Versions } from "./jobs.js";
import * as locks from "./lock.js";
import type { RunLock } from "./lock.js";
import type { JobKey, PlannedJob } from "./plan.js";
import type { EvalRecord, TrajectoryRecord } from "./records.js";
import { MIGRATE_2_TO_3, MIGRATE_3_TO_4, READ_V2_AS_V3, READ_V3_AS_V4, SCHEMA, SCHEMA_VERSION, type EvalDump, type JobDump } from "./schema.js";
import { formatShard, RESULTS_FILE, SHARD_FILE_PATTERN, type Shard } from "./shard.js";
import { readHeader, snapshotCopy, type JournalMode, type SnapshotOptions } from "./snapshot.js";

/**
 * The results of a sweep: one SQLite file per sweep directory, DIR/results.sqlite, or
 * DIR/shard-i.sqlite for shard i of a cluster run. This module opens the file and checks
 * what it holds (schema, config, shard, data); the tables are in schema.ts, the life of a
 * job in jobs.ts, the run lock in lock.ts, the export queries in export.ts. SweepStore's
 * methods of those parts are shorthands for their functions.
 *
 * Journal modes: WAL lets readers and writers work at once, but only on one host (it needs
 * shared memory between all of them). A file that processes on several hosts may touch (a
 * shard on NFS or Lustre) uses the rollback journal: one writing process per file, and
 * readers elsewhere read a verified copy (openShared, snapshot.ts). Several connections of
 * one process (worker threads) are serialised by SQLite's locks and a long busy timeout.
 */
export type { EvalDump, JobDump, JobStatus } from "./schema.js";
export { SCHEMA_VERSION } from "./schema.js";
export type { FailedJob, StatusCounts, Versions } from "./jobs.js";
export type { RunLock } from "./lock.js";
export { processAlive } from "./lock.js";
export type { ExportRow } from "./export.js";
export type { JournalMode } from "./snapshot.js";

const BUSY_TIMEOUT_MS = 120_000;

export class SweepStore {
  /** Prepared statements by SQL text, prepared once per connection. */
  private readonly statements = new Map<string, Database.Statement>();

  private onClose?: () => void;

  private constructor(
    readonly path: string,
    readonly db: Database.Database,
  ) {}

  /**
   * Opens (and with `create`, creates) a sweep database. Read-only opening never creates
   * or changes anything. A file that is not a mentia store is a MentiaError. Writable
   * opening sets the journal mode (default WAL: one host; "rollback" for shared file
   * systems); every connection to a file must ask for the same mode.
   */
  static open(path: string, opts: { create?: boolean; readonly?: boolean; journal?: JournalMode } = {}): SweepStore {
    return SweepStore.openAt(path, path, opts);
  }

  /** Opens the file `file`, naming it `path` in messages. */
  private static openAt(path: string, file: string, opts: { create?: boolean; readonly?: boolean; journal?: JournalMode }): SweepStore {
    const exists = existsSync(file);
    if (!exists && (opts.readonly || !opts.create)) throw new MentiaError(`${path}: no such sweep database`);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: !opts.create, timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new MentiaError(`${path}: cannot open the sweep database (${(err as Error).message})`);
    }
    const store = new SweepStore(path, db);
    const checkVersion = (): void => {
      const version = store.getMeta("schema_version");
      if (version === undefined) throw new MentiaError(`${path}: not a mentia sweep database (no schema version)`);
      if (Number(version) === 1)
        throw new MentiaError(
          `${path} was made before mentia's training-protocol change (early stopping, per-seed data draws, new random streams) and its numbers cannot be mixed with new ones: use a new --out directory (or delete this one to start over)`,
        );
      if (Number(version) !== SCHEMA_VERSION && !((Number(version) === 2 || Number(version) === 3) && oldOk)) throw new MentiaError(`${path}: sweep database schema ${version}, this mentia reads schema ${SCHEMA_VERSION}`);
    };
    let oldOk = true;
    try {
      // An existing database is checked before anything (journal mode, tables) is changed in it.
      if (exists && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()) checkVersion();

      if (!opts.readonly) {
        const wal = (opts.journal ?? "wal") === "wal";
        const mode = String(db.pragma(`journal_mode = ${wal ? "WAL" : "DELETE"}`, { simple: true })).toLowerCase();
        if (mode !== (wal ? "wal" : "delete")) throw new MentiaError(`${path}: cannot switch the database to ${wal ? "WAL" : "rollback-journal"} mode (it is ${mode}; is another process using it?)`);
        // WAL is durable at checkpoints with NORMAL; the rollback journal needs FULL to survive a power cut.
        db.pragma(wal ? "synchronous = NORMAL" : "synchronous = FULL");
        db.exec(SCHEMA);
        db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
      }
      oldOk = Boolean(opts.readonly);
      const stored = store.getMetaIfTable("schema_version");
      if (stored === "2" || stored === "3") {
        // Schema 2 (one eval mode per job) and 3 (no trajectories): migrated when writable, read
        // through views otherwise, and also while a run (of a mentia that writes that schema)
        // holds the file: it must not change under that run, and this connection then cannot
        // write results (its lock is refused).
        if (opts.readonly || locks.lockHolder(store)) {
          if (stored === "2") db.exec(READ_V2_AS_V3);
          db.exec(READ_V3_AS_V4);
          oldOk = true;
        } else db.transaction(() => db.exec(stored === "2" ? MIGRATE_2_TO_3 + "\n" + MIGRATE_3_TO_4 : MIGRATE_3_TO_4)).immediate();
      }
      checkVersion();
    } catch (err) {
      db.close();
      if (err instanceof MentiaError) throw err;
      const code = (err as { code?: string }).code;
      if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code === "SQLITE_ERROR") throw new MentiaError(`${path}: not a mentia sweep database (${(err as Error).message})`);
      throw err;
    }
    return store;
  }

  /**
   * Opens `path` for reading while a process elsewhere may be writing it (status, merge).
   * A rollback-journal file is read from a verified copy (snapshot.ts); a WAL file is read
   * in place, and refused when the run holding it is on another host (WAL is not safe
   * across hosts). The store reads as `path`; closing it removes the copy.
   */
  static openShared(path: string, opts: SnapshotOptions = {}): SweepStore {
    const header = readHeader(path);
    if (!header || header.mode === "wal") {
      const store = SweepStore.open(path, { readonly: true });
      const holder = store.lockHolder();
      if (holder && holder.host !== hostname()) {
        store.close();
        throw new MentiaError(
          `${path} is being written in WAL mode by a mentia run on host ${holder.host}, and WAL databases can only be read safely on the writer's host: run this command on ${holder.host}, or wait until that run has finished (runs of shards on a shared file system use the rollback journal unless --local)`,
        );
      }
      return store;
    }
    const snap = snapshotCopy(path, opts);
    try {
      if (snap.hotJournal) {
        // Opening the copy read-write rolls back the unfinished transaction (the copy only).
        const db = new Database(snap.path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
        try {
          db.prepare("SELECT count(*) FROM sqlite_master").get();
        } finally {
          db.close();
        }
      }
      const store = SweepStore.openAt(path, snap.path, { readonly: true });
      store.onClose = snap.remove;
      return store;
    } catch (err) {
      snap.remove();
      throw err;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
    this.onClose?.();
    this.onClose = undefined;
  }

  /** The prepared statement for `sql` (cached). */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** getMeta, or undefined when the file has no meta table (yet). */
  private getMetaIfTable(key: string): string | undefined {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() ? this.getMeta(key) : undefined;
  }

  getMeta(key: string): string | undefined {
    const row = this.stmt("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  storedConfig(): SweepConfig | undefined {
    const text = this.getMeta("config");
    return text === undefined ? undefined : (JSON.parse(text) as SweepConfig);
  }

  storedShard(): string | undefined {
    const s = this.getMeta("shard");
    return s ? s : undefined;
  }

  /** The dataset of the stored sweep (meta `dataset`; files written before datasets existed: mnist). */
  storedDataset(): string {
    return this.getMeta("dataset") ?? this.storedConfig()?.dataset ?? "mnist";
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
      throw new MentiaError(`${this.path} holds results computed on other dataset files (checksums ${canonicalJson(storedSums)}, now ${canonicalJson(opts.checksums)}); use another --out directory, or --force-new-config`);
    }
  }

  // Shorthands for jobs.ts, lock.ts and export.ts.
  initialise(config: SweepConfig, plan: PlannedJob[], opts: { shard?: Shard; checksums?: Record<string, string>; forceNewConfig?: boolean; mentiaVersion: string }): void {
    jobs.initialise(this, config, plan, opts);
  }
  lock(): RunLock | undefined {
    return locks.readLock(this);
  }
  lockHolder(): RunLock | undefined {
    return locks.lockHolder(this);
  }
  acquireLock(breakLock = false): string | undefined {
    return locks.acquireLock(this, breakLock);
  }
  releaseLock(): void {
    locks.releaseLock(this);
  }
  resetRunning(): number {
    return jobs.resetRunning(this);
  }
  todo(retryFailed = false): PlannedJob[] {
    return jobs.todo(this, retryFailed);
  }
  markRunning(key: JobKey, worker: string): void {
    jobs.markRunning(this, key, worker);
  }
  recordResult(key: JobKey, result: JobResult, info: { versions: Versions; wallSeconds: number }): void {
    jobs.recordResult(this, key, result, info);
  }
  recordFailure(key: JobKey, reason: string, info: { versions: Versions; wallSeconds: number; engine?: string }): boolean {
    return jobs.recordFailure(this, key, reason, info);
  }
  counts(): StatusCounts {
    return jobs.counts(this);
  }
  doneKeys(): Set<JobKey> {
    return jobs.doneKeys(this);
  }
  failures(): FailedJob[] {
    return jobs.failures(this);
  }
  workSummary(): { seconds: number; jobs: number; engines: string[] } {
    return jobs.workSummary(this);
  }
  dumpJobs(onlyInPlan = true): JobDump[] {
    return jobs.dumpJobs(this, onlyInPlan);
  }
  dumpEvals(key: JobKey): EvalDump[] {
    return jobs.dumpEvals(this, key);
  }
  exportRows(): ExportRow[] {
    return exportRows(this);
  }
  evalRecords(): EvalRecord[] {
    return evalRecords(this);
  }
  trajectoryRecords(): TrajectoryRecord[] {
    return trajectoryRecords(this);
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

/** The trajectory checkpoints (× p_eval) of the sweep in DIR; [] when it recorded none. */
export function readTrajectoryRecords(dir: string): TrajectoryRecord[] {
  const store = SweepStore.open(resultsPath(dir), { readonly: true });
  try {
    return store.trajectoryRecords();
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
