import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collapseBkt, collapseCostTotal, collapsePower, fitCollapse, scalePoints, type CollapseDatum } from "../src/analysis/collapse.js";
import { preferForm } from "../src/analysis/analyze.js";
import { AnalysisRng } from "../src/analysis/stats.js";
import { syntheticCollapseData, type SyntheticCollapseSpec } from "../src/analysis/synthetic.js";
import { command as collapseCommand, parseCollapseCsv } from "../src/cli/collapse.js";
import { MentiaError } from "../src/errors.js";

/**
 * Finite-size-scaling collapse on synthetic data with known truth, generated from each
 * form: the right form recovers p_c and its exponents within errors with χ²_red ≈ 1, the
 * wrong form has a clearly worse χ², and data without a transition give no confident claim.
 */
const SIZES = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const POWER: SyntheticCollapseSpec = { form: "power", pc: 0.5, nu: 1.5, beta: 0.3, sizes: SIZES.slice(1, 9), ps: Array.from({ length: 11 }, (_, i) => 0.45 + 0.01 * i), f: (x) => 1 + Math.tanh(x / 20), relNoise: 0.01 };
const BKT: SyntheticCollapseSpec = { form: "bkt", pc: 0.5, sigma: 0.5, n0: 8, beta: 0.2, sizes: SIZES, ps: Array.from({ length: 11 }, (_, i) => 0.4 + 0.02 * i), f: (x) => 1 + Math.tanh(x / 8), relNoise: 0.01 };
const B = 15;

const within = (v: number, truth: number, err: number | null, what: string): void => {
  assert.ok(err !== null && err > 0, `${what}: no error`);
  assert.ok(Math.abs(v - truth) <= 3 * err, `${what}: ${v} ± ${err} vs true ${truth}`);
};

test("power-law data: the power form recovers p_c, ν, β; the BKT form is clearly worse", () => {
  const data = syntheticCollapseData(POWER, 101);
  const p = collapsePower(data, { bootstrapReplicates: B });
  const b = collapseBkt(data, { bootstrapReplicates: B });
  console.log(`  power data → power: p_c ${p.pc.toFixed(4)} ± ${p.pcErr?.toFixed(4)} (0.5), ν ${p.nu?.toFixed(3)} ± ${p.nuErr?.toFixed(3)} (1.5), β ${p.beta?.toFixed(3)} ± ${p.betaErr?.toFixed(3)} (0.3), χ² ${p.chi2.toFixed(2)}; BKT χ² ${b.chi2.toFixed(2)}`);
  within(p.pc, 0.5, p.pcErr, "p_c");
  within(p.nu as number, 1.5, p.nuErr, "ν");
  within(p.beta as number, 0.3, p.betaErr, "β");
  assert.ok(p.chi2 < 2 && p.confident, `power χ² ${p.chi2}, notes ${p.notes}`);
  assert.ok(b.chi2 > 3 * p.chi2, `BKT χ² ${b.chi2} vs power ${p.chi2}`);
  assert.equal(preferForm(p, b, 2).preferred, "power");
  assert.equal(p.sigma, null);
  assert.equal(p.n0, null);
  assert.equal(p.points.length, data.length);
  for (let i = 1; i < p.points.length; i++) assert.ok(p.points[i].x >= p.points[i - 1].x, "points sorted by x");
});

