import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import { canonicalJson, loadConfig, parseConfig, type SweepConfig } from "../src/sweep/config.js";
import { jobKey, planJobs } from "../src/sweep/plan.js";
import { parseShard, shardJobs } from "../src/sweep/shard.js";
import { EXAMPLE_CONFIG } from "../src/sweep/template.js";
import { createProgress, formatDuration } from "../src/sweep/progress.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const base = { widths: [16, 32], depths: [1, 2], pTrain: [0, 0.5], pEval: [0, 0.5, 0.9], sizes: [100, 1000], seeds: [0, 1, 2] };

function rejects(raw: unknown, ...fragments: Array<string | RegExp>): string {
  let message = "";
  assert.throws(
    () => parseConfig(raw, "cfg.yaml"),
    (err: unknown) => {
      assert.ok(err instanceof MentiaError, `expected a MentiaError, got ${String(err)}`);
      message = err.message;
      return true;
    },
  );
  assert.ok(message.startsWith("cfg.yaml: "), message);
  assert.ok(!message.includes("\n"), `one line: ${message}`);
  for (const f of fragments) {
    if (typeof f === "string") assert.ok(message.includes(f), `'${message}' should contain '${f}'`);
    else assert.match(message, f);
  }
  return message;
}

test("config: defaults are applied and grids are sorted", () => {
  const c = parseConfig({ ...base, widths: [32, 16] });
  assert.deepEqual(c.widths, [16, 32]);
  assert.deepEqual(
    { policy: c.policy, patience: c.patience, valEvery: c.valEvery, maxSteps: c.maxSteps, validation: c.validation, dataDraw: c.dataDraw, epochs: c.epochs, steps: c.steps, batch: c.batch, lr: c.lr, optimizer: c.optimizer, evalMode: c.evalMode, masks: c.masks, rescale: c.rescale, subsetSeed: c.subsetSeed },
    { policy: "early-stop", patience: 10, valEvery: "half-epoch", maxSteps: 30000, validation: 10000, dataDraw: "per-seed", epochs: 20, steps: 1000, batch: 64, lr: 1e-3, optimizer: "adam", evalMode: "sample", masks: 4, rescale: true, subsetSeed: 0 },
  );
  assert.deepEqual(parseConfig({ ...base, seeds: undefined }).seeds, [0]);
});

