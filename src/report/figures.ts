import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../analysis/schema.js";
import { accuracySpec } from "./figures/accuracy.js";
import { alphaVsPEvalSpec } from "./figures/alpha-vs-peval.js";
import { boundaryAcrossSpec, boundaryOverlaySpec } from "./figures/boundary-overlay.js";
import { collapseSpec } from "./figures/collapse.js";
import { archKey, archLabel, architectures, close, lineKey, pTrainsOf, sameArch, type Figure, type FigureVariant } from "./figures/common.js";
import { lengthScaleSpec } from "./figures/length-scale.js";
import { lossVsNSpec } from "./figures/loss-vs-n.js";
import { hasModes, modeBoundariesSpec, modePhaseDiagramsSpec } from "./figures/modes.js";
import { phaseDiagramSpec } from "./figures/phase-diagram.js";
import { lossRelativeSpec } from "./figures/loss-relative.js";
import { slicePhaseDiagramsSpec, trajectorySpec } from "./figures/trajectory.js";

/**
 * The report's figures in page order, as Vega-Lite specs built from analysis.json alone
 * (pure functions). One module per figure under figures/, shared parts in figures/common.ts.
 *
 * A figure has one or more variants: one per architecture (width, depth) or per line
 * (width, depth, p_train); the page shows the variant chosen with its controls. A variant
 * without data carries a `note` instead of a spec, and so does a figure with nothing to show
 * at all (e.g. no non-monotonic loss curve → no N* figure).
 */
export * from "./figures/common.js";
export { boundaryFamily } from "./figures/boundaries.js";
export { lossRelativeSpec, slicePhaseDiagramsSpec, trajectorySpec };
export { accuracySpec, alphaVsPEvalSpec, boundaryAcrossSpec, boundaryOverlaySpec, collapseSpec, lengthScaleSpec, lossVsNSpec, phaseDiagramSpec };
export { collapseTitle } from "./figures/collapse.js";
export { fitLabel, lengthScaleCurve } from "./figures/length-scale.js";

// ---------------------------------------------------------------------------------------------
// All figures
// ---------------------------------------------------------------------------------------------

const NO_DATA = "no data for this choice";

