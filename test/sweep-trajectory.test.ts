import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { MentiaError } from "../src/errors.js";
import { parseConfig } from "../src/sweep/config.js";
import { mergeShards } from "../src/sweep/merge.js";
import { planJobs } from "../src/sweep/plan.js";
import { storePath } from "../src/sweep/shard.js";
import { readEvalRecords, readExportRows, readTrajectoryRecords, SweepStore } from "../src/sweep/store.js";
import { sliceRecords } from "../src/analysis/slice.js";
import type { Analysis } from "../src/analysis/schema.js";
import { buildFigures } from "../src/report/figures.js";
import { compile } from "vega-lite";
import { runSweep } from "../src/sweep/sweep.js";
import { EXAMPLE_CONFIG } from "../src/sweep/template.js";

/**
 * Sweeps with trajectories on real MNIST (width 16, N ≤ 300, 40 steps): they run, resume and
 * merge like any other results, and a config without the key plans the jobs it always did.
 */
const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "mentia-traj-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const RAW = { widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 300], seeds: [0], policy: "steps", steps: 40, valEvery: 10, validation: 1000, masks: 1 };
const TRAJ = { points: 4, pEval: [0, 0.3, 0.6], masks: 2, extendFactor: 1.5 };
const CONFIG = parseConfig({ ...RAW, trajectory: TRAJ });

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Everything but timings. */
const numbers = (dir: string): unknown => readTrajectoryRecords(dir);

