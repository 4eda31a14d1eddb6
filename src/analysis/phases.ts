/**
 * Phase classification of every grid point, and phase boundaries along the lines of the grid.
 *
 * Classification of one curve (width, depth, p_train, p_eval), with α̂ and its CI [lo, hi]
 * from scaling.ts, the baseline = the same (width, depth, p_train) at the smallest
 * p_eval ≤ baselineMaxPEval, and L_max = the mean loss at the largest N:
 *
 *   1. amentia   if the baseline has L_max ≥ chanceFraction · ln 10 and its α CI's lower end
 *                ≤ amentiaMaxAlpha (it never learned: at chance and not significantly improving
 *                with N). Applies to every p_eval of that p_train.         [amentia.baseline-at-chance]
 *   2. baseline missing:  eumentia if lo > eumentiaMinAlpha, else uncertain. [uncertain.no-baseline]
 *   3. baseline eumentia (the network learned):
 *        dementia  if the tail fit (upper half of the N range) has its CI entirely below 0:
 *                  the loss grows with N at large N, i.e. a finite crossover N*. [dementia.rising-tail]
 *        eumentia  if lo > eumentiaMinAlpha.                                   [eumentia.alpha-positive]
 *        dementia  if hi < flatAlphaTolerance: flat (within tolerance) or growing.
 *                                                                              [dementia.alpha-nonpositive]
 *        uncertain otherwise: the CI straddles.                                [uncertain.ci-straddles]
 *   4. baseline not eumentia (uncertain): eumentia if lo > eumentiaMinAlpha, else uncertain.
 *                                                                   [uncertain.baseline-not-eumentia]
 *   The baseline itself is eumentia, amentia (rule 1) or uncertain (learned something but α
 *   not positive: "trained then forgot" needs a trained reference, so never dementia).
 *
 * Boundary along a line (p_train fixed, p_eval varying; or p_eval fixed, p_train varying):
 * between consecutive *decided* labels A ≠ B (uncertain points in between are skipped), the
 * bracket [p_A, p_B]. For eumentia ↔ dementia, α(p) is interpolated linearly through
 * a0 = eumentiaMinAlpha (0 by default) between the grid points of the bracket:
 *   p_c = p_k + (α_k − a0)(p_{k+1} − p_k) / (α_k − α_{k+1})
 * and the same is done for every bootstrap replicate (α_b scaled by each curve's error
 * factor around α̂); a replicate without a crossing in the bracket is assigned the bracket
 * end it points to (censoring); criticalErr = sd of the replicate crossings. Otherwise (no
 * sign change of α̂ inside the bracket, or a boundary with amentia) the midpoint of the
 * bracket with half its width as the error. A crossing always lies inside its bracket: the
 * labels say the phase changes between p_A and p_B, so a zero of α̂ outside (where a point
 * labelled dementia by the flat-tolerance rule still has α̂ slightly above a0) would put the
 * boundary between two cells of the same label.
 */
import type { BoundaryCurves, BoundaryPoint, LossCurve, Phase, PhaseLabel, PhaseRule, ScalingFit } from "./schema.js";

export interface PhaseOptions {
  eumentiaMinAlpha: number;
  flatAlphaTolerance: number;
  chanceFraction: number;
  amentiaMaxAlpha: number;
  baselineMaxPEval: number;
}

export const LN10 = Math.log(10);

/** One grid point's evidence: its curve, its fit, and its α bootstrap replicates. */
export interface PhaseInput {
  curve: LossCurve;
  fit: ScalingFit;
  /** α of each bootstrap replicate (raw) and the factor applied to deviations from α̂. */
  bootAlphas: number[];
  errorFactor: number;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(2));
const ci = (c: [number, number]): string => `[${fmt(c[0])}, ${fmt(c[1])}]`;

function lossAtMaxN(c: LossCurve): number {
  return c.points[c.points.length - 1].mean;
}

/** Classifies the baseline curve on its own (rules 1, eumentia, else uncertain). */
function classifyBaseline(b: PhaseInput, o: PhaseOptions): { phase: Phase; rule: PhaseRule; reason: string } {
  const pl = b.fit.powerLaw;
  const L = lossAtMaxN(b.curve);
  if (L >= o.chanceFraction * LN10 && pl.alphaCI[0] <= o.amentiaMaxAlpha)
    return { phase: "amentia", rule: "amentia.baseline-at-chance", reason: `at p_eval ${b.curve.pEval}: L(N_max) = ${fmt(L)} ≥ ${o.chanceFraction}·ln 10 and α = ${fmt(pl.alpha)} CI ${ci(pl.alphaCI)} not above ${o.amentiaMaxAlpha}` };
  if (pl.alphaCI[0] > o.eumentiaMinAlpha) return { phase: "eumentia", rule: "eumentia.alpha-positive", reason: `α = ${fmt(pl.alpha)}, CI ${ci(pl.alphaCI)} > ${o.eumentiaMinAlpha}` };
  if (pl.alphaCI[1] >= o.eumentiaMinAlpha) return { phase: "uncertain", rule: "uncertain.ci-straddles", reason: `α = ${fmt(pl.alpha)}, CI ${ci(pl.alphaCI)} contains ${o.eumentiaMinAlpha}` };
  return { phase: "uncertain", rule: "uncertain.baseline-not-eumentia", reason: `baseline α = ${fmt(pl.alpha)}, CI ${ci(pl.alphaCI)} below ${o.eumentiaMinAlpha} although the loss is below chance` };
}

