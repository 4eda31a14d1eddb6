import { COLLAPSE_FORM_LABEL, COLLAPSE_FORM_LIST, collapseForms, type Analysis, type Architecture, type CollapseResult, type Phase } from "../analysis/schema.js";
import { archKey, archLabel, architectures, PHASE_COLORS, PHASES, pTrainsOf, type Figure, type FigureDims } from "./figures.js";
import { duration, escapeHtml as h, pm, sig } from "./format.js";
import type { ReportMeta } from "./meta.js";
import type { SweepConfig } from "../sweep/config.js";
import { incompleteWarning } from "../analysis/completeness.js";
import { collapseNotDetermined, lengthScaleNotDetermined } from "../analysis/determined.js";
import type { Table } from "./tables.js";

/**
 * The report page: one self-contained HTML file. Figures are inline SVG (rendered in Node),
 * styles and the small control script are inline; the page loads nothing, from anywhere.
 */

/** One rendered variant of a figure. */
export interface RenderedVariant {
  key: string;
  label: string;
  /** Inline SVG markup (ids made unique), or null when the variant is a note. */
  svg: string | null;
  note?: string;
  /** File names (relative to the report folder). */
  svgFile?: string;
  pngFile?: string;
}

export interface RenderedFigure {
  figure: Figure;
  variants: RenderedVariant[];
}

/** One page of the report: the architecture it shows (null: no architecture at all) and its file. */
export interface PageRef {
  arch: Architecture | null;
  file: string;
}

export interface PageInput {
  analysis: Analysis;
  meta: ReportMeta;
  figures: RenderedFigure[];
  tables: Table[];
  /** When the report was written (ISO). */
  createdAt: string;
  /** Problems met while rendering (shown in the page). */
  renderWarnings: string[];
  /** This page and all pages (default: one page, index.html, of the first architecture). */
  page?: PageRef;
  pages?: PageRef[];
}

const CSS = `
:root { --fg: #1d1d1f; --muted: #555; --line: #ddd; --bg2: #f6f6f4; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--fg); margin: 0; line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 0 20px 60px; }
header.top { background: #20252b; color: #fff; padding: 18px 20px; }
header.top h1 { margin: 0; font-size: 22px; }
header.top p { margin: 4px 0 0; color: #c9d1d9; font-size: 13px; }
h2 { font-size: 18px; margin: 30px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; font-size: 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; margin: 8px 0; font-size: 14px; }
.warn { color: #8a4b00; }
.banner { background: #fdecea; border: 2px solid #c62828; color: #5f1010; padding: 10px 14px; margin: 16px 0 8px; font-size: 15px; }
.banner ul { margin: 6px 0 0; padding-left: 20px; font-size: 14px; }
nav.controls { position: sticky; top: 0; z-index: 5; background: rgba(255,255,255,0.96); border-bottom: 1px solid var(--line); padding: 8px 0; display: flex; flex-wrap: wrap; gap: 18px; align-items: center; font-size: 14px; }
nav.controls select { font-size: 14px; padding: 2px 4px; }
nav.controls .hint { color: var(--muted); font-size: 12.5px; }
section.figure { margin: 12px 0 28px; scroll-margin-top: 56px; }
section.figure .caption { color: #333; font-size: 14px; max-width: 900px; margin: 4px 0 10px; }
.variant svg { max-width: 100%; height: auto; display: block; }
ul.phases { margin: 4px 0 8px; padding-left: 22px; }
.files { font-size: 12.5px; color: var(--muted); margin: 4px 0 0; }
.files a { color: #0b5cad; }
details { margin: 6px 0; }
summary { cursor: pointer; color: #0b5cad; }
[hidden] { display: none !important; }
`;

