import { CtrkitError } from './errors.js';

/** @internal Checks labels/scores/weights of a metric or calibrator call and returns the row count. */
export function checkScoredRows(
  what: string,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  weights?: ArrayLike<number>,
  scoreRange: 'probability' | 'finite' = 'probability',
): number {
  const n = labels.length;
  if (n === 0) throw new CtrkitError('E_INPUT', `${what}: labels and scores are empty; pass at least one row`);
  if (scores.length !== n) {
    throw new CtrkitError(
      'E_INPUT',
      `${what}: labels has ${n} rows but scores has ${scores.length}; pass arrays of the same length`,
      { details: { labels: n, scores: scores.length } },
    );
  }
  if (weights !== undefined && weights.length !== n) {
    throw new CtrkitError(
      'E_INPUT',
      `${what}: weights has ${weights.length} rows but labels has ${n}; pass one weight per row`,
      { details: { labels: n, weights: weights.length } },
    );
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) {
      throw new CtrkitError('E_INPUT', `${what}: labels must be 0 or 1, but row ${i} is ${String(y)}`, {
        details: { row: i, label: y },
      });
    }
    const s = scores[i] as number;
    if (!Number.isFinite(s) || (scoreRange === 'probability' && (s < 0 || s > 1))) {
      throw new CtrkitError(
        'E_INPUT',
        scoreRange === 'probability'
          ? `${what}: scores must be probabilities in [0, 1], but row ${i} is ${s}`
          : `${what}: scores must be finite numbers, but row ${i} is ${s}`,
        { details: { row: i, score: s } },
      );
    }
    if (weights !== undefined) {
      const w = weights[i] as number;
      if (!Number.isFinite(w) || w < 0) {
        throw new CtrkitError('E_INPUT', `${what}: weights must be finite and ≥ 0, but row ${i} is ${w}`, {
          details: { row: i, weight: w },
        });
      }
    }
  }
  return n;
}
