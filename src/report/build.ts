import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ANALYSIS_SCHEMA_VERSION, type Analysis } from "../analysis/schema.js";
import { MentiaError } from "../errors.js";
import { buildFigures } from "./figures.js";
import { renderPage, type RenderedFigure } from "./html.js";
import { readReportMetaOrNote, type ReportMeta } from "./meta.js";
import { addTooltips, fontSetup, prefixSvgIds, roundSvgGeometry, svgToPng } from "./render.js";
import { buildTables, toCsv } from "./tables.js";

/**
 * `buildReport`: analysis.json + run metadata → a report folder:
 *   index.html       the self-contained page (inline SVG, CSS and script; no network)
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
  /** Called with one line per finished figure (progress). */
  onProgress?: (line: string) => void;
}

export interface ReportResult {
  outDir: string;
  indexPath: string;
  /** Figure files written (relative to outDir). */
  figureFiles: string[];
  tableFiles: string[];
  /** Absolute paths of the phase-diagram PNGs, one per architecture (e.g. for a README). */
  phaseDiagramPngs: string[];
  /** Warnings of the chart compiler / renderer (none expected). */
  warnings: string[];
  seconds: number;
}

interface Captured {
  warnings: string[];
}

/** A vega / vega-lite logger (structurally vega-util's LoggerInterface) that keeps warnings instead of printing them. */
class CapturingLogger {
  private lvl = 2;
  constructor(
    private readonly into: Captured,
    private readonly where: string,
  ) {}
  level(l?: number): number | CapturingLogger {
    if (l === undefined) return this.lvl;
    this.lvl = l;
    return this;
  }
  error(...args: unknown[]): this {
    this.into.warnings.push(`${this.where}: error: ${args.map(String).join(" ")}`);
    return this;
  }
  warn(...args: unknown[]): this {
    this.into.warnings.push(`${this.where}: ${args.map(String).join(" ")}`);
    return this;
  }
  info(): this {
    return this;
  }
  debug(): this {
    return this;
  }
}

/** Vega-Lite → SVG, collecting compiler and runtime warnings. */
export async function renderFigureSvg(spec: TopLevelSpec, where: string, captured: Captured): Promise<string> {
  const logger = new CapturingLogger(captured, where);
  const vg = compile(spec, { logger }).spec;
  const view = new View(parse(vg), { renderer: "none", logger, logLevel: 2 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_");
}

function writeAll(dir: string, files: Array<[string, string | Buffer]>): void {
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
}

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

  const captured: Captured = { warnings: [] };
  const fonts = fontSetup();
  if (fonts.files === 0) captured.warnings.push("no fonts found under /usr/share/fonts: text will be missing from the PNG files (install e.g. fonts-dejavu-core)");

  const files: Array<[string, string | Buffer]> = [];
  const figureFiles: string[] = [];
  const rendered: RenderedFigure[] = [];
  const scale = options.pngScale ?? 2;
  for (const figure of buildFigures(analysis)) {
    const variants: RenderedFigure["variants"] = [];
    for (const v of figure.variants) {
      if (!v.spec) {
        variants.push({ key: v.key, label: v.label, svg: null, note: v.note });
        continue;
      }
      const stem = fileSafe(v.key === "all" ? figure.id : `${figure.id}-${v.key}`);
      const raw = await renderFigureSvg(v.spec, stem, captured);
      const svg = prefixSvgIds(addTooltips(roundSvgGeometry(raw)), stem);
      const png = svgToPng(svg, scale);
      files.push([`${stem}.svg`, svg], [`${stem}.png`, png]);
      figureFiles.push(`${stem}.svg`, `${stem}.png`);
      variants.push({ key: v.key, label: v.label, svg, svgFile: `${stem}.svg`, pngFile: `${stem}.png` });
    }
    rendered.push({ figure, variants });
    options.onProgress?.(`${figure.title}: ${variants.filter((v) => v.svg).length} plot${variants.length === 1 ? "" : "s"}`);
  }

  const tables = buildTables(analysis);
  const tableFiles = tables.map((t) => `${t.name}.csv`);
  for (const t of tables) files.push([`${t.name}.csv`, toCsv(t)]);

  const html = renderPage({ analysis, meta, figures: rendered, tables, createdAt: (options.now ?? new Date()).toISOString(), renderWarnings: captured.warnings });
  files.push(["index.html", html]);

  // Write next to the target, then swap it in.
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}`);
  const old = join(parent, `.${basename(target)}.old-${process.pid}`);
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    writeAll(tmp, files);
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw new MentiaError(`cannot write the report to ${outDir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const phaseDiagramPngs = figureFiles.filter((f) => f.startsWith("fig1-phase-diagram") && f.endsWith(".png")).map((f) => join(target, f));
  return { outDir: target, indexPath: join(target, "index.html"), figureFiles, tableFiles, phaseDiagramPngs, warnings: captured.warnings, seconds: (performance.now() - t0) / 1000 };
}

const ARRAYS = ["curves", "fits", "phases", "boundaries", "crossovers", "lengthScaleFits", "collapses", "warnings"] as const;

/** Reads and checks DIR/analysis.json (shape only: the analysis stage wrote it). */
export function readAnalysis(dir: string): Analysis {
  const path = join(dir, "analysis.json");
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
export async function reportSweep(dir: string, opts: BuildReportOptions & { output?: string; onNote?: (note: string) => void } = {}): Promise<ReportResult> {
  const analysis = readAnalysis(dir);
  const meta = readReportMetaOrNote(dir);
  for (const n of meta.notes) opts.onNote?.(n);
  return buildReport(analysis, meta, opts.output ?? join(dir, "report"), opts);
}
