/**
 * @internal Whether a model is better than a simpler one on the same validation rows by more than
 * the noise of those rows: the one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani
 * and Friedman, §7.10) on the paired per-row log-loss differences. `fitModel` keeps the simpler
 * model — the LR a DeepFM starts from, the LR beside an FM — unless the other beats it by more
 * than one standard error of the mean difference, so a gain the validation rows cannot tell from
 * luck does not swap a linear model for one with many more parameters.
 */

const EPS = 1e-7;

function rowLoss(label: number, p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return label === 1 ? -Math.log(q) : -Math.log(1 - q);
}

/**
 * @internal The mean per-row log-loss gain of `candidate` over `simpler` and its standard error.
 *
 * @param labels - 0/1 labels of the validation rows.
 * @param simpler - The simpler model's probabilities on them.
 * @param candidate - The other model's.
 * @returns `gain` (positive: the candidate's log loss is lower) and `standardError`.
 */
export function pairedLogLossGain(labels: ArrayLike<number>, simpler: ArrayLike<number>, candidate: ArrayLike<number>): { readonly gain: number; readonly standardError: number } {
  const n = labels.length;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const d = rowLoss(y, simpler[i] as number) - rowLoss(y, candidate[i] as number);
    sum += d;
    sumSquares += d * d;
  }
  if (n < 2) return { gain: n === 1 ? sum : 0, standardError: Number.POSITIVE_INFINITY };
  const mean = sum / n;
  const variance = Math.max(0, (sumSquares - n * mean * mean) / (n - 1));
  return { gain: mean, standardError: Math.sqrt(variance / n) };
}

/**
 * @internal Whether `candidate` beats `simpler` by more than one standard error (see the file comment).
 *
 * @param labels - 0/1 labels of the validation rows.
 * @param simpler - The simpler model's probabilities on them.
 * @param candidate - The other model's.
 * @returns True when the mean gain exceeds its standard error.
 */
export function clearlyBetter(labels: ArrayLike<number>, simpler: ArrayLike<number>, candidate: ArrayLike<number>): boolean {
  const { gain, standardError } = pairedLogLossGain(labels, simpler, candidate);
  return gain > standardError;
}
