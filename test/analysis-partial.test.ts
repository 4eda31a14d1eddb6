import { writeSyntheticSweep } from "./synthetic-store.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeRecords, formatSummary } from "../src/analysis/analyze.js";
import { completeCells, largestRectangle } from "../src/analysis/completeness.js";
import type { GridPoint } from "../src/analysis/schema.js";
import { syntheticRecords, type SyntheticGrid } from "../src/analysis/synthetic.js";
import { command as analyzeCommand } from "../src/cli/analyze.js";
import { partialBanner } from "../src/report/html.js";
import { emptyMeta } from "../src/report/meta.js";

/** An unfinished sweep must never be analysed as if it were complete (issue 15, item 1). */
const truth = (g: GridPoint, n: number): number => 1.2 * (1 + g.pEval) * Math.pow(n / 200, -0.8 * (0.5 - g.pEval));
const GRID: SyntheticGrid = { widths: [32], depths: [1], pTrains: [0, 0.5], pEvals: [0, 0.3, 0.6], sizes: [200, 400, 800, 1600, 3200], seeds: 3, masks: 2, seedNoise: 0.02, maskNoise: 0.01 };

test("largestRectangle finds the biggest complete sizes × seeds block", () => {
  const present = new Map([
    [0, new Set([200, 400, 800, 1600])],
    [1, new Set([400, 800, 1600, 3200])],
    [2, new Set([200, 400, 800, 1600, 3200])],
  ]);
  assert.deepEqual(largestRectangle(present, 3), { sizes: [400, 800, 1600], seeds: [0, 1, 2] });
  // With ≥ 4 sizes required, two seeds over four sizes beat three seeds over three.
  assert.deepEqual(largestRectangle(present, 4), { sizes: [200, 400, 800, 1600], seeds: [0, 2] });
});

test("analyzeRecords on a partial sweep: loud warning, and no curve mixes seeds across N", () => {
  const all = syntheticRecords(GRID, truth, 3);
  const full = analyzeRecords(all, { bootstrapReplicates: 30 }, { collapseBootstrapReplicates: 2 });
  assert.equal(full.completeness?.complete, true);
  assert.ok(!full.warnings.some((w) => /INCOMPLETE/.test(w)));
  assert.doesNotMatch(formatSummary(full), /INCOMPLETE/);

  // p_train 0: N = 200 only seed 0, N = 400 only seed 1; p_train 0.5 complete.
  const ids = [...new Set(all.map((r) => r.seed))].sort((a, b) => a - b);
  const drop = (r: (typeof all)[number]): boolean => r.pTrain === 0 && ((r.n === 200 && r.seed !== ids[0]) || (r.n === 400 && r.seed !== ids[1]));
  const partial = all.filter((r) => !drop(r));
  const a = analyzeRecords(partial, { bootstrapReplicates: 30 }, { collapseBootstrapReplicates: 2 });
  assert.equal(a.completeness?.complete, false);
  assert.equal(a.completeness?.expectedJobs, 2 * 5 * 3);
  assert.equal(a.completeness?.presentJobs, 2 * 5 * 3 - 4);
  assert.match(a.warnings[0], /INCOMPLETE SWEEP: 26 of 30 planned trainings/);
  assert.ok(a.warnings.some((w) => /missing: width 32, depth 1, p_train 0: N 200 \(seeds [12],[12]\), N 400 \(seeds [02],[02]\)/.test(w)), a.warnings.join("\n"));
  assert.match(formatSummary(a), /^WARNING: INCOMPLETE SWEEP/);
  for (const c of a.curves) {
    const sets = c.points.map((p) => p.seeds.join(","));
    assert.equal(new Set(sets).size, 1, `curve p_train ${c.pTrain}, p_eval ${c.pEval} mixes seed sets ${sets.join(" | ")}`);
  }
  // p_train 0 keeps the three seeds at N ≥ 800; p_train 0.5 keeps everything.
  const c0 = a.curves.find((c) => c.pTrain === 0 && c.pEval === 0)!;
  assert.deepEqual(c0.points.map((p) => p.n), [800, 1600, 3200]);
  assert.equal(a.curves.find((c) => c.pTrain === 0.5 && c.pEval === 0)!.points.length, 5);

  // A planned size that never ran is named even though every present cell is complete.
  const planned = { widths: [32], depths: [1], pTrains: [0, 0.5], pEvals: [0, 0.3, 0.6], sizes: [...GRID.sizes, 6400], seeds: ids };
  const { completeness } = completeCells(all, 3, planned);
  assert.equal(completeness.complete, false);
  assert.ok(completeness.missing.some((m) => /N 6400 \(seeds /.test(m)));

  // The report's banner says the same.
  const banner = partialBanner(a, emptyMeta("x", "none"));
  assert.match(banner, /class="banner"/);
  assert.match(banner, /INCOMPLETE SWEEP/);
  assert.equal(partialBanner(full, emptyMeta("x", "none")), "");
});

test("mentia analyze DIR warns on stderr about an unfinished sweep, quietly with --allow-partial", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-partial-"));
  try {
    // Leave out N = 800, seed 2 (as if the sweep was stopped).
    writeSyntheticSweep(dir, truth, 5, (job) => job.n === 800 && job.seed === 2);
    const run = async (extra: string[]): Promise<{ rc: number; err: string }> => {
      const err: string[] = [];
      const [log, error] = [console.log, console.error];
      console.log = () => {};
      console.error = (...a: unknown[]) => void err.push(a.join(" "));
      try {
        const rc = await analyzeCommand.run([dir, "--bootstrap", "30", "--collapse-bootstrap", "2", ...extra]);
        return { rc, err: err.join("\n") };
      } finally {
        [console.log, console.error] = [log, error];
      }
    };
    const loud = await run([]);
    assert.equal(loud.rc, 0);
    assert.match(loud.err, /WARNING: INCOMPLETE SWEEP: 11 of 12 planned trainings have results/);
    assert.match(loud.err, /missing: width 16, depth 1, p_train 0: N 800 \(seed 2\)/);
    const a = JSON.parse(readFileSync(join(dir, "analysis.json"), "utf8"));
    assert.match(a.warnings[0], /INCOMPLETE SWEEP/);
    assert.equal(a.completeness.complete, false);
    const quiet = await run(["--allow-partial"]);
    assert.equal(quiet.rc, 0);
    assert.equal(quiet.err, "");
    assert.equal(JSON.parse(readFileSync(join(dir, "analysis.json"), "utf8")).completeness.complete, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
