import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { collapseCost, fitCollapse, scalePoints, type CollapseForm, type ScalingParams } from "../src/analysis/collapse.js";
import { analyzeRecords } from "../src/analysis/analyze.js";
import { asymmetricCrossover, coarseFssGrid, noisyGridData, syntheticRecords } from "../src/analysis/synthetic.js";
import { ALT_MIN_DELTA_AIC, CONTROLS, EFFORT, FAMILIES, GRID_NAMES, GRIDS, NOISE, PC, type DrawJob, type DrawResult } from "./fss-families.js";

/**
 * The calibrated (Gaussian-process) collapse on data whose truth is NOT the fitter's formula:
 * built from a correlation length ξ(p) — power law ξ = |p − p_c|^(−ν) on both sides, BKT
 * ln ξ = ln ξ0 + b (p − p_c)^(−σ) on one side (ξ = ∞ on the other) — or from the
 * FSS-convention BKT variable, and drift controls without a transition, on grids as coarse as
 * the transition study's (13 p values 0.015 apart, 10 sizes 250 … 50,000) and on a finer one,
 * with 1.5 % Gaussian noise (dy given). Lines "VALIDATION |" feed docs/analysis.md.
 * The families live in fss-families.ts; the `--compare` draws run in worker threads (one per
 * core, at most 4), all of them started before the first test so that every core stays busy.
 */
const GRID_LIST = [["coarse", GRIDS.coarse], ["fine", GRIDS.fine]] as const;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Draw counts of the verdict tests (sized so that this file takes ≈ 2 min on 2 cores). A longer
 * study: MENTIA_FSS_DRAWS="control=10" (any of family, fine, control; docs/analysis.md §6a).
 */
const DRAWS = { family: 20, fine: 2, control: 4 };
for (const kv of (process.env.MENTIA_FSS_DRAWS ?? "").split(",").filter(Boolean)) {
  const [k, v] = kv.split("=");
  if (!(k in DRAWS) || !/^\d+$/.test(v ?? "")) throw new Error(`MENTIA_FSS_DRAWS: expected e.g. "family=20,control=10", got "${kv}"`);
  DRAWS[k as keyof typeof DRAWS] = Number(v);
}
/**
 * The least p_c coverage asserted: with 20 draws, fewer than 16 covered (80 %) would show a
 * nominal 95 % interval too narrow at the 1 % level (binomial, P(X ≤ 15 | 20, 0.95) = 0.003;
 * P(X ≤ 16) = 0.016); the 90 % is reported, not asserted (docs/analysis.md §6a).
 */
const MIN_COVERAGE = 0.8;

function runDraws(jobs: DrawJob[]): Promise<DrawResult[]> {
  const results = new Array<DrawResult>(jobs.length);
  let next = 0;
  const workers = Math.max(1, Math.min(jobs.length, availableParallelism(), 4));
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL("./fss-draw-worker.js", import.meta.url));
      let cur = -1;
      const feed = (): void => {
        if (next >= jobs.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        cur = next++;
        w.postMessage(jobs[cur]);
      };
      w.on("message", (r: DrawResult) => {
        results[cur] = r;
        feed();
      });
      w.on("error", reject);
      feed();
    });
  return Promise.all(Array.from({ length: workers }, one)).then(() => results);
}

/** MENTIA_FSS_SEED_OFFSET shifts every data seed: fresh draws to check a setting chosen on the default ones (docs/analysis.md §6a). */
const SEED_OFFSET = Number(process.env.MENTIA_FSS_SEED_OFFSET ?? 0);
if (!Number.isInteger(SEED_OFFSET) || SEED_OFFSET < 0) throw new Error(`MENTIA_FSS_SEED_OFFSET: expected a whole number ≥ 0, got "${process.env.MENTIA_FSS_SEED_OFFSET}"`);
const jobsOf = (family: string, grid: "coarse" | "fine", draws: number, seed0: number): DrawJob[] => Array.from({ length: draws }, (_, d) => ({ family, grid, dataSeed: SEED_OFFSET + seed0 + d, fitSeed: d + 1 }));
const allJobs: DrawJob[] = [
  ...FAMILIES.flatMap((f) => jobsOf(f.name, "coarse", DRAWS.family, 500)),
  ...jobsOf(FAMILIES[0].name, "fine", DRAWS.fine, 700),
  ...CONTROLS.flatMap((c) => jobsOf(c.name, "coarse", DRAWS.control, 900)),
];
// started now, awaited by the verdict tests (the χ² tests below run meanwhile on the main thread)
const drawsDone = runDraws(allJobs);
drawsDone.catch(() => undefined);

