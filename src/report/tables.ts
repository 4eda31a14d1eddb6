import { collapseNotDetermined, lengthScaleNotDetermined } from "../analysis/determined.js";
import { COLLAPSE_FORM_LIST, collapseForms, type Analysis, type CollapseForm, type CollapseResult } from "../analysis/schema.js";

/**
 * The report's tables: plain rows → CSV (RFC 4180: comma-separated, fields with commas,
 * quotes or newlines quoted, quotes doubled; null/undefined → empty field; numbers at full
 * precision). Each table is also shown (in part) in the page.
 */
export type Cell = string | number | boolean | null | undefined;

export interface Table {
  /** File name stem: DIR/report/<name>.csv */
  name: string;
  title: string;
  columns: string[];
  rows: Cell[][];
}

function csvField(v: Cell): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: Table): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

function collapseRow(c: Analysis["collapses"][number], r: CollapseResult | null, form: CollapseForm): Cell[] {
  return [
    c.width,
    c.depth,
    c.pTrain,
    c.pRange[0],
    c.pRange[1],
    form,
    r?.pc,
    r?.pcErr,
    r?.nu,
    r?.nuErr,
    r?.beta,
    r?.betaErr,
    r?.sigma,
    r?.sigmaErr,
    r?.n0,
    r?.n0Err,
    r?.b,
    r?.bErr,
    r?.chi2,
    r?.dof,
    r?.cost,
    r?.aic,
    r?.predictiveChi2,
    r?.predictiveLogScore,
    r?.errorMethod,
    r?.confident,
    c.preferred,
    r ? r.notes.join("; ") : (c.note ?? "not fitted"),
    r ? collapseNotDetermined(r) : null,
  ];
}

/** Every table of the report. */
export function buildTables(a: Analysis): Table[] {
  const grid = ["width", "depth", "pTrain", "pEval"];
  const lengthParams = [...new Set(a.lengthScaleFits.flatMap((f) => Object.keys(f.params)))].sort();
  return [
    {
      name: "phases",
      title: "Phase labels",
      columns: [...grid, "phase", "rule", "alpha", "alphaCILow", "alphaCIHigh", "lossAtMaxN", "baselinePEval", "reason"],
      rows: a.phases.map((p) => [p.width, p.depth, p.pTrain, p.pEval, p.phase, p.rule, p.alpha, p.alphaCI[0], p.alphaCI[1], p.lossAtMaxN, p.baselinePEval, p.reason]),
    },
    {
      name: "loss-curves",
      title: "Loss curves L(N)",
      columns: [...grid, "n", "loss", "lossStderr", "accuracy", "seeds"],
      rows: a.curves.flatMap((c) => c.points.map((p) => [c.width, c.depth, c.pTrain, c.pEval, p.n, p.mean, p.stderr, p.accuracy, p.seeds.length])),
    },
    {
      name: "scaling-fits",
      title: "Scaling fits",
      columns: [
        ...grid,
        "alpha",
        "alphaErr",
        "alphaCILow",
        "alphaCIHigh",
        "ciLevel",
        "amplitude",
        "chi2",
        "dof",
        "reducedChi2",
        "bootstrapReplicates",
        "tailAlpha",
        "tailAlphaErr",
        "tailNMin",
        "tailNMax",
        "offsetAlpha",
        "offsetAlphaErr",
        "offsetAmplitude",
        "offsetAmplitudeErr",
        "offsetLInf",
        "offsetLInfErr",
        "offsetChi2",
        "offsetDof",
        "offsetReducedChi2",
        "offsetNote",
      ],
      rows: a.fits.map((f) => {
        const p = f.powerLaw;
        const o = f.offset;
        return [
          f.width,
          f.depth,
          f.pTrain,
          f.pEval,
          p.alpha,
          p.alphaErr,
          p.alphaCI[0],
          p.alphaCI[1],
          p.ciLevel,
          p.amplitude,
          p.chi2,
          p.dof,
          p.reducedChi2,
          p.bootstrapReplicates,
          p.tail?.alpha,
          p.tail?.alphaErr,
          p.tail?.nMin,
          p.tail?.nMax,
          o?.alpha,
          o?.alphaErr,
          o?.amplitude,
          o?.amplitudeErr,
          o?.lInf,
          o?.lInfErr,
          o?.chi2,
          o?.dof,
          o?.reducedChi2,
          f.offsetNote,
        ];
      }),
    },
    {
      name: "boundaries",
      title: "Phase boundaries",
      columns: ["width", "depth", "along", "fixed", "critical", "criticalErr", "from", "to", "bracketLow", "bracketHigh", "method", "bootstrapCrossingFraction"],
      rows: a.boundaries.flatMap((b) => [...b.pEvalCritical, ...b.pTrainCritical].map((p) => [b.width, b.depth, p.along, p.fixed, p.critical, p.criticalErr, p.from, p.to, p.bracket[0], p.bracket[1], p.method, p.bootstrapCrossingFraction])),
    },
    {
      name: "crossovers",
      title: "Crossover sizes N*",
      columns: [...grid, "nStar", "lnNStar", "lnNStarErr", "censored", "significant"],
      rows: a.crossovers.map((c) => [c.width, c.depth, c.pTrain, c.pEval, c.nStar, c.lnNStar, c.lnNStarErr, c.censored, c.significant]),
    },
    {
      name: "length-scale-fits",
      title: "Fits of N*(p)",
      columns: ["width", "depth", "pTrain", "form", "pc", "pcErr", ...lengthParams.flatMap((k) => [k, `${k}Err`]), "sigmaFixed", "chi2", "dof", "reducedChi2", "points", "notDetermined"],
      rows: a.lengthScaleFits.map((f) => [f.width, f.depth, f.pTrain, f.form, f.pc, f.pcErr, ...lengthParams.flatMap((k) => [f.params[k], f.paramErrs[k]]), f.sigmaFixed, f.chi2, f.dof, f.reducedChi2, f.points.length, lengthScaleNotDetermined(f)]),
    },
    {
      name: "collapses",
      title: "Finite-size-scaling collapses",
      columns: ["width", "depth", "pTrain", "pLow", "pHigh", "form", "pc", "pcErr", "nu", "nuErr", "beta", "betaErr", "sigma", "sigmaErr", "n0", "n0Err", "b", "bErr", "reducedChi2", "dof", "cost", "aic", "predictiveChi2", "predictiveLogScore", "errorMethod", "confident", "preferred", "notes", "notDetermined"],
      rows: a.collapses.flatMap((c) => COLLAPSE_FORM_LIST.map((form) => collapseRow(c, collapseForms(c)[form], form))),
    },
  ];
}
