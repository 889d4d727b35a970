/**
 * A stacker for an ensemble: a logistic regression on the members' logits, fitted on held-out
 * rows (the validation slice none of them trained on), `p = sigmoid(b + Σ wᵢ·logitᵢ)`. With a
 * handful of coefficients it is fitted exactly by Newton's method; its out-of-fold log loss (row i
 * in fold i mod k, as the calibrator choice does) is what it is compared on, so the ensemble wins
 * only when it beats its best member out of sample. The stacker's output is calibrated on those
 * rows already: an ensemble needs no calibrator after it.
 */
import { CtrkitError, logLoss } from '@ctrkit/core';
import { clampedLogit } from '../runner/sigmoid.js';

/**
 * What {@link fitStacker} found.
 *
 * @example
 * ```ts
 * import type { StackerFit } from '@ctrkit/models';
 * const wins = (fit: StackerFit, bestSingle: number) => fit.outOfFoldLogLoss < bestSingle;
 * ```
 */
export interface StackerFit {
  /** One coefficient per member, in the members' order. */
  readonly coefficients: readonly number[];
  /** The intercept. */
  readonly bias: number;
  /** Log loss on the rows it was fitted on. */
  readonly logLoss: number;
  /** Log loss out of fold: each fold scored by a stacker fitted on the others. */
  readonly outOfFoldLogLoss: number;
  /** Each row's out-of-fold probability (the scores `outOfFoldLogLoss` is of). */
  readonly outOfFold: Float64Array;
}

/**
 * Options for {@link fitStacker}.
 *
 * @example
 * ```ts
 * import type { StackerOptions } from '@ctrkit/models';
 * const options: StackerOptions = { folds: 10, l2: 1e-5 };
 * ```
 */
export interface StackerOptions {
  /** Cross-validation folds (default 5; row i belongs to fold i mod folds). */
  readonly folds?: number;
  /** L2 penalty on the coefficients (not the intercept), per row (default 1e-6). */
  readonly l2?: number;
}

/** Solves `A·x = b` (A symmetric positive definite, n × n row-major) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c] as number) > Math.abs(m[pivot * n + c] as number)) pivot = r;
    if (pivot !== c) {
      for (let k = 0; k < n; k++) [m[c * n + k], m[pivot * n + k]] = [m[pivot * n + k] as number, m[c * n + k] as number];
      [x[c], x[pivot]] = [x[pivot] as number, x[c] as number];
    }
    const d = m[c * n + c] as number;
    if (!(Math.abs(d) > 1e-300)) return new Float64Array(n); // singular: no step
    for (let r = c + 1; r < n; r++) {
      const f = (m[r * n + c] as number) / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) m[r * n + k] = (m[r * n + k] as number) - f * (m[c * n + k] as number);
      x[r] = (x[r] as number) - f * (x[c] as number);
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r] as number;
    for (let k = r + 1; k < n; k++) s -= (m[r * n + k] as number) * (x[k] as number);
    x[r] = s / (m[r * n + r] as number);
  }
  return x;
}

/**
 * Newton's method for the logistic regression of `labels` on the columns of `features` (row-major,
 * `rows × k`) over the rows `use(i)` accepts; returns `[bias, w₁ … w_k]`.
 */
function fitLogistic(features: Float64Array, k: number, labels: Float32Array, use: (i: number) => boolean, l2: number): Float64Array {
  const n = k + 1;
  const beta = new Float64Array(n);
  let used = 0;
  for (let i = 0; i < labels.length; i++) if (use(i)) used++;
  const penalty = l2 * used;
  const grad = new Float64Array(n);
  const hess = new Float64Array(n * n);
  const x = new Float64Array(n);
  for (let iteration = 0; iteration < 50; iteration++) {
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < labels.length; i++) {
      if (!use(i)) continue;
      x[0] = 1;
      let z = beta[0] as number;
      for (let j = 0; j < k; j++) {
        x[j + 1] = features[i * k + j] as number;
        z += (beta[j + 1] as number) * (x[j + 1] as number);
      }
      const p = 1 / (1 + Math.exp(-z));
      const r = p - (labels[i] as number);
      const v = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < n; a++) {
        grad[a] = (grad[a] as number) + r * (x[a] as number);
        for (let b = 0; b <= a; b++) hess[a * n + b] = (hess[a * n + b] as number) + v * (x[a] as number) * (x[b] as number);
      }
    }
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) hess[b * n + a] = hess[a * n + b] as number;
    for (let a = 1; a < n; a++) {
      grad[a] = (grad[a] as number) + penalty * (beta[a] as number);
      hess[a * n + a] = (hess[a * n + a] as number) + penalty;
    }
    const step = solve(hess, grad, n);
    let size = 0;
    for (let a = 0; a < n; a++) {
      beta[a] = (beta[a] as number) - (step[a] as number);
      size = Math.max(size, Math.abs(step[a] as number));
    }
    if (!Number.isFinite(size)) throw new CtrkitError('E_INPUT', 'fitStacker: Newton steps diverged; are the members’ scores finite probabilities?');
    if (size < 1e-9) break;
  }
  return beta;
}