test("config: trajectory is optional, validated, and leaves the keys of jobs without it unchanged", () => {
  const plain = planJobs(parseConfig(RAW));
  for (const p of plain) assert.ok(!("trajectory" in p.job));
  const withT = planJobs(CONFIG);
  assert.deepEqual(withT.map((p) => p.job.trajectory), withT.map(() => ({ points: 4, pEval: [0, 0.3, 0.6], masks: 2, extendFactor: 1.5 })));
  assert.notDeepEqual(new Set(withT.map((p) => p.key)), new Set(plain.map((p) => p.key)));
  assert.ok(withT.every((p, i) => p.cost > plain.find((q) => q.job.n === p.job.n && q.job.pTrain === p.job.pTrain)!.cost || i < 0), "trajectories add to the cost");
  assert.deepEqual(parseConfig({ ...RAW, trajectory: { pEval: 0.5 } }).trajectory, { points: 12, pEval: [0.5], masks: 1 });
  const bad = (t: unknown, re: RegExp): void => assert.throws(() => parseConfig({ ...RAW, trajectory: t }), (e: unknown) => e instanceof MentiaError && re.test(e.message), JSON.stringify(t));
  bad({ points: 4 }, /trajectory.pEval: is required/);
  bad({ pEval: [0], points: 0 }, /trajectory.points: must be an integer ≥ 1/);
  bad({ pEval: [1.2] }, /trajectory.pEval\[0\]: must be a number in \[0, 1\)/);
  bad({ pEval: [0], extendFactor: 0.5 }, /trajectory.extendFactor: must be a number ≥ 1/);
  bad({ pEval: [0], every: 3 }, /trajectory: unknown field 'every' \(known: points, pEval, masks, evalMode, horizon, extendFactor, extendSteps\)/);
  bad([0.5], /trajectory: must be a mapping/);
  // mentia init's example shows the settings; uncommented they are a valid config.
  const uncommented = EXAMPLE_CONFIG.replace(/^# trajectory:/m, "trajectory:").replace(/^#( {3}\w+:.*)$/gm, "$1");
  assert.deepEqual(parseConfig(parse(uncommented)).trajectory, { points: 14, pEval: [0, 0.5, 0.7], masks: 1, horizon: 8000, extendFactor: 3, extendSteps: 8000 });
});

test("run: trajectories are stored with each job, resume, merge across shards and export", async () => {
  const ref = join(ROOT, "reference");
  const s = await runSweep(CONFIG, ref, { workers: 2, progress: null });
  assert.equal(s.done, 4);
  const recs = readTrajectoryRecords(ref);
  const jobs = new Set(recs.map((r) => r.jobKey));
  assert.equal(jobs.size, 4);
  for (const key of jobs) {
    const mine = recs.filter((r) => r.jobKey === key);
    assert.equal(mine[0].stopStep, 40);
    assert.equal(mine[0].endStep, 60);
    const steps = [...new Set(mine.map((r) => r.step))];
    assert.deepEqual(steps, [10, 20, 30, 40, 60], "4 log-spaced points (rounded to multiples of 10) from the first validation (10) to the budget (40), and the end of the extension");
    assert.deepEqual(mine.filter((r) => r.best).map((r) => r.step), [40, 40, 40]);
    assert.ok(mine.every((r) => r.valLoss === null && r.maskLosses.length === 2), "no validation without early stopping");
  }
  // The best point is the job's own evaluation at the p_eval both have.
  const rows = readExportRows(ref);
  for (const r of recs.filter((x) => x.best && (x.pEval === 0))) assert.equal(r.loss, rows.find((e) => e.jobKey === r.jobKey && e.pEval === 0)!.loss);

  // The early-stop slice with the job's own p_eval and masks is the job's own evaluation.
  const own = readEvalRecords(ref).filter((r) => r.pEval === 0);
  const es = sliceRecords(recs.filter((r) => r.pEval === 0).map((r) => ({ ...r, maskLosses: r.maskLosses.slice(0, 1) })), { kind: "early-stop", value: null }).records;
  assert.deepEqual(es.map((r) => [r.jobKey, r.loss]).sort(), own.map((r) => [r.jobKey, r.loss]).sort());

  // Resume: two jobs lost their results (as after a crash before they finished); rerunning redoes only them.
  const resumed = join(ROOT, "resumed");
  await runSweep(CONFIG, resumed, { workers: 1, progress: null });
  const db = new Database(storePath(resumed));
  const lost = db.prepare("SELECT key FROM jobs ORDER BY key LIMIT 2").all() as Array<{ key: string }>;
  for (const { key } of lost) {
    db.prepare("DELETE FROM evals WHERE job_key = ?").run(key);
    db.prepare("UPDATE jobs SET status = 'pending', trajectory = NULL WHERE key = ?").run(key);
  }
  db.close();
  assert.equal(new Set(readTrajectoryRecords(resumed).map((r) => r.jobKey)).size, 2);
  const again = await runSweep(CONFIG, resumed, { workers: 1, progress: null });
  assert.equal(again.done, 2);
  assert.deepEqual(numbers(resumed), numbers(ref));

  const sharded = join(ROOT, "sharded");
  await runSweep(CONFIG, sharded, { workers: 1, shard: { index: 0, count: 2 }, progress: null });
  await runSweep(CONFIG, sharded, { workers: 1, shard: { index: 1, count: 2 }, progress: null });
  mergeShards(sharded);
  assert.deepEqual(numbers(sharded), numbers(ref));
  assert.equal(mergeShards(sharded).newlyDone, 0, "merging again adds nothing (timings are not compared)");

  const csv = cli(["export", ref, "--trajectory"]);
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "jobKey,width,depth,pTrain,n,seed,evalMode,step,epoch,samples,best,stopStep,endStep,valLoss,pEval,loss,lossStderr,accuracy");
  assert.equal(lines.length, 1 + recs.length);
  const js = cli(["export", ref, "--trajectory", "--format", "json"]);
  assert.deepEqual(JSON.parse(js.stdout), recs);
  // A sweep without trajectories says so.
  const plainDir = join(ROOT, "plain");
  await runSweep(parseConfig({ ...RAW, sizes: [100], pTrain: [0] }), plainDir, { workers: 1, progress: null });
  const none = cli(["export", plainDir, "--trajectory"]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /holds no trajectories/);
});

