import { mergeShards } from "../sweep/merge.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const USAGE = "mentia merge DIR";
const DESCRIPTION = [
  "Combines the shard files DIR/shard-*.sqlite of a sharded sweep into DIR/results.sqlite.",
  "Merging again (e.g. as more shards finish) is safe. Refused, writing nothing: shards of another config or",
  "another split, a job finished twice with different numbers, jobs computed on different instruction sets.",
].join("\n");
const FLAGS: Record<string, FlagSpec> = {
  "allow-mixed-isa": { kind: "boolean", help: "accept finished jobs computed by different engines or instruction sets (recorded in results.sqlite)" },
};

export const command: Command = {
  summary: "combine the shard files of a sweep into results.sqlite",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "merge", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { positional, flags } = args;
    const m = mergeShards(positional[0], { allowMixedIsa: Boolean(flags["allow-mixed-isa"]) });
    for (const s of m.shards) console.log(`  shard ${s.shard}: ${s.done}/${s.total} done${s.running ? " (still running)" : ""}`);
    const variants = Object.entries(m.variants);
    if (variants.length > 1) console.log(`  mixed engines / instruction sets (accepted with --allow-mixed-isa, recorded): ${variants.map(([v, c]) => `${v} ${c} jobs`).join(", ")}`);
    console.log(`merged ${m.shards.length} shard${m.shards.length > 1 ? "s" : ""} into ${m.path}: ${m.done}/${m.total} jobs done (${m.newlyDone} new), ${m.failed} failed, ${m.pending} not run yet`);
    return 0;
  },
};
