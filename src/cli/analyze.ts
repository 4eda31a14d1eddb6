import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { analyzeRecords, DEFAULT_ANALYSIS_OPTIONS, formatSummary } from "../analysis/analyze.js";
import { describeSlice, interpolationCheck, parseSlice, sliceName, sliceRecords, trajectoryCurves, type Slice } from "../analysis/slice.js";
import type { SweepConfig } from "../sweep/config.js";
import { analyzeModes, modeAnalysisFile } from "../analysis/modes.js";
import type { Analysis, SliceInfo } from "../analysis/schema.js";
import { evalModesOf } from "../train/job.js";
import { incompleteWarning } from "../analysis/completeness.js";
import { MentiaError } from "../errors.js";
import { sweepStatus } from "../sweep/status.js";
import { readEvalRecords, readTrajectoryRecords } from "../sweep/store.js";
import { recordsFromCsv } from "../analysis/records-csv.js";
import type { EvalRecord } from "../sweep/records.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

/**
 * `mentia analyze DIR [--json]`: the analysis of a sweep's results (scaling fits, phases,
 * boundaries, N*, collapses) into DIR/analysis.json, with a text summary.
 */
const FLAGS: Record<string, FlagSpec> = {
  json: { kind: "boolean", help: "print the analysis JSON on stdout instead of the summary" },
  bootstrap: { kind: "int", default: DEFAULT_ANALYSIS_OPTIONS.bootstrapReplicates, help: "bootstrap replicates for every CI", metavar: "B" },
  "collapse-bootstrap": { kind: "int", default: 30, help: "bootstrap replicates for collapse parameter errors", metavar: "B" },
  "ci-level": { kind: "number", default: DEFAULT_ANALYSIS_OPTIONS.ciLevel, help: "two-sided confidence level", metavar: "C" },
  "allow-partial": { kind: "boolean", help: "analyse an unfinished sweep without the warning on stderr (analysis.json and the report still say it is partial)" },
  seed: { kind: "int", default: DEFAULT_ANALYSIS_OPTIONS.randomSeed, help: "seed of the analysis PRNG (bootstrap, global search)", metavar: "S" },
  "phase-rule": { kind: "string", default: "window", help: "window: label by α over the largest sizes (N_max/4 … N_max); global: one power law over the whole range plus the rising tail (mentia ≤ 0.3)", metavar: "RULE" },
  slice: {
    kind: "string",
    help: "read L(N) from the trajectories at early-stop, steps=T, epochs=E or samples=S (a comma list runs each) → DIR/analysis-slice-<slice>.json; needs a sweep with 'trajectory' in its config",
    metavar: "SLICE",
  },
  "from-csv": { kind: "string", help: "analyse an exported results table (mentia export; .csv or .csv.gz) instead of a sweep directory; needs --out", metavar: "FILE" },
  out: { kind: "string", help: "with --from-csv: directory to write analysis.json into (created if missing)", metavar: "DIR" },
};

const USAGE = "mentia analyze DIR [--json] [--allow-partial] [--slice early-stop|steps=T|epochs=E|samples=S[,...]]\n       mentia analyze --from-csv FILE.csv[.gz] --out DIR [--json]";
const DESCRIPTION = [
  "Analyses the sweep in DIR: loss curves L(N) per (width, depth, p_train, p_eval), power-law fits",
  "with bootstrap CIs, phase labels (eumentia / dementia / amentia / uncertain, each with its rule;",
  "by default from α = −d ln L/d ln N over the largest sizes, docs/analysis.md §8), phase boundaries",
  "with errors, crossover sizes N*, N*(p) fits (BKT, power law, and a quadratic that never diverges) and the",
  "finite-size-scaling collapse (power law, BKT, BKT in ξ; model comparison). Writes DIR/analysis.json (schema: README, section Analysis).",
  "An unfinished sweep is analysed with a warning that names what is missing; each p_train then uses",
  "only the training-set sizes × seeds that all have results (so no curve mixes seeds across N).",
  "A sweep evaluated in several eval modes is analysed per mode: DIR/analysis-<mode>.json for each,",
  "and DIR/analysis.json = the first mode's, with every mode's phases and boundaries (docs/pruning.md).",
  "--slice reads L(N) from the recorded trajectories instead, at early stopping, a fixed number of steps,",
  "epochs or samples (interpolated in ln steps between checkpoints; docs/analysis.md, Slices), and writes",
  "DIR/analysis-slice-<slice>.json (e.g. analysis-slice-steps-3000.json) with its \"slice\"; 'mentia report'",
  "then draws the phase diagram of every slice side by side.",
  "--from-csv analyses an exported table (mentia export) when the store is not at hand: the export has",
  "no per-mask losses, which the analysis only uses where a point has a single seed (docs/analysis.md).",
].join("\n");