async function verdicts(family: string, grid: "coarse" | "fine") {
  const all = (await drawsDone).filter((r) => r.family === family && r.grid === grid);
  for (const [d, r] of all.entries()) console.log(`VALIDATION-DRAW | ${family} | ${grid} | ${d} | ${r.preferred} | ${r.row} | ${r.reason.split(";")[0]} |`);
  const withCI = all.filter((r) => r.pcCI);
  const covered = withCI.filter((r) => (r.pcCI as [number, number])[0] <= PC && PC <= (r.pcCI as [number, number])[1]).length;
  const pcs = all.flatMap((r) => (r.pc === null ? [] : [r.pc]));
  const dAics = all.flatMap((r) => (r.dAic === null ? [] : [r.dAic]));
  return { draws: all.length, preferred: all.map((r) => r.preferred), preferredAlt: all.map((r) => r.preferredAlt), covered, withCI: withCI.length, pcs, dAics };
}

test("χ²_red at the true parameters: GP ≈ 1 on coarse and fine grids (mean over draws in [0.7, 1.5]); the straight-line HH cost is not", () => {
  const draws = 8;
  for (const fam of FAMILIES)
    for (const [gkey, grid] of GRID_LIST) {
      const gname = GRID_NAMES[gkey];
      const gp: number[] = [];
      const hh: number[] = [];
      const nb: number[] = [];
      for (let d = 0; d < draws; d++) {
        const data = noisyGridData(fam.truth, grid, NOISE, 100 + d);
        const pts = scalePoints(data, fam.form as CollapseForm, fam.scaling as ScalingParams);
        // the warp centre of bkt-xi is the median x of its points, as in the fit
        const xs = pts.map((q) => q.x).sort((a, b) => a - b);
        gp.push(collapseCost(pts, "gp", 0, fam.form === "bkt-xi" ? xs[Math.floor(xs.length / 2)] : 0).chi2Red as number);
        hh.push(collapseCost(pts, "hh").chi2Red as number);
        nb.push(collapseCost(pts, "neighbour").chi2Red as number);
      }
      console.log(`VALIDATION | χ² at truth | ${fam.name} | ${gname} | GP ${mean(gp).toFixed(2)} (${Math.min(...gp).toFixed(2)}–${Math.max(...gp).toFixed(2)}) | HH ${mean(hh).toFixed(2)} | neighbour ${mean(nb).toFixed(2)} | ${draws} draws |`);
      assert.ok(mean(gp) >= 0.7 && mean(gp) <= 1.5, `${fam.name}, ${gname}: GP χ²_red at the truth ${mean(gp)}`);
    }
  // the straight-line interpolation on the coarse grid (what the transition study has): far above 1
  const data = noisyGridData(FAMILIES[0].truth, coarseFssGrid(PC), NOISE, 100);
  assert.ok((collapseCost(scalePoints(data, "power", FAMILIES[0].scaling as ScalingParams), "hh").chi2Red as number) > 3);
});

test("the GP fit's joint search leaves a shallow basin: FSS-BKT draw with data seed 2518 (the search with fixed hyper-parameters stopped at −2 ln L −977.1, p_c 0.4505 ± 0.0015)", () => {
  const fam = FAMILIES.find((f) => f.form === "bkt") as (typeof FAMILIES)[number];
  const r = fitCollapse(noisyGridData(fam.truth, GRIDS.coarse, NOISE, 2518), { form: "bkt", sigma: 0.5, errors: "curvature", effort: EFFORT, seed: 19 });
  console.log(`VALIDATION | joint search, FSS-BKT seed 2518 | −2 ln L ${(-2 * r.logLikelihood!).toFixed(1)} | p_c ${r.pc.toFixed(4)} ± ${r.pcErr?.toFixed(4)} |`);
  assert.ok(-2 * (r.logLikelihood as number) < -985, `−2 ln L ${-2 * (r.logLikelihood as number)}`);
  assert.ok(r.pcCI && r.pcCI[0] <= PC && PC <= r.pcCI[1], `p_c ${r.pc} CI ${r.pcCI}`);
});

