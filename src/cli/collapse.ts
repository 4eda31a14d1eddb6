import { readFileSync } from "node:fs";
import { compareCollapseForms, fitCollapse, type CollapseCostKind, type CollapseDatum, type CollapseForm, type CollapseOptions, type CollapseReplicates } from "../analysis/collapse.js";
import { aggregateSeeds, type SeedRow } from "../analysis/seeds.js";
import type { CollapseResult } from "../analysis/schema.js";
import { AnalysisRng, analysisStreamSeed } from "../analysis/stats.js";
import { MentiaError } from "../errors.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

/**
 * `mentia collapse FILE.csv --form power|bkt|bkt-xi | --compare [--json]`: finite-size-scaling
 * collapse of any (size, p, y, dy) or (size, p, y, seed) data, so data from elsewhere can be
 * checked with mentia's fitter. Methods: docs/analysis.md.
 */
const FLAGS: Record<string, FlagSpec> = {
  form: { kind: "string", help: "scaling form: power (y N^(β/ν) vs (p−p_c) N^(1/ν)), bkt (y N^β vs (p−p_c) (ln(N/N0))^(1/σ)) or bkt-xi (y N^β vs ln N − b|p−p_c|^(−σ))", metavar: "FORM" },
  compare: { kind: "boolean", help: "fit every form and say which the data prefer (AIC + out-of-sample check), or 'undecided' and why" },
  json: { kind: "boolean", help: "print one JSON object instead of text" },
  cost: { kind: "string", default: "gp", help: "collapse cost: gp (Gaussian-process master curve, hyper-parameters by marginal likelihood; calibrated on coarse grids), hh (Houdayer–Hartmann: each point against the straight lines between the other sizes' points) or neighbour (its two neighbours of any size, as hainingpan/FSS)", metavar: "gp|hh|neighbour" },
  sigma: { kind: "string", help: "σ fixed at this value, or 'fit' (defaults: bkt 0.5, bkt-xi fit)", metavar: "S|fit" },
  side: { kind: "string", help: "bkt-xi: side of p_c where ξ is finite (default: both tried)", metavar: "low|high" },
  beta: { kind: "number", help: "fix the prefactor exponent at this value instead of fitting it (power: β; bkt, bkt-xi: β)", metavar: "B" },
  errors: { kind: "string", default: "bootstrap", help: "parameter errors: bootstrap (refits of resampled data: seeds when the CSV has a seed column, else y + dy·ε) or curvature (Hessian of the cost: fast; for gp the Laplace approximation of the likelihood, which is smooth; for hh local — on that rugged cost it can underestimate errors many-fold)", metavar: "KIND" },
  bootstrap: { kind: "int", default: 40, help: "bootstrap replicates for the errors", metavar: "B" },
  seed: { kind: "int", default: 1, help: "seed of the global search and bootstrap", metavar: "S" },
};

const USAGE = "mentia collapse FILE.csv (--form power|bkt|bkt-xi | --compare) [--json]";
const DESCRIPTION = [
  "Finite-size-scaling collapse of the points in FILE.csv: header size,p,y,dy (one point per row) or",
  "size,p,y,seed (one row per seed: y and dy are the mean and pooled error over seeds, and parameter",
  "errors come from refitting seed-resampled data, seeds drawn jointly for every size and p).",
  "Cost: Houdayer–Hartmann χ² (each point against the interpolation of the other sizes' curves).",
  "--compare fits power, bkt and bkt-xi; --json then prints {preferred, reason, forms: {...}}.",
  "Methods and validation: docs/analysis.md.",
].join("\n");

export interface CollapseCsv {
  data: CollapseDatum[];
  /** Seed-bootstrap replicates when the file has a seed column. */
  seedRows: SeedRow[] | null;
}