test("config: ranges and single numbers expand to grids", () => {
  const c = parseConfig({ ...base, widths: 64, pEval: { from: 0, to: 0.9, count: 10 }, sizes: { from: 250, to: 16000, count: 7, log: true } });
  assert.deepEqual(c.widths, [64]);
  assert.deepEqual(c.pEval, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  assert.deepEqual(c.sizes, [250, 500, 1000, 2000, 4000, 8000, 16000]);
  rejects({ ...base, sizes: { from: 0, to: 100, count: 3, log: true } }, "sizes: a log range needs from > 0");
  rejects({ ...base, sizes: { from: 10, to: 12, count: 5 } }, "sizes: has duplicate values");
  const m = rejects({ ...base, pEval: { from: 0, to: 0.5 } }, "pEval.count: is required");
  assert.ok(!m.includes("problems"), m);
});

test("config: wrong types are reported with their path and value", () => {
  rejects({ ...base, widths: ["16"] }, 'widths[0]: must be an integer ≥ 1, got "16"');
  rejects({ ...base, lr: "fast" }, 'lr: must be a positive number, got "fast"');
  rejects({ ...base, rescale: "yes" }, 'rescale: must be true or false, got "yes"');
  rejects({ ...base, optimizer: "adamw" }, "optimizer: must be 'adam' or 'sgd', got \"adamw\"");
  rejects({ ...base, depths: "deep" }, 'depths: must be a list of numbers, a number, or a range {from, to, count, log}, got "deep"');
  rejects([1, 2], "a sweep config must be a mapping");
});

test("config: values out of range, empty grids, duplicates, unknown and missing fields", () => {
  rejects({ ...base, pTrain: [0, 1] }, "pTrain[1]: must be a number in [0, 1), got 1");
  rejects({ ...base, pEval: [-0.1] }, "pEval[0]: must be a number in [0, 1), got -0.1");
  rejects({ ...base, widths: [0] }, "widths[0]: must be an integer ≥ 1, got 0");
  rejects({ ...base, depths: [1.5] }, "depths[0]: must be an integer ≥ 1, got 1.5");
  rejects({ ...base, sizes: [60001] }, "sizes: 60001 exceeds 50000, the largest N for mnist: the mnist training images left after the validation split (60000 − 10000)");
  rejects({ ...base, sizes: [100, 50001] }, "sizes: 50001 exceeds 50000, the largest N for mnist: the mnist training images left after the validation split (60000 − 10000)");
  rejects({ ...base, policy: "early-stop", patience: 0 }, "patience: must be an integer ≥ 1");
  rejects({ ...base, valEvery: 0 }, "valEvery: must be an integer ≥ 1 (steps between validations), 'half-epoch' or 'epoch'");
  rejects({ ...base, valEvery: "often" }, "valEvery: must be an integer ≥ 1 (steps between validations), 'half-epoch' or 'epoch'");
  rejects({ ...base, policy: "forever" }, "policy: must be one of 'early-stop', 'epochs', 'steps', 'epochs-min-steps'");
  rejects({ ...base, validation: 0 }, "validation: is 0, but policy 'early-stop' needs a validation split");
  rejects({ ...base, dataDraw: "some" }, "dataDraw: must be 'per-seed'");
  rejects({ ...base, seeds: [] }, "seeds: must not be empty");
  rejects({ ...base, widths: [16, 32, 16] }, "widths: has duplicate values: 16");
  rejects({ ...base, widht: [3] }, "unknown field 'widht'");
  rejects({ ...base, pEval: undefined }, "pEval: is required");
  rejects({ ...base, policy: "epochs-min-steps", epochs: 0, steps: 0 }, "epochs: epochs and steps are both 0");
  rejects({ ...base, policy: "epochs", epochs: 0 }, "epochs: is 0 with policy 'epochs'");
  rejects({ ...base, masks: 0 }, "masks: must be an integer ≥ 1, got 0");
  // Several problems are all reported, each with its path.
  const m = rejects({ ...base, pTrain: [1.5], sizes: [], batch: 0 }, "3 problems", "pTrain[0]:", "sizes: must not be empty", "batch: must be an integer in [1, 60000], got 0");
  assert.equal(m.split("; ").length, 3);
});

test("config: YAML and JSON files; syntax errors name the file and line", () => {
  const dir = tmp("mentia-config-");
  const yamlPath = join(dir, "a.yaml");
  writeFileSync(yamlPath, "widths: [16]\ndepths: [1]\npTrain: [0]\npEval: [0, 0.5]\nsizes: [100]\n");
  const jsonPath = join(dir, "a.json");
  writeFileSync(jsonPath, JSON.stringify({ widths: [16], depths: [1], pTrain: [0], pEval: [0.5, 0], sizes: [100] }));
  assert.equal(canonicalJson(loadConfig(yamlPath)), canonicalJson(loadConfig(jsonPath)));
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "widths: [16\ndepths: [1]\n");
  assert.throws(() => loadConfig(bad), (e: unknown) => e instanceof MentiaError && e.message.startsWith(`${bad}:`) && e.message.includes("not valid YAML"));
  const badJson = join(dir, "bad.json");
  writeFileSync(badJson, "{ widths: }");
  assert.throws(() => loadConfig(badJson), (e: unknown) => e instanceof MentiaError && e.message.includes("not valid JSON"));
  const dup = join(dir, "dup.yaml");
  writeFileSync(dup, "widths: [16]\nwidths: [32]\n");
  assert.throws(() => loadConfig(dup), (e: unknown) => e instanceof MentiaError && e.message.includes("not valid YAML"));
  assert.throws(() => loadConfig(join(dir, "missing.yaml")), (e: unknown) => e instanceof MentiaError && e.message.includes("cannot read"));
  const invalid = join(dir, "invalid.yaml");
  writeFileSync(invalid, "widths: [16]\ndepths: [1]\npTrain: [1]\npEval: [0]\nsizes: [100]\n");
  assert.throws(() => loadConfig(invalid), (e: unknown) => e instanceof MentiaError && e.message === `${invalid}: pTrain[0]: must be a number in [0, 1), got 1`);
});

test("config: the example config parses, and configs/example.yaml is what 'mentia init' writes", () => {
  const dir = tmp("mentia-example-");
  const path = join(dir, "example.yaml");
  writeFileSync(path, EXAMPLE_CONFIG);
  const c = loadConfig(path);
  assert.equal(c.pEval.length, 10);
  assert.ok(c.sizes.length >= 8);
  const committed = readFileSync(new URL("../../configs/example.yaml", import.meta.url), "utf8");
  assert.equal(committed, EXAMPLE_CONFIG);
});

test("plan: one job per grid point, every job evaluates every pEval, largest first", () => {
  const c = parseConfig(base);
  const plan = planJobs(c);
  assert.equal(plan.length, 2 * 2 * 2 * 2 * 3);
  assert.equal(new Set(plan.map((p) => p.key)).size, plan.length, "keys are unique");
  for (const p of plan) assert.deepEqual(p.job.pEvals, [0, 0.5, 0.9]);
  for (let i = 1; i < plan.length; i++) assert.ok(plan[i - 1].cost >= plan[i].cost, "ordered by cost, largest first");
  assert.equal(plan[0].cost, Math.max(...plan.map((p) => p.cost)));
  assert.equal(plan[0].job.width, 32, "the widest network is the most work");
  // Training length of the fixed policies: max(epochs passes, steps), epochs passes, steps.
  const rule = planJobs(parseConfig({ ...base, policy: "epochs-min-steps" }));
  assert.equal(rule.find((p) => p.job.n === 100)!.steps, 1000);
  const big = planJobs(parseConfig({ ...base, policy: "epochs-min-steps", sizes: [50000], epochs: 2, steps: 10 }))[0];
  assert.equal(big.steps, 2 * Math.ceil(50000 / 64));
  assert.equal(planJobs(parseConfig({ ...base, policy: "epochs", sizes: [1000], epochs: 3 }))[0].steps, 3 * Math.ceil(1000 / 64));
  assert.equal(planJobs(parseConfig({ ...base, policy: "steps", sizes: [1000], steps: 77 }))[0].steps, 77);
  // Early stopping: an expected length (for scheduling), growing with N, below the cap.
  const es = planJobs(parseConfig({ ...base, sizes: [250, 5000, 50000] }));
  const at = (n: number): number => es.find((p) => p.job.n === n)!.steps;
  assert.ok(at(250) < at(5000) && at(5000) < at(50000) && at(50000) <= 30000, `${at(250)} ${at(5000)} ${at(50000)}`);
});

