import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildReport } from "../src/report/build.js";
import { emptyMeta, readReportMeta, readReportMetaOrNote } from "../src/report/meta.js";
import { MentiaError } from "../src/errors.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { runSweep } from "../src/sweep/sweep.js";
import { fixtureMeta } from "./report-fixture.js";

/**
 * `mentia report` end to end on a real (tiny) sweep of real MNIST: run → analyze → report,
 * with the header read from the sweep's store; and the command's errors (no analysis.json,
 * a foreign or newer analysis.json) leave nothing half-written.
 */
const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "mentia-report-cli-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const RAW = { widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200, 400], seeds: [0, 1], epochs: 1, steps: 10, masks: 2 };
const CONFIG = parseConfig(RAW);
const SWEEP = join(ROOT, "sweep");

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("report: run → analyze → report on a tiny real sweep; the header shows the run from its store", { timeout: 240_000 }, async () => {
  const summary = await runSweep(CONFIG, SWEEP, { workers: 1, progress: null });
  const jobs = planJobs(CONFIG).length;
  assert.equal(summary.done, jobs);

  const meta = readReportMeta(SWEEP);
  assert.deepEqual(meta.jobs, { planned: jobs, done: jobs, failed: 0, running: 0, pending: 0, outOfPlan: 0 });
  assert.deepEqual(meta.config, CONFIG);
  assert.ok(meta.engines.length === 1 && meta.engines[0] === summary.engine, `engines ${meta.engines}`);
  assert.ok(meta.versions.length === 1 && /^mentia \S+, node v\d+/.test(meta.versions[0]), meta.versions[0]);
  assert.ok(meta.checksums && Object.keys(meta.checksums).length === 4, JSON.stringify(meta.checksums));
  assert.ok(meta.elapsedSeconds !== null && meta.elapsedSeconds >= 0 && meta.elapsedSeconds <= summary.seconds + 1, `elapsed ${meta.elapsedSeconds} vs run ${summary.seconds}`);
  assert.ok(meta.workSeconds > 0);
  assert.deepEqual(meta.failures, []);
  // How long each (p_train, N) trained: early stopping's record, one row per grid point, every seed counted.
  assert.equal(meta.training.length, CONFIG.pTrain.length * CONFIG.sizes.length);
  for (const t of meta.training) {
    assert.equal(t.jobs, CONFIG.seeds.length);
    assert.ok(t.meanBestStep > 0 && t.meanBestStep <= t.meanSteps && t.meanBestValLoss !== null && t.meanBestValLoss > 0, JSON.stringify(t));
    assert.equal(Object.values(t.stoppedBy).reduce((a, b) => a + b, 0), t.jobs);
  }

  // No analysis yet: a clear error, and no report folder.
  const early = cli(["report", SWEEP]);
  assert.equal(early.status, 2);
  assert.match(early.stderr, /analysis\.json not found: run 'mentia analyze .*' first/);
  assert.equal(existsSync(join(SWEEP, "report")), false);

  const an = cli(["analyze", SWEEP, "--bootstrap", "20", "--collapse-bootstrap", "5"]);
  assert.equal(an.status, 0, an.stderr);
  const r = cli(["report", SWEEP]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*index\.html \(one page, \d+ figures as SVG\+PNG, 7 CSV tables/);
  const dir = join(SWEEP, "report");
  assert.match(r.stdout, new RegExp(`phase diagram: .*${RAW.widths[0]}-d${RAW.depths[0]}\\.png`));
  const files = readdirSync(dir);
  for (const f of ["index.html", "phases.csv", "loss-curves.csv", "scaling-fits.csv", "boundaries.csv", "crossovers.csv", "length-scale-fits.csv", "collapses.csv"]) assert.ok(files.includes(f), `${f} written`);
  const svgs = files.filter((f) => f.endsWith(".svg"));
  assert.ok(svgs.length >= 4, `figures: ${svgs.join(", ")}`);
  for (const svg of svgs) {
    assert.ok(files.includes(svg.replace(/\.svg$/, ".png")), `${svg} has its PNG`);
    assert.equal(readFileSync(join(dir, svg.replace(/\.svg$/, ".png"))).subarray(1, 4).toString(), "PNG");
  }
  const html = readFileSync(join(dir, "index.html"), "utf8");
  assert.match(html, /training length per N \(early stopping: validation on 10000 held-out images/);
  assert.match(html, new RegExp(`${jobs} done, 0 failed of ${jobs} planned`));
  assert.ok(html.includes(meta.engines[0]));
  assert.ok(html.includes(meta.versions[0]));
  for (const [file, sum] of Object.entries(meta.checksums!)) assert.ok(html.includes(file) && html.includes(sum), `checksum of ${file}`);
  // Self-contained: nothing loaded from anywhere (no src=, no external href, no @import / url(http)).
  assert.doesNotMatch(html, /\ssrc=|https?:\/\/(?!www\.w3\.org\/)|@import/);
  const curves = readFileSync(join(dir, "loss-curves.csv"), "utf8").trim().split("\n");
  assert.equal(curves.length - 1, RAW.widths.length * RAW.pTrain.length * RAW.pEval.length * RAW.sizes.length);

  // A rerun replaces the folder as a whole (stale files go) and --output writes elsewhere.
  writeFileSync(join(dir, "stale.txt"), "old");
  assert.equal(cli(["report", SWEEP]).status, 0);
  assert.equal(existsSync(join(dir, "stale.txt")), false);
  const other = join(ROOT, "elsewhere", "rep");
  assert.equal(cli(["report", SWEEP, "--output", other]).status, 0);
  assert.ok(existsSync(join(other, "index.html")));
  assert.equal(readdirSync(join(ROOT, "elsewhere")).filter((f) => f.startsWith(".")).length, 0, "no temporary folders left");
});

test("report: a foreign, newer or broken analysis.json is refused in one line, the old report kept", async () => {
  const dir = join(ROOT, "bad");
  rmSync(dir, { recursive: true, force: true });
  const cases: Array<[string, RegExp]> = [
    ["{not json", /not valid JSON/],
    ["[1, 2]", /not a mentia analysis/],
    [JSON.stringify({ schemaVersion: 99 }), /analysis schema 99 is newer than this mentia reads \(1\)/],
    [JSON.stringify({ schemaVersion: 1, curves: [] }), /field 'fits' missing or not a list/],
  ];
  for (const [text, re] of cases) {
    rmSync(dir, { recursive: true, force: true });
    const mk = spawnSync("mkdir", ["-p", join(dir, "report")]);
    assert.equal(mk.status, 0);
    writeFileSync(join(dir, "report", "index.html"), "previous");
    writeFileSync(join(dir, "analysis.json"), text);
    const r = cli(["report", dir]);
    assert.equal(r.status, 2, text);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    assert.equal(readFileSync(join(dir, "report", "index.html"), "utf8"), "previous");
  }
  const usage = cli(["report"]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /expected one sweep directory/);
  const help = cli(["report", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: mentia report DIR \[--output DIR\/report\]/);
});

test("report meta: a directory without a sweep store gives a header that says so", () => {
  const dir = join(ROOT, "nostore");
  spawnSync("mkdir", ["-p", dir]);
  assert.throws(() => readReportMeta(dir), MentiaError);
  const m = readReportMetaOrNote(dir);
  assert.equal(m.jobs.done, 0);
  assert.match(m.notes[0], /run metadata unavailable: .*no results\.sqlite/);
  assert.deepEqual(emptyMeta("x", "n").notes, ["n"]);
});

test("buildReport refuses an output path that is a file", async () => {
  const file = join(ROOT, "a-file");
  writeFileSync(file, "x");
  const analysis = JSON.parse(JSON.stringify({ schemaVersion: 1 }));
  await assert.rejects(buildReport(analysis, fixtureMeta(), file), (e: unknown) => e instanceof MentiaError && /exists and is not a directory/.test(e.message));
});
