/**
 * How far predicted probabilities are from observed click rates: the calibration ratio,
 * reliability bins, expected calibration error and its field-relative variant.
 */
import { ensure } from '../errors.js';
import { argsort } from '../sort.js';
import { checkScoredRows } from '../validate.js';
import type { Numbers } from './numbers.js';

/**
 * Calibration ratio: mean prediction over mean label. 1 is calibrated; above 1 over-predicts.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param weights - Optional non-negative weight per row.
 * @returns The ratio (∞ when there are no positives but predictions are positive).
 * @throws {@link CtrkitError} `E_INPUT` on bad input, or when both means are zero.
 * @example
 * ```ts
 * import { calibrationRatio } from '@ctrkit/core';
 * console.log(calibrationRatio([0, 1, 0, 0], [0.5, 0.5, 0.5, 0.5])); // 2
 * ```
 */
export function calibrationRatio(labels: Numbers, probabilities: Numbers, weights?: Numbers): number {
  const n = checkScoredRows('calibrationRatio', labels, probabilities, weights);
  let predicted = 0;
  let observed = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    predicted += w * (probabilities[i] as number);
    observed += w * (labels[i] as number);
  }
  ensure(predicted > 0 || observed > 0, 'E_INPUT', () => 'calibrationRatio: predictions and labels are all zero');
  return observed === 0 ? Number.POSITIVE_INFINITY : predicted / observed;
}

/** How {@link reliabilityBins} and {@link expectedCalibrationError} cut the score range.
 * `uniform`: equal-width bins over [0, 1]; `quantile`: equal-mass bins (each holds ~n / bins rows).
 *
 * @example
 * ```ts
 * import type { BinStrategy } from '@ctrkit/core';
 * const strategy: BinStrategy = 'quantile';
 * ```
 */
export type BinStrategy = 'uniform' | 'quantile';

/** Options for binned calibration measures.
 *
 * @example
 * ```ts
 * import type { CalibrationBinOptions } from '@ctrkit/core';
 * const options: CalibrationBinOptions = { bins: 20, strategy: 'quantile' };
 * ```
 */
export interface CalibrationBinOptions {
  /** Number of bins (default 10). */
  readonly bins?: number;
  /** Equal width or equal mass (default `uniform`). */
  readonly strategy?: BinStrategy;
  /** Optional non-negative weight per row. */
  readonly weights?: Numbers;
}

/** One bin of a reliability diagram.
 *
 * @example
 * ```ts
 * import type { ReliabilityBin } from '@ctrkit/core';
 * const bin: ReliabilityBin = { lower: 0, upper: 0.1, weight: 40, meanPrediction: 0.05, meanLabel: 0.06 };
 * ```
 */
export interface ReliabilityBin {
  /** Lowest score in the bin (inclusive). */
  readonly lower: number;
  /** Highest score in the bin. */
  readonly upper: number;
  /** Total weight (row count when unweighted). */
  readonly weight: number;
  /** Weighted mean prediction. */
  readonly meanPrediction: number;
  /** Weighted mean label (observed CTR). */
  readonly meanLabel: number;
}

/**
 * The points of a reliability diagram: rows grouped by predicted probability, with the mean
 * prediction and the observed rate in each non-empty bin.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param options - Bin count, strategy and weights.
 * @returns Non-empty bins in increasing score order.
 * @throws {@link CtrkitError} `E_INPUT` on bad input or a bin count below 1.
 * @example
 * ```ts
 * import { reliabilityBins } from '@ctrkit/core';
 * const bins = reliabilityBins([0, 1, 1, 0], [0.1, 0.8, 0.9, 0.2], { bins: 2 });
 * console.log(bins.map((b) => b.meanLabel)); // [0, 1]
 * ```
 */