test("BKT data: the BKT form recovers p_c, N0, β; the power form is clearly worse", () => {
  const data = syntheticCollapseData(BKT, 201);
  const b = collapseBkt(data, { bootstrapReplicates: B });
  const p = collapsePower(data, { bootstrapReplicates: B });
  console.log(`  BKT data → BKT: p_c ${b.pc.toFixed(4)} ± ${b.pcErr?.toFixed(4)} (0.5), N0 ${b.n0?.toFixed(2)} ± ${b.n0Err?.toFixed(2)} (8), β ${b.beta?.toFixed(3)} ± ${b.betaErr?.toFixed(3)} (0.2), χ² ${b.chi2.toFixed(2)}; power χ² ${p.chi2.toFixed(2)} (p_c ${p.pc.toFixed(3)})`);
  within(b.pc, 0.5, b.pcErr, "p_c");
  within(b.n0 as number, 8, b.n0Err, "N0");
  within(b.beta as number, 0.2, b.betaErr, "β");
  assert.ok(b.chi2 < 2 && b.confident, `BKT χ² ${b.chi2}, notes ${b.notes}`);
  assert.equal(b.sigma, 0.5);
  assert.equal(b.sigmaErr, null);
  assert.equal(b.nu, null);
  assert.ok(p.chi2 > 2.5 * b.chi2, `power χ² ${p.chi2} vs BKT ${b.chi2}`);
  assert.ok(!p.confident, "the wrong form must not be a confident collapse");
  assert.equal(preferForm(p, b, 2).preferred, "bkt");
});

test("BKT with σ fitted recovers σ ≈ 1/2 within its error", () => {
  const data = syntheticCollapseData(BKT, 202);
  const b = collapseBkt(data, { sigma: null, bootstrapReplicates: 10 });
  console.log(`  BKT σ free: σ ${b.sigma?.toFixed(3)} ± ${b.sigmaErr?.toFixed(3)} (0.5), p_c ${b.pc.toFixed(4)} ± ${b.pcErr?.toFixed(4)}, χ² ${b.chi2.toFixed(2)}`);
  within(b.sigma as number, 0.5, b.sigmaErr, "σ");
  within(b.pc, 0.5, b.pcErr, "p_c");
});

test("the cost at the true parameters is ≈ 1 and grows away from them (the formula, checked directly)", () => {
  const data = syntheticCollapseData(POWER, 103);
  const dof = data.length - 2 - 3;
  const at = (pc: number, nu: number): number => collapseCostTotal(scalePoints(data, "power", { pc, nu, prefactorExponent: 0.3 / nu })) / dof;
  assert.ok(Math.abs(at(0.5, 1.5) - 1) < 0.5, `χ² at truth ${at(0.5, 1.5)}`);
  assert.ok(at(0.52, 1.5) > 3 * at(0.5, 1.5));
  assert.ok(at(0.5, 2.5) > 3 * at(0.5, 1.5));
});

test("no transition → no confident claim: honest noise, under-quoted noise, a smooth non-critical surface", () => {
  const rng = new AnalysisRng(7);
  const sizes = POWER.sizes;
  const ps = BKT.ps;
  const make = (fn: (p: number, n: number) => number, rel: number, quoted: number): CollapseDatum[] =>
    sizes.flatMap((n) => ps.map((p) => {
      const y = fn(p, n);
      return { size: n, p, y: y * (1 + rel * rng.normal()), dy: quoted * y };
    }));
  const cases: [string, CollapseDatum[], boolean][] = [
    ["pure noise, honest errors", make(() => 1, 0.01, 0.01), false],
    ["pure noise, errors quoted 10× too small", make(() => 1, 0.01, 0.001), true],
    ["two crossing power laws (no scaling form)", make((p, n) => (1 + 3 * p) * Math.pow(n, -0.5) + p * p * Math.pow(n, 0.2), 0.01, 0.01), true],
    ["exponent varying smoothly with p, no critical point", make((p, n) => (1 + p) * Math.pow(n, -0.3 * (1 - p)), 0.01, 0.01), false],
  ];
  for (const [name, data, poorChi2] of cases) {
    for (const form of ["power", "bkt"] as const) {
      const r = fitCollapse(data, { form, bootstrapReplicates: 8 });
      console.log(`  ${name} → ${form}: χ² ${r.chi2.toFixed(2)}, p_c ${r.pc.toFixed(3)} ± ${r.pcErr?.toFixed(3)}, confident ${r.confident} (${r.notes[0] ?? ""})`);
      assert.equal(r.confident, false, `${name}, ${form}: claimed a confident collapse`);
      assert.ok(r.notes.length > 0);
      if (poorChi2) assert.ok(r.chi2 > 2, `${name}, ${form}: χ² ${r.chi2} should be poor`);
    }
  }
});

