import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// `mentia slurm` end to end against fake sbatch/squeue programs (they log their arguments and hand
// out job ids), so the submit logic is tested without SLURM. test/slurm-integration.test.ts runs it
// on a real SLURM.

const BIN = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const CONFIG = `# a tiny sweep: 8 jobs
widths: [16]
depths: [1]
pTrain: [0, 0.1, 0.2, 0.3]
pEval: [0, 0.5]
sizes: [100, 200]
epochs: 1
steps: 0
`;

interface Env {
  root: string;
  config: string;
  fakeBin: string;
  run: (args: string[], opts?: { withSlurm?: boolean; extraEnv?: Record<string, string> }) => { status: number | null; stdout: string; stderr: string };
  sbatchCalls: () => string[];
  setQueue: (ids: string[]) => void;
}

function setup(): Env {
  const root = mkdtempSync(join(tmpdir(), "mentia-slurm-cli-"));
  const config = join(root, "tiny.yaml");
  writeFileSync(config, CONFIG);
  const fakeBin = join(root, "fakebin");
  mkdirSync(fakeBin);
  const state = join(root, "fakestate");
  mkdirSync(state);
  writeFileSync(
    join(fakeBin, "sbatch"),
    `#!/bin/bash
echo "$*" >> "${state}/sbatch.log"
if [[ -n "\${FAKE_SBATCH_FAIL_ON:-}" && "$*" == *"\${FAKE_SBATCH_FAIL_ON}"* ]]; then echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1; fi
n=$(cat "${state}/next" 2>/dev/null || echo 500); echo $((n+1)) > "${state}/next"
echo "$n;fakecluster"
`,
  );
  writeFileSync(join(fakeBin, "squeue"), `#!/bin/bash\ncat "${state}/queue" 2>/dev/null || true\n`);
  chmodSync(join(fakeBin, "sbatch"), 0o755);
  chmodSync(join(fakeBin, "squeue"), 0o755);
  // Without the fake bin, PATH is an empty folder: no sbatch, even where SLURM is installed.
  const noSlurm = join(root, "emptybin");
  mkdirSync(noSlurm);
  const basePath = `${noSlurm}`;
  return {
    root,
    config,
    fakeBin,
    run: (args, opts = {}) => {
      const PATH = opts.withSlurm ? `${fakeBin}:/usr/bin:/bin` : basePath;
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: root, env: { PATH, HOME: root, ...opts.extraEnv } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    sbatchCalls: () => (existsSync(join(state, "sbatch.log")) ? readFileSync(join(state, "sbatch.log"), "utf8").trim().split("\n") : []),
    setQueue: (ids) => writeFileSync(join(state, "queue"), ids.map((i) => `${i}\n`).join("")),
  };
}

test("slurm writes both scripts and a copy of the config, and says how to submit", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  const r = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4", "--cpus-per-task", "2", "--time", "00:30:00"]);
  assert.equal(r.status, 0, r.stderr);
  const dir = join(e.root, "sweep", "slurm");
  assert.deepEqual(readdirSync(dir).sort(), ["array.sbatch", "config.yaml", "finish.sbatch", "logs"]);
  assert.equal(readFileSync(join(dir, "config.yaml"), "utf8"), CONFIG);
  const array = readFileSync(join(dir, "array.sbatch"), "utf8");
  assert.match(array, /#SBATCH --array=0-3\n/);
  assert.match(array, /#SBATCH --cpus-per-task=2\n/);
  assert.match(array, /#SBATCH --time=00:30:00\n/);
  assert.ok(array.includes(`${process.execPath} ${BIN} run ${dir}/config.yaml --out ${join(e.root, "sweep")} --shard "$shard/4" --workers 2 --break-lock`));
  assert.match(r.stdout, /sbatch --parsable .*array\.sbatch/);
  assert.match(r.stdout, /--dependency=afterok:\$id --kill-on-invalid-dep=yes .*finish\.sbatch/);
});

test("--submit without SLURM is a clear error and writes nothing", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  const r = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4", "--submit"]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), "mentia: slurm: --submit needs SLURM, but sbatch is not on PATH (run without --submit to only write the scripts, then submit them where SLURM is)");
  assert.equal(existsSync(join(e.root, "sweep")), false);
});

test("--submit submits the array, then the finish job after it; a second submit while queued is refused", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  const r = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4", "--submit"], { withSlurm: true });
  assert.equal(r.status, 0, r.stderr);
  const dir = join(e.root, "sweep", "slurm");
  assert.deepEqual(e.sbatchCalls(), [`--parsable ${dir}/array.sbatch`, `--parsable --dependency=afterok:500 --kill-on-invalid-dep=yes ${dir}/finish.sbatch`]);
  assert.match(r.stdout, /submitted array job 500 \(tasks 0-3\) and finish job 501/);
  assert.match(r.stdout, /squeue -j 500,501/);
  assert.match(r.stdout, new RegExp(`mentia status ${join(e.root, "sweep")}`));
  const record = JSON.parse(readFileSync(join(dir, "submissions.jsonl"), "utf8").trim()) as Record<string, unknown>;
  assert.equal(record.arrayJobId, "500");
  assert.equal(record.finishJobId, "501");

  // While the finish job is queued, resubmitting would run shards twice: refused.
  e.setQueue(["501"]);
  const again = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4", "--submit"], { withSlurm: true });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /jobs 501 of this sweep are still queued or running \(squeue -j 501\)/);
  assert.equal(e.sbatchCalls().length, 2);

  // Once the queue no longer lists them, resubmission goes ahead (resume redoes unfinished jobs).
  e.setQueue(["999"]);
  const third = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4", "--submit"], { withSlurm: true });
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, /submitted array job 502 .* finish job 503/);
  assert.equal(readFileSync(join(dir, "submissions.jsonl"), "utf8").trim().split("\n").length, 2);
});

