import { spawnSync } from "node:child_process";
import { accessSync, appendFileSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MentiaError } from "../errors.js";
import { configDifferences, loadConfig } from "../sweep/config.js";
import { jobCount } from "../sweep/plan.js";
import { SHARD_FILE_PATTERN } from "../sweep/shard.js";
import {
  ARRAY_SCRIPT,
  FINISH_SCRIPT,
  SUBMISSIONS_FILE,
  finishSubmitArgs,
  parseSbatchId,
  slurmDir,
  slurmLogDir,
  slurmScripts,
  type SlurmOptions,
} from "../sweep/slurm.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  out: { kind: "string", help: "sweep directory (shards, results, slurm/ scripts and logs)", metavar: "DIR" },
  tasks: { kind: "int", help: "number of array tasks n; task i runs shard i/n of the sweep", metavar: "N" },
  partition: { kind: "string", help: "SLURM partition (default: the cluster's default)", metavar: "P" },
  time: { kind: "string", help: "time limit per task, e.g. 04:00:00 or 1-00:00:00 (default: the partition's)", metavar: "HH:MM:SS" },
  "cpus-per-task": { kind: "int", default: 1, help: "CPUs per task; a task runs this many workers (one job per core)", metavar: "C" },
  mem: { kind: "string", help: "memory per task, e.g. 4G (default: the partition's)", metavar: "M" },
  submit: { kind: "boolean", help: "submit both scripts with sbatch (the finish job waits for the array with afterok)" },
};

const USAGE = "mentia slurm CONFIG --out DIR --tasks N [options]";
const DESCRIPTION = [
  "Turns a sweep config into a SLURM job array. Writes DIR/slurm/array.sbatch (task i of N runs",
  "`mentia run CONFIG --out DIR --shard i/N`) and DIR/slurm/finish.sbatch (merge, analyze, report),",
  "and copies CONFIG to DIR/slurm/. With --submit it submits both and prints the job ids.",
  "After failed or timed-out tasks, run the same command again: only unfinished jobs are redone.",
].join("\n");

/** The result of `slurmCommand`: what was written and, with --submit, the job ids. */
export interface SlurmResult {
  arrayScript: string;
  finishScript: string;
  config: string;
  arrayJobId?: string;
  finishJobId?: string;
}

/** Library form of `mentia slurm`: write the scripts for CONFIG in outDir and optionally submit them. */
export function slurmCommand(configPath: string, outDirArg: string, options: SlurmOptions, submit: boolean): SlurmResult {
  const outDir = resolve(outDirArg);
  const config = loadConfig(configPath);
  const jobs = jobCount(config);
  if (options.tasks > jobs) throw new MentiaError(`slurm: --tasks ${options.tasks} exceeds the ${jobs} job${jobs === 1 ? "" : "s"} of ${configPath}; use --tasks ${jobs} or fewer`);

  const dir = slurmDir(outDir);
  const configCopy = join(dir, extname(configPath).toLowerCase() === ".json" ? "config.json" : "config.yaml");
  const paths = { node: process.execPath, mentia: mentiaBin(), config: configCopy, outDir };
  const scripts = slurmScripts(paths, options); // validates options and paths

  // The directory may hold an earlier submission of this sweep: it must be the same study, split the same way.
  for (const name of ["config.json", "config.yaml"]) {
    const old = join(dir, name);
    if (!existsSync(old)) continue;
    const diffs = configDifferences(loadConfig(old), config);
    if (diffs.length > 0) throw new MentiaError(`slurm: ${outDir} holds a sweep with a different config (${diffs.join("; ")}); use another --out DIR`);
  }
  const oldTasks = previousTasks(join(dir, ARRAY_SCRIPT));
  const shards = existsSync(outDir) ? readdirSync(outDir).filter((f) => SHARD_FILE_PATTERN.test(f)) : [];
  if (oldTasks !== undefined && oldTasks !== options.tasks && shards.length > 0)
    throw new MentiaError(`slurm: ${outDir} was split into ${oldTasks} tasks and holds their shards; resubmit with --tasks ${oldTasks} (or use another --out DIR)`);

  if (submit) {
    if (!onPath("sbatch")) throw new MentiaError("slurm: --submit needs SLURM, but sbatch is not on PATH (run without --submit to only write the scripts, then submit them where SLURM is)");
    const active = activeSubmissions(join(dir, SUBMISSIONS_FILE));
    if (active.length > 0)
      throw new MentiaError(`slurm: jobs ${active.join(", ")} of this sweep are still queued or running (squeue -j ${active.join(",")}); wait for them or scancel them before resubmitting`);
  }

  mkdirSync(slurmLogDir(outDir), { recursive: true });
  if (resolve(configPath) !== configCopy) copyFileSync(configPath, configCopy);
  writeAtomic(join(dir, ARRAY_SCRIPT), scripts.array);
  writeAtomic(join(dir, FINISH_SCRIPT), scripts.finish);
  const result: SlurmResult = { arrayScript: join(dir, ARRAY_SCRIPT), finishScript: join(dir, FINISH_SCRIPT), config: configCopy };
  if (!submit) return result;

  result.arrayJobId = parseSbatchId(sbatch(["--parsable", result.arrayScript]));
  try {
    result.finishJobId = parseSbatchId(sbatch(finishSubmitArgs(result.arrayJobId, result.finishScript)));
  } catch (err) {
    if (err instanceof MentiaError)
      throw new MentiaError(`${err.message} — the array job ${result.arrayJobId} was submitted: scancel ${result.arrayJobId}, or submit the finish script by hand with --dependency=afterok:${result.arrayJobId}`);
    throw err;
  } finally {
    const record = { submittedAt: new Date().toISOString(), tasks: options.tasks, arrayJobId: result.arrayJobId, finishJobId: result.finishJobId ?? null };
    appendFileSync(join(dir, SUBMISSIONS_FILE), JSON.stringify(record) + "\n");
  }
  return result;
}