export function reliabilityBins(
  labels: Numbers,
  probabilities: Numbers,
  options: CalibrationBinOptions = {},
): ReliabilityBin[] {
  const { bins = 10, strategy = 'uniform', weights } = options;
  ensure(Number.isInteger(bins) && bins >= 1, 'E_INPUT', () => `bins must be an integer ≥ 1, got ${bins}`);
  const n = checkScoredRows('reliabilityBins', labels, probabilities, weights);
  const binOf = new Int32Array(n);
  if (strategy === 'uniform') {
    for (let i = 0; i < n; i++) binOf[i] = Math.min(bins - 1, Math.floor((probabilities[i] as number) * bins));
  } else {
    // Equal mass: walk rows in score order and cut at cumulative weight b/bins; ties stay together.
    const order = argsort(probabilities);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights === undefined ? 1 : (weights[i] as number);
    let cumulative = 0;
    let bin = 0;
    for (let k = 0; k < n; k++) {
      const index = order[k] as number;
      const previous = k > 0 ? (probabilities[order[k - 1] as number] as number) : Number.NaN;
      if (previous !== probabilities[index]) {
        while (bin < bins - 1 && cumulative >= ((bin + 1) * total) / bins) bin++;
      }
      binOf[index] = bin;
      cumulative += weights === undefined ? 1 : (weights[index] as number);
    }
  }
  const weightSum = new Float64Array(bins);
  const predictionSum = new Float64Array(bins);
  const labelSum = new Float64Array(bins);
  const lower = new Float64Array(bins).fill(Number.POSITIVE_INFINITY);
  const upper = new Float64Array(bins).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    const b = binOf[i] as number;
    const w = weights === undefined ? 1 : (weights[i] as number);
    const p = probabilities[i] as number;
    weightSum[b] = (weightSum[b] as number) + w;
    predictionSum[b] = (predictionSum[b] as number) + w * p;
    labelSum[b] = (labelSum[b] as number) + w * (labels[i] as number);
    if (p < (lower[b] as number)) lower[b] = p;
    if (p > (upper[b] as number)) upper[b] = p;
  }
  const result: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const w = weightSum[b] as number;
    if (w <= 0) continue;
    result.push({
      lower: lower[b] as number,
      upper: upper[b] as number,
      weight: w,
      meanPrediction: (predictionSum[b] as number) / w,
      meanLabel: (labelSum[b] as number) / w,
    });
  }
  return result;
}

/**
 * Expected calibration error: the weighted mean, over bins, of |mean prediction − observed rate|.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param options - Bin count (default 10), `uniform` (equal width) or `quantile` (equal mass), weights.
 * @returns ECE in [0, 1].
 * @throws {@link CtrkitError} `E_INPUT` on bad input.
 * @example
 * ```ts
 * import { expectedCalibrationError } from '@ctrkit/core';
 * console.log(expectedCalibrationError([0, 1], [0.2, 0.6], { bins: 2 })); // 0.3
 * ```
 */
export function expectedCalibrationError(
  labels: Numbers,
  probabilities: Numbers,
  options: CalibrationBinOptions = {},
): number {
  const bins = reliabilityBins(labels, probabilities, options);
  let total = 0;
  let error = 0;
  for (const bin of bins) {
    total += bin.weight;
    error += bin.weight * Math.abs(bin.meanPrediction - bin.meanLabel);
  }
  return total === 0 ? 0 : error / total;
}

/**
 * Field-level relative calibration error (Pan et al., 2020): rows are grouped by the value of one
 * field (say, the advertiser); each group contributes |Σ(y − p)| / (Σy + ε), weighted by its share
 * of rows. It exposes miscalibration that cancels out globally.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param groups - The field's value per row.
 * @param epsilon - Added to each group's positive count to keep the ratio finite (default 1).
 * @returns The field-level RCE, ≥ 0.
 * @throws {@link CtrkitError} `E_INPUT` on bad input or when `groups` has a different length.
 * @example
 * ```ts
 * import { fieldRelativeCalibrationError } from '@ctrkit/core';
 * const rce = fieldRelativeCalibrationError([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], ['a', 'a', 'b', 'b']);
 * console.log(rce); // 0
 * ```
 */
export function fieldRelativeCalibrationError(
  labels: Numbers,
  probabilities: Numbers,
  groups: ArrayLike<string | number>,
  epsilon = 1,
): number {
  const n = checkScoredRows('fieldRelativeCalibrationError', labels, probabilities);
  ensure(groups.length === n, 'E_INPUT', () => `groups has ${groups.length} rows but labels has ${n}`);
  const residual = new Map<string | number, { diff: number; positives: number; count: number }>();
  for (let i = 0; i < n; i++) {
    const key = groups[i] as string | number;
    let entry = residual.get(key);
    if (entry === undefined) {
      entry = { diff: 0, positives: 0, count: 0 };
      residual.set(key, entry);
    }
    const y = labels[i] as number;
    entry.diff += y - (probabilities[i] as number);
    entry.positives += y;
    entry.count += 1;
  }
  let sum = 0;
  for (const entry of residual.values()) sum += (entry.count * Math.abs(entry.diff)) / (entry.positives + epsilon);
  return sum / n;
}
