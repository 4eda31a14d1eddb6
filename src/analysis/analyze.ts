/**
 * The whole analysis of a sweep: EvalRecord[] → the analysis.json object (schema.ts), and
 * the text summary `mentia analyze` prints. Pure: records in, plain objects out.
 *
 *   records → loss curves (curves.ts) → bootstrap (seeds resampled jointly per trained
 *   network family (width, depth, p_train); masks within seeds) → scaling fits (scaling.ts)
 *   → phase labels and boundaries (phases.ts) → crossover sizes N* and N*(p) fits
 *   (lengthscale.ts) → power-law vs BKT collapse of L(p_eval, N) around each p_eval
 *   boundary (collapse.ts).
 */
import { MentiaError } from "../errors.js";
import type { EvalRecord } from "../sweep/records.js";
import { decidingLevers } from "./advice.js";
import { collapseNotDetermined, lengthScaleNotDetermined } from "./determined.js";
import { completeCells, incompleteWarning, type ExpectedGrid } from "./completeness.js";
import { collapseBkt, collapsePower, type CollapseDatum } from "./collapse.js";
import { bootstrapCurveWith, drawSeedSets, lossCurves, pooledLogErrors, type CurveBootstrap } from "./curves.js";
import { crossoverSize, fitLengthScale } from "./lengthscale.js";
import { classifyPhases, phaseBoundaries, type PhaseInput } from "./phases.js";
import { scalingFit } from "./scaling.js";
import { ANALYSIS_SCHEMA_VERSION, type Analysis, type AnalysisOptions, type CollapseComparison, type CollapseResult, type CrossoverSize, type LengthScaleFit, type LossCurve } from "./schema.js";
import { AnalysisRng } from "./stats.js";

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = {
  ciLevel: 0.95,
  bootstrapReplicates: 400,
  randomSeed: 1,
  minRelativeError: 1e-3,
  eumentiaMinAlpha: 0,
  flatAlphaTolerance: 0.05,
  chanceFraction: 0.9,
  amentiaMaxAlpha: 0.05,
  baselineMaxPEval: 0.05,
  minSizes: 3,
  crossoverHalfWindow: 2,
  lengthScaleSigma: 0.5,
  collapseSigma: 0.5,
  collapseHalfWindow: 0.25,
  maxGoodChi2: 2,
  preferRatio: 2,
};

/** Extra knobs that are not part of the recorded options (speed, timestamps). */
export interface AnalyzeExtras {
  /** ISO timestamp to write (default: now). */
  createdAt?: string;
  /** Bootstrap replicates for each collapse's parameter errors (default 30). */
  collapseBootstrapReplicates?: number;
  /** The planned grid (the sweep's config), to name what is missing; default: the records' own values. */
  expected?: ExpectedGrid;
}

export function resolveOptions(partial: Partial<AnalysisOptions> = {}): AnalysisOptions {
  const o: AnalysisOptions = { ...DEFAULT_ANALYSIS_OPTIONS, ...partial };
  const bad = (name: string, why: string): never => {
    throw new MentiaError(`analysis option ${name} ${why}`);
  };
  if (!(o.ciLevel > 0 && o.ciLevel < 1)) bad("ciLevel", `must lie in (0, 1), got ${o.ciLevel}`);
  if (!(Number.isInteger(o.bootstrapReplicates) && o.bootstrapReplicates >= 20)) bad("bootstrapReplicates", `must be an integer ≥ 20, got ${o.bootstrapReplicates}`);
  if (!(Number.isInteger(o.minSizes) && o.minSizes >= 3)) bad("minSizes", `must be an integer ≥ 3, got ${o.minSizes}`);
  if (!(o.chanceFraction > 0)) bad("chanceFraction", "must be > 0");
  if (!(o.flatAlphaTolerance >= o.eumentiaMinAlpha)) bad("flatAlphaTolerance", "must be ≥ eumentiaMinAlpha");
  if (!(o.collapseHalfWindow > 0)) bad("collapseHalfWindow", "must be > 0");
  if (!(o.preferRatio >= 1)) bad("preferRatio", "must be ≥ 1");
  for (const [k, v] of Object.entries(o)) if (typeof v === "number" && !Number.isFinite(v)) bad(k, "must be a finite number");
  return o;
}

