import { readFileSync } from "node:fs";
import { fitCollapse, type CollapseDatum } from "../analysis/collapse.js";
import type { CollapseResult } from "../analysis/schema.js";
import { MentiaError } from "../errors.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

/**
 * `mentia collapse FILE.csv --form power|bkt [--json]`: finite-size-scaling collapse of any
 * (size, p, y, dy) data, so data from elsewhere can be checked with mentia's fitter.
 */
const FLAGS: Record<string, FlagSpec> = {
  form: { kind: "string", help: "scaling form: power (y N^(β/ν) vs (p−p_c) N^(1/ν)) or bkt (y N^β vs (p−p_c) (ln(N/N0))^(1/σ))", metavar: "power|bkt" },
  json: { kind: "boolean", help: "print one JSON object instead of text" },
  sigma: { kind: "string", default: "0.5", help: "bkt: σ fixed at this value, or 'fit' to fit it", metavar: "S|fit" },
  beta: { kind: "number", help: "fix the prefactor exponent at this value instead of fitting it (power: β; bkt: β)", metavar: "B" },
  errors: { kind: "string", default: "bootstrap", help: "parameter errors: bootstrap (refits of resampled data) or curvature (χ² Hessian: fast, but local — on this rugged cost it can underestimate errors many-fold)", metavar: "KIND" },
  bootstrap: { kind: "int", default: 40, help: "bootstrap replicates for the errors", metavar: "B" },
  seed: { kind: "int", default: 1, help: "seed of the global search and bootstrap", metavar: "S" },
};

const USAGE = "mentia collapse FILE.csv --form power|bkt [--json]";
const DESCRIPTION = [
  "Finite-size-scaling collapse of the points in FILE.csv (header: size,p,y,dy; one point per row).",
  "Cost: reduced χ² of each point against the linear interpolation of its neighbours in scaling-",
  "variable order, with propagated errors; minimised by a grid + differential evolution + Nelder–Mead.",
  "Prints p_c, the exponents with errors, χ², and whether the collapse supports a confident claim.",
].join("\n");

/** Parses a size,p,y,dy CSV (columns in any order, extra columns ignored). */
export function parseCollapseCsv(text: string, name: string): CollapseDatum[] {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), i: i + 1 })).filter(({ l }) => l !== "" && !l.startsWith("#"));
  if (lines.length === 0) throw new MentiaError(`${name}: empty file (expected a header size,p,y,dy and data rows)`);
  const header = lines[0].l.split(",").map((h) => h.trim().replace(/^"|"$/g, "").toLowerCase());
  const col: Record<string, number> = {};
  for (const k of ["size", "p", "y", "dy"]) {
    const i = header.indexOf(k);
    if (i < 0) throw new MentiaError(`${name}: header '${lines[0].l}' lacks column '${k}' (expected size,p,y,dy)`);
    col[k] = i;
  }
  if (lines.length < 2) throw new MentiaError(`${name}: no data rows after the header`);
  return lines.slice(1).map(({ l, i }) => {
    const cells = l.split(",").map((c) => c.trim());
    if (cells.length !== header.length) throw new MentiaError(`${name}:${i}: ${cells.length} fields, the header has ${header.length}`);
    const num = (k: string): number => {
      const s = cells[col[k]];
      const v = Number(s);
      if (s === "" || !Number.isFinite(v)) throw new MentiaError(`${name}:${i}: ${k} '${s}' is not a finite number`);
      return v;
    };
    return { size: num("size"), p: num("p"), y: num("y"), dy: num("dy") };
  });
}

/** The --json object: the issue's fields first (null where they do not apply), then extras. */
export function collapseJson(r: CollapseResult): Record<string, unknown> {
  return {
    form: r.form,
    pc: r.pc,
    pcErr: r.pcErr,
    nu: r.nu,
    nuErr: r.nuErr,
    beta: r.beta,
    betaErr: r.betaErr,
    sigma: r.sigma,
    sigmaErr: r.sigmaErr,
    chi2: r.chi2,
    points: r.points,
    n0: r.n0,
    n0Err: r.n0Err,
    dof: r.dof,
    overlap: r.overlap,
    confident: r.confident,
    notes: r.notes,
  };
}

function formatText(r: CollapseResult): string {
  const pm = (v: number | null, e: number | null): string => (v === null ? "n/a" : `${v.toPrecision(5)} ± ${e === null ? "?" : e.toPrecision(2)}`);
  const lines = [`form    ${r.form}`, `p_c     ${pm(r.pc, r.pcErr)}`];
  if (r.form === "power") lines.push(`nu      ${pm(r.nu, r.nuErr)}`);
  else lines.push(`sigma   ${r.sigmaErr === null ? `${r.sigma} (fixed)` : pm(r.sigma, r.sigmaErr)}`, `N0      ${pm(r.n0, r.n0Err)}`);
  lines.push(`beta    ${r.betaErr === null ? `${r.beta} (fixed)` : pm(r.beta, r.betaErr)}`);
  lines.push(`chi2    ${r.chi2.toFixed(3)} (reduced, ${r.dof} dof; errors by ${r.errorMethod})`);
  lines.push(r.confident ? "verdict confident collapse" : `verdict no confident claim: ${r.notes.join("; ")}`);
  return lines.join("\n");
}

export const command: Command = {
  summary: "finite-size-scaling collapse (power-law or BKT form) of any size,p,y,dy CSV",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "collapse", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 1, max: 1, what: "one CSV file" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const form = flags.form;
    if (form !== "power" && form !== "bkt") throw new MentiaError(`collapse: --form must be power or bkt${form === undefined ? " (it is required)" : `, got '${String(form)}'`}`);
    const sigmaFlag = String(flags.sigma);
    let sigma: number | null = null;
    if (sigmaFlag !== "fit") {
      sigma = Number(sigmaFlag);
      if (!(sigma > 0) || !Number.isFinite(sigma)) throw new MentiaError(`collapse: --sigma must be a positive number or 'fit', got '${sigmaFlag}'`);
    }
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
    const data = parseCollapseCsv(text, file);
    const beta = flags.beta as number | undefined;
    const result = fitCollapse(data, { form, sigma, fitBeta: beta === undefined, beta, errors, bootstrapReplicates: B, seed: flags.seed as number });
    console.log(flags.json ? JSON.stringify(collapseJson(result)) : formatText(result));
    return 0;
  },
};
