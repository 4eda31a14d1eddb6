/**
 * The shape of `analysis.json` — what `mentia analyze DIR` writes and what the report reads.
 *
 * Versioned: `schemaVersion: 1`. Changes to this file are additive only (new optional fields,
 * new union members in documented places); anything else bumps the version. the README section "Analysis (analysis.json)"
 * describes every field and the classification rules in prose.
 *
 * Conventions used throughout:
 * - `n` is the training-set size N (the "system size"); `pTrain`, `pEval` are dropout / removal
 *   rates in [0, 1).
 * - Every estimate carries an uncertainty: `xxxErr` is one standard error (1σ); `xxxCI` is a
 *   two-sided interval `[low, high]` at `ciLevel` (e.g. 0.95).
 * - χ² values come with their degrees of freedom; `reducedChi2 = chi2 / dof` (null when dof = 0).
 * - Numbers are never NaN: a quantity that cannot be computed is `null` and a `note` says why.
 */

import type { NStarComparison } from "./nstar-forms.js";
import type { WindowSlope } from "./phase-rule.js";
import type { TrajectoryCurve } from "./slice.js";

export const ANALYSIS_SCHEMA_VERSION = 1 as const;

/** The three phases of the paper, plus `uncertain` when the evidence does not decide. */
export type Phase = "eumentia" | "dementia" | "amentia" | "uncertain";

/**
 * The rule that produced a phase label (see the README section "Analysis (analysis.json)"; checked in this order):
 * - `amentia.baseline-at-chance`: the same network at the baseline p_eval (≈ 0) has loss at the
 *   largest N ≥ chanceFraction·ln 10 and the lower end of its α CI ≤ amentiaMaxAlpha.
 * - `dementia.rising-tail`: baseline is eumentia and the loss grows with N over the upper half
 *   of the N range (tail α's CI entirely below 0): a finite crossover size N*.
 * - `eumentia.alpha-positive`: the lower end of α's CI is above eumentiaMinAlpha.
 * - `dementia.alpha-nonpositive`: baseline is eumentia, α is not significantly positive and
 *   the upper end of its CI is below flatAlphaTolerance (flat or growing loss).
 * - `uncertain.ci-straddles`: α's CI reaches from ≤ eumentiaMinAlpha to ≥ flatAlphaTolerance.
 * - `uncertain.baseline-not-eumentia`: α is not positive but the baseline network is not
 *   (clearly) eumentia, so "trained then forgot" cannot be asserted.
 * - `uncertain.no-baseline`: no curve at p_eval ≤ baselineMaxPEval for this (width, depth, p_train).
 */
export type PhaseRule =
  | "amentia.baseline-at-chance"
  | "eumentia.alpha-positive"
  | "dementia.alpha-nonpositive"
  | "dementia.rising-tail"
  | "uncertain.ci-straddles"
  | "uncertain.baseline-not-eumentia"
  | "uncertain.no-baseline";

/** Identifies one loss curve L(N): one point of the phase diagram. */
export interface GridPoint {
  width: number;
  depth: number;
  pTrain: number;
  pEval: number;
}

/** Identifies one (width, depth) network architecture. */
export interface Architecture {
  width: number;
  depth: number;
}

// ---------------------------------------------------------------------------------------------
// 1. Loss curves
// ---------------------------------------------------------------------------------------------

/** One training-set size of a loss curve. */
export interface LossPoint {
  n: number;
  /** Mean over seeds of the per-seed loss (each per-seed loss is the mean over its masks). */
  mean: number;
  /**
   * Standard error of `mean`: sd over seeds / √(seeds) with ≥ 2 seeds; with one seed, the
   * record's mask-level standard error. Floored at minRelativeError·mean.
   */
  stderr: number;
  /** Mean test accuracy over seeds. */
  accuracy: number;
  /** Seed ids, aligned with perSeed / perSeedMasks. */
  seeds: number[];
  /** Per-seed loss (mean over that seed's masks). */
  perSeed: number[];
  /** Per-seed, per-mask losses, kept for resampling. */
  perSeedMasks: number[][];
}

export interface LossCurve extends GridPoint {
  /** Sorted by n ascending; every n appears once. */
  points: LossPoint[];
}

