import { writeSyntheticSweep } from "./synthetic-store.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeRecords, formatSummary, resolveOptions } from "../src/analysis/analyze.js";
import { ANALYSIS_SCHEMA_VERSION, collapseForms, type GridPoint } from "../src/analysis/schema.js";
import { syntheticRecords, type SyntheticGrid } from "../src/analysis/synthetic.js";
import { command as analyzeCommand } from "../src/cli/analyze.js";
import { MentiaError } from "../src/errors.js";

/**
 * The whole analysis (analyzeRecords → analysis.json) on synthetic records, and
 * `mentia analyze DIR` on a sweep store written through the store's own API.
 */
const pcOf = (pt: number): number => 0.45 + 0.3 * pt;
const truth = (g: GridPoint, n: number): number => (g.pTrain >= 0.9 ? Math.log(10) : 1.2 * (1 + g.pEval) * Math.pow(n / 200, -0.8 * (pcOf(g.pTrain) - g.pEval)));
const GRID: SyntheticGrid = { widths: [32], depths: [1, 2], pTrains: [0, 0.5, 0.95], pEvals: [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], sizes: [200, 400, 800, 1600, 3200, 6400], seeds: 3, masks: 2, seedNoise: 0.02, maskNoise: 0.01 };

/** Every number reachable in v is finite (JSON would silently turn NaN into null). */
function assertAllFinite(v: unknown, path = "$"): void {
  if (typeof v === "number") assert.ok(Number.isFinite(v), `${path} = ${v}`);
  else if (Array.isArray(v)) v.forEach((x, i) => assertAllFinite(x, `${path}[${i}]`));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) assertAllFinite(x, `${path}.${k}`);
}

test("analyzeRecords produces a complete, finite, versioned analysis and a readable summary", () => {
  const a = analyzeRecords(syntheticRecords(GRID, truth, 4), { bootstrapReplicates: 60 }, { createdAt: "2026-01-01T00:00:00Z", collapseBootstrapReplicates: 4 });
  assert.equal(a.schemaVersion, ANALYSIS_SCHEMA_VERSION);
  assertAllFinite(a);
  const cells = GRID.widths.length * GRID.depths.length * GRID.pTrains.length * GRID.pEvals.length;
  assert.equal(a.curves.length, cells);
  assert.equal(a.fits.length, cells);
  assert.equal(a.phases.length, cells);
  assert.equal(a.crossovers.length, cells);
  assert.equal(a.boundaries.length, 2);
  assert.deepEqual(a.input.sizes, GRID.sizes);
  assert.ok(a.collapses.length >= 2, "one collapse comparison per p_train line with a boundary");
  for (const c of a.collapses) {
    const fs = collapseForms(c);
    assert.ok(fs.power && fs.bkt && fs["bkt-xi"], `every form fitted: ${c.note}`);
    for (const r of Object.values(fs).filter((x) => x !== null)) {
      assert.equal(r.errorMethod, "seed-bootstrap", "collapse errors come from refitting seed-resampled data");
      assert.ok(r.dof >= 1);
      if (r.pcBound) assert.equal(r.pcCI, null, "a p_c at the search edge has no interval");
    }
    if (c.preferred !== "undecided") assert.ok(c.note && /AIC/.test(c.note));
    else assert.ok(c.note && c.note.length > 0, "undecided says why");
  }
  for (const f of a.lengthScaleFits) {
    assert.ok(f.dof >= 1, `N*(p) ${f.form} fit with dof ${f.dof}`);
    if (f.pcBound) assert.equal(f.pcCI, null);
  }
  assert.equal(a.options.collapseBootstrapReplicates, 4, "collapse replicates recorded in options");
  const text = formatSummary(a);
  assert.match(text, /width 32, depth 2/);
  assert.match(text, /p_train\\p_eval/);
  assert.match(text, /p_eval,c\(p_train 0\) = 0\.4\d\d ± /);
  assert.match(text, /collapse at p_train 0: power-law (χ²_red [\d.]+\/\d+ |not determined: ).*\| BKT-ξ /);
  assert.match(text, /\n  0\.95 +A {4}A/);
  // Reproducible: same records and seed → same file.
  const b = analyzeRecords(syntheticRecords(GRID, truth, 4), { bootstrapReplicates: 60 }, { createdAt: "2026-01-01T00:00:00Z", collapseBootstrapReplicates: 4 });
  assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
});

