import { mergeShards } from "../sweep/merge.js";
import { parseCommandLine } from "./args.js";
import type { Command } from "./main.js";

const USAGE = "mentia merge DIR";
const DESCRIPTION = "Combines the shard files DIR/shard-*.sqlite of a sharded sweep into DIR/results.sqlite.\nShards of another config are refused; merging again (e.g. as more shards finish) is safe.";

export const command: Command = {
  summary: "combine the shard files of a sweep into results.sqlite",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "merge", usage: USAGE, description: DESCRIPTION, flags: {}, positional: { min: 1, max: 1, what: "one sweep directory" } });
    if (!args) return 0;
    const { positional } = args;
    const m = mergeShards(positional[0]);
    for (const s of m.shards) console.log(`  shard ${s.shard}: ${s.done}/${s.total} done${s.running ? " (still running)" : ""}`);
    console.log(`merged ${m.shards.length} shard${m.shards.length > 1 ? "s" : ""} into ${m.path}: ${m.done}/${m.total} jobs done (${m.newlyDone} new), ${m.failed} failed, ${m.pending} not run yet`);
    return 0;
  },
};
