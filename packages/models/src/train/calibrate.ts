/**
 * The calibrator of a trained model, chosen on held-out rows: Platt scaling, isotonic regression
 * or (when asked) none at all, whichever has the lower out-of-fold log loss, then refitted on
 * every held-out row.
 * With negative downsampling, the recorded correction comes first in a chain, so the fitted
 * step sees (and repairs what remains of) corrected probabilities.
 */
import {
  chainCalibrators,
  createDownsamplingCorrection,
  createIdentityCalibrator,
  createIsotonicCalibrator,
  createPlattCalibrator,
  CtrkitError,
  logLoss,
  type Calibrator,
  type Numbers,
} from '@ctrkit/core';

/** The calibrators {@link chooseCalibrator} compares: `none` keeps the scores as they are (after
 * any downsampling correction), and wins when neither fitted calibrator beats the raw scores out of fold.
 *
 * @example
 * ```ts
 * import type { CalibratorKind } from '@ctrkit/models';
 * const kind: CalibratorKind = 'isotonic';
 * ```
 */
export type CalibratorKind = 'platt' | 'isotonic' | 'none';

/** Options of {@link chooseCalibrator}.
 *
 * @example
 * ```ts
 * import type { CalibratorChoiceOptions } from '@ctrkit/models';
 * const options: CalibratorChoiceOptions = { folds: 5, negativeRate: 0.1 };
 * ```
 */
export interface CalibratorChoiceOptions {
  /** Cross-validation folds over the held-out rows (default 5; row i belongs to fold i mod folds). */
  readonly folds?: number;
  /** The fraction of negatives the model was trained on: its downsampling correction is chained first. */
  readonly negativeRate?: number;
  /** Kinds to compare (default `['platt', 'isotonic']`; add `'none'` to let the raw scores win). */
  readonly candidates?: readonly CalibratorKind[];
}

/** What {@link chooseCalibrator} chose and why.
 *
 * @example
 * ```ts
 * import type { CalibratorChoice } from '@ctrkit/models';
 * const report = (c: CalibratorChoice) => `${c.kind}: ${c.logLoss[c.kind].toFixed(4)} vs raw ${c.logLoss.uncalibrated.toFixed(4)}`;
 * ```
 */
export interface CalibratorChoice {
  /** The winning kind. */
  readonly kind: CalibratorKind;
  /** The fitted calibrator (a chain when a downsampling correction applies; for `none`, the correction alone or the identity); store its `toJSON()` in the manifest. */
  readonly calibrator: Calibrator;
  /** Out-of-fold log loss of each candidate (∞ for one not compared; `none` is always the raw scores' loss), and of the scores without calibration (after the downsampling correction; the same as `none`). */
  readonly logLoss: { readonly platt: number; readonly isotonic: number; readonly none: number; readonly uncalibrated: number };
  /** Held-out rows used. */
  readonly rows: number;
}

function fresh(kind: CalibratorKind, negativeRate: number | undefined): Calibrator {
  const downsampled = !(negativeRate === undefined || negativeRate === 1);
  if (kind === 'none') return downsampled ? createDownsamplingCorrection(negativeRate as number) : createIdentityCalibrator();
  const step = kind === 'platt' ? createPlattCalibrator() : createIsotonicCalibrator();
  return negativeRate === undefined || negativeRate === 1 ? step : chainCalibrators([createDownsamplingCorrection(negativeRate), step]);
}

/**
 * Chooses and fits the calibrator of a model from its scores on held-out rows (rows it was not
 * trained on): each candidate is fitted on all folds but one and scored on the one left out; the
 * kind with the lower log loss over every left-out row wins and is refitted on all rows.
 *
 * @param scores - The model's click probabilities on the held-out rows.
 * @param labels - Their 0/1 labels.
 * @param options - Folds, downsampling rate, candidates.
 * @returns The fitted calibrator and the log losses that chose it.
 * @throws `CtrkitError` `E_INPUT` on mismatched or malformed arrays, fewer rows than folds, or
 *   held-out rows of one class only; `E_CONFIG` on bad options.
 * @remarks Fits `folds + 1` calibrators per candidate, each O(n log n).
 * @example
 * ```ts
 * import { chooseCalibrator } from '@ctrkit/models';
 * const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
 * const labels = [0, 0, 1, 0, 0, 1, 0, 1, 1, 1];
 * const choice = chooseCalibrator(scores, labels, { folds: 2 });
 * console.log(choice.kind, choice.calibrator.applyOne(0.5));
 * ```
 */
