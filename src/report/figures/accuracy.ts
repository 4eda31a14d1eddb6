/** Figure 6: test accuracy over the p_train × p_eval grid. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { archLabel, base, gridAxis, heatSize, P_EVAL, P_TRAIN, sameArch, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 6. Test accuracy heat map
// ---------------------------------------------------------------------------------------------

export function accuracySpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const curves = analysis.curves.filter((c) => sameArch(c, arch) && c.points.length > 0);
  if (curves.length === 0) return null;
  const gx = gridAxis(curves.map((c) => c.pTrain), P_TRAIN);
  const gy = gridAxis(curves.map((c) => c.pEval), P_EVAL);
  const ns = new Set<number>();
  const cells = curves.map((c) => {
    const last = c.points[c.points.length - 1];
    ns.add(last.n);
    const x = gx.pos(c.pTrain);
    const y = gy.pos(c.pEval);
    return { x0: x - 0.5, x1: x + 0.5, y0: y - 0.5, y1: y + 0.5, xm: x, ym: y, pTrain: c.pTrain, pEval: c.pEval, accuracy: last.accuracy, n: last.n };
  });
  const nText = ns.size === 1 ? `N = ${[...ns][0]}` : "the largest N of each curve";
  const size = heatSize(gx.values.length, gy.values.length);
  const showText = size.width / gx.values.length >= 30 && size.height / gy.values.length >= 14;
  const layers: Obj[] = [
    {
      mark: { type: "rect", stroke: "white", strokeWidth: 0.6 },
      encoding: {
        x: { ...gx.channel, field: "x0", type: "quantitative" },
        x2: { field: "x1" },
        y: { ...gy.channel, field: "y0", type: "quantitative" },
        y2: { field: "y1" },
        color: { field: "accuracy", type: "quantitative", title: "test accuracy", scale: { domain: [0, 1], scheme: "viridis" }, legend: { format: ".0%" } },
        tooltip: [
          { field: "pTrain", title: "p_train" },
          { field: "pEval", title: "p_eval" },
          { field: "n", title: "N" },
          { field: "accuracy", title: "test accuracy", format: ".2%" },
        ],
      },
    },
  ];
  if (showText) {
    layers.push({
      mark: { type: "text", fontSize: 10 },
      encoding: {
        x: { ...gx.channel, field: "xm", type: "quantitative" },
        y: { ...gy.channel, field: "ym", type: "quantitative" },
        text: { field: "accuracy", format: ".0%" },
        color: { condition: { test: "datum.accuracy < 0.6", value: "white" }, value: "black" },
      },
    });
  }
  return base({
    title: { text: `Test accuracy — ${archLabel(arch)}`, subtitle: `mean over seeds at ${nText}; chance = 10%` },
    ...size,
    data: { values: cells },
    layer: layers,
  });
}
