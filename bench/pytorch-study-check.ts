/**
 * A small end-to-end run of the study benchmark's PyTorch side (bench/pytorch_study.py) next to
 * mentia on the same jobs: does it run, and does it stop the way mentia's early stopping does?
 * Both sides stop where their own validation losses say (different numbers, so not at the same
 * step); what must agree is the rule (src/train/train.ts, docs/protocol.md): a validation every
 * `every` steps, a stop `patience` validations after the best one or at the cap (with a last
 * validation where the cap falls between two), the best weights evaluated. Not a timing run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pytorch-study-check.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import { pytorchUnavailable, runPytorchStudy, STUDY_CONFIG, writeStudyInputs } from "../src/cli/bench-study.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import type { TrainJob } from "../src/train/job.js";
import { runJob, validationInterval } from "../src/train/train.js";

const why = pytorchUnavailable();
if (why) throw new Error(why);
const config = parseConfig({ ...STUDY_CONFIG, widths: [32], pTrain: [0, 0.5], sizes: [250, 500], seeds: [0], validation: 2000, patience: 2, maxSteps: 1005 }, "the check");
const jobs = planJobs(config).map((p) => p.job);
const data = loadMnist();

/** Problems of one side's (steps, validations, best step) under the early-stopping rule. */
function ruleProblems(job: TrainJob, steps: number, validations: number, best: number): string[] {
  const every = validationInterval(job);
  const out: string[] = [];
  if (validations !== Math.ceil(steps / every)) out.push(`${validations} validations in ${steps} steps (every ${every})`);
  if (best < every || best > steps || (best % every !== 0 && best !== steps)) out.push(`best step ${best} is not a validation point`);
  const byPatience = steps === best + job.patience * every;
  if (!byPatience && steps !== job.maxSteps) out.push(`stopped at ${steps}: neither ${job.patience} validations after the best (${best}) nor the cap ${job.maxSteps}`);
  return out;
}

const dir = mkdtempSync(path.join(tmpdir(), "mentia-study-check-"));
let bad = 0;
try {
  writeStudyInputs(dir, jobs, data);
  const py = runPytorchStudy(dir);
  if (typeof py === "string") throw new Error(`PyTorch failed: ${py}`);
  console.log(`PyTorch ${py.torch}, ${py.jobs} jobs`);
  const engine = getEngine("native");
  jobs.forEach((job, i) => {
    const m = runJob(job, data, engine);
    const acc = m.evals.find((e) => e.pEval === 0)!.accuracy;
    console.log(
      `N ${job.n} p_train ${job.pTrain} (validation every ${validationInterval(job)} steps, patience ${job.patience}, cap ${job.maxSteps}): ` +
        `mentia ${m.training.steps} steps, best ${m.training.bestStep}, ${m.training.validations} validations, accuracy ${acc.toFixed(3)}; ` +
        `PyTorch ${py.steps[i]} steps, best ${py.bestSteps[i]}, ${py.validations[i]} validations, accuracy ${py.accuracyAtP0[i].toFixed(3)}`,
    );
    for (const [side, p] of [
      ["mentia", ruleProblems(job, m.training.steps, m.training.validations, m.training.bestStep)],
      ["PyTorch", ruleProblems(job, py.steps[i], py.validations[i], py.bestSteps[i])],
    ] as const)
      for (const msg of p) {
        console.log(`  ${side}: ${msg}`);
        bad++;
      }
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(bad ? `${bad} departures from the rule` : "both sides follow the early-stopping rule");
process.exitCode = bad ? 1 : 0;
