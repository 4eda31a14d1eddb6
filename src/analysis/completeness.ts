/**
 * Incomplete sweeps. One trained network (job) is a cell (width, depth, p_train, N, seed); its
 * records are its evaluations at every p_eval. A loss curve L(N) averages seeds at every N, so
 * when N = 250 holds only seed 1 and N = 4000 seeds 1–3, the curve mixes different networks
 * at different N and its slope is not a scaling exponent. Before fitting, each family
 * (width, depth, p_train) is therefore cut to the largest rectangle sizes × seeds of cells
 * that all have results; what was left out, and what is missing from the expected grid, is
 * reported so that nobody mistakes a partial sweep for a finished one.
 */
import type { EvalRecord } from "../sweep/records.js";
import type { Completeness } from "./schema.js";

/** The grid a sweep was planned on (its config). Omitted: the product of the values seen. */
export interface ExpectedGrid {
  widths: readonly number[];
  depths: readonly number[];
  pTrains: readonly number[];
  pEvals: readonly number[];
  sizes: readonly number[];
  seeds: readonly number[];
}

const uniq = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);

const familyKey = (w: number, d: number, pt: number): string => `${w}|${d}|${pt}`;

/** The grid spanned by the records' own values. */
export function gridOf(records: readonly EvalRecord[]): ExpectedGrid {
  return {
    widths: uniq(records.map((r) => r.width)),
    depths: uniq(records.map((r) => r.depth)),
    pTrains: uniq(records.map((r) => r.pTrain)),
    pEvals: uniq(records.map((r) => r.pEval)),
    sizes: uniq(records.map((r) => r.n)),
    seeds: uniq(records.map((r) => r.seed)),
  };
}

/**
 * The largest rectangle sizes × seeds inside `present` (seed → the sizes it has). Score: a
 * rectangle with ≥ minSizes sizes beats one with fewer; then more cells; then more sizes.
 * Every subset of seeds is tried when there are ≤ 12, else seeds are dropped greedily
 * (always the one present at the fewest sizes).
 */
export function largestRectangle(present: ReadonlyMap<number, ReadonlySet<number>>, minSizes: number): { sizes: number[]; seeds: number[] } {
  const seeds = [...present.keys()].sort((a, b) => a - b);
  const sizesOf = (ss: number[]): number[] => (ss.length === 0 ? [] : uniq([...present.get(ss[0])!].filter((n) => ss.every((s) => present.get(s)!.has(n)))));
  const score = (ns: number, ss: number): number[] => [ns >= minSizes ? 1 : 0, ns * ss, ns];
  const better = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return false;
  };
  let best = { sizes: [] as number[], seeds: [] as number[] };
  let bestScore = [-1, -1, -1];
  const consider = (ss: number[]): void => {
    const ns = sizesOf(ss);
    const sc = score(ns.length, ss.length);
    if (better(sc, bestScore)) [best, bestScore] = [{ sizes: ns, seeds: ss }, sc];
  };
  if (seeds.length <= 12) {
    // Largest subsets first, so ties keep more seeds; within a size, lower seed ids first.
    const subsets: number[][] = [];
    for (let m = 1; m < 1 << seeds.length; m++) subsets.push(seeds.filter((_, i) => m & (1 << i)));
    subsets.sort((a, b) => b.length - a.length || a.join(",").localeCompare(b.join(",")));
    for (const ss of subsets) consider(ss);
  } else {
    let ss = [...seeds];
    while (ss.length > 0) {
      consider(ss);
      const worst = ss.reduce((w, s) => (present.get(s)!.size < present.get(w)!.size ? s : w), ss[0]);
      ss = ss.filter((s) => s !== worst);
    }
  }
  return best;
}

/** "1, 2, 3" with at most `max` items ("… and 5 more"). */
function list(xs: readonly (number | string)[], max = 8): string {
  return xs.length <= max ? xs.join(", ") : `${xs.slice(0, max).join(", ")} … and ${xs.length - max} more`;
}

/**
 * Checks the records against the expected grid and keeps, per family, only the complete
 * rectangle of (N, seed) cells. Returns the records to analyse and what was found.
 */