test("a failing finish submission names the array job that did go in", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  const r = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "2", "--submit"], { withSlurm: true, extraEnv: { FAKE_SBATCH_FAIL_ON: "finish.sbatch" } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /sbatch refused .*finish\.sbatch: sbatch: error: Batch job submission failed: Invalid partition name specified — the array job 500 was submitted: scancel 500/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

test("the same DIR cannot take another config or another number of tasks once shards exist", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  assert.equal(e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4"]).status, 0);
  // Same study written differently (reordered grid, JSON instead of YAML): accepted.
  writeFileSync(join(e.root, "same.json"), JSON.stringify({ widths: [16], depths: [1], pTrain: [0.3, 0.2, 0.1, 0], pEval: [0.5, 0], sizes: [200, 100], epochs: 1, steps: 0 }));
  assert.equal(e.run(["slurm", "same.json", "--out", "sweep", "--tasks", "4"]).status, 0);
  writeFileSync(join(e.root, "other.yaml"), CONFIG.replace("epochs: 1", "epochs: 2"));
  const other = e.run(["slurm", "other.yaml", "--out", "sweep", "--tasks", "4"]);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /holds a sweep with a different config \(epochs: 1 → 2\); use another --out DIR/);
  // Without shards the split can still change; with shards it cannot.
  assert.equal(e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "2"]).status, 0);
  writeFileSync(join(e.root, "sweep", "shard-0.sqlite"), "");
  const resplit = e.run(["slurm", "tiny.yaml", "--out", "sweep", "--tasks", "4"]);
  assert.equal(resplit.status, 2);
  assert.match(resplit.stderr, /was split into 2 tasks and holds their shards; resubmit with --tasks 2/);
});

test("bad command lines are one-line errors with exit code 2", (t) => {
  const e = setup();
  t.after(() => rmSync(e.root, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [["slurm", "--out", "d", "--tasks", "2"], /expected one CONFIG file, got none/],
    [["slurm", "tiny.yaml", "--tasks", "2"], /--out DIR is required/],
    [["slurm", "tiny.yaml", "--out", "d"], /--tasks N is required/],
    [["slurm", "tiny.yaml", "--out", "d", "--tasks", "9"], /--tasks 9 exceeds the 8 jobs of tiny\.yaml/],
    [["slurm", "missing.yaml", "--out", "d", "--tasks", "2"], /missing\.yaml: cannot read the config/],
    [["slurm", "tiny.yaml", "--out", "d", "--tasks", "2", "--mem", "much"], /--mem must be a size/],
    [["slurm", "tiny.yaml", "--out", "d", "--tasks", "2", "--nodes", "3"], /unknown option --nodes/],
  ];
  for (const [args, re] of cases) {
    const r = e.run(args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
  assert.equal(existsSync(join(e.root, "d")), false);
  const help = e.run(["slurm", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: mentia slurm CONFIG --out DIR --tasks N/);
});
