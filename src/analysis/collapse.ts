/**
 * Finite-size-scaling data collapse, generic over points (size N, control parameter p,
 * observable y, error dy). Two scaling forms:
 *
 *   power (second order):  y = N^(−β/ν) · f((p − p_c) N^(1/ν))
 *       scaled:  x = (p − p_c) · N^(1/ν),            Y = y · N^(β/ν),   dY = dy · N^(β/ν)
 *
 *   bkt:  ξ ~ exp(b / |p − p_c|^σ), so curves of equal N/ξ have equal (p − p_c)(ln(N/N0))^(1/σ)
 *       scaled:  x = (p − p_c) · (ln(N/N0))^(1/σ),   Y = y · N^β,        dY = dy · N^β
 *       (β here is the exponent of the N prefactor — the analogue of β/ν, since ν is infinite
 *       at a BKT point; σ = 1/2 by default, or fitted; N0 < min N is fitted.)
 *
 * Collapse quality (the cost), as in Houdayer–Hartmann / hainingpan/FSS:
 *   sort all points by x; for each interior point i (neighbours i−1, i+1 in that order)
 *     w_i  = (x_i − x_{i−1}) / (x_{i+1} − x_{i−1})          (w_i = 1/2 when x_{i+1} = x_{i−1})
 *     Ŷ_i  = (1 − w_i) Y_{i−1} + w_i Y_{i+1}               (linear interpolation of neighbours)
 *     Δ_i² = dY_i² + (1 − w_i)² dY_{i−1}² + w_i² dY_{i+1}²   (propagated errors)
 *   χ²_red = Σ_i (Y_i − Ŷ_i)² / Δ_i²  /  dof,   dof = (n − 2) − k   (k fitted parameters)
 * A perfect collapse of data with honest errors gives χ²_red ≈ 1 (slightly below, since
 * neighbours share noise); a wrong form or wrong parameters give χ²_red ≫ 1.
 *
 * Minimisation: differential evolution (seeded) inside the parameter box, then Nelder–Mead.
 * Errors: a parametric bootstrap (default: y → y + dy·ε, refit from the optimum with a short
 * global search), or the χ² curvature, cov = 2 H⁻¹ of the total cost at the minimum, scaled
 * by max(1, χ²_red) — local, and on this rugged cost it can underestimate errors many-fold.
 */
import { MentiaError } from "../errors.js";
import type { CollapsePoint, CollapseResult } from "./schema.js";
import { AnalysisRng, covarianceFromChi2Hessian, differentialEvolution, minimize1d, nelderMead, numericalHessian, sampleSd } from "./stats.js";

/** One input point of a collapse: size N, control parameter p, observable y ± dy. */
export interface CollapseDatum {
  size: number;
  p: number;
  y: number;
  dy: number;
}

export interface CollapseOptions {
  form: "power" | "bkt";
  /** Fit the prefactor exponent (default true); otherwise it is fixed at `beta` (default 0). */
  fitBeta?: boolean;
  beta?: number;
  /** BKT σ: a number fixes it (default 0.5); null fits it within sigmaBounds. */
  sigma?: number | null;
  /** Search box for p_c; default the data's p range widened by a quarter on each side. */
  pcBounds?: [number, number];
  /** Power form ν search range (default [0.2, 10]). */
  nuBounds?: [number, number];
  /** Prefactor exponent (β/ν for power, β for bkt) range (default [−3, 3]). */
  betaBounds?: [number, number];
  /** BKT σ range when fitted (default [0.2, 2]). */
  sigmaBounds?: [number, number];
  /** BKT: range of ln(N_min / N0) (default [0.05, 20]). */
  lnRatioBounds?: [number, number];
  /** Seed of the global search (and of the bootstrap). Default 1. */
  seed?: number;
  /** "curvature" (default) or "bootstrap" parameter errors. */
  errors?: "curvature" | "bootstrap";
  bootstrapReplicates?: number;
  /**
   * Smallest accepted overlap (fraction of interior points with a neighbour of another size,
   * see collapseOverlap). Default 0.5.
   */
  minOverlap?: number;
  /** Largest χ²_red called a good collapse (default 2). */
  maxGoodChi2?: number;
  /** Largest p_c error, as a fraction of the data's p range, for a confident claim (default 0.1). */
  maxRelativePcErr?: number;
}

