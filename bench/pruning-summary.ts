/**
 * The tables of docs/pruning.md from an analysed multi-mode sweep (configs/pruning.yaml):
 * per eval mode, the eumentia–dementia boundary p_eval,c(p_train) ± 1σ, the amentia boundary,
 * and the count of each phase; then the test loss at the largest N (mean ± s.e. over seeds) at a
 * few (p_train, p_eval) points. Reads DIR/analysis.json and DIR/analysis-<mode>.json; with
 * --copy TARGET copies the figures the doc shows (1c, 1d) and analysis.json into TARGET.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pruning-summary.js runs/pruning [--copy docs/pruning]
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Analysis } from "../src/analysis/schema.js";
import { readAnalysis } from "../src/report/build.js";

const [dir, flag, target] = process.argv.slice(2);
if (!dir) throw new Error("usage: node dist/bench/pruning-summary.js DIR [--copy TARGET]");
const main = readAnalysis(dir);
const modes = main.modes ?? [{ evalMode: main.evalMode ?? "?", file: "analysis.json", phases: main.phases, boundaries: main.boundaries }];
const full = new Map<string, Analysis>(modes.map((m) => [m.evalMode, readAnalysis(dir, m.file)]));
const f3 = (v: number): string => v.toFixed(3);
const pTrains = main.input.pTrains;

console.log("p_eval,c(p_train) of the eumentia–dementia boundary (± 1σ; — none on this line):\n");
console.log(`| mode | ${pTrains.map((p) => `p_train ${p}`).join(" | ")} |`);
console.log(`|---|${pTrains.map(() => "---|").join("")}`);
for (const m of modes) {
  const cells = pTrains.map((pt) => {
    const found = m.boundaries.flatMap((b) => b.pEvalCritical).filter((b) => b.fixed === pt && [b.from, b.to].includes("eumentia") && [b.from, b.to].includes("dementia"));
    return found.length ? found.map((b) => `${f3(b.critical)} ± ${f3(b.criticalErr)}`).join("; ") : "—";
  });
  console.log(`| ${m.evalMode} | ${cells.join(" | ")} |`);
}

console.log("\nOther crossings (amentia, uncertain), per mode:\n");
for (const m of modes) {
  const other = m.boundaries.flatMap((b) => [...b.pEvalCritical, ...b.pTrainCritical]).filter((b) => !([b.from, b.to].includes("eumentia") && [b.from, b.to].includes("dementia")));
  console.log(`- ${m.evalMode}: ${other.length ? other.map((b) => `${b.along === "pEval" ? `p_eval,c(p_train ${b.fixed})` : `p_train,c(p_eval ${b.fixed})`} = ${f3(b.critical)} ± ${f3(b.criticalErr)} (${b.from}→${b.to})`).join("; ") : "none"}`);
}

console.log("\nPhase counts (cells of the p_train × p_eval grid):\n");
console.log("| mode | eumentia | dementia | amentia | uncertain |\n|---|---|---|---|---|");
for (const m of modes) {
  const n = (ph: string): number => m.phases.filter((p) => p.phase === ph).length;
  console.log(`| ${m.evalMode} | ${n("eumentia")} | ${n("dementia")} | ${n("amentia")} | ${n("uncertain")} |`);
}

console.log("\nTest loss at the largest N (mean ± s.e. over seeds), and α (± 1σ):\n");
const points = [0, 0.5].flatMap((pTrain) => [0.3, 0.5, 0.7, 0.9].map((pEval) => ({ pTrain, pEval })));
console.log(`| p_train, p_eval | ${modes.map((m) => m.evalMode).join(" | ")} |`);
console.log(`|---|${modes.map(() => "---|").join("")}`);
for (const { pTrain, pEval } of points) {
  const cells = modes.map((m) => {
    const a = full.get(m.evalMode) as Analysis;
    const c = a.curves.find((x) => x.pTrain === pTrain && x.pEval === pEval);
    const fit = a.fits.find((x) => x.pTrain === pTrain && x.pEval === pEval);
    if (!c) return "—";
    const last = c.points[c.points.length - 1];
    return `${f3(last.mean)} ± ${f3(last.stderr)} (α ${fit?.powerLaw ? `${f3(fit.powerLaw.alpha)} ± ${f3(fit.powerLaw.alphaErr)}` : "—"})`;
  });
  console.log(`| ${pTrain}, ${pEval} | ${cells.join(" | ")} |`);
}

if (flag === "--copy" && target) {
  mkdirSync(target, { recursive: true });
  const report = join(dir, "report");
  for (const f of readdirSync(report).filter((x) => /^fig1[cd]-.*\.png$/.test(x) || /^fig1-phase-diagram-.*\.png$/.test(x))) copyFileSync(join(report, f), join(target, f));
  for (const m of modes) copyFileSync(join(dir, m.file), join(target, m.file));
  if (main.modes) copyFileSync(join(dir, "analysis.json"), join(target, "analysis.json"));
  console.log(`\ncopied the figures and the analyses to ${target}`);
}