/** Control-bar script: shows, in every figure, the variant chosen by the selects. */
const SCRIPT = `
(function () {
  var sel = { width: document.getElementById("ctl-width"), depth: document.getElementById("ctl-depth"), pTrain: document.getElementById("ctl-ptrain") };
  var pages = JSON.parse(document.getElementById("pages").textContent), here = document.body.getAttribute("data-arch");
  function archChanged() {
    var k = "w" + sel.width.value + "-d" + sel.depth.value;
    if (k !== here && pages[k]) { location.href = pages[k] + "?pt=" + encodeURIComponent(sel.pTrain.value); return; }
    update();
  }
  var pt = /[?&]pt=([^&]*)/.exec(location.search);
  if (pt && sel.pTrain) for (var i = 0; i < sel.pTrain.options.length; i++) if (sel.pTrain.options[i].value === decodeURIComponent(pt[1])) sel.pTrain.value = sel.pTrain.options[i].value;
  function keyFor(dims) {
    if (dims === "none") return "all";
    var k = "w" + sel.width.value + "-d" + sel.depth.value;
    return dims === "line" ? k + "-pt" + sel.pTrain.value : k;
  }
  function update() {
    var figs = document.querySelectorAll("section.figure[data-dims]");
    for (var i = 0; i < figs.length; i++) {
      var fig = figs[i], key = keyFor(fig.getAttribute("data-dims")), found = false;
      var vs = fig.querySelectorAll(".variant");
      for (var j = 0; j < vs.length; j++) {
        var show = vs[j].getAttribute("data-key") === key;
        vs[j].hidden = !show;
        if (show) found = true;
      }
      var missing = fig.querySelector(".missing");
      if (missing) missing.hidden = found || vs.length === 0;
    }
  }
  if (sel.width) sel.width.addEventListener("change", archChanged);
  if (sel.depth) sel.depth.addEventListener("change", archChanged);
  if (sel.pTrain) sel.pTrain.addEventListener("change", update);
  update();
})();
`;

function phaseSwatch(p: Phase): string {
  return `<span class="swatch" style="background:${PHASE_COLORS[p]}"></span>${p}`;
}

function dd(label: string, value: string): string {
  return `<dt>${h(label)}</dt><dd>${value}</dd>`;
}

/** The training-length policy of a config, in one line. */
export function trainingPolicyLine(c: SweepConfig): string {
  switch (c.policy) {
    case "early-stop":
      return `early stopping: validation on ${c.validation} held-out images every ${c.valEvery === "half-epoch" ? "half epoch (≥ 10 steps)" : c.valEvery === "epoch" ? "epoch (≥ 50 steps)" : `${c.valEvery} steps`}, patience ${c.patience}, at most ${c.maxSteps} steps, best weights evaluated`;
    case "epochs":
      return `${c.epochs} epochs`;
    case "steps":
      return `${c.steps} steps`;
    case "epochs-min-steps":
      return `${c.epochs} epochs but at least ${c.steps} steps`;
    default:
      return "unknown policy";
  }
}

/** The dataset, with mnist-deformed's parameters (the store's word first, analysis.json's otherwise). */
function datasetLine(meta: ReportMeta, analysis: Analysis): string {
  const name = meta.dataset ?? analysis.dataset ?? "unknown (not recorded: mnist before datasets were recorded)";
  const d = meta.config?.deformation;
  return d ? `${name} (deformation: ${Object.entries(d).map(([k, v]) => `${k} ${v}`).join(", ")}; samples past the first 60,000 − validation are deformed copies)` : name;
}

