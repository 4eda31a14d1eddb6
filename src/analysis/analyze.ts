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
import { fitCollapse, preferCollapseForm, type CollapseDatum, type CollapseForm, type CollapseOptions, type CollapseReplicates } from "./collapse.js";
import { lossCurves } from "./curves.js";
import { aggregateSeeds, bootstrapCurveWith, drawSeedSets, pooledLogErrors, type CurveBootstrap, type SeedRow } from "./seeds.js";
import { crossoverLnNStar, crossoverSize, fitLengthScale, type LengthScalePoint } from "./lengthscale.js";
import { classifyPhases, phaseBoundaries, type PhaseInput } from "./phases.js";
import { scalingFit } from "./scaling.js";
import { ANALYSIS_SCHEMA_VERSION, COLLAPSE_FORM_LABEL, COLLAPSE_FORM_LIST, collapseForms, type Analysis, type AnalysisOptions, type CollapseComparison, type CollapseResult, type CrossoverSize, type LengthScaleFit, type LossCurve } from "./schema.js";
import { AnalysisRng, analysisStreamSeed } from "./stats.js";
import { compareNStarForms, fitNStarQuadratic, type NStarComparison, type QuadraticNStarFit } from "./nstar-forms.js";
import { annotateWindow, DEFAULT_SLOPE_WINDOW, windowPhaseInputs } from "./phase-rule.js";

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
  lengthScaleSigma: null,
  collapseSigma: 0.5,
  collapseHalfWindow: 0.25,
  maxGoodChi2: 2,
  preferRatio: 2,
  minDeltaAic: 6,
  nStarMinDeltaAic: 10,
  collapseBootstrapReplicates: 30,
  phaseRule: "window",
  slopeWindow: DEFAULT_SLOPE_WINDOW,
};

/** Extra knobs that are not part of the recorded options (speed, timestamps). */
export interface AnalyzeExtras {
  /** ISO timestamp to write (default: now). */
  createdAt?: string;
  /** Overrides options.collapseBootstrapReplicates (kept for callers of the first API). */
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
  if (o.phaseRule !== "window" && o.phaseRule !== "global") bad("phaseRule", `must be 'window' or 'global', got ${String(o.phaseRule)}`);
  if (!((o.slopeWindow as number) > 0)) bad("slopeWindow", `must be > 0 (a span in ln N), got ${o.slopeWindow}`);
  if (!(Number.isInteger(o.collapseBootstrapReplicates) && (o.collapseBootstrapReplicates as number) >= 2)) bad("collapseBootstrapReplicates", `must be an integer ≥ 2, got ${o.collapseBootstrapReplicates}`);
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
  const o = resolveOptions({ ...partial, ...(extras.collapseBootstrapReplicates !== undefined ? { collapseBootstrapReplicates: extras.collapseBootstrapReplicates } : {}) });
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
  const rng = new AnalysisRng(analysisStreamSeed(o.randomSeed, "curve-bootstrap"));
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
  // The one phase rule: α_w over the window of the largest sizes (phase-rule.ts), or the global fit.
  const windowed = windowPhaseInputs(inputs, boot, o.slopeWindow as number, o.ciLevel);
  const ruleInputs = o.phaseRule === "window" ? windowed.inputs : inputs;
  const phases = o.phaseRule === "window" ? annotateWindow(classifyPhases(ruleInputs, o), windowed.slopes) : classifyPhases(ruleInputs, o);
  warnings.push(...decidingLevers(phases, curves, o.ciLevel));
  const boundaries = phaseBoundaries(ruleInputs, phases, o);

  const crossovers: CrossoverSize[] = curves.map((c) => {
    const b = boot.get(c) as CurveBootstrap;
    return crossoverSize(c, b.means, b.expansion, o.crossoverHalfWindow);
  });
  if (curves.some((c) => c.points.some((p) => p.seeds.length < 2))) warnings.push("some loss points have a single seed: their errors (and every interval built on them) reflect mask noise only, not the spread between trained networks");