// ---------------------------------------------------------------------------------------------
// 2. Scaling fits
// ---------------------------------------------------------------------------------------------

/** Weighted least squares of ln L = ln A − α ln N. */
export interface PowerLawFit {
  alpha: number;
  /**
   * 1σ error of α: sd of the bootstrap replicates × √(S/(S−1)) (small-sample correction);
   * the analytic fallback (replicates without spread) × √(reducedChi2) when that exceeds 1.
   */
  alphaErr: number;
  /** α ± t_{S−1}·alphaErr at ciLevel (S = seeds resampled); see the README section "Analysis (analysis.json)". */
  alphaCI: [number, number];
  ciLevel: number;
  /** Prefactor A (same units as L). */
  amplitude: number;
  chi2: number;
  dof: number;
  reducedChi2: number | null;
  /** Number of bootstrap replicates used for alphaErr / alphaCI. */
  bootstrapReplicates: number;
  /** Same fit restricted to the upper half of the N range (≥ 3 sizes), for the rising-tail rule. */
  tail: { alpha: number; alphaErr: number; alphaCI: [number, number]; nMin: number; nMax: number } | null;
}

/** Offset fit L = A N^(−α) + L∞ (variable projection, L∞ ≥ 0, weights from pooled errors). */
export interface OffsetFit {
  amplitude: number;
  amplitudeErr: number;
  alpha: number;
  alphaErr: number;
  lInf: number;
  lInfErr: number;
  chi2: number;
  dof: number;
  reducedChi2: number | null;
}

/** d ln L / d ln N between consecutive sizes (finite difference), with its propagated error. */
export interface LocalSlope {
  nLow: number;
  nHigh: number;
  /** Geometric mean of nLow and nHigh (where the slope is plotted). */
  nMid: number;
  /** d ln L / d ln N  (= −α_local). */
  slope: number;
  slopeErr: number;
}

export interface ScalingFit extends GridPoint {
  powerLaw: PowerLawFit;
  /** Null when it cannot be fitted (fewer than 4 sizes, or the fit did not converge): see offsetNote. */
  offset: OffsetFit | null;
  offsetNote: string | null;
  localSlopes: LocalSlope[];
}

// ---------------------------------------------------------------------------------------------
// 3. Phase labels
// ---------------------------------------------------------------------------------------------

export interface PhaseLabel extends GridPoint {
  phase: Phase;
  rule: PhaseRule;
  /** One human-readable line with the numbers that fired the rule. */
  reason: string;
  alpha: number;
  alphaCI: [number, number];
  /** Mean loss at the largest N of the curve. */
  lossAtMaxN: number;
  /** The baseline curve's p_eval used for the "trained?" question, or null when none exists. */
  baselinePEval: number | null;
}

// ---------------------------------------------------------------------------------------------
// 4. Boundaries
// ---------------------------------------------------------------------------------------------

/**
 * One boundary crossing along one line of the grid.
 * along = "pEval": p_train fixed at `fixed`, the critical value is p_eval,c(p_train).
 * along = "pTrain": p_eval fixed at `fixed`, the critical value is p_train,c(p_eval).
 */
export interface BoundaryPoint {
  along: "pEval" | "pTrain";
  fixed: number;
  critical: number;
  criticalErr: number;
  /** Phases on the low and high side of the crossing along the line. */
  from: Phase;
  to: Phase;
  /** The grid values bracketing the crossing. */
  bracket: [number, number];
  /**
   * `alpha-zero`: α(p) interpolated linearly through zero, error from the bootstrap replicates;
   * `bracket-midpoint`: midpoint of the bracket, error = half its width (used when α does not
   * change sign inside the bracket, or for boundaries involving amentia).
   */
  method: "alpha-zero" | "bracket-midpoint";
  /** Fraction of bootstrap replicates in which α crossed zero on this line (alpha-zero only). */
  bootstrapCrossingFraction: number | null;
}

export interface BoundaryCurves extends Architecture {
  /** p_eval,c(p_train): crossings along p_eval lines, sorted by p_train. */
  pEvalCritical: BoundaryPoint[];
  /** p_train,c(p_eval): crossings along p_train lines, sorted by p_eval. */
  pTrainCritical: BoundaryPoint[];
}