/** Scaled coordinates of every point for given physical parameters. */
export interface ScalingParams {
  pc: number;
  /** power only */
  nu?: number;
  /** prefactor exponent: β/ν for power, β for bkt */
  prefactorExponent: number;
  /** bkt only */
  sigma?: number;
  n0?: number;
}

/** Power-law scaling form: x = (p − p_c) N^(1/ν), Y = y N^(β/ν). */
export function scalePower(d: CollapseDatum, pc: number, nu: number, betaOverNu: number): CollapsePoint {
  const s = Math.pow(d.size, betaOverNu);
  return { size: d.size, p: d.p, x: (d.p - pc) * Math.pow(d.size, 1 / nu), y: d.y * s, dy: d.dy * s };
}

/** BKT scaling form: x = (p − p_c) (ln(N/N0))^(1/σ), Y = y N^β. */
export function scaleBkt(d: CollapseDatum, pc: number, n0: number, sigma: number, beta: number): CollapsePoint {
  const s = Math.pow(d.size, beta);
  return { size: d.size, p: d.p, x: (d.p - pc) * Math.pow(Math.log(d.size / n0), 1 / sigma), y: d.y * s, dy: d.dy * s };
}

export function scalePoints(data: readonly CollapseDatum[], form: "power" | "bkt", sp: ScalingParams): CollapsePoint[] {
  return data.map((d) => (form === "power" ? scalePower(d, sp.pc, sp.nu ?? 1, sp.prefactorExponent) : scaleBkt(d, sp.pc, sp.n0 ?? 1, sp.sigma ?? 0.5, sp.prefactorExponent)));
}

/**
 * Total collapse cost Σ (Y_i − Ŷ_i)² / Δ_i² over interior points in x order (formula in the
 * file header). Points are sorted in place.
 */
export function collapseCostTotal(pts: CollapsePoint[]): number {
  pts.sort((a, b) => a.x - b.x);
  let total = 0;
  for (let i = 1; i + 1 < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    const c = pts[i + 1];
    const span = c.x - a.x;
    const w = span > 0 ? (b.x - a.x) / span : 0.5;
    const pred = (1 - w) * a.y + w * c.y;
    const var_ = b.dy * b.dy + (1 - w) * (1 - w) * a.dy * a.dy + w * w * c.dy * c.dy;
    total += ((b.y - pred) * (b.y - pred)) / var_;
  }
  return total;
}

/** Checks collapse input; every problem is a MentiaError naming it. */
export function validateCollapseData(data: readonly CollapseDatum[], form: "power" | "bkt"): void {
  if (data.length === 0) throw new MentiaError("collapse: no data points");
  data.forEach((d, i) => {
    for (const k of ["size", "p", "y", "dy"] as const) if (typeof d[k] !== "number" || !Number.isFinite(d[k])) throw new MentiaError(`collapse: point ${i + 1}: ${k} is ${String(d[k])}, expected a finite number`);
    if (!(d.size > 0)) throw new MentiaError(`collapse: point ${i + 1}: size must be > 0, got ${d.size}`);
    if (!(d.dy > 0)) throw new MentiaError(`collapse: point ${i + 1}: dy must be > 0 (an error bar), got ${d.dy}`);
  });
  const sizes = new Set(data.map((d) => d.size));
  const ps = new Set(data.map((d) => d.p));
  if (sizes.size < 2) throw new MentiaError(`collapse: needs at least 2 different sizes, got ${sizes.size}`);
  if (ps.size < 3) throw new MentiaError(`collapse: needs at least 3 different p values, got ${ps.size}`);
  if (form === "bkt" && Math.min(...sizes) <= 1) throw new MentiaError("collapse: the BKT form needs sizes > 1 (ln(N/N0) with N0 < N)");
  const ys = data.map((d) => d.y);
  const spread = Math.max(...ys) - Math.min(...ys);
  const scale = Math.max(...ys.map(Math.abs));
  if (!(spread > 1e-12 * scale) || spread === 0) throw new MentiaError("collapse: y is the same at every point — there is nothing to collapse");
}

