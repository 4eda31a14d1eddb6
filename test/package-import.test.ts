import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `import { … } from "mentia"` works by name (package.json "exports" + "types"): from a
 * project that installs mentia (here: node_modules/mentia linked to this checkout, as
 * `npm install <path>` does), type-checked by TypeScript, and from a script in the checkout
 * (package self-reference). Runs the README's "Use from a script" example.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const SCRIPT = `import { analyzeRecords, formatSummary, parseConfig, planJobs, syntheticRecords } from "mentia";

const config = parseConfig({ widths: [32], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.3, 0.6], sizes: [200, 400, 800, 1600], seeds: [0, 1, 2] });
const records = syntheticRecords(
  { widths: [32], depths: [1], pTrains: config.pTrain, pEvals: config.pEval, sizes: config.sizes, seeds: 3, masks: 2, seedNoise: 0.02, maskNoise: 0.01 },
  (g, n) => 1.2 * (1 + g.pEval) * Math.pow(n / 200, -0.8 * (0.45 - g.pEval)),
  1,
);
const analysis = analyzeRecords(records, { bootstrapReplicates: 50 });
console.log(planJobs(config).length, analysis.phases.map((p) => p.phase[0]).join(""));
console.log(formatSummary(analysis).split("\\n")[0]);
`;

test("a project that installs mentia imports it by name, with types", () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-consumer-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "mentia"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(join(dir, "study.mjs"), SCRIPT);
    const r = spawnSync(process.execPath, ["study.mjs"], { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [jobs, phases] = r.stdout.split("\n")[0].split(" ");
    assert.equal(jobs, String(2 * 4 * 3));
    assert.equal(phases.length, 6);
    assert.match(phases, /^ee?d/, r.stdout);
    assert.match(r.stdout, /analysis of 72 records/);

    // The same script as TypeScript: "types" resolves, and a wrong call is a type error.
    writeFileSync(join(dir, "study.ts"), SCRIPT);
    writeFileSync(join(dir, "bad.ts"), `import { analyzeRecords } from "mentia";\nanalyzeRecords("not records");\n`);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: [] } }));
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const ok = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit", "study.ts"].filter((a) => a !== "study.ts"), { cwd: dir, encoding: "utf8" });
    const out = ok.stdout + ok.stderr;
    assert.doesNotMatch(out, /study\.ts/, out);
    assert.match(out, /bad\.ts.*Argument of type 'string' is not assignable/s, "a wrong argument type is caught: the types are loaded");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a script inside the checkout imports mentia by name (self-reference)", () => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", `import { analyzeRecords, runSweep, buildReport, readEvalRecords } from "mentia"; console.log([analyzeRecords, runSweep, buildReport, readEvalRecords].map((f) => typeof f).join(","));`], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "function,function,function,function");
});
