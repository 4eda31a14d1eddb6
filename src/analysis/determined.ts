/**
 * When is a fit a result? A fit whose critical point sits at the edge of the range it was
 * searched in, that has no degrees of freedom left, or whose errors could not be computed
 * has produced numbers but not a measurement. The summary and the report show such a fit as
 * "not determined: <why>" instead of a value or a line. One list of checks, easy to extend
 * (e.g. with flags that the fitters set themselves).
 */
import type { CollapseResult, LengthScaleFit } from "./schema.js";

/** What every check may look at; fields a fit does not have are simply absent. */
interface FitLike {
  pc: number;
  pcErr: number | null;
  dof: number;
  paramErrs?: Record<string, number | null>;
  /** Fitted points of an N*(p) fit: the p_c search range is derived from the uncensored ones. */
  points?: { p: number; censored?: string }[];
  /** Form parameters (an N*(p) fit's ν or b): one whose error exceeds its size is not determined. */
  params?: Record<string, number>;
  form?: string;
  sigmaFixed?: boolean;
  /** Set by the fitters when p_c sits at the end of its search range (a bound, not a value). */
  pcBound?: "lower" | "upper" | null;
  /** Set by the collapse fitter: other parameters at the edge of their search range. */
  paramsAtBound?: string[];
}

type Check = (f: FitLike) => string | null;

/**
 * The one "at the edge of the search range" rule: a parameter whose estimate, moved by two of
 * its errors toward an end of its search range, comes within SEARCH_EDGE_FRACTION of the
 * range's width of that end is a bound, not a value. Every fitter's search box goes through
 * this (collapse parameters in their internal coordinates, the N*(p) p_c in ln of its distance
 * from the data).
 */
export const SEARCH_EDGE_FRACTION = 0.01;

/** The N*(p) fit's p_c search range: ln(distance from the data / their span) in [ln 1e-4, ln 3]. */
export const N_STAR_PC_SEARCH: [number, number] = [Math.log(1e-4), Math.log(3)];

export function atSearchEdge(value: number, err: number | null, bounds: readonly [number, number]): "lower" | "upper" | null {
  const r = bounds[1] - bounds[0];
  const e = err !== null && Number.isFinite(err) ? err : 0;
  if (value - 2 * e - bounds[0] < SEARCH_EDGE_FRACTION * r) return "lower";
  if (bounds[1] - value - 2 * e < SEARCH_EDGE_FRACTION * r) return "upper";
  return null;
}

const CHECKS: Check[] = [
  (f) => (f.pcBound ? `p_c at the edge of its search range: ${f.pcBound === "lower" ? "≤" : "≥"} ${f.pc.toFixed(3)} is a bound, not a value` : null),
  (f) => (!Number.isFinite(f.pc) ? "p_c is not finite" : null),
  (f) => (f.paramsAtBound && f.paramsAtBound.length > 0 ? `${f.paramsAtBound.join(", ")} at the edge of ${f.paramsAtBound.length > 1 ? "their" : "its"} search range (not determined by the data; its error is meaningless)` : null),
  (f) => (f.dof < 1 ? `no degrees of freedom left (dof ${f.dof}: as many parameters as points)` : null),
  (f) => {
    // N*(p) fits searched p_c at 1e-4 … 3 spans beyond their data (lengthscale.ts sets pcBound by
    // this same rule; this re-derives it for a fit that does not carry the flag)
    const exact = (f.points ?? []).filter((q) => !q.censored).map((q) => q.p);
    if (exact.length === 0 || f.pcBound !== undefined) return null;
    const span = Math.max(...exact) - Math.min(...exact) || 1;
    const d = Math.min(...exact.map((p) => Math.abs(p - f.pc))) / span;
    const edge = d > 0 ? atSearchEdge(Math.log(d), null, N_STAR_PC_SEARCH) : "lower";
    return edge ? `p_c = ${f.pc.toFixed(3)} at the ${edge === "upper" ? "far" : "near"} edge of its search range (${edge === "upper" ? "3 spans of the data beyond it" : "on a data point"})` : null;
  },
  (f) => (f.pcErr === null || !Number.isFinite(f.pcErr) ? "the error of p_c could not be computed" : null),
  (f) => {
    // ν (power) and b (BKT) set how fast N* grows; one compatible with zero is no divergence measured
    // (and a fitted σ likewise)
    const keys = ["nu", "b", ...(f.sigmaFixed === false ? ["sigma"] : [])];
    const loose = keys.filter((k) => f.params && f.paramErrs && Number.isFinite(f.params[k]) && (f.paramErrs[k] ?? 0) >= Math.abs(f.params[k]));
    const name: Record<string, string> = { nu: "ν", b: "b", sigma: "σ" };
    return loose.length > 0 ? `${loose.map((k) => `${name[k]} = ${f.params![k].toPrecision(2)} ± ${f.paramErrs![k]!.toPrecision(2)}`).join(", ")}: error as large as the value` : null;
  },
  (f) => {
    // p_c less certain than the whole p range of the fitted N*: located nowhere in particular
    const exact = (f.points ?? []).filter((q) => !q.censored).map((q) => q.p);
    if (exact.length < 2 || f.pcErr === null) return null;
    const span = Math.max(...exact) - Math.min(...exact);
    return f.pcErr > span ? `p_c = ${f.pc.toFixed(3)} ± ${f.pcErr.toFixed(3)}: its error exceeds the p range of the fitted N* (${span.toFixed(3)})` : null;
  },
  (f) => {
    const missing = Object.entries(f.paramErrs ?? {}).filter(([k, v]) => (v === null || !Number.isFinite(v)) && !(k === "sigma" && f.sigmaFixed));
    return missing.length > 0 ? `errors of ${missing.map(([k]) => k).join(", ")} could not be computed` : null;
  },
];

/** Null when the fit is a result, else why it is not (first failing check). */
export function notDeterminedReason(f: FitLike): string | null {
  for (const c of CHECKS) {
    const why = c(f);
    if (why) return why;
  }
  return null;
}

export function lengthScaleNotDetermined(f: LengthScaleFit): string | null {
  return notDeterminedReason(f);
}

export function collapseNotDetermined(r: CollapseResult): string | null {
  return notDeterminedReason({ pc: r.pc, pcErr: r.pcErr, dof: r.dof, ...(r as unknown as Partial<FitLike>), points: undefined, paramErrs: undefined });
}
