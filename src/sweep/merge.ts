import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MentiaError } from "../errors.js";
import type { TrainJob } from "../train/job.js";
import { canonicalJson, configDifferences, configJson, type SweepConfig } from "./config.js";
import { describeJob, planJobs } from "./plan.js";
import { INSERT_EVAL_SQL, UPSERT_JOB_SQL, type EvalDump, type JobDump } from "./schema.js";
import { RESULTS_FILE, shardFileName } from "./shard.js";
import type { SnapshotOptions } from "./snapshot.js";
import { shardFiles, SweepStore } from "./store.js";
import { mentiaVersion } from "./version.js";

/**
 * `mentia merge DIR`: combines DIR/shard-*.sqlite into DIR/results.sqlite. All shards (and
 * results.sqlite, if it exists) must hold the same config, dataset checksums and shard
 * count n, else nothing is written. A finished job is copied with its evals; an unfinished
 * one only adds its status where results.sqlite does not have the job finished. Merging
 * again changes nothing (idempotent), and partial merges (while shards still run) are fine:
 * shards are read from verified copies (SweepStore.openShared).
 *
 * Merge refuses to mix: one job finished twice (in two shards, or in a shard and an earlier
 * merge) must have identical numbers, and all finished jobs must come from one engine and
 * instruction-set variant (bit-identical results are promised only within one) unless
 * `allowMixedIsa`, which records the mix in results.sqlite's meta `mixed_isa`.
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
  /** Engine/ISA variants of the finished jobs → job count (more than one only with allowMixedIsa). */
  variants: Record<string, number>;
}

export interface MergeOptions {
  snapshot?: SnapshotOptions;
  /** Accept finished jobs computed by different engines or instruction sets (recorded in meta). */
  allowMixedIsa?: boolean;
}

interface OpenShard {
  index: number;
  path: string;
  store: SweepStore;
  config: SweepConfig;
  shard: string;
}

/** What a finished job computed: its evals and training outcome, nothing about timing. */
function numbersOf(row: JobDump, evals: EvalDump[]): unknown {
  return { steps: row.steps, finalTrainLoss: row.final_train_loss, training: row.training, evals: evals.map(({ job_key: _, ...e }) => e), ...(row.trajectory !== null ? { trajectory: withoutTiming(row.trajectory) } : {}) };
}

/** A stored trajectory without its evaluation time (timings differ between two runs of one job). */
function withoutTiming(json: string): unknown {
  const { evalSeconds: _, ...rest } = JSON.parse(json) as { evalSeconds?: number };
  return rest;
}