// ---------------------------------------------------------------------------------------------
// 5. Length scale
// ---------------------------------------------------------------------------------------------

/**
 * The crossover size N* where a non-monotonic L(N) has its minimum: minimum of a weighted
 * quadratic fit of ln L vs ln N around the lowest point.
 * censored = "below": L rises over the whole range (N* < smallest N);
 * censored = "above": L falls over the whole range (N* > largest N);
 * censored = "none": the minimum lies inside the sampled range.
 */
export interface CrossoverSize extends GridPoint {
  /** N* (for censored results, the bound: smallest or largest sampled N). */
  nStar: number;
  lnNStar: number;
  /** 1σ bootstrap error of ln N* (null when censored). */
  lnNStarErr: number | null;
  censored: "none" | "below" | "above";
  /** True when the minimum is significantly (> 3σ) below the loss at both ends of the range. */
  significant: boolean;
  /**
   * "quadratic": N* from the fitted parabola; "grid-minimum": the parabola could not be used
   * (singular or not convex) and N* is the lowest sampled N — a fallback, left out of N*(p) fits.
   */
  method?: "quadratic" | "grid-minimum";
}

/**
 * Fit of ln N*(p) along one p_eval line (p_train fixed), from the uncensored, significant N*
 * of curves not labelled amentia.
 */
export interface LengthScaleFit extends Architecture {
  pTrain: number;
  /**
   * bkt:   ln N* = ln N0 + b |p − p_c|^(−σ)          (params: pc, lnN0, b, sigma)
   * power: ln N* = ln A − ν ln |p − p_c|             (params: pc, lnA, nu)
   */
  form: "bkt" | "power";
  pc: number;
  pcErr: number | null;
  /** Form-specific parameters and their 1σ errors (curvature of χ²); keys as in the form above. */
  params: Record<string, number>;
  paramErrs: Record<string, number | null>;
  sigmaFixed: boolean;
  /** σ fitted: whether 1/2 lies inside σ's interval at ciLevel. */
  sigmaHalfInCI?: boolean | null;
  /** p_c ± t·pcErr (null when p_c is a bound or has no error). */
  pcCI?: [number, number] | null;
  /** "lower"/"upper" when p_c sits at the end of its search range: a bound, not a value. */
  pcBound?: "lower" | "upper" | null;
  ciLevel?: number;
  /** p_c's error: "seed-bootstrap" (refits of seed-resampled N*) or "curvature" (χ² Hessian). */
  errorMethod?: "seed-bootstrap" | "curvature";
  chi2: number;
  /** ≥ 1: fits with dof 0 are not made. */
  dof: number;
  reducedChi2: number | null;
  /** χ² + 2k. */
  aic?: number;
  notes?: string[];
  /** The (p, ln N*, error) points that were fitted; censored ones are bounds (censored: "above" | "below"). */
  points: { p: number; lnNStar: number; lnNStarErr: number; censored?: "above" | "below" }[];
  /** How many of the points are censored bounds, and how many of those the fit violates (absent in older files). */
  bounds?: number;
  boundsViolated?: number;
}

// ---------------------------------------------------------------------------------------------
// 6. Finite-size-scaling collapse
// ---------------------------------------------------------------------------------------------

/** One scaled point of a collapse, for plotting. */
export interface CollapsePoint {
  size: number;
  p: number;
  /**
   * Scaling variable: (p − p_c) N^(1/ν) (power), (p − p_c) (ln(N/N0))^(1/σ) (bkt), or
   * ln N − b |p − p_c|^(−σ) = ln(N/ξ(p)) (bkt-xi).
   */
  x: number;
  /** Scaled observable: y N^(β/ν) (power) or y N^β (bkt, bkt-xi; β there is the prefactor exponent). */
  y: number;
  dy: number;
  /** False when the point had no other-size bracket at its x (Houdayer–Hartmann cost) and so is not in χ². */
  scored?: boolean;
}

/** The collapse forms: see docs/analysis.md. */
export type CollapseForm = "power" | "bkt" | "bkt-xi";

/**
 * Result of one collapse. Parameter fields that do not apply to the form are null
 * (power: sigma, n0, b null; bkt: nu, b null; bkt-xi: nu, n0 null).
 */
