/**
 * The error of reading L at a slice between checkpoints (src/analysis/slice.ts) at a real
 * spacing: in the trajectories of the sweep DIR, every other checkpoint of the log grid is kept,
 * the dropped ones are predicted from the kept ones (linear in ln steps) and compared with their
 * measured L; beside it, the leave-one-out check `mentia analyze --slice` prints, run on the
 * kept checkpoints (so on the same spacing).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/slice-interpolation.js DIR
 */
import { interpolationCheck, sliceRecords } from "../src/analysis/slice.js";
import type { TrajectoryRecord } from "../src/sweep/records.js";
import { readTrajectoryRecords } from "../src/sweep/store.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node dist/bench/slice-interpolation.js DIR (a sweep with trajectories)");
const byJob = new Map<string, TrajectoryRecord[]>();
for (const r of readTrajectoryRecords(dir)) byJob.set(r.jobKey, [...(byJob.get(r.jobKey) ?? []), r]);
const errs: number[] = [];
const kept: TrajectoryRecord[] = [];
for (const rs of byJob.values()) {
  const grid = [...new Set(rs.filter((r) => !r.best && r.step !== r.endStep).map((r) => r.step))].sort((a, b) => a - b);
  const keep = new Set(grid.filter((_, i) => i % 2 === 0));
  const mine = rs.filter((r) => keep.has(r.step) || r.best || r.step === r.endStep);
  kept.push(...mine);
  for (const s of grid.filter((x) => !keep.has(x)))
    for (const g of sliceRecords(mine, { kind: "steps", value: s }).records) {
      const truth = rs.find((r) => r.step === s && r.pEval === g.pEval)!;
      errs.push(Math.abs(g.loss - truth.loss) / truth.loss);
    }
}
errs.sort((a, b) => a - b);
const q = (p: number): string => (100 * errs[Math.min(errs.length - 1, Math.floor(p * errs.length))]).toFixed(2);
const check = interpolationCheck(kept);
console.log(`${byJob.size} trajectories: interpolation error at the kept spacing: median ${q(0.5)} %, 90th percentile ${q(0.9)} %, max ${q(1)} % of L (${errs.length} predictions)`);
if (check) console.log(`the leave-one-out check on the kept checkpoints: median ${(100 * check.medianRelError).toFixed(2)} %, 90th percentile ${(100 * check.p90RelError).toFixed(2)} % (${check.checks} checks)`);
