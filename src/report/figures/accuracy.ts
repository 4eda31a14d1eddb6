/** Figure 6: test accuracy over the p_train × p_eval grid. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { archLabel, base, gridAxis, gridCellMark, HEAT_SIZE, P_EVAL, P_TRAIN, sameArch, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 6. Test accuracy heat map
// ---------------------------------------------------------------------------------------------

export function accuracySpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const curves = analysis.curves.filter((c) => sameArch(c, arch) && c.points.length > 0);
  if (curves.length === 0) return null;
  const gx = gridAxis(curves.map((c) => c.pTrain), P_TRAIN, HEAT_SIZE.width, "x");
  const gy = gridAxis(curves.map((c) => c.pEval), P_EVAL, HEAT_SIZE.height, "y");
  const pxX = HEAT_SIZE.width / (gx.cell(gx.values[gx.values.length - 1])[1] - gx.cell(gx.values[0])[0]);
  const pxY = HEAT_SIZE.height / (gy.cell(gy.values[gy.values.length - 1])[1] - gy.cell(gy.values[0])[0]);
  const ns = new Set<number>();
  const cells = curves.map((c) => {
    const last = c.points[c.points.length - 1];
    ns.add(last.n);
    const [x0, x1] = gx.cell(c.pTrain);
    const [y0, y1] = gy.cell(c.pEval);
    // The percentage is written into cells wide and tall enough for it.
    const roomy = (x1 - x0) * pxX >= 30 && (y1 - y0) * pxY >= 14;
    return { x0, x1, y0, y1, pTrain: c.pTrain, pEval: c.pEval, accuracy: last.accuracy, n: last.n, roomy };
  });
  const nText = ns.size === 1 ? `N = ${[...ns][0]}` : "the largest N of each curve";
  const layers: Obj[] = [
    gridCellMark(gx, gy, {
      color: { field: "accuracy", type: "quantitative", title: "test accuracy", scale: { domain: [0, 1], scheme: "viridis" }, legend: { format: ".0%" } },
      tooltip: [
        { field: "pTrain", title: "p_train" },
        { field: "pEval", title: "p_eval" },
        { field: "n", title: "N" },
        { field: "accuracy", title: "test accuracy", format: ".2%" },
      ],
    }),
  ];
  if (cells.some((c) => c.roomy)) {
    layers.push({
      transform: [{ filter: "datum.roomy" }],
      mark: { type: "text", fontSize: 10 },
      encoding: {
        x: { ...gx.channel, field: "pTrain", type: "quantitative" },
        y: { ...gy.channel, field: "pEval", type: "quantitative" },
        text: { field: "accuracy", format: ".0%" },
        color: { condition: { test: "datum.accuracy < 0.6", value: "white" }, value: "black" },
      },
    });
  }
  return base({
    title: { text: `Test accuracy — ${archLabel(arch)}`, subtitle: `mean over seeds at ${nText}; chance = 10%` },
    ...HEAT_SIZE,
    data: { values: cells },
    layer: layers,
  });
}