export function completeCells(records: readonly EvalRecord[], minSizes: number, expected?: ExpectedGrid): { records: EvalRecord[]; completeness: Completeness } {
  const seen = gridOf(records);
  const grid = expected ?? seen;
  // Cells with results: family → seed → sizes.
  const cells = new Map<string, Map<number, Set<number>>>();
  for (const r of records) {
    const k = familyKey(r.width, r.depth, r.pTrain);
    let bySeed = cells.get(k);
    if (!bySeed) cells.set(k, (bySeed = new Map()));
    let ns = bySeed.get(r.seed);
    if (!ns) bySeed.set(r.seed, (ns = new Set()));
    ns.add(r.n);
  }
  const expectedJobs = grid.widths.length * grid.depths.length * grid.pTrains.length * grid.sizes.length * grid.seeds.length;
  const missing: string[] = [];
  const excluded: string[] = [];
  let presentJobs = 0;
  let usedJobs = 0;
  const keep = new Map<string, { sizes: Set<number>; seeds: Set<number> }>();
  for (const w of grid.widths)
    for (const d of grid.depths)
      for (const pt of grid.pTrains) {
        const fam = `width ${w}, depth ${d}, p_train ${pt}`;
        const bySeed = cells.get(familyKey(w, d, pt)) ?? new Map<number, Set<number>>();
        const gaps = grid.sizes.map((n) => ({ n, seeds: grid.seeds.filter((s) => !bySeed.get(s)?.has(n)) })).filter((g) => g.seeds.length > 0);
        if (gaps.length === grid.sizes.length && gaps.every((g) => g.seeds.length === grid.seeds.length)) missing.push(`${fam}: no results at all`);
        else if (gaps.length > 0) missing.push(`${fam}: ${list(gaps.map((g) => `N ${g.n} (seed${g.seeds.length === 1 ? "" : "s"} ${g.seeds.join(",")})`), 6)}`);
        const present = new Map([...bySeed].filter(([s]) => grid.seeds.includes(s)).map(([s, ns]) => [s, new Set([...ns].filter((n) => grid.sizes.includes(n)))] as const));
        const count = [...present.values()].reduce((a, ns) => a + ns.size, 0);
        presentJobs += count;
        if (count === 0) continue;
        const rect = largestRectangle(present, minSizes);
        usedJobs += rect.sizes.length * rect.seeds.length;
        keep.set(familyKey(w, d, pt), { sizes: new Set(rect.sizes), seeds: new Set(rect.seeds) });
        if (rect.sizes.length * rect.seeds.length < count) {
          excluded.push(`${fam}: uses N ${rect.sizes.join(",") || "none"} × seed${rect.seeds.length === 1 ? "" : "s"} ${rect.seeds.join(",") || "none"} (${count - rect.sizes.length * rect.seeds.length} of ${count} finished trainings left out)`);
        }
      }
  const missingPEvals = grid.pEvals.filter((p) => !seen.pEvals.includes(p));
  if (missingPEvals.length > 0) missing.push(`p_eval ${missingPEvals.join(", ")}: no evaluations at all`);
  const outside = records.filter((r) => !keep.has(familyKey(r.width, r.depth, r.pTrain)));
  if (outside.length > 0) excluded.push(`${outside.length} record(s) outside the expected grid left out`);
  const kept = records.filter((r) => {
    const k = keep.get(familyKey(r.width, r.depth, r.pTrain));
    return !!k && k.sizes.has(r.n) && k.seeds.has(r.seed) && grid.pEvals.includes(r.pEval);
  });
  return {
    records: kept,
    completeness: { complete: missing.length === 0 && excluded.length === 0, expectedJobs, presentJobs, usedJobs, missing, excluded },
  };
}

/** The one-paragraph warning for an incomplete sweep (stderr, warnings[], report banner). */
export function incompleteWarning(c: Completeness): string {
  const parts = [`INCOMPLETE SWEEP: ${c.presentJobs} of ${c.expectedJobs} planned trainings have results`];
  if (c.usedJobs < c.presentJobs) parts.push(`; ${c.usedJobs} are used (per p_train, only the sizes × seeds that are complete, so no curve mixes seeds across N)`);
  return `${parts.join("")}. Phases, boundaries and fits describe the finished part only and will change when the sweep completes.`;
}
