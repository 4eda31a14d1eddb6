/**
 * A small but complete analysis.json for the report tests: synthetic EvalRecords with a
 * known phase structure (eumentia → dementia along p_eval, amentia at high p_train, L(N)
 * that falls and then rises past the boundary, two widths) analysed by the analysis stage
 * itself (analyzeRecords, with few bootstrap replicates for speed). Not a test file (no
 * tests in it).
 */
import { analyzeRecords } from "../src/analysis/analyze.js";
import type { Analysis } from "../src/analysis/schema.js";
import { syntheticRecords } from "../src/analysis/synthetic.js";
import type { ReportMeta } from "../src/report/meta.js";

export interface FixtureGrid {
  widths: number[];
  depths: number[];
  pTrains: number[];
  pEvals: number[];
  sizes: number[];
}

export const SMALL_GRID: FixtureGrid = {
  widths: [32, 64],
  depths: [2],
  pTrains: [0, 0.4, 0.9],
  pEvals: [0, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9],
  sizes: [250, 700, 2000, 5600, 16000],
};

const LN10 = Math.log(10);

/** True boundary p_eval,c(p_train) of the fixture (eumentia below, dementia above). */
export function trueCritical(width: number, pTrain: number): number {
  return 0.25 + 0.5 * pTrain + (width > 32 ? 0.03 : 0);
}

function trueLoss(g: { width: number; pTrain: number; pEval: number }, n: number): number {
  if (g.pTrain >= 0.85) return LN10 * 0.995;
  const x = n / 250;
  const c = 0.02 * Math.exp(12 * (g.pEval - trueCritical(g.width, g.pTrain)));
  return 0.08 + 1.2 * Math.pow(x, -0.5) + c * Math.pow(x, 0.4);
}

/** The fixture's analysis.json, as 'mentia analyze' computes it (fewer bootstrap replicates). */
export function syntheticReportAnalysis(grid: FixtureGrid = SMALL_GRID, seed = 7): Analysis {
  const records = syntheticRecords({ ...grid, seeds: 2, masks: 3, seedNoise: 0.02, maskNoise: 0.03 }, (g, n) => trueLoss(g, n), seed);
  return analyzeRecords(records, { bootstrapReplicates: 40 }, { createdAt: "2025-01-01T00:00:00.000Z", collapseBootstrapReplicates: 5 });
}

/** The same analysis with nothing beyond curves, fits and labels (figures 1b, 4, 5 have nothing to show). */
export function bareAnalysis(a: Analysis): Analysis {
  return { ...a, boundaries: [], crossovers: [], lengthScaleFits: [], collapses: [], warnings: [] };
}

export function fixtureMeta(dir = "runs/fixture"): ReportMeta {
  return {
    sweepDir: dir,
    checksums: { "train-images-idx3-ubyte": "0123456789abcdef" },
    engines: ["native"],
    versions: ["mentia 0.1.0, node v20.0.0, sqlite 3.45.0"],
    jobs: { planned: 48, done: 47, failed: 1, running: 0, pending: 0, outOfPlan: 0 },
    failures: [{ key: "abcdef0123456789", job: "width 32 depth 2 pTrain 0 N 250 seed 1", error: "synthetic failure <for the header test>" }],
    workSeconds: 321.5,
    elapsedSeconds: 187.25,
    firstStart: "2025-01-01T00:00:00.000Z",
    lastFinish: "2025-01-01T00:03:07.250Z",
    notes: [],
    training: [{ width: 32, depth: 2, pTrain: 0, n: 250, jobs: 2, meanSteps: 300, meanBestStep: 150, meanBestEpoch: 37.5, meanBestValLoss: 0.42, stoppedBy: { patience: 2 } }],
  };
}