/**
 * The same cost as collapseCostTotal on precomputed arrays (the fitters' hot path): x, Y,
 * dY of every point, ordered through `order`, which is kept between calls and re-sorted by
 * insertion sort (nearly sorted already when the parameters move a little).
 */
function costFromArrays(x: Float64Array, Y: Float64Array, dY: Float64Array, order: Uint32Array, size: Float64Array, minOverlap: number): number {
  const n = x.length;
  for (let i = 1; i < n; i++) {
    const v = order[i];
    const xv = x[v];
    let j = i - 1;
    while (j >= 0 && x[order[j]] > xv) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = v;
  }
  let total = 0;
  let mixed = 0;
  for (let k = 1; k + 1 < n; k++) {
    const a = order[k - 1];
    const b = order[k];
    const c = order[k + 1];
    if (size[a] !== size[b] || size[c] !== size[b]) mixed++;
    const span = x[c] - x[a];
    const w = span > 0 ? (x[b] - x[a]) / span : 0.5;
    const pred = (1 - w) * Y[a] + w * Y[c];
    const v = dY[b] * dY[b] + (1 - w) * (1 - w) * dY[a] * dY[a] + w * w * dY[c] * dY[c];
    total += ((Y[b] - pred) * (Y[b] - pred)) / v;
  }
  return mixed >= minOverlap * (n - 2) ? total : Infinity;
}

/**
 * Overlap of a scaled data set: the fraction of interior points (in x order) with at least
 * one neighbour of another size. Curves that do not interleave (overlap → 0) are only
 * compared with themselves, and their cost measures smoothness, not collapse; the fitters
 * therefore only accept parameters with overlap ≥ minOverlap (default 0.5).
 */
export function collapseOverlap(pts: CollapsePoint[]): number {
  pts.sort((a, b) => a.x - b.x);
  let mixed = 0;
  for (let i = 1; i + 1 < pts.length; i++) if (pts[i - 1].size !== pts[i].size || pts[i + 1].size !== pts[i].size) mixed++;
  return pts.length > 2 ? mixed / (pts.length - 2) : 0;
}

interface Param {
  name: string;
  bounds: [number, number];
}

/** Internal parameterisation: DE/NM work on well-scaled coordinates (ln ν, ln ln(Nmin/N0)). */
function buildProblem(data: readonly CollapseDatum[], opts: CollapseOptions) {
  const form = opts.form;
  const ps = data.map((d) => d.p);
  const pMin = Math.min(...ps);
  const pMax = Math.max(...ps);
  const span = pMax - pMin;
  const nMin = Math.min(...data.map((d) => d.size));
  const fitBeta = opts.fitBeta ?? true;
  const fixedBeta = opts.beta ?? 0;
  const sigmaFixed = opts.sigma === undefined ? 0.5 : opts.sigma;
  const params: Param[] = [{ name: "pc", bounds: opts.pcBounds ?? [pMin - 0.25 * span, pMax + 0.25 * span] }];
  if (form === "power") {
    const nb = opts.nuBounds ?? [0.2, 10];
    params.push({ name: "lnNu", bounds: [Math.log(nb[0]), Math.log(nb[1])] });
  } else {
    const rb = opts.lnRatioBounds ?? [0.05, 20];
    params.push({ name: "lnLnRatio", bounds: [Math.log(rb[0]), Math.log(rb[1])] });
    if (sigmaFixed === null) params.push({ name: "sigma", bounds: opts.sigmaBounds ?? [0.2, 2] });
  }
  if (fitBeta) params.push({ name: "pref", bounds: opts.betaBounds ?? [-3, 3] });
  const idx = (name: string): number => params.findIndex((p) => p.name === name);
  const toScaling = (v: readonly number[]): ScalingParams => {
    const pref = fitBeta ? v[idx("pref")] : fixedBeta;
    if (form === "power") {
      const nu = Math.exp(v[idx("lnNu")]);
      return { pc: v[0], nu, prefactorExponent: fitBeta ? pref : fixedBeta / nu };
    }
    const n0 = nMin * Math.exp(-Math.exp(v[idx("lnLnRatio")]));
    return { pc: v[0], n0, sigma: sigmaFixed === null ? v[idx("sigma")] : sigmaFixed, prefactorExponent: pref };
  };
  const inBox = (v: readonly number[]): boolean => v.every((x, i) => x >= params[i].bounds[0] && x <= params[i].bounds[1]);
  const n = data.length;
  const lnN = Float64Array.from(data, (d) => Math.log(d.size));
  const sizeArr = Float64Array.from(data, (d) => d.size);
  const minOverlap = opts.minOverlap ?? 0.5;
  const pArr = Float64Array.from(data, (d) => d.p);
  const yArr = Float64Array.from(data, (d) => d.y);
  const dyArr = Float64Array.from(data, (d) => d.dy);
  const X = new Float64Array(n);
  const Y = new Float64Array(n);
  const dY = new Float64Array(n);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const total = (v: number[]): number => {
    if (!inBox(v)) return Infinity;
    const sp = toScaling(v);
    const pref = sp.prefactorExponent;
    if (form === "power") {
      const invNu = 1 / (sp.nu as number);
      for (let i = 0; i < n; i++) {
        X[i] = (pArr[i] - sp.pc) * Math.exp(lnN[i] * invNu);
        const f = Math.exp(lnN[i] * pref);
        Y[i] = yArr[i] * f;
        dY[i] = dyArr[i] * f;
      }
    } else {
      const lnN0 = Math.log(sp.n0 as number);
      const invSigma = 1 / (sp.sigma as number);
      for (let i = 0; i < n; i++) {
        X[i] = (pArr[i] - sp.pc) * Math.pow(lnN[i] - lnN0, invSigma);
        const f = Math.exp(lnN[i] * pref);
        Y[i] = yArr[i] * f;
        dY[i] = dyArr[i] * f;
      }
    }
    return costFromArrays(X, Y, dY, order, sizeArr, minOverlap);
  };
  const dof = data.length - 2 - params.length;
  return { form, params, toScaling, total, dof, pMin, pMax, fitBeta, fixedBeta, sigmaFixed, idx };
}