export const command: Command = {
  summary: "run a sweep as a SLURM job array (write the batch scripts, optionally submit)",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "slurm", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one CONFIG file" } });
    if (!args) return 0;
    const { flags: f, positional } = args;
    if (f.out === undefined) throw new MentiaError("slurm: --out DIR is required (the sweep directory)");
    if (f.tasks === undefined) throw new MentiaError("slurm: --tasks N is required (the number of array tasks)");
    const options: SlurmOptions = {
      tasks: f.tasks as number,
      cpusPerTask: f["cpus-per-task"] as number,
      partition: f.partition as string | undefined,
      time: f.time as string | undefined,
      mem: f.mem as string | undefined,
    };
    const submit = f.submit === true;
    const r = slurmCommand(positional[0], f.out as string, options, submit);
    const out = resolve(f.out as string);
    const cpus = options.cpusPerTask;
    console.log(`wrote ${r.arrayScript} (${options.tasks} task${options.tasks === 1 ? "" : "s"} × ${cpus} CPU${cpus === 1 ? "" : "s"})`);
    console.log(`wrote ${r.finishScript} (merge → analyze → report)`);
    if (!submit) {
      console.log("submit with:");
      console.log(`  id=$(sbatch --parsable ${r.arrayScript})`);
      console.log(`  sbatch ${finishSubmitArgs("$id", r.finishScript).slice(1).join(" ")}`);
      console.log(`or run this command again with --submit`);
      return 0;
    }
    console.log(`submitted array job ${r.arrayJobId} (tasks 0-${options.tasks - 1}) and finish job ${r.finishJobId} (starts when every task has succeeded)`);
    console.log(`  watch:     squeue -j ${r.arrayJobId},${r.finishJobId}`);
    console.log(`  progress:  mentia status ${out}`);
    console.log(`  logs:      ${slurmLogDir(out)}/`);
    console.log("  if tasks fail or run out of time, run this same command again: only unfinished jobs are redone");
    return 0;
  },
};

function mentiaBin(): string {
  // dist/src/cli/slurm.js → the repository's bin/mentia.js
  return fileURLToPath(new URL("../../../bin/mentia.js", import.meta.url));
}

function onPath(cmd: string): boolean {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function sbatch(args: string[]): string {
  const r = spawnSync("sbatch", args, { encoding: "utf8" });
  if (r.error) throw new MentiaError(`slurm: could not run sbatch (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout).trim().split("\n").filter(Boolean).pop() ?? `exit code ${r.status}`;
    throw new MentiaError(`slurm: sbatch refused ${args[args.length - 1]}: ${msg}`);
  }
  return r.stdout;
}

/** The n of `#SBATCH --array=0-(n-1)` in an earlier array script, if any. */
function previousTasks(arrayScript: string): number | undefined {
  if (!existsSync(arrayScript)) return undefined;
  const m = /^#SBATCH --array=0-(\d+)/m.exec(readFileSync(arrayScript, "utf8"));
  return m ? Number(m[1]) + 1 : undefined;
}

/** Job ids of earlier submissions of this sweep that squeue still lists (pending, running, completing). */
function activeSubmissions(file: string): string[] {
  if (!existsSync(file)) return [];
  const ours = new Set<string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as { arrayJobId?: string | null; finishJobId?: string | null };
      if (s.arrayJobId) ours.add(s.arrayJobId);
      if (s.finishJobId) ours.add(s.finishJobId);
    } catch {
      // a line cut short by a crash: ignore it
    }
  }
  if (ours.size === 0) return [];
  // %F is the array job id (the job id itself for jobs that are not arrays).
  const r = spawnSync("squeue", ["-h", "-o", "%F"], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new MentiaError(`slurm: could not check for queued jobs of this sweep with squeue (${r.error?.message ?? r.stderr.trim()})`);
  const queued = new Set(r.stdout.split("\n").map((l) => l.trim()).filter(Boolean));
  return [...ours].filter((id) => queued.has(id));
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o755 });
  renameSync(tmp, path);
}
