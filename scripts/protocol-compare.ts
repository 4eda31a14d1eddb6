/**
 * Compares training-length policies on real MNIST (docs/protocol.md): for every sweep
 * directory under RUNS (one per policy, made by scripts/protocol-study.sh) and every
 * (p_train, p_eval), the curve L(N) = mean over seeds of the test cross-entropy, with the
 * standard error from the seed scatter, and how smooth it is:
 *   - local slopes d ln L / d ln N between neighbouring sizes, and their largest jump;
 *   - weighted least-squares fits of ln L: a power law (a − α ln N), a quadratic in ln N;
 *     and of L: a power law with offset (A N^−α + L∞, L∞ ≥ 0); each with χ²/dof;
 *   - the size of the lowest mean loss (a crossover N* when it is inside the range);
 *   - how long training ran (steps, the best step in epochs) and the work in seconds.
 * Writes RUNS' comparison to OUT/comparison.json, OUT/tables.md and figures OUT/*.png.
 *
 * Usage: node dist/scripts/protocol-compare.js RUNS [--out docs/protocol]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { svgToPng } from "../src/report/render.js";
import { readExportRows, type ExportRow } from "../src/sweep/store.js";

interface Fit {
  chi2: number;
  dof: number;
  chi2Red: number | null;
  params: Record<string, number>;
}

interface CurveReport {
  study: string;
  policy: string;
  pTrain: number;
  pEval: number;
  seeds: number;
  points: Array<{ n: number; mean: number; stderr: number; steps: number; bestEpoch: number }>;
  slopes: Array<{ nLow: number; nHigh: number; slope: number; err: number }>;
  maxSlopeJump: number;
  powerLaw: Fit;
  quadratic: Fit;
  cubic: Fit;
  offset: Fit;
  /** N of the lowest mean loss, when it is not at either end of the range. */
  nStar: number | null;
}

/** Weighted linear least squares y ≈ X·β with σ per point; returns β and χ². */
function wls(X: number[][], y: number[], sigma: number[]): { beta: number[]; chi2: number } {
  const p = X[0].length;
  const A = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const b = new Array<number>(p).fill(0);
  X.forEach((row, i) => {
    const w = 1 / (sigma[i] * sigma[i]);
    for (let j = 0; j < p; j++) {
      b[j] += w * row[j] * y[i];
      for (let k = 0; k < p; k++) A[j][k] += w * row[j] * row[k];
    }
  });
  // Gaussian elimination with partial pivoting (p ≤ 4).
  const M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= p; k++) M[r][k] -= f * M[c][k];
    }
  }
  const beta = M.map((r, i) => r[p] / r[i]);
  const chi2 = X.reduce((s, row, i) => s + ((y[i] - row.reduce((t, v, j) => t + v * beta[j], 0)) / sigma[i]) ** 2, 0);
  return { beta, chi2 };
}

function fit(chi2: number, n: number, k: number, params: Record<string, number>): Fit {
  const dof = n - k;
  return { chi2, dof, chi2Red: dof > 0 ? chi2 / dof : null, params };
}

/** L = A N^−α + L∞ (L∞ ≥ 0): linear in (A, L∞) at fixed α; α on a fine grid, then refined. */
function offsetFit(ns: number[], L: number[], dL: number[]): Fit {
  const at = (alpha: number): { chi2: number; A: number; Linf: number } => {
    const X = ns.map((n) => [n ** -alpha, 1]);
    let { beta, chi2 } = wls(X, L, dL);
    if (beta[1] < 0) {
      const r = wls(ns.map((n) => [n ** -alpha]), L, dL);
      beta = [r.beta[0], 0];
      chi2 = r.chi2;
    }
    return { chi2, A: beta[0], Linf: beta[1] };
  };
  let best = { alpha: 0.01, ...at(0.01) };
  for (let a = 0.01; a <= 3; a += 0.01) {
    const r = at(a);
    if (r.chi2 < best.chi2) best = { alpha: a, ...r };
  }
  for (let step = 0.005; step > 1e-5; step /= 2) {
    for (const a of [best.alpha - step, best.alpha + step]) {
      const r = at(a);
      if (a > 0 && r.chi2 < best.chi2) best = { alpha: a, ...r };
    }
  }
  return fit(best.chi2, ns.length, 3, { A: best.A, alpha: best.alpha, Linf: best.Linf });
}

