import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ANALYSIS_OPTIONS, formatSummary } from "../analysis/analyze.js";
import { analyzeModes, modeAnalysisFile } from "../analysis/modes.js";
import type { Analysis } from "../analysis/schema.js";
import { evalModesOf } from "../train/job.js";
import { incompleteWarning } from "../analysis/completeness.js";
import { MentiaError } from "../errors.js";
import { sweepStatus } from "../sweep/status.js";
import { readEvalRecords } from "../sweep/store.js";
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
};

const USAGE = "mentia analyze DIR [--json] [--allow-partial]";
const DESCRIPTION = [
  "Analyses the sweep in DIR: loss curves L(N) per (width, depth, p_train, p_eval), power-law fits",
  "with bootstrap CIs, phase labels (eumentia / dementia / amentia / uncertain, each with its rule),",
  "phase boundaries with errors, crossover sizes N*, N*(p) fits (BKT vs power law) and the",
  "finite-size-scaling collapse (power law, BKT, BKT in ξ; model comparison). Writes DIR/analysis.json (schema: README, section Analysis).",
  "An unfinished sweep is analysed with a warning that names what is missing; each p_train then uses",
  "only the training-set sizes × seeds that all have results (so no curve mixes seeds across N).",
  "A sweep evaluated in several eval modes is analysed per mode: DIR/analysis-<mode>.json for each,",
  "and DIR/analysis.json = the first mode's, with every mode's phases and boundaries (docs/pruning.md).",
].join("\n");

export const command: Command = {
  summary: "analyse a sweep: scaling fits, phases, boundaries, N*, collapses → DIR/analysis.json",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "analyze", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const dir = positional[0];
    const cb = flags["collapse-bootstrap"] as number;
    if (!(cb >= 2)) throw new MentiaError(`analyze: --collapse-bootstrap must be ≥ 2, got ${cb}`);
    const records = readEvalRecords(dir);
    const config = sweepStatus(dir).config;
    const expected = config && { widths: config.widths, depths: config.depths, pTrains: config.pTrain, pEvals: config.pEval, sizes: config.sizes, seeds: config.seeds };
    const order = config ? evalModesOf(config) : [];
    const all = analyzeModes(records, { bootstrapReplicates: flags.bootstrap as number, ciLevel: flags["ci-level"] as number, randomSeed: flags.seed as number }, { collapseBootstrapReplicates: cb, expected }, order);
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