function runSection(meta: ReportMeta, analysis: Analysis): string {
  const j = meta.jobs;
  const jobs = [`${j.done} done`, `${j.failed} failed`];
  if (j.running) jobs.push(`${j.running} running`);
  if (j.pending) jobs.push(`${j.pending} not run`);
  if (j.outOfPlan) jobs.push(`${j.outOfPlan} kept from an earlier config (not used)`);
  const planned = j.planned === null ? "" : ` of ${j.planned} planned`;
  const c = meta.config;
  const grid = c
    ? `${c.widths.length} width × ${c.depths.length} depth × ${c.pTrain.length} p_train × ${c.sizes.length} N × ${c.seeds.length} seed trainings, each evaluated at ${c.pEval.length} p_eval`
    : "unknown (no config stored)";
  const rows: string[] = [
    dd("sweep directory", `<code>${h(meta.sweepDir)}</code>`),
    dd("dataset", h(datasetLine(meta, analysis))),
    dd("grid", h(grid)),
    dd("jobs", h(`${jobs.join(", ")}${planned}`)),
    dd("training", h(c ? `${trainingPolicyLine(c)}; data draw ${c.dataDraw}` : "unknown (no config stored)")),
    ...(analysis.evalMode ? [dd("eval mode", h(`${analysis.evalMode}${analysis.modes ? ` (this page; the sweep also has ${analysis.modes.slice(1).map((m) => m.evalMode).join(", ")}: figures 1c and 1d)` : ""}`))] : []),
    dd("wall time", h(meta.elapsedSeconds === null ? "unknown" : `${duration(meta.elapsedSeconds)} (first job start → last job finish${meta.firstStart ? `: ${meta.firstStart} → ${meta.lastFinish}` : ""})`)),
    dd("work", h(`${duration(meta.workSeconds)} summed over jobs`)),
    dd("engine", h(meta.engines.length ? meta.engines.join(", ") : "unknown")),
    dd("versions", meta.versions.length ? meta.versions.map((v) => h(v)).join("<br>") : "unknown"),
    dd(`dataset checksums${meta.dataset ?? analysis.dataset ? ` (${meta.dataset ?? analysis.dataset})` : ""}`, meta.checksums ? Object.entries(meta.checksums).map(([f, s]) => `<code>${h(f)}</code> <code>${h(s)}</code>`).join("<br>") : "not recorded"),
    dd("analysis", h(`${analysis.createdAt}, schema ${analysis.schemaVersion}, ${analysis.input.records} records, CI level ${analysis.options.ciLevel}, ${analysis.options.bootstrapReplicates} bootstrap replicates`)),
  ];
  let out = `<section id="run"><h2>Run</h2><dl class="meta">${rows.join("")}</dl>`;
  for (const n of meta.notes) out += `<p class="note">${h(n)}</p>`;
  if (c) {
    out += `<details><summary>configuration</summary><table><tbody>${Object.entries(c)
      .map(([k, v]) => `<tr><th>${h(k)}</th><td class="mono">${h(Array.isArray(v) ? v.join(", ") : String(v))}</td></tr>`)
      .join("")}</tbody></table></details>`;
  }
  if (meta.training.length > 0) {
    const multiArch = new Set(meta.training.map((t) => `${t.width}x${t.depth}`)).size > 1;
    out += `<details><summary>training length per N (${h(c ? trainingPolicyLine(c) : "policy not recorded")})</summary><table><thead><tr>${multiArch ? "<th>width</th><th>depth</th>" : ""}<th>p_train</th><th>N</th><th>jobs</th><th>steps trained</th><th>weights evaluated: step (epoch)</th><th>best validation loss</th><th>stopped by</th></tr></thead><tbody>${meta.training
      .map(
        (t) =>
          `<tr>${multiArch ? `<td>${t.width}</td><td>${t.depth}</td>` : ""}<td>${t.pTrain}</td><td>${t.n}</td><td>${t.jobs}</td><td>${t.meanSteps.toFixed(0)}</td><td>${t.meanBestStep.toFixed(0)} (${t.meanBestEpoch.toFixed(1)})</td><td>${t.meanBestValLoss === null ? "—" : t.meanBestValLoss.toFixed(4)}</td><td>${h(
            Object.entries(t.stoppedBy)
              .map(([k, v]) => `${k} ${v}`)
              .join(", "),
          )}</td></tr>`,
      )
      .join("")}</tbody></table><p class="note">Means over seeds. Early stopping evaluates the weights of the best validation step, not the last ones (docs/protocol.md).</p></details>`;
  }
  if (meta.failures.length > 0) {
    const shown = meta.failures.slice(0, 50);
    out += `<details open><summary class="warn">${meta.failures.length} failed job${meta.failures.length === 1 ? "" : "s"}</summary><table><thead><tr><th>job</th><th>key</th><th>reason</th></tr></thead><tbody>${shown
      .map((f) => `<tr><td>${h(f.job)}</td><td class="mono">${h(f.key)}</td><td>${h(f.error)}</td></tr>`)
      .join("")}</tbody></table>${meta.failures.length > shown.length ? `<p>… and ${meta.failures.length - shown.length} more ('mentia status DIR' lists them)</p>` : ""}</details>`;
  }
  return out + "</section>";
}

function howSection(analysis: Analysis): string {
  const o = analysis.options;
  const ci = Math.round(o.ciLevel * 100);
  return `<section id="how"><h2>How to read this</h2>
<p>Each network (width, depth) is trained with dropout rate <i>p_train</i> on the first <i>N</i> MNIST training images and then evaluated on the 10,000 test images with a fraction <i>p_eval</i> of its hidden neurons removed. For every (p_train, p_eval) the test loss <i>L</i> is followed as <i>N</i> grows and fitted with a power law <i>L</i> ∝ <i>N</i><sup>−α</sup>; the exponent α and its confidence interval decide the phase:</p>
<ul class="phases">
<li>${phaseSwatch("eumentia")}: α is significantly positive (its ${ci}% CI lies above ${o.eumentiaMinAlpha}) — more data keeps helping.</li>
<li>${phaseSwatch("dementia")}: the same network without removal learns (eumentia at p_eval ≈ 0), but at this p_eval more data does not help: α ≤ 0, flat, or rising with N beyond a crossover size N*.</li>
<li>${phaseSwatch("amentia")}: the network does not learn even without removal (loss near chance, ln 10 ≈ 2.30).</li>
<li>${phaseSwatch("uncertain")}: the evidence does not decide.</li>
</ul>
<p>Error bars and bands are ± 1 standard error (1σ) unless marked as ${ci}% confidence intervals. Hover over a point or cell for its values; choose the architecture and p_train with the controls above the figures. Every figure is also saved as SVG and PNG next to this page, and every table as CSV.</p></section>`;
}

