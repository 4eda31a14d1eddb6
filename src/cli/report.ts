import { relative } from "node:path";
import { MentiaError } from "../errors.js";
import { reportSweep } from "../report/build.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  output: { kind: "string", help: "report folder (default: DIR/report)", metavar: "DIR" },
  "eval-mode": { kind: "string", help: "a sweep evaluated in several modes: the report of this mode (default output DIR/report-MODE); without it, the first mode's report with every mode's phase diagrams and boundaries", metavar: "MODE" },
  "png-scale": { kind: "number", default: 2, help: "PNG resolution relative to the SVG", metavar: "X" },
};

const USAGE = "mentia report DIR [--output DIR/report] [--eval-mode MODE]";
const DESCRIPTION =
  "Writes the report of an analysed sweep: DIR/report/index.html (self-contained pages that open\nfrom disk: phase diagrams, loss curves, exponents, N*, collapses, accuracy, run details; one page\nper architecture, index.html the first), every figure as SVG and PNG, and every table as CSV.\nNeeds DIR/analysis.json ('mentia analyze DIR').";

export const command: Command = {
  summary: "write DIR/report/index.html: figures (SVG, PNG) and tables (CSV) of an analysed sweep",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "report", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const dir = positional[0];
    const scale = flags["png-scale"] as number;
    if (!(scale > 0 && scale <= 8)) throw new MentiaError(`report: --png-scale must be in (0, 8], got ${scale}`);
    const result = await reportSweep(dir, { output: flags.output as string | undefined, pngScale: scale, evalMode: flags["eval-mode"] as string | undefined, onNote: (n) => console.error(`mentia report: ${n}`) });
    for (const w of result.warnings) console.error(`mentia report: warning: ${w}`);
    const rel = relative(process.cwd(), result.indexPath);
    const shown = rel && !rel.startsWith("..") ? rel : result.indexPath;
    console.log(`wrote ${shown} (${result.pages.length === 1 ? "one page" : `${result.pages.length} pages, one per architecture`}, ${result.figureFiles.length / 2} figures as SVG+PNG, ${result.tableFiles.length} CSV tables, ${result.seconds.toFixed(1)} s)`);
    for (const png of result.phaseDiagramPngs) console.log(`phase diagram: ${png}`);
    return 0;
  },
};