test("unusable input → MentiaError; curves with too few sizes are skipped with a warning", () => {
  assert.throws(() => analyzeRecords([]), (e: unknown) => e instanceof MentiaError && /no evaluation records/.test(e.message));
  const oneN = syntheticRecords({ ...GRID, sizes: [1000] }, truth, 1);
  assert.throws(() => analyzeRecords(oneN), (e: unknown) => e instanceof MentiaError && /N = 1000/.test(e.message));
  const recs = syntheticRecords({ ...GRID, depths: [1], pTrains: [0] }, truth, 2).filter((r) => !(r.pEval === 0.7 && r.n > 400));
  const a = analyzeRecords(recs, { bootstrapReplicates: 30 }, { collapseBootstrapReplicates: 2 });
  assert.ok(a.warnings.some((w) => /p_eval 0\.7: 2 training-set size/.test(w)));
  assert.equal(a.curves.length, GRID.pEvals.length - 1);
  assert.throws(() => resolveOptions({ ciLevel: 1.5 }), (e: unknown) => e instanceof MentiaError && /ciLevel/.test(e.message));
  assert.throws(() => resolveOptions({ bootstrapReplicates: 3 }), (e: unknown) => e instanceof MentiaError && /bootstrapReplicates/.test(e.message));
});

test("mentia analyze DIR reads the sweep store, writes DIR/analysis.json and prints the summary", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-analyze-"));
  try {
    await assert.rejects(analyzeCommand.run([dir]), (e: unknown) => e instanceof MentiaError && /no results\.sqlite/.test(e.message));
    writeSyntheticSweep(dir, truth, 3);
    const out: string[] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(" "));
    try {
      assert.equal(await analyzeCommand.run([dir, "--bootstrap", "40", "--collapse-bootstrap", "3"]), 0);
    } finally {
      console.log = orig;
    }
    const path = join(dir, "analysis.json");
    assert.ok(existsSync(path));
    const a = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(a.schemaVersion, 1);
    assert.equal(a.input.records, 4 * 3 * 3);
    assert.equal(a.phases.length, 3);
    assert.equal(a.phases[0].phase, "eumentia");
    assert.equal(a.phases[2].phase, "dementia");
    assertAllFinite(a);
    const text = out.join("\n");
    assert.match(text, /width 16, depth 1/);
    assert.match(text, /wrote .*analysis\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mentia analyze --from-csv FILE --out DIR: an exported table gives the same analysis as the records (≥ 2 seeds); bad use is one line", async () => {
  const grid: SyntheticGrid = { widths: [16], depths: [1], pTrains: [0], pEvals: [0, 0.3], sizes: [100, 200, 400, 800], seeds: 2, masks: 2, seedNoise: 0.02, maskNoise: 0.01 };
  const recs = syntheticRecords(grid, (g, n) => 2 * Math.pow(n, -0.3 * (1 - g.pEval)), 5);
  const dir = mkdtempSync(join(tmpdir(), "mentia-fromcsv-"));
  try {
    const cols = ["jobKey", "width", "depth", "pTrain", "n", "seed", "pEval", "loss", "lossStderr", "accuracy"] as const;
    const csv = join(dir, "results.csv");
    writeFileSync(csv, [cols.join(","), ...recs.map((r) => cols.map((c) => String(r[c])).join(","))].join("\n") + "\n");
    const out = join(dir, "out");
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(await analyzeCommand.run(["--from-csv", csv, "--out", out, "--bootstrap", "40", "--collapse-bootstrap", "2"]), 0);
    } finally {
      console.log = log;
    }
    const fromCsv = JSON.parse(readFileSync(join(out, "analysis.json"), "utf8"));
    const direct = analyzeRecords(recs, { bootstrapReplicates: 40 }, { collapseBootstrapReplicates: 2, createdAt: fromCsv.createdAt });
    assert.deepEqual(fromCsv.phases, JSON.parse(JSON.stringify(direct.phases)));
    assert.deepEqual(fromCsv.fits, JSON.parse(JSON.stringify(direct.fits)));
    const bad = async (args: string[], re: RegExp) => assert.rejects(analyzeCommand.run(args), (e: unknown) => e instanceof MentiaError && re.test(e.message) && !e.message.includes("\n"));
    await bad(["--from-csv", csv], /--from-csv needs --out DIR/);
    await bad([dir, "--from-csv", csv, "--out", out], /either a sweep directory or --from-csv/);
    await bad(["--from-csv", join(dir, "missing.csv"), "--out", out], /no such file/);
    writeFileSync(join(dir, "bad.csv"), "jobKey,width\nx,1\n");
    await bad(["--from-csv", join(dir, "bad.csv"), "--out", out], /missing column\(s\) depth/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
