import { CtrkitError, ensure } from './errors.js';
import { argsort } from './sort.js';
import { checkScoredRows } from './validate.js';

/** Labels (0/1), scores or weights: any array-like of numbers, typed arrays included.
 *
 * @example
 * ```ts
 * import type { Numbers } from '@ctrkit/core';
 * const labels: Numbers = new Uint8Array([0, 1]);
 * ```
 */
export type Numbers = ArrayLike<number>;

/**
 * Area under the ROC curve, exact: tied scores share their mid-rank, rows may carry weights.
 * Scores may be probabilities, logits or any finite ranking score.
 *
 * @param labels - 0/1 per row.
 * @param scores - Finite score per row; higher means more likely positive.
 * @param weights - Optional non-negative weight per row.
 * @returns AUC in [0, 1].
 * @throws {@link CtrkitError} `E_INPUT` on empty or mismatched arrays, labels other than 0/1,
 * non-finite scores, negative weights, or when one class has no weight.
 * @remarks O(n) radix sort plus one pass; about 0.1–0.2 s per million rows.
 * @example
 * ```ts
 * import { auc } from '@ctrkit/core';
 * console.log(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])); // 0.75
 * ```
 */
export function auc(labels: Numbers, scores: Numbers, weights?: Numbers): number {
  const n = checkScoredRows('auc', labels, scores, weights, 'finite');
  const order = argsort(scores);
  let negativeBelow = 0;
  let numerator = 0;
  let totalPositive = 0;
  let i = 0;
  while (i < n) {
    const score = scores[order[i] as number] as number;
    let groupPositive = 0;
    let groupNegative = 0;
    let j = i;
    for (; j < n; j++) {
      const index = order[j] as number;
      if ((scores[index] as number) !== score) break;
      const w = weights === undefined ? 1 : (weights[index] as number);
      if (labels[index] === 1) groupPositive += w;
      else groupNegative += w;
    }
    numerator += groupPositive * (negativeBelow + 0.5 * groupNegative);
    negativeBelow += groupNegative;
    totalPositive += groupPositive;
    i = j;
  }
  if (totalPositive === 0 || negativeBelow === 0) {
    throw new CtrkitError(
      'E_INPUT',
      `auc: needs both classes, but the rows hold ${totalPositive === 0 ? 'no positive' : 'no negative'} label weight`,
    );
  }
  return numerator / (totalPositive * negativeBelow);
}

/** Options for {@link logLoss} and {@link normalizedEntropy}.
 *
 * @example
 * ```ts
 * import type { LogLossOptions } from '@ctrkit/core';
 * const options: LogLossOptions = { eps: 1e-7 };
 * ```
 */
export interface LogLossOptions {
  /** Probabilities are clipped to [eps, 1 − eps] (default 1e-15). */
  readonly eps?: number;
  /** Optional non-negative weight per row. */
  readonly weights?: Numbers;
}

/**
 * Mean binary cross-entropy (natural log), with probabilities clipped away from 0 and 1.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row, in [0, 1].
 * @param options - Clipping and weights.
 * @returns The (weighted) mean log loss.
 * @throws {@link CtrkitError} `E_INPUT` on empty or mismatched arrays, bad labels or probabilities outside [0, 1].
 * @example
 * ```ts
 * import { logLoss } from '@ctrkit/core';
 * // scikit-learn's example: log_loss(["spam","ham","ham","spam"], [[.1,.9],[.9,.1],[.8,.2],[.35,.65]])
 * console.log(logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65]).toFixed(5)); // 0.21616
 * ```
 */
export function logLoss(labels: Numbers, probabilities: Numbers, options: LogLossOptions = {}): number {
  const { eps = 1e-15, weights } = options;
  ensure(eps > 0 && eps < 0.5, 'E_INPUT', () => `logLoss: eps must be in (0, 0.5), got ${eps}`);
  const n = checkScoredRows('logLoss', labels, probabilities, weights);
  let sum = 0;
  let totalWeight = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(probabilities[i] as number, eps), 1 - eps);
    const w = weights === undefined ? 1 : (weights[i] as number);
    sum -= w * (labels[i] === 1 ? Math.log(p) : Math.log(1 - p));
    totalWeight += w;
  }
  ensure(totalWeight > 0, 'E_INPUT', () => 'logLoss: the weights sum to zero');
  return sum / totalWeight;
}

