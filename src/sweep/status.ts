import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MentiaError } from "../errors.js";
import { configJson, type SweepConfig } from "./config.js";
import { jobCount } from "./plan.js";
import { RESULTS_FILE } from "./shard.js";
import { shardFiles, SweepStore, type FailedJob, type RunLock, type StatusCounts } from "./store.js";

/**
 * `mentia status DIR`: progress and failures of a sweep: results.sqlite and every shard
 * file, which run (if any) is working on each, and shard results not merged yet.
 */
export interface DbStatus {
  path: string;
  shard?: string;
  counts: StatusCounts;
  /** The live run holding the file, if any. */
  activeRun?: RunLock;
  failures: FailedJob[];
  workSeconds: number;
  engines: string[];
  config?: SweepConfig;
}

export interface SweepStatus {
  dir: string;
  /** Jobs of the stored config's plan. */
  planned?: number;
  config?: SweepConfig;
  results?: DbStatus;
  shards: DbStatus[];
  /** Shard indices expected from the shard files' i/n but absent. */
  missingShards: number[];
  /** Jobs finished in shard files but not (yet) in results.sqlite. */
  unmerged: number;
  /** Shards whose config differs from results.sqlite's or the first shard's. */
  mismatched: string[];
}

function readDb(path: string): DbStatus & { doneKeys: Set<string> } {
  const store = SweepStore.openShared(path);
  try {
    const work = store.workSummary();
    return {
      doneKeys: store.doneKeys(),
      path,
      shard: store.storedShard(),
      counts: store.counts(),
      activeRun: store.lockHolder(),
      failures: store.failures(),
      workSeconds: work.seconds,
      engines: work.engines,
      config: store.storedConfig(),
    };
  } finally {
    store.close();
  }
}

export function sweepStatus(dir: string): SweepStatus {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MentiaError(`${dir}: no such sweep directory`);
  const resultsFile = join(dir, RESULTS_FILE);
  const results = existsSync(resultsFile) ? readDb(resultsFile) : undefined;
  const files = shardFiles(dir);
  if (!results && files.length === 0) throw new MentiaError(`${dir}: no ${RESULTS_FILE} and no shard files (not a sweep directory, or 'mentia run' has not started there)`);
  const shards = files.map((f) => readDb(f.path));
  const config = results?.config ?? shards.find((s) => s.config)?.config;
  const mismatched = shards.filter((s) => s.config && config && configJson(s.config) !== configJson(config)).map((s) => s.path);

  let missingShards: number[] = [];
  const counts = shards.map((s) => Number(s.shard?.split("/")[1])).filter((n) => Number.isInteger(n) && n > 0);
  if (counts.length > 0) {
    const n = Math.max(...counts);
    const present = new Set(files.map((f) => f.index));
    missingShards = Array.from({ length: n }, (_, i) => i).filter((i) => !present.has(i));
  }

  let unmerged = 0;
  for (const s of shards) for (const k of s.doneKeys) if (!results?.doneKeys.has(k)) unmerged++;
  const strip = ({ doneKeys: _, ...rest }: DbStatus & { doneKeys: Set<string> }): DbStatus => rest;
  return { dir, planned: config ? jobCount(config) : undefined, config, results: results && strip(results), shards: shards.map(strip), missingShards, unmerged, mismatched };
}