/** Parses a size,p,y,dy or size,p,y,seed CSV (columns in any order, extra columns ignored). */
export function parseCollapseCsvFile(text: string, name: string): CollapseCsv {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), i: i + 1 })).filter(({ l }) => l !== "" && !l.startsWith("#"));
  if (lines.length === 0) throw new MentiaError(`${name}: empty file (expected a header size,p,y,dy or size,p,y,seed and data rows)`);
  const header = lines[0].l.split(",").map((h) => h.trim().replace(/^"|"$/g, "").toLowerCase());
  const hasSeed = header.includes("seed");
  const col: Record<string, number> = {};
  for (const k of ["size", "p", "y", ...(hasSeed ? ["seed"] : ["dy"])]) {
    const i = header.indexOf(k);
    if (i < 0) throw new MentiaError(`${name}: header '${lines[0].l}' lacks column '${k}' (expected size,p,y,dy or size,p,y,seed)`);
    col[k] = i;
  }
  if (lines.length < 2) throw new MentiaError(`${name}: no data rows after the header`);
  const rows = lines.slice(1).map(({ l, i }) => {
    const cells = l.split(",").map((c) => c.trim());
    if (cells.length !== header.length) throw new MentiaError(`${name}:${i}: ${cells.length} fields, the header has ${header.length}`);
    const num = (k: string): number => {
      const s = cells[col[k]];
      const v = Number(s);
      if (s === "" || !Number.isFinite(v)) throw new MentiaError(`${name}:${i}: ${k} '${s}' is not a finite number`);
      return v;
    };
    return hasSeed ? { size: num("size"), p: num("p"), y: num("y"), dy: NaN, seed: num("seed") } : { size: num("size"), p: num("p"), y: num("y"), dy: num("dy"), seed: NaN };
  });
  if (!hasSeed) return { data: rows.map(({ size, p, y, dy }) => ({ size, p, y, dy })), seedRows: null };
  return { data: [], seedRows: rows.map(({ size, p, y, seed }) => ({ size, p, y, seed })) };
}

/** Parses a size,p,y,dy CSV (kept for callers that only handle dy files). */
export function parseCollapseCsv(text: string, name: string): CollapseDatum[] {
  const f = parseCollapseCsvFile(text, name);
  if (f.seedRows) throw new MentiaError(`${name}: has a seed column; expected size,p,y,dy`);
  return f.data;
}

/** The --json object of one form: the issue's fields first (null where they do not apply), then extras. */
export function collapseJson(r: CollapseResult): Record<string, unknown> {
  return {
    form: r.form,
    pc: r.pc,
    pcErr: r.pcErr,
    pcCI: r.pcCI ?? null,
    pcBound: r.pcBound ?? null,
    nu: r.nu,
    nuErr: r.nuErr,
    beta: r.beta,
    betaErr: r.betaErr,
    sigma: r.sigma,
    sigmaErr: r.sigmaErr,
    sigmaHalfInCI: r.sigmaHalfInCI ?? null,
    n0: r.n0,
    n0Err: r.n0Err,
    b: r.b ?? null,
    bErr: r.bErr ?? null,
    side: r.side ?? null,
    chi2: r.chi2,
    dof: r.dof,
    chi2Total: r.chi2Total ?? null,
    parameters: r.parameters ?? null,
    aic: r.aic ?? null,
    predictiveChi2: r.predictiveChi2 ?? null,
    predictiveDof: r.predictiveDof ?? null,
    predictiveLogScore: r.predictiveLogScore ?? null,
    logLikelihood: r.logLikelihood ?? null,
    cost: r.cost ?? null,
    scored: r.scored ?? null,
    excludedNoBracket: r.excludedNoBracket ?? null,
    excludedCriticalSide: r.excludedCriticalSide ?? null,
    errorMethod: r.errorMethod,
    overlap: r.overlap,
    confident: r.confident,
    notes: r.notes,
    points: r.points,
  };
}

const pm = (v: number | null | undefined, e: number | null | undefined): string => (v === null || v === undefined ? "n/a" : `${v.toPrecision(5)} ± ${e === null || e === undefined ? "?" : e.toPrecision(2)}`);

function formatText(r: CollapseResult): string {
  const pcLine = r.pcBound ? `${r.pc.toPrecision(5)} (at the ${r.pcBound} edge of the search range: a bound, not a value)` : pm(r.pc, r.pcErr);
  const lines = [`form    ${r.form}`, `p_c     ${pcLine}`];
  if (r.form === "power") lines.push(`nu      ${pm(r.nu, r.nuErr)}`);
  else {
    const s = r.sigmaErr === null ? `${r.sigma} (fixed)` : `${pm(r.sigma, r.sigmaErr)}  (σ = 1/2 ${r.sigmaHalfInCI ? "inside" : "outside"} its ${(r.ciLevel ?? 0.95) * 100}% interval)`;
    lines.push(`sigma   ${s}`);
    if (r.form === "bkt") lines.push(`N0      ${pm(r.n0, r.n0Err)}`);
    else lines.push(`b       ${pm(r.b, r.bErr)}  (ξ finite for p ${r.side === "low" ? "<" : ">"} p_c; ${r.excludedCriticalSide ?? 0} point(s) on the critical side excluded)`);
  }
  lines.push(`beta    ${r.betaErr === null ? `${r.beta} (fixed)` : pm(r.beta, r.betaErr)}`);
  lines.push(r.cost === "gp" ? `chi2    ${r.chi2.toFixed(3)} (reduced, ${r.dof} dof; gp cost: each size predicted by the master curve of the others, ${r.scored ?? "?"} points; ln L ${r.logLikelihood?.toFixed(1) ?? "?"}; errors by ${r.errorMethod})` : `chi2    ${r.chi2.toFixed(3)} (reduced, ${r.dof} dof; ${r.cost ?? "hh"} cost, ${r.scored ?? "?"} points scored, ${r.excludedNoBracket ?? 0} without an other-size bracket; errors by ${r.errorMethod})`);
  lines.push(`AIC     ${r.aic?.toFixed(1) ?? "n/a"};  out-of-sample χ² of the largest N ${r.predictiveChi2 === null || r.predictiveChi2 === undefined ? "n/a" : `${r.predictiveChi2.toFixed(3)} (${r.predictiveDof} points)`}`);
  lines.push(r.confident ? "verdict confident collapse" : `verdict no confident claim: ${r.notes.join("; ")}`);
  return lines.join("\n");
}

