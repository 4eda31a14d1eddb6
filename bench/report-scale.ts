/**
 * Report at the full-scale study's shape (issue 16): 5 widths × 4 depths × 8 p_train × 12 N ×
 * 8 seeds, evaluated at the default study's 11 p_eval, as a synthetic analysis (the analysis
 * stage on synthetic records with a known phase structure), then `buildReport` timed.
 *
 *   node dist/bench/report-scale.js [--threads K] [--analysis FILE] [--out DIR]
 *
 * Prints the page count, the largest page, the report folder's size, the wall time and the
 * peak resident memory. The analysis is cached in FILE (default /tmp/mentia-full-analysis.json).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeRecords } from "../src/analysis/analyze.js";
import type { Analysis, GridPoint } from "../src/analysis/schema.js";
import { syntheticRecords } from "../src/analysis/synthetic.js";
import { buildReport } from "../src/report/build.js";
import { emptyMeta } from "../src/report/meta.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const file = arg("analysis") ?? "/tmp/mentia-full-analysis.json";
const out = arg("out") ?? "/tmp/mentia-full-report";
const threads = arg("threads") === undefined ? undefined : Number(arg("threads"));

const LN10 = Math.log(10);
const pc = (g: GridPoint): number => 0.4 + 0.45 * g.pTrain + 0.01 * Math.log2(g.width / 64) + 0.02 * g.depth;
const truth = (g: GridPoint, n: number): number => {
  if (g.pTrain >= 0.99) return LN10;
  const x = n / 250;
  return 0.08 + 1.2 * Math.pow(x, -0.5) + 0.02 * Math.exp(12 * (g.pEval - pc(g))) * Math.pow(x, 0.4);
};

let analysis: Analysis;
if (existsSync(file)) analysis = JSON.parse(readFileSync(file, "utf8")) as Analysis;
else {
  const t = performance.now();
  const records = syntheticRecords(
    {
      widths: [64, 128, 256, 512, 1024],
      depths: [1, 2, 3, 4],
      pTrains: [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99],
      pEvals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
      sizes: Array.from({ length: 12 }, (_, i) => Math.round(250 * Math.pow(60000 / 250, i / 11))),
      seeds: 8,
      masks: 2,
      seedNoise: 0.03,
      maskNoise: 0.02,
    },
    truth,
    1,
  );
  analysis = analyzeRecords(records, { bootstrapReplicates: 40 }, { collapseBootstrapReplicates: 2, createdAt: "2026-01-01T00:00:00Z" });
  writeFileSync(file, JSON.stringify(analysis));
  console.log(`analysis of ${records.length} synthetic records in ${((performance.now() - t) / 1000).toFixed(0)} s → ${file}`);
}

let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
const r = await buildReport(analysis, emptyMeta("full-scale (synthetic)", "synthetic analysis of the full-scale study's shape"), out, { pngScale: 2, threads });
clearInterval(timer);
const sizes = readdirSync(r.outDir).map((f) => statSync(join(r.outDir, f)).size);
const mb = (b: number): string => (b / 1e6).toFixed(1);
console.log(
  `${r.pages.length} pages, largest ${mb(r.largestPageBytes)} MB (index.html ${mb(statSync(r.indexPath).size)} MB); ` +
    `${r.figureFiles.length / 2} plots as SVG+PNG; folder ${mb(sizes.reduce((a, b) => a + b, 0))} MB in ${sizes.length} files; ` +
    `${r.seconds.toFixed(0)} s wall; peak RSS of the main thread's process ${mb(peak)} MB${threads ? `; ${threads} thread(s)` : ""}`,
);
