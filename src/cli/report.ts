import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ANALYSIS_SCHEMA_VERSION, type Analysis } from "../analysis/schema.js";
import { MentiaError } from "../errors.js";
import { buildReport } from "../report/build.js";
import { readReportMetaOrNote } from "../report/meta.js";
import { formatHelp, parseArgs, wantsHelp, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  output: { kind: "string", help: "report folder (default: DIR/report)", metavar: "DIR" },
  "png-scale": { kind: "number", default: 2, help: "PNG resolution relative to the SVG", metavar: "X" },
};

const USAGE = "mentia report DIR [--output DIR/report]";
const DESCRIPTION =
  "Writes the report of an analysed sweep: DIR/report/index.html (one self-contained page that\nopens from disk: phase diagrams, loss curves, exponents, N*, collapses, accuracy, run details),\nevery figure as SVG and PNG, and every table as CSV. Needs DIR/analysis.json ('mentia analyze DIR').";

const ARRAYS = ["curves", "fits", "phases", "boundaries", "crossovers", "lengthScaleFits", "collapses", "warnings"] as const;

/** Reads and checks DIR/analysis.json (shape only: the analysis stage wrote it). */
export function readAnalysis(dir: string): Analysis {
  const path = join(dir, "analysis.json");
  if (!existsSync(path)) throw new MentiaError(`${path} not found: run 'mentia analyze ${dir}' first`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new MentiaError(`${path}: not valid JSON (${(err as Error).message}); rerun 'mentia analyze ${dir}'`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MentiaError(`${path}: not a mentia analysis (expected an object)`);
  const obj = raw as Record<string, unknown>;
  if (obj.schemaVersion !== ANALYSIS_SCHEMA_VERSION) {
    const v = obj.schemaVersion;
    if (typeof v === "number" && v > ANALYSIS_SCHEMA_VERSION) throw new MentiaError(`${path}: analysis schema ${v} is newer than this mentia reads (${ANALYSIS_SCHEMA_VERSION}); update mentia`);
    throw new MentiaError(`${path}: not a mentia analysis of schema ${ANALYSIS_SCHEMA_VERSION} (schemaVersion ${JSON.stringify(v)}); rerun 'mentia analyze ${dir}'`);
  }
  for (const k of ARRAYS) if (!Array.isArray(obj[k])) throw new MentiaError(`${path}: field '${k}' missing or not a list; rerun 'mentia analyze ${dir}'`);
  for (const k of ["options", "input"]) if (typeof obj[k] !== "object" || obj[k] === null) throw new MentiaError(`${path}: field '${k}' missing; rerun 'mentia analyze ${dir}'`);
  return obj as unknown as Analysis;
}

export const command: Command = {
  summary: "write DIR/report/index.html: figures (SVG, PNG) and tables (CSV) of an analysed sweep",
  async run(argv) {
    if (wantsHelp(argv)) {
      console.log(formatHelp(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const { flags, positional } = parseArgs(argv, FLAGS, "report");
    if (positional.length !== 1) throw new MentiaError(`report: expected one sweep directory (usage: ${USAGE})`);
    const dir = positional[0];
    const scale = flags["png-scale"] as number;
    if (!(scale > 0 && scale <= 8)) throw new MentiaError(`report: --png-scale must be in (0, 8], got ${scale}`);
    const analysis = readAnalysis(dir);
    const meta = readReportMetaOrNote(dir);
    for (const n of meta.notes) console.error(`mentia report: ${n}`);
    const out = (flags.output as string | undefined) ?? join(dir, "report");
    const result = await buildReport(analysis, meta, out, { pngScale: scale });
    for (const w of result.warnings) console.error(`mentia report: warning: ${w}`);
    const rel = relative(process.cwd(), result.indexPath);
    const shown = rel && !rel.startsWith("..") ? rel : result.indexPath;
    console.log(`wrote ${shown} (${result.figureFiles.length / 2} figures as SVG+PNG, ${result.tableFiles.length} CSV tables, ${result.seconds.toFixed(1)} s)`);
    return 0;
  },
};
