/**
 * Figures of the training-length axis: L against training steps for every N (from the
 * trajectories), and the phase diagrams of every slice side by side (analysis.slices).
 */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { archLabel, base, close, sameArch, type Obj } from "./common.js";
import { phaseDiagramPanels } from "./phase-diagram.js";

/** L against optimisation steps, one line per N (colour: ln N), one panel per recorded p_eval; dots: the median best-validation step. */
export function trajectorySpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const curves = (analysis.trajectories ?? []).filter((c) => sameArch(c, arch) && close(c.pTrain, pTrain));
  if (curves.length === 0) return null;
  const lines: Obj[] = [];
  const best: Obj[] = [];
  for (const c of curves) {
    for (const p of c.points) lines.push({ pEval: c.pEval, n: c.n, step: p.step, epoch: p.step / c.stepsPerEpoch, loss: p.mean, stderr: p.stderr, seeds: p.seeds });
    best.push({ pEval: c.pEval, n: c.n, step: c.best.step, loss: c.best.mean });
  }
  const x = { field: "step", type: "quantitative", title: "optimisation steps", scale: { type: "log", nice: false } };
  const y = { field: "loss", type: "quantitative", title: "L (test cross-entropy)", scale: { type: "log", nice: false } };
  const color = { field: "n", type: "quantitative", title: "N", scale: { type: "log", scheme: "viridis" }, legend: { format: "~s" } };
  const pEvals = [...new Set(curves.map((c) => c.pEval))].sort((a, b) => a - b);
  return base({
    title: {
      text: `Loss along the training — ${archLabel(arch)}, p_train = ${pTrain}`,
      subtitle: "mean over seeds at each checkpoint; one line per N; large dots: early stopping (median best step over seeds, mean L there)",
    },
    columns: Math.min(3, pEvals.length),
    facet: { field: "pEval", type: "ordinal", title: null, header: { labelExpr: "'p_eval = ' + datum.value" } },
    data: { values: [...lines.map((l) => ({ ...l, kind: "checkpoint" })), ...best.map((b) => ({ ...b, kind: "best" }))] },
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'checkpoint'" }],
          mark: { type: "line", point: { size: 14 }, strokeWidth: 1.3 },
          encoding: {
            x, y, color, detail: { field: "n" },
            tooltip: [
              { field: "n", title: "N" },
              { field: "step", title: "step" },
              { field: "epoch", title: "epochs", format: ".2f" },
              { field: "loss", title: "L", format: ".4f" },
              { field: "stderr", title: "± (1σ)", format: ".4f" },
              { field: "seeds", title: "seeds" },
            ],
          },
        },
        { transform: [{ filter: "datum.kind === 'best'" }], mark: { type: "point", filled: true, size: 70, stroke: "black", strokeWidth: 0.8 }, encoding: { x, y, color, tooltip: [{ field: "n", title: "N" }, { field: "step", title: "median best step" }, { field: "loss", title: "mean L at the best step", format: ".4f" }] } },
      ],
    },
    resolve: { scale: { y: "independent" } },
  });
}

/** The phase diagrams of every slice analysed (analysis.slices), side by side, for one architecture. */
export function slicePhaseDiagramsSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const slices = analysis.slices ?? [];
  if (slices.length === 0) return null;
  const variants = slices.map((s) => ({ analysis: { ...analysis, phases: s.phases, boundaries: s.boundaries }, title: s.kind === "early-stop" ? "early stopping" : `${s.value} ${s.kind}` }));
  return phaseDiagramPanels(arch, variants, { text: `Phase diagrams by training length — ${archLabel(arch)}`, subtitle: "L(N) read from the trajectories at each slice ('mentia analyze DIR --slice ...'), labelled by the same rule" });
}
