import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import { finishSubmitArgs, parseSbatchId, shellQuote, slurmScripts, type SlurmOptions, type SlurmPaths } from "../src/sweep/slurm.js";

const PATHS: SlurmPaths = { node: "/opt/node/bin/node", mentia: "/home/r/mentia/bin/mentia.js", config: "/scratch/r/sweep/slurm/config.yaml", outDir: "/scratch/r/sweep" };
const OPTS: SlurmOptions = { tasks: 4, cpusPerTask: 1 };

function sbatchLines(script: string): string[] {
  return script.split("\n").filter((l) => l.startsWith("#SBATCH "));
}

/** Runs a script with bash, `node` replaced by /bin/echo, so it prints the mentia commands it would run. */
function runWithEcho(script: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "mentia-slurm-script-"));
  try {
    const file = join(dir, "job.sh");
    writeFileSync(file, script);
    const r = spawnSync("bash", [file], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("array script: one task per shard, absolute paths, one worker per CPU, logs under DIR/slurm/logs", () => {
  const { array } = slurmScripts(PATHS, OPTS);
  assert.ok(array.startsWith("#!/bin/bash\n"));
  assert.deepEqual(sbatchLines(array), [
    "#SBATCH --job-name=mentia-sweep-array",
    "#SBATCH --array=0-3",
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    "#SBATCH --output=/scratch/r/sweep/slurm/logs/array-%A_%a.out",
  ]);
  assert.match(array, /\nexec \/opt\/node\/bin\/node \/home\/r\/mentia\/bin\/mentia\.js run \/scratch\/r\/sweep\/slurm\/config\.yaml --out \/scratch\/r\/sweep --shard "\$shard\/4" --workers 1 --break-lock\n/);
  // #SBATCH directives are only read before the first command.
  const firstCommand = array.split("\n").findIndex((l) => l !== "" && !l.startsWith("#"));
  const lastDirective = array.split("\n").map((l) => l.startsWith("#SBATCH")).lastIndexOf(true);
  assert.ok(lastDirective < firstCommand);
});

test("resources: partition, time and memory appear only when given; c CPUs per task run c workers", () => {
  const plain = sbatchLines(slurmScripts(PATHS, OPTS).array).join("\n");
  assert.doesNotMatch(plain, /--partition|--time|--mem/);
  const { array, finish } = slurmScripts(PATHS, { tasks: 10, cpusPerTask: 8, partition: "cpu,long", time: "1-12:00:00", mem: "16G" });
  const lines = sbatchLines(array);
  for (const l of ["#SBATCH --array=0-9", "#SBATCH --cpus-per-task=8", "#SBATCH --partition=cpu,long", "#SBATCH --time=1-12:00:00", "#SBATCH --mem=16G"]) assert.ok(lines.includes(l), l);
  assert.match(array, /--shard "\$shard\/10" --workers 8 --break-lock\n/);
  // The finish job needs one CPU but the same partition and limits.
  const f = sbatchLines(finish);
  for (const l of ["#SBATCH --cpus-per-task=1", "#SBATCH --partition=cpu,long", "#SBATCH --time=1-12:00:00", "#SBATCH --mem=16G"]) assert.ok(f.includes(l), l);
  assert.ok(!f.some((l) => l.startsWith("#SBATCH --array")));
});

test("array script as a task runs exactly `mentia run CONFIG --out DIR --shard i/n`, quoting odd paths", () => {
  const paths: SlurmPaths = { node: "/bin/echo", mentia: "/home/o'brien/my mentia/bin/mentia.js", config: "/scratch/sweep/slurm/config.yaml", outDir: "/scratch/sweep" };
  const { array } = slurmScripts(paths, { tasks: 4, cpusPerTask: 2 });
  const r = runWithEcho(array, { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_JOB_ID: "77" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /^mentia: shard 2\/4 on .* \(job 77_2\)/);
  assert.equal(lines[1], "/home/o'brien/my mentia/bin/mentia.js run /scratch/sweep/slurm/config.yaml --out /scratch/sweep --shard 2/4 --workers 2 --break-lock");
});

test("array script outside SLURM (no SLURM_ARRAY_TASK_ID) stops with a message instead of running", () => {
  const { array } = slurmScripts({ ...PATHS, node: "/bin/echo" }, OPTS);
  const r = runWithEcho(array, {});
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /job array: submit it with sbatch/);
  assert.doesNotMatch(r.stdout, / run /);
});

test("finish script: merge, then analyze, then report, stopping at the first failure", () => {
  const { finish } = slurmScripts({ ...PATHS, node: "/bin/echo" }, OPTS);
  assert.deepEqual(sbatchLines(finish), [
    "#SBATCH --job-name=mentia-sweep-finish",
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    "#SBATCH --output=/scratch/r/sweep/slurm/logs/finish-%j.out",
  ]);
  const r = runWithEcho(finish, {});
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n").slice(1), [
    "/home/r/mentia/bin/mentia.js merge /scratch/r/sweep",
    "/home/r/mentia/bin/mentia.js analyze /scratch/r/sweep",
    "/home/r/mentia/bin/mentia.js report /scratch/r/sweep",
  ]);
  const failing = runWithEcho(slurmScripts({ ...PATHS, node: "/bin/false" }, OPTS).finish, {});
  assert.notEqual(failing.status, 0);
});

