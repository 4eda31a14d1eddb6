import { fileURLToPath } from "node:url";
import { getEngine } from "../engine/select.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

/**
 * `npm start`: the embedded default study, end to end — run the sweep of
 * configs/default.yaml (resuming if it is already partly or fully done), analyse it, and
 * write its report. It only chains the run, analyze and report commands.
 */
const DEFAULT_CONFIG = fileURLToPath(new URL("../../../configs/default.yaml", import.meta.url));

const FLAGS: Record<string, FlagSpec> = {
  config: { kind: "string", default: DEFAULT_CONFIG, help: "the study to run", metavar: "FILE" },
  out: { kind: "string", default: "runs/default", help: "sweep directory (results, analysis.json, report/)", metavar: "DIR" },
  workers: { kind: "int", help: "worker threads (default: one per core)", metavar: "K" },
};

const USAGE = "mentia start [--out DIR] [--config FILE] [--workers K]";
const DESCRIPTION =
  "Runs the default study (configs/default.yaml: width 128, depth 2, p_train × p_eval grid, N = 250…16000,\n4 seeds) on real MNIST, resuming if DIR already holds part of it, then analyses it and writes the report.";

export const command: Command = {
  summary: "run the embedded default study: sweep → analyze → report (what `npm start` does)",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "start", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 0, what: "no arguments" } });
    if (!args) return 0;
    const { flags } = args;
    const dir = flags.out as string;
    if (getEngine().name === "reference")
      console.error("mentia start: running on the reference engine, ~100x slower than the native one: the default study will take hours (run 'npm run build:native' and read its output)");
    const t0 = performance.now();
    const steps: Array<[string, string[]]> = [
      ["run", [flags.config as string, "--out", dir, ...(flags.workers === undefined ? [] : ["--workers", String(flags.workers)])]],
      ["analyze", [dir]],
      ["report", [dir]],
    ];
    for (const [name, args] of steps) {
      console.error(`\n== mentia ${name} ${args.join(" ")}`);
      const { command: step } = await import(`./${name}.js`) as { command: Command };
      const code = await step.run(args);
      if (code !== 0) return code;
    }
    console.log(`\ndefault study done in ${((performance.now() - t0) / 60000).toFixed(1)} min; open ${dir}/report/index.html`);
    return 0;
  },
};
