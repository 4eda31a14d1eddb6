/**
 * Analysis of a sweep evaluated in several modes (src/engine/types.ts EvalMode): each mode's
 * records are analysed on their own (the same trained networks, removed another way), and
 * the first mode's analysis carries a summary of every mode (phases, boundaries) for the
 * report's side-by-side figures.
 */
import type { EvalRecord } from "../sweep/records.js";
import { analyzeRecords, type AnalyzeExtras } from "./analyze.js";
import type { Analysis, AnalysisOptions } from "./schema.js";

/** File name of one mode's full analysis in a multi-mode sweep. */
export function modeAnalysisFile(mode: string): string {
  return `analysis-${mode}.json`;
}

/** The modes of the records, in `order` first (the config's), then by name; [] when no record names one. */
export function recordModes(records: readonly EvalRecord[], order: readonly string[] = []): string[] {
  const seen = new Set<string>(records.flatMap((r) => (r.evalMode ? [r.evalMode] : [])));
  return [...order.filter((m) => seen.has(m)), ...[...seen].filter((m) => !order.includes(m)).sort()];
}

/**
 * One analysis per mode (the records of one mode each), in mode order. With one mode (or
 * none named) this is analyzeRecords with `evalMode` set; with several, the list starts with
 * the first mode's analysis with `modes` (every mode's phases, boundaries and file name: what
 * analysis.json holds), followed by every mode's own analysis (the first mode's again, without
 * `modes`).
 */
export function analyzeModes(records: readonly EvalRecord[], partial: Partial<AnalysisOptions> = {}, extras: AnalyzeExtras = {}, order: readonly string[] = []): Array<{ evalMode: string | undefined; analysis: Analysis }> {
  const modes = recordModes(records, order);
  if (modes.length <= 1) {
    const analysis = analyzeRecords(records, partial, extras);
    return [{ evalMode: modes[0], analysis: modes[0] ? { ...analysis, evalMode: modes[0] } : analysis }];
  }
  const out = modes.map((evalMode) => ({ evalMode, analysis: { ...analyzeRecords(records.filter((r) => r.evalMode === evalMode), partial, extras), evalMode } as Analysis }));
  const modesSummary = out.map(({ evalMode, analysis }) => ({ evalMode: evalMode as string, file: modeAnalysisFile(evalMode as string), phases: analysis.phases, boundaries: analysis.boundaries }));
  // The first mode twice: its own file as every mode's, and with the summary of all (analysis.json).
  return [{ evalMode: out[0].evalMode, analysis: { ...out[0].analysis, modes: modesSummary } }, ...out];
}