test("degenerate collapse input → clear MentiaErrors", () => {
  const good = syntheticCollapseData(POWER, 1);
  const err = (data: CollapseDatum[], re: RegExp) => assert.throws(() => collapsePower(data, { bootstrapReplicates: 2 }), (e: unknown) => e instanceof MentiaError && re.test(e.message));
  err([], /no data points/);
  err(good.filter((d) => d.size === 64), /at least 2 different sizes/);
  err(good.filter((d) => d.p < 0.465), /at least 3 different p/);
  err(good.map((d, i) => (i === 5 ? { ...d, y: NaN } : d)), /point 6: y is NaN/);
  err(good.map((d, i) => (i === 2 ? { ...d, dy: 0 } : d)), /dy must be > 0/);
  err(good.map((d) => ({ ...d, y: 1.5 })), /same at every point/);
  err(good.filter((d) => d.p <= 0.47 && d.size <= 64 * 2 ** 1).slice(0, 5), /too few|different/);
  assert.throws(() => collapseBkt(good.map((d) => ({ ...d, size: d.size / 64 })), { bootstrapReplicates: 2 }), (e: unknown) => e instanceof MentiaError && /sizes > 1/.test(e.message));
});

test("CSV parsing: header in any order, bad rows named by line", () => {
  const d = parseCollapseCsv("p,size,dy,y,extra\n0.5,64,0.1,1.2,x\n0.6,128,0.1,1.3,y\n", "a.csv");
  assert.deepEqual(d[1], { size: 128, p: 0.6, y: 1.3, dy: 0.1 });
  const bad = (text: string, re: RegExp) => assert.throws(() => parseCollapseCsv(text, "f.csv"), (e: unknown) => e instanceof MentiaError && re.test(e.message));
  bad("", /empty file/);
  bad("size,p,y\n1,2,3\n", /lacks column 'dy'/);
  bad("size,p,y,dy\n", /no data rows/);
  bad("size,p,y,dy\n64,0.5,1\n", /f.csv:2: 3 fields/);
  bad("size,p,y,dy\n64,0.5,abc,0.1\n", /f.csv:2: y 'abc'/);
});

test("mentia collapse --json prints exactly one object with the documented fields and recovers the truth", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-collapse-"));
  try {
    const file = join(dir, "bkt.csv");
    const data = syntheticCollapseData(BKT, 301);
    writeFileSync(file, "size,p,y,dy\n" + data.map((d) => `${d.size},${d.p},${d.y},${d.dy}`).join("\n") + "\n");
    const out: string[] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(" "));
    let rc: number;
    try {
      rc = await collapseCommand.run([file, "--form", "bkt", "--json", "--bootstrap", "10"]);
    } finally {
      console.log = orig;
    }
    assert.equal(rc, 0);
    assert.equal(out.length, 1, "one line of output");
    const obj = JSON.parse(out[0]) as Record<string, unknown>;
    for (const k of ["form", "pc", "pcErr", "nu", "nuErr", "beta", "betaErr", "sigma", "sigmaErr", "chi2", "points"]) assert.ok(k in obj, `missing ${k}`);
    assert.equal(obj.form, "bkt");
    assert.equal(obj.nu, null);
    assert.equal(obj.nuErr, null);
    assert.equal(obj.sigma, 0.5);
    assert.ok(Math.abs((obj.pc as number) - 0.5) < 3 * (obj.pcErr as number), `p_c ${obj.pc} ± ${obj.pcErr}`);
    assert.ok(Array.isArray(obj.points) && (obj.points as unknown[]).length === data.length);
    assert.ok(!out[0].includes("NaN"));
    await assert.rejects(collapseCommand.run([file, "--form", "kt"]), (e: unknown) => e instanceof MentiaError && /--form must be power or bkt/.test(e.message));
    await assert.rejects(collapseCommand.run([join(dir, "missing.csv"), "--form", "bkt"]), (e: unknown) => e instanceof MentiaError && /cannot read/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