function analyseCurve(study: string, rows: ExportRow[]): CurveReport {
  const bySize = new Map<number, ExportRow[]>();
  for (const r of rows) bySize.set(r.n, [...(bySize.get(r.n) ?? []), r]);
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const points = sizes.map((n) => {
    const rs = bySize.get(n)!;
    const ls = rs.map((r) => r.loss);
    const mean = ls.reduce((s, v) => s + v, 0) / ls.length;
    const sd = Math.sqrt(ls.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, ls.length - 1));
    const perEpoch = Math.ceil(n / rs[0].batch);
    return {
      n,
      mean,
      stderr: sd / Math.sqrt(ls.length),
      steps: rs.reduce((s, r) => s + r.steps, 0) / rs.length,
      bestEpoch: rs.reduce((s, r) => s + r.bestStep / perEpoch, 0) / rs.length,
    };
  });
  const x = points.map((p) => Math.log(p.n));
  const y = points.map((p) => Math.log(p.mean));
  const sy = points.map((p) => Math.max(p.stderr / p.mean, 1e-4));
  const slopes = points.slice(1).map((p, i) => {
    const dx = x[i + 1] - x[i];
    return { nLow: points[i].n, nHigh: p.n, slope: (y[i + 1] - y[i]) / dx, err: Math.hypot(sy[i], sy[i + 1]) / dx };
  });
  const maxSlopeJump = Math.max(0, ...slopes.slice(1).map((s, i) => Math.abs(s.slope - slopes[i].slope)));
  const pl = wls(x.map((v) => [1, v]), y, sy);
  const qd = wls(x.map((v) => [1, v, v * v]), y, sy);
  const cb = wls(x.map((v) => [1, v, v * v, v * v * v]), y, sy);
  const iMin = y.indexOf(Math.min(...y));
  const r0 = rows[0];
  return {
    study,
    policy: r0.policy,
    pTrain: r0.pTrain,
    pEval: r0.pEval,
    seeds: new Set(rows.map((r) => r.seed)).size,
    points,
    slopes,
    maxSlopeJump,
    powerLaw: fit(pl.chi2, x.length, 2, { lnA: pl.beta[0], alpha: -pl.beta[1] }),
    quadratic: fit(qd.chi2, x.length, 3, { c0: qd.beta[0], c1: qd.beta[1], c2: qd.beta[2] }),
    cubic: fit(cb.chi2, x.length, 4, { c0: cb.beta[0], c1: cb.beta[1], c2: cb.beta[2], c3: cb.beta[3] }),
    offset: offsetFit(points.map((p) => p.n), points.map((p) => p.mean), points.map((p) => Math.max(p.stderr, 1e-4 * p.mean))),
    nStar: iMin > 0 && iMin < points.length - 1 ? points[iMin].n : null,
  };
}

const f2 = (v: number | null): string => (v === null ? "—" : v >= 100 ? v.toFixed(0) : v.toFixed(2));