function summarySection(analysis: Analysis, archs: Architecture[], warnings: string[], pages: PageRef[]): string {
  let out = `<section id="summary"><h2>Summary</h2>`;
  if (analysis.phases.length > 0) {
    out += `<table><thead><tr><th>architecture</th>${PHASES.map((p) => `<th>${phaseSwatch(p)}</th>`).join("")}<th>grid points</th></tr></thead><tbody>`;
    for (const a of archs) {
      const labels = analysis.phases.filter((p) => p.width === a.width && p.depth === a.depth);
      const file = pages.find((p) => p.arch && archKey(p.arch) === archKey(a))?.file;
      const name = pages.length > 1 && file ? `<a href="${h(file)}">${h(archLabel(a))}</a>` : h(archLabel(a));
      out += `<tr><td>${name}</td>${PHASES.map((p) => `<td class="num">${labels.filter((l) => l.phase === p).length}</td>`).join("")}<td class="num">${labels.length}</td></tr>`;
    }
    out += `</tbody></table>`;
  } else out += `<p class="note">The analysis labelled no grid point.</p>`;
  const bRows = analysis.boundaries.flatMap((b) =>
    [...b.pEvalCritical, ...b.pTrainCritical].map(
      (p) => `<tr><td>${h(archLabel(b))}</td><td>${h(p.along === "pEval" ? `p_eval,c at p_train = ${p.fixed}` : `p_train,c at p_eval = ${p.fixed}`)}</td><td class="num">${h(pm(p.critical, p.criticalErr))}</td><td>${h(`${p.from} → ${p.to}`)}</td><td>${h(p.method)}</td></tr>`,
    ),
  );
  if (bRows.length > 0) {
    out += `<details${bRows.length <= 12 ? " open" : ""}><summary>${bRows.length} boundary crossing${bRows.length === 1 ? "" : "s"} (± 1σ)</summary><table><thead><tr><th>architecture</th><th>crossing</th><th>critical value</th><th>boundary</th><th>method</th></tr></thead><tbody>${bRows.join("")}</tbody></table></details>`;
  }
  const cRows = analysis.collapses.map((c) => {
    const chi = (r: CollapseResult | null): string => (r ? `${sig(r.chi2)}${r.confident ? "" : " (not confident)"}` : "—");
    // A fit that is not a result (determined.ts) shows why instead of its numbers.
    const cells = (r: CollapseResult | null): string => {
      const why = r ? collapseNotDetermined(r) : null;
      if (r && why) return `<td colspan="2">${h(`not determined: ${why}`)}</td>`;
      return `<td class="num">${h(r ? pm(r.pc, r.pcErr) : "—")}</td><td class="num">${h(chi(r))}</td>`;
    };
    const fs = collapseForms(c);
    return `<tr><td>${h(archLabel(c))}</td><td class="num">${c.pTrain}</td>${COLLAPSE_FORM_LIST.map((f) => cells(fs[f])).join("")}<td>${h(c.preferred)}</td></tr>`;
  });
  if (cRows.length > 0) {
    out += `<details open><summary>collapse comparison (every form)</summary><table><thead><tr><th>architecture</th><th>p_train</th>${COLLAPSE_FORM_LIST.map((f) => `<th>${h(COLLAPSE_FORM_LABEL[f])} p_c</th><th>${h(COLLAPSE_FORM_LABEL[f])} χ²/dof</th>`).join("")}<th>preferred</th></tr></thead><tbody>${cRows.join("")}</tbody></table></details>`;
  }
  const lRows = analysis.lengthScaleFits.map((f) => {
    const why = lengthScaleNotDetermined(f);
    const form = f.form === "bkt" ? "BKT" : "power law";
    const value = why ? `<td colspan="2">${h(`not determined: ${why}`)}</td>` : `<td class="num">${h(pm(f.pc, f.pcErr))}</td><td class="num">${h(`${sig(f.chi2)} / ${f.dof}`)}</td>`;
    return `<tr><td>${h(archLabel(f))}</td><td class="num">${f.pTrain}</td><td>${h(form)}</td>${value}</tr>`;
  });
  if (lRows.length > 0) {
    out += `<details open><summary>fits of the crossover size N*(p_eval)</summary><table><thead><tr><th>architecture</th><th>p_train</th><th>form</th><th>p_c (± 1σ)</th><th>χ² / dof</th></tr></thead><tbody>${lRows.join("")}</tbody></table></details>`;
  }
  const all = [...analysis.warnings.map((w) => `analysis: ${w}`), ...warnings.map((w) => `report: ${w}`)];
  if (all.length > 0) {
    out += `<details><summary class="warn">${all.length} warning${all.length === 1 ? "" : "s"}</summary><ul>${all.map((w) => `<li>${h(w)}</li>`).join("")}</ul></details>`;
  }
  return out + "</section>";
}

