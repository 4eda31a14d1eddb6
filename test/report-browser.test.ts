import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { buildReport } from "../src/report/build.js";
import { fixtureMeta, syntheticReportAnalysis } from "./report-fixture.js";

/**
 * End to end in a real browser: a report built from a small analysis (synthetic records
 * with all three phases, two architectures) is opened from disk in Debian's headless
 * Chromium. Every figure must have rendered (an SVG with data marks), the page must log no
 * error and request nothing but the file itself, and choosing another p_train must change
 * the curve plots. A screenshot is saved next to the report.
 *
 * Chromium is required: CI installs it (apt-get install chromium); a missing browser is a
 * failure, not a skip.
 */
const CHROMIUM = process.env.MENTIA_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Fixed per user, so the screenshot stays for a look after the run without piling up. */
const ROOT = join(tmpdir(), `mentia-report-browser-${process.getuid?.() ?? "user"}`);

test("report in headless Chromium: figures render, no errors, no network, controls switch plots, screenshot", { timeout: 240_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  const analysis = syntheticReportAnalysis();
  const result = await buildReport(analysis, fixtureMeta(join(ROOT, "sweep")), join(ROOT, "sweep", "report"), { pngScale: 1 });
  assert.deepEqual(result.warnings, []);

  const profile = mkdtempSync(join(tmpdir(), "mentia-chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const foreign: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      requests.push(r.url());
      if (!/^(file|data):/.test(r.url())) foreign.push(r.url());
    });
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));

    const url = pathToFileURL(result.indexPath).href;
    await page.goto(url, { waitUntil: "load" });
    await page.waitForTimeout(200);

    // Every figure: each plotted variant is an SVG with data marks; the shown one has a size.
    const figures = await page.$$eval("section.figure", (sections) =>
      sections.map((s) => {
        const variants = [...s.querySelectorAll(".variant")].map((v) => {
          const svg = v.querySelector("svg");
          // Data marks (vega's role descriptions "point", "rect mark", "line mark", ...), not axes/legends/titles.
          const data = svg ? [...svg.querySelectorAll('[role="graphics-symbol"]')].filter((e) => /^(point|[a-z]+ mark)$/.test(e.getAttribute("aria-roledescription") ?? "")) : [];
          const marks = data.length;
          const titles = data.filter((e) => e.querySelector(":scope > title")?.textContent).length;
          const box = svg && !(v as HTMLElement).hidden ? svg.getBoundingClientRect() : null;
          const shapes = svg ? [...svg.querySelectorAll("path, rect, line")].filter((e) => (e as SVGGraphicsElement).getBBox().width + (e as SVGGraphicsElement).getBBox().height > 0).length : 0;
          return { key: v.getAttribute("data-key"), hidden: (v as HTMLElement).hidden, svg: Boolean(svg), marks, titles, shapes, w: box?.width ?? 0, h: box?.height ?? 0, note: v.textContent?.trim().slice(0, 80) };
        });
        return { id: s.id, variants, note: s.querySelector(".figure-note")?.textContent ?? null };
      }),
    );
    const ids = figures.map((f) => f.id);
    assert.deepEqual(ids, ["fig1-phase-diagram", "fig1b-boundary-overlay", "fig1c-boundary-across", "fig2-loss-vs-n", "fig2b-loss-relative", "fig3-alpha-vs-peval", "fig4-length-scale", "fig5-collapse", "fig6-accuracy"]);
    for (const f of figures) {
      const plotted = f.variants.filter((v) => v.svg);
      assert.ok(plotted.length > 0, `${f.id}: no plot at all (${f.note ?? "no note"})`);
      for (const v of plotted) {
        assert.ok(v.marks > 0, `${f.id} ${v.key}: SVG without data marks`);
        assert.equal(v.titles, v.marks, `${f.id} ${v.key}: every data mark has a hover title`);
      }
      const shown = f.variants.filter((v) => !v.hidden);
      assert.equal(shown.length, 1, `${f.id}: exactly one variant shown, got ${shown.map((v) => v.key).join(", ")}`);
      if (shown[0].svg) {
        assert.ok(shown[0].w > 200 && shown[0].h > 150, `${f.id}: shown plot has size ${shown[0].w}×${shown[0].h}`);
        assert.ok(shown[0].shapes > 10, `${f.id}: shown plot drew ${shown[0].shapes} shapes`);
      }
    }

    // Text in the shown plots is at least 10 px on the page (font size × the scale the page draws the SVG at).
    const smallest = await page.$$eval("section.figure .variant:not([hidden]) svg", (svgs) =>
      svgs.map((svg) => {
        const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute("width"));
        const sizes = [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize || t.getAttribute("font-size") || "0"));
        return { id: svg.closest("section")!.id, px: Math.min(...sizes) * scale };
      }),
    );
    for (const s of smallest) assert.ok(s.px >= 10, `${s.id}: smallest text ${s.px.toFixed(1)} px on the page`);

    // Choosing another p_train switches the curve plots (figures 2–5), not the phase diagram.
    const shownKey = (id: string) => page.$eval(`#${id}`, (s) => [...s.querySelectorAll(".variant")].find((v) => !(v as HTMLElement).hidden)?.getAttribute("data-key") ?? null);
    const shownSvg = (id: string) => page.$eval(`#${id}`, (s) => [...s.querySelectorAll(".variant")].find((v) => !(v as HTMLElement).hidden)?.innerHTML ?? "");
    const before = { key: await shownKey("fig2-loss-vs-n"), svg: await shownSvg("fig2-loss-vs-n"), phase: await shownKey("fig1-phase-diagram") };
    const current = await page.$eval("#ctl-ptrain", (s) => (s as HTMLSelectElement).value);
    const other = (await page.$$eval("#ctl-ptrain option", (os) => os.map((o) => (o as HTMLOptionElement).value))).find((v) => v !== current);
    assert.ok(other !== undefined, "a second p_train to choose");
    await page.click("#ctl-ptrain");
    await page.selectOption("#ctl-ptrain", other);
    const after = { key: await shownKey("fig2-loss-vs-n"), svg: await shownSvg("fig2-loss-vs-n"), phase: await shownKey("fig1-phase-diagram") };
    assert.notEqual(after.key, before.key, "fig2 shows another variant");
    assert.ok(after.key?.endsWith(`-pt${other}`), `fig2 shows p_train ${other}: ${after.key}`);
    assert.notEqual(after.svg, before.svg, "fig2's plot changed");
    assert.equal(after.phase, before.phase, "the phase diagram does not depend on p_train");
    // The width control opens the page of the other architecture (one page per architecture),
    // keeping the chosen p_train.
    assert.deepEqual(result.pages, ["index.html", "w64-d2.html"]);
    const widths = await page.$$eval("#ctl-width option", (os) => os.map((o) => (o as HTMLOptionElement).value));
    await Promise.all([page.waitForURL(/w64-d2\.html/), page.selectOption("#ctl-width", widths[widths.length - 1])]);
    await page.waitForLoadState("load");
    assert.equal(await shownKey("fig1-phase-diagram"), `w${widths[widths.length - 1]}-d2`);
    assert.equal(await shownKey("fig2-loss-vs-n"), `w${widths[widths.length - 1]}-d2-pt${other}`);
    assert.equal(await page.$$eval("#fig1-phase-diagram .variant", (vs) => vs.length), 1, "a page holds its own architecture's plots only");

    // Hovering a data point shows its values (SVG <title>, the browser's tooltip).
    const hoverTitle = await page.$eval("#fig2-loss-vs-n .variant:not([hidden]) [role='graphics-symbol'][aria-roledescription='point'] > title", (t) => t.textContent ?? "");
    assert.match(hoverTitle, /p_eval: .*N: .*L: /);

    const shot = join(result.outDir, "screenshot.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);

    assert.deepEqual(errors, [], "no console errors or warnings");
    assert.deepEqual(foreign, [], "no network requests");
    const pageUrls = result.pages.map((f) => pathToFileURL(join(result.outDir, f)).href);
    assert.ok(requests.every((u) => pageUrls.includes(u.replace(/\?.*$/, "")) || u.startsWith("data:")), `only the report's pages were loaded: ${requests.join(", ")}`);
    console.log(`# report ${result.indexPath} (${result.figureFiles.length / 2} figures, built in ${result.seconds.toFixed(1)} s); screenshot ${shot}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
