/**
 * When most grid points are "uncertain", say which lever of the study would decide them.
 * An α CI is α̂ ± t_{S−1}·σ_α with σ_α ∝ 1 / (√S · sd(ln N) · √K) for S seeds and K sizes
 * spread over ln N; the advice reports, for the study as analysed, what each lever changes
 * in that formula (a projection from the formula, not a measurement).
 */
import type { LossCurve, PhaseLabel } from "./schema.js";
import { studentTQuantile } from "./stats.js";

const sd = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

/** Lines of advice, or none when at most half of the labels are uncertain. */
export function decidingLevers(phases: readonly PhaseLabel[], curves: readonly LossCurve[], ciLevel: number): string[] {
  const unsure = phases.filter((p) => p.phase === "uncertain");
  if (phases.length === 0 || unsure.length * 2 <= phases.length) return [];
  const byRule = new Map<string, number>();
  for (const p of unsure) byRule.set(p.rule, (byRule.get(p.rule) ?? 0) + 1);
  const rules = [...byRule].sort((a, b) => b[1] - a[1]).map(([r, k]) => `${k} ${r}`).join(", ");
  const out = [`${unsure.length} of ${phases.length} grid points are uncertain (${rules}). What would decide them:`];
  const seeds = Math.min(...curves.map((c) => Math.min(...c.points.map((p) => p.seeds.length))));
  const sizes = [...new Set(curves.flatMap((c) => c.points.map((p) => p.n)))].sort((a, b) => a - b);
  const q = (1 + ciLevel) / 2;
  const t = (s: number): number => (s >= 2 ? studentTQuantile(q, s - 1) : Infinity);
  const straddle = byRule.get("uncertain.ci-straddles") ?? 0;
  if (straddle > 0) {
    if (seeds < 8) {
      const now = t(seeds);
      const then = t(8);
      const gain = Number.isFinite(now) ? (now / then) * Math.sqrt(8 / seeds) : Infinity;
      out.push(
        `  - more seeds: with ${seeds} seed(s) the ${Math.round(ciLevel * 100)}% CI is α̂ ± ${Number.isFinite(now) ? now.toFixed(2) : "∞"}·σ_α; 8 seeds give ± ${then.toFixed(2)}·σ_α with σ_α √(8/${seeds}) smaller: CIs ${Number.isFinite(gain) ? `≈ ${gain.toFixed(1)}×` : "finitely"} narrower`,
      );
    }
    const lnN = sizes.map(Math.log);
    const spread = sd(lnN);
    const factor = sizes[sizes.length - 1] / sizes[0];
    if (factor < 64) {
      const wider = sd(Array.from({ length: sizes.length }, (_, i) => Math.log(sizes[0]) + (i * Math.log(64)) / Math.max(1, sizes.length - 1)));
      out.push(`  - wider N range: N spans a factor ${factor.toFixed(0)} (${sizes[0]}…${sizes[sizes.length - 1]}); the same ${sizes.length} sizes over a factor 64 make σ_α ≈ ${(wider / spread).toFixed(1)}× smaller`);
    }
    if (sizes.length < 6) out.push(`  - more sizes: ${sizes.length} sizes; σ_α falls as 1/√(sizes) at a fixed range (8 sizes: ≈ ${Math.sqrt(8 / sizes.length).toFixed(1)}× smaller), and the rising-tail rule needs ≥ 6 sizes (3 in the upper half)`);
  }
  if ((byRule.get("uncertain.baseline-not-eumentia") ?? 0) + (byRule.get("uncertain.no-baseline") ?? 0) > 0)
    out.push("  - a trained baseline: points are uncertain because the network at p_eval ≈ 0 is not clearly learning (or p_eval = 0 is missing): include p_eval 0, train longer (epochs, steps) or use larger N");
  return out.length > 1 ? out : [];
}
