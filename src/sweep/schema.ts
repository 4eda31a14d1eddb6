/**
 * The sweep database's tables, as column lists: the DDL is made from them, and so is what
 * `merge` copies, so a column added here is created, stored and merged alike.
 *
 *   meta  (key, value)            config, dataset checksums, mentia version, shard, run lock
 *   jobs  (key, job JSON, grid columns, status pending|running|done|failed, timings,
 *          error, engine, versions, in_plan)
 *   evals (job_key, eval_mode, p_eval, loss, loss_stderr, accuracy, accuracy_stderr,
 *          mask_losses JSON, mask_accuracies JSON)
 */
export type JobStatus = "pending" | "running" | "done" | "failed";

/** 2: the training protocol of docs/protocol.md (policies, validation split, per-seed draws,
 *  non-overlapping random streams) and the jobs.training column. Schema-1 sweeps hold numbers
 *  made another way and are refused rather than mixed (store.ts).
 *  3: evals.eval_mode (a job may be evaluated in several modes); schema-2 files are migrated
 *  when opened for writing (each row gets its job's evalMode) and read as such read-only.
 *  4: jobs.trajectory (the test loss under removal along the training, JSON of a Trajectory,
 *  NULL for jobs without one); schema-2 and -3 files are migrated when opened for writing
 *  (every trajectory NULL) and read through a view read-only. */
export const SCHEMA_VERSION = 4;

/** Columns of `jobs`: name and SQL type/constraints, in table order. */
export const JOB_COLUMNS = [
  ["key", "TEXT PRIMARY KEY"],
  ["job", "TEXT NOT NULL"],
  ["width", "INTEGER NOT NULL"],
  ["depth", "INTEGER NOT NULL"],
  ["p_train", "REAL NOT NULL"],
  ["n", "INTEGER NOT NULL"],
  ["seed", "INTEGER NOT NULL"],
  ["cost", "REAL NOT NULL"],
  ["in_plan", "INTEGER NOT NULL DEFAULT 1"],
  ["status", "TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed'))"],
  ["attempts", "INTEGER NOT NULL DEFAULT 0"],
  ["worker", "TEXT"],
  ["started_at", "TEXT"],
  ["finished_at", "TEXT"],
  ["wall_seconds", "REAL"],
  ["train_seconds", "REAL"],
  ["eval_seconds", "REAL"],
  ["steps", "INTEGER"],
  ["final_train_loss", "REAL"],
  ["training", "TEXT"],
  ["error", "TEXT"],
  ["engine", "TEXT"],
  ["versions", "TEXT"],
  ["trajectory", "TEXT"],
] as const;

/** Columns of `evals`. */
export const EVAL_COLUMNS = [
  ["job_key", "TEXT NOT NULL REFERENCES jobs (key)"],
  ["eval_mode", "TEXT NOT NULL"],
  ["p_eval", "REAL NOT NULL"],
  ["loss", "REAL NOT NULL"],
  ["loss_stderr", "REAL NOT NULL"],
  ["accuracy", "REAL NOT NULL"],
  ["accuracy_stderr", "REAL NOT NULL"],
  ["mask_losses", "TEXT NOT NULL"],
  ["mask_accuracies", "TEXT NOT NULL"],
] as const;

export type JobColumn = (typeof JOB_COLUMNS)[number][0];
export type EvalColumn = (typeof EVAL_COLUMNS)[number][0];

/** A raw `jobs` row. */
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
  /** JSON of the job's TrainingRecord (src/train/job.ts). */
  training: string | null;
  error: string | null;
  engine: string | null;
  versions: string | null;
  /** JSON of the job's Trajectory (src/train/job.ts); null without one. */
  trajectory: string | null;
}

/** A raw `evals` row. */
export interface EvalDump {
  job_key: string;
  eval_mode: string;
  p_eval: number;
  loss: number;
  loss_stderr: number;
  accuracy: number;
  accuracy_stderr: number;
  mask_losses: string;
  mask_accuracies: string;
}

