import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Vega-Lite spec → SVG string (in Node, no browser), warnings collected instead of printed. */

export interface Captured {
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

