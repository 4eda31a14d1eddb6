import { join } from "node:path";
import { MentiaError } from "../errors.js";

/**
 * A sweep as a SLURM job array: the text of the two batch scripts that `mentia slurm` writes
 * to DIR/slurm/. Pure — no files, no processes; src/cli/slurm.ts writes and submits them.
 *
 *   array.sbatch   `#SBATCH --array=0-(n-1)`; task i runs `mentia run CONFIG --out DIR --shard i/n`
 *                  (c workers with --cpus-per-task c), writing DIR/shard-i.sqlite. Resubmitting it
 *                  after failures or time-outs redoes only unfinished jobs: each shard resumes.
 *   finish.sbatch  `mentia merge DIR`, then `mentia analyze DIR`, then `mentia report DIR`;
 *                  submitted with --dependency=afterok:<array id>, so it runs once every task
 *                  has succeeded.
 *
 * Every path inside the scripts is absolute (node, bin/mentia.js, the config copied into
 * DIR/slurm/, DIR itself), so a job runs the same from whatever directory SLURM starts it in.
 */

export interface SlurmOptions {
  /** Number of array tasks n = number of shards. */
  tasks: number;
  /** CPUs per task; the task runs this many workers (the engine is single-threaded per job). */
  cpusPerTask: number;
  /** SLURM partition (omitted: the cluster's default). */
  partition?: string;
  /** Time limit per task, in a SLURM time format (e.g. 04:00:00, 1-00:00:00). */
  time?: string;
  /** Memory per task, a SLURM size (e.g. 4G, 2000M). */
  mem?: string;
}

export interface SlurmPaths {
  /** Absolute path of the node executable. */
  node: string;
  /** Absolute path of bin/mentia.js. */
  mentia: string;
  /** Absolute path of the config the jobs read (the copy in DIR/slurm/). */
  config: string;
  /** Absolute path of the sweep directory DIR. */
  outDir: string;
}

export interface SlurmScripts {
  array: string;
  finish: string;
}

export const SLURM_SUBDIR = "slurm";
export const ARRAY_SCRIPT = "array.sbatch";
export const FINISH_SCRIPT = "finish.sbatch";
/** Submissions made by `mentia slurm --submit` (job ids), one JSON object per line. */
export const SUBMISSIONS_FILE = "submissions.jsonl";

export function slurmDir(outDir: string): string {
  return join(outDir, SLURM_SUBDIR);
}

export function slurmLogDir(outDir: string): string {
  return join(outDir, SLURM_SUBDIR, "logs");
}

