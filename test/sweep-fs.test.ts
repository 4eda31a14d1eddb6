import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { parseConfig } from "../src/sweep/config.js";
import { mergeShards } from "../src/sweep/merge.js";
import { planJobs } from "../src/sweep/plan.js";
import { shardJobs, storePath } from "../src/sweep/shard.js";
import { readHeader } from "../src/sweep/snapshot.js";
import { sweepStatus } from "../src/sweep/status.js";
import { SweepStore } from "../src/sweep/store.js";
import { journalFor } from "../src/sweep/sweep.js";

/**
 * Sweep databases on file systems shared between hosts: shards use the rollback journal, and
 * readers (status, merge) read verified copies, so a shard can be read while another process
 * writes it, and a shard whose writer was killed inside a transaction merges without that
 * transaction. What one machine cannot show (two hosts, NFS/Lustre locking) is in the README.
 */
const CONFIG = parseConfig({ widths: [16, 32], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200, 400], seeds: [0, 1], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 2 });
const SHARD = { index: 0, count: 1 };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mentia-fs-"));
  dirs.push(d);
  return d;
}

const storeUrl = new URL("../src/sweep/store.js", import.meta.url).href;
const planUrl = new URL("../src/sweep/plan.js", import.meta.url).href;
const configUrl = new URL("../src/sweep/config.js", import.meta.url).href;

/** Child-process code: opens the shard as a run does and stores fake results (numbers a function of the job). */
const WRITER_PRELUDE = `
const { SweepStore } = await import(${JSON.stringify(storeUrl)});
const { planJobs } = await import(${JSON.stringify(planUrl)});
const { parseConfig } = await import(${JSON.stringify(configUrl)});
const config = parseConfig(${JSON.stringify(CONFIG)});
const plan = planJobs(config);
const fake = (job) => ({ job, engine: "fake", trainSeconds: 0, evalSeconds: 0, steps: 10, finalTrainLoss: job.n / 1000,
  evals: job.pEvals.map((pEval) => ({ evalMode: "sample", pEval, loss: job.n / 1000 + pEval, lossStderr: 0.01, accuracy: 0.5, accuracyStderr: 0.01, maskLosses: [1, 2], maskAccuracies: [0.5, 0.5] })) });
const s = SweepStore.open(process.argv[1], { journal: "rollback" });
`;

function newShard(dir: string): string {
  const path = storePath(dir, SHARD);
  const s = SweepStore.open(path, { create: true, journal: journalFor(SHARD) });
  s.initialise(CONFIG, shardJobs(planJobs(CONFIG), SHARD), { mentiaVersion: "test", shard: SHARD });
  s.close();
  return path;
}

test("journal modes: shards use the rollback journal unless --local; unsharded runs use WAL", () => {
  assert.equal(journalFor(SHARD), "rollback");
  assert.equal(journalFor(SHARD, true), "wal");
  assert.equal(journalFor(undefined), "wal");
  const dir = tmp();
  const shard = newShard(dir);
  assert.equal(readHeader(shard)?.mode, "rollback");
  const wal = join(dir, "results.sqlite");
  SweepStore.open(wal, { create: true }).close();
  assert.equal(readHeader(wal)?.mode, "wal");
  // A file switches mode when a run with the other mode opens it.
  SweepStore.open(wal, { journal: "rollback" }).close();
  assert.equal(readHeader(wal)?.mode, "rollback");
});