export interface CollapseResult {
  form: CollapseForm;
  /** Collapse cost: "hh" (Houdayer–Hartmann, each point against the other sizes' curves) or "neighbour". */
  cost?: "gp" | "hh" | "neighbour";
  pc: number;
  pcErr: number | null;
  /** p_c ± t·pcErr at ciLevel (null when pcErr is null or p_c is a bound). */
  pcCI?: [number, number] | null;
  ciLevel?: number;
  /** "lower" / "upper" when p_c sits (within 2σ) at the edge of its search range: a bound, not a value. */
  pcBound?: "lower" | "upper" | null;
  /** Other fitted parameters (ν, N₀, b, σ, β) that sit at the edge of their search range. */
  paramsAtBound?: string[];
  nu: number | null;
  nuErr: number | null;
  /** power: β in y N^(β/ν); bkt, bkt-xi: the exponent of N in the prefactor y N^β. 0 when fixed. */
  beta: number | null;
  betaErr: number | null;
  sigma: number | null;
  sigmaErr: number | null;
  /** σ fitted: whether 1/2 lies inside σ's interval at ciLevel (null when σ is fixed or has no error). */
  sigmaHalfInCI?: boolean | null;
  /** bkt only: N0 in ln(N/N0). */
  n0: number | null;
  n0Err: number | null;
  /** bkt-xi only: ln ξ = b |p − p_c|^(−σ), and the side of p_c where ξ is finite. */
  b?: number | null;
  bErr?: number | null;
  side?: "low" | "high" | null;
  /** Reduced χ² of the cost at the optimum: chi2Total / dof. */
  chi2: number;
  /** dof = scored points − fitted parameters (hh), or interior points − parameters (neighbour). */
  dof: number;
  chi2Total?: number;
  /** Fitted parameters k. */
  parameters?: number;
  /** Points in the cost; points left out because no other size brackets their x; bkt-xi points on the critical side (ξ = ∞). */
  scored?: number;
  excludedNoBracket?: number;
  excludedCriticalSide?: number;
  /** AIC = chi2Total + 2 · (points not scored) + 2k: a point the form makes no prediction for counts as one free parameter, so every form is scored on all n points. */
  aic?: number;
  /**
   * Out-of-sample check: refit without the largest N, then the mean Houdayer–Hartmann term of
   * the largest-N points against the other sizes' curves (predictiveDof terms). Null when it
   * cannot be done (fewer than 3 sizes, nothing bracketed).
   */
  predictiveChi2?: number | null;
  predictiveDof?: number | null;
  /** gp: ln of the maximised marginal likelihood of the data y (null for the other costs). */
  logLikelihood?: number | null;
  /** gp: out-of-sample mean −2 ln predictive density per largest-N point, y units (lower is better). */
  predictiveLogScore?: number | null;
  /** "curvature" (χ² Hessian), "bootstrap" (y → y + dy·ε refits) or "seed-bootstrap" (refits of seed-resampled data). */
  errorMethod: "curvature" | "bootstrap" | "seed-bootstrap";
  /**
   * Fraction of scored points (hh: points with an other-size bracket among those the form
   * defines; neighbour: interior points with a neighbour of another size). The fit only
   * accepts parameters where this is ≥ minOverlap.
   */
  overlap: number;
  /**
   * True only when chi2 ≤ maxGoodChi2, dof ≥ 1, (hh) at least half the points are scored, every fitted parameter has a finite error and
   * stays (±2σ) inside its search range, p_c lies inside the data's p range, and pcErr is
   * below maxRelativePcErr of that range. Otherwise `notes` says what failed.
   */
  confident: boolean;
  notes: string[];
  points: CollapsePoint[];
}

/** The collapse forms in their display order. */
export const COLLAPSE_FORM_LIST: readonly CollapseForm[] = ["power", "bkt", "bkt-xi"];

/** Display names of the forms. */
export const COLLAPSE_FORM_LABEL: Record<CollapseForm, string> = { power: "power-law", bkt: "BKT", "bkt-xi": "BKT-ξ" };