test("the issue's example (y = N^(−β/ν) G((p − p_c) N^(1/ν)), G a logistic step, ν 1.2, coarse grid): χ² at the truth HH ≫ 1, GP ≈ 1", () => {
  const G = (x: number): number => 1 / (1 + Math.exp(-x)) + 0.2;
  const truth = (n: number, p: number): number => Math.pow(n, -0.25) * G((p - PC) * Math.pow(n, 1 / 1.2));
  const gp: number[] = [];
  const hh: number[] = [];
  const nb: number[] = [];
  for (let d = 0; d < 8; d++) {
    const pts = scalePoints(noisyGridData(truth, coarseFssGrid(PC), NOISE, 300 + d), "power", { pc: PC, nu: 1.2, prefactorExponent: 0.25 });
    gp.push(collapseCost(pts, "gp").chi2Red as number);
    hh.push(collapseCost(pts, "hh").chi2Red as number);
    nb.push(collapseCost(pts, "neighbour").chi2Red as number);
  }
  console.log(`VALIDATION | χ² at truth | issue's example (logistic G of the scaling variable) | coarse (13 p × 10 N) | GP ${mean(gp).toFixed(2)} (${Math.min(...gp).toFixed(2)}–${Math.max(...gp).toFixed(2)}) | HH ${mean(hh).toFixed(2)} | neighbour ${mean(nb).toFixed(2)} | 8 draws |`);
  assert.ok(mean(gp) >= 0.7 && mean(gp) <= 1.5, `GP ${mean(gp)}`);
  assert.ok(mean(hh) > 10, `HH ${mean(hh)}`);
});

for (const fam of FAMILIES) {
  test(`${fam.name}, coarse grid: ${fam.form} preferred in ≥ 90 % of draws, never a wrong form; its p_c 95 % interval covers the truth in ≥ 80 %`, async () => {
    const v = await verdicts(fam.name, "coarse");
    const right = v.preferred.filter((p) => p === fam.form).length;
    const wrong = v.preferred.filter((p) => p !== fam.form && p !== "undecided").length;
    console.log(`VALIDATION | verdict | ${fam.name} | coarse | ${fam.form} preferred ${right}/${v.draws}, wrong form ${wrong}/${v.draws} | p_c CI covers ${v.covered}/${v.withCI} | mean p_c ${v.pcs.length ? mean(v.pcs).toFixed(4) : "—"} (true ${PC}) | smallest ΔAIC to the runner-up ${Math.min(...v.dAics).toFixed(1)} | at ΔAIC ≥ ${ALT_MIN_DELTA_AIC}: ${fam.form} ${v.preferredAlt.filter((p) => p === fam.form).length}/${v.draws}, wrong form ${v.preferredAlt.filter((p) => p !== fam.form && p !== "undecided").length}/${v.draws} |`);
    assert.equal(v.draws, DRAWS.family);
    assert.equal(wrong, 0, `a wrong form was preferred: ${v.preferred.join(", ")}`);
    // The FSS-variable BKT family is the hardest to tell from the power law on this grid (both
    // scale p − p_c by a growing function of N): at the former threshold 10 some draws stayed
    // "undecided" by ΔAIC 7–8 (docs/analysis.md §6a).
    assert.ok(right >= 0.9 * v.draws, `${fam.form} preferred in ${right}/${v.draws}: ${v.preferred.join(", ")}`);
    assert.ok(v.withCI === v.draws && v.covered >= MIN_COVERAGE * v.draws, `p_c covered in ${v.covered}/${v.withCI}`);
  });
}

test("fine grid: the power-law truth is preferred as power and its p_c interval covers", async () => {
  const v = await verdicts(FAMILIES[0].name, "fine");
  console.log(`VALIDATION | verdict | ${FAMILIES[0].name} | fine | power preferred ${v.preferred.filter((p) => p === "power").length}/${v.draws} | p_c CI covers ${v.covered}/${v.withCI} |`);
  assert.equal(v.draws, DRAWS.fine);
  assert.deepEqual(v.preferred, new Array(v.draws).fill("power"));
  assert.equal(v.covered, v.draws);
});

