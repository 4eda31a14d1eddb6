import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ANALYSIS_SCHEMA_VERSION, type Analysis, type Architecture } from "../analysis/schema.js";
import { MentiaError } from "../errors.js";
import { archKey, architectures, buildFigures, type Figure } from "./figures.js";
import { renderPage, type PageRef, type RenderedFigure, type RenderedVariant } from "./html.js";
import { readReportMetaOrNote, type ReportMeta } from "./meta.js";
import { RenderPool } from "./pool.js";
import { fontSetup } from "./render.js";
import { buildTables, toCsv } from "./tables.js";

export { renderFigureSvg } from "./vega.js";

/**
 * `buildReport`: analysis.json + run metadata → a report folder:
 *   index.html       the self-contained page of the first architecture (inline SVG, CSS and
 *                    script; no network); w<W>-d<D>.html the page of each other architecture
 *   <figure>.svg/png each figure variant, e.g. fig2-loss-vs-n-w128-d2-pt0.5.svg
 *   <table>.csv      every table
 * The folder is written next to its final place and swapped in at the end, so an
 * interrupted or failed build never leaves a half-written report.
 */
export interface BuildReportOptions {
  /** PNG resolution relative to the SVG (default 2). */
  pngScale?: number;
  /** Report time written into the page (default: now). */
  now?: Date;
  /** Called with one line per finished page (progress). */
  onProgress?: (line: string) => void;
  /** Rendering threads (default: by the number of plots and the cores; 1 = this thread only). */
  threads?: number;
}

