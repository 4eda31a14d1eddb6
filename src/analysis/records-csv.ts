/**
 * EvalRecords from an exported results table (`mentia export DIR`, the results.csv.gz files
 * committed under docs/results/): what `mentia analyze --from-csv` reads when the SQLite store
 * is not at hand. The export has one row per job × p_eval with the mean loss over masks
 * (`loss`) and its standard error (`lossStderr`) but not the per-mask losses, so the records
 * have `maskLosses` = []. The analysis resamples masks only where a point has a single seed;
 * with ≥ 2 seeds at every point (every committed study) it uses the same numbers as from the
 * store (checked: docs/analysis.md, "Analysing an exported CSV").
 */
import { MentiaError } from "../errors.js";
import type { EvalRecord } from "../sweep/records.js";

const REQUIRED = ["jobKey", "width", "depth", "pTrain", "n", "seed", "pEval", "loss", "lossStderr", "accuracy"] as const;
const NUMERIC = ["width", "depth", "pTrain", "n", "seed", "pEval", "loss", "lossStderr", "accuracy"] as const;

/** Splits one CSV line (fields may be double-quoted, with "" for a quote). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses the text of an exported results CSV into EvalRecords (maskLosses empty). */
export function recordsFromCsv(text: string, source = "CSV"): EvalRecord[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) throw new MentiaError(`${source}: no data rows (expected the header of 'mentia export' and one row per job × p_eval)`);
  const header = splitCsvLine(lines[0]).map((h) => h.trim());
  const col = new Map(header.map((h, i) => [h, i]));
  const missing = REQUIRED.filter((k) => !col.has(k));
  if (missing.length) throw new MentiaError(`${source}: missing column(s) ${missing.join(", ")} (expected the header of 'mentia export')`);
  const modeCol = col.get("evalMode");
  return lines.slice(1).map((line, li) => {
    const cells = splitCsvLine(line);
    const get = (k: string): string => cells[col.get(k) as number] ?? "";
    const rec: Record<string, unknown> = { jobKey: get("jobKey"), maskLosses: [] };
    for (const k of NUMERIC) {
      const v = Number(get(k));
      if (get(k).trim() === "" || !Number.isFinite(v)) throw new MentiaError(`${source}: row ${li + 2}: ${k} is '${get(k)}', expected a number`);
      rec[k] = v;
    }
    if (modeCol !== undefined && (cells[modeCol] ?? "") !== "") rec.evalMode = cells[modeCol];
    return rec as unknown as EvalRecord;
  });
}
