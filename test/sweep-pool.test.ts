import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { SweepStoppedError } from "../src/sweep/pool.js";
import { storePath } from "../src/sweep/shard.js";
import { SweepStore } from "../src/sweep/store.js";
import { runSweep } from "../src/sweep/sweep.js";

/**
 * A database that fails in the middle of a sweep (injected with an SQLite trigger that
 * aborts a chosen write, as a full disk or an I/O error would) stops the sweep cleanly: the
 * run rejects with a SweepStoppedError saying what failed, every job stored before is kept,
 * no job is left half-written or marked running, and rerunning completes the sweep.
 */
const CONFIG = parseConfig({ widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200, 300], seeds: [0], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 1 });
const JOBS = planJobs(CONFIG).length;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mentia-pool-"));
  dirs.push(d);
  return d;
}

/** A sweep directory whose database raises an error when a job turns `status` once 2 jobs are done. */
function failingStore(dir: string, status: "running" | "done"): void {
  const s = SweepStore.open(storePath(dir), { create: true });
  s.initialise(CONFIG, planJobs(CONFIG), { mentiaVersion: "test" });
  s.db.exec(`CREATE TRIGGER inject BEFORE UPDATE OF status ON jobs
    WHEN NEW.status = '${status}' AND (SELECT count(*) FROM jobs WHERE status = 'done') >= 2
    BEGIN SELECT RAISE(ABORT, 'injected disk I/O error'); END`);
  s.close();
}

function state(dir: string): { done: number; running: number; evals: number } {
  const s = SweepStore.open(storePath(dir), { readonly: true });
  try {
    const c = s.counts();
    const evals = (s.db.prepare("SELECT count(*) AS c FROM evals").get() as { c: number }).c;
    return { done: c.done, running: c.running, evals };
  } finally {
    s.close();
  }
}

async function resumeAfterRepair(dir: string): Promise<void> {
  const s = SweepStore.open(storePath(dir));
  s.db.exec("DROP TRIGGER inject");
  s.close();
  const r = await runSweep(CONFIG, dir, { workers: 1, progress: null });
  assert.equal(r.done, JOBS - 2);
  assert.deepEqual(state(dir), { done: JOBS, running: 0, evals: JOBS * 2 });
}

for (const [where, status, message] of [
  ["a worker storing a result", "done", /storing the outcome of job [0-9a-f]{16} in .*results\.sqlite failed \(injected disk I\/O error\); the sweep stopped: every job stored before is kept/],
  ["the pool marking a job running", "running", /marking job [0-9a-f]{16} as running in .*results\.sqlite failed \(injected disk I\/O error\)/],
] as const) {
  test(`a database error in ${where} stops the sweep cleanly and keeps every stored job`, async () => {
    const dir = tmp();
    failingStore(dir, status);
    await assert.rejects(runSweep(CONFIG, dir, { workers: 1, progress: null }), (e: unknown) => e instanceof SweepStoppedError && message.test(e.message));
    assert.deepEqual(state(dir), { done: 2, running: 0, evals: 4 });
    await resumeAfterRepair(dir);
  });
}

test("recordFailure never touches a finished job", async () => {
  const dir = tmp();
  await runSweep(CONFIG, dir, { workers: 1, progress: null });
  const s = SweepStore.open(storePath(dir));
  try {
    const [done] = s.dumpJobs();
    assert.equal(done.status, "done");
    const evals = s.dumpEvals(done.key);
    assert.equal(s.recordFailure(done.key, "worker crashed late", { versions: { mentia: "test", node: process.version }, wallSeconds: 0 }), false);
    assert.deepEqual(s.dumpJobs().find((r) => r.key === done.key), done);
    assert.deepEqual(s.dumpEvals(done.key), evals);
  } finally {
    s.close();
  }
});
