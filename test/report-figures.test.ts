import { collapseNotDetermined } from "../src/analysis/determined.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, type TopLevelSpec } from "vega-lite";
import { collapseForms, type Analysis } from "../src/analysis/schema.js";
import { lengthScaleNotDetermined } from "../src/analysis/determined.js";
import { renderFigureSvg } from "../src/report/build.js";
import {
  accuracySpec,
  alphaVsPEvalSpec,
  architectures,
  boundaryFamily,
  boundaryOverlaySpec,
  buildFigures,
  collapseSpec,
  gridAxis,
  lengthScaleCurve,
  lossVsNSpec,
  phaseDiagramSpec,
  pTrainsOf,
  spreadLabels,
  wrap,
} from "../src/report/figures.js";
import { duration, pm, sig } from "../src/report/format.js";
import { addTooltips, fontSetup, prefixSvgIds, rasterize, roundSvgGeometry, svgToPng } from "../src/report/render.js";
import { buildTables, toCsv } from "../src/report/tables.js";
import { bareAnalysis, SMALL_GRID, syntheticReportAnalysis } from "./report-fixture.js";

/**
 * Fast checks of the report's parts: number formatting, the grid axes and label spreading,
 * every figure spec compiling without a warning, rendered SVGs holding one data mark per
 * datum with a hover title, text in the PNGs, and the CSV tables.
 */
const A: Analysis = syntheticReportAnalysis();
const ARCH = architectures(A)[0];

function vlWarnings(spec: TopLevelSpec): string[] {
  const out: string[] = [];
  const logger = {
    level(l?: number) {
      return l === undefined ? 2 : logger;
    },
    error(...a: unknown[]) {
      out.push(a.map(String).join(" "));
      return logger;
    },
    warn(...a: unknown[]) {
      out.push(a.map(String).join(" "));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  compile(spec, { logger });
  return out;
}

async function svgOf(spec: TopLevelSpec): Promise<string> {
  const captured = { warnings: [] as string[] };
  const svg = addTooltips(await renderFigureSvg(spec, "test", captured));
  assert.deepEqual(captured.warnings, []);
  return svg;
}

/** Asserts that an SVG contains a pattern (without printing the whole SVG on failure). */
function has(svg: string, re: RegExp): void {
  assert.ok(re.test(svg), `SVG does not contain ${re}`);
}

/** Data marks of a rendered SVG by vega's role description ("point", or "rect" for "rect mark"...). */
/** The drawn elements (with their hover title, if any) of every data mark of one Vega-Lite mark type. */
function marks(svg: string, role: string): string[] {
  const type = role === "point" ? "symbol" : role;
  const groups = [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, "g"))].map((m) => m[1]);
  return groups.flatMap((g) => [...g.matchAll(/<(path|line|text|rect)\b[^>]*?(?:\/>|>.*?<\/\1>)/g)].map((m) => m[0]));
}

test("format: values with errors to the error's precision, durations, significant digits", () => {
  assert.equal(pm(0.41234, 0.02131), "0.412 ± 0.021");
  assert.equal(pm(12.345, 1.6), "12.3 ± 1.6");
  assert.equal(pm(1234.4, 123), "1234 ± 123");
  assert.equal(pm(0.5, null), "0.5 ± ?");
  assert.equal(pm(null, 0.1), "n/a");
  assert.equal(pm(0.4, 1e-11), "0.4 ± 1.0e-11");
  assert.equal(sig(0.000012345, 3), "1.23e-5");
  assert.equal(sig(2.30258509, 3), "2.3");
  assert.equal(duration(42.25), "42.3 s");
  assert.equal(duration(200), "3 min 20 s");
  assert.equal(duration(3720), "1 h 02 min");
});

test("gridAxis: drawn to scale — cells centred on the grid values, halfway to their neighbours, ticks at the values", () => {
  const g = gridAxis([0.9, 0, 0.5, 0.95, 0.5], "p", 500, "x");
  assert.deepEqual(g.values, [0, 0.5, 0.9, 0.95]);
  assert.deepEqual(g.cell(0), [-0.25, 0.25]);
  assert.deepEqual(g.cell(0.5), [0.25, 0.7]);
  assert.ok(Math.abs(g.cell(0.9)[1] - 0.925) < 1e-12 && Math.abs(g.cell(0.95)[0] - 0.925) < 1e-12);
  assert.ok(Math.abs(g.cell(0.95)[1] - 0.975) < 1e-12);
  const ch = g.channel as { scale: { domain: number[] }; axis: { values: number[]; labelAngle: number } };
  assert.deepEqual(ch.scale.domain.map((x) => Number(x.toFixed(12))), [-0.25, 0.975]);
  assert.deepEqual(ch.axis.values, [0, 0.5, 0.9, 0.95]);
  // 0.9 → 0.95 is 20 px at 500 px over 1.225: too tight for horizontal "0.95" labels.
  assert.equal(ch.axis.labelAngle, -90);
  assert.equal((gridAxis([0, 0.5, 1], "p", 500, "x").channel as { axis: { labelAngle?: number } }).axis.labelAngle, undefined);
  const one = gridAxis([0.3], "p", 400, "y");
  assert.deepEqual(one.cell(0.3).map((x) => Number(x.toFixed(12))), [0.25, 0.35]);
});

