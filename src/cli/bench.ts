import { MentiaError } from "../errors.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import { EVAL_ROWS, measureEngines, QUANTILE, STANDARD_CONFIGS, trainFlopsDone, WINDOW_S, type BenchEngine } from "./bench-engines.js";
import { runStudyBench } from "./bench-study.js";
import type { Command } from "./main.js";

/**
 * `mentia bench`: parses the flags, runs measureEngines (src/cli/bench-engines.ts: the method
 * and its protocol) or the study benchmark (--study: src/cli/bench-study.ts), prints the table.
 */
const FLAGS: Record<string, FlagSpec> = {
  json: { kind: "boolean", help: "print exactly one JSON object on stdout" },
  quick: { kind: "boolean", help: "about 1 s per configuration instead of about 5 s" },
  pytorch: { kind: "boolean", default: true, help: "include PyTorch when /usr/bin/python3 can import torch (--no-pytorch skips it)" },
  reference: { kind: "boolean", default: true, help: "include the (slow) reference engine, measured on a few steps (--no-reference skips it)" },
  configs: { kind: "string", help: "configurations to run instead of the standard four, e.g. 128,2,64;512,2,256", metavar: "W,D,B;..." },
  "cpu-time": { kind: "boolean", help: "time every window (both engines) in CPU seconds of the measuring process instead of wall seconds: the speed of an unshared core, robust on a busy machine" },
  study: { kind: "boolean", help: "run the study-level benchmark instead (32 jobs by mentia and by PyTorch: jobs/s; --quick: 8 jobs)" },
};

const USAGE = "mentia bench [--json] [--quick] [options]";
const DESCRIPTION = [
  "Measures training samples/s (Adam, dropout 0.3, steady state) and evaluation samples/s (dropout",
  "active, batch 1000) on one core for the native and reference engines and, when /usr/bin/python3",
  "can import torch, PyTorch (1 thread, as installed and tuned); prints GFLOP/s against the core's",
  "FMA peak measured in the same run and the ratios native/PyTorch. --study: jobs/s of a fixed",
  "32-job study run by mentia and by PyTorch. See bench/README.md.",
].join("\n");

function parseConfigs(text: string | undefined): Array<readonly [number, number, number]> {
  if (text === undefined) return [...STANDARD_CONFIGS];
  return text.split(";").map((c) => {
    const v = c.split(",").map((s) => Number(s.trim()));
    if (v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= 1) || v[1] > 16)
      throw new MentiaError(`bench: --configs expects width,depth,batch;... with positive integers, got '${c}'`);
    return [v[0], v[1], v[2]] as const;
  });
}

const fmt = (v: number, digits = 0): string => v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const command: Command = {
  summary: "measure engine speed (native, reference, PyTorch) on one core",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "bench", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 0, what: "no arguments" } });
    if (!args) return 0;
    const { flags: f } = args;
    const json = f.json === true;
    const quick = f.quick === true;
    const configs = parseConfigs(f.configs as string | undefined);
    const log = (s: string): void => {
      if (!json) console.log(s);
      else process.stderr.write(`${s}\n`);
    };

    if (f.study === true) return runStudyBench({ quick, json, log });
    const o = { configs, quick, pytorch: f.pytorch !== false, reference: f.reference !== false, cpuTime: f["cpu-time"] === true, log };
    const report = measureEngines(o);
    const { results, peakGflops: peak } = report;
    const native = report.nativeIsa !== null;

    if (json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    const pct = (g: number): string => (peak > 0 ? `${fmt((100 * g) / peak)}%` : "");
    const rows: string[][] = [["config w,d,b", "engine", "train sps", "(median)", "GFLOP/s", "%peak", "hw%", "eval sps", "(median)", "GFLOP/s", "%peak", "valid. sps", "(median)"]];
    for (const r of results) {
      const hw = (r.trainSps * trainFlopsDone(r.width, r.depth)) / 1e9;
      const val = r.valSps > 0 ? [fmt(r.valSps), fmt(r.valSpsMedian)] : ["n/a", ""];
      rows.push([`${r.width},${r.depth},${r.batch}`, r.engine, fmt(r.trainSps), fmt(r.trainSpsMedian), fmt(r.trainGflops, 1), pct(r.trainGflops), pct(hw), fmt(r.evalSps), fmt(r.evalSpsMedian), fmt(r.evalGflops, 1), pct(r.evalGflops), ...val]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    console.log("");
    for (const row of rows) console.log(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
    if (native) {
      console.log("\nnative (sparse layer 0 where the data are sparse) / native-dense:");
      for (const [width, depth, batch] of configs) {
        const find = (e: BenchEngine) => results.find((r) => r.engine === e && r.width === width && r.depth === depth && r.batch === batch);
        const n = find("native"), d = find("native-dense");
        if (n && d) console.log(`  ${`${width},${depth},${batch}`.padEnd(12)} train ${fmt(n.trainSps / d.trainSps, 2)}×   validation ${fmt(n.valSps / d.valSps, 2)}×   eval ${fmt(n.evalSps / d.evalSps, 2)}×`);
      }
    }
    if (native && results.some((r) => r.engine === "pytorch")) {
      console.log("\nnative / PyTorch tuned (as installed):");
      for (const [width, depth, batch] of configs) {
        const find = (e: BenchEngine) => results.find((r) => r.engine === e && r.width === width && r.depth === depth && r.batch === batch);
        const n = find("native"), t = find("pytorch"), a = find("pytorch-as-installed");
        const also = (x: number) => (a ? ` (${fmt(x, 2)}×)` : "");
        if (n && t)
          console.log(`  ${`${width},${depth},${batch}`.padEnd(12)} train ${fmt(n.trainSps / t.trainSps, 2)}×${also(a ? n.trainSps / a.trainSps : 0)}   eval ${fmt(n.evalSps / t.evalSps, 2)}×${also(a ? n.evalSps / a.evalSps : 0)}`);
      }
    }
    console.log(`\nrates: ${QUANTILE} quantile of per-window rates (windows ~${WINDOW_S * 1000} ms training, ${EVAL_ROWS} rows evaluation), timed in ${o.cpuTime ? "CPU seconds of the measuring process (--cpu-time)" : "wall seconds"}`);
    console.log("GFLOP/s: 6·params (train), 2·params (eval) per sample; %peak: of the FMA peak above;");
    console.log("hw%: training flops actually needed (no input gradient for the first layer: 4·params + 2·hidden-layer params) / peak");
    return 0;
  },
};
