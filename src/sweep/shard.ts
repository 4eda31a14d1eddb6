import { join } from "node:path";
import { MentiaError } from "../errors.js";
import type { PlannedJob } from "./plan.js";

/**
 * Sharding for clusters (e.g. one SLURM array task per shard): shard i of n (0-based) takes
 * every n-th job of the plan, counted from i. The plan is ordered by cost (largest first,
 * ties by key), so the split is deterministic and every shard gets a similar share of the
 * work. Each shard writes its own file DIR/shard-i.sqlite; `mentia merge DIR` combines them.
 */
export interface Shard {
  index: number;
  count: number;
}

/** Parses "i/n" with 0 ≤ i < n. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new MentiaError(`--shard expects i/n (shard i of n, 0-based), e.g. 0/4, got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new MentiaError(`--shard ${text}: the number of shards must be ≥ 1`);
  if (index >= count) throw new MentiaError(`--shard ${text}: shard index must be in [0, ${count - 1}] (shards are numbered from 0)`);
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The jobs of one shard, in plan order. */
export function shardJobs(plan: PlannedJob[], shard: Shard): PlannedJob[] {
  return plan.filter((_, j) => j % shard.count === shard.index);
}

export const RESULTS_FILE = "results.sqlite";

export function shardFileName(index: number): string {
  return `shard-${index}.sqlite`;
}

/** The database file a run writes: DIR/results.sqlite, or DIR/shard-i.sqlite for a shard. */
export function storePath(outDir: string, shard?: Shard): string {
  return join(outDir, shard ? shardFileName(shard.index) : RESULTS_FILE);
}

export const SHARD_FILE_PATTERN = /^shard-(\d+)\.sqlite$/;
