import { join } from "node:path";
import { MentiaError } from "../errors.js";
import { canonicalJson, configDifferences, configJson, type SweepConfig } from "./config.js";
import { planJobs } from "./plan.js";
import { RESULTS_FILE, shardFileName } from "./shard.js";
import { INSERT_EVAL_SQL, UPSERT_JOB_SQL, type EvalDump, type JobDump } from "./schema.js";
import type { SnapshotOptions } from "./snapshot.js";
import { shardFiles, SweepStore } from "./store.js";
import { mentiaVersion } from "./version.js";

/**
 * `mentia merge DIR`: combines DIR/shard-*.sqlite into DIR/results.sqlite. All shards (and
 * results.sqlite, if it exists) must hold the same config and dataset checksums, else
 * nothing is written. A finished job is copied with its evals; an unfinished one only adds
 * its status where results.sqlite does not have the job finished. Merging again changes
 * nothing (idempotent), and partial merges (while shards still run) are fine.
 */
export interface MergeSummary {
  path: string;
  shards: Array<{ index: number; shard: string; done: number; total: number; running: boolean }>;
  /** Finished jobs copied in this merge (not already identical in results.sqlite). */
  newlyDone: number;
  done: number;
  failed: number;
  pending: number;
  total: number;
}

interface OpenShard {
  index: number;
  path: string;
  store: SweepStore;
  config: SweepConfig;
  shard: string;
}

function sameEvals(a: EvalDump[], b: EvalDump[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function mergeShards(dir: string, opts: { snapshot?: SnapshotOptions } = {}): MergeSummary {
  const files = shardFiles(dir);
  if (files.length === 0) throw new MentiaError(`${dir}: no shard files (shard-i.sqlite) to merge`);
  const shards: OpenShard[] = [];
  try {
    for (const f of files) {
      const store = SweepStore.openShared(f.path, opts.snapshot);
      const config = store.storedConfig();
      const shard = store.storedShard();
      shards.push({ index: f.index, path: f.path, store, config: config as SweepConfig, shard: shard ?? "" });
      if (!config) throw new MentiaError(`${f.path} holds no config (a run that never started?); remove it or run that shard again`);
      if (!shard || Number(shard.split("/")[0]) !== f.index) throw new MentiaError(`${f.path} was written by ${shard ? `shard ${shard}` : "an unsharded run"}, not shard ${f.index} (a renamed file?)`);
    }
    const ref = shards[0];
    const refText = configJson(ref.config);
    const refSums = ref.store.getMeta("dataset_checksums");
    for (const s of shards.slice(1)) {
      if (configJson(s.config) !== refText) throw new MentiaError(`${s.path} holds a different config from ${shardFileName(ref.index)} (${configDifferences(ref.config, s.config).join("; ")}); nothing merged`);
      const sums = s.store.getMeta("dataset_checksums");
      if (sums && refSums && sums !== refSums) throw new MentiaError(`${s.path} was computed on other MNIST files than ${shardFileName(ref.index)}; nothing merged`);
    }

    const resultsFile = join(dir, RESULTS_FILE);
    // Merge runs on clusters (the finish job): rollback journal, safe on shared file systems.
    const out = SweepStore.open(resultsFile, { create: true, journal: "rollback" });
    try {
      const existing = out.storedConfig();
      if (existing && configJson(existing) !== refText) throw new MentiaError(`${resultsFile} holds a different config from the shards (${configDifferences(existing, ref.config).join("; ")}); nothing merged`);
      if (existing && out.storedShard()) throw new MentiaError(`${resultsFile} was written by shard ${out.storedShard()}, not by merge; nothing merged`);
      const outSums = out.getMeta("dataset_checksums");
      if (outSums && refSums && outSums !== refSums) throw new MentiaError(`${resultsFile} was computed on other MNIST files than the shards; nothing merged`);
      const holder = out.lockHolder();
      if (holder) throw new MentiaError(`${resultsFile} is in use by a mentia run (pid ${holder.pid} on ${holder.host}); merge when it has finished`);

      let newlyDone = 0;
      const upsertJob = out.db.prepare(UPSERT_JOB_SQL);
      const getStatus = out.db.prepare("SELECT status FROM jobs WHERE key = ?");
      const delEvals = out.db.prepare("DELETE FROM evals WHERE job_key = ?");
      const insEval = out.db.prepare(INSERT_EVAL_SQL);
      out.db
        .transaction(() => {
          // The full plan, so that status counts against every job, merged or not yet.
          out.initialise(ref.config, planJobs(ref.config), { mentiaVersion: mentiaVersion() });
          if (refSums) out.setMeta("dataset_checksums", refSums);
          for (const s of shards) {
            for (const row of s.store.dumpJobs(true) as JobDump[]) {
              const current = (getStatus.get(row.key) as { status: string } | undefined)?.status;
              if (row.status === "done") {
                const evals = s.store.dumpEvals(row.key);
                if (current === "done" && sameEvals(out.dumpEvals(row.key), evals)) continue;
                upsertJob.run(row);
                delEvals.run(row.key);
                for (const e of evals) insEval.run(e);
                newlyDone++;
              } else if (current !== "done") {
                // Unfinished in the shard: running there means pending here.
                upsertJob.run({ ...row, status: row.status === "running" ? "pending" : row.status, worker: null });
                delEvals.run(row.key);
              }
            }
          }
          out.setMeta("merged_shards", JSON.stringify(shards.map((s) => s.shard)));
        })
        .immediate();
      const c = out.counts();
      return {
        path: resultsFile,
        shards: shards.map((s) => {
          const sc = s.store.counts();
          return { index: s.index, shard: s.shard, done: sc.done, total: sc.total, running: Boolean(s.store.lockHolder()) };
        }),
        newlyDone,
        done: c.done,
        failed: c.failed,
        pending: c.pending + c.running,
        total: c.total,
      };
    } finally {
      out.close();
    }
  } finally {
    for (const s of shards) s.store.close();
  }
}
