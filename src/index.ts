/**
 * The library API: `import { … } from "mentia"` (package.json "exports" points here).
 * Everything the command line does is reachable from these functions; the CLI (src/cli/)
 * only parses, validates, calls them and prints.
 *
 *   loadConfig / parseConfig → runSweep (or dryRunSweep) → readEvalRecords → analyzeRecords
 *   → buildReport / reportSweep;  runJob trains and evaluates one network.
 */
export { MentiaError } from "./errors.js";

// Data and engines
export { loadMnist, nestedSubset, MNIST_FILES } from "./data/mnist.js";
export { loadDataset, datasetSource, DATASET_NAMES, type DatasetName, type DatasetSource } from "./data/datasets.js";
export { Deformer, DEFAULT_DEFORMATION, type DeformationParams } from "./data/deform.js";
export { getEngine, activeEngineDescription } from "./engine/select.js";
export { EVAL_MODES, type EvalMode } from "./engine/types.js";
export { Pruner, neuronScores, PRUNING_MODES, type PruningMode } from "./engine/prune.js";

// One training run
export { runJob } from "./train/train.js";
export type { TrainJob, JobEval, JobResult } from "./train/job.js";

// Sweeps
export { loadConfig, parseConfig, CONFIG_DEFAULTS, type SweepConfig } from "./sweep/config.js";
export { planJobs, jobCount, describeJob } from "./sweep/plan.js";
export { runSweep, dryRunSweep, defaultWorkers, type RunSweepOptions, type SweepSummary, type DryRunReport } from "./sweep/sweep.js";
export { readEvalRecords, readExportRows } from "./sweep/store.js";
export { sweepStatus, type SweepStatus } from "./sweep/status.js";
export { mergeShards } from "./sweep/merge.js";
export type { EvalRecord } from "./sweep/records.js";

// Analysis
export { analyzeRecords, formatSummary, resolveOptions, DEFAULT_ANALYSIS_OPTIONS, type AnalyzeExtras } from "./analysis/analyze.js";
export { analyzeModes, modeAnalysisFile } from "./analysis/modes.js";
export { completeCells, type ExpectedGrid } from "./analysis/completeness.js";
export { notDeterminedReason, lengthScaleNotDetermined, collapseNotDetermined } from "./analysis/determined.js";
export { collapsePower, collapseBkt, collapseBktXi, compareCollapseForms, fitCollapse } from "./analysis/collapse.js";
export { syntheticRecords, xiCollapseRows, type SyntheticGrid } from "./analysis/synthetic.js";
export { collapseForms, COLLAPSE_FORM_LIST } from "./analysis/schema.js";
export { recordsFromCsv } from "./analysis/records-csv.js";
export type * from "./analysis/schema.js";

// Report
export { buildReport, reportSweep, readAnalysis, type BuildReportOptions, type ReportResult } from "./report/build.js";
export { readReportMeta, emptyMeta, type ReportMeta } from "./report/meta.js";
