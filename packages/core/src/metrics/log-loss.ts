/**
 * Log loss and normalized entropy (log loss over the entropy of the background click rate).
 */
import { ensure } from '../errors.js';
import { checkScoredRows } from '../validate.js';
import type { Numbers } from './numbers.js';

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
 * Normalized entropy (He et al., 2014): log loss divided by the entropy of the background CTR.
 * Below 1 the model beats always predicting the average CTR; lower is better.
 *
 * @param labels - 0/1 per row.
 * @param probabilities - Predicted click probability per row.
 * @param options - Clipping and weights, as for {@link logLoss}.
 * @returns Normalized entropy, ≥ 0.
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