function digest(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** The engine and instruction-set variant that computed a job, e.g. "native avx2". */
export function variantOf(row: Pick<JobDump, "engine" | "versions">): string {
  let isa: string | undefined;
  try {
    isa = row.versions ? (JSON.parse(row.versions) as { nativeIsa?: string }).nativeIsa : undefined;
  } catch {
    isa = undefined;
  }
  const engine = row.engine ?? "unknown engine";
  return engine === "native" ? `native ${isa ?? "(unknown ISA)"}` : engine;
}

/** The first number that differs between two results of one job, named. */
function firstDifference(a: { row: JobDump; evals: EvalDump[] }, b: { row: JobDump; evals: EvalDump[] }): { what: string; a: string; b: string } {
  const fields = ["loss", "loss_stderr", "accuracy", "accuracy_stderr", "mask_losses", "mask_accuracies"] as const;
  const at = (e: EvalDump): string => `${e.eval_mode} ${e.p_eval}`;
  const bByP = new Map(b.evals.map((e) => [at(e), e]));
  for (const ea of a.evals) {
    const eb = bByP.get(at(ea));
    if (!eb) return { what: `evaluation at p_eval ${ea.p_eval} (${ea.eval_mode})`, a: "present", b: "missing" };
    for (const f of fields) if (String(ea[f]) !== String(eb[f])) return { what: `${f} at p_eval ${ea.p_eval} (${ea.eval_mode})`, a: String(ea[f]), b: String(eb[f]) };
  }
  if (a.evals.length !== b.evals.length) return { what: "number of evaluations", a: String(a.evals.length), b: String(b.evals.length) };
  if (a.row.final_train_loss !== b.row.final_train_loss) return { what: "final train loss", a: String(a.row.final_train_loss), b: String(b.row.final_train_loss) };
  if (a.row.training !== b.row.training) return { what: "training record", a: String(a.row.training), b: String(b.row.training) };
  if (canonicalJson(a.row.trajectory && withoutTiming(a.row.trajectory)) !== canonicalJson(b.row.trajectory && withoutTiming(b.row.trajectory))) return { what: "trajectory", a: a.row.trajectory === null ? "absent" : "recorded", b: b.row.trajectory === null ? "absent" : "recorded (other numbers)" };
  return { what: "steps", a: String(a.row.steps), b: String(b.row.steps) };
}

function shardCount(shard: string): number {
  return Number(shard.split("/")[1]);
}

export function mergeShards(dir: string, opts: MergeOptions = {}): MergeSummary {
  const files = shardFiles(dir);
  if (files.length === 0) throw new MentiaError(`${dir}: no shard files (shard-i.sqlite) to merge`);
  const shards: OpenShard[] = [];
  let existing: SweepStore | undefined;
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
    const n = shardCount(ref.shard);
    for (const s of shards.slice(1)) {
      if (shardCount(s.shard) !== n) throw new MentiaError(`${s.path} is shard ${s.shard} but ${shardFileName(ref.index)} is shard ${ref.shard}: shards of different splits (--tasks) cannot be merged; nothing merged`);
    }

    // Everything is checked before results.sqlite is written: a refusal writes nothing.
    const resultsFile = join(dir, RESULTS_FILE);
    const done = new Map<string, { digest: string; source: string; store: SweepStore; variant: string; inResults: boolean }>();
    const addDone = (row: JobDump, store: SweepStore, source: string, inResults: boolean): boolean => {
      const evals = store.dumpEvals(row.key);
      const d = digest(numbersOf(row, evals));
      const prev = done.get(row.key);
      if (prev && prev.digest !== d) {
        const diff = firstDifference({ row: prev.store.dumpJobs(false).find((r) => r.key === row.key)!, evals: prev.store.dumpEvals(row.key) }, { row, evals });
        throw new MentiaError(
          `job ${row.key} (${describeJob(JSON.parse(row.job) as TrainJob)}) is finished twice with different results: ${diff.what} is ${diff.a} in ${prev.source} (${prev.variant}) but ${diff.b} in ${source} (${variantOf(row)}); nothing merged. Remove the file whose result is wrong, or rerun that job`,
        );
      }
      if (!prev) done.set(row.key, { digest: d, source, store, variant: variantOf(row), inResults });
      return !prev;
    };
    if (existsSync(resultsFile)) {
      existing = SweepStore.openShared(resultsFile, opts.snapshot);
      const stored = existing.storedConfig();
      if (stored && configJson(stored) !== refText) throw new MentiaError(`${resultsFile} holds a different config from the shards (${configDifferences(stored, ref.config).join("; ")}); nothing merged`);
      if (stored && existing.storedShard()) throw new MentiaError(`${resultsFile} was written by shard ${existing.storedShard()}, not by merge; nothing merged`);
      const outSums = existing.getMeta("dataset_checksums");
      if (outSums && refSums && outSums !== refSums) throw new MentiaError(`${resultsFile} was computed on other MNIST files than the shards; nothing merged`);
      const holder = existing.lockHolder();
      if (holder) throw new MentiaError(`${resultsFile} is in use by a mentia run (pid ${holder.pid} on ${holder.host}); merge when it has finished`);
      const merged = JSON.parse(existing.getMeta("merged_shards") ?? "[]") as string[];
      if (merged.length > 0 && shardCount(merged[0]) !== n) throw new MentiaError(`${resultsFile} was merged from shards of a ${shardCount(merged[0])}-way split, these are of a ${n}-way split (--tasks changed?); nothing merged`);
      for (const row of existing.dumpJobs(true)) if (row.status === "done") addDone(row, existing, RESULTS_FILE, true);
    }
    for (const s of shards) for (const row of s.store.dumpJobs(true)) if (row.status === "done") addDone(row, s.store, shardFileName(s.index), false);

    const variants: Record<string, number> = {};
    for (const d of done.values()) variants[d.variant] = (variants[d.variant] ?? 0) + 1;
    const names = Object.keys(variants).sort();
    if (names.length > 1 && !opts.allowMixedIsa) {
      const where = (v: string): string => [...new Set([...done.values()].filter((d) => d.variant === v).map((d) => d.source))].join(", ");
      throw new MentiaError(
        `the finished jobs were computed by different engines or instruction sets (${names.map((v) => `${v}: ${variants[v]} jobs in ${where(v)}`).join("; ")}), whose numbers differ in the last digits; nothing merged. Rerun the odd shards on matching nodes (e.g. a SLURM --constraint), or merge with --allow-mixed-isa to accept the mix (it is recorded)`,
      );
    }
    existing?.close();
    existing = undefined;

    // Merge runs on clusters (the finish job): rollback journal, safe on shared file systems.
    const out = SweepStore.open(resultsFile, { create: true, journal: "rollback" });
    try {
      let newlyDone = 0;
      const upsertJob = out.stmt(UPSERT_JOB_SQL);
      const getStatus = out.stmt("SELECT status FROM jobs WHERE key = ?");
      const delEvals = out.stmt("DELETE FROM evals WHERE job_key = ?");
      const insEval = out.stmt(INSERT_EVAL_SQL);
      out.db
        .transaction(() => {
          // The full plan, so that status counts against every job, merged or not yet.
          out.initialise(ref.config, planJobs(ref.config), { mentiaVersion: mentiaVersion() });
          if (refSums) out.setMeta("dataset_checksums", refSums);
          for (const s of shards) {
            for (const row of s.store.dumpJobs(true)) {
              const current = (getStatus.get(row.key) as { status: string } | undefined)?.status;
              if (row.status === "done") {
                // Identical to what results.sqlite holds (checked above): nothing to copy.
                if (current === "done") continue;
                upsertJob.run(row);
                delEvals.run(row.key);
                for (const e of s.store.dumpEvals(row.key)) insEval.run(e);
                newlyDone++;
              } else if (current !== "done") {
                // Unfinished in the shard: running there means pending here.
                upsertJob.run({ ...row, status: row.status === "running" ? "pending" : row.status, worker: null });
                delEvals.run(row.key);
              }
            }
          }
          out.setMeta("merged_shards", JSON.stringify(shards.map((s) => s.shard)));
          if (names.length > 1) out.setMeta("mixed_isa", canonicalJson(variants));
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
        variants,
      };
    } finally {
      out.close();
    }
  } finally {
    existing?.close();
    for (const s of shards) s.store.close();
  }
}
