import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { SweepStore } from "../src/sweep/store.js";

// `mentia slurm --submit` on a real SLURM: scripts/slurm-local.sh brings up a single-node cluster
// (installing slurm-wlm and munge with apt if needed), a tiny sweep runs as a job array, and its
// merged results must equal those of the same config run locally. Second scenario: one array task
// is cancelled in the middle of its shard; resubmitting completes the sweep, redoing only what was
// unfinished. Skipped (with the reason) only where SLURM cannot be set up: not Linux, not root
// without SLURM installed, or no apt.

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "mentia.js");
const SLURM_LOCAL = join(REPO, "scripts", "slurm-local.sh");

// 8 jobs (width 16, depth 1, 1 epoch, 2 pTrain × 4 sizes N ≤ 800: the analysis needs ≥ 3 sizes).
const CONFIG = `widths: [16]
depths: [1]
pTrain: [0, 0.5]
pEval: [0, 0.5]
sizes: [100, 200, 400, 800]
seeds: [0]
policy: epochs
epochs: 1
masks: 4
`;
const JOBS = 8;
const PEVALS = 2;

interface Row {
  jobKey: string;
  pEval: number;
  loss: number;
  lossStderr: number;
  accuracy: number;
  maskLosses: number[];
}

function sh(cmd: string, args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, env: process.env });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function mentia(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: timeoutMs, env });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function jobState(id: string): string {
  const r = sh("scontrol", ["show", "job", "-o", id]);
  return /JobState=(\S+)/.exec(r.stdout)?.[1] ?? "UNKNOWN";
}

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"]);

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

/** Array-job ids (and plain job ids) that squeue still lists. */
function queued(): Set<string> {
  return new Set(sh("squeue", ["-h", "-o", "%F"]).stdout.split("\n").map((l) => l.trim()).filter(Boolean));
}

function logs(dir: string): string {
  const d = join(dir, "slurm", "logs");
  if (!existsSync(d)) return "(no logs)";
  return readdirSync(d)
    .sort()
    .map((f) => `--- ${f}\n${readFileSync(join(d, f), "utf8")}`)
    .join("\n");
}

function submit(config: string, out: string, tasks: number, env?: NodeJS.ProcessEnv): { arrayId: string; finishId: string } {
  const r = mentia(["slurm", config, "--out", out, "--tasks", String(tasks), "--time", "00:10:00", "--submit"], 120_000, env);
  assert.equal(r.status, 0, r.stderr);
  const m = /submitted array job (\d+) \(tasks 0-(\d+)\) and finish job (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[2]), tasks - 1);
  return { arrayId: m[1], finishId: m[3] };
}

