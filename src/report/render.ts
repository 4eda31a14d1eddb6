import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";

/**
 * SVG post-processing and SVG → PNG (resvg), with the machine's fonts. The SVG itself comes
 * from vega (see renderFigureSvg in build.ts); nothing is drawn by hand.
 */

/** Fonts used by the figures: first family found on the machine wins; sans-serif last. */
export const FONT_STACK = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

const FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts"];

/**
 * Families resvg should use for "sans-serif": the regular file that identifies the family,
 * and the family's files loaded for rendering (regular, bold, italic — loading every font
 * on the machine costs ~0.1 s per PNG).
 */
const KNOWN_SANS: Array<{ file: RegExp; set: RegExp; family: string }> = [
  { file: /^DejaVuSans\.ttf$/, set: /^DejaVuSans(-Bold|-Oblique|-BoldOblique)?\.ttf$/, family: "DejaVu Sans" },
  { file: /^LiberationSans-Regular\.ttf$/, set: /^LiberationSans-(Regular|Bold|Italic|BoldItalic)\.ttf$/, family: "Liberation Sans" },
  { file: /^NotoSans-Regular\.[ot]tf$/, set: /^NotoSans-(Regular|Bold|Italic|BoldItalic)\.[ot]tf$/, family: "Noto Sans" },
  { file: /^FreeSans\.[ot]tf$/, set: /^FreeSans(Bold|Oblique|BoldOblique)?\.[ot]tf$/, family: "FreeSans" },
];

export interface FontSetup {
  /** Folders that hold at least one TrueType/OpenType font. */
  dirs: string[];
  /** Number of font files found. */
  files: number;
  /** The family used for sans-serif text, or null when no known one was found. */
  sansSerif: string | null;
  /** The files of that family (empty when none was found: then every folder is loaded). */
  sansFiles: string[];
}

let cachedFonts: FontSetup | undefined;

/** Scans the usual font folders (once per process). */
export function fontSetup(): FontSetup {
  if (cachedFonts) return cachedFonts;
  let files = 0;
  const dirs: string[] = [];
  const all: Array<{ name: string; path: string }> = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    let here = 0;
    for (const name of names) {
      const path = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDir) {
        if (depth < 4) walk(path, depth + 1);
      } else if (/\.(ttf|otf|ttc)$/i.test(name)) {
        here++;
        all.push({ name, path });
      }
    }
    if (here > 0) dirs.push(dir);
    files += here;
  };
  for (const d of FONT_DIRS) if (existsSync(d)) walk(d, 0);
  const known = KNOWN_SANS.find((k) => all.some((f) => k.file.test(f.name)));
  cachedFonts = {
    dirs,
    files,
    sansSerif: known?.family ?? null,
    sansFiles: known ? all.filter((f) => known.set.test(f.name)).map((f) => f.path) : [],
  };
  return cachedFonts;
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/**
 * Hover values: vega writes each data mark's description as `aria-label`; this moves it into
 * an SVG `<title>` child, which browsers show as a tooltip (in the page and in the standalone
 * SVG files alike) and use as the element's accessible name.
 */
export function addTooltips(svg: string): string {
  return svg.replace(/<(path|line|rect|circle|text|g)(\s[^<>]*?)aria-label="([^"]*)"([^<>]*?)(\/?)>/g, (_m, tag: string, pre: string, label: string, post: string, selfClose: string) => {
    // The <title> becomes the element's accessible name, so the aria-label is not repeated.
    const open = `<${tag}${pre.replace(/\s+$/, "")}${post}>`;
    const title = `<title>${label}</title>`;
    return selfClose ? `${open}${title}</${tag}>` : `${open}${title}`;
  });
}

/**
 * Makes the ids of one SVG unique within a page that inlines many (vega numbers its clip
 * paths and gradients from 0 in every figure): `id="x"` → `id="PREFIX-x"`, with every
 * `url(#x)` and `href="#x"` reference rewritten to match.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  const rename = (id: string): string => (ids.has(id) ? `${prefix}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}${rename(id)}${b}`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${rename(id)})`)
    .replace(/(href=")#([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}#${rename(id)}${b}`);
}

/**
 * Rounds geometry to 0.01 px (vega writes up to 17 digits): numbers in the geometry
 * attributes only (d, transform, x, y, ...), never in text, so labels keep their digits.
 * Shrinks the inline page by about a third without a visible change.
 */
export function roundSvgGeometry(svg: string): string {
  return svg.replace(/(\s(?:d|transform|x|y|x1|x2|y1|y2|dx|dy|width|height|r|cx|cy|points)=")([^"]*)"/g, (_m, head: string, value: string) => {
    const v = value.replace(/-?\d+\.\d{3,}(?:e-?\d+)?/g, (num) => {
      const r = Number(Number(num).toFixed(2));
      return Object.is(r, -0) ? "0" : String(r);
    });
    return `${head}${v}"`;
  });
}

/** SVG → raster at `scale`× the SVG's size, text drawn with the machine's fonts. */
export function rasterize(svg: string, scale = 2): { png: Buffer; pixels: Buffer; width: number; height: number } {
  const fonts = fontSetup();
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: fonts.sansSerif
      ? { loadSystemFonts: false, fontFiles: fonts.sansFiles, defaultFontFamily: fonts.sansSerif, sansSerifFamily: fonts.sansSerif }
      : { loadSystemFonts: fonts.dirs.length === 0, fontDirs: fonts.dirs },
  });
  const img = resvg.render();
  return { png: img.asPng(), pixels: img.pixels, width: img.width, height: img.height };
}

/** SVG → PNG at `scale`× the SVG's size. */
export function svgToPng(svg: string, scale = 2): Buffer {
  return rasterize(svg, scale).png;
}