/** Binary entropy (nats) of a Bernoulli variable with mean `p`. @internal */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

/**
 * Normalised entropy (He et al., 2014): log loss divided by the entropy of the background CTR.
 * Below 1 the model beats always predicting the average CTR; lower is better.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param options - Clipping and weights, as for {@link logLoss}.
 * @returns Normalised entropy, ≥ 0.
 * @throws {@link CtrkitError} `E_INPUT` on bad input, or when every label is the same (zero background entropy).
 * @example
 * ```ts
 * import { normalizedEntropy } from '@ctrkit/core';
 * console.log(normalizedEntropy([0, 1, 0, 0], [0.25, 0.25, 0.25, 0.25]).toFixed(3)); // 1.000
 * ```
 */
export function normalizedEntropy(labels: Numbers, probabilities: Numbers, options: LogLossOptions = {}): number {
  const loss = logLoss(labels, probabilities, options);
  const ctr = meanLabel(labels, options.weights);
  const background = binaryEntropy(ctr);
  ensure(
    background > 0,
    'E_INPUT',
    () => `normalizedEntropy: every label is ${ctr === 0 ? 0 : 1}, so the background entropy is zero`,
  );
  return loss / background;
}

function meanLabel(labels: Numbers, weights?: Numbers): number {
  let positive = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    positive += w * (labels[i] as number);
    total += w;
  }
  return total === 0 ? 0 : positive / total;
}

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

/** Precision and recall among the `k` highest-scored rows.
 *
 * @example
 * ```ts
 * import type { TopKResult } from '@ctrkit/core';
 * const top: TopKResult = { k: 2, precision: 0.5, recall: 1 };
 * ```
 */
export interface TopKResult {
  /** The cut-off actually used (at most the row count). */
  readonly k: number;
  /** Positives in the top k over k. */
  readonly precision: number;
  /** Positives in the top k over all positives (0 when there are none). */
  readonly recall: number;
}

/**
 * Precision and recall at `k`: how many of the `k` best-scored rows are positives. Ties at the
 * cut-off are broken by row order (earlier first), so the result is deterministic.
 *
 * @param labels - 0/1 per row.
 * @param scores - Finite score per row.
 * @param k - How many top rows to keep (≥ 1).
 * @returns Precision and recall at k.
 * @throws {@link CtrkitError} `E_INPUT` on bad input or k < 1.
 * @example
 * ```ts
 * import { precisionRecallAtK } from '@ctrkit/core';
 * console.log(precisionRecallAtK([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], 2)); // { k: 2, precision: 0.5, recall: 0.5 }
 * ```
 */
export function precisionRecallAtK(labels: Numbers, scores: Numbers, k: number): TopKResult {
  const n = checkScoredRows('precisionRecallAtK', labels, scores, undefined, 'finite');
  ensure(Number.isInteger(k) && k >= 1, 'E_INPUT', () => `k must be an integer ≥ 1, got ${k}`);
  const negated = new Float64Array(n);
  for (let i = 0; i < n; i++) negated[i] = -(scores[i] as number);
  const order = argsort(negated);
  const cut = Math.min(k, n);
  let hits = 0;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] as number;
  for (let r = 0; r < cut; r++) hits += labels[order[r] as number] as number;
  return { k: cut, precision: hits / cut, recall: positives === 0 ? 0 : hits / positives };
}

/** Points of a ROC curve, one per distinct threshold, starting at (0, 0).
 *
 * @example
 * ```ts
 * import type { RocCurve } from '@ctrkit/core';
 * const curve: RocCurve = { fpr: new Float64Array([0, 1]), tpr: new Float64Array([0, 1]), thresholds: new Float64Array([Infinity, 0]) };
 * ```
 */
export interface RocCurve {
  /** False-positive rates, non-decreasing. */
  readonly fpr: Float64Array;
  /** True-positive rates, non-decreasing. */
  readonly tpr: Float64Array;
  /** Score thresholds, decreasing (the first is +∞). */
  readonly thresholds: Float64Array;
}

