/**
 * L(N) side by side for docs/datasets.md: for each analysis.json given, the mean test loss
 * (over seeds; ± standard error) per N at the chosen p_train and p_eval values, restricted to
 * the seeds every file has (so MNIST's 16-seed transition study can be set beside a 2-seed
 * first look: with --seeds 0,1 both use seeds 0 and 1 only).
 *
 *   node dist/scripts/datasets-curves.js [--width 128 --depth 2] --p-train 0 --p-eval 0,0.5 [--seeds 0,1] NAME=path/analysis.json ...
 */
import { readFileSync } from "node:fs";
import type { Analysis } from "../src/analysis/schema.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const width = Number(opt("--width") ?? "128");
const depth = Number(opt("--depth") ?? "2");
const pTrain = Number(opt("--p-train") ?? "0");
const pEvals = (opt("--p-eval") ?? "0").split(",").map(Number);
const seedsOpt = opt("--seeds");
const only = seedsOpt ? new Set(seedsOpt.split(",").map(Number)) : undefined;
const files = args.map((a) => {
  const [name, path] = a.includes("=") ? a.split("=") : [a, a];
  return { name, a: JSON.parse(readFileSync(path, "utf8")) as Analysis };
});
for (const pEval of pEvals) {
  const cols = files.map(({ name, a }) => {
    const c = a.curves.find((c) => c.width === width && c.depth === depth && c.pTrain === pTrain && c.pEval === pEval);
    const byN = new Map<number, string>();
    for (const p of c?.points ?? []) {
      const vals = p.perSeed.filter((_, i) => !only || only.has(p.seeds[i]));
      if (vals.length === 0) continue;
      const m = vals.reduce((s, v) => s + v, 0) / vals.length;
      const se = vals.length > 1 ? Math.sqrt(vals.reduce((s, v) => s + (v - m) ** 2, 0) / (vals.length - 1) / vals.length) : NaN;
      byN.set(p.n, `${m.toFixed(4)}${Number.isFinite(se) ? ` ± ${se.toFixed(4)}` : ""} (${vals.length})`);
    }
    return { name, byN };
  });
  const ns = [...new Set(cols.flatMap((c) => [...c.byN.keys()]))].sort((x, y) => x - y);
  console.log(`\nL(N) at width ${width}, depth ${depth}, p_train ${pTrain}, p_eval ${pEval} (mean over seeds ± s.e. (seeds))\n`);
  console.log(`| N | ${cols.map((c) => c.name).join(" | ")} |`);
  console.log(`|---|${cols.map(() => "---").join("|")}|`);
  for (const n of ns) console.log(`| ${n} | ${cols.map((c) => c.byN.get(n) ?? "").join(" | ")} |`);
}
