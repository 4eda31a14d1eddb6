/** Figure 5: the finite-size-scaling collapse, power law, BKT and BKT in ξ side by side. */
import type { TopLevelSpec } from "vega-lite";
import { COLLAPSE_FORM_LIST, collapseForms, type CollapseComparison, type CollapseForm, type CollapseResult } from "../../analysis/schema.js";
import { pm, sig } from "../format.js";
import { collapseNotDetermined } from "../../analysis/determined.js";
import { archLabel, base, wrap, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 5. Collapse: power law and BKT side by side
// ---------------------------------------------------------------------------------------------

export function collapseTitle(r: CollapseResult): string[] {
  const lines = [`p_c = ${pm(r.pc, r.pcErr)}`];
  if (r.form === "power") lines.push(`ν = ${pm(r.nu, r.nuErr)},  β = ${pm(r.beta, r.betaErr)}`);
  else if (r.form === "bkt-xi") lines.push(`b = ${pm(r.b ?? null, r.bErr ?? null)},  σ = ${pm(r.sigma, r.sigmaErr)},  β = ${pm(r.beta, r.betaErr)}`);
  else {
    lines.push(r.sigmaErr === null && r.sigma !== null ? `σ = ${sig(r.sigma)} (fixed),  β = ${pm(r.beta, r.betaErr)}` : `σ = ${pm(r.sigma, r.sigmaErr)},  β = ${pm(r.beta, r.betaErr)}`);
    lines.push(`N₀ = ${pm(r.n0, r.n0Err)}`);
  }
  lines.push(`χ²/dof = ${sig(r.chi2)} (dof ${r.dof});  errors: ${r.errorMethod}`);
  lines.push(r.confident ? "confident collapse" : "not confident");
  return lines;
}

type Form = CollapseForm;
const FORM_NAME: Record<Form, string> = { power: "Power-law form", bkt: "BKT form", "bkt-xi": "BKT form in ξ" };

function collapsePanel(c: CollapseComparison, form: Form): Obj {
  const r = collapseForms(c)[form];
  const name = FORM_NAME[form];
  const why = r ? collapseNotDetermined(r) : null;
  if (!r || why) {
    const text = r ? `not determined: ${why}` : `no ${name.toLowerCase()} collapse: ${c.note ?? "the fit did not run"}`;
    return {
      title: { text: name, subtitle: r ? "not determined" : "no result" },
      width: 320,
      height: 260,
      data: { values: wrap(text, 48).map((t, i) => ({ text: t, line: i })) },
      mark: { type: "text", fontSize: 12, color: "#555", align: "center" },
      encoding: { text: { field: "text" }, y: { field: "line", type: "ordinal", axis: null } },
    };
  }
  const all = r.points.map((p) => ({ x: p.x, y: p.y, lo: p.y - p.dy, hi: p.y + p.dy, dy: p.dy, size: p.size, p: p.p }));
  // bkt-xi: a grid value of p_eval (almost) at p_c has ln ξ → ∞ and an x far from every other
  // point, which would squeeze the rest into one column; such points are left out of the plot
  // (not of the fit) and the subtitle says how many.
  const xs = all.map((q) => Math.abs(q.x)).sort((a, b) => a - b);
  const typical = xs[Math.floor(0.5 * (xs.length - 1))] || 1;
  const rows = form === "bkt-xi" ? all.filter((q) => Number.isFinite(q.x) && Math.abs(q.x) <= 100 * typical) : all;
  const xTitle = form === "power" ? "(p_eval − p_c)·N^(1/ν)" : form === "bkt" ? "(p_eval − p_c)·(ln(N/N₀))^(1/σ)" : "ln N − b·|p_eval − p_c|^(−σ)";
  const yTitle = form === "power" ? "L·N^(β/ν)" : "L·N^β";
  const color = { field: "size", type: "ordinal", title: "N", scale: { scheme: "viridis" } };
  const logY = form === "bkt-xi" && rows.every((q) => q.lo > 0);
  const subtitle = collapseTitle(r);
  if (!r.confident && r.notes.length > 0) subtitle.push(...wrap(r.notes[0], 52).slice(0, 3));
  // A fit that is not confident (χ² too high, p_c outside the data's p range, …) must not look
  // like a collapse: its points are drawn grey and faint, without the per-N colours.
  const clean = r.confident;
  const pointColor = clean ? color : { value: "#999" };
  if (rows.length < all.length) subtitle.push(`${all.length - rows.length} point(s) at p_eval ≈ p_c (|x| > 100× the median |x|) not drawn`);
  return {
    title: { text: clean ? name : `${name} — NOT A CONFIDENT COLLAPSE`, subtitle, subtitleLineHeight: 14, ...(clean ? {} : { color: "#a00" }) },
    width: 320,
    height: 260,
    layer: [
      { data: { values: rows }, mark: { type: "rule", strokeWidth: 1, opacity: clean ? 0.8 : 0.3 }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: pointColor } },
      {
        data: { values: rows },
        mark: { type: "point", filled: true, size: 30, opacity: clean ? 0.9 : 0.35 },
        encoding: {
          x: { field: "x", type: "quantitative", title: xTitle, scale: { zero: false } },
          // bkt-xi's L·N^β spans decades when β ≈ 1: a log axis, when every point is positive.
          y: { field: "y", type: "quantitative", title: yTitle, scale: logY ? { type: "log" } : { zero: false } },
          color: pointColor,
          tooltip: [
            { field: "size", title: "N" },
            { field: "p", title: "p_eval" },
            { field: "x", title: xTitle, format: ".4g" },
            { field: "y", title: yTitle, format: ".4g" },
            { field: "dy", title: "± (1σ)", format: ".3g" },
          ],
        },
      },
    ],
  };
}