/** A comparison's fits by form, also for files written before `forms` existed. */
export function collapseForms(c: CollapseComparison): Record<CollapseForm, CollapseResult | null> {
  const f = (c as Partial<CollapseComparison>).forms;
  if (f) return { power: f.power ?? null, bkt: f.bkt ?? null, "bkt-xi": f["bkt-xi"] ?? null };
  return { power: c.power ?? null, bkt: c.bkt ?? null, "bkt-xi": c.bktXi ?? null };
}

/** Every collapse form on the same data, one per (width, depth, p_train) line. */
export interface CollapseComparison extends Architecture {
  pTrain: number;
  /** Observable collapsed: the mean loss L(p_eval, N) with its standard error. */
  observable: "loss";
  /** p_eval window used (all grid values within it). */
  pRange: [number, number];
  /** Every form's fit (null: not fitted, `note` says why), keyed by form; read it with collapseForms(). */
  forms: Record<CollapseForm, CollapseResult | null>;
  /** Files written before `forms`: the forms as separate fields (collapseForms() reads both). */
  power?: CollapseResult | null;
  bkt?: CollapseResult | null;
  bktXi?: CollapseResult | null;
  /**
   * A form's name when AIC and the out-of-sample check pick the same form, by a clear
   * margin, and its fit is confident; otherwise "undecided" (`note` says why).
   */
  preferred: CollapseForm | "undecided";
  note: string | null;
}

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

/** Every named threshold and numerical setting used; written into the file for reproducibility. */
export interface AnalysisOptions {
  /** Two-sided confidence level of every CI. Default 0.95. */
  ciLevel: number;
  /** Bootstrap replicates (resampling seeds, then masks within seeds). Default 400. */
  bootstrapReplicates: number;
  /** Seed of the analysis PRNG (bootstrap, global search). Default 1. */
  randomSeed: number;
  /** Floor on relative standard errors of mean losses. Default 1e-3. */
  minRelativeError: number;
  /** Eumentia when the CI's lower end exceeds this. Default 0. */
  eumentiaMinAlpha: number;
  /** Dementia (flat) needs α's CI upper end below this. Default 0.05. */
  flatAlphaTolerance: number;
  /** Amentia: baseline loss at the largest N ≥ chanceFraction·ln 10. Default 0.9. */
  chanceFraction: number;
  /** Amentia: baseline α's CI lower end must not exceed this. Default 0.05. */
  amentiaMaxAlpha: number;
  /** Largest p_eval accepted as the "trained network" baseline. Default 0.05. */
  baselineMaxPEval: number;
  /** Minimum sizes per curve for a fit. Default 3. */
  minSizes: number;
  /** Crossover: neighbours each side of the lowest point in the quadratic fit. Default 2. */
  crossoverHalfWindow: number;
  /** Length-scale fits: σ fixed (number) or fitted (null). Default 0.5. */
  lengthScaleSigma: number | null;
  /** Collapse: BKT σ fixed (number) or fitted (null). Default 0.5. */
  collapseSigma: number | null;
  /** Collapse: half-width of the p_eval window around the boundary estimate. Default 0.25. */
  collapseHalfWindow: number;
  /** Collapse: largest reduced χ² called a good collapse. Default 2. */
  maxGoodChi2: number;
  /** Collapse: kept for older files; the preference now uses AIC + out-of-sample χ² (minDeltaAic). Default 2. */
  preferRatio: number;
  /**
   * Collapse: smallest AIC margin over the runner-up for a preferred form. Default 6 (2 ln 19:
   * the best form's Akaike weight ≥ 0.95 against the runner-up; validated on fresh draws,
   * docs/analysis.md §6a). Analyses written before 2026-12-03 used 10.
   */
  minDeltaAic?: number;
  /**
   * N*(p): smallest AIC margin for "diverging" / "not diverging" (divergent forms against the
   * quadratic). Default 10: at 6 smooth non-divergent N* are called diverging far more often
   * (docs/analysis.md §9). Absent in older files: minDeltaAic was used (10).
   */
  nStarMinDeltaAic?: number;
  /** Collapse and N*(p): bootstrap replicates refitted for parameter errors (seeds resampled jointly). Default 30. */
  collapseBootstrapReplicates?: number;
  /**
   * The phase rule (docs/analysis.md, "The phase rule"): "window" = α_w, the slope over the
   * window of the largest sizes (phase-rule.ts), labels and boundaries; "global" = the power law
   * over the whole range plus the rising-tail fit (mentia ≤ 0.3). Absent in older files: global.
   */
  phaseRule?: "window" | "global";
  /** The window in ln N: sizes in [N_max·e^(−slopeWindow), N_max], at least 3. Default ln 4. */
  slopeWindow?: number;
}