test("spreadLabels: separated labels stay put; crowded ones are spread by the gap around their mean, order kept", () => {
  assert.deepEqual(spreadLabels([0, 5, 10], 1), [0, 5, 10]);
  const s = spreadLabels([1, 1.1, 1.2, 7], 1);
  assert.ok(Math.abs(s[0] - 0.1) < 1e-12 && Math.abs(s[1] - 1.1) < 1e-12 && Math.abs(s[2] - 2.1) < 1e-12, String(s));
  assert.equal(s[3], 7);
  const r = spreadLabels([3, 0.5, 0.45, 0.55, 0.6], 0.2);
  const sorted = [...r].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i] - sorted[i - 1] >= 0.2 - 1e-12);
  assert.ok(r[2] < r[1] && r[1] < r[3] && r[3] < r[4], "order kept");
});

test("boundaryFamily and wrap", () => {
  assert.equal(boundaryFamily({ from: "eumentia", to: "dementia" }), "eumentia–dementia boundary");
  assert.equal(boundaryFamily({ from: "eumentia", to: "uncertain" }), "edge of an uncertain region");
  assert.equal(boundaryFamily({ from: "dementia", to: "amentia" }), "amentia boundary");
  assert.deepEqual(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
});

test("figures: every variant of every figure has a spec that compiles without a warning", () => {
  const figs = buildFigures(A);
  assert.deepEqual(
    figs.map((f) => f.id),
    ["fig1-phase-diagram", "fig1b-boundary-overlay", "fig1c-boundary-across", "fig2-loss-vs-n", "fig2b-loss-relative", "fig3-alpha-vs-peval", "fig4-length-scale", "fig5-collapse", "fig6-accuracy"],
  );
  const archs = architectures(A);
  const lines = archs.flatMap((a) => pTrainsOf(A, a)).length;
  const counts = Object.fromEntries(figs.map((f) => [f.id, f.variants.length]));
  assert.deepEqual(counts, { "fig1-phase-diagram": archs.length, "fig1b-boundary-overlay": 1, "fig1c-boundary-across": archs.length, "fig2-loss-vs-n": lines, "fig2b-loss-relative": lines, "fig3-alpha-vs-peval": lines, "fig4-length-scale": lines, "fig5-collapse": lines, "fig6-accuracy": archs.length });
  for (const f of figs) {
    for (const v of f.variants) {
      if (!v.spec) {
        assert.ok(v.note, `${f.id} ${v.key}: neither spec nor note`);
        continue;
      }
      assert.deepEqual(vlWarnings(v.spec), [], `${f.id} ${v.key}`);
    }
  }
  // The fixture has one collapse: the other lines say why there is none.
  const fig5 = figs.find((f) => f.id === "fig5-collapse")!;
  assert.equal(fig5.variants.filter((v) => v.spec).length, A.collapses.length);
});

test("figures without data say so instead of failing", () => {
  const bare = bareAnalysis(A);
  const figs = buildFigures(bare);
  const byId = Object.fromEntries(figs.map((f) => [f.id, f]));
  assert.match(byId["fig1b-boundary-overlay"].note ?? "", /No phase boundary/);
  assert.match(byId["fig4-length-scale"].note ?? "", /non-monotonic/);
  assert.match(byId["fig5-collapse"].note ?? "", /No finite-size-scaling collapse/);
  for (const id of ["fig1b-boundary-overlay", "fig4-length-scale", "fig5-collapse"]) assert.equal(byId[id].variants.length, 0);
  assert.equal(byId["fig1c-boundary-across"], undefined, "no boundaries: no overlay across architectures");
  for (const id of ["fig1-phase-diagram", "fig2-loss-vs-n", "fig2b-loss-relative", "fig3-alpha-vs-peval", "fig6-accuracy"]) assert.ok(byId[id].variants.every((v) => v.spec));
  assert.equal(phaseDiagramSpec({ ...bare, phases: [] }, ARCH), null);
  assert.equal(lossVsNSpec(bare, { width: 999, depth: 1 }, 0), null);
});

test("phase diagram: one cell per label, coloured by its phase, and the boundary crossings drawn with errors", async () => {
  const labels = A.phases.filter((p) => p.width === ARCH.width && p.depth === ARCH.depth);
  const b = A.boundaries.find((x) => x.width === ARCH.width && x.depth === ARCH.depth)!;
  const svg = await svgOf(phaseDiagramSpec(A, ARCH)!);
  const cells = marks(svg, "rect");
  assert.equal(cells.length, labels.length);
  for (const phase of ["eumentia", "dementia", "amentia"]) {
    const n = labels.filter((l) => l.phase === phase).length;
    assert.ok(n > 0, `fixture has ${phase}`);
    assert.equal(cells.filter((c) => c.includes(`phase: ${phase}`)).length, n, phase);
  }
  const crossings = b.pEvalCritical.length + b.pTrainCritical.length;
  assert.equal(marks(svg, "point").length, crossings);
  assert.equal(marks(svg, "rule").length, crossings, "one error bar per crossing");
  const decided = b.pEvalCritical.filter((p) => p.from !== "uncertain" && p.to !== "uncertain");
  assert.equal(marks(svg, "line").length, new Set(decided.map((p) => boundaryFamily(p))).size + (b.pTrainCritical.some((p) => boundaryFamily(p) === "amentia boundary") ? 1 : 0));
  has(svg, /p_train \(training dropout\)/);
  has(svg, /p_eval \(evaluation removal\)/);
  has(svg, /α \(shading\)/);
  // Every data mark has a hover title with its values.
  const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
  assert.equal(titles.length, svg.match(/role="graphics-symbol"/g)!.length);
});

test("loss vs N: one point and one error bar per (p_eval, N), power-law fits on log-log axes", async () => {
  const pTrain = pTrainsOf(A, ARCH)[1];
  const curves = A.curves.filter((c) => c.width === ARCH.width && c.depth === ARCH.depth && c.pTrain === pTrain);
  const svg = await svgOf(lossVsNSpec(A, ARCH, pTrain)!);
  const nPoints = curves.reduce((a, c) => a + c.points.length, 0);
  assert.equal(marks(svg, "point").length, nPoints);
  assert.equal(marks(svg, "rule").length, nPoints);
  assert.equal(marks(svg, "line").length, 2 * curves.length, "data line + fitted power law per curve");
  assert.equal(marks(svg, "text").length, curves.length, "one label per curve");
  has(svg, /N \(training-set size\)/);
  has(svg, /L \(test cross-entropy, nats\)/);
  // A log axis: tick labels spanning decades.
  has(svg, />1,000</);
});

test("α vs p_eval: CI bars, zero line, and the boundary band where α crosses zero", async () => {
  const pTrain = pTrainsOf(A, ARCH)[0];
  const fits = A.fits.filter((f) => f.width === ARCH.width && f.depth === ARCH.depth && f.pTrain === pTrain);
  const crit = A.boundaries.find((b) => b.width === ARCH.width)!.pEvalCritical.filter((p) => p.fixed === pTrain);
  assert.ok(crit.length > 0);
  const svg = await svgOf(alphaVsPEvalSpec(A, ARCH, pTrain)!);
  assert.equal(marks(svg, "point").length, fits.length);
  assert.equal(marks(svg, "rect").length, crit.length);
  assert.equal(marks(svg, "rule").length, fits.length + 1 + crit.length);
});

test("N* figure: censored points marked, BKT and power-law curves follow their formulas", async () => {
  const f = A.lengthScaleFits.find((x) => x.form === "bkt")!;
  assert.ok(f, "fixture has a BKT fit");
  const p = f.points[0].p;
  assert.ok(Math.abs(lengthScaleCurve(f, p)! - (f.params.lnN0 + f.params.b * Math.pow(Math.abs(p - f.pc), -f.params.sigma))) < 1e-12);
  assert.equal(lengthScaleCurve(f, f.pc), null);
  const figs = buildFigures(A);
  const v = figs.find((x) => x.id === "fig4-length-scale")!.variants.find((x) => x.key === `w${f.width}-d${f.depth}-pt${f.pTrain}`)!;
  const svg = await svgOf(v.spec!);
  const cross = A.crossovers.filter((c) => c.width === f.width && c.depth === f.depth && c.pTrain === f.pTrain);
  // left panel: every N*; right panel (BKT test): the N* on the dementia side of p_c, against |p − p_c|^(−σ)
  const panels = (v.spec as unknown as { hconcat: { layer: { data: { values: Record<string, number>[] }; mark: { type: string } }[] }[] }).hconcat;
  assert.equal(panels.length, 2);
  has(svg, /BKT test: ln N\* against/);
  const right = panels[1].layer.find((l) => l.mark.type === "point")!.data.values;
  assert.ok(right.length >= 1 && right.length <= cross.length);
  assert.equal(marks(svg, "point").length, cross.length + right.length);
  // p_c and σ of the BKT test come from the BKT fit when it is a result, else from the boundary crossing
  if (lengthScaleNotDetermined(f) === null) {
    has(svg, /from the BKT fit of N\*\(p\)/);
    for (const q of right) assert.ok(Math.abs(q.x - Math.pow(Math.abs(q.p - f.pc), -f.params.sigma)) < 1e-9);
    // the fitted BKT form is a straight line in these coordinates
    const line = panels[1].layer.find((l) => l.mark.type === "line")!.data.values;
    const slope = (i: number): number => (Math.log(line[i + 1].nStar) - Math.log(line[i].nStar)) / (line[i + 1].x - line[i].x);
    for (let i = 0; i < line.length - 1; i++) assert.ok(Math.abs(slope(i) - f.params.b) < 1e-6 * (1 + Math.abs(f.params.b)));
  } else has(svg, /no BKT fit of N\*\(p\) is a result here/);
  // A fit that is a result is drawn with its label; one that is not says why (determined.ts).
  for (const fit of A.lengthScaleFits.filter((x) => x.width === f.width && x.depth === f.depth && x.pTrain === f.pTrain)) {
    const name = fit.form === "bkt" ? "BKT" : "power law";
    if (lengthScaleNotDetermined(fit) === null) {
      has(svg, new RegExp(`${name}: p_c = `));
      has(svg, /χ²(\/dof)? = /);
    } else has(svg, new RegExp(`${fit.form === "bkt" ? "BKT" : "power-law"} fit: not determined`));
  }
});

test("boundaries across architectures (fig. 1c): one panel per shared width (colour = depth) or depth (colour = width), each with exactly its architectures", () => {
  const fig = buildFigures(A).find((x) => x.id === "fig1c-boundary-across")!;
  for (const a of architectures(A)) {
    const v = fig.variants.find((x) => x.key === `w${a.width}-d${a.depth}`)!;
    const sameDepth = new Set(A.boundaries.filter((b) => b.depth === a.depth).map((b) => b.width));
    const sameWidth = new Set(A.boundaries.filter((b) => b.width === a.width).map((b) => b.depth));
    if (!v.spec) {
      assert.ok(sameDepth.size < 2 && sameWidth.size < 2);
      continue;
    }
    const panels = (v.spec as unknown as { hconcat: { title: { text: string }; layer: { encoding: { color: { field: string; scale: { domain: string[] } } } }[] }[] }).hconcat;
    assert.equal(panels.length, (sameDepth.size > 1 ? 1 : 0) + (sameWidth.size > 1 ? 1 : 0));
    for (const p of panels) {
      const color = p.layer[p.layer.length - 1].encoding.color;
      const want = color.field === "width" ? [...sameDepth].sort((x, y) => x - y).map((w) => `width ${w}`) : [...sameWidth].sort((x, y) => x - y).map((d) => `depth ${d}`);
      assert.deepEqual(color.scale.domain, want, p.title.text);
    }
  }
});

test("collapse figure: a panel per determined form (two a row), parameters ± errors and χ²; an undetermined or missing form named as such, never drawn", async () => {
  const c = A.collapses[0];
  const svg = await svgOf(collapseSpec(c));
  has(svg, /Power-law form/);
  has(svg, /BKT form/);
  has(svg, /BKT form in ξ/);
  const forms = Object.values(collapseForms(c));
  const determined = forms.filter((r): r is NonNullable<typeof r> => r !== null && collapseNotDetermined(r) === null);
  assert.ok(determined.length > 0, "the fixture has a determined collapse");
  has(svg, /p_c = [0-9.]+ ± [0-9.e-]+/);
  has(svg, /χ²\/dof = /);
  if (determined.length < forms.length) has(svg, /not determined/);
  // Points only for the determined fits: an undetermined one is text, not a picture of a result.
  assert.equal(marks(svg, "point").length, determined.reduce((n, r) => n + r.points.length, 0));
  // Sized to its panels: a long note wraps instead of widening the figure (it was 1882 px for two panels, right 45 % empty).
  const width = Number(/^<svg[^>]*\swidth="([0-9.]+)"/.exec(svg)![1]);
  assert.ok(width < 1100, `collapse figure ${width} px wide`);
  // A missing form is named in the subtitle (no empty panel), not a crash.
  const half = await svgOf(collapseSpec({ ...c, forms: { ...collapseForms(c), bkt: null }, note: "BKT fit failed" }));
  has(half, /BKT form: no result/);
  assert.equal(marks(half, "point").length, determined.filter((r) => r.form !== "bkt").reduce((n, r) => n + r.points.length, 0));
});

test("accuracy heat map: one cell and one label per (p_train, p_eval) at the largest N", async () => {
  const curves = A.curves.filter((c) => c.width === ARCH.width && c.depth === ARCH.depth);
  const svg = await svgOf(accuracySpec(A, ARCH)!);
  assert.equal(marks(svg, "rect").length, curves.length);
  assert.match(svg, new RegExp(`N = ${Math.max(...SMALL_GRID.sizes)}`));
});

test("SVG post-processing: unique ids with their references, titles on data marks", () => {
  const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><path aria-label="a: 1" role="graphics-symbol" d="M0"/><use href="#clip1"/></g></svg>';
  const out = prefixSvgIds(addTooltips(svg), "fig-x");
  assert.match(out, /id="fig-x-clip1"/);
  assert.match(out, /url\(#fig-x-clip1\)/);
  assert.match(out, /href="#fig-x-clip1"/);
  assert.match(out, /<path role="graphics-symbol" d="M0"><title>a: 1<\/title><\/path>/);
});

test("SVG geometry is rounded to 0.01 px, text untouched", () => {
  const svg = '<g transform="translate(12.000000000000009,-0.0000001)"><path d="M0.123456,1.5L3.14159,2"/><text x="1.23456">p_c = 0.4930123 ± 0.0028</text></g>';
  assert.equal(roundSvgGeometry(svg), '<g transform="translate(12,0)"><path d="M0.12,1.5L3.14,2"/><text x="1.23">p_c = 0.4930123 ± 0.0028</text></g>');
});

test("PNG: text is drawn with the machine's fonts", () => {
  const fonts = fontSetup();
  assert.ok(fonts.files > 0, "no fonts under /usr/share/fonts (install fonts-dejavu-core)");
  const text = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/><text x="10" y="28" font-family="sans-serif" font-size="20">α = 0.42 ± 0.01</text></svg>';
  const blank = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/></svg>';
  const dark = (svg: string): number => {
    const px = rasterize(svg, 1).pixels;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 128 && px[i + 3] > 0) n++;
    return n;
  };
  assert.equal(dark(blank), 0);
  assert.ok(dark(text) > 150, `text drew ${dark(text)} dark pixels`);
  assert.equal(svgToPng(blank).subarray(1, 4).toString(), "PNG");
});

test("tables: CSV with quoting, empty fields for nulls, one row per item", () => {
  const tables = buildTables(A);
  const byName = Object.fromEntries(tables.map((t) => [t.name, t]));
  assert.equal(byName.phases.rows.length, A.phases.length);
  assert.equal(byName["loss-curves"].rows.length, A.curves.reduce((a, c) => a + c.points.length, 0));
  assert.equal(byName["scaling-fits"].rows.length, A.fits.length);
  assert.equal(byName.boundaries.rows.length, A.boundaries.reduce((a, b) => a + b.pEvalCritical.length + b.pTrainCritical.length, 0));
  assert.equal(byName.collapses.rows.length, 3 * A.collapses.length);
  for (const t of tables) for (const r of t.rows) assert.equal(r.length, t.columns.length, t.name);
  const csv = toCsv({ name: "x", title: "x", columns: ["a", "b", "c"], rows: [["p, q", 'say "hi"', null], [1.5, Number.NaN, true]] });
  assert.equal(csv, 'a,b,c\n"p, q","say ""hi""",\n1.5,,true\n');
});

test("boundary overlay: axes to scale with room beyond the last grid value, so edge markers are not cut", () => {
  const spec = boundaryOverlaySpec(A)! as unknown as { layer: Array<{ encoding?: { y?: { scale?: { domain?: number[] } } } }> };
  const dom = spec.layer.map((l) => l.encoding?.y?.scale?.domain).find(Boolean)!;
  const pEvals = A.input.pEvals;
  assert.ok(dom[1] > Math.max(...pEvals) && dom[0] < Math.min(...pEvals), `y domain ${dom} around ${pEvals}`);
});