export const command: Command = {
  summary: "analyse a sweep: scaling fits, phases, boundaries, N*, collapses → DIR/analysis.json",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "analyze", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const csv = flags["from-csv"] as string | undefined;
    if (csv !== undefined && positional.length > 0) throw new MentiaError("analyze: give either a sweep directory or --from-csv FILE, not both");
    if (csv === undefined && positional.length !== 1) throw new MentiaError(`analyze: expected one sweep directory (or --from-csv FILE --out DIR); usage: ${USAGE.split("\n")[0]}`);
    if (csv !== undefined && !flags.out) throw new MentiaError("analyze: --from-csv needs --out DIR (where analysis.json goes)");
    if (csv === undefined && flags.out) throw new MentiaError("analyze: --out is for --from-csv (a sweep's analysis goes into its directory)");
    const dir = csv !== undefined ? (flags.out as string) : positional[0];
    const cb = flags["collapse-bootstrap"] as number;
    if (!(cb >= 2)) throw new MentiaError(`analyze: --collapse-bootstrap must be ≥ 2, got ${cb}`);
    const rule = flags["phase-rule"];
    if (rule !== "window" && rule !== "global") throw new MentiaError(`analyze: --phase-rule must be window or global, got '${String(rule)}'`);
    if (csv !== undefined && flags.slice !== undefined) throw new MentiaError("analyze: --slice reads a sweep's trajectories; an exported table has none (give the sweep directory)");
    const config = csv !== undefined ? undefined : sweepStatus(dir).config;
    if (flags.slice !== undefined) return analyzeSlices(dir, String(flags.slice), config, flags);
    let records: EvalRecord[];
    if (csv !== undefined) {
      if (!existsSync(csv)) throw new MentiaError(`analyze: ${csv}: no such file`);
      let text: string;
      try {
        const raw = readFileSync(csv);
        text = (csv.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
      } catch (err) {
        throw new MentiaError(`analyze: cannot read ${csv} (${(err as Error).message.split("\n")[0]})`);
      }
      records = recordsFromCsv(text, csv);
      mkdirSync(dir, { recursive: true });
    } else records = readEvalRecords(dir);
    const expected = config && { widths: config.widths, depths: config.depths, pTrains: config.pTrain, pEvals: config.pEval, sizes: config.sizes, seeds: config.seeds };
    const order = config ? evalModesOf(config) : [];
    const all = analyzeModes(records, { bootstrapReplicates: flags.bootstrap as number, ciLevel: flags["ci-level"] as number, randomSeed: flags.seed as number, phaseRule: rule }, { collapseBootstrapReplicates: cb, expected }, order);
    const trajectories = csv !== undefined ? [] : readTrajectoryRecords(dir);
    if (trajectories.length > 0) for (const a of all) a.analysis.trajectories = trajectoryCurves(trajectories);
    const analysis = all[0].analysis;
    const c = analysis.completeness;
    if (c && !c.complete && !flags["allow-partial"]) {
      const bar = "!".repeat(78);
      const shown = [...c.missing.map((m) => `missing: ${m}`), ...c.excluded.map((m) => `left out: ${m}`)];
      console.error([bar, `mentia analyze: WARNING: ${incompleteWarning(c)}`, ...shown.slice(0, 12).map((m) => `  ${m}`), ...(shown.length > 12 ? [`  … and ${shown.length - 12} more (analysis.json 'warnings')`] : []), `  finish it with 'mentia run CONFIG --out ${dir}' (or pass --allow-partial to analyse it without this warning)`, bar].join("\n"));
    }
    const dataset = config?.dataset ?? "mnist";
    const write = (file: string, analysisOfMode: Analysis): string => {
      const a: Analysis = { ...analysisOfMode, dataset };
      const path = join(dir, file);
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(a, null, 1) + "\n");
      renameSync(tmp, path);
      return path;
    };
    // Each mode's own file first, analysis.json (the first mode's, with the summary of all) last.
    const own = all.slice(1);
    const written = own.map(({ evalMode, analysis: a }) => write(modeAnalysisFile(evalMode as string), a));
    const path = write("analysis.json", analysis);
    if (flags.json) console.log(JSON.stringify(analysis));
    else if (own.length === 0) console.log(`${formatSummary(analysis)}\n\nwrote ${path}`);
    else console.log(`${own.map(({ evalMode, analysis: a }) => `=== eval mode ${evalMode} ===\n${formatSummary(a)}`).join("\n\n")}\n\nwrote ${[...written, path].join(", ")} (analysis.json: eval mode ${all[0].evalMode}, with the phases and boundaries of every mode)`);
    return 0;
  },
};