/** Every figure of the report, in page order. */
export function buildFigures(analysis: Analysis): Figure[] {
  const archs = architectures(analysis);
  const lines = archs.flatMap((a) => pTrainsOf(analysis, a).map((pTrain) => ({ arch: a, pTrain })));
  const perArch = (make: (a: Architecture) => TopLevelSpec | null, none: string): FigureVariant[] =>
    archs.map((a) => {
      const spec = make(a);
      return spec ? { key: archKey(a), label: archLabel(a), spec } : { key: archKey(a), label: archLabel(a), note: none };
    });
  const perLine = (make: (a: Architecture, p: number) => TopLevelSpec | null, none: string): FigureVariant[] =>
    lines.map(({ arch, pTrain }) => {
      const spec = make(arch, pTrain);
      const label = `${archLabel(arch)}, p_train = ${pTrain}`;
      return spec ? { key: lineKey(arch, pTrain), label, spec } : { key: lineKey(arch, pTrain), label, note: none };
    });
  const figures: Figure[] = [];

  figures.push({
    id: "fig1-phase-diagram",
    title: "1. Phase diagram",
    caption:
      "Each cell is one loss curve L(N) at (p_train, p_eval), coloured by its phase and shaded by its scaling exponent α (darker = faster learning with N). Black lines and grey bands are the boundaries between two decided phases with their 1σ errors; every crossing between neighbouring cells of different labels is marked with its error bar (circles: located along p_eval at fixed p_train; diamonds: along p_train at fixed p_eval).",
    dims: "arch",
    variants: perArch((a) => phaseDiagramSpec(analysis, a), "no phase labels for this architecture"),
  });

  const overlay = boundaryOverlaySpec(analysis);
  figures.push({
    id: "fig1b-boundary-overlay",
    title: "1b. Boundaries of all architectures",
    caption: "The phase boundaries of every width and depth on one plane: if the phases are a robust property of pruning, the curves of different architectures should lie on top of each other within their error bands.",
    dims: "none",
    variants: overlay ? [{ key: "all", label: "all architectures", spec: overlay }] : [],
    note: overlay ? undefined : "No phase boundary was found in this sweep (every grid line stays in one phase), so there is no boundary to overlay.",
  });

  const across = archs.map((a) => boundaryAcrossSpec(analysis, a));
  if (across.some((s) => s !== null)) {
    figures.push({
      id: "fig1c-boundary-across",
      title: "1c. Boundaries across depths and widths",
      caption: "Left: the boundaries of this architecture's width at every depth; right: of its depth at every width (colours: depth resp. width; bands and bars ± 1σ). Robust phases put the curves of one panel on top of each other within their errors.",
      dims: "arch",
      variants: archs.map((a, i) => {
        const spec = across[i];
        return spec ? { key: archKey(a), label: archLabel(a), spec } : { key: archKey(a), label: archLabel(a), note: "only one depth and one width with boundaries here" };
      }),
    });
  }

  if (hasModes(analysis)) {
    figures.push({
      id: "fig1d-modes-phase-diagrams",
      title: "1d. Phase diagrams of every eval mode",
      caption: `The same trained networks evaluated in each eval mode (${(analysis.modes ?? []).map((m) => m.evalMode).join(", ")}): their phase diagrams side by side, drawn as figure 1. The rest of this page is the analysis of the first mode; each mode's own report: 'mentia report DIR --eval-mode MODE'.`,
      dims: "arch",
      variants: perArch((a) => modePhaseDiagramsSpec(analysis, a), "no phase labels for this architecture"),
    });
    figures.push({
      id: "fig1e-modes-boundaries",
      title: "1e. Boundaries of every eval mode",
      caption: "The phase boundaries of each eval mode on one plane, for one architecture: where the curves differ beyond their bands, how units are removed changes where the network forgets.",
      dims: "arch",
      variants: perArch((a) => modeBoundariesSpec(analysis, a), "no phase boundary in any mode for this architecture"),
    });
  }

  figures.push({
    id: "fig2-loss-vs-n",
    title: "2. Loss vs training-set size",
    caption:
      "Test loss L against N on log-log axes for the chosen p_train, one curve per p_eval, coloured by phase. In eumentia L falls as a power law N⁻ᵅ (a straight line with slope −α); in dementia it is flat or rises with N; in amentia it stays near chance (ln 10 ≈ 2.30). Dashed lines are the fitted power laws.",
    dims: "line",
    variants: perLine((a, p) => lossVsNSpec(analysis, a, p), NO_DATA),
  });

  figures.push({
    id: "fig2b-loss-relative",
    title: "2b. Loss relative to its minimum, one p_eval at a time",
    caption:
      "The curves of figure 2 divided by their smallest mean, each p_eval in its own panel with its own scale: a few-per-cent minimum or rise that is invisible among many curves on one log axis shows here. A curve whose ring sits inside the N range has an interior minimum.",
    dims: "line",
    variants: perLine((a, p) => lossRelativeSpec(analysis, a, p), NO_DATA),
  });

  if ((analysis.trajectories?.length ?? 0) > 0) {
    figures.push({
      id: "fig2c-trajectory",
      title: "2c. Loss along the training",
      caption:
        "Test loss under removal against optimisation steps, one line per N, from the trajectories the sweep recorded (checkpoints log-spaced in steps). Reading the lines at one step gives L(N) at a fixed number of steps; the dots give L(N) at early stopping. Where lines of larger N cross those of smaller N, the phase label depends on where training stops.",
      dims: "line",
      variants: perLine((a, p) => trajectorySpec(analysis, a, p), "no trajectories for this line"),
    });
  }

  if ((analysis.slices?.length ?? 0) > 0) {
    figures.push({
      id: "fig2d-slice-phase-diagrams",
      title: "2d. Phase diagrams by training length",
      caption: `The phase diagram with L(N) read at each slice of the training-length axis that was analysed (${(analysis.slices ?? []).map((s) => (s.kind === "early-stop" ? "early stopping" : `${s.value} ${s.kind}`)).join(", ")}; 'mentia analyze DIR --slice ...'). A cell whose colour changes between panels has a phase that depends on the training-length rule.`,
      dims: "arch",
      variants: perArch((a) => slicePhaseDiagramsSpec(analysis, a), "no phase labels for this architecture"),
    });
  }

  figures.push({
    id: "fig3-alpha-vs-peval",
    title: "3. Scaling exponent α vs p_eval",
    caption:
      analysis.options.phaseRule === "window"
        ? "The local exponent α = −d ln L / d ln N over the window of the largest sizes (the phase rule, docs/analysis.md) at each p_eval with its confidence interval. The eumentia–dementia boundary is where α crosses zero (dashed line, band = ± 1σ)."
        : "The exponent α of L ∝ N⁻ᵅ at each p_eval with its confidence interval. The eumentia–dementia boundary is where α crosses zero (dashed line, band = ± 1σ).",
    dims: "line",
    variants: perLine((a, p) => alphaVsPEvalSpec(analysis, a, p), NO_DATA),
  });

  const anyCross = analysis.crossovers.length > 0;
  figures.push({
    id: "fig4-length-scale",
    title: "4. Crossover size N* near the boundary",
    caption:
      "Where L(N) first falls and then rises, N* is the size of its minimum (error bars ± 1σ of ln N*; triangles mark N* outside the sampled range). A diverging N* as p_eval approaches the boundary is fitted with the BKT form ln N* = ln N₀ + b·|p − p_c|^(−σ) and with a power law N* ∝ |p − p_c|^(−ν); compare their χ².",
    dims: "line",
    variants: anyCross ? perLine((a, p) => lengthScaleSpec(analysis, a, p), "no non-monotonic loss curve on this line, so no N*") : [],
    note: anyCross ? undefined : "No loss curve of this sweep is non-monotonic in N (none falls and then rises), so there is no crossover size N* to plot or fit. Larger N ranges or p_eval closer to the eumentia–dementia boundary may show one.",
  });

  const anyCollapse = analysis.collapses.length > 0;
  figures.push({
    id: "fig5-collapse",
    title: "5. Finite-size-scaling collapse",
    caption:
      "The loss curves near the boundary rescaled by the power-law form (left) and the BKT form (right). If a form is right, points of all N fall on one curve; each panel gives its fitted parameters ± 1σ and the reduced χ² of the collapse (≈ 1 is a good collapse).",
    dims: "line",
    variants: anyCollapse
      ? lines.map(({ arch, pTrain }) => {
          const c = analysis.collapses.find((x) => sameArch(x, arch) && close(x.pTrain, pTrain));
          const label = `${archLabel(arch)}, p_train = ${pTrain}`;
          return c ? { key: lineKey(arch, pTrain), label, spec: collapseSpec(c) } : { key: lineKey(arch, pTrain), label, note: "no collapse was fitted on this line (no boundary along p_eval, or too few points near it)" };
        })
      : [],
    note: anyCollapse ? undefined : "No finite-size-scaling collapse was fitted in this sweep (it needs a boundary along p_eval and several N near it).",
  });

  figures.push({
    id: "fig6-accuracy",
    title: "6. Test accuracy",
    caption: "Mean test accuracy of the networks trained on the most data, over the same p_train × p_eval grid as the phase diagram.",
    dims: "arch",
    variants: perArch((a) => accuracySpec(analysis, a), "no loss curves for this architecture"),
  });

  return figures;
}

