/** The logistic function runners apply to a model's logits, and its inverse. */

/** @internal The logistic function, stable for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Probabilities are clamped to [ε, 1 − ε] before a logit, so that 0 and 1 stay finite. */
const EPSILON = 1e-7;

/** @internal The logit of a probability clamped to [1e-7, 1 − 1e-7]: what ensembles combine. */
export function clampedLogit(p: number): number {
  const q = Math.min(1 - EPSILON, Math.max(EPSILON, p));
  return Math.log(q / (1 - q));
}
