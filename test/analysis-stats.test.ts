import { test } from "node:test";
import assert from "node:assert/strict";
import { cholesky, covarianceFromChi2Hessian, incompleteBeta, isPositiveDefinite, normalQuantile, studentTCdf, studentTQuantile } from "../src/analysis/stats.js";

/**
 * The statistical primitives against published tables (values from standard t tables /
 * closed forms, not from this code). The incomplete beta is accurate to ~3e-9 (enough for
 * interval quantiles), hence the 1e-8 tolerances.
 */
const close = (got: number, want: number, tol: number, what: string): void => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got} vs ${want}`);

test("Student t quantiles match the table", () => {
  const table: [number, number, number][] = [
    // [p, dof, t_p]
    [0.975, 1, 12.7062047],
    [0.975, 2, 4.30265273],
    [0.975, 3, 3.18244631],
    [0.975, 5, 2.57058184],
    [0.975, 10, 2.22813885],
    [0.975, 30, 2.04227246],
    [0.995, 4, 4.60409487],
    [0.95, 7, 1.89457861],
    [0.9, 15, 1.34060561],
  ];
  for (const [p, dof, t] of table) {
    close(studentTQuantile(p, dof), t, 1e-6 * t, `t(${p}, ${dof})`);
    close(studentTQuantile(1 - p, dof), -t, 1e-6 * t, `t(${1 - p}, ${dof})`);
  }
  close(studentTQuantile(0.975, Infinity), 1.95996398, 1e-7, "t(0.975, ∞)");
  close(normalQuantile(0.975), 1.95996398, 1e-7, "z(0.975)");
  close(normalQuantile(0.001), -3.09023231, 1e-7, "z(0.001)");
});

test("Student t CDF matches closed forms (dof 1: Cauchy; dof 2)", () => {
  for (const t of [-3, -0.5, 0, 1, 2.5]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-8, `F1(${t})`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-8, `F2(${t})`);
  }
});

test("regularised incomplete beta matches closed forms", () => {
  close(incompleteBeta(0.5, 2, 3), 11 / 16, 1e-8, "I_0.5(2,3)");
  close(incompleteBeta(0.3, 1, 1), 0.3, 1e-8, "I_0.3(1,1)");
  close(incompleteBeta(0.4, 3, 1), 0.064, 1e-8, "I_0.4(3,1)");
  close(incompleteBeta(0.2, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(0.2)), 1e-8, "I_0.2(½,½)");
  close(incompleteBeta(0.9, 5, 2), 6 * Math.pow(0.9, 5) * 0.1 + Math.pow(0.9, 6), 1e-8, "I_0.9(5,2) = Σ_{j≥5} C(6,j) x^j (1−x)^(6−j)");
  assert.equal(incompleteBeta(0, 2, 3), 0);
  assert.equal(incompleteBeta(1, 2, 3), 1);
});

test("covariances: Cholesky accepts positive definite, rejects indefinite matrices even with a positive diagonal", () => {
  assert.ok(isPositiveDefinite([[2, 1], [1, 2]]));
  assert.equal(isPositiveDefinite([[1, 2], [2, 1]]), false, "eigenvalues 3 and −1");
  assert.equal(isPositiveDefinite([[1, 0], [0, 0]]), false, "singular");
  const L = cholesky([[4, 2], [2, 3]]);
  assert.ok(L);
  close(L[0][0], 2, 1e-12, "L00");
  close(L[1][0], 1, 1e-12, "L10");
  close(L[1][1], Math.sqrt(2), 1e-12, "L11");
  // a saddle: diagonal positive, but not a minimum → no covariance
  assert.equal(covarianceFromChi2Hessian([[1, 2], [2, 1]]), null);
  const cov = covarianceFromChi2Hessian([[2, 1], [1, 2]]);
  assert.ok(cov);
  close(cov[0][0], 4 / 3, 1e-12, "cov00");
  close(cov[0][1], -2 / 3, 1e-12, "cov01");
});
