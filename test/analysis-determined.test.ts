import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSummary } from "../src/analysis/analyze.js";
import { collapseNotDetermined, lengthScaleNotDetermined } from "../src/analysis/determined.js";
import { collapseForms, type Analysis, type LengthScaleFit } from "../src/analysis/schema.js";
import { lengthScaleSpec } from "../src/report/figures.js";
import { renderPage } from "../src/report/html.js";
import { emptyMeta } from "../src/report/meta.js";
import { buildTables, toCsv } from "../src/report/tables.js";
import { syntheticReportAnalysis } from "./report-fixture.js";

/** Fits that are not results are shown as "not determined: why", never as a number or a line (issue 15, item 3). */
const points = [
  { p: 0.5, lnNStar: 6, lnNStarErr: 0.2 },
  { p: 0.6, lnNStar: 7, lnNStarErr: 0.2 },
  { p: 0.7, lnNStar: 8.5, lnNStarErr: 0.2 },
];
const good: LengthScaleFit = { width: 32, depth: 2, pTrain: 0, form: "power", pc: 0.8, pcErr: 0.02, params: { pc: 0.8, lnA: 3, nu: 1.2 }, paramErrs: { pc: 0.02, lnA: 0.3, nu: 0.1 }, sigmaFixed: false, chi2: 1.1, dof: 1, reducedChi2: 1.1, points: [...points, { p: 0.75, lnNStar: 9.5, lnNStarErr: 0.2 }] };
// The default study's case: p_c at the far edge of the search (3 × span beyond the data), dof 0, every error null.
const edge: LengthScaleFit = { ...good, form: "bkt", pc: 0.7 + 3 * 0.2, pcErr: null, params: { pc: 1.3, lnN0: 1, b: 2, sigma: 0.5 }, paramErrs: { pc: null, lnN0: null, b: null, sigma: null }, sigmaFixed: true, chi2: 0, dof: 0, reducedChi2: null, points };

test("notDetermined: dof < 1, p_c at the edge of its search range, missing errors; a proper fit passes", () => {
  assert.equal(lengthScaleNotDetermined(good), null);
  assert.match(lengthScaleNotDetermined(edge)!, /degrees of freedom/);
  assert.match(lengthScaleNotDetermined({ ...edge, dof: 2 })!, /edge of its search range/);
  assert.match(lengthScaleNotDetermined({ ...good, pcErr: null, paramErrs: { ...good.paramErrs, pc: null } })!, /error of p_c/);
  assert.match(lengthScaleNotDetermined({ ...good, paramErrs: { ...good.paramErrs, nu: null } })!, /errors of nu/);
  assert.match(lengthScaleNotDetermined({ ...good, pcBound: "upper" })!, /edge of its search range: ≥ 0.800 is a bound/);
});

test("the summary, the report page, figure 4 and the tables show an undetermined fit as 'not determined', without its p_c", () => {
  const base = syntheticReportAnalysis();
  const a: Analysis = { ...base, lengthScaleFits: [edge, good] };
  const text = formatSummary(a);
  assert.match(text, /N\*\(p_eval\) bkt fit at p_train 0: not determined: no degrees of freedom/);
  assert.match(text, /N\*\(p_eval\) power fit at p_train 0: p_c = 0\.800 ± 0\.020/);
  assert.doesNotMatch(text, /1\.300/);

  const spec = JSON.stringify(lengthScaleSpec(a, { width: 32, depth: 2 }, 0));
  assert.match(spec, /BKT fit: not determined/);
  assert.doesNotMatch(spec, /"pc":1\.3/, "no p_c rule drawn for the undetermined fit");
  assert.match(spec, /"pc":0\.8/, "the determined fit is drawn");

  const html = renderPage({ analysis: a, meta: emptyMeta("x", "none"), figures: [], tables: [], createdAt: "2026-01-01T00:00:00Z", renderWarnings: [] });
  assert.match(html, /not determined: no degrees of freedom/);
  assert.doesNotMatch(html, /1\.30? ± /);
  const csv = toCsv(buildTables(a).find((t) => t.name === "length-scale-fits")!);
  assert.match(csv, /not determined|no degrees of freedom/);

  for (const c of base.collapses) for (const r of Object.values(collapseForms(c))) if (r) assert.match(String(collapseNotDetermined({ ...r, dof: 0, pcBound: null, paramsAtBound: [] })), /degrees of freedom/);
  // A parameter other than p_c at its search bound (ν = 10 ± 1e-8 on the default study) is not a result either.
  const c0 = collapseForms(base.collapses[0]).power!;
  assert.match(String(collapseNotDetermined({ ...c0, pcBound: null, paramsAtBound: ["ν"] })), /ν at the edge of its search range/);
});