for (const ctl of CONTROLS) {
  test(`${ctl.name}: never a preferred form`, async () => {
    const v = await verdicts(ctl.name, "coarse");
    console.log(`VALIDATION | verdict | ${ctl.name} | coarse | undecided ${v.preferred.filter((p) => p === "undecided").length}/${v.draws} | ΔAIC best vs runner-up ${v.dAics.map((d) => d.toFixed(1)).join(", ")} | at ΔAIC ≥ ${ALT_MIN_DELTA_AIC}: a form preferred in ${v.preferredAlt.filter((p) => p !== "undecided").length}/${v.draws} |`);
    assert.equal(v.draws, DRAWS.control);
    assert.deepEqual(v.preferred, new Array(v.draws).fill("undecided"));
  });
}

test("the staircase (per-size plateaus, no scaling): the power fit that threads the plateaus is rejected by the curve's effective parameter count, not by its χ²", async () => {
  const all = (await drawsDone).filter((r) => r.family === CONTROLS[2].name);
  const threaded = all.filter((r) => Object.values(r.fits).some((f) => f && f.chi2 <= 2 && f.notes.some((n) => n.includes("threads the points"))));
  console.log(`VALIDATION | staircase | ${threaded.length}/${all.length} draws have a form with χ²_red ≤ 2 rejected only as threading the points | preferred: ${all.map((r) => r.preferred).join(", ")} |`);
  // the failure is reproduced (a fit good by χ² alone) in every draw, and rejected
  assert.equal(threaded.length, all.length);
});

test("N*(p) with a power-law truth, through analyze: the power form recovers p_c and ν and beats BKT by AIC", () => {
  // ln N*(p) = ln 100 − ν ln|p − p_c| (ν = 0.8, p_c = 0.5), asymmetric non-monotonic L(N)
  const lnNStar = (p: number): number => Math.log(100) - 0.8 * Math.log(Math.abs(p - 0.5));
  const ps = [0.55, 0.6, 0.65, 0.7, 0.8, 0.9];
  const recs = syntheticRecords(
    { widths: [32], depths: [1], pTrains: [0], pEvals: [0, ...ps], sizes: [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768], seeds: 6, masks: 2, seedNoise: 0.02, maskNoise: 0.005, seedNoiseAt: (n) => 0.01 * Math.pow(n / 64, 0.15), seedShareAcrossN: 0.5 },
    (g, n) => (g.pEval === 0 ? 2 * Math.pow(n, -0.3) : asymmetricCrossover(n, lnNStar(g.pEval), 2)),
    41,
  );
  const a = analyzeRecords(recs, { bootstrapReplicates: 40, collapseHalfWindow: 1e-6 }, { collapseBootstrapReplicates: 20, createdAt: "t" });
  const pow = a.lengthScaleFits.find((f) => f.form === "power");
  const bkt = a.lengthScaleFits.find((f) => f.form === "bkt" && f.sigmaFixed);
  assert.ok(pow && bkt, `fits: ${a.lengthScaleFits.map((f) => f.form).join(", ")}; ${a.warnings.join(" | ")}`);
  console.log(`VALIDATION | N*(p), power truth (ν 0.8, p_c 0.5), via analyze | power p_c ${pow.pc.toFixed(4)} ± ${pow.pcErr?.toFixed(4)} ν ${pow.params.nu.toFixed(3)} χ²/dof ${pow.chi2.toFixed(2)}/${pow.dof} AIC ${pow.aic?.toFixed(1)} | BKT σ ½ p_c ${bkt.pc.toFixed(4)} AIC ${bkt.aic?.toFixed(1)} |`);
  assert.ok(pow.pcErr !== null && Math.abs(pow.pc - 0.5) <= Math.max(2 * pow.pcErr, 0.01), `p_c ${pow.pc} ± ${pow.pcErr}`);
  assert.ok(Math.abs(pow.params.nu - 0.8) < 0.15, `ν ${pow.params.nu}`);
  assert.ok((pow.aic as number) < (bkt.aic as number), `power AIC ${pow.aic} vs BKT ${bkt.aic}`);
  assert.equal(pow.errorMethod, "seed-bootstrap");
});
