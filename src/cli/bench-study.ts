import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MentiaError } from "../errors.js";
import { loadMnist, type MnistData } from "../data/mnist.js";
import { loadNativeEngine, nativeIsa } from "../engine/native/index.js";
import { INPUT_SIZE } from "../engine/types.js";
import { parseConfig } from "../sweep/config.js";
import { planJobs } from "../sweep/plan.js";
import type { TrainJob } from "../train/job.js";
import { jobData, runJob, validationInterval } from "../train/train.js";

/**
 * `mentia bench --study`: the number a user cares about — jobs per second on a fixed small
 * study, run end to end (train + evaluate every p_eval) by mentia's native engine and by a
 * PyTorch script doing the same jobs (bench/pytorch_study.py, PyTorch tuned as in the bench),
 * one core each, one after the other in the same run. Real MNIST.
 *
 * The study: width 128, depth 2, p_train ∈ {0, 0.5}, N ∈ {250, 500, 1000, 2000}, seeds 0–3
 * (32 jobs; --quick: seed 0, 8 jobs), the default protocol (configs/default.yaml: Adam, batch
 * 64, early stopping on 10,000 validation images every half epoch with patience 10, 11 p_eval,
 * 2 draws of a fresh mask per sample). PyTorch implements the same early stopping on the same
 * training and validation images (bench/pytorch_study.py); each side stops where its own
 * validation loss says, so both report their steps and validations.
 */
/** The environment of the tuned PyTorch run (see bench.ts). */
export function tunedPytorchEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, MALLOC_MMAP_THRESHOLD_: "4294967296", MALLOC_TRIM_THRESHOLD_: "4294967296" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** Why /usr/bin/python3 cannot run PyTorch, or "" when it can. */
export function pytorchUnavailable(): string {
  const python = "/usr/bin/python3";
  if (!existsSync(python)) return `${python} not found`;
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status !== 0 ? "/usr/bin/python3 cannot import torch (see bench/README.md)" : "";
}

export const STUDY_CONFIG = {
  widths: [128],
  depths: [2],
  pTrain: [0, 0.5],
  pEval: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
  sizes: [250, 500, 1000, 2000],
  seeds: [0, 1, 2, 3],
  // The default protocol; one shared data draw, so that every job's training subset is nested
  // in one set of images and every job validates on the same split (both passed to PyTorch).
  policy: "early-stop",
  patience: 10,
  valEvery: "half-epoch",
  maxSteps: 30000,
  validation: 10000,
  dataDraw: "shared",
  batch: 64,
  optimizer: "adam",
  lr: 0.001,
  evalMode: "sample",
  masks: 2,
  rescale: true,
  subsetSeed: 0,
};

export interface StudyBenchSide {
  jobs: number;
  seconds: number;
  /** CPU seconds of the process that ran the jobs (≈ wall seconds on an idle core). */
  cpuSeconds: number;
  jobsPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Optimisation steps and validation passes, summed over the jobs. */
  steps: number;
  validations: number;
}

export interface StudyBenchReport {
  nativeIsa: string | null;
  mentia: StudyBenchSide;
  pytorch: (StudyBenchSide & { torch: string }) | null;
  /** mentia's jobs/s over PyTorch's (wall time). */
  ratio: number | null;
  /** The same per CPU second of each side's process (robust when the machine is shared). */
  cpuRatio: number | null;
}

/** What bench/pytorch_study.py's run printed (one JSON object). */
export interface PytorchStudyOutput {
  torch: string;
  jobs: number;
  seconds: number;
  cpuSeconds: number;
  trainSeconds: number;
  evalSeconds: number;
  accuracyAtP0: number[];
  steps: number[];
  validations: number[];
  bestSteps: number[];
}

/**
 * Writes bench/pytorch_study.py's input for `jobs` (one shared data draw: every job's subset is a
 * prefix of the largest one's, and all validate on the same split) into `dir`.
 */
export function writeStudyInputs(dir: string, jobs: TrainJob[], data: MnistData): void {
  if (jobs.some((j) => j.dataDraw !== "shared" || j.subsetSeed !== jobs[0].subsetSeed || j.validation !== jobs[0].validation || j.policy !== "early-stop"))
    throw new MentiaError("the PyTorch study needs early-stopped jobs of one shared data draw (dataDraw: shared, one subsetSeed and validation split)");
  const largest = jobs.reduce((a, b) => (b.n > a.n ? b : a));
  const split = jobData(largest);
  const bytes = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const rowsOf = (rows: Int32Array, name: string): void => {
    const x = new Float32Array(rows.length * INPUT_SIZE), y = new Uint8Array(rows.length);
    rows.forEach((r, i) => {
      x.set(data.train.x.subarray(r * INPUT_SIZE, (r + 1) * INPUT_SIZE), i * INPUT_SIZE);
      y[i] = data.train.y[r];
    });
    writeFileSync(path.join(dir, `${name}_x.f32`), bytes(x));
    writeFileSync(path.join(dir, `${name}_y.u8`), bytes(y));
  };
  rowsOf(split.train, "train");
  rowsOf(split.validation, "val");
  writeFileSync(path.join(dir, "test_x.f32"), bytes(data.test.x.subarray(0, data.test.n * INPUT_SIZE)));
  writeFileSync(path.join(dir, "test_y.u8"), bytes(data.test.y.subarray(0, data.test.n)));
  const spec = jobs.map((job) => ({ width: job.width, depth: job.depth, pTrain: job.pTrain, n: job.n, seed: job.seed, batch: job.batch, lr: job.lr, pEvals: job.pEvals, masks: job.masks, valEvery: validationInterval(job), patience: job.patience, maxSteps: job.maxSteps }));
  writeFileSync(path.join(dir, "jobs.json"), JSON.stringify(spec));
}