const sortedUnique = (xs: number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/**
 * Runs the full analysis. Throws MentiaError for unusable input (no records, non-finite
 * numbers, duplicates, no curve with enough sizes); curves that cannot be analysed on their
 * own (too few sizes) are skipped with a warning.
 */
export function analyzeRecords(records: readonly EvalRecord[], partial: Partial<AnalysisOptions> = {}, extras: AnalyzeExtras = {}): Analysis {
  const o = resolveOptions(partial);
  const warnings: string[] = [];
  // Validates every record (and refuses empty input) before the completeness check.
  lossCurves(records, { minRelativeError: o.minRelativeError });
  const { records: used, completeness } = completeCells(records, o.minSizes, extras.expected);
  if (!completeness.complete) {
    warnings.push(incompleteWarning(completeness), ...completeness.missing.map((m) => `missing: ${m}`), ...completeness.excluded.map((m) => `left out: ${m}`));
  }
  if (used.length === 0) throw new MentiaError(`none of the ${records.length} records belongs to a complete set of training-set sizes × seeds of the planned grid: ${incompleteWarning(completeness)}`);
  const all = lossCurves(used, { minRelativeError: o.minRelativeError });
  const curves: LossCurve[] = [];
  for (const c of all) {
    if (c.points.length < o.minSizes) warnings.push(`skipped width ${c.width}, depth ${c.depth}, p_train ${c.pTrain}, p_eval ${c.pEval}: ${c.points.length} training-set size(s), need ${o.minSizes}`);
    else curves.push(c);
  }
  if (curves.length === 0) {
    const sizes = sortedUnique(records.map((r) => r.n));
    throw new MentiaError(`no loss curve has at least ${o.minSizes} training-set sizes (the records hold N = ${sizes.join(", ")}): a scaling analysis needs several N`);
  }

  // Bootstrap: one set of seed draws per trained-network family (width, depth, p_train).
  const rng = new AnalysisRng(o.randomSeed);
  const families = new Map<string, LossCurve[]>();
  for (const c of curves) {
    const k = `${c.width}|${c.depth}|${c.pTrain}`;
    families.set(k, [...(families.get(k) ?? []), c]);
  }
  const boot = new Map<LossCurve, CurveBootstrap>();
  for (const fam of families.values()) {
    const seedIds = sortedUnique(fam.flatMap((c) => c.points.flatMap((p) => p.seeds)));
    const sets = drawSeedSets(seedIds, o.bootstrapReplicates, rng);
    for (const c of fam) boot.set(c, bootstrapCurveWith(c, sets, rng));
  }

  const inputs: PhaseInput[] = curves.map((c) => {
    const b = boot.get(c) as CurveBootstrap;
    const w = scalingFit(c, b, { ciLevel: o.ciLevel });
    return { curve: c, fit: w.fit, bootAlphas: w.bootAlphas, errorFactor: w.errorFactor };
  });
  const phases = classifyPhases(inputs, o);
  warnings.push(...decidingLevers(phases, curves, o.ciLevel));
  const boundaries = phaseBoundaries(inputs, phases, o);

  const crossovers: CrossoverSize[] = curves.map((c) => {
    const b = boot.get(c) as CurveBootstrap;
    return crossoverSize(c, b.means, b.expansion, o.crossoverHalfWindow);
  });

  const lengthScaleFits: LengthScaleFit[] = [];
  const phaseOf = new Map(phases.map((p) => [`${p.width}|${p.depth}|${p.pTrain}|${p.pEval}`, p.phase]));
  for (const fam of families.values()) {
    const { width, depth, pTrain } = fam[0];
    const pts = crossovers
      .filter((x) => x.width === width && x.depth === depth && x.pTrain === pTrain && x.censored === "none" && x.significant && x.lnNStarErr !== null && phaseOf.get(`${x.width}|${x.depth}|${x.pTrain}|${x.pEval}`) !== "amentia")
      .map((x) => ({ p: x.pEval, lnNStar: x.lnNStar, lnNStarErr: x.lnNStarErr as number }));
    if (pts.length === 0) continue;
    for (const form of ["bkt", "power"] as const) {
      const f = fitLengthScale(pts, form, form === "bkt" ? o.lengthScaleSigma : null);
      if (f) lengthScaleFits.push({ width, depth, pTrain, ...f });
      else warnings.push(`N*(p) ${form} fit skipped for width ${width}, depth ${depth}, p_train ${pTrain}: ${pts.length} uncensored crossover size(s) are too few`);
    }
  }

  const collapses: CollapseComparison[] = [];
  for (const bc of boundaries) {
    const seen = new Set<number>();
    for (const bp of bc.pEvalCritical) {
      if (seen.has(bp.fixed) || !(new Set([bp.from, bp.to]).has("eumentia") && new Set([bp.from, bp.to]).has("dementia"))) continue;
      seen.add(bp.fixed);
      collapses.push(collapseAround(bc.width, bc.depth, bp.fixed, bp.critical, curves, o, extras, warnings));
    }
  }

  const input = {
    records: records.length,
    widths: sortedUnique(records.map((r) => r.width)),
    depths: sortedUnique(records.map((r) => r.depth)),
    pTrains: sortedUnique(records.map((r) => r.pTrain)),
    pEvals: sortedUnique(records.map((r) => r.pEval)),
    sizes: sortedUnique(records.map((r) => r.n)),
    seeds: sortedUnique(records.map((r) => r.seed)),
  };
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    createdAt: extras.createdAt ?? new Date().toISOString(),
    options: o,
    input,
    curves,
    fits: inputs.map((i) => i.fit),
    phases,
    boundaries,
    crossovers,
    lengthScaleFits,
    collapses,
    warnings,
    completeness,
  };
}

