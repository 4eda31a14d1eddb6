import { describeJob } from "../sweep/plan.js";
import { formatDuration } from "../sweep/progress.js";
import { sweepStatus, type DbStatus } from "../sweep/status.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  failures: { kind: "int", default: 10, help: "how many failed jobs to list", metavar: "K" },
};

const USAGE = "mentia status DIR";
const DESCRIPTION = "Summarises a sweep: jobs done, failed and left in results.sqlite and in every shard file,\nwhich runs are active, shard results not merged yet, and the reasons of failed jobs.";

function line(name: string, s: DbStatus, planned?: number): string {
  const c = s.counts;
  const parts = [`${c.done}/${planned ?? c.total} done`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.running) parts.push(s.activeRun ? `${c.running} running` : `${c.running} interrupted (redone on resume)`);
  const notStarted = (planned ?? c.total) - c.done - c.failed - c.running;
  if (notStarted > 0) parts.push(`${notStarted} not run yet`);
  if (c.outOfPlan) parts.push(`${c.outOfPlan} kept from an earlier config`);
  if (s.workSeconds > 0) parts.push(`${formatDuration(s.workSeconds)} of work`);
  if (s.engines.length) parts.push(`engine ${s.engines.join(", ")}`);
  const active = s.activeRun ? ` — run active (pid ${s.activeRun.pid} on ${s.activeRun.host}, since ${s.activeRun.since})` : "";
  return `${name}: ${parts.join(", ")}${active}`;
}

export const command: Command = {
  summary: "show the progress and failures of a sweep",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "status", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const st = sweepStatus(positional[0]);
    if (st.config) {
      const c = st.config;
      const n = (k: number, one: string, many = `${one}s`): string => `${k} ${k === 1 ? one : many}`;
      console.log(`sweep ${st.dir}: ${n(st.planned ?? 0, "job")} = ${n(c.widths.length, "width")} × ${n(c.depths.length, "depth")} × ${c.pTrain.length} pTrain × ${n(c.sizes.length, "size")} × ${n(c.seeds.length, "seed")}, ${c.pEval.length} pEval each${Array.isArray(c.evalMode) ? ` in ${c.evalMode.length} eval modes (${c.evalMode.join(", ")})` : ""}`);
    }
    if (st.results) console.log(line("results.sqlite", st.results, st.results.shard ? undefined : st.planned));
    for (const s of st.shards) console.log(line(`shard ${s.shard ?? "?"}`, s));
    if (st.missingShards.length) console.log(`missing shard files: ${st.missingShards.map((i) => `shard-${i}.sqlite`).join(", ")}`);
    if (st.mismatched.length) console.log(`shard files with a different config (merge will refuse them): ${st.mismatched.join(", ")}`);
    if (st.unmerged > 0) console.log(`${st.unmerged} finished jobs in shard files are not in results.sqlite yet: run 'mentia merge ${st.dir}'`);
    const failures = st.results?.failures.length ? st.results.failures : st.shards.flatMap((s) => s.failures);
    if (failures.length) {
      const k = Math.max(0, flags.failures as number);
      console.log(`failed jobs (${failures.length}${failures.length > k ? `, first ${k}` : ""}; 'mentia run ... --retry-failed' reruns them):`);
      for (const f of failures.slice(0, k)) console.log(`  ${f.key}  ${describeJob(f.job)}: ${f.error}`);
    }
    return 0;
  },
};