export interface AnalysisInputSummary {
  records: number;
  widths: number[];
  depths: number[];
  pTrains: number[];
  pEvals: number[];
  sizes: number[];
  seeds: number[];
}

export interface Analysis {
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  /** ISO time of the analysis. */
  createdAt: string;
  options: AnalysisOptions;
  input: AnalysisInputSummary;
  curves: LossCurve[];
  fits: ScalingFit[];
  phases: PhaseLabel[];
  boundaries: BoundaryCurves[];
  crossovers: CrossoverSize[];
  lengthScaleFits: LengthScaleFit[];
  collapses: CollapseComparison[];
  /** Things the reader should know (skipped curves, failed fits), one line each. */
  warnings: string[];
  /**
   * Whether the sweep was complete (added in schema 1; absent in older files). Incomplete:
   * the analysis used, per (width, depth, p_train), only the sizes × seeds that all have
   * results, and `warnings` starts with a line that says so.
   */
  completeness?: Completeness;
  /** The eval mode these results were made with, when the records name one (src/engine/types.ts EvalMode). */
  evalMode?: string;
  /** The dataset of the sweep (src/data/datasets.ts), written by `mentia analyze`; absent in files from before datasets. */
  dataset?: string;
  /**
   * A sweep evaluated in several modes: the phases and boundaries of every mode (this
   * analysis is the first mode's; each mode's full analysis is in its `file`), for the
   * report's side-by-side phase diagrams and boundary overlay.
   */
  modes?: ModeSummary[];
  /**
   * L(N) read from the jobs' trajectories at this point of the training (src/analysis/slice.ts);
   * absent: the jobs' own evaluations (the policy's weights, all p_eval of the grid).
   */
  slice?: SliceInfo;
  /** N*(p) per line: the divergent forms against a quadratic in p that never diverges, and the verdict (nstar-forms.ts). */
  nStarComparisons?: NStarComparison[];
  /** α_w over the window of the largest sizes at every grid point (phase-rule.ts), whichever rule labels. */
  windowSlopes?: WindowSlope[];
  /** The trajectories (L against training steps per N, mean over seeds) when the sweep recorded them. */
  trajectories?: TrajectoryCurve[];
  /** Filled by the report, not by analyze: the phases and boundaries of every slice analysed (analysis-slice-*.json). */
  slices?: Array<SliceInfo & { file: string; phases: PhaseLabel[]; boundaries: BoundaryCurves[] }>;
}

/** Where along the training an analysis reads L(N), and what reading it there cost. */
export interface SliceInfo {
  kind: "early-stop" | "steps" | "epochs" | "samples";
  /** Steps, epochs or samples; null for early-stop. */
  value: number | null;
  /** Trainings whose checkpoints do not reach the slice (left out, not extrapolated). */
  outside: string[];
  /** Leave-one-out check of the interpolation on these trajectories (slice.ts interpolationCheck); null for early-stop. */
  interpolation: { checks: number; medianRelError: number; p90RelError: number } | null;
}

/** One eval mode of a multi-mode sweep (Analysis.modes). */
export interface ModeSummary {
  evalMode: string;
  /** File name of the mode's full analysis, next to analysis.json. */
  file: string;
  phases: PhaseLabel[];
  boundaries: BoundaryCurves[];
}

/** What an analysis found of the planned grid (see analysis/completeness.ts). */
export interface Completeness {
  /** True when every planned training has results and every one was used. */
  complete: boolean;
  /** Trainings (width × depth × p_train × N × seed) of the planned grid. */
  expectedJobs: number;
  /** Of those, trainings with results. */
  presentJobs: number;
  /** Of those, trainings used by the analysis (complete sizes × seeds per p_train). */
  usedJobs: number;
  /** One line per (width, depth, p_train) with gaps: the missing N and seeds. */
  missing: string[];
  /** One line per (width, depth, p_train) whose finished trainings were partly left out. */
  excluded: string[];
}