test("a shard read (status) while another process writes it: every read is one committed state", async () => {
  const dir = tmp();
  const path = newShard(dir);
  const total = planJobs(CONFIG).length;
  const go = join(dir, "go");
  // The writer stores half the jobs, waits for the file "go" (so a read of the half-way state
  // is certain), then stores the rest; a job every 10 ms, each one transaction.
  const code = `${WRITER_PRELUDE}
const { existsSync } = await import("node:fs");
for (const [i, p] of plan.entries()) {
  if (i === plan.length / 2) while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
  s.markRunning(p.key, "w0");
  s.recordResult(p.key, fake(p.job), { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
  await new Promise((r) => setTimeout(r, 10));
}
s.close();`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code, path], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  let running = true;
  void exited.then(() => (running = false));
  const seen: number[] = [];
  const read = (): number => {
    const s = SweepStore.openShared(path);
    try {
      const c = s.counts();
      // One committed state: a done job has all its evals, an unfinished one none.
      for (const row of s.dumpJobs()) assert.equal(s.dumpEvals(row.key).length, row.status === "done" ? 2 : 0, `job ${row.key} (${row.status})`);
      assert.equal(c.done + c.pending + c.running, total);
      seen.push(c.done);
      return c.done;
    } finally {
      s.close();
    }
  };
  while (running) {
    if (read() === total / 2 && !existsSync(go)) writeFileSync(go, "");
    assert.equal(sweepStatus(dir).shards[0].counts.total, total);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal(await exited, 0, stderr);
  assert.equal(read(), total);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `done went back: ${seen.join(",")}`);
  assert.ok(seen.includes(total / 2), `no read of the half-way state: ${seen.join(",")}`);
});

test("a shard killed in the middle of a transaction merges without that transaction", () => {
  const dir = tmp();
  const path = newShard(dir);
  const plan = planJobs(CONFIG);
  // 3 jobs committed; then a transaction that marks a 4th done with many evals rows, spilling
  // pages into the file (tiny cache) before its commit, and the process is killed.
  const code = `${WRITER_PRELUDE}
for (const p of plan.slice(0, 3)) s.recordResult(p.key, fake(p.job), { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
s.db.pragma("cache_size = 2");
s.db.exec("BEGIN IMMEDIATE");
const key = plan[3].key;
s.db.prepare("UPDATE jobs SET status = 'done' WHERE key = ?").run(key);
const ins = s.db.prepare("INSERT INTO evals (job_key, eval_mode, p_eval, loss, loss_stderr, accuracy, accuracy_stderr, mask_losses, mask_accuracies) VALUES (?, 'sample', ?, 1, 0, 0.5, 0, ?, '[]')");
for (let i = 0; i < 3000; i++) ins.run(key, i / 3000, JSON.stringify(Array.from({ length: 50 }, (_, j) => i + j)));
process.kill(process.pid, "SIGKILL");`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code, path], { encoding: "utf8" });
  assert.equal(r.signal, "SIGKILL", r.stderr);
  assert.ok(existsSync(`${path}-journal`), "the killed writer left its journal");
  // The file itself holds pages of the unfinished transaction: read without its journal, the
  // 4th job looks done, without its evals (or the file is damaged): what a plain copy would merge.
  const raw = join(tmp(), "raw.sqlite");
  copyFileSync(path, raw);
  let rawLooksDone: boolean;
  try {
    const db = new Database(raw, { readonly: true });
    rawLooksDone = (db.prepare("SELECT status FROM jobs WHERE key = ?").get(plan[3].key) as { status: string }).status === "done";
    db.close();
  } catch {
    rawLooksDone = true;
  }
  assert.ok(rawLooksDone, "the test did not get uncommitted pages into the file");

  const m = mergeShards(dir, { snapshot: { staleMs: 300 } });
  assert.equal(m.done, 3);
  const out = SweepStore.open(m.path, { readonly: true });
  try {
    assert.deepEqual([...out.doneKeys()].sort(), plan.slice(0, 3).map((p) => p.key).sort());
    assert.equal(out.dumpEvals(plan[3].key).length, 0);
    assert.equal(out.counts().total, plan.length);
  } finally {
    out.close();
  }
  // The next run that opens the shard rolls the transaction back in the file itself.
  const s = SweepStore.open(path, { journal: "rollback" });
  assert.equal(s.counts().done, 3);
  s.close();
  assert.equal(existsSync(`${path}-journal`), false);
});

test("a WAL database written by a run on another host is refused by status, with the reason", () => {
  const dir = tmp();
  const path = storePath(dir, SHARD);
  const s = SweepStore.open(path, { create: true, journal: "wal" });
  s.initialise(CONFIG, shardJobs(planJobs(CONFIG), SHARD), { mentiaVersion: "test", shard: SHARD });
  s.setMeta("lock", JSON.stringify({ host: "node17.example", pid: 1, since: "earlier" }));
  s.close();
  assert.throws(() => sweepStatus(dir), /WAL mode by a mentia run on host node17\.example.*run this command on node17\.example/);
});