/** `sigmoid(b + Σ wⱼ·xⱼ)` of row `i`. */
function scoreRow(beta: Float64Array, features: Float64Array, k: number, i: number): number {
  let z = beta[0] as number;
  for (let j = 0; j < k; j++) z += (beta[j + 1] as number) * (features[i * k + j] as number);
  return 1 / (1 + Math.exp(-z));
}

/**
 * Fits the stacker on held-out rows: the members' raw click probabilities of the same rows
 * (`scores[m][i]`, before any calibrator) and their labels.
 *
 * @param scores - One array of probabilities per member (at least two), each as long as `labels`.
 * @param labels - 0/1 labels.
 * @param options - Folds and L2 penalty.
 * @returns The coefficients, the intercept and the in-sample and out-of-fold log losses.
 * @throws `CtrkitError` `E_INPUT` on fewer than two members, mismatched lengths, fewer rows than
 *   folds, or labels of one class only; `E_CONFIG` on folds < 2.
 * @example
 * ```ts
 * import { fitStacker } from '@ctrkit/models';
 * declare const fm: Float32Array, deepfm: Float32Array, labels: Float32Array;
 * const { coefficients, bias, outOfFoldLogLoss } = fitStacker([fm, deepfm], labels);
 * ```
 */
export function fitStacker(scores: readonly Float32Array[], labels: Float32Array, options: StackerOptions = {}): StackerFit {
  const { folds = 5, l2 = 1e-6 } = options;
  if (!Number.isInteger(folds) || folds < 2) throw new CtrkitError('E_CONFIG', `fitStacker: folds must be an integer ≥ 2, got ${folds}`);
  if (!Array.isArray(scores) || scores.length < 2) throw new CtrkitError('E_INPUT', `fitStacker: needs the scores of at least two members, got ${Array.isArray(scores) ? scores.length : typeof scores}`);
  const rows = labels.length;
  for (const [m, s] of scores.entries()) {
    if (!(s instanceof Float32Array) || s.length !== rows) throw new CtrkitError('E_INPUT', `fitStacker: member ${m} has ${s instanceof Float32Array ? s.length : 'no'} scores for ${rows} labels`);
  }
  if (rows < folds) throw new CtrkitError('E_INPUT', `fitStacker: ${rows} rows is fewer than ${folds} folds`);
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0 || positives === rows) throw new CtrkitError('E_INPUT', 'fitStacker: the held-out rows need clicks and non-clicks');
  const k = scores.length;
  const features = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) for (let m = 0; m < k; m++) features[i * k + m] = clampedLogit((scores[m] as Float32Array)[i] as number);
  const outOfFold = new Float64Array(rows);
  for (let f = 0; f < folds; f++) {
    const beta = fitLogistic(features, k, labels, (i) => i % folds !== f, l2);
    for (let i = f; i < rows; i += folds) outOfFold[i] = scoreRow(beta, features, k, i);
  }
  const beta = fitLogistic(features, k, labels, () => true, l2);
  const fitted = new Float64Array(rows);
  for (let i = 0; i < rows; i++) fitted[i] = scoreRow(beta, features, k, i);
  return { coefficients: Array.from(beta.subarray(1)), bias: beta[0] as number, logLoss: logLoss(labels, fitted), outOfFoldLogLoss: logLoss(labels, outOfFold), outOfFold };
}