async function waitDone(id: string, dir: string, timeoutMs = 120_000): Promise<string> {
  const state = await waitFor(`job ${id}`, timeoutMs, () => {
    const s = jobState(id);
    return TERMINAL.has(s) ? s : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs(dir)}`);
  });
  return state;
}

function exportRows(dir: string): Row[] {
  const r = mentia(["export", dir, "--format", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Row[];
  return rows.sort((a, b) => (a.jobKey < b.jobKey ? -1 : a.jobKey > b.jobKey ? 1 : a.pEval - b.pEval));
}

/** The results of a sweep as comparable values: job key, pEval and what was measured, nothing about timing. */
function results(rows: Row[]): Array<[string, number, number, number, number, number[]]> {
  return rows.map((r) => [r.jobKey, r.pEval, r.loss, r.lossStderr, r.accuracy, r.maskLosses]);
}

function assertComplete(rows: Row[]): void {
  assert.equal(rows.length, JOBS * PEVALS);
  assert.equal(new Set(rows.map((r) => `${r.jobKey}@${r.pEval}`)).size, JOBS * PEVALS, "a (job, pEval) appears twice");
  for (const r of rows) assert.ok(Number.isFinite(r.loss) && r.loss > 0, `loss ${r.loss}`);
}

function shardCounts(path: string): { done: number; total: number } | undefined {
  if (!existsSync(path)) return undefined;
  let store: SweepStore | undefined;
  try {
    store = SweepStore.open(path, { readonly: true });
    const c = store.counts();
    return { done: c.done, total: c.total };
  } catch {
    return undefined; // being created: try again
  } finally {
    store?.close();
  }
}

async function startSlurm(t: TestContext): Promise<boolean> {
  if (process.platform !== "linux") {
    t.skip("the local SLURM needs Linux");
    return false;
  }
  const wasRunning = sh("bash", [SLURM_LOCAL, "status"]).status === 0;
  const start = sh("bash", [SLURM_LOCAL, "start"], 360_000);
  if (start.status === 3) {
    const reason = `SLURM cannot be started here: ${start.stderr.trim().split("\n").pop()}`;
    console.log(`slurm integration test skipped: ${reason}`);
    t.skip(reason);
    return false;
  }
  assert.equal(start.status, 0, `scripts/slurm-local.sh start failed:\n${start.stderr}`);
  // Stop only a SLURM this test started.
  if (!wasRunning) t.after(() => void sh("bash", [SLURM_LOCAL, "stop"], 120_000));
  const env = sh("bash", [SLURM_LOCAL, "env"]).stdout.trim();
  const conf = /^export SLURM_CONF=(.+)$/.exec(env)?.[1];
  assert.ok(conf, env);
  process.env.SLURM_CONF = conf;
  return true;
}

// The timeout leaves room for apt to install SLURM on a fresh machine (about a minute or two).
test("a sweep as a SLURM job array on a real local SLURM", { timeout: 600_000 }, async (t) => {
  if (!(await startSlurm(t))) return;
  const root = mkdtempSync(join(tmpdir(), "mentia-slurm-it-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const config = join(root, "tiny.yaml");
  writeFileSync(config, CONFIG);

  // The reference: the same config run locally, without shards.
  const local = mentia(["run", config, "--out", join(root, "local"), "--workers", "1"]);
  assert.equal(local.status, 0, local.stderr);
  const expected = exportRows(join(root, "local"));
  assertComplete(expected);

  await t.test("4 array tasks and the finish job give the same results as a local run", async () => {
    const dir = join(root, "array");
    const { arrayId, finishId } = submit(config, dir, 4);
    const state = await waitDone(finishId, dir);
    assert.equal(state, "COMPLETED", `finish job ${finishId} ended ${state}\n${logs(dir)}`);
    for (let i = 0; i < 4; i++) assert.equal(jobState(`${arrayId}_${i}`), "COMPLETED");
    assert.deepEqual(readdirSync(dir).filter((f) => /^shard-\d+\.sqlite$/.test(f)).sort(), ["shard-0.sqlite", "shard-1.sqlite", "shard-2.sqlite", "shard-3.sqlite"]);
    const got = exportRows(dir);
    assertComplete(got);
    assert.deepEqual(results(got), results(expected));
    // The finish job went on to analyze and report.
    assert.ok(existsSync(join(dir, "analysis.json")), `no analysis.json\n${logs(dir)}`);
    assert.ok(existsSync(join(dir, "report", "index.html")), `no report\n${logs(dir)}`);
  });

  await t.test("a task cancelled mid-shard: resubmitting redoes only its unfinished jobs", async (tt) => {
    const dir = join(root, "killed");
    // 4 jobs per shard. MENTIA_TEST_HOLD (passed to the tasks by sbatch) makes task 1 hand out no
    // job after its first finished one, so it is cancelled with some but not all jobs stored, however
    // fast the jobs run (with w workers it stores at most w jobs: those already started).
    const first = submit(config, dir, 2, { ...process.env, MENTIA_TEST_HOLD: "shard-1.sqlite:1" });
    const shard1 = join(dir, "shard-1.sqlite");
    const atKill = await waitFor("shard 1 to finish its first job", 120_000, () => {
      const c = shardCounts(shard1);
      return c && c.done >= 1 ? c : undefined;
    });
    assert.ok(atKill.done < atKill.total, `shard 1 finished (${atKill.done}/${atKill.total}) before it could be cancelled`);
    assert.equal(sh("scancel", [`${first.arrayId}_1`]).status, 0);

    // Task 1 ends cancelled, so the finish job's afterok can never hold: SLURM removes it.
    await waitFor("the first submission to leave the queue", 120_000, () => (queued().has(first.arrayId) || queued().has(first.finishId) ? undefined : true));
    assert.equal(jobState(`${first.arrayId}_0`), "COMPLETED");
    assert.equal(jobState(`${first.arrayId}_1`), "CANCELLED");
    assert.equal(jobState(first.finishId), "CANCELLED");
    assert.equal(existsSync(join(dir, "results.sqlite")), false, "nothing merged after a failed array");
    const left = shardCounts(shard1);
    assert.ok(left && left.done < left.total && left.done >= atKill.done, JSON.stringify(left));
    tt.diagnostic(`cancelled task 1 when its shard had ${atKill.done}/${atKill.total} jobs done; ${left.done} done when it stopped`);
    const status = mentia(["status", dir]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`shard 1/2: ${left.done}/${left.total} done`));
    assert.match(status.stdout, /shard 0\/2: 4\/4 done/);

    // Resubmit with the same command: shard 0 has nothing left, shard 1 runs only its unfinished jobs.
    const second = submit(config, dir, 2);
    const state = await waitDone(second.finishId, dir);
    assert.equal(state, "COMPLETED", `finish job ${second.finishId} ended ${state}\n${logs(dir)}`);
    const log0 = readFileSync(join(dir, "slurm", "logs", `array-${second.arrayId}_0.out`), "utf8");
    const log1 = readFileSync(join(dir, "slurm", "logs", `array-${second.arrayId}_1.out`), "utf8");
    assert.match(log0, /this run: 0 done/);
    assert.match(log1, new RegExp(`this run: ${left.total - left.done} done`));
    const got = exportRows(dir);
    assertComplete(got);
    assert.deepEqual(results(got), results(expected));
  });
});