const FORMS: readonly string[] = ["power", "bkt", "bkt-xi"];

export const command: Command = {
  summary: "finite-size-scaling collapse (power-law, BKT or BKT-ξ form, or all compared) of any size,p,y,dy CSV",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "collapse", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one CSV file" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const compare = flags.compare === true;
    const form = flags.form;
    if (compare && form !== undefined) throw new MentiaError("collapse: give either --form or --compare, not both");
    if (!compare && (typeof form !== "string" || !FORMS.includes(form))) throw new MentiaError(`collapse: --form must be power, bkt or bkt-xi${form === undefined ? " (or use --compare)" : `, got '${String(form)}'`}`);
    let sigma: number | null | undefined;
    if (flags.sigma !== undefined) {
      const sigmaFlag = String(flags.sigma);
      if (sigmaFlag === "fit") sigma = null;
      else {
        sigma = Number(sigmaFlag);
        if (!(sigma > 0) || !Number.isFinite(sigma)) throw new MentiaError(`collapse: --sigma must be a positive number or 'fit', got '${sigmaFlag}'`);
      }
    }
    const cost = flags.cost;
    if (cost !== "gp" && cost !== "hh" && cost !== "neighbour") throw new MentiaError(`collapse: --cost must be gp, hh or neighbour, got '${String(cost)}'`);
    const side = flags.side;
    if (side !== undefined && side !== "low" && side !== "high") throw new MentiaError(`collapse: --side must be low or high, got '${String(side)}'`);
    const errors = flags.errors;
    if (errors !== "bootstrap" && errors !== "curvature") throw new MentiaError(`collapse: --errors must be bootstrap or curvature, got '${String(errors)}'`);
    const B = flags.bootstrap as number;
    if (!(B >= 2)) throw new MentiaError(`collapse: --bootstrap must be ≥ 2, got ${B}`);
    const file = positional[0];
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new MentiaError(`collapse: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const csv = parseCollapseCsvFile(text, file);
    let data = csv.data;
    let replicates: CollapseReplicates | undefined;
    if (csv.seedRows) {
      const agg = aggregateSeeds(csv.seedRows, B, new AnalysisRng(analysisStreamSeed(flags.seed as number, "collapse-seeds")));
      data = agg.data;
      if (errors === "bootstrap") replicates = agg.replicates;
    }
    const beta = flags.beta as number | undefined;
    const base: Omit<CollapseOptions, "form"> = { cost: cost as CollapseCostKind, fitBeta: beta === undefined, beta, errors, bootstrapReplicates: B, replicates, seed: flags.seed as number, ...(side ? { side: side as "low" | "high" } : {}) };
    if (compare) {
      const c = compareCollapseForms(data, { ...base, ...(sigma !== undefined ? { bktSigma: sigma, bktXiSigma: sigma } : {}) });
      if (flags.json) {
        const forms: Record<string, unknown> = {};
        for (const f of FORMS) {
          const r = c.forms[f as CollapseForm];
          forms[f] = r ? collapseJson(r) : null;
        }
        console.log(JSON.stringify({ preferred: c.preferred, reason: c.reason, forms }));
      } else {
        const parts = FORMS.map((f) => {
          const r = c.forms[f as CollapseForm];
          return r ? formatText(r) : `form    ${f}\nnot fitted: ${c.failures[f as CollapseForm] ?? "?"}`;
        });
        console.log([...parts, `preferred ${c.preferred}: ${c.reason}`].join("\n\n"));
      }
      return 0;
    }
    const result = fitCollapse(data, { ...base, form: form as CollapseForm, ...(sigma !== undefined ? { sigma } : {}) });
    console.log(flags.json ? JSON.stringify(collapseJson(result)) : formatText(result));
    return 0;
  },
};