/** Runs bench/pytorch_study.py on `dir` (tuned, one thread): its output, or why it failed. */
export function runPytorchStudy(dir: string): PytorchStudyOutput | string {
  const script = fileURLToPath(new URL("../../../bench/pytorch_study.py", import.meta.url));
  const env = tunedPytorchEnv({ ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" });
  const r = spawnSync("/usr/bin/python3", [script, dir], { encoding: "utf8", env, maxBuffer: 16 << 20 });
  if (r.status !== 0) return (r.stderr || "").trim().split("\n").pop() ?? `exit status ${r.status}`;
  return JSON.parse(r.stdout) as PytorchStudyOutput;
}

export async function runStudyBench(o: { quick: boolean; json: boolean; log: (s: string) => void }): Promise<number> {
  const native = loadNativeEngine();
  if (!native) throw new MentiaError("bench --study needs the native engine (run 'npm run build:native')");
  const config = parseConfig({ ...STUDY_CONFIG, seeds: o.quick ? [0] : STUDY_CONFIG.seeds }, "the study benchmark");
  const planned = planJobs(config);
  const data = loadMnist();
  o.log(`mentia bench --study: ${planned.length} jobs (width 128, depth 2, N 250–2000, 11 p_eval × 2 draws) on real MNIST, one core each`);

  o.log(`running them with mentia (native, ${nativeIsa()}) ...`);
  let trainSeconds = 0, evalSeconds = 0, steps = 0, validations = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const { job } of planned) {
    const r = runJob(job, data, native);
    steps += r.training.steps;
    validations += r.training.validations;
    trainSeconds += r.trainSeconds;
    evalSeconds += r.evalSeconds;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const mentia: StudyBenchSide = { jobs: planned.length, seconds, cpuSeconds, jobsPerSecond: planned.length / seconds, trainSeconds, evalSeconds, steps, validations };
  o.log(`  ${seconds.toFixed(1)} s (training ${trainSeconds.toFixed(1)} s, evaluation ${evalSeconds.toFixed(1)} s)`);

  let pytorch: StudyBenchReport["pytorch"] = null;
  const why = pytorchUnavailable();
  if (why) o.log(`PyTorch skipped: ${why}`);
  else {
    o.log("running them with PyTorch (bench/pytorch_study.py, tuned) ...");
    const dir = mkdtempSync(path.join(tmpdir(), "mentia-study-"));
    try {
      writeStudyInputs(dir, planned.map((p) => p.job), data);
      const r = runPytorchStudy(dir);
      if (typeof r === "string") o.log(`PyTorch failed: ${r}`);
      else {
        const out = r;
        const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
        pytorch = { torch: out.torch, jobs: out.jobs, seconds: out.seconds, cpuSeconds: out.cpuSeconds, jobsPerSecond: out.jobs / out.seconds, trainSeconds: out.trainSeconds, evalSeconds: out.evalSeconds, steps: sum(out.steps), validations: sum(out.validations) };
        o.log(`  ${out.seconds.toFixed(1)} s (training ${out.trainSeconds.toFixed(1)} s, evaluation ${out.evalSeconds.toFixed(1)} s), PyTorch ${out.torch}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const report: StudyBenchReport = { nativeIsa: nativeIsa(), mentia, pytorch, ratio: pytorch ? mentia.jobsPerSecond / pytorch.jobsPerSecond : null, cpuRatio: pytorch ? pytorch.cpuSeconds / pytorch.jobs / (mentia.cpuSeconds / mentia.jobs) : null };
  if (o.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  const line = (name: string, s: StudyBenchSide) =>
    `  ${name.padEnd(22)} ${s.jobsPerSecond.toFixed(3)} jobs/s   (${s.jobs} jobs in ${s.seconds.toFixed(1)} s, ${s.cpuSeconds.toFixed(1)} CPU s: training incl. validation ${s.trainSeconds.toFixed(1)} s, evaluation ${s.evalSeconds.toFixed(1)} s; ${s.steps} steps, ${s.validations} validations)`;
  console.log("");
  console.log(line(`mentia (${nativeIsa()})`, mentia));
  if (pytorch) console.log(line(`PyTorch ${pytorch.torch} tuned`, pytorch));
  if (report.ratio !== null && report.cpuRatio !== null)
    console.log(`\nmentia / PyTorch: ${report.ratio.toFixed(2)}× the jobs per second (${report.cpuRatio.toFixed(2)}× per CPU second)`);
  return 0;
}