test("plan: keys are stable hashes of the job (same across orderings, different per setting)", () => {
  const a = planJobs(parseConfig(base));
  const b = planJobs(parseConfig({ ...base, widths: [32, 16], seeds: [2, 0, 1], pEval: [0.9, 0, 0.5] }));
  assert.deepEqual(a.map((p) => p.key), b.map((p) => p.key));
  const job = a[0].job;
  // Key = first 16 hex digits of sha256 of the canonical JSON; pinned so that it never changes silently.
  assert.match(jobKey(job), /^[0-9a-f]{16}$/);
  assert.equal(jobKey({ ...job }), jobKey(JSON.parse(JSON.stringify(job, Object.keys(job).reverse()))));
  const pinned = jobKey({
    width: 16, depth: 1, pTrain: 0, n: 100, seed: 0, policy: "early-stop", epochs: 20, steps: 1000, patience: 10, valEvery: "half-epoch", maxSteps: 30000,
    validation: 10000, dataDraw: "per-seed", subsetSeed: 0, batch: 64, lr: 0.001, optimizer: "adam", pEvals: [0, 0.5], evalMode: "sample", masks: 2, rescale: true,
  });
  assert.equal(pinned, "4200fe5c8e3d0dde");
  const lrKeys = new Set(planJobs(parseConfig({ ...base, lr: 0.01 })).map((p) => p.key));
  for (const p of a) assert.ok(!lrKeys.has(p.key), "a different learning rate gives different keys");
});

test("shard: i/n parsing and a deterministic split that covers the plan exactly once", () => {
  assert.deepEqual(parseShard("2/5"), { index: 2, count: 5 });
  for (const bad of ["5/5", "1", "-1/3", "a/b", "0/0"]) assert.throws(() => parseShard(bad), MentiaError, bad);
  const config: SweepConfig = parseConfig(base);
  const plan = planJobs(config);
  for (const n of [1, 3, 7]) {
    const parts = Array.from({ length: n }, (_, i) => shardJobs(plan, { index: i, count: n }).map((p) => p.key));
    const all = parts.flat();
    assert.equal(all.length, plan.length);
    assert.equal(new Set(all).size, plan.length);
    assert.deepEqual(parts, Array.from({ length: n }, (_, i) => shardJobs(planJobs(config), { index: i, count: n }).map((p) => p.key)));
    for (const p of parts) assert.ok(Math.abs(p.length - plan.length / n) < 1);
  }
});

test("progress: a bar with done/total, jobs/s and ETA on a terminal; plain lines otherwise", () => {
  const plan = planJobs(parseConfig({ ...base, widths: [16], depths: [1], pTrain: [0], seeds: [0, 1] })).slice(0, 4);
  let now = 0;
  let out = "";
  const tty = createProgress({ stream: { write: (t: string) => (out += t), isTTY: true, columns: 200 }, total: 5, alreadyDone: 1, jobs: plan, now: () => now });
  tty.jobStarted!(plan[0], 0);
  now = 2;
  tty.jobFinished!(plan[0], { status: "done", seconds: 2 });
  now = 4;
  tty.jobFinished!(plan[1], { status: "failed", error: "training diverged", seconds: 2 });
  tty.finish();
  const frames = out.split("\r\x1b[2K");
  assert.ok(frames.some((f) => /^sweep \[#+\.+\] 2\/5 done · 0\.50 jobs\/s · ETA \d/.test(f)), out);
  assert.match(out, /sweep: job [0-9a-f]{16} \(width 16 depth 1 pTrain 0 N \d+ seed \d\) failed: training diverged\n/);
  assert.ok(out.endsWith("\n"));
  out = "";
  now = 0;
  const plain = createProgress({ stream: { write: (t: string) => (out += t) }, total: 4, alreadyDone: 0, jobs: plan, now: () => now, label: "shard 0/2" });
  now = 10;
  plain.jobFinished!(plan[0], { status: "done", seconds: 10 });
  plain.finish();
  assert.ok(!out.includes("\r"));
  assert.match(out, /^shard 0\/2: 1\/4 done · 0\.10 jobs\/s · ETA \S+ · job [0-9a-f]{16} \(.*\) in 10s\n$/);
  assert.equal(formatDuration(3725), "1h 02m");
  assert.equal(formatDuration(90061), "1d 1h");
});