export function chooseCalibrator(scores: Numbers, labels: Numbers, options: CalibratorChoiceOptions = {}): CalibratorChoice {
  const { folds = 5, negativeRate, candidates = ['platt', 'isotonic'] } = options;
  if (!Number.isInteger(folds) || folds < 2) throw new CtrkitError('E_CONFIG', `chooseCalibrator: folds must be an integer ≥ 2, got ${folds}`);
  if (candidates.length === 0 || candidates.some((c) => c !== 'platt' && c !== 'isotonic' && c !== 'none')) {
    throw new CtrkitError('E_CONFIG', `chooseCalibrator: candidates must be a non-empty list of 'platt', 'isotonic' and 'none'`);
  }
  if (negativeRate !== undefined && !(negativeRate > 0 && negativeRate <= 1)) {
    throw new CtrkitError('E_CONFIG', `chooseCalibrator: negativeRate must be in (0, 1], got ${negativeRate}`);
  }
  const n = scores.length;
  if (labels.length !== n) throw new CtrkitError('E_INPUT', `chooseCalibrator: ${n} scores but ${labels.length} labels`);
  if (n < folds) throw new CtrkitError('E_INPUT', `chooseCalibrator: ${n} held-out rows are fewer than ${folds} folds; hold out more rows`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const s = scores[i] as number;
    if (y !== 0 && y !== 1) throw new CtrkitError('E_INPUT', `chooseCalibrator: label ${i} is ${String(y)}; labels must be 0 or 1`);
    if (!(s >= 0 && s <= 1)) throw new CtrkitError('E_INPUT', `chooseCalibrator: score ${i} is ${s}; scores must be probabilities in [0, 1]`);
    positives += y;
  }
  if (positives === 0 || positives === n) {
    throw new CtrkitError('E_INPUT', `chooseCalibrator: the ${n} held-out rows are all ${positives === 0 ? 'non-clicks' : 'clicks'}; hold out more rows to calibrate`);
  }
  const base = negativeRate === undefined || negativeRate === 1 ? undefined : createDownsamplingCorrection(negativeRate);
  const uncalibrated = base === undefined ? Float64Array.from(scores) : base.apply(scores, new Float64Array(n));
  const rawLoss = logLoss(labels, uncalibrated);
  const losses: Record<CalibratorKind, number> = { platt: Number.POSITIVE_INFINITY, isotonic: Number.POSITIVE_INFINITY, none: rawLoss };
  const outOfFold = new Float64Array(n);
  for (const kind of candidates) {
    if (kind === 'none') continue; // nothing to fit: its out-of-fold loss is the raw scores' loss
    for (let fold = 0; fold < folds; fold++) {
      const fitScores: number[] = [];
      const fitLabels: number[] = [];
      for (let i = 0; i < n; i++) {
        if (i % folds === fold) continue;
        fitScores.push(scores[i] as number);
        fitLabels.push(labels[i] as number);
      }
      const calibrator = fresh(kind, negativeRate).fit(fitScores, fitLabels);
      for (let i = fold; i < n; i += folds) outOfFold[i] = calibrator.applyOne(scores[i] as number);
    }
    losses[kind] = logLoss(labels, outOfFold);
  }
  // Ties go to the simpler choice: none, then Platt (two parameters), then isotonic.
  const order: readonly CalibratorKind[] = ['none', 'platt', 'isotonic'];
  let kind: CalibratorKind | undefined;
  for (const candidate of order) if (candidates.includes(candidate) && (kind === undefined || losses[candidate] < losses[kind])) kind = candidate;
  const chosen = kind as CalibratorKind;
  const calibrator = chosen === 'none' ? fresh('none', negativeRate) : fresh(chosen, negativeRate).fit(scores, labels);
  return { kind: chosen, calibrator, logLoss: { platt: losses.platt, isotonic: losses.isotonic, none: rawLoss, uncalibrated: rawLoss }, rows: n };
}
