import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import type { JobResult, TrainJob } from "../src/train/job.js";
import { parseConfig, type SweepConfig } from "../src/sweep/config.js";
import { toCsv, toJson } from "../src/sweep/export.js";
import { mergeShards } from "../src/sweep/merge.js";
import { planJobs, type PlannedJob } from "../src/sweep/plan.js";
import { shardJobs, storePath } from "../src/sweep/shard.js";
import { sweepStatus } from "../src/sweep/status.js";
import { readEvalRecords, readExportRows, SweepStore } from "../src/sweep/store.js";

/**
 * Store mechanics with made-up results (no training): transactions, refusal of another
 * config, the run lock, concurrent writers, merging. Real training runs are in
 * sweep-run.test.ts.
 */
const CONFIG: SweepConfig = parseConfig({ widths: [16, 32], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200, 400], seeds: [0, 1], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 2 });
const VERSIONS = { mentia: "test", node: process.version };

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mentia-store-"));
  dirs.push(d);
  return d;
}

/** A synthetic result whose numbers are a function of the job (so copies can be compared). */
function fakeResult(job: TrainJob): JobResult {
  const base = job.width / 100 + job.n / 1000 + job.seed / 10 + job.pTrain;
  return {
    job,
    engine: "fake",
    trainSeconds: 0.5,
    evalSeconds: 0.25,
    steps: 10,
    finalTrainLoss: base,
    training: { steps: 10, bestStep: 10, bestValLoss: null, validations: 0, stoppedBy: "budget" },
    evals: job.pEvals.map((pEval) => ({
      evalMode: "sample" as const,
      pEval,
      loss: base + pEval,
      lossStderr: 0.01,
      accuracy: 1 - pEval / 2,
      accuracyStderr: 0.001,
      maskLosses: [base + pEval - 0.01, base + pEval + 0.01],
      maskAccuracies: [0.5, 0.6],
    })),
  };
}

function newStore(path: string, config = CONFIG, jobs: PlannedJob[] = planJobs(config), shard?: { index: number; count: number }): SweepStore {
  const s = SweepStore.open(path, { create: true });
  s.initialise(config, jobs, { mentiaVersion: "test", shard });
  return s;
}

test("store: a job's result is one transaction (a failing write leaves nothing behind)", () => {
  const path = join(tmp(), "results.sqlite");
  const s = newStore(path);
  const [a, b] = planJobs(CONFIG);
  s.markRunning(a.key, "w0");
  s.recordResult(a.key, fakeResult(a.job), { versions: VERSIONS, wallSeconds: 1 });
  // NaN cannot be stored (NOT NULL): the transaction must roll back entirely.
  const bad = fakeResult(b.job);
  bad.evals[1].loss = NaN;
  s.markRunning(b.key, "w0");
  assert.throws(() => s.recordResult(b.key, bad, { versions: VERSIONS, wallSeconds: 1 }));
  assert.equal((s.db.prepare("SELECT count(*) AS c FROM evals WHERE job_key = ?").get(b.key) as { c: number }).c, 0);
  assert.equal((s.db.prepare("SELECT status FROM jobs WHERE key = ?").get(b.key) as { status: string }).status, "running");
  // A result for another job than the key is a bug, refused.
  assert.throws(() => s.recordResult(b.key, fakeResult(a.job), { versions: VERSIONS, wallSeconds: 1 }), /not/);
  s.recordFailure(b.key, "training diverged: final train loss NaN", { versions: VERSIONS, wallSeconds: 1 });
  const c = s.counts();
  assert.deepEqual([c.done, c.failed, c.pending, c.running, c.total], [1, 1, 22, 0, 24]);
  assert.equal(s.failures()[0].error, "training diverged: final train loss NaN");
  const recs = s.evalRecords();
  assert.equal(recs.length, 2);
  assert.deepEqual(recs.map((r) => r.pEval), [0, 0.5]);
  assert.deepEqual(recs[1].maskLosses, fakeResult(a.job).evals[1].maskLosses);
  // Running jobs left by a killed run go back to pending; done ones stay done.
  s.markRunning(planJobs(CONFIG)[2].key, "w1");
  assert.equal(s.resetRunning(), 1);
  assert.equal(s.todo().length, 22);
  assert.equal(s.todo(true).length, 23);
  s.close();
});

