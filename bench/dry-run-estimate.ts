/**
 * Benchmark (not a test: `npm test` never runs it): is `mentia run --dry-run`'s estimate
 * within ±25 % of the measured wall time of the same `mentia run`?
 *
 *   node dist/bench/dry-run-estimate.js                      # the small study below, 2 workers
 *   node dist/bench/dry-run-estimate.js --config configs/default.yaml [--workers K]
 *
 * Makes the estimate (library call, as `run --dry-run` does), then runs the sweep with the CLI
 * (`node bin/mentia.js run CONFIG --out TMP`, the wall time of the whole process), prints both
 * and the ratio, and exits 1 when the measured time is outside ±25 % of the estimate.
 * Timings on a shared machine are noisy: the estimate and the run see the load of the moment.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/sweep/config.js";
import { formatDuration } from "../src/sweep/progress.js";
import { dryRunSweep } from "../src/sweep/sweep.js";

const SMALL = `# a small study: 12 jobs of the default protocol (early stopping on 10,000 validation images)
widths: [128]
depths: [2]
pTrain: [0, 0.5]
pEval: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
sizes: [250, 1000, 4000]
seeds: [0, 1]
policy: early-stop
patience: 10
valEvery: half-epoch
maxSteps: 30000
validation: 10000
batch: 64
masks: 2
`;
const TOLERANCE = 0.25;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const root = mkdtempSync(join(tmpdir(), "mentia-estimate-"));
try {
  let configFile = arg("config");
  if (!configFile) {
    configFile = join(root, "small.yaml");
    writeFileSync(configFile, SMALL);
  }
  const workers = Number(arg("workers") ?? availableParallelism());
  const out = join(root, "run");
  const config = loadConfig(configFile);
  const t0 = performance.now();
  const dry = await dryRunSweep(config, out, { workers });
  const dryWall = (performance.now() - t0) / 1000;
  const e = dry.estimate;
  console.log(`config ${configFile}: ${dry.toRun} jobs, ${workers} workers, engine ${dry.engine}`);
  console.log(`estimate: ${formatDuration(e.wallSeconds)} (range ${formatDuration(e.lowSeconds)} – ${formatDuration(e.highSeconds)}), made in ${dryWall.toFixed(1)} s`);

  const bin = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
  const t1 = performance.now();
  const r = spawnSync(process.execPath, [bin, "run", configFile, "--out", out, "--workers", String(workers)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const measured = (performance.now() - t1) / 1000;
  if (r.status !== 0) throw new Error(`mentia run failed (${r.status}):\n${r.stderr}`);
  const ratio = measured / e.wallSeconds;
  const inRange = measured >= e.lowSeconds && measured <= e.highSeconds;
  console.log(`measured: ${formatDuration(measured)} (${measured.toFixed(1)} s); measured / estimate = ${ratio.toFixed(2)}; ${inRange ? "inside" : "outside"} the printed range`);
  const ok = Math.abs(ratio - 1) <= TOLERANCE;
  console.log(ok ? `OK: within ±${TOLERANCE * 100} %` : `FAIL: more than ±${TOLERANCE * 100} % off`);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