/** Labels every grid point (see the file header for the rules). */
export function classifyPhases(inputs: readonly PhaseInput[], o: PhaseOptions): PhaseLabel[] {
  const byLine = new Map<string, PhaseInput[]>();
  for (const i of inputs) {
    const k = `${i.curve.width}|${i.curve.depth}|${i.curve.pTrain}`;
    const arr = byLine.get(k) ?? [];
    arr.push(i);
    byLine.set(k, arr);
  }
  const labels: PhaseLabel[] = [];
  for (const line of byLine.values()) {
    line.sort((a, b) => a.curve.pEval - b.curve.pEval);
    const baseline = line[0].curve.pEval <= o.baselineMaxPEval ? line[0] : null;
    const base = baseline ? classifyBaseline(baseline, o) : null;
    for (const inp of line) {
      const pl = inp.fit.powerLaw;
      const [lo, hi] = pl.alphaCI;
      let phase: Phase;
      let rule: PhaseRule;
      let reason: string;
      const alphaText = `α = ${fmt(pl.alpha)}, CI ${ci(pl.alphaCI)}`;
      if (inp === baseline && base) ({ phase, rule, reason } = base);
      else if (base?.phase === "amentia") {
        phase = "amentia";
        rule = "amentia.baseline-at-chance";
        reason = `baseline ${base.reason}`;
      } else if (!base) {
        if (lo > o.eumentiaMinAlpha) [phase, rule, reason] = ["eumentia", "eumentia.alpha-positive", `${alphaText} > ${o.eumentiaMinAlpha}`];
        else [phase, rule, reason] = ["uncertain", "uncertain.no-baseline", `${alphaText}; no curve at p_eval ≤ ${o.baselineMaxPEval} to show the network learned`];
      } else if (base.phase === "eumentia") {
        const tail = pl.tail;
        if (tail && tail.alphaCI[1] < 0) [phase, rule, reason] = ["dementia", "dementia.rising-tail", `loss grows with N for N ≥ ${tail.nMin}: tail α = ${fmt(tail.alpha)}, CI ${ci(tail.alphaCI)} < 0 (global ${alphaText})`];
        else if (lo > o.eumentiaMinAlpha) [phase, rule, reason] = ["eumentia", "eumentia.alpha-positive", `${alphaText} > ${o.eumentiaMinAlpha}`];
        else if (hi < o.flatAlphaTolerance) [phase, rule, reason] = ["dementia", "dementia.alpha-nonpositive", `${alphaText} below ${o.flatAlphaTolerance} (flat or growing) while the baseline learned`];
        else [phase, rule, reason] = ["uncertain", "uncertain.ci-straddles", `${alphaText} straddles [${o.eumentiaMinAlpha}, ${o.flatAlphaTolerance}]`];
      } else {
        if (lo > o.eumentiaMinAlpha) [phase, rule, reason] = ["eumentia", "eumentia.alpha-positive", `${alphaText} > ${o.eumentiaMinAlpha}`];
        else [phase, rule, reason] = ["uncertain", "uncertain.baseline-not-eumentia", `${alphaText}; baseline is ${base.phase} (${base.reason})`];
      }
      labels.push({
        width: inp.curve.width,
        depth: inp.curve.depth,
        pTrain: inp.curve.pTrain,
        pEval: inp.curve.pEval,
        phase,
        rule,
        reason,
        alpha: pl.alpha,
        alphaCI: pl.alphaCI,
        lossAtMaxN: lossAtMaxN(inp.curve),
        baselinePEval: baseline ? baseline.curve.pEval : null,
      });
    }
  }
  return labels;
}

/**
 * First crossing of values through a0 (linear interpolation between consecutive points
 * ps, all inside the bracket), or null when the values never cross a0.
 */
function crossingInBracket(ps: readonly number[], values: readonly number[], a0: number): number | null {
  for (let k = 0; k + 1 < ps.length; k++) {
    const u = values[k] - a0;
    const v = values[k + 1] - a0;
    if ((u > 0 && v <= 0) || (u <= 0 && v > 0)) return ps[k] + (u * (ps[k + 1] - ps[k])) / (u - v);
  }
  return null;
}

