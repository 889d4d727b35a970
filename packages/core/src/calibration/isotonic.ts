/**
 * Isotonic calibration: pool-adjacent-violators ({@link isotonicRegression}) on the scores in
 * order, interpolated linearly between the ends of its steps.
 */
import { ensure } from '../errors.js';
import type { Numbers } from '../metrics/numbers.js';
import { argsort } from '../sort.js';
import { checkScoredRows } from '../validate.js';
import { BaseCalibrator, type Calibrator, type CalibratorJSON } from './calibrator.js';

/**
 * Pool-adjacent-violators: the least-squares non-decreasing (or non-increasing) fit to `y` in the
 * given order, with optional weights. scikit-learn's `isotonic_regression` computes the same.
 *
 * @param y - Values in their x order.
 * @param weights - Optional positive weight per value.
 * @param increasing - Fit a non-decreasing sequence (default) or a non-increasing one.
 * @returns The fitted values, one per input.
 * @throws {@link CtrkitError} `E_INPUT` on an empty or non-finite input or mismatched weights.
 * @remarks O(n) time.
 * @example
 * ```ts
 * import { isotonicRegression } from '@ctrkit/core';
 * const fitted = isotonicRegression([5, 3, 1, 2, 8, 10, 7, 9, 6, 4]);
 * console.log(Array.from(fitted, (v) => v.toFixed(2)).join(' '));
 * // 2.75 2.75 2.75 2.75 7.33 7.33 7.33 7.33 7.33 7.33
 * ```
 */
export function isotonicRegression(y: Numbers, weights?: Numbers, increasing = true): Float64Array {
  const n = y.length;
  ensure(n > 0, 'E_INPUT', () => 'isotonicRegression: y is empty');
  ensure(weights === undefined || weights.length === n, 'E_INPUT', () => 'isotonicRegression: weights length differs from y');
  const sign = increasing ? 1 : -1;
  // Blocks on a stack: mean, weight and start index.
  const means = new Float64Array(n);
  const blockWeights = new Float64Array(n);
  const starts = new Int32Array(n);
  let blocks = 0;
  for (let i = 0; i < n; i++) {
    const value = sign * (y[i] as number);
    const w = weights === undefined ? 1 : (weights[i] as number);
    ensure(Number.isFinite(value) && Number.isFinite(w) && w >= 0, 'E_INPUT', () => `isotonicRegression: row ${i} is not finite`);
    let mean = value;
    let weight = w;
    let start = i;
    while (blocks > 0 && (means[blocks - 1] as number) >= mean) {
      const previousWeight = blockWeights[blocks - 1] as number;
      const total = previousWeight + weight;
      mean = total > 0 ? ((means[blocks - 1] as number) * previousWeight + mean * weight) / total : mean;
      weight = total;
      start = starts[blocks - 1] as number;
      blocks--;
    }
    means[blocks] = mean;
    blockWeights[blocks] = weight;
    starts[blocks] = start;
    blocks++;
  }
  const out = new Float64Array(n);
  for (let b = 0; b < blocks; b++) {
    const end = b + 1 < blocks ? (starts[b + 1] as number) : n;
    out.fill(sign * (means[b] as number), starts[b] as number, end);
  }
  return out;
}

/**
 * The isotonic calibrator, fitted or not; {@link calibratorFromJSON} builds a fitted one.
 *
 * @internal
 */
export class IsotonicCalibrator extends BaseCalibrator {
  readonly kind = 'isotonic' as const;
  private x: Float64Array = new Float64Array(0);
  private y: Float64Array = new Float64Array(0);

  constructor(fitted?: { x: Float64Array; y: Float64Array }) {
    super();
    if (fitted) {
      this.x = fitted.x;
      this.y = fitted.y;
    }
  }

  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator {
    const n = checkScoredRows('isotonic.fit', labels, scores, weights, 'finite');
    const order = argsort(scores);
    // Merge rows with equal scores first (weighted mean label), as scikit-learn does.
    const ux = new Float64Array(n);
    const uy = new Float64Array(n);
    const uw = new Float64Array(n);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const index = order[k] as number;
      const s = scores[index] as number;
      const w = weights === undefined ? 1 : (weights[index] as number);
      const label = labels[index] as number;
      if (m > 0 && ux[m - 1] === s) {
        uy[m - 1] = (uy[m - 1] as number) + w * label;
        uw[m - 1] = (uw[m - 1] as number) + w;
      } else {
        ux[m] = s;
        uy[m] = w * label;
        uw[m] = w;
        m++;
      }
    }
    let kept = 0;
    for (let i = 0; i < m; i++) {
      const w = uw[i] as number;
      if (w <= 0) continue;
      ux[kept] = ux[i] as number;
      uy[kept] = (uy[i] as number) / w;
      uw[kept] = w;
      kept++;
    }
    ensure(kept > 0, 'E_INPUT', () => 'isotonic.fit: every weight is zero');
    const fitted = isotonicRegression(uy.subarray(0, kept), uw.subarray(0, kept));
    // Keep only the ends of each constant run: interpolation between them is the same function.
    const keepX: number[] = [];
    const keepY: number[] = [];
    for (let i = 0; i < kept; i++) {
      const value = fitted[i] as number;
      const interior = i > 0 && i < kept - 1 && fitted[i - 1] === value && fitted[i + 1] === value;
      if (!interior) {
        keepX.push(ux[i] as number);
        keepY.push(Math.min(1, Math.max(0, value)));
      }
    }
    this.x = Float64Array.from(keepX);
    this.y = Float64Array.from(keepY);
    return this;
  }

  applyOne(score: number): number {
    const x = this.x;
    const y = this.y;
    const last = x.length - 1;
    if (score !== score) return Number.NaN;
    if (score <= (x[0] as number)) return y[0] as number;
    if (score >= (x[last] as number)) return y[last] as number;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((x[mid] as number) <= score) lo = mid;
      else hi = mid;
    }
    const x0 = x[lo] as number;
    const x1 = x[hi] as number;
    const y0 = y[lo] as number;
    return y0 + ((score - x0) * ((y[hi] as number) - y0)) / (x1 - x0);
  }

  isFitted(): boolean {
    return this.x.length > 0;
  }

  toJSON(): CalibratorJSON {
    ensure(this.isFitted(), 'E_STATE', () => 'isotonic calibrator: call fit() before toJSON()');
    return { kind: 'isotonic', x: Array.from(this.x), y: Array.from(this.y) };
  }
}

/**
 * Creates an unfitted isotonic-regression calibrator: a non-decreasing step function fitted by
 * pool-adjacent-violators (weighted), linearly interpolated between steps, clamped outside the
 * fitted range, with outputs in [0, 1].
 *
 * @returns A calibrator to `fit`.
 * @example
 * ```ts
 * import { createIsotonicCalibrator } from '@ctrkit/core';
 * const iso = createIsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]);
 * console.log(iso.applyOne(0.05), iso.applyOne(0.4)); // 0 1
 * ```
 */
export function createIsotonicCalibrator(): Calibrator {
  return new IsotonicCalibrator();
}