  // N*(p): p_c's error from refitting seed-bootstrap replicates (the replicate N* of every
  // curve of the line come from the same seed draw, so their correlation is kept).
  const lengthScaleFits: LengthScaleFit[] = [];
  const nStarComparisons: NStarComparison[] = [];
  const phaseOf = new Map(phases.map((p) => [`${p.width}|${p.depth}|${p.pTrain}|${p.pEval}`, p.phase]));
  // collapseBootstrapReplicates refits (as documented), drawn from the curves' replicates.
  const nReps = Math.min(o.collapseBootstrapReplicates ?? 30, o.bootstrapReplicates);
  for (const fam of families.values()) {
    const { width, depth, pTrain } = fam[0];
    // Every uncensored N* with a bootstrap error (its weight says how well its minimum is
    // located), and every censored N* as a bound; amentia curves (no learning) are left out.
    const inLine = (c: LossCurve, i: number): boolean => c.width === width && c.depth === depth && c.pTrain === pTrain && phaseOf.get(`${c.width}|${c.depth}|${c.pTrain}|${c.pEval}`) !== "amentia" && crossovers[i] !== undefined;
    const used = curves.filter((c, i) => inLine(c, i) && crossovers[i].censored === "none" && crossovers[i].method !== "grid-minimum" && crossovers[i].lnNStarErr !== null);
    const censored = curves.filter((c, i) => inLine(c, i) && crossovers[i].censored !== "none");
    const fallbacks = crossovers.filter((x) => x.width === width && x.depth === depth && x.pTrain === pTrain && x.method === "grid-minimum" && x.censored === "none").length;
    if (fallbacks > 0) warnings.push(`width ${width}, depth ${depth}, p_train ${pTrain}: ${fallbacks} N* at the lowest sampled N (quadratic unusable) left out of the N*(p) fits`);
    if (used.length === 0) continue;
    const errs = used.map((c) => crossovers[curves.indexOf(c)].lnNStarErr as number).sort((a, b) => a - b);
    const boundErr = errs[Math.floor(errs.length / 2)];
    const pts: LengthScalePoint[] = [
      ...used.map((c) => {
        const x = crossovers[curves.indexOf(c)];
        return { p: x.pEval, lnNStar: x.lnNStar, lnNStarErr: x.lnNStarErr as number };
      }),
      ...censored.map((c) => {
        const x = crossovers[curves.indexOf(c)];
        return { p: x.pEval, lnNStar: x.lnNStar, lnNStarErr: boundErr, censored: x.censored as "above" | "below" };
      }),
    ];
    const bs = used.map((c) => boot.get(c) as CurveBootstrap);
    // replicate rows are aligned with pts: refitted N* for the uncensored points, the bound itself for the rest
    const replicates = {
      lnNStar: Array.from({ length: nReps }, (_, r) => [...used.map((c, i) => crossoverLnNStar(c, bs[i].means[r], o.crossoverHalfWindow)), ...censored.map((c) => crossovers[curves.indexOf(c)].lnNStar)]),
      expansion: bs[0].expansion,
      units: Math.min(...bs.map((b) => b.units)),
    };
    // BKT with σ as configured (fitted by default), BKT with the paper's σ = 1/2 when σ is
    // fitted (so the paper's form is always tested, also when a free σ is not determined),
    // and the power law.
    const forms: ["bkt" | "power", number | null][] = [["bkt", o.lengthScaleSigma], ...(o.lengthScaleSigma === null ? [["bkt", 0.5] as ["bkt", number]] : []), ["power", null]];
    const lineFits: LengthScaleFit[] = [];
    for (const [form, sigma] of forms) {
      const f = fitLengthScale(pts, form, sigma, { replicates, ciLevel: o.ciLevel });
      if (f) lineFits.push({ width, depth, pTrain, ...f });
      if (f) lengthScaleFits.push(lineFits[lineFits.length - 1]);
      else if (!(form === "bkt" && sigma === null)) warnings.push(`N*(p) ${form}${form === "bkt" ? ` (σ ${sigma === null ? "fitted" : `= ${sigma}`})` : ""} fit skipped for width ${width}, depth ${depth}, p_train ${pTrain}: ${used.length} uncensored crossover size(s) leave no degree of freedom (need ≥ ${form === "bkt" && sigma === null ? 5 : 4})`);
      else warnings.push(`N*(p) BKT fit with σ fitted skipped for width ${width}, depth ${depth}, p_train ${pTrain}: ${used.length} uncensored crossover size(s) are too few to fit σ (needs 5); the σ = 1/2 fit stands for it`);
    }
    // Diverging or not: the divergent forms against a quadratic that never diverges (nstar-forms.ts).
    const measured = (): { divergent: LengthScaleFit[]; quadratic: QuadraticNStarFit | null } => {
      const free = pts.filter((q) => !q.censored);
      const divergent = forms.flatMap(([form, sigma]) => {
        const f = fitLengthScale(free, form, sigma, { ciLevel: o.ciLevel });
        return f ? [{ width, depth, pTrain, ...f }] : [];
      });
      return { divergent, quadratic: fitNStarQuadratic(free) };
    };
    nStarComparisons.push(compareNStarForms({ width, depth, pTrain }, lineFits, fitNStarQuadratic(pts), o.nStarMinDeltaAic ?? 10, censored.length > 0 ? measured : undefined));
  }