/**
 * Global search then local refinement:
 *   1. a grid over the "shape" parameters (p_c, ν or N0, σ): 25 points per axis for two, 12
 *      for three; at each grid point the prefactor exponent, if fitted, is optimised in 1-D
 *      (its basin is narrow — N^β over a decade of N — so a grid over it would miss it),
 *   2. differential evolution (seeded) with the best grid points in its initial population,
 *   3. Nelder–Mead from the DE optimum and from the best few distinct grid points,
 * and the lowest cost wins. The cost surface is rugged (points change neighbours as the
 * parameters move), so no single method is trusted alone.
 * `quick` (bootstrap refits, started at the optimum) skips the grid and shortens DE.
 */
function optimise(problem: ReturnType<typeof buildProblem>, rng: AnalysisRng, o: { quick?: boolean; start?: readonly number[] } = {}): { x: number[]; total: number } {
  const k = problem.params.length;
  const bounds = problem.params.map((p) => p.bounds);
  const prefIdx = problem.fitBeta ? problem.idx("pref") : -1;
  const hard = problem.params.map((_, i) => i).filter((i) => i !== prefIdx);
  const starts: { x: number[]; f: number }[] = [];
  if (!o.quick) {
    const per = hard.length <= 2 ? 25 : 12;
    const grid: { x: number[]; f: number }[] = [];
    const count = Math.pow(per, hard.length);
    for (let c = 0; c < count; c++) {
      let r = c;
      const x = new Array<number>(k).fill(0);
      for (const i of hard) {
        const j = r % per;
        r = Math.floor(r / per);
        x[i] = bounds[i][0] + ((j + 0.5) / per) * (bounds[i][1] - bounds[i][0]);
      }
      let f: number;
      if (prefIdx >= 0) {
        const m = minimize1d(
          (g) => {
            x[prefIdx] = g;
            return problem.total(x);
          },
          bounds[prefIdx][0],
          bounds[prefIdx][1],
          13,
          1e-4,
        );
        x[prefIdx] = m.x;
        f = m.fx;
      } else f = problem.total(x);
      grid.push({ x: [...x], f });
    }
    grid.sort((a, b) => a.f - b.f);
    // Keep the best grid points that are not grid neighbours of an already kept one.
    for (const g of grid) {
      if (starts.length >= 8 || !Number.isFinite(g.f)) break;
      const far = starts.every((s) => hard.some((i) => Math.abs(s.x[i] - g.x[i]) > 1.5 * ((bounds[i][1] - bounds[i][0]) / per)));
      if (far) starts.push(g);
    }
  }
  const de = differentialEvolution(problem.total, bounds, rng, { population: 12 * k, generations: o.quick ? 40 : 150, initial: o.start ? [o.start] : starts.map((s) => s.x) });
  starts.unshift({ x: de.x, f: de.fx });
  let best = { x: de.x, total: de.fx };
  for (const s of starts) {
    const nm = nelderMead(problem.total, s.x, { step: bounds.map(([lo, hi]) => 0.01 * (hi - lo)), maxEvaluations: 2000 });
    const nm2 = nelderMead(problem.total, nm.x, { step: bounds.map(([lo, hi]) => 0.002 * (hi - lo)), maxEvaluations: 1000 });
    if (nm2.fx < best.total) best = { x: nm2.x, total: nm2.fx };
  }
  return best;
}

