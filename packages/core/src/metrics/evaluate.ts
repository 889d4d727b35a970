/**
 * The headline figures of a model on a set of rows, computed in one call.
 */
import { checkScoredRows } from '../validate.js';
import type { Numbers } from './numbers.js';
import { expectedCalibrationError } from './calibration-error.js';
import { logLoss, normalizedEntropy } from './log-loss.js';
import { auc } from './ranking.js';

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
  /** Normalized entropy (NaN when one class is missing). */
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