test("store: a schema-3 file (no trajectories) is read as schema 4 read-only and migrated when opened for writing", async () => {
  const dir = join(ROOT, "v3");
  await runSweep(parseConfig({ ...RAW, sizes: [100] }), dir, { workers: 1, progress: null });
  const path = storePath(dir);
  const expected = readExportRows(dir);
  const db = new Database(path);
  db.exec("ALTER TABLE jobs DROP COLUMN trajectory; UPDATE meta SET value = '3' WHERE key = 'schema_version';");
  db.close();
  const version = (): string => {
    const d = new Database(path, { readonly: true });
    try {
      return (d.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
    } finally {
      d.close();
    }
  };
  const ro = SweepStore.open(path, { readonly: true });
  assert.deepEqual(ro.exportRows(), expected);
  assert.deepEqual(ro.trajectoryRecords(), []);
  assert.ok(ro.dumpJobs().every((j) => j.trajectory === null));
  ro.close();
  assert.equal(version(), "3");
  const rw = SweepStore.open(path);
  rw.close();
  assert.equal(version(), "4");
  assert.deepEqual(readExportRows(dir), expected);
});

test("analyze --slice and report: one analysis per slice with its \"slice\", the slice figures; bad input is refused with exit 2", () => {
  const dir = join(ROOT, "slices");
  const config = join(ROOT, "slices.json");
  writeFileSync(config, JSON.stringify({ ...RAW, sizes: [100, 200, 300], seeds: [0, 1], trajectory: { points: 4, pEval: [0, 0.6], masks: 1, extendSteps: 80 } }));
  const run = cli(["run", config, "--out", dir, "--workers", "2"]);
  assert.equal(run.status, 0, run.stderr);
  const a = cli(["analyze", dir, "--slice", "early-stop,steps=50,epochs=6", "--bootstrap", "50", "--collapse-bootstrap", "2"]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /=== slice steps-50: L\(N\) at 50 optimisation steps; interpolation between checkpoints: leave-one-out error median/);
  const read = (f: string): Analysis => JSON.parse(readFileSync(join(dir, f), "utf8")) as Analysis;
  const es = read("analysis-slice-early-stop.json");
  assert.deepEqual([es.slice?.kind, es.slice?.value, es.slice?.interpolation], ["early-stop", null, null]);
  const st = read("analysis-slice-steps-50.json");
  assert.deepEqual([st.slice?.kind, st.slice?.value, st.slice?.outside], ["steps", 50, []]);
  assert.ok(st.slice!.interpolation!.checks > 0);
  assert.deepEqual(st.input.pEvals, [0, 0.6], "the trajectory's p_eval");
  // epochs=6: 6 × ceil(N/64) steps = 12, 24, 30: every job reaches it (its first checkpoint is step 10).
  assert.equal(read("analysis-slice-epochs-6.json").input.records, 3 * 2 * 2 * 2);
  // The plain analysis carries the trajectories for the report.
  assert.equal(cli(["analyze", dir, "--bootstrap", "50", "--collapse-bootstrap", "2"]).status, 0);
  const plain = read("analysis.json");
  assert.equal(plain.slice, undefined);
  assert.equal(plain.trajectories!.length, 2 * 3 * 2, "p_train × N × trajectory p_eval");
  const ids = buildFigures({ ...plain, slices: [es, st].map((x) => ({ ...x.slice!, file: "", phases: x.phases, boundaries: x.boundaries })) }).map((f) => f.id);
  for (const id of ["fig2b-loss-relative", "fig2c-trajectory", "fig2d-slice-phase-diagrams"]) assert.ok(ids.includes(id), id);
  // Their specs compile without a warning.
  const warnings: string[] = [];
  const logger = {
    level: (l?: number) => (l === undefined ? 2 : logger),
    error: (...a: unknown[]) => (warnings.push(a.map(String).join(" ")), logger),
    warn: (...a: unknown[]) => (warnings.push(a.map(String).join(" ")), logger),
    info: () => logger,
    debug: () => logger,
  };
  const figs = buildFigures({ ...plain, slices: [es, st].map((x) => ({ ...x.slice!, file: "", phases: x.phases, boundaries: x.boundaries })) });
  for (const f of figs.filter((x) => ["fig2b-loss-relative", "fig2c-trajectory", "fig2d-slice-phase-diagrams"].includes(x.id)))
    for (const v of f.variants) {
      assert.ok(v.spec, `${f.id} ${v.key}: ${v.note}`);
      compile(v.spec, { logger: logger as never });
    }
  assert.deepEqual(warnings, []);
  // Bad input: one line, exit 2, nothing written.
  for (const [args, re] of [
    [["--slice", "steps=abc"], /--slice must be early-stop, steps=T, epochs=E or samples=S/],
    [["--slice", "steps=20,steps=100000"], /no training's checkpoints reach the slice steps-100000/],
  ] as const) {
    const r = cli(["analyze", dir, ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  assert.ok(!existsSync(join(dir, "analysis-slice-steps-100000.json")) && !existsSync(join(dir, "analysis-slice-steps-20.json")), "a failing slice writes nothing, not even the slices before it");
  const none = cli(["analyze", join(ROOT, "plain"), "--slice", "early-stop"]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /holds no trajectories/);
});