  const collapses: CollapseComparison[] = [];
  for (const bc of boundaries) {
    const seen = new Set<number>();
    for (const bp of bc.pEvalCritical) {
      if (seen.has(bp.fixed) || !(new Set([bp.from, bp.to]).has("eumentia") && new Set([bp.from, bp.to]).has("dementia"))) continue;
      seen.add(bp.fixed);
      collapses.push(collapseAround(bc.width, bc.depth, bp.fixed, bp.critical, curves, o, warnings));
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
    windowSlopes: windowed.slopes,
    phases,
    boundaries,
    crossovers,
    lengthScaleFits,
    nStarComparisons,
    collapses,
    warnings,
    completeness,
  };
}

/** Search effort of the collapses inside `mentia analyze` (a default study has several; see docs/analysis.md). */
const ANALYZE_COLLAPSE_EFFORT = { grid: 12, generations: 60, starts: 3, refitGenerations: 0 };

/**
 * Every collapse form of L(p_eval, N) within collapseHalfWindow of a boundary. Points and
 * errors come from aggregateSeeds (the one error policy for collapses): the per-seed losses
 * give y, dy and seed-bootstrap replicates (seeds drawn jointly for every p_eval and N), and
 * each form's errors are refits of those replicates. With one seed: dy from the curves (mask
 * noise only) and a parametric bootstrap, with a warning.
 */
function collapseAround(width: number, depth: number, pTrain: number, pc: number, curves: readonly LossCurve[], o: AnalysisOptions, warnings: string[]): CollapseComparison {
  const line = curves.filter((c) => c.width === width && c.depth === depth && c.pTrain === pTrain && Math.abs(c.pEval - pc) <= o.collapseHalfWindow);
  const pRange: [number, number] = [pc - o.collapseHalfWindow, pc + o.collapseHalfWindow];
  const base = { width, depth, pTrain, observable: "loss" as const, pRange };
  const where = `width ${width}, depth ${depth}, p_train ${pTrain}`;
  // Sizes common to every curve in the window, so each p has the same N set.
  const common = line.length ? line.map((c) => new Set(c.points.map((p) => p.n))).reduce((a, s) => new Set([...a].filter((n) => s.has(n)))) : new Set<number>();
  if (line.length < 3 || common.size < 2) {
    const note = `collapse skipped: ${line.length} p_eval value(s) and ${common.size} common size(s) within ±${o.collapseHalfWindow} of p_eval,c = ${pc.toFixed(3)} (need 3 and 2)`;
    warnings.push(`${where}: ${note}`);
    return { ...base, forms: { power: null, bkt: null, "bkt-xi": null }, preferred: "undecided", note };
  }
  const rows: SeedRow[] = line.flatMap((c) => c.points.filter((p) => common.has(p.n)).flatMap((p) => p.seeds.map((seed, j) => ({ size: p.n, p: c.pEval, y: p.perSeed[j], seed }))));
  let data: CollapseDatum[];
  let replicates: CollapseReplicates | undefined;
  const B = o.collapseBootstrapReplicates ?? 30;
  const rng = new AnalysisRng(analysisStreamSeed(o.randomSeed, "collapse-seeds"));
  if (line.every((c) => c.points.every((p) => !common.has(p.n) || p.seeds.length >= 2))) {
    const agg = aggregateSeeds(rows, B, rng, o.minRelativeError);
    data = agg.data;
    replicates = agg.replicates;
  } else {
    warnings.push(`${where}: collapse errors from a parametric bootstrap of the mask-level errors (some points have one seed)`);
    data = line.flatMap((c) => {
      const sig = pooledLogErrors(c);
      return c.points.flatMap((p, i) => (common.has(p.n) ? [{ size: p.n, p: c.pEval, y: p.mean, dy: sig[i] * p.mean }] : []));
    });
  }
  const opts: Omit<CollapseOptions, "form"> = { seed: o.randomSeed, maxGoodChi2: o.maxGoodChi2, bootstrapReplicates: B, replicates, ciLevel: o.ciLevel, effort: ANALYZE_COLLAPSE_EFFORT };
  const tryFit = (form: CollapseForm, sigma: number | null): CollapseResult | null => {
    try {
      return fitCollapse(data, { ...opts, form, sigma });
    } catch (e) {
      if (e instanceof MentiaError) {
        warnings.push(`${where}: ${form} collapse failed: ${e.message}`);
        return null;
      }
      throw e;
    }
  };
  // both BKT forms with the configured σ (1/2 by default); the power law's ν is always fitted
  const forms = Object.fromEntries(COLLAPSE_FORM_LIST.map((form) => [form, tryFit(form, form === "power" ? null : o.collapseSigma)])) as Record<CollapseForm, CollapseResult | null>;
  const pref = preferCollapseForm(forms, { minDeltaAic: o.minDeltaAic, maxGoodChi2: o.maxGoodChi2 });
  return { ...base, forms, preferred: pref.preferred, note: pref.reason };
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
    const pcText = (pc: number, err: number | null, bound: "lower" | "upper" | null | undefined): string => (bound ? `${bound === "lower" ? "≤" : "≥"} ${f3(pc)} (a bound: at the edge of the search range)` : `${f3(pc)} ± ${err === null ? "?" : f3(err)}`);
    for (const ls of a.lengthScaleFits.filter((x) => x.width === w && x.depth === d)) {
      const nd = lengthScaleNotDetermined(ls);
      const sg = ls.form === "bkt" ? (ls.sigmaFixed ? ", σ = 1/2 fixed" : `, σ = ${ls.params.sigma.toFixed(2)} ± ${ls.paramErrs.sigma === null ? "?" : ls.paramErrs.sigma.toFixed(2)}`) : "";
      lines.push(`  N*(p_eval) ${ls.form} fit at p_train ${ls.pTrain}: ${nd ? `not determined: ${nd}` : `p_c = ${pcText(ls.pc, ls.pcErr, ls.pcBound)}${sg}, χ²/dof = ${ls.chi2.toFixed(2)}/${ls.dof}`}`);
    }
    for (const c of (a.nStarComparisons ?? []).filter((x) => x.width === w && x.depth === d)) lines.push(`  N*(p_eval) at p_train ${c.pTrain}: ${c.verdict} (${c.reason})${c.quadratic ? `; quadratic χ²/dof = ${c.quadratic.chi2.toFixed(2)}/${c.quadratic.dof}` : ""}`);
    for (const c of a.collapses.filter((x) => x.width === w && x.depth === d)) {
      const one = (r: CollapseResult | null | undefined): string => {
        if (!r) return "n/a";
        const nd = collapseNotDetermined(r);
        return nd ? `not determined: ${nd}` : `χ²_red ${r.chi2.toFixed(2)}/${r.dof} (p_c ${pcText(r.pc, r.pcErr, r.pcBound)}${r.confident ? "" : ", not confident"})`;
      };
      const fs = collapseForms(c);
      lines.push(`  collapse at p_train ${c.pTrain}: ${COLLAPSE_FORM_LIST.map((form) => `${COLLAPSE_FORM_LABEL[form]} ${one(fs[form])}`).join(" | ")} → ${c.preferred}`);
    }
  }
  if (a.warnings.length) lines.push("", `${a.warnings.length} warning(s):`, ...a.warnings.map((w) => `  ${w}`));
  return lines.join("\n");
}