/**
 * The ROC curve at every distinct score (for plotting; use {@link auc} for the area).
 *
 * @param labels - 0/1 per row.
 * @param scores - Finite score per row.
 * @param maxPoints - Optional cap on the number of points returned (evenly thinned, ends kept).
 * @returns FPR, TPR and thresholds.
 * @throws {@link CtrkitError} `E_INPUT` on bad input or a single-class label set.
 * @example
 * ```ts
 * import { rocCurve } from '@ctrkit/core';
 * const { fpr, tpr } = rocCurve([0, 1], [0.2, 0.7]);
 * console.log(Array.from(fpr), Array.from(tpr)); // [0, 0, 1] [0, 1, 1]
 * ```
 */
export function rocCurve(labels: Numbers, scores: Numbers, maxPoints?: number): RocCurve {
  const n = checkScoredRows('rocCurve', labels, scores, undefined, 'finite');
  const negated = new Float64Array(n);
  for (let i = 0; i < n; i++) negated[i] = -(scores[i] as number);
  const order = argsort(negated);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] as number;
  const negatives = n - positives;
  ensure(positives > 0 && negatives > 0, 'E_INPUT', () => 'rocCurve: needs both positive and negative labels');
  const fpr: number[] = [0];
  const tpr: number[] = [0];
  const thresholds: number[] = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < n; r++) {
    const index = order[r] as number;
    if (labels[index] === 1) tp++;
    else fp++;
    const next = r + 1 < n ? (scores[order[r + 1] as number] as number) : Number.NaN;
    if (next !== scores[index]) {
      fpr.push(fp / negatives);
      tpr.push(tp / positives);
      thresholds.push(scores[index] as number);
    }
  }
  let keep = fpr.map((_, i) => i);
  if (maxPoints !== undefined && maxPoints >= 2 && keep.length > maxPoints) {
    const step = (keep.length - 1) / (maxPoints - 1);
    keep = Array.from({ length: maxPoints }, (_, i) => Math.round(i * step));
  }
  return {
    fpr: Float64Array.from(keep, (i) => fpr[i] as number),
    tpr: Float64Array.from(keep, (i) => tpr[i] as number),
    thresholds: Float64Array.from(keep, (i) => thresholds[i] as number),
  };
}

/** The headline figures of a CTR model on a set of rows.
 *
 * @example
 * ```ts
 * import type { EvaluationSummary } from '@ctrkit/core';
 * const summary: EvaluationSummary = { rows: 2, auc: 1, logloss: 0.1, ne: 0.2, calibration: 1, ece: 0.01 };
 * ```
 */
export interface EvaluationSummary {
  /** Number of rows scored. */
  readonly rows: number;
  /** ROC AUC (NaN when one class is missing). */
  readonly auc: number;
  /** Mean log loss. */
  readonly logloss: number;
  /** Normalised entropy (NaN when one class is missing). */
  readonly ne: number;
  /** Calibration ratio: mean prediction / mean label. */
  readonly calibration: number;
  /** Expected calibration error, 10 equal-width bins. */
  readonly ece: number;
}

/**
 * Computes {@link EvaluationSummary}: rows, AUC, log loss, NE, calibration ratio and ECE.
 * Unlike the single metrics it does not throw when one class is absent; AUC and NE are NaN then.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @returns The summary.
 * @throws {@link CtrkitError} `E_INPUT` on malformed input.
 * @example
 * ```ts
 * import { evaluate } from '@ctrkit/core';
 * const summary = evaluate([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]);
 * console.log(summary.auc); // 1
 * ```
 */
export function evaluate(labels: Numbers, probabilities: Numbers): EvaluationSummary {
  const n = checkScoredRows('evaluate', labels, probabilities);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] as number;
  const bothClasses = positives > 0 && positives < n;
  let predicted = 0;
  for (let i = 0; i < n; i++) predicted += probabilities[i] as number;
  return {
    rows: n,
    auc: bothClasses ? auc(labels, probabilities) : Number.NaN,
    logloss: logLoss(labels, probabilities),
    ne: bothClasses ? normalizedEntropy(labels, probabilities) : Number.NaN,
    calibration: positives === 0 ? (predicted === 0 ? 1 : Number.POSITIVE_INFINITY) : predicted / positives,
    ece: expectedCalibrationError(labels, probabilities),
  };
}