test("generated scripts are valid bash", () => {
  const { array, finish } = slurmScripts(PATHS, { tasks: 3, cpusPerTask: 2, partition: "p", time: "10:00", mem: "500M" });
  for (const s of [array, finish]) {
    const r = spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }
});

test("one task: --array=0-0", () => {
  assert.ok(sbatchLines(slurmScripts(PATHS, { tasks: 1, cpusPerTask: 1 }).array).includes("#SBATCH --array=0-0"));
});

test("bad options are MentiaErrors naming the option", () => {
  const bad: [Partial<SlurmOptions>, RegExp][] = [
    [{ tasks: 0 }, /--tasks must be an integer ≥ 1, got 0/],
    [{ tasks: 2.5 }, /--tasks/],
    [{ cpusPerTask: 0 }, /--cpus-per-task must be an integer ≥ 1/],
    [{ time: "4h" }, /--time must be a SLURM time limit .* got '4h'/],
    [{ time: "12:00:00:00" }, /--time/],
    [{ mem: "lots" }, /--mem must be a size such as 4G/],
    [{ partition: "cpu long" }, /--partition must be a partition name/],
    [{ partition: "a;rm -rf" }, /--partition/],
  ];
  for (const [o, re] of bad) assert.throws(() => slurmScripts(PATHS, { ...OPTS, ...o }), (e: unknown) => e instanceof MentiaError && re.test(e.message), JSON.stringify(o));
  for (const time of ["30", "30:00", "04:00:00", "2-00", "2-12:30", "1-12:00:00"]) assert.doesNotThrow(() => slurmScripts(PATHS, { ...OPTS, time }), time);
  for (const mem of ["4G", "2000M", "512", "1t"]) assert.doesNotThrow(() => slurmScripts(PATHS, { ...OPTS, mem }), mem);
});

test("a sweep directory that #SBATCH lines cannot hold is refused", () => {
  for (const outDir of ["/scratch/my sweep", "/scratch/100%", '/scratch/"q"']) {
    assert.throws(() => slurmScripts({ ...PATHS, outDir }, OPTS), (e: unknown) => e instanceof MentiaError && /choose a directory path without them/.test(e.message), outDir);
  }
});

test("sbatch ids and the finish submission", () => {
  assert.equal(parseSbatchId("1234\n"), "1234");
  assert.equal(parseSbatchId("1234;cluster-a\n"), "1234");
  assert.throws(() => parseSbatchId("sbatch: error: Batch job submission failed"), MentiaError);
  assert.deepEqual(finishSubmitArgs("42", "/d/slurm/finish.sbatch"), ["--parsable", "--dependency=afterok:42", "--kill-on-invalid-dep=yes", "/d/slurm/finish.sbatch"]);
  assert.equal(shellQuote("/a/b-c_d.e"), "/a/b-c_d.e");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});
