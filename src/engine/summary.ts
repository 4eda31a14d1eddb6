/** Mean and standard error of the mean: the one estimate of an evaluation's noise in the engines. */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** sd / √n with the n − 1 denominator, around the given mean; 0 for fewer than two values. */
export function stderrOfMean(a: ArrayLike<number>, mu: number): number {
  if (a.length < 2) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - mu) ** 2;
  return Math.sqrt(s / (a.length - 1) / a.length);
}