/** Power-law and BKT collapses of L(p_eval, N) within collapseHalfWindow of a boundary. */
function collapseAround(width: number, depth: number, pTrain: number, pc: number, curves: readonly LossCurve[], o: AnalysisOptions, extras: AnalyzeExtras, warnings: string[]): CollapseComparison {
  const line = curves.filter((c) => c.width === width && c.depth === depth && c.pTrain === pTrain && Math.abs(c.pEval - pc) <= o.collapseHalfWindow);
  const pRange: [number, number] = [pc - o.collapseHalfWindow, pc + o.collapseHalfWindow];
  const base = { width, depth, pTrain, observable: "loss" as const, pRange };
  // Sizes common to every curve in the window, so each p has the same N set.
  const common = line.length ? line.map((c) => new Set(c.points.map((p) => p.n))).reduce((a, s) => new Set([...a].filter((n) => s.has(n)))) : new Set<number>();
  const data: CollapseDatum[] = line.flatMap((c) => {
    const sig = pooledLogErrors(c);
    return c.points.flatMap((p, i) => (common.has(p.n) ? [{ size: p.n, p: c.pEval, y: p.mean, dy: sig[i] * p.mean }] : []));
  });
  if (line.length < 3 || common.size < 2) {
    const note = `collapse skipped: ${line.length} p_eval value(s) and ${common.size} common size(s) within ±${o.collapseHalfWindow} of p_eval,c = ${pc.toFixed(3)} (need 3 and 2)`;
    warnings.push(`width ${width}, depth ${depth}, p_train ${pTrain}: ${note}`);
    return { ...base, power: null, bkt: null, preferred: "undecided", note };
  }
  const common_ = { seed: o.randomSeed, maxGoodChi2: o.maxGoodChi2, bootstrapReplicates: extras.collapseBootstrapReplicates ?? 30 };
  const tryFit = (f: () => CollapseResult, form: string): CollapseResult | null => {
    try {
      return f();
    } catch (e) {
      if (e instanceof MentiaError) {
        warnings.push(`width ${width}, depth ${depth}, p_train ${pTrain}: ${form} collapse failed: ${e.message}`);
        return null;
      }
      throw e;
    }
  };
  const power = tryFit(() => collapsePower(data, common_), "power");
  const bkt = tryFit(() => collapseBkt(data, { ...common_, sigma: o.collapseSigma }), "bkt");
  return { ...base, power, bkt, ...preferForm(power, bkt, o.preferRatio) };
}