export interface ReportResult {
  outDir: string;
  indexPath: string;
  /** Page files (index.html first), one per architecture. */
  pages: string[];
  /** Size of the largest page in bytes. */
  largestPageBytes: number;
  /** Figure files written (relative to outDir). */
  figureFiles: string[];
  tableFiles: string[];
  /** Absolute paths of the phase-diagram PNGs, one per architecture (e.g. for a README). */
  phaseDiagramPngs: string[];
  /** Warnings of the chart compiler / renderer (none expected). */
  warnings: string[];
  seconds: number;
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/** The page of each architecture: the first one is index.html; one page when there is at most one. */
export function reportPages(archs: readonly Architecture[]): PageRef[] {
  if (archs.length === 0) return [{ arch: null, file: "index.html" }];
  return archs.map((arch, i) => ({ arch, file: i === 0 ? "index.html" : `${archKey(arch)}.html` }));
}

/** Whether a figure variant belongs on the page of `arch` (figures of every architecture go on every page). */
function onPage(key: string, arch: Architecture | null): boolean {
  if (key === "all" || arch === null) return true;
  const k = archKey(arch);
  return key === k || key.startsWith(`${k}-pt`);
}

/**
 * The report, drawn so that it scales to a full study (hundreds of plots): every variant is
 * rendered once, on worker threads when there are many, straight into its SVG and PNG files;
 * the page is split per architecture (index.html = the first; the width/depth controls open
 * the others), each page inlining only its own plots, and a page's SVG text is dropped once
 * the page is written, so memory holds one architecture's plots at a time.
 */
export async function buildReport(analysis: Analysis, meta: ReportMeta, outDir: string, options: BuildReportOptions = {}): Promise<ReportResult> {
  const t0 = performance.now();
  const target = resolve(outDir);
  if (existsSync(target) && !statSync(target).isDirectory()) throw new MentiaError(`${outDir} exists and is not a directory`);
  const parent = dirname(target);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (err) {
    throw new MentiaError(`cannot create ${parent} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // Written next to the target, then swapped in.
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}`);
  const old = join(parent, `.${basename(target)}.old-${process.pid}`);
  const warnings: string[] = [];
  const fonts = fontSetup();
  if (fonts.files === 0) warnings.push("no fonts found under /usr/share/fonts: text will be missing from the PNG files (install e.g. fonts-dejavu-core)");

  const figures = buildFigures(analysis);
  const pages = reportPages(architectures(analysis));
  const total = figures.reduce((a, f) => a + f.variants.filter((v) => v.spec).length, 0);
  const pool = new RenderPool(RenderPool.threadsFor(total, options.threads));
  const scale = options.pngScale ?? 2;
  const figureFiles: string[] = [];
  const tables = buildTables(analysis);
  let pageBytes = 0;
  const pageFiles: string[] = [];
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const renderVariants = async (figure: Figure, keep: (key: string) => boolean): Promise<RenderedFigure> => {
      const variants = await Promise.all(
        figure.variants.filter((v) => keep(v.key)).map(async (v): Promise<RenderedVariant> => {
          if (!v.spec) return { key: v.key, label: v.label, svg: null, note: v.note };
          const stem = fileSafe(v.key === "all" ? figure.id : `${figure.id}-${v.key}`);
          const done = await pool.render({ spec: v.spec, stem, dir: tmp, pngScale: scale });
          warnings.push(...done.warnings);
          figureFiles.push(done.svgFile, done.pngFile);
          return { key: v.key, label: v.label, svg: done.svg, svgFile: done.svgFile, pngFile: done.pngFile };
        }),
      );
      return { figure, variants };
    };
    // Figures of all architectures at once (dims "none"): drawn once, shown on every page.
    const shared = new Map<string, RenderedFigure>();
    for (const f of figures.filter((x) => x.dims === "none")) shared.set(f.id, await renderVariants(f, () => true));
    // index.html last, so that its list of warnings is complete.
    for (const page of [...pages.slice(1), pages[0]]) {
      const rendered = await Promise.all(figures.map((f) => shared.get(f.id) ?? renderVariants(f, (key) => onPage(key, page.arch))));
      const html = renderPage({ analysis, meta, figures: rendered, tables, createdAt: (options.now ?? new Date()).toISOString(), renderWarnings: warnings, page, pages });
      writeFileSync(join(tmp, page.file), html);
      pageBytes = Math.max(pageBytes, Buffer.byteLength(html));
      pageFiles.push(page.file);
      options.onProgress?.(`${page.file}: ${rendered.reduce((a, r) => a + r.variants.filter((v) => v.svg).length, 0)} plots`);
    }
    for (const t of tables) writeFileSync(join(tmp, `${t.name}.csv`), toCsv(t));
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    if (err instanceof MentiaError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new MentiaError(`cannot write the report to ${outDir} (${code})`);
    throw err;
  } finally {
    await pool.close();
  }
  figureFiles.sort();
  const tableFiles = tables.map((t) => `${t.name}.csv`);
  const phaseDiagramPngs = figureFiles.filter((f) => f.startsWith("fig1-phase-diagram") && f.endsWith(".png")).map((f) => join(target, f));
  return { outDir: target, indexPath: join(target, "index.html"), pages: pages.map((p) => p.file), largestPageBytes: pageBytes, figureFiles, tableFiles, phaseDiagramPngs, warnings, seconds: (performance.now() - t0) / 1000 };
}

const ARRAYS = ["curves", "fits", "phases", "boundaries", "crossovers", "lengthScaleFits", "collapses", "warnings"] as const;

/** Reads and checks DIR/analysis.json, or another analysis file in DIR (shape only: the analysis stage wrote it). */
export function readAnalysis(dir: string, file = "analysis.json"): Analysis {
  const path = join(dir, file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MentiaError(`${dir}: no such directory`);
  if (!existsSync(path)) throw new MentiaError(`${path} not found: run 'mentia analyze ${dir}' first`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new MentiaError(`${path}: not valid JSON (${(err as Error).message}); rerun 'mentia analyze ${dir}'`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MentiaError(`${path}: not a mentia analysis (expected an object)`);
  const obj = raw as Record<string, unknown>;
  if (obj.schemaVersion !== ANALYSIS_SCHEMA_VERSION) {
    const v = obj.schemaVersion;
    if (typeof v === "number" && v > ANALYSIS_SCHEMA_VERSION) throw new MentiaError(`${path}: analysis schema ${v} is newer than this mentia reads (${ANALYSIS_SCHEMA_VERSION}); update mentia`);
    throw new MentiaError(`${path}: not a mentia analysis of schema ${ANALYSIS_SCHEMA_VERSION} (schemaVersion ${JSON.stringify(v)}); rerun 'mentia analyze ${dir}'`);
  }
  for (const k of ARRAYS) if (!Array.isArray(obj[k])) throw new MentiaError(`${path}: field '${k}' missing or not a list; rerun 'mentia analyze ${dir}'`);
  for (const k of ["options", "input"]) if (typeof obj[k] !== "object" || obj[k] === null) throw new MentiaError(`${path}: field '${k}' missing; rerun 'mentia analyze ${dir}'`);
  return obj as unknown as Analysis;
}

/**
 * The report of the sweep in `dir`: reads DIR/analysis.json and the run metadata from the
 * sweep's store, writes `output` (default DIR/report). What `mentia report DIR` runs.
 */
export async function reportSweep(dir: string, opts: BuildReportOptions & { output?: string; onNote?: (note: string) => void; evalMode?: string } = {}): Promise<ReportResult> {
  let analysis = readAnalysis(dir);
  let output = join(dir, "report");
  if (opts.evalMode !== undefined && opts.evalMode !== analysis.evalMode) {
    // One mode of a multi-mode sweep: its own analysis file, its own report folder.
    const mode = analysis.modes?.find((m) => m.evalMode === opts.evalMode);
    if (!mode) throw new MentiaError(`${join(dir, "analysis.json")} has no eval mode '${opts.evalMode}' (it has ${analysis.modes ? analysis.modes.map((m) => m.evalMode).join(", ") : (analysis.evalMode ?? "one unnamed mode")})`);
    analysis = readAnalysis(dir, mode.file);
    output = join(dir, `report-${mode.evalMode}`);
  }
  const meta = readReportMetaOrNote(dir);
  for (const n of meta.notes) opts.onNote?.(n);
  const slices = readSlices(dir);
  if (slices.length > 0) analysis = { ...analysis, slices };
  return buildReport(analysis, meta, opts.output ?? output, opts);
}

/** The phases and boundaries of every DIR/analysis-slice-*.json ('mentia analyze --slice'), early stopping first, then by kind and value. */
function readSlices(dir: string): NonNullable<Analysis["slices"]> {
  const files = readdirSync(dir).filter((f) => /^analysis-slice-.+\.json$/.test(f));
  const order = ["early-stop", "steps", "epochs", "samples"];
  return files
    .map((file) => {
      const a = readAnalysis(dir, file);
      if (!a.slice) throw new MentiaError(`${join(dir, file)}: no 'slice' field; rerun 'mentia analyze ${dir} --slice ...'`);
      return { ...a.slice, file, phases: a.phases, boundaries: a.boundaries };
    })
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.value ?? 0) - (b.value ?? 0));
}