test("store: a different config is refused (naming what changed) unless forced; the plan is then replaced", () => {
  const dir = tmp();
  const path = join(dir, "results.sqlite");
  const s = newStore(path);
  const first = planJobs(CONFIG);
  s.recordResult(first[0].key, fakeResult(first[0].job), { versions: VERSIONS, wallSeconds: 1 });
  const changed = parseConfig({ ...CONFIG, lr: 0.01, seeds: [0] });
  assert.throws(
    () => s.initialise(changed, planJobs(changed), { mentiaVersion: "test" }),
    (e: unknown) => e instanceof MentiaError && e.message.includes("different config") && e.message.includes("lr: 0.001 → 0.01") && e.message.includes("--force-new-config"),
  );
  assert.equal(s.counts().total, 24, "nothing changed by the refusal");
  // Same config, other grid order: the same study, accepted.
  s.initialise(parseConfig({ ...CONFIG, widths: [32, 16] }), first, { mentiaVersion: "test" });
  // Forced: a config that keeps half the jobs (seed 0 only, same hyper-parameters).
  const fewer = parseConfig({ ...CONFIG, seeds: [0] });
  s.initialise(fewer, planJobs(fewer), { mentiaVersion: "test", forceNewConfig: true });
  const c = s.counts();
  assert.equal(c.total, 12);
  assert.equal(c.outOfPlan, 12);
  assert.equal(JSON.parse(s.getMeta("config_history")!).length, 1);
  const kept = first[0].job.seed === 0 ? 1 : 0;
  assert.equal(c.done, kept, "a finished job still in the plan stays finished");
  assert.equal(s.evalRecords().length, kept * 2);
  // A shard file is not an unsharded store.
  s.close();
  const shardPath = join(dir, "shard-0.sqlite");
  const sh = newStore(shardPath, CONFIG, shardJobs(planJobs(CONFIG), { index: 0, count: 2 }), { index: 0, count: 2 });
  assert.throws(() => sh.checkCompatible(CONFIG, { shard: { index: 0, count: 3 } }), /shard 0\/2, not shard 0\/3/);
  assert.throws(() => sh.checkCompatible(CONFIG, {}), /not an unsharded run/);
  sh.close();
});

test("store: the run lock refuses a live run, takes over a dead one", () => {
  const path = join(tmp(), "results.sqlite");
  const s = newStore(path);
  s.setMeta("lock", JSON.stringify({ host: hostname(), pid: process.ppid, since: "earlier" }));
  assert.throws(() => s.acquireLock(), (e: unknown) => e instanceof MentiaError && e.message.includes(`in use by another mentia run (pid ${process.ppid}`));
  const dead = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
  s.setMeta("lock", JSON.stringify({ host: hostname(), pid: dead, since: "earlier" }));
  s.acquireLock();
  assert.equal(s.lock()!.pid, process.pid);
  s.setMeta("lock", JSON.stringify({ host: "elsewhere.example", pid: 1, since: "earlier" }));
  assert.throws(() => s.acquireLock(), /--break-lock/);
  s.acquireLock(true);
  s.releaseLock();
  assert.equal(s.lock(), undefined);
  s.close();
});

test("store: two processes writing results at once lose no rows", async () => {
  const path = join(tmp(), "results.sqlite");
  const config = parseConfig({ ...CONFIG, seeds: Array.from({ length: 25 }, (_, i) => i) });
  const plan = planJobs(config);
  newStore(path, config, plan).close();
  const storeUrl = new URL("../src/sweep/store.js", import.meta.url).href;
  const script = `
    const { SweepStore } = await import(${JSON.stringify(storeUrl)});
    const [path, part, startAt] = process.argv.slice(1);
    const s = SweepStore.open(path);
    // Both processes start writing at the same moment, so their transactions interleave.
    while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
    // All jobs in key order (not just those still to do, which the other process changes).
    const jobs = s.dumpJobs().filter((_, i) => i % 2 === Number(part));
    for (const p of jobs) {
      const job = JSON.parse(p.job);
      s.markRunning(p.key, "p" + part);
      s.recordResult(p.key, { job, engine: "fake", trainSeconds: 0, evalSeconds: 0, steps: 1, finalTrainLoss: 1,
        evals: job.pEvals.map((pEval) => ({ evalMode: "sample", pEval, loss: job.n + pEval, lossStderr: 0, accuracy: 0.5, accuracyStderr: 0, maskLosses: [1, 2], maskAccuracies: [0.5, 0.5] })) },
        { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
      // Yield between jobs, as real workers do (a job takes seconds), so the scheduler
      // cannot run one writer to completion before the other starts.
      await new Promise((r) => setTimeout(r, 2));
    }
    s.close();`;
  const startAt = Date.now() + 1500;
  const run = (part: number): Promise<number> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, path, String(part), String(startAt)], { stdio: "inherit" });
      child.on("exit", (code) => resolve(code ?? 1));
    });
  assert.deepEqual(await Promise.all([run(0), run(1)]), [0, 0]);
  const s = SweepStore.open(path, { readonly: true });
  assert.equal(plan.length, 300);
  assert.equal(s.counts().done, plan.length);
  assert.equal(s.evalRecords().length, plan.length * 2);
  const workers = s.db.prepare("SELECT worker, count(*) AS c FROM jobs GROUP BY worker ORDER BY worker").all() as Array<{ worker: string; c: number }>;
  assert.deepEqual(workers, [{ worker: "p0", c: 150 }, { worker: "p1", c: 150 }]);
  // The writes really were concurrent: in commit order, the writer changes many times.
  const order = (s.db.prepare("SELECT worker FROM jobs ORDER BY finished_at, rowid").all() as Array<{ worker: string }>).map((r) => r.worker);
  const switches = order.filter((w, i) => i > 0 && w !== order[i - 1]).length;
  assert.ok(switches >= 10, `writers interleaved only ${switches} times`);
  s.close();
});