export function collapseSpec(c: CollapseComparison): TopLevelSpec {
  // Panels only for the forms with a determined fit (no empty panels); the others are named,
  // with why, in the figure's subtitle. With none, one text panel says why.
  const fits = collapseForms(c);
  const shown = COLLAPSE_FORM_LIST.filter((f) => fits[f] !== null && collapseNotDetermined(fits[f] as CollapseResult) === null);
  const missing = COLLAPSE_FORM_LIST.filter((f) => !shown.includes(f)).map((f) => {
    const r = fits[f];
    return `${FORM_NAME[f]}: ${r ? `not determined (${collapseNotDetermined(r)})` : "no result"}`;
  });
  const panels = shown.length > 0 ? shown.map((f) => collapsePanel(c, f)) : [collapsePanel(c, "power")];
  // Same number of subtitle lines in both panels, so that the two plots line up.
  const subs = panels.map((p) => (p.title as { subtitle: string | string[] }).subtitle);
  const lines = Math.max(...subs.map((x) => (Array.isArray(x) ? x.length : 1)));
  panels.forEach((p, i) => {
    const sub = subs[i];
    const arr = Array.isArray(sub) ? [...sub] : [sub];
    while (arr.length < lines) arr.push("\u200b"); // zero-width space: a blank line that vega does not trim
    (p.title as { subtitle: string[] }).subtitle = arr;
  });
  return base({
    title: {
      text: `Finite-size-scaling collapse — ${archLabel(c)}, p_train = ${c.pTrain}, p_eval ∈ [${sig(c.pRange[0])}, ${sig(c.pRange[1])}]`,
      // Wrapped to the width of the panels (a long note on one line made the figure twice as wide as its plots).
      subtitle: wrap(`preferred form: ${c.preferred}${c.note ? ` — ${c.note}` : ""}${missing.length ? `. Not drawn: ${missing.join("; ")}` : ""}`, 110),
    },
    // Two panels a row: three side by side would be scaled down below 10 px text on the page.
    concat: panels,
    columns: 2,
    spacing: 40,
    resolve: { scale: { color: "shared" }, legend: { color: "shared" } },
  });
}
