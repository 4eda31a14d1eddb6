/**
 * The one place where estimates and their replicates become errors and intervals (every fitter
 * returns estimates and replicates; this turns them into ± and CIs):
 *   error    = sd of the replicate estimates × expansion (√(S/(S−1)) for S resampled seeds)
 *   interval = estimate ± q · error,  q = Student t_{units−1} at the two-sided level (normal
 *              when fewer than 2 units: no estimate of the spread's own uncertainty)
 */
import { normalQuantile, sampleSd, studentTQuantile } from "./stats.js";

/** Two-sided quantile used for CIs: Student's t with units − 1 dof (normal when units < 2 or infinite). */
export function ciQuantile(units: number, level: number): number {
  return units >= 2 && Number.isFinite(units) ? studentTQuantile((1 + level) / 2, units - 1) : normalQuantile((1 + level) / 2);
}

/** Error of an estimate from its replicates: sd × expansion; null with fewer than 2 finite replicates. */
export function replicateError(replicates: readonly number[], expansion = 1): number | null {
  const ok = replicates.filter(Number.isFinite);
  if (ok.length < 2) return null;
  const e = sampleSd(ok) * expansion;
  return Number.isFinite(e) ? e : null;
}

/** estimate ± q·error at `level` with `units` resampling units; null without an error. */
export function tInterval(estimate: number, error: number | null, units: number, level: number): [number, number] | null {
  if (error === null || !Number.isFinite(error)) return null;
  const q = ciQuantile(units, level);
  return [estimate - q * error, estimate + q * error];
}

/**
 * Error and interval of an estimate from its replicates, with an analytic fallback where the
 * replicates carry no spread (a single seed with a single mask; replicates equal up to
 * round-off, 10⁻⁹ of the fallback, count as none): error = sd × expansion, else fallbackErr;
 * interval = estimate ± q · error with q = ciQuantile(units, level).
 */
export function replicateIntervalOrFallback(estimate: number, replicates: readonly number[], expansion: number, units: number, level: number, fallbackErr: number): { err: number; ci: [number, number] } {
  const sd = sampleSd(replicates);
  const err = replicates.length >= 2 && sd * expansion > 1e-9 * fallbackErr ? sd * expansion : fallbackErr;
  const q = ciQuantile(units, level);
  return { err, ci: [estimate - q * err, estimate + q * err] };
}

/**
 * The phase rule's interval of α_w: error = sd of the replicates × expansion (0 with fewer
 * than 2); with fewer than 2 resampling units there is no Student quantile and the interval
 * is unbounded (a label then stays uncertain), as is a zero error.
 */
export function replicateIntervalStrict(estimate: number, replicates: readonly number[], expansion: number, units: number, level: number): { err: number; ci: [number, number] } {
  const err = replicates.length >= 2 ? sampleSd(replicates) * expansion : 0;
  const t = units >= 2 ? studentTQuantile(0.5 + level / 2, units - 1) : Infinity;
  const half = err > 0 ? t * err : Infinity;
  return { err, ci: [estimate - half, estimate + half] };
}
