import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../src/sweep/config.js";
import { mergeShards } from "../src/sweep/merge.js";
import { planJobs } from "../src/sweep/plan.js";
import { storePath } from "../src/sweep/shard.js";
import { readEvalRecords, readExportRows, SweepStore, type ExportRow } from "../src/sweep/store.js";
import { runSweep } from "../src/sweep/sweep.js";

/**
 * Real sweeps of tiny jobs on real MNIST (width 16, N ≤ 300, 10 steps, 2 p_eval, 1 mask):
 * an uninterrupted 2-worker run is the reference; a run killed with SIGKILL mid-sweep and
 * resumed, a run stopped with SIGINT and resumed, and a sharded run merged must all end
 * with exactly the same results (seeds are fixed, so the numbers are identical).
 */
const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "mentia-sweep-"));
const RAW = { widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200, 300], seeds: [0], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 1 };
const CONFIG = parseConfig(RAW);
const CONFIG_FILE = join(ROOT, "tiny.yaml");
writeFileSync(CONFIG_FILE, `# tiny test sweep\n${Object.entries(RAW).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
const JOBS = planJobs(CONFIG).length;
after(() => rmSync(ROOT, { recursive: true, force: true }));

let reference: ExportRow[] = [];

/** What must be identical between two runs of the same jobs (not timings, not engine order). */
function results(dir: string): unknown[] {
  return readExportRows(dir).map((r) => ({ jobKey: r.jobKey, pEval: r.pEval, loss: r.loss, lossStderr: r.lossStderr, accuracy: r.accuracy, maskLosses: r.maskLosses, maskAccuracies: r.maskAccuracies, steps: r.steps, finalTrainLoss: r.finalTrainLoss }));
}

/** Every job is either done with one evals row per p_eval, or unfinished with none. */
function assertNoHalfJobs(dbPath: string): { done: number; running: number } {
  const s = SweepStore.open(dbPath, { readonly: true });
  try {
    let done = 0;
    let running = 0;
    for (const j of s.dumpJobs()) {
      const evals = s.dumpEvals(j.key).length;
      if (j.status === "done") {
        done++;
        assert.equal(evals, CONFIG.pEval.length, `done job ${j.key} has ${evals} evals`);
      } else assert.equal(evals, 0, `unfinished job ${j.key} (${j.status}) has evals`);
      if (j.status === "running") running++;
    }
    const total = (s.db.prepare("SELECT count(*) AS c FROM evals").get() as { c: number }).c;
    assert.equal(total, done * CONFIG.pEval.length, "no stray evals rows");
    return { done, running };
  } finally {
    s.close();
  }
}

function doneCount(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  try {
    const s = SweepStore.open(dbPath, { readonly: true });
    try {
      return s.counts().done;
    } finally {
      s.close();
    }
  } catch {
    return 0; // not initialised yet
  }
}

function startCli(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ? null : code)));
  return { child, output: () => out, exit };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("run: an uninterrupted 2-worker sweep finishes every job, both workers writing, no row lost", async () => {
  const dir = join(ROOT, "reference");
  let log = "";
  const summary = await runSweep(CONFIG, dir, { workers: 2, progress: { write: (t: string) => (log += t), isTTY: false } });
  assert.equal(summary.interrupted, false);
  assert.equal(summary.done, JOBS);
  assert.equal(summary.failed, 0);
  assert.equal(summary.remaining, 0);
  assert.match(log, new RegExp(`${JOBS}/${JOBS} done`));
  assert.match(log, /jobs\/s/);
  const { done } = assertNoHalfJobs(storePath(dir));
  assert.equal(done, JOBS);
  const s = SweepStore.open(storePath(dir), { readonly: true });
  const writers = new Set(s.dumpJobs().map((j) => j.worker));
  assert.equal(s.lock(), undefined, "lock released");
  s.close();
  assert.deepEqual([...writers].sort(), ["worker 0", "worker 1"]);
  reference = readExportRows(dir);
  assert.equal(reference.length, JOBS * CONFIG.pEval.length);
  for (const r of reference) assert.ok(Number.isFinite(r.loss) && r.loss > 0 && r.accuracy > 0.05, `sane numbers: ${JSON.stringify(r)}`);
  // Running it again does nothing: every job is done.
  const again = await runSweep(CONFIG, dir, { workers: 2, progress: null });
  assert.equal(again.done, 0);
  assert.equal(again.alreadyDone, JOBS);
});

test("run: killed with SIGKILL mid-sweep, then stopped with Ctrl-C, then resumed: same results as uninterrupted", async (t) => {
  assert.ok(reference.length > 0, "needs the reference run");
  const dir = join(ROOT, "killed");
  const db = storePath(dir);
  const first = startCli(["run", CONFIG_FILE, "--out", dir, "--workers", "2"]);
  await waitFor(() => doneCount(db) >= 1, "the first finished job");
  first.child.kill("SIGKILL");
  assert.equal(await first.exit, null, "killed by the signal");
  const afterKill = assertNoHalfJobs(db);
  assert.ok(afterKill.done >= 1 && afterKill.done < JOBS, `killed mid-sweep (${afterKill.done}/${JOBS} done)\n${first.output()}`);

  // Resume, and interrupt it cleanly (SIGINT, as Ctrl-C) after one more job.
  const second = startCli(["run", CONFIG_FILE, "--out", dir, "--workers", "2"]);
  await waitFor(() => doneCount(db) > afterKill.done || second.child.exitCode !== null, "a job of the resumed run");
  second.child.kill("SIGINT");
  const code = await second.exit;
  const afterStop = assertNoHalfJobs(db);
  if (afterStop.done < JOBS) {
    assert.equal(code, 130, second.output());
    assert.match(second.output(), /interrupted.*resume with the same command/s);
  } else assert.equal(code, 0, second.output());
  assert.equal(afterStop.running, 0, "a clean stop leaves no job marked running");
  t.diagnostic(`after SIGKILL: ${afterKill.done}/${JOBS} done, ${afterKill.running} left running; after Ctrl-C: ${afterStop.done}/${JOBS} done, exit ${code}`);
  const s = SweepStore.open(db, { readonly: true });
  assert.equal(s.lockHolder(), undefined, "lock released on Ctrl-C");
  s.close();

  const third = cli(["run", CONFIG_FILE, "--out", dir, "--workers", "2"]);
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, new RegExp(`finished: ${JOBS}/${JOBS} jobs done`));
  const final = assertNoHalfJobs(db);
  assert.equal(final.done, JOBS);
  assert.deepEqual(results(dir), results(join(ROOT, "reference")));
  const fin = SweepStore.open(db, { readonly: true });
  const attempts = fin.dumpJobs().map((j) => j.attempts);
  fin.close();
  assert.ok(attempts.some((a) => a > 1), "the jobs running at the kill were redone");
});

test("run: shards 0/2 and 1/2 merged equal the unsharded run; status and export read them", async () => {
  const dir = join(ROOT, "sharded");
  const a = await runSweep(CONFIG, dir, { workers: 1, shard: { index: 0, count: 2 }, progress: null });
  const b = await runSweep(CONFIG, dir, { workers: 1, shard: { index: 1, count: 2 }, progress: null });
  assert.equal(a.planned + b.planned, JOBS);
  assert.ok(existsSync(join(dir, "shard-0.sqlite")) && existsSync(join(dir, "shard-1.sqlite")));
  assert.ok(!existsSync(join(dir, "results.sqlite")));
  const st = cli(["status", dir]);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /shard 0\/2: \d+\/\d+ done/);
  assert.match(st.stdout, new RegExp(`${JOBS} finished jobs in shard files are not in results.sqlite yet`));
  const m = cli(["merge", dir]);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, new RegExp(`${JOBS}/${JOBS} jobs done \\(${JOBS} new\\)`));
  assert.deepEqual(results(dir), results(join(ROOT, "reference")));
  assert.deepEqual(readEvalRecords(dir), readEvalRecords(join(ROOT, "reference")));
  assert.equal(mergeShards(dir).newlyDone, 0, "merging again adds nothing");

  const out = join(ROOT, "sharded.csv");
  const ex = cli(["export", dir, "--format", "csv", "--output", out]);
  assert.equal(ex.status, 0, ex.stderr);
  const lines = readFileSync(out, "utf8").trimEnd().split("\n");
  assert.equal(lines.length, 1 + JOBS * CONFIG.pEval.length);
  assert.ok(lines[0].startsWith("jobKey,width,depth,pTrain,n,seed,pEval,loss,lossStderr,accuracy"));
  const js = cli(["export", dir, "--format", "json"]);
  assert.equal(JSON.parse(js.stdout).length, JOBS * CONFIG.pEval.length);
});

test("run: a diverging job is recorded as failed with its reason and the sweep goes on", async () => {
  const dir = join(ROOT, "diverged");
  const config = parseConfig({ ...RAW, pTrain: [0], sizes: [100, 200], optimizer: "sgd", lr: 1e30 });
  const s = await runSweep(config, dir, { workers: 2, progress: null });
  assert.equal(s.failed, 2, "both jobs ran and failed");
  assert.equal(s.done, 0);
  const st = cli(["status", dir]);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /0\/2 done, 2 failed/);
  assert.match(st.stdout, /training diverged at epoch 1: train loss NaN/);
  // A resume skips failed jobs unless asked to retry them.
  const again = await runSweep(config, dir, { workers: 2, progress: null });
  assert.equal(again.failed + again.done, 0);
  const retry = await runSweep(config, dir, { workers: 1, progress: null, retryFailed: true });
  assert.equal(retry.failed, 2);
});

test("run: bad configs and a changed config are refused with exit 2, nothing started", () => {
  const dir = join(ROOT, "refused");
  const bad = join(ROOT, "bad.yaml");
  writeFileSync(bad, "widths: [16]\ndepths: [1]\npTrain: [1.2]\npEval: []\nsizes: [100]\n");
  const r = cli(["run", bad, "--out", dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), `mentia: ${bad}: 2 problems: pTrain[0]: must be a number in [0, 1), got 1.2; pEval: must not be empty (a grid needs at least one value)`);
  assert.ok(!existsSync(dir), "nothing created");

  const refDir = join(ROOT, "reference");
  const before = results(refDir);
  const changed = join(ROOT, "changed.yaml");
  writeFileSync(changed, readFileSync(CONFIG_FILE, "utf8").replace("masks: 1", "masks: 2"));
  const c = cli(["run", changed, "--out", refDir]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /holds a sweep with a different config \(masks: 1 → 2\).*--force-new-config/);
  assert.deepEqual(results(refDir), before);
  const sh = cli(["run", CONFIG_FILE, "--out", refDir, "--shard", "2/2"]);
  assert.equal(sh.status, 2);
  assert.match(sh.stderr, /shard index must be in \[0, 1\]/);

  // A sweep made before the training-protocol change (schema 1) is refused, and left as it was.
  const oldDir = join(ROOT, "old-protocol");
  mkdirSync(oldDir);
  const oldDb = new Database(join(oldDir, "results.sqlite"));
  oldDb.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '1');");
  oldDb.close();
  const bytes = readFileSync(join(oldDir, "results.sqlite"));
  const o = cli(["run", CONFIG_FILE, "--out", oldDir]);
  assert.equal(o.status, 2);
  assert.match(o.stderr.trim(), /^mentia: .*results\.sqlite was made before mentia's training-protocol change .* use a new --out directory/);
  assert.equal(o.stderr.trim().split("\n").length, 1);
  assert.deepEqual(readFileSync(join(oldDir, "results.sqlite")), bytes, "the old sweep is untouched");
});

test("run --dry-run: job count and a measured time estimate, nothing written", () => {
  const dir = join(ROOT, "dry");
  const r = cli(["run", CONFIG_FILE, "--out", dir, "--dry-run", "--workers", "2"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`plan: ${JOBS} jobs`));
  assert.match(r.stdout, new RegExp(`0 done already, ${JOBS} to run`));
  assert.match(r.stdout, /estimated time: \S+ with 2 workers/);
  assert.ok(!existsSync(dir));
  const done = cli(["run", CONFIG_FILE, "--out", join(ROOT, "reference"), "--dry-run"]);
  assert.match(done.stdout, new RegExp(`${JOBS} done already, 0 to run`));
});

test("init: writes the example config, which runs as a dry run; refuses to overwrite", () => {
  const file = join(ROOT, "init.yaml");
  const r = cli(["init", file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(file, "utf8"), readFileSync(fileURLToPath(new URL("../../configs/example.yaml", import.meta.url)), "utf8"));
  const dry = cli(["run", file, "--out", join(ROOT, "example"), "--dry-run"]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /plan: 96 jobs \(1 width × 1 depth × 6 pTrain × 8 sizes × 2 seeds\) on mnist, each evaluated at 10 pEval/);
  assert.match(dry.stdout, /estimated time: /);
  const again = cli(["init", file]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists; choose another name or add --force/);
});

test("run: stopping (Ctrl-C) abandons long running jobs at their next epoch: quick, clean, nothing recorded for them", async (t) => {
  const dir = join(ROOT, "stopped");
  // Two long jobs (100k steps of 2-step epochs); stopped as soon as they run.
  const config = parseConfig({ ...RAW, pTrain: [0], sizes: [100, 128], steps: 100_000 });
  const controller = new AbortController();
  const db = storePath(dir);
  const running = (): boolean => {
    if (!existsSync(db)) return false;
    const s = SweepStore.open(db, { readonly: true });
    try {
      return s.counts().running === 2;
    } finally {
      s.close();
    }
  };
  const sweep = runSweep(config, dir, { workers: 2, progress: null, signal: controller.signal });
  await waitFor(running, "both jobs running");
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  controller.abort();
  const s = await sweep;
  const stopSeconds = (performance.now() - t0) / 1000;
  t.diagnostic(`stopped ${stopSeconds.toFixed(2)} s after the signal`);
  assert.ok(stopSeconds < 5, `stopped in ${stopSeconds.toFixed(2)} s`);
  assert.equal(s.interrupted, true);
  assert.deepEqual([s.done, s.failed, s.remaining], [0, 0, 2]);
  const st = assertNoHalfJobs(db);
  assert.deepEqual([st.done, st.running], [0, 0]);
  const store = SweepStore.open(db, { readonly: true });
  assert.equal(store.todo().length, 2, "both back to pending");
  assert.equal(store.lock(), undefined);
  store.close();
});