/** Physical parameter values (and their names in the result) from internal coordinates. */
function physical(problem: ReturnType<typeof buildProblem>, v: readonly number[]): { pc: number; nu: number | null; beta: number | null; sigma: number | null; n0: number | null } {
  const sp = problem.toScaling(v);
  if (problem.form === "power") return { pc: sp.pc, nu: sp.nu ?? null, beta: problem.fitBeta ? sp.prefactorExponent * (sp.nu ?? 1) : problem.fixedBeta, sigma: null, n0: null };
  return { pc: sp.pc, nu: null, beta: sp.prefactorExponent, sigma: sp.sigma ?? null, n0: sp.n0 ?? null };
}

type PhysKey = "pc" | "nu" | "beta" | "sigma" | "n0";

/**
 * Fits one scaling form to (size, p, y, dy) data. Throws MentiaError on degenerate data.
 * Returns the parameters with 1σ errors, χ²_red, the scaled points (sorted by x) and whether
 * the collapse supports a confident claim.
 */
export function fitCollapse(data: readonly CollapseDatum[], opts: CollapseOptions): CollapseResult {
  validateCollapseData(data, opts.form);
  const problem = buildProblem(data, opts);
  if (problem.dof < 1) throw new MentiaError(`collapse: ${data.length} points are too few for ${problem.params.length} parameters (need at least ${problem.params.length + 3})`);
  const rng = new AnalysisRng(opts.seed ?? 1);
  const best = optimise(problem, rng);
  const chi2 = best.total / problem.dof;
  const phys = physical(problem, best.x);
  const notes: string[] = [];
  const errs: Record<PhysKey, number | null> = { pc: null, nu: null, beta: null, sigma: null, n0: null };
  /** 1σ errors of the internal coordinates, for the "pinned inside its range" check. */
  let internalErr: (number | null)[] = problem.params.map(() => null);
  const method = opts.errors ?? "bootstrap";
  const fitted: PhysKey[] = ["pc", ...(problem.form === "power" ? (["nu"] as PhysKey[]) : (["n0"] as PhysKey[])), ...(problem.form === "bkt" && problem.sigmaFixed === null ? (["sigma"] as PhysKey[]) : []), ...(problem.fitBeta ? (["beta"] as PhysKey[]) : [])];

  if (method === "curvature") {
    const h = problem.params.map((p) => 1e-3 * (p.bounds[1] - p.bounds[0]));
    const H = numericalHessian(problem.total, best.x, h);
    const cov = H.every((row) => row.every(Number.isFinite)) ? covarianceFromChi2Hessian(H) : null;
    if (!cov) notes.push("χ² surface is flat or not a minimum in some direction: parameters not determined");
    else {
      const scale = Math.max(1, chi2);
      internalErr = cov.map((row, i) => Math.sqrt(row[i] * scale));
      // Delta method: physical = g(internal); var = ∇gᵀ cov ∇g, gradients by finite differences.
      for (const key of fitted) {
        const g = problem.params.map((_, i) => {
          const eps = 1e-6 * (problem.params[i].bounds[1] - problem.params[i].bounds[0]);
          const up = [...best.x];
          const dn = [...best.x];
          up[i] += eps;
          dn[i] -= eps;
          return (((physical(problem, up)[key] ?? 0) as number) - ((physical(problem, dn)[key] ?? 0) as number)) / (2 * eps);
        });
        let v = 0;
        for (let i = 0; i < g.length; i++) for (let j = 0; j < g.length; j++) v += g[i] * cov[i][j] * g[j];
        errs[key] = Number.isFinite(v) && v >= 0 ? Math.sqrt(v * scale) : null;
      }
    }
  } else {
    const reps = opts.bootstrapReplicates ?? 40;
    const samples: Record<PhysKey, number[]> = { pc: [], nu: [], beta: [], sigma: [], n0: [] };
    const pcBounds = problem.params[0].bounds;
    const internal: number[][] = problem.params.map(() => []);
    for (let b = 0; b < reps; b++) {
      const resampled = data.map((d) => ({ ...d, y: d.y + d.dy * rng.normal() }));
      const pb = buildProblem(resampled, { ...opts, pcBounds });
      const fit = optimise(pb, rng, { quick: true, start: best.x });
      const ph = physical(pb, fit.x);
      for (const key of fitted) samples[key].push(ph[key] as number);
      fit.x.forEach((v, i) => internal[i].push(v));
    }
    for (const key of fitted) errs[key] = sampleSd(samples[key]);
    internalErr = internal.map((v) => sampleSd(v));
  }

  // Confidence checks.
  if (chi2 > (opts.maxGoodChi2 ?? 2)) notes.push(`χ²_red = ${chi2.toPrecision(3)} > ${opts.maxGoodChi2 ?? 2}: the data do not collapse in this form`);
  for (const key of fitted) if (errs[key] === null || !Number.isFinite(errs[key] as number)) notes.push(`no finite error for ${key}`);
  if (phys.pc < problem.pMin || phys.pc > problem.pMax) notes.push(`p_c = ${phys.pc.toPrecision(4)} lies outside the data's p range [${problem.pMin}, ${problem.pMax}]`);
  problem.params.forEach((p, i) => {
    const r = p.bounds[1] - p.bounds[0];
    const e = internalErr[i] ?? 0;
    if (best.x[i] - 2 * e - p.bounds[0] < 0.01 * r || p.bounds[1] - best.x[i] - 2 * e < 0.01 * r) notes.push(`${p.name} = ${best.x[i].toPrecision(3)} ± ${e.toPrecision(2)} reaches the edge of its search range [${p.bounds[0].toPrecision(3)}, ${p.bounds[1].toPrecision(3)}]: not determined by the data`);
  });
  const maxRel = opts.maxRelativePcErr ?? 0.1;
  if (errs.pc !== null && errs.pc > maxRel * (problem.pMax - problem.pMin)) notes.push(`p_c error ${errs.pc.toPrecision(3)} exceeds ${maxRel} of the p range`);

  const points = scalePoints(data, problem.form, problem.toScaling(best.x)).sort((a, b) => a.x - b.x);
  const overlap = collapseOverlap(points);
  const orNull = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);
  return {
    form: problem.form,
    pc: phys.pc,
    pcErr: orNull(errs.pc),
    nu: orNull(phys.nu),
    nuErr: orNull(errs.nu),
    beta: orNull(phys.beta),
    betaErr: problem.fitBeta ? orNull(errs.beta) : null,
    sigma: orNull(phys.sigma),
    sigmaErr: problem.form === "bkt" && problem.sigmaFixed === null ? orNull(errs.sigma) : null,
    n0: orNull(phys.n0),
    n0Err: orNull(errs.n0),
    chi2,
    dof: problem.dof,
    errorMethod: method,
    overlap,
    confident: notes.length === 0,
    notes,
    points,
  };
}

/** Power-law (second-order) collapse: y N^(β/ν) vs (p − p_c) N^(1/ν). */
export function collapsePower(data: readonly CollapseDatum[], opts: Omit<CollapseOptions, "form"> = {}): CollapseResult {
  return fitCollapse(data, { ...opts, form: "power" });
}

/** BKT collapse: y N^β vs (p − p_c) (ln(N/N0))^(1/σ). */
export function collapseBkt(data: readonly CollapseDatum[], opts: Omit<CollapseOptions, "form"> = {}): CollapseResult {
  return fitCollapse(data, { ...opts, form: "bkt" });
}