// Compile-time check that the row types and the column lists name the same columns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _jobColumnsMatch: Same<JobColumn, keyof JobDump> = true;
const _evalColumnsMatch: Same<EvalColumn, keyof EvalDump> = true;
void _jobColumnsMatch;
void _evalColumnsMatch;

function table(name: string, columns: ReadonlyArray<readonly [string, string]>, extra: string[] = []): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (\n  ${[...columns.map(([c, t]) => `${c} ${t}`), ...extra].join(",\n  ")}\n);`;
}

export const SCHEMA = [
  table("meta", [
    ["key", "TEXT PRIMARY KEY"],
    ["value", "TEXT NOT NULL"],
  ]),
  table("jobs", JOB_COLUMNS),
  "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (in_plan, status);",
  table("evals", EVAL_COLUMNS, ["PRIMARY KEY (job_key, eval_mode, p_eval)"]),
].join("\n");

/** A schema-2 job's one eval mode, from its job JSON (schema-2 jobs name a single mode). */
const MODE_OF_JOB = "(SELECT json_extract(j.job, '$.evalMode') FROM jobs j WHERE j.key = e.job_key)";

/**
 * Schema 2 → 3 in place (in the caller's transaction): evals rebuilt with eval_mode = the
 * job's evalMode. Every other table is unchanged.
 */
export const MIGRATE_2_TO_3 = [
  "ALTER TABLE evals RENAME TO evals_v2;",
  table("evals", EVAL_COLUMNS, ["PRIMARY KEY (job_key, eval_mode, p_eval)"]),
  `INSERT INTO evals (${EVAL_COLUMNS.map(([c]) => c).join(", ")})
   SELECT e.job_key, ${MODE_OF_JOB}, e.p_eval, e.loss, e.loss_stderr, e.accuracy, e.accuracy_stderr, e.mask_losses, e.mask_accuracies FROM evals_v2 e;`,
  "DROP TABLE evals_v2;",
  "UPDATE meta SET value = '3' WHERE key = 'schema_version';",
].join("\n");

/** Schema 3 → 4 in place (in the caller's transaction): jobs gains the trajectory column. */
export const MIGRATE_3_TO_4 = ["ALTER TABLE jobs ADD COLUMN trajectory TEXT;", "UPDATE meta SET value = '4' WHERE key = 'schema_version';"].join("\n");

/** A read-only schema-2 or -3 file is read as schema 4 through a temporary view of its jobs. */
export const READ_V3_AS_V4 = "CREATE TEMP VIEW jobs AS SELECT *, NULL AS trajectory FROM main.jobs;";

/** A read-only schema-2 file is read as schema 3 through a temporary view that shadows its evals. */
export const READ_V2_AS_V3 = `CREATE TEMP VIEW evals AS SELECT e.job_key AS job_key, ${MODE_OF_JOB} AS eval_mode, e.p_eval AS p_eval, e.loss AS loss, e.loss_stderr AS loss_stderr, e.accuracy AS accuracy, e.accuracy_stderr AS accuracy_stderr, e.mask_losses AS mask_losses, e.mask_accuracies AS mask_accuracies FROM main.evals e;`;

/** `INSERT INTO evals (...) VALUES (@job_key, ...)`: an EvalDump inserted as it is. */
export const INSERT_EVAL_SQL = `INSERT INTO evals (${EVAL_COLUMNS.map(([c]) => c).join(", ")}) VALUES (${EVAL_COLUMNS.map(([c]) => `@${c}`).join(", ")})`;

/**
 * A JobDump written as it is (in_plan set to 1): inserted, or replacing every column of an
 * existing row with that key. Used by merge.
 */
export const UPSERT_JOB_SQL = (() => {
  const names = JOB_COLUMNS.map(([c]) => c);
  const values = names.map((c) => (c === "in_plan" ? "1" : `@${c}`));
  const updates = names.filter((c) => c !== "key").map((c) => (c === "in_plan" ? "in_plan = 1" : `${c} = excluded.${c}`));
  return `INSERT INTO jobs (${names.join(", ")}) VALUES (${values.join(", ")}) ON CONFLICT (key) DO UPDATE SET ${updates.join(", ")}`;
})();