function option(value: string, label: string, selected: boolean): string {
  return `<option value="${h(value)}"${selected ? " selected" : ""}>${h(label)}</option>`;
}

/** The p_train first shown: the first line with a boundary along p_eval, else the first. */
function defaultPTrain(analysis: Analysis, arch: Architecture | undefined, pTrains: number[]): number | undefined {
  if (!arch) return pTrains[0];
  const b = analysis.boundaries.find((x) => x.width === arch.width && x.depth === arch.depth);
  const withBoundary = b?.pEvalCritical.find((p) => p.from === "eumentia" && p.to === "dementia") ?? b?.pEvalCritical[0];
  return withBoundary && pTrains.includes(withBoundary.fixed) ? withBoundary.fixed : pTrains[0];
}

function controls(analysis: Analysis, archs: Architecture[], here: Architecture | undefined, split: boolean): { html: string; defaults: { arch?: Architecture; pTrain?: number } } {
  const widths = [...new Set(archs.map((a) => a.width))].sort((a, b) => a - b);
  const depths = [...new Set(archs.map((a) => a.depth))].sort((a, b) => a - b);
  const pTrains = [...new Set(archs.flatMap((a) => pTrainsOf(analysis, a)))].sort((a, b) => a - b);
  const arch = here;
  const pTrain = defaultPTrain(analysis, arch, pTrains);
  const html = `<nav class="controls" id="controls" aria-label="figure controls">
<label>width <select id="ctl-width">${widths.map((w) => option(String(w), String(w), w === arch?.width)).join("")}</select></label>
<label>depth <select id="ctl-depth">${depths.map((d) => option(String(d), String(d), d === arch?.depth)).join("")}</select></label>
<label>p_train <select id="ctl-ptrain">${pTrains.map((p) => option(String(p), String(p), p === pTrain)).join("")}</select></label>
<span class="hint">${split ? "width and depth open the page of that architecture (one page each, so that each stays quick to open); " : "width and depth choose the phase diagram, curves and accuracy map; "}p_train chooses the curve plots (figures 2–5)</span>
</nav>`;
  return { html, defaults: { arch, pTrain } };
}

function defaultKey(dims: FigureDims, d: { arch?: Architecture; pTrain?: number }): string {
  if (dims === "none") return "all";
  if (!d.arch) return "";
  return dims === "arch" ? archKey(d.arch) : `${archKey(d.arch)}-pt${d.pTrain}`;
}

function figureSection(f: RenderedFigure, defaults: { arch?: Architecture; pTrain?: number }): string {
  const fig = f.figure;
  let out = `<section class="figure" id="${h(fig.id)}" data-dims="${fig.dims}"><h2>${h(fig.title)}</h2><p class="caption">${h(fig.caption)}</p>`;
  if (fig.note) out += `<p class="note figure-note">${h(fig.note)}</p>`;
  const shownKey = defaultKey(fig.dims, defaults);
  for (const v of f.variants) {
    const hidden = v.key === shownKey ? "" : " hidden";
    if (v.svg) {
      // Shown a quarter larger than the SVG's own size (which is what the PNG/SVG files have).
      const w = Number(/^<svg[^>]*\swidth="([0-9.]+)"/.exec(v.svg)?.[1]);
      const svg = Number.isFinite(w) && w > 0 ? v.svg.replace(/^<svg/, `<svg style="width:${Math.round(w * 1.25)}px"`) : v.svg;
      const files = [v.svgFile && `<a href="${h(v.svgFile)}">SVG</a>`, v.pngFile && `<a href="${h(v.pngFile)}">PNG</a>`].filter(Boolean).join(" · ");
      out += `<div class="variant" data-key="${h(v.key)}"${hidden}>${svg}<p class="files">${h(v.label)} — ${files}</p></div>`;
    } else {
      out += `<div class="variant variant-note" data-key="${h(v.key)}"${hidden}><p class="note">${h(v.label)}: ${h(v.note ?? "no plot")}</p></div>`;
    }
  }
  if (f.variants.length > 0) out += `<p class="note missing" hidden>No data for this choice of width / depth / p_train.</p>`;
  return out + "</section>";
}

