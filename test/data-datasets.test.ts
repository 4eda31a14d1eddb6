import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { datasetSource, DATASET_NAMES } from "../src/data/datasets.js";
import { DEFAULT_DEFORMATION } from "../src/data/deform.js";
import { FASHION_MNIST_FILES, fashionMnistInstalled, loadFashionMnist } from "../src/data/fashion.js";
import { MentiaError } from "../src/errors.js";
import { configJson, parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { predictJobSeconds, type ProbeResult } from "../src/sweep/estimate.js";
import { readExportRows, SweepStore } from "../src/sweep/store.js";

/**
 * Datasets as a study parameter: Fashion-MNIST from Debian's package (checksums, the
 * missing-package error), the dataset in configs and job keys (mnist's unchanged), and
 * `mentia run` end to end on mnist-deformed past its base (run, resume, shards + merge,
 * export, analyze, report).
 */
const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "mentia-datasets-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
const noFashion = fashionMnistInstalled() ? false : `Fashion-MNIST is not installed (run 'apt-get install dataset-fashion-mnist' as root; .ci/run does)`;

test("fashion-mnist loads from Debian's package with verified checksums, 60,000 / 10,000 balanced, ~50 % nonzero pixels", { skip: noFashion }, () => {
  const { train, test: testSet, checksums } = loadFashionMnist();
  assert.equal(train.n, 60000);
  assert.equal(testSet.n, 10000);
  for (const f of Object.values(FASHION_MNIST_FILES)) assert.equal(checksums[f.file], f.md5);
  const hist = new Array(10).fill(0);
  for (const y of train.y) hist[y]++;
  assert.deepEqual(hist, new Array(10).fill(6000));
  const testHist = new Array(10).fill(0);
  for (const y of testSet.y) testHist[y]++;
  assert.deepEqual(testHist, new Array(10).fill(1000));
  let nonzero = 0;
  for (let i = 0; i < train.x.length; i += 13) if (train.x[i] > 0) nonzero++;
  const frac = nonzero / Math.ceil(train.x.length / 13);
  assert.ok(frac > 0.4 && frac < 0.6, `nonzero fraction ${frac}`);
  // not MNIST by another name
  assert.notDeepEqual(checksums, datasetSource("mnist").load().checksums);
});

test("a corrupt fashion-mnist file is refused by its checksum", { skip: noFashion }, () => {
  const dir = join(ROOT, "corrupt-fashion");
  mkdirSync(dir, { recursive: true });
  for (const f of Object.values(FASHION_MNIST_FILES)) writeFileSync(join(dir, f.file), readFileSync(join("/usr/share/datasets/fashion-mnist", f.file)));
  const labels = gunzipSync(readFileSync(join(dir, FASHION_MNIST_FILES.testLabels.file)));
  labels[100] = (labels[100] + 1) % 10;
  writeFileSync(join(dir, FASHION_MNIST_FILES.testLabels.file), gzipSync(labels));
  assert.throws(() => loadFashionMnist(dir), /t10k-labels-idx1-ubyte\.gz: checksum mismatch: md5 [0-9a-f]{32} \(of the gunzipped bytes\), expected 15d484375f8d13e6eb1aabb0c3f46965/);
});

test("a missing fashion-mnist package: one line naming 'apt-get install dataset-fashion-mnist', exit 2, nothing written", () => {
  const missing = join(ROOT, "no-such-dir");
  assert.throws(() => loadFashionMnist(missing), (e: unknown) => e instanceof MentiaError && /apt-get install dataset-fashion-mnist/.test(e.message));
  const env = { MENTIA_FASHION_MNIST_DIR: missing };
  const t = cli(["train", "--dataset", "fashion-mnist", "--n", "100"], env);
  assert.equal(t.status, 2);
  assert.equal(t.stderr.trim().split("\n").length, 1, t.stderr);
  assert.match(t.stderr, /^mentia: fashion-mnist is not installed: .* 'apt-get install dataset-fashion-mnist'/);
  const cfg = join(ROOT, "fashion.yaml");
  writeFileSync(cfg, "dataset: fashion-mnist\nwidths: 16\ndepths: 1\npTrain: 0\npEval: [0, 0.5]\nsizes: [100, 200, 300]\npolicy: steps\nsteps: 5\nmasks: 1\n");
  const out = join(ROOT, "fashion-missing");
  for (const args of [["run", cfg, "--out", out], ["run", cfg, "--out", out, "--dry-run"]]) {
    const r = cli(args, env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^mentia: fashion-mnist is not installed: .*apt-get install dataset-fashion-mnist/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.equal(existsSync(out), false, "nothing written");
});

const BASE = { widths: [128], depths: [2], pTrain: [0.3], pEval: [0, 0.5], sizes: [1000], seeds: [3] };

test("dataset in configs: mnist is the default and leaves configs and job keys as before; the others change them", () => {
  // The key of this job before datasets existed (mentia at commit f4da3f0).
  const before = "71f2aea1fed5f338";
  const plain = parseConfig(BASE);
  const named = parseConfig({ ...BASE, dataset: "mnist" });
  assert.equal(planJobs(plain)[0].key, before);
  assert.equal(planJobs(named)[0].key, before);
  assert.equal(configJson(named), configJson(plain));
  assert.equal("dataset" in plain, false);
  const fashion = parseConfig({ ...BASE, dataset: "fashion-mnist" });
  const deformed = parseConfig({ ...BASE, dataset: "mnist-deformed" });
  assert.notEqual(planJobs(fashion)[0].key, before);
  assert.equal(planJobs(fashion)[0].job.dataset, "fashion-mnist");
  // mnist-deformed records every deformation parameter (defaults filled in), in the config and in each job
  assert.deepEqual(deformed.deformation, DEFAULT_DEFORMATION);
  assert.deepEqual(planJobs(deformed)[0].job.deformation, DEFAULT_DEFORMATION);
  const strong = parseConfig({ ...BASE, dataset: "mnist-deformed", deformation: { alpha: 60 } });
  assert.deepEqual(strong.deformation, { ...DEFAULT_DEFORMATION, alpha: 60 });
  assert.notEqual(planJobs(strong)[0].key, planJobs(deformed)[0].key);
  assert.deepEqual(new Set([before, planJobs(fashion)[0].key, planJobs(deformed)[0].key]).size, 3);
});

test("dataset in configs: bad values and N past the dataset's limit are refused naming the dataset and its limit", () => {
  const rejects = (raw: unknown, pattern: RegExp): void => assert.throws(() => parseConfig(raw, "c.yaml"), (e: unknown) => e instanceof MentiaError && pattern.test(e.message), String(pattern));
  rejects({ ...BASE, dataset: "cifar10" }, new RegExp(`dataset: must be one of ${DATASET_NAMES.map((d) => `'${d}'`).join(", ")}, got "cifar10"`));
  rejects({ ...BASE, sizes: [50001] }, /sizes: 50001 exceeds 50000, the largest N for mnist: the mnist training images left after the validation split \(60000 − 10000\)/);
  rejects({ ...BASE, dataset: "fashion-mnist", sizes: [1000, 55001], validation: 5000 }, /sizes: 55001 exceeds 55000, the largest N for fashion-mnist/);
  rejects({ ...BASE, dataset: "mnist-deformed", sizes: [100000001] }, /sizes: 100000001 exceeds 100000000, the largest N for mnist-deformed: the cap of the mnist-deformed stream/);
  rejects({ ...BASE, deformation: { alpha: 3 } }, /deformation: applies to the dataset 'mnist-deformed' only \(dataset: mnist\)/);
  rejects({ ...BASE, dataset: "mnist-deformed", deformation: { alpha: -1 } }, /deformation\.alpha: must be a number in \[0, 1000\], got -1/);
  rejects({ ...BASE, dataset: "mnist-deformed", deformation: { beta: 1 } }, /deformation: unknown field 'beta'/);
  assert.deepEqual(parseConfig({ ...BASE, dataset: "mnist-deformed", sizes: { from: 250, to: 10000000, count: 12, log: true } }).sizes.at(-1), 10000000);
});

test("mentia run on mnist-deformed past its base: shards + merge, resume, export, analyze, report all carry the dataset", { timeout: 300_000 }, () => {
  const cfg = join(ROOT, "deformed.yaml");
  writeFileSync(
    cfg,
    "dataset: mnist-deformed\ndeformation: { alpha: 20 }\nwidths: 16\ndepths: 1\npTrain: 0\npEval: [0, 0.5]\nsizes: [200, 1000, 60000]\nseeds: [0, 1]\npolicy: steps\nsteps: 12\nmasks: 1\n",
  );
  const dir = join(ROOT, "deformed");
  for (const shard of ["0/2", "1/2"]) {
    const r = cli(["run", cfg, "--out", dir, "--shard", shard, "--workers", "1"]);
    assert.equal(r.status, 0, r.stderr);
  }
  const m = cli(["merge", dir]);
  assert.equal(m.status, 0, m.stderr);
  const again = cli(["run", cfg, "--out", dir, "--workers", "1"]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr + again.stdout, /0 to run|nothing to do|already|6 of 6|done/);
  const store = SweepStore.openShared(join(dir, "results.sqlite"));
  try {
    assert.equal(store.storedDataset(), "mnist-deformed");
    assert.deepEqual(store.storedConfig()?.deformation, { ...DEFAULT_DEFORMATION, alpha: 20 });
    assert.deepEqual(Object.keys(store.storedChecksums() ?? {}).sort(), ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]);
    const trained = store.dumpJobs().filter((j) => j.status === "done").map((j) => ({ job: JSON.parse(j.job), training: JSON.parse(j.training ?? "{}") }));
    assert.equal(trained.length, 6);
    for (const t of trained) {
      assert.equal(t.job.dataset, "mnist-deformed");
      assert.equal(t.training.generated !== undefined, t.job.n > 50000, JSON.stringify(t));
    }
  } finally {
    store.close();
  }
  const rows = readExportRows(dir);
  assert.ok(rows.length === 12 && rows.every((r) => r.dataset === "mnist-deformed" && r.deformation?.alpha === 20));
  const csv = cli(["export", dir, "--format", "csv"]);
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split("\n");
  const col = lines[0].split(",").indexOf("dataset");
  assert.ok(col > 0 && lines.slice(1).every((l) => l.split(",")[col] === "mnist-deformed"), lines[0]);
  const an = cli(["analyze", dir, "--bootstrap", "20", "--collapse-bootstrap", "3", "--allow-partial"]);
  assert.equal(an.status, 0, an.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, "analysis.json"), "utf8")).dataset, "mnist-deformed");
  const rep = cli(["report", dir]);
  assert.equal(rep.status, 0, rep.stderr);
  const html = readFileSync(join(dir, "report", "index.html"), "utf8");
  assert.match(html, /<dt>dataset<\/dt><dd>mnist-deformed \(deformation: alpha 20, .*sigma 4, /);
  assert.match(html, /<dt>dataset checksums \(mnist-deformed\)<\/dt>/);
});

test("the dry-run estimate adds the deformed stream's cost (generation once per sample, fill per visit) past the base only", () => {
  const probe: ProbeResult = { width: 128, depth: 2, batch: 64, params: 118282, stepSeconds: [64e-6, 64e-6, 64e-6], evalSeconds: [0, 0, 0], validationSeconds: [0, 0, 0], overheadSeconds: 0 };
  const cfg = parseConfig({ ...BASE, pEval: [0], dataset: "mnist-deformed", sizes: [50000, 1000000], policy: "steps", steps: 1000 });
  const [big, small] = planJobs(cfg).sort((a, b) => b.job.n - a.job.n);
  const plain = 1000 * 64e-6;
  assert.ok(Math.abs(predictJobSeconds(small, [probe]) - plain) < 1e-5, "no stream cost at N ≤ 50,000");
  // 950,000 generated samples at 1.7 µs (1 µs = a trained sample here) + 64,000 visits at 0.18 µs
  const stream = predictJobSeconds(big, [probe]) - predictJobSeconds(small, [probe]);
  assert.ok(Math.abs(stream - (0.95 * 1.7 + 0.18 * 0.064)) < 1e-6, String(stream));
});
