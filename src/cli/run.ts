import { MentiaError } from "../errors.js";
import { loadConfig } from "../sweep/config.js";
import { formatDuration } from "../sweep/progress.js";
import { SweepStoppedError } from "../sweep/pool.js";
import { parseShard, type Shard } from "../sweep/shard.js";
import { defaultWorkers, dryRunSweep, runSweep, type RunSweepOptions } from "../sweep/sweep.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  out: { kind: "string", help: "sweep directory (results.sqlite, or shard-i.sqlite with --shard)", metavar: "DIR" },
  workers: { kind: "int", help: `worker threads, one job each (default: one per core, here ${defaultWorkers()})`, metavar: "K" },
  "dry-run": { kind: "boolean", help: "print the job count and an estimated time (measured on this machine), run nothing" },
  shard: { kind: "string", help: "run only shard i of n (0-based), into DIR/shard-i.sqlite; combine with 'mentia merge DIR'", metavar: "i/n" },
  "force-new-config": { kind: "boolean", help: "run even if DIR holds a different config (unchanged finished jobs are kept)" },
  "retry-failed": { kind: "boolean", help: "run failed (e.g. diverged) jobs again instead of skipping them" },
  "break-lock": { kind: "boolean", help: "take over DIR's lock from a run that cannot be checked from here (another host or container) and is known to be dead" },
  local: { kind: "boolean", help: "DIR is on this host only: with --shard, use SQLite's WAL mode (default for shards: rollback journal, safe on NFS/Lustre)" },
};

const USAGE = "mentia run CONFIG --out DIR [options]";
const DESCRIPTION = [
  "Runs the sweep of a config file (YAML or JSON; 'mentia init' writes an example): one training per",
  "width × depth × pTrain × N × seed, each evaluated at every pEval, stored in DIR/results.sqlite.",
  "Running it again resumes: finished jobs are skipped, interrupted ones redone. Ctrl-C stops cleanly.",
].join("\n");

function options(f: Record<string, unknown>): RunSweepOptions {
  const shard: Shard | undefined = f.shard === undefined ? undefined : parseShard(String(f.shard));
  return {
    workers: f.workers as number | undefined,
    shard,
    forceNewConfig: Boolean(f["force-new-config"]),
    retryFailed: Boolean(f["retry-failed"]),
    breakLock: Boolean(f["break-lock"]),
    local: Boolean(f.local),
  };
}

export const command: Command = {
  summary: "run (or resume) a sweep from a config file",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "run", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one CONFIG file" } });
    if (!args) return 0;
    const { flags: f, positional } = args;
    if (typeof f.out !== "string" || f.out === "") throw new MentiaError(`run: --out DIR is required (usage: ${USAGE})`);
    const opts = options(f);
    const config = loadConfig(positional[0]);
    const outDir = f.out;

    if (f["dry-run"]) {
      const r = await dryRunSweep(config, outDir, opts);
      const grid = `${config.widths.length} width × ${config.depths.length} depth × ${config.pTrain.length} pTrain × ${config.sizes.length} sizes × ${config.seeds.length} seeds`;
      console.log(`plan: ${r.planJobs} jobs (${grid}) on ${config.dataset ?? "mnist"}, each evaluated at ${config.pEval.length} pEval`);
      if (opts.shard) console.log(`shard ${opts.shard.index}/${opts.shard.count}: ${r.jobs} jobs`);
      console.log(`${r.dbPath}: ${r.alreadyDone} done already${r.failedSkipped ? `, ${r.failedSkipped} failed (skipped; --retry-failed reruns them)` : ""}, ${r.toRun} to run`);
      if (r.toRun > 0) {
        const e = r.estimate;
        const ms = (xs: number[]): string => `${(1000 * xs[Math.floor(xs.length / 2)]).toFixed(2)} ms`;
        for (const p of e.probes) console.log(`measured (engine ${r.engine}, ${e.workers} worker${e.workers > 1 ? "s" : ""} at once): width ${p.width} depth ${p.depth} batch ${p.batch}: ${ms(p.stepSeconds)} per training step, ${(p.evalSeconds[Math.floor(p.evalSeconds.length / 2)]).toFixed(2)} s per evaluation of a job`);
        const k = `${e.workers} worker${e.workers > 1 ? "s" : ""}`;
        console.log(`estimated time: ${formatDuration(e.wallSeconds)} with ${k} (range ${formatDuration(e.lowSeconds)} – ${formatDuration(e.highSeconds)}; ${formatDuration(e.serialSeconds)} of work)`);
      }
      return 0;
    }

    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write("\nmentia run: stopping: running jobs are abandoned at their next epoch and redone on resume (Ctrl-C again to quit at once)\n");
        controller.abort();
      } else {
        // At once: worker threads may be inside a long native call, which neither exit()
        // nor terminate() interrupts safely. Every finished job is committed already, and
        // the next run takes over the stale lock and redoes unfinished jobs.
        process.stderr.write("mentia run: quitting at once; rerun the same command to resume\n");
        process.kill(process.pid, "SIGKILL");
      }
    };
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigint);
    try {
      const s = await runSweep(config, outDir, { ...opts, signal: controller.signal });
      const failedTotal = s.remaining > 0 ? ` (${s.remaining} not done)` : "";
      console.log(
        `${s.interrupted ? "interrupted" : "finished"}: ${s.planned - s.remaining}/${s.planned} jobs done${failedTotal}; this run: ${s.done} done, ${s.failed} failed in ${formatDuration(s.seconds)}; results in ${s.dbPath}`,
      );
      if (s.interrupted) console.log(`resume with the same command: mentia run ${positional[0]} --out ${outDir}${opts.shard ? ` --shard ${f.shard}` : ""}${f.workers !== undefined ? ` --workers ${f.workers}` : ""}`);
      else if (s.remaining > 0) console.log(`see the failures with: mentia status ${outDir}`);
      return s.interrupted ? 130 : 0;
    } catch (err) {
      if (err instanceof SweepStoppedError) {
        process.stderr.write(`mentia run: ${err.message}\n`);
        return 1;
      }
      throw err;
    } finally {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    }
  },
};