/** SLURM time limits: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const TIME_RE = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$/;
const MEM_RE = /^\d+[KMGT]?$/i;
const PARTITION_RE = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;
/** #SBATCH lines are not shell: a path there must not need quoting, and % starts a filename pattern. */
const SBATCH_PATH_RE = /^[^\s'"\\%]+$/;

/** Checks the options a user gave; throws MentiaError naming the first bad one. */
export function validateSlurmOptions(o: SlurmOptions): void {
  if (!Number.isInteger(o.tasks) || o.tasks < 1) throw new MentiaError(`slurm: --tasks must be an integer ≥ 1, got ${o.tasks}`);
  if (!Number.isInteger(o.cpusPerTask) || o.cpusPerTask < 1) throw new MentiaError(`slurm: --cpus-per-task must be an integer ≥ 1, got ${o.cpusPerTask}`);
  if (o.partition !== undefined && !PARTITION_RE.test(o.partition))
    throw new MentiaError(`slurm: --partition must be a partition name (letters, digits, _ . -; several separated by commas), got '${o.partition}'`);
  if (o.time !== undefined && !TIME_RE.test(o.time))
    throw new MentiaError(`slurm: --time must be a SLURM time limit such as 04:00:00, 30:00 or 1-12:00:00, got '${o.time}'`);
  if (o.mem !== undefined && !MEM_RE.test(o.mem)) throw new MentiaError(`slurm: --mem must be a size such as 4G or 2000M, got '${o.mem}'`);
}

/** Checks that the paths are absolute and that DIR can appear in #SBATCH lines. */
export function validateSlurmPaths(p: SlurmPaths): void {
  for (const [what, path] of Object.entries(p)) {
    if (!path.startsWith("/")) throw new Error(`slurm: ${what} path must be absolute, got '${path}'`);
    if (/[\n\r\0]/.test(path)) throw new MentiaError(`slurm: the ${what} path contains a line break`);
  }
  if (!SBATCH_PATH_RE.test(p.outDir))
    throw new MentiaError(`slurm: --out '${p.outDir}' contains a space, a quote, a backslash or %; #SBATCH lines cannot hold it — choose a directory path without them`);
}

/** POSIX shell single quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:=+@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A short job name from the sweep directory's name. */
export function slurmJobName(outDir: string, suffix: string): string {
  const base = outDir.replace(/\/+$/, "").split("/").pop() || "sweep";
  return `mentia-${base.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}-${suffix}`;
}

function resourceLines(o: SlurmOptions, cpus: number): string[] {
  const lines = ["#SBATCH --nodes=1", "#SBATCH --ntasks=1", `#SBATCH --cpus-per-task=${cpus}`];
  if (o.partition !== undefined) lines.push(`#SBATCH --partition=${o.partition}`);
  if (o.time !== undefined) lines.push(`#SBATCH --time=${o.time}`);
  if (o.mem !== undefined) lines.push(`#SBATCH --mem=${o.mem}`);
  return lines;
}

/** The text of DIR/slurm/array.sbatch and DIR/slurm/finish.sbatch. */
export function slurmScripts(paths: SlurmPaths, o: SlurmOptions): SlurmScripts {
  validateSlurmOptions(o);
  validateSlurmPaths(paths);
  const logs = slurmLogDir(paths.outDir);
  const mentia = `${shellQuote(paths.node)} ${shellQuote(paths.mentia)}`;
  const dir = shellQuote(paths.outDir);
  const n = o.tasks;

  const array = [
    "#!/bin/bash",
    `# A mentia sweep as a SLURM job array of ${n} task${n === 1 ? "" : "s"}, written by \`mentia slurm\`.`,
    `# Task i runs shard i/${n} of the sweep and writes ${paths.outDir}/shard-i.sqlite.`,
    "# Resubmitting (same `mentia slurm ... --submit`, or `sbatch` on this file) redoes only",
    "# unfinished jobs: each shard skips the jobs it has already stored.",
    `#SBATCH --job-name=${slurmJobName(paths.outDir, "array")}`,
    `#SBATCH --array=0-${n - 1}`,
    ...resourceLines(o, o.cpusPerTask),
    `#SBATCH --output=${logs}/array-%A_%a.out`,
    "set -euo pipefail",
    'shard="${SLURM_ARRAY_TASK_ID:?this script is a job array: submit it with sbatch}"',
    `echo "mentia: shard $shard/${n} on $(hostname) (job \${SLURM_ARRAY_JOB_ID:-?}_$shard), started $(date -Is)"`,
    "# --break-lock: SLURM runs one task per shard at a time and `mentia slurm --submit` refuses to",
    "# submit while an earlier submission of this sweep is queued or running, so a lock found here was",
    "# left by a task killed on another node (time limit, node failure): take it over and resume.",
    `exec ${mentia} run ${shellQuote(paths.config)} --out ${dir} --shard "$shard/${n}" --workers ${o.cpusPerTask} --break-lock`,
    "",
  ].join("\n");

  const finish = [
    "#!/bin/bash",
    "# Gathers a mentia sweep run as a SLURM job array, written by `mentia slurm`: merges the",
    `# shards into ${paths.outDir}/results.sqlite, then analyses and reports. Submitted with`,
    "# --dependency=afterok:<array job id>, so it starts once every array task has succeeded.",
    `#SBATCH --job-name=${slurmJobName(paths.outDir, "finish")}`,
    ...resourceLines(o, 1),
    `#SBATCH --output=${logs}/finish-%j.out`,
    "set -euo pipefail",
    `mentia() { ${mentia} "$@"; }`,
    `echo "mentia: finishing" ${dir} "on $(hostname), started $(date -Is)"`,
    `mentia merge ${dir}`,
    `mentia analyze ${dir}`,
    `mentia report ${dir}`,
    "",
  ].join("\n");

  return { array, finish };
}

/** The sbatch arguments that submit the finish script after the array job `arrayId`. */
export function finishSubmitArgs(arrayId: string, finishScript: string): string[] {
  return ["--parsable", `--dependency=afterok:${arrayId}`, "--kill-on-invalid-dep=yes", finishScript];
}

/** The job id in `sbatch --parsable` output ("123" or "123;cluster"). */
export function parseSbatchId(stdout: string): string {
  const line = stdout.trim().split("\n").pop() ?? "";
  const id = line.split(";")[0].trim();
  if (!/^\d+$/.test(id)) throw new MentiaError(`slurm: could not read a job id from sbatch's output '${stdout.trim()}'`);
  return id;
}
