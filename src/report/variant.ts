import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { addTooltips, prefixSvgIds, roundSvgGeometry, svgToPng } from "./render.js";
import { renderFigureSvg } from "./vega.js";

/** One figure variant to draw: its spec, its file stem, where to write it. */
export interface VariantJob {
  spec: TopLevelSpec;
  stem: string;
  dir: string;
  pngScale: number;
}

export interface VariantDone {
  /** The SVG as written (ids prefixed, tooltips added), for inlining into the page. */
  svg: string;
  svgFile: string;
  pngFile: string;
  warnings: string[];
}

/** Spec → STEM.svg and STEM.png in dir (written once; the caller keeps only the SVG text). */
export async function renderVariantToFiles(job: VariantJob): Promise<VariantDone> {
  const captured = { warnings: [] as string[] };
  const raw = await renderFigureSvg(job.spec, job.stem, captured);
  const svg = prefixSvgIds(addTooltips(roundSvgGeometry(raw)), job.stem);
  const svgFile = `${job.stem}.svg`;
  const pngFile = `${job.stem}.png`;
  writeFileSync(join(job.dir, svgFile), svg);
  writeFileSync(join(job.dir, pngFile), svgToPng(svg, job.pngScale));
  return { svg, svgFile, pngFile, warnings: captured.warnings };
}
