import { renameSync, writeFileSync } from "node:fs";
import { MentiaError } from "../errors.js";
import { toCsv, toJson, trajectoryCsv } from "../sweep/export.js";
import { readExportRows, readTrajectoryRecords } from "../sweep/store.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  format: { kind: "string", default: "csv", help: "csv | json", metavar: "FMT" },
  output: { kind: "string", help: "write to FILE instead of stdout", metavar: "FILE" },
  trajectory: { kind: "boolean", help: "export the trajectories instead: one row per job × checkpoint × pEval (step, epoch, samples, best, valLoss, loss, ...)" },
};

const USAGE = "mentia export DIR [--format csv|json] [--output FILE] [--trajectory]";
const DESCRIPTION = "Writes the results of a sweep as a tidy table: one row per finished job × pEval, with\njobKey, width, depth, pTrain, n, seed, pEval, loss, lossStderr, accuracy, ... (JSON adds per-mask values).";

export const command: Command = {
  summary: "export sweep results as CSV or JSON (one row per job × p_eval)",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "export", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const format = flags.format;
    if (format !== "csv" && format !== "json") throw new MentiaError(`export: --format must be csv or json, got '${String(format)}'`);
    let rows: ReadonlyArray<unknown>, text: string;
    if (flags.trajectory) {
      const t = readTrajectoryRecords(positional[0]);
      if (t.length === 0) throw new MentiaError(`export: ${positional[0]} holds no trajectories (the study's config has no 'trajectory' key, or no job with one has finished)`);
      [rows, text] = [t, format === "csv" ? trajectoryCsv(t) : toJson(t)];
    } else {
      const e = readExportRows(positional[0]);
      [rows, text] = [e, format === "csv" ? toCsv(e) : toJson(e)];
    }
    const output = flags.output as string | undefined;
    if (output === undefined || output === "-") {
      process.stdout.write(text);
      return 0;
    }
    const tmp = `${output}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, output);
    } catch (err) {
      throw new MentiaError(`export: cannot write ${output} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    console.error(`wrote ${rows.length} rows to ${output}`);
    return 0;
  },
};
