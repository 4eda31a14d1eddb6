import { test } from "node:test";
import assert from "node:assert/strict";
import { GpWork, gpMinus2LogLik, gpScales, gpWarp, type GpHyper } from "../src/analysis/gp.js";

/** Dense reference: K by its definition, ln det and K⁻¹ by Gauss–Jordan elimination. */
function reference(X: number[], Y: number[], dY: number[], center: number, h: GpHyper): number {
  const n = X.length;
  const s = gpScales(X, Y, center);
  const a2 = (s.ySd * Math.exp(h.lnAmp)) ** 2;
  const u = X.map((x) => gpWarp(x, s, h));
  const K = u.map((ui, i) => u.map((uj, j) => a2 * Math.exp(-((ui - uj) ** 2) / (2 * Math.exp(2 * h.lnEll))) + (i === j ? a2 * 1e-10 + dY[i] * dY[i] : 0)));
  const M = K.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    const piv = M[c][c];
    logDet += Math.log(piv);
    for (let j = 0; j < 2 * n; j++) M[c][j] /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c];
      for (let j = 0; j < 2 * n; j++) M[r][j] -= f * M[c][j];
    }
  }
  const inv = M.map((row) => row.slice(n));
  const dot = (a: number[], b: number[]): number => a.reduce((t, v, i) => t + v * b[i], 0);
  const kinvY = inv.map((row) => dot(row, Y));
  const kinv1 = inv.map((row) => row.reduce((t, v) => t + v, 0));
  const m = kinvY.reduce((t, v) => t + v, 0) / kinv1.reduce((t, v) => t + v, 0);
  const r = Y.map((y) => y - m);
  return dot(r, inv.map((row) => dot(row, r))) + logDet + n * Math.log(2 * Math.PI);
}

test("the GP's −2 ln L (blocked Cholesky) equals a dense reference, for even and odd n", () => {
  for (const n of [1, 2, 3, 5, 6, 9, 12, 31]) {
    const X = Array.from({ length: n }, (_, i) => -3 + (7 * i) / Math.max(1, n - 1) + 0.1 * Math.sin(3 * i));
    const Y = X.map((x, i) => Math.tanh(x) + 0.05 * Math.cos(5 * i));
    const dY = X.map((_, i) => 0.02 + 0.01 * (i % 3));
    const h: GpHyper = { lnAmp: 0.2, lnEll: Math.log(0.8), lnWarp: -1 };
    const got = gpMinus2LogLik(new GpWork(n), X, Y, dY, gpScales(X, Y, 0.3), h).m2ll;
    const want = reference(X, Y, dY, 0.3, h);
    assert.ok(Math.abs(got - want) <= 1e-8 * Math.max(1, Math.abs(want)), `n ${n}: ${got} vs ${want}`);
  }
});