function tablesSection(tables: Table[]): string {
  const items = tables.map((t) => `<li><a href="${h(t.name)}.csv">${h(t.name)}.csv</a> — ${h(t.title)} (${t.rows.length} row${t.rows.length === 1 ? "" : "s"})</li>`);
  return `<section id="tables"><h2>Tables</h2><p>Every number behind the figures, as CSV files next to this page:</p><ul>${items.join("")}</ul></section>`;
}

function optionsSection(analysis: Analysis): string {
  const rows = Object.entries(analysis.options).map(([k, v]) => `<tr><th>${h(k)}</th><td class="mono">${h(String(v))}</td></tr>`);
  const input = analysis.input;
  return `<section id="options"><h2>Analysis settings</h2><details><summary>thresholds and numerical settings used by 'mentia analyze'</summary><table><tbody>${rows.join("")}</tbody></table>
<p class="mono">widths ${h(input.widths.join(", "))}; depths ${h(input.depths.join(", "))}; p_train ${h(input.pTrains.join(", "))}; p_eval ${h(input.pEvals.join(", "))}; N ${h(input.sizes.join(", "))}; seeds ${h(input.seeds.join(", "))}</p></details></section>`;
}

/** A banner at the top of the page when the analysed sweep is unfinished (or the run says so). */
export function partialBanner(analysis: Analysis, meta: ReportMeta): string {
  const c = analysis.completeness;
  const lines: string[] = [];
  if (c && !c.complete) lines.push(...c.missing.map((m) => `missing: ${m}`), ...c.excluded.map((m) => `left out: ${m}`));
  const j = meta.jobs;
  const unfinished = j.pending + j.running + j.failed;
  if (!(c && !c.complete) && unfinished === 0) return "";
  const head = c && !c.complete ? incompleteWarning(c) : `INCOMPLETE SWEEP: ${j.done} trainings done, ${unfinished} not finished (${j.pending} not run, ${j.running} running, ${j.failed} failed). The analysis may describe part of the study only.`;
  const shown = lines.slice(0, 20);
  const more = lines.length > shown.length ? `<li>… and ${lines.length - shown.length} more (see the warnings under Summary)</li>` : "";
  return `<div class="banner" role="alert" id="partial"><strong>${h(head)}</strong>${shown.length ? `<ul>${shown.map((l) => `<li>${h(l)}</li>`).join("")}${more}</ul>` : ""}</div>`;
}

export function renderPage(input: PageInput): string {
  const { analysis, meta } = input;
  const archs = architectures(analysis);
  const pages = input.pages ?? [{ arch: archs[0] ?? null, file: "index.html" }];
  const page = input.page ?? pages[0];
  const ctl = controls(analysis, archs, page.arch ?? undefined, pages.length > 1);
  const pageMap = JSON.stringify(Object.fromEntries(pages.filter((p) => p.arch).map((p) => [archKey(p.arch as Architecture), p.file]))).replace(/</g, "\\u003c");
  const title = `mentia report — ${meta.sweepDir}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mentia report">
<title>${h(title)}</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body data-arch="${page.arch ? h(archKey(page.arch)) : ""}">
<script type="application/json" id="pages">${pageMap}</script>
<header class="top"><h1>mentia report: pruning-induced phases on MNIST${pages.length > 1 && page.arch ? ` — ${h(archLabel(page.arch))}` : ""}</h1><p>sweep <code>${h(meta.sweepDir)}</code> · report written ${h(input.createdAt)} · analysis ${h(analysis.createdAt)}</p></header>
<main>
${partialBanner(analysis, meta)}
${runSection(meta, analysis)}
${howSection(analysis)}
${summarySection(analysis, archs, input.renderWarnings, pages)}
<h2 id="figures">Figures</h2>
${ctl.html}
${input.figures.map((f) => figureSection(f, ctl.defaults)).join("\n")}
${tablesSection(input.tables)}
${optionsSection(analysis)}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