/** Which form the data prefer: confident and χ² lower by at least preferRatio, else undecided. */
export function preferForm(power: CollapseResult | null, bkt: CollapseResult | null, ratio: number): { preferred: "bkt" | "power" | "undecided"; note: string | null } {
  const better = (a: CollapseResult | null, b: CollapseResult | null): boolean => !!a && a.confident && (!b || a.chi2 * ratio <= b.chi2);
  if (better(bkt, power)) return { preferred: "bkt", note: `BKT χ²_red ${bkt!.chi2.toPrecision(3)} vs power-law ${power ? power.chi2.toPrecision(3) : "n/a"}` };
  if (better(power, bkt)) return { preferred: "power", note: `power-law χ²_red ${power!.chi2.toPrecision(3)} vs BKT ${bkt ? bkt.chi2.toPrecision(3) : "n/a"}` };
  const why = [power, bkt]
    .filter((r): r is CollapseResult => !!r)
    .map((r) => `${r.form}: χ²_red ${r.chi2.toPrecision(3)}${r.confident ? "" : ` (not confident: ${r.notes[0] ?? "?"})`}`)
    .join("; ");
  return { preferred: "undecided", note: why || "no collapse could be fitted" };
}

const PHASE_CHAR: Record<string, string> = { eumentia: "E", dementia: "D", amentia: "A", uncertain: "?" };

/** The text summary printed by `mentia analyze`. */
export function formatSummary(a: Analysis): string {
  const lines: string[] = [];
  const f3 = (v: number): string => v.toFixed(3);
  if (a.completeness && !a.completeness.complete) lines.push(`WARNING: ${incompleteWarning(a.completeness)} (details under warnings below)`, "");
  lines.push(`analysis of ${a.input.records} records: widths ${a.input.widths.join(",")}, depths ${a.input.depths.join(",")}, N = ${a.input.sizes.join(",")}, ${a.input.seeds.length} seed(s)`);
  lines.push(`phases: E eumentia, D dementia, A amentia, ? uncertain (α CI at ${a.options.ciLevel}); rows p_train, columns p_eval`);
  const archs = sortedUnique(a.phases.map((p) => p.width)).flatMap((w) => sortedUnique(a.phases.filter((p) => p.width === w).map((p) => p.depth)).map((d) => [w, d] as const));
  for (const [w, d] of archs) {
    const ph = a.phases.filter((p) => p.width === w && p.depth === d);
    const pTrains = sortedUnique(ph.map((p) => p.pTrain));
    const pEvals = sortedUnique(ph.map((p) => p.pEval));
    lines.push("", `width ${w}, depth ${d}`);
    lines.push(`  p_train\\p_eval ${pEvals.map((p) => String(p).padStart(5)).join("")}`);
    for (const pt of pTrains) {
      const row = pEvals.map((pe) => {
        const l = ph.find((p) => p.pTrain === pt && p.pEval === pe);
        return (l ? PHASE_CHAR[l.phase] : ".").padStart(5);
      });
      lines.push(`  ${String(pt).padEnd(14)} ${row.join("")}`);
    }
    const bc = a.boundaries.find((b) => b.width === w && b.depth === d);
    if (bc) {
      for (const b of bc.pEvalCritical) lines.push(`  p_eval,c(p_train ${b.fixed}) = ${f3(b.critical)} ± ${f3(b.criticalErr)}  (${b.from}→${b.to}, ${b.method})`);
      for (const b of bc.pTrainCritical) lines.push(`  p_train,c(p_eval ${b.fixed}) = ${f3(b.critical)} ± ${f3(b.criticalErr)}  (${b.from}→${b.to}, ${b.method})`);
    }
    for (const ls of a.lengthScaleFits.filter((x) => x.width === w && x.depth === d)) {
      const nd = lengthScaleNotDetermined(ls);
      lines.push(`  N*(p_eval) ${ls.form} fit at p_train ${ls.pTrain}: ${nd ? `not determined: ${nd}` : `p_c = ${f3(ls.pc)} ± ${f3(ls.pcErr as number)}, χ²/dof = ${ls.chi2.toFixed(2)}/${ls.dof}`}`);
    }
    for (const c of a.collapses.filter((x) => x.width === w && x.depth === d)) {
      const one = (r: CollapseResult | null): string => {
        if (!r) return "n/a";
        const nd = collapseNotDetermined(r);
        return nd ? `not determined: ${nd}` : `χ²_red ${r.chi2.toFixed(2)} (p_c ${f3(r.pc)} ± ${f3(r.pcErr as number)}${r.confident ? "" : ", not confident"})`;
      };
      lines.push(`  collapse at p_train ${c.pTrain}: power-law ${one(c.power)} | BKT ${one(c.bkt)} → ${c.preferred}`);
    }
  }
  if (a.warnings.length) lines.push("", `${a.warnings.length} warning(s):`, ...a.warnings.map((w) => `  ${w}`));
  return lines.join("\n");
}
