import { MentiaError } from "../errors.js";
import type { SweepConfig } from "../sweep/config.js";
import { describeJob } from "../sweep/plan.js";
import { sweepStatus } from "../sweep/status.js";
import { SweepStore } from "../sweep/store.js";

/**
 * What the report's header says about the run that produced the results: read from the
 * sweep's store (through the sweep stage's own functions), or given by the caller.
 */
export interface ReportMeta {
  /** The sweep directory (as given). */
  sweepDir: string;
  config?: SweepConfig;
  /** MNIST file name → checksum, as recorded by the sweep. */
  checksums?: Record<string, string>;
  /** Engines that computed the finished jobs. */
  engines: string[];
  /** Distinct software version sets of the finished jobs, e.g. "mentia 0.1.0, node v20.1.0". */
  versions: string[];
  jobs: { planned: number | null; done: number; failed: number; running: number; pending: number; outOfPlan: number };
  failures: Array<{ key: string; job: string; error: string }>;
  /** Sum of the finished jobs' wall times (work, over all workers). */
  workSeconds: number;
  /** First job start → last job finish (elapsed), null when unknown. */
  elapsedSeconds: number | null;
  firstStart: string | null;
  lastFinish: string | null;
  /** Things the reader should know about the run (unmerged shards, unreadable store...). */
  notes: string[];
}

/** A header for results whose run is unknown (e.g. analysis.json without its store). */
export function emptyMeta(sweepDir: string, note: string): ReportMeta {
  return {
    sweepDir,
    engines: [],
    versions: [],
    jobs: { planned: null, done: 0, failed: 0, running: 0, pending: 0, outOfPlan: 0 },
    failures: [],
    workSeconds: 0,
    elapsedSeconds: null,
    firstStart: null,
    lastFinish: null,
    notes: [note],
  };
}

function versionsLine(v: Record<string, string | undefined>): string {
  const order = ["mentia", "node", "sqlite"];
  const keys = [...order.filter((k) => v[k] !== undefined), ...Object.keys(v).filter((k) => !order.includes(k) && v[k] !== undefined).sort()];
  return keys.map((k) => `${k} ${v[k]}`).join(", ");
}

/** The run metadata of the sweep in `dir` (MentiaError when it is not a readable sweep). */
export function readReportMeta(dir: string): ReportMeta {
  const st = sweepStatus(dir);
  const notes: string[] = [];
  const db = st.results;
  const dbs = db ? [db] : st.shards;
  if (!db) notes.push(`${dir} has shard files but no merged results.sqlite: the counts below add up the shards`);
  if (st.unmerged > 0) notes.push(`${st.unmerged} finished jobs in shard files are not merged into results.sqlite (run 'mentia merge ${dir}')`);
  if (st.missingShards.length > 0) notes.push(`missing shard files: ${st.missingShards.map((i) => `shard-${i}.sqlite`).join(", ")}`);
  if (db?.activeRun) notes.push(`a run was active while this report was written (pid ${db.activeRun.pid} on ${db.activeRun.host}): results may be incomplete`);

  const sum = (f: (c: (typeof dbs)[number]["counts"]) => number): number => dbs.reduce((a, s) => a + f(s.counts), 0);
  const jobs = {
    planned: st.planned ?? null,
    done: sum((c) => c.done),
    failed: sum((c) => c.failed),
    running: sum((c) => c.running),
    pending: sum((c) => c.pending),
    outOfPlan: sum((c) => c.outOfPlan),
  };
  const failures = dbs.flatMap((s) => s.failures).map((f) => ({ key: f.key, job: describeJob(f.job), error: f.error }));
  const engines = [...new Set(dbs.flatMap((s) => s.engines))].sort();
  const workSeconds = dbs.reduce((a, s) => a + s.workSeconds, 0);

  let checksums: Record<string, string> | undefined;
  const versions = new Set<string>();
  let firstStart: string | null = null;
  let lastFinish: string | null = null;
  for (const s of dbs) {
    const store = SweepStore.open(s.path, { readonly: true });
    try {
      checksums ??= store.storedChecksums();
      for (const j of store.dumpJobs()) {
        if (j.status !== "done") continue;
        if (j.versions) {
          try {
            versions.add(versionsLine(JSON.parse(j.versions) as Record<string, string>));
          } catch {
            versions.add(j.versions);
          }
        }
        if (j.started_at && (firstStart === null || j.started_at < firstStart)) firstStart = j.started_at;
        if (j.finished_at && (lastFinish === null || j.finished_at > lastFinish)) lastFinish = j.finished_at;
      }
    } finally {
      store.close();
    }
  }
  const elapsedSeconds = firstStart && lastFinish ? Math.max(0, (Date.parse(lastFinish) - Date.parse(firstStart)) / 1000) : null;
  return {
    sweepDir: dir,
    config: st.config,
    checksums,
    engines,
    versions: [...versions].sort(),
    jobs,
    failures,
    workSeconds,
    elapsedSeconds: elapsedSeconds !== null && Number.isFinite(elapsedSeconds) ? elapsedSeconds : null,
    firstStart,
    lastFinish,
    notes,
  };
}

/**
 * readReportMeta, or — when DIR holds no readable sweep store — a header that says so (the
 * report can still be drawn from analysis.json alone).
 */
export function readReportMetaOrNote(dir: string): ReportMeta {
  try {
    return readReportMeta(dir);
  } catch (err) {
    if (err instanceof MentiaError) return emptyMeta(dir, `run metadata unavailable: ${err.message}`);
    throw err;
  }
}