interface LinePoint {
  p: number;
  label: PhaseLabel;
  input: PhaseInput;
}

function lineBoundaries(along: "pEval" | "pTrain", fixed: number, pts: LinePoint[], o: PhaseOptions): BoundaryPoint[] {
  pts.sort((a, b) => a.p - b.p);
  const decided = pts.map((q, i) => ({ q, i })).filter(({ q }) => q.label.phase !== "uncertain");
  const out: BoundaryPoint[] = [];
  for (let d = 0; d + 1 < decided.length; d++) {
    const A = decided[d];
    const B = decided[d + 1];
    if (A.q.label.phase === B.q.label.phase) continue;
    // Only inside the bracket (see the header): the grid points from A to B.
    const seg = pts.slice(A.i, B.i + 1);
    const ps = seg.map((s) => s.p);
    const bracket: [number, number] = [A.q.p, B.q.p];
    const pair = new Set([A.q.label.phase, B.q.label.phase]);
    const base = { along, fixed, from: A.q.label.phase, to: B.q.label.phase, bracket };
    const alphas = seg.map((s) => s.input.fit.powerLaw.alpha);
    const crossing = pair.has("eumentia") && pair.has("dementia") ? crossingInBracket(ps, alphas, o.eumentiaMinAlpha) : null;
    if (crossing === null) {
      out.push({ ...base, critical: (bracket[0] + bracket[1]) / 2, criticalErr: (bracket[1] - bracket[0]) / 2, method: "bracket-midpoint", bootstrapCrossingFraction: null });
      continue;
    }
    const B_ = Math.min(...seg.map((s) => s.input.bootAlphas.length));
    const reps: number[] = [];
    let crossed = 0;
    const startAbove = alphas[0] > o.eumentiaMinAlpha;
    for (let b = 0; b < B_; b++) {
      const ab = seg.map((s) => s.input.fit.powerLaw.alpha + s.input.errorFactor * (s.input.bootAlphas[b] - s.input.fit.powerLaw.alpha));
      const c = crossingInBracket(ps, ab, o.eumentiaMinAlpha);
      if (c !== null) {
        crossed++;
        reps.push(c);
      } else {
        // No crossing: every value on one side; the crossing lies beyond the bracket end it points to.
        const above = ab[0] > o.eumentiaMinAlpha;
        reps.push(above === startAbove ? bracket[1] : bracket[0]);
      }
    }
    const m = reps.reduce((a, v) => a + v, 0) / Math.max(1, reps.length);
    const sd = reps.length >= 2 ? Math.sqrt(reps.reduce((a, v) => a + (v - m) ** 2, 0) / (reps.length - 1)) : (bracket[1] - bracket[0]) / 2;
    out.push({ ...base, critical: crossing, criticalErr: sd, method: "alpha-zero", bootstrapCrossingFraction: B_ > 0 ? crossed / B_ : null });
  }
  return out;
}

/** Boundary curves p_eval,c(p_train) and p_train,c(p_eval) for every (width, depth). */
export function phaseBoundaries(inputs: readonly PhaseInput[], labels: readonly PhaseLabel[], o: PhaseOptions): BoundaryCurves[] {
  const labelOf = new Map(labels.map((l) => [`${l.width}|${l.depth}|${l.pTrain}|${l.pEval}`, l]));
  const archs = new Map<string, LinePoint[]>();
  for (const input of inputs) {
    const c = input.curve;
    const label = labelOf.get(`${c.width}|${c.depth}|${c.pTrain}|${c.pEval}`);
    if (!label) continue;
    const k = `${c.width}|${c.depth}`;
    const arr = archs.get(k) ?? [];
    arr.push({ p: 0, label, input });
    archs.set(k, arr);
  }
  const out: BoundaryCurves[] = [];
  for (const [k, pts] of archs) {
    const [width, depth] = k.split("|").map(Number);
    const pEvalCritical: BoundaryPoint[] = [];
    const pTrainCritical: BoundaryPoint[] = [];
    const pTrains = [...new Set(pts.map((q) => q.input.curve.pTrain))].sort((a, b) => a - b);
    const pEvals = [...new Set(pts.map((q) => q.input.curve.pEval))].sort((a, b) => a - b);
    for (const pt of pTrains) pEvalCritical.push(...lineBoundaries("pEval", pt, pts.filter((q) => q.input.curve.pTrain === pt).map((q) => ({ ...q, p: q.input.curve.pEval })), o));
    for (const pe of pEvals) pTrainCritical.push(...lineBoundaries("pTrain", pe, pts.filter((q) => q.input.curve.pEval === pe).map((q) => ({ ...q, p: q.input.curve.pTrain })), o));
    out.push({ width, depth, pEvalCritical, pTrainCritical });
  }
  out.sort((a, b) => a.width - b.width || a.depth - b.depth);
  return out;
}
