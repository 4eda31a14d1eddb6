import type { ExportRow } from "./store.js";

/**
 * Tidy tables of a sweep's results: one row per (job × p_eval). CSV carries the scalar
 * columns; JSON is an array of objects that also carries the per-mask values.
 */
export const CSV_COLUMNS = [
  "jobKey",
  "width",
  "depth",
  "pTrain",
  "n",
  "seed",
  "pEval",
  "loss",
  "lossStderr",
  "accuracy",
  "accuracyStderr",
  "policy",
  "epochs",
  "stepsSetting",
  "patience",
  "valEvery",
  "maxSteps",
  "validation",
  "dataDraw",
  "steps",
  "bestStep",
  "bestValLoss",
  "stoppedBy",
  "batch",
  "lr",
  "optimizer",
  "evalMode",
  "masks",
  "rescale",
  "subsetSeed",
  "finalTrainLoss",
  "trainSeconds",
  "evalSeconds",
  "engine",
] as const satisfies ReadonlyArray<keyof ExportRow>;

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header line; numbers in their shortest exact form. */
export function toCsv(rows: ExportRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvField(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** JSON array of row objects (one per line inside the array, for diff-friendly files). */
export function toJson(rows: ExportRow[]): string {
  return rows.length === 0 ? "[]\n" : `[\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}