/** `--slice`: one analysis per slice, each from the trajectories, into DIR/analysis-slice-<slice>.json. */
function analyzeSlices(dir: string, list: string, config: SweepConfig | undefined, flags: Record<string, unknown>): number {
  const slices = list.split(",").map((t) => parseSlice(t.trim()));
  const traj = readTrajectoryRecords(dir);
  if (traj.length === 0) throw new MentiaError(`analyze: ${dir} holds no trajectories, so --slice has nothing to read (add a 'trajectory' key to the study's config: 'mentia init -' shows one)`);
  const expected = config && { widths: config.widths, depths: config.depths, pTrains: config.pTrain, pEvals: config.trajectory?.pEval ?? sortedUnique(traj.map((r) => r.pEval)), sizes: config.sizes, seeds: config.seeds };
  const interpolation = interpolationCheck(traj);
  // Every slice is analysed before any file is written: a slice that fails writes nothing.
  const done: Array<{ slice: Slice; analysis: Analysis }> = [];
  for (const slice of slices) {
    const { records, outside } = sliceRecords(traj, slice);
    if (records.length === 0) throw new MentiaError(`analyze: no training's checkpoints reach the slice ${sliceName(slice)} (${outside.slice(0, 3).join("; ")}${outside.length > 3 ? "; …" : ""})`);
    const info: SliceInfo = { kind: slice.kind, value: slice.value, outside, interpolation: slice.kind === "early-stop" ? null : interpolation };
    const analysis: Analysis = {
      ...analyzeRecords(records, { bootstrapReplicates: flags.bootstrap as number, ciLevel: flags["ci-level"] as number, randomSeed: flags.seed as number, phaseRule: flags["phase-rule"] as "window" | "global" }, { collapseBootstrapReplicates: flags["collapse-bootstrap"] as number, expected }),
      evalMode: traj[0].evalMode,
      slice: info,
      trajectories: trajectoryCurves(traj),
    };
    if (outside.length > 0) analysis.warnings.unshift(`${outside.length} training(s) do not reach the slice ${sliceName(slice)} and are left out: ${outside.slice(0, 3).join("; ")}${outside.length > 3 ? "; …" : ""}`);
    done.push({ slice, analysis });
  }
  const out: string[] = [];
  for (const { slice, analysis } of done) {
    const info = analysis.slice as SliceInfo;
    const outside = info.outside;
    const path = join(dir, `analysis-slice-${sliceName(slice)}.json`);
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(analysis, null, 1) + "\n");
    renameSync(tmp, path);
    if (flags.json) console.log(JSON.stringify(analysis));
    else {
      const interp = info.interpolation ? `; interpolation between checkpoints: leave-one-out error median ${(100 * info.interpolation.medianRelError).toFixed(2)} %, 90th percentile ${(100 * info.interpolation.p90RelError).toFixed(2)} % of L over ${info.interpolation.checks} checks at twice the checkpoint gaps (the slices' own error is about half of this: docs/analysis.md, Slices)` : "";
      console.log(`=== slice ${sliceName(slice)}: L(N) ${describeSlice(slice)}${outside.length ? `, ${outside.length} training(s) outside` : ""}${interp} ===\n${formatSummary(analysis)}\n`);
    }
    out.push(path);
  }
  if (!flags.json) console.log(`wrote ${out.join(", ")}`);
  return 0;
}

function sortedUnique(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}