async function renderPng(spec: TopLevelSpec, path: string): Promise<void> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    writeFileSync(path, svgToPng(await view.toSVG(), 2));
  } finally {
    view.finalize();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = args[0];
  const outIdx = args.indexOf("--out");
  const out = outIdx >= 0 ? args[outIdx + 1] : "docs/protocol";
  if (!runs || !existsSync(runs)) {
    console.error("usage: node dist/scripts/protocol-compare.js RUNS_DIR [--out DIR]");
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  const studies = readdirSync(runs).filter((d) => existsSync(join(runs, d, "results.sqlite"))).sort();
  const walls = new Map<string, number>();
  const wallFile = join(runs, "..", "protocol-walls.txt");
  // "study seconds" lines; a resumed (already complete) study appends ~0 s, so keep the longest.
  if (existsSync(wallFile))
    for (const line of readFileSync(wallFile, "utf8").trim().split("\n")) {
      const [name, sec] = line.split(" ");
      walls.set(name, Math.max(walls.get(name) ?? 0, Number(sec)));
    }
  const curves: CurveReport[] = [];
  const work: Record<string, { jobs: number; seconds: number; wallSeconds: number | null }> = {};
  for (const study of studies) {
    const rows = readExportRows(join(runs, study));
    const jobs = new Map(rows.map((r) => [r.jobKey, r.trainSeconds + r.evalSeconds]));
    work[study] = { jobs: jobs.size, seconds: [...jobs.values()].reduce((s, v) => s + v, 0), wallSeconds: walls.get(study) ?? null };
    const groups = new Map<string, ExportRow[]>();
    for (const r of rows) {
      const k = `${r.pTrain}|${r.pEval}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const g of groups.values()) curves.push(analyseCurve(study, g));
  }
  curves.sort((a, b) => a.study.localeCompare(b.study) || a.pTrain - b.pTrain || a.pEval - b.pEval);

  const md: string[] = [];
  md.push("| study | p_train | p_eval | seeds | χ²/dof power law | χ²/dof power + offset | χ²/dof quadratic in ln N | largest slope jump | α (power law) | N* (lowest L inside the range) |");
  md.push("|---|---|---|---|---|---|---|---|---|---|");
  for (const c of curves)
    md.push(`| ${c.study} | ${c.pTrain} | ${c.pEval} | ${c.seeds} | ${f2(c.powerLaw.chi2Red)} (${c.powerLaw.dof}) | ${f2(c.offset.chi2Red)} (${c.offset.dof}) | ${f2(c.quadratic.chi2Red)} (${c.quadratic.dof}) | ${c.maxSlopeJump.toFixed(2)} | ${c.powerLaw.params.alpha.toFixed(3)} | ${c.nStar ?? "none"} |`);
  // The smoothness criterion on N = 250…16,000 (p_train 0, p_eval 0): quadratic in ln N χ²/dof ≤ 3,
  // no local slope differing from its neighbour by more than 0.2.
  md.push("", "Smoothness on N ≤ 16,000 (p_train 0, p_eval 0): criterion χ²/dof of the quadratic ≤ 3 and largest slope jump ≤ 0.2", "");
  md.push("| study | sizes | χ²/dof quadratic in ln N | largest slope jump | χ²/dof cubic in ln N | χ²/dof power law | criterion met? | local slopes |", "|---|---|---|---|---|---|---|---|");
  const small: CurveReport[] = [];
  for (const study of studies) {
    const rows = readExportRows(join(runs, study)).filter((r) => r.pTrain === 0 && r.pEval === 0 && r.n <= 16000);
    if (rows.length === 0) continue;
    const c = analyseCurve(study, rows);
    small.push(c);
    smoothRow(study, c);
  }
  // A study run again on more seeds (STUDY-seedsA-B) is also shown pooled with its first seeds.
  for (const extra of studies.filter((s) => /-seeds\d+-\d+$/.test(s))) {
    const first = extra.replace(/-seeds\d+-\d+$/, "");
    if (!studies.includes(first)) continue;
    const rows = [...readExportRows(join(runs, first)), ...readExportRows(join(runs, extra))].filter((r) => r.pTrain === 0 && r.pEval === 0 && r.n <= 16000);
    const c = analyseCurve(`${first} + ${extra}`, rows);
    small.push(c);
    smoothRow(`${first} + ${extra} (${c.seeds} seeds)`, c);
  }
  function smoothRow(name: string, c: CurveReport): void {
    const ok = c.quadratic.chi2Red !== null && c.quadratic.chi2Red <= 3 && c.maxSlopeJump <= 0.2;
    md.push(`| ${name} | ${c.points.length} (${c.points[0].n}…${c.points[c.points.length - 1].n}) | ${f2(c.quadratic.chi2Red)} (${c.quadratic.dof}) | ${c.maxSlopeJump.toFixed(2)} | ${f2(c.cubic.chi2Red)} (${c.cubic.dof}) | ${f2(c.powerLaw.chi2Red)} (${c.powerLaw.dof}) | ${ok ? "yes" : "no"} | ${c.slopes.map((s) => s.slope.toFixed(2)).join(", ")} |`);
  }
  md.push("", "Local slopes d ln L / d ln N (p_train 0, p_eval 0), from the smallest pair of sizes to the largest:", "");
  for (const c of curves.filter((c) => c.pTrain === 0 && c.pEval === 0)) md.push(`- ${c.study}: ${c.slopes.map((s) => s.slope.toFixed(2)).join(", ")}`);
  md.push("", "| study | jobs | work (s, one core: train + eval) | wall (s, 2 workers) | mean steps at N = " + (curves[0]?.points.map((p) => p.n).join(", ") ?? "") + " | epoch of the evaluated weights (early stopping) |", "|---|---|---|---|---|---|");
  for (const s of studies) {
    const c = curves.find((c) => c.study === s && c.pTrain === 0 && c.pEval === 0) ?? curves.find((c) => c.study === s)!;
    md.push(`| ${s} | ${work[s].jobs} | ${work[s].seconds.toFixed(0)} | ${work[s].wallSeconds ?? "—"} | ${c.points.map((p) => p.steps.toFixed(0)).join(", ")} | ${c.policy === "early-stop" ? c.points.map((p) => p.bestEpoch.toFixed(1)).join(", ") : "—"} |`);
  }
  writeFileSync(join(out, "tables.md"), md.join("\n") + "\n");
  writeFileSync(join(out, "comparison.json"), JSON.stringify({ createdAt: new Date().toISOString(), work, curves, smoothnessUpTo16000: small }, null, 1) + "\n");

  const POLICIES = ["early-stop", "epochs", "steps", "epochs-min-steps"];
  /** One panel per p_eval (two a row): y with its ±1σ bar against N (log), a line per study. */
  const panels = async (rows: Array<{ study: string; pEval: string; n: number; y: number; lo: number; hi: number }>, y: { title: string; log: boolean; x: string }, title: string, file: string): Promise<void> => {
    if (rows.length === 0) return;
    const enc = { x: { field: "n", type: "quantitative" as const, scale: { type: "log" as const }, title: y.x }, color: { field: "study", type: "nominal" as const, title: "study", legend: { labelLimit: 400 } } };
    await renderPng(
      {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title,
        data: { values: rows },
        facet: { field: "pEval", type: "nominal", title: null } as never,
        columns: 2,
        spec: {
          width: 330,
          height: 230,
          layer: [
            { mark: { type: "line", point: true }, encoding: { ...enc, y: { field: "y", type: "quantitative", title: y.title, ...(y.log ? { scale: { type: "log" } } : {}) } } },
            { mark: "rule", encoding: { ...enc, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
          ],
        },
        resolve: { scale: { y: "independent" } },
        config: { font: "DejaVu Sans" },
      } as TopLevelSpec,
      join(out, file),
    );
  };
  const lossRows = (keep: (c: CurveReport) => boolean) =>
    curves.filter(keep).flatMap((c) => c.points.map((p) => ({ study: c.study, pEval: `p_eval ${c.pEval}`, n: p.n, y: p.mean, lo: p.mean - p.stderr, hi: p.mean + p.stderr })));
  const lossAxis = { title: "test cross-entropy L", log: true, x: "training-set size N" };
  for (const pTrain of [...new Set(curves.map((c) => c.pTrain))])
    await panels(lossRows((c) => c.pTrain === pTrain && POLICIES.includes(c.study)), lossAxis, `L(N) per training-length policy — width 128, depth 2, p_train ${pTrain}, mean over seeds ± s.e.`, `loss-vs-n-ptrain${pTrain}.png`);
  await panels(lossRows((c) => c.pTrain === 0 && c.study.startsWith("early-stop")), lossAxis, "L(N) under early stopping: cadence, patience, split size, other seeds — p_train 0, mean over seeds ± s.e.", "loss-vs-n-early-stop-variants.png");
  const slopeRows = curves
    .filter((c) => c.pTrain === 0 && POLICIES.includes(c.study))
    .flatMap((c) => c.slopes.map((s) => ({ study: c.study, pEval: `p_eval ${c.pEval}`, n: Math.sqrt(s.nLow * s.nHigh), y: s.slope, lo: s.slope - s.err, hi: s.slope + s.err })));
  await panels(slopeRows, { title: "local slope", log: false, x: "N (geometric mid-point of the pair)" }, "Local slope d ln L / d ln N per policy — p_train 0 (a smooth L(N) has slowly varying slopes)", "local-slopes-ptrain0.png");
  console.log(readFileSync(join(out, "tables.md"), "utf8"));
}

await main();