test("merge: shards combine into results.sqlite, idempotently, refusing another config", () => {
  const dir = tmp();
  const plan = planJobs(CONFIG);
  const shard = (i: number): SweepStore => newStore(storePath(dir, { index: i, count: 3 }), CONFIG, shardJobs(plan, { index: i, count: 3 }), { index: i, count: 3 });
  const shards = [shard(0), shard(1), shard(2)];
  for (const [i, s] of shards.entries()) {
    const jobs = s.todo();
    // Shard 2 finishes only part of its jobs, and one of them failed.
    const finish = i === 2 ? jobs.slice(0, 3) : jobs;
    for (const p of finish) s.recordResult(p.key, fakeResult(p.job), { versions: VERSIONS, wallSeconds: 1 });
    if (i === 2) s.recordFailure(jobs[3].key, "diverged", { versions: VERSIONS, wallSeconds: 1 });
    s.close();
  }
  assert.throws(() => readEvalRecords(dir), /run 'mentia merge/);
  const m1 = mergeShards(dir);
  assert.equal(m1.total, 24);
  assert.equal(m1.done, 8 + 8 + 3);
  assert.equal(m1.failed, 1);
  assert.equal(m1.newlyDone, 19);
  const once = readExportRows(dir);
  assert.equal(once.length, 19 * 2);
  const status = sweepStatus(dir);
  assert.equal(status.unmerged, 0);
  assert.equal(status.shards.length, 3);

  // Merging again changes nothing.
  const m2 = mergeShards(dir);
  assert.equal(m2.newlyDone, 0);
  assert.deepEqual(readExportRows(dir), once);

  // Shard 2 finishes; a new merge adds exactly its new jobs, and the failure is superseded.
  const s2 = SweepStore.open(storePath(dir, { index: 2, count: 3 }));
  for (const p of s2.todo(true)) s2.recordResult(p.key, fakeResult(p.job), { versions: VERSIONS, wallSeconds: 1 });
  s2.close();
  assert.equal(sweepStatus(dir).unmerged, 5);
  const m3 = mergeShards(dir);
  assert.equal(m3.newlyDone, 5);
  assert.equal(m3.done, 24);
  assert.equal(m3.failed, 0);

  // The merged records equal those of an unsharded store holding the same results.
  const whole = join(tmp(), "results.sqlite");
  const ws = newStore(whole);
  for (const p of plan) ws.recordResult(p.key, fakeResult(p.job), { versions: VERSIONS, wallSeconds: 1 });
  ws.close();
  assert.deepEqual(readEvalRecords(dir), readEvalRecords(whole));

  // A shard of another config is refused and nothing is written.
  const before = readExportRows(dir);
  const other = parseConfig({ ...CONFIG, masks: 3 });
  newStore(storePath(dir, { index: 3, count: 4 }), other, shardJobs(planJobs(other), { index: 3, count: 4 }), { index: 3, count: 4 }).close();
  assert.throws(() => mergeShards(dir), (e: unknown) => e instanceof MentiaError && e.message.includes("shard-3.sqlite holds a different config") && e.message.includes("masks: 2 → 3"));
  assert.deepEqual(readExportRows(dir), before);
  assert.deepEqual(sweepStatus(dir).mismatched, [storePath(dir, { index: 3, count: 4 })]);
  // A renamed shard file is refused too.
  renameSync(storePath(dir, { index: 3, count: 4 }), join(dir, "shard-5.sqlite"));
  assert.throws(() => mergeShards(dir), /written by shard 3\/4, not shard 5/);
});

test("export: CSV and JSON tables, one row per job × pEval", () => {
  const dir = tmp();
  const s = newStore(join(dir, "results.sqlite"));
  const plan = planJobs(CONFIG);
  for (const p of plan.slice(0, 3)) s.recordResult(p.key, fakeResult(p.job), { versions: VERSIONS, wallSeconds: 1 });
  s.close();
  const rows = readExportRows(dir);
  assert.equal(rows.length, 6);
  const csv = toCsv(rows).trimEnd().split("\n");
  assert.equal(csv.length, 7);
  const header = csv[0].split(",");
  for (const col of ["jobKey", "width", "depth", "pTrain", "n", "seed", "pEval", "loss", "lossStderr", "accuracy"]) assert.ok(header.includes(col), col);
  const first = csv[1].split(",");
  assert.equal(Number(first[header.indexOf("loss")]), rows[0].loss);
  const json = JSON.parse(toJson(rows)) as Array<Record<string, unknown>>;
  assert.equal(json.length, 6);
  assert.deepEqual(Object.keys(json[0]).slice(0, 10), ["jobKey", "width", "depth", "pTrain", "n", "seed", "pEval", "loss", "lossStderr", "accuracy"]);
  assert.deepEqual(json[0].maskLosses, rows[0].maskLosses);
  assert.ok(!existsSync(join(dir, "nothing")));
  assert.throws(() => readExportRows(join(dir, "nothing")), /no such sweep directory/);
});
