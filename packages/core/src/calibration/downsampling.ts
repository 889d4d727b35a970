/**
 * The correction for negative downsampling: what a model trained on a fraction of the non-clicks
 * predicts, mapped back to the true click rate.
 */
import { ensure } from '../errors.js';
import { BaseCalibrator, type Calibrator, type CalibratorJSON } from './calibrator.js';

/**
 * The negative-downsampling correction.
 *
 * @internal
 */
export class DownsamplingCorrection extends BaseCalibrator {
  readonly kind = 'downsampling' as const;
  constructor(private readonly negativeRate: number) {
    super();
  }
  fit(): Calibrator {
    return this;
  }
  applyOne(p: number): number {
    return p / (p + (1 - p) / this.negativeRate);
  }
  isFitted(): boolean {
    return true;
  }
  toJSON(): CalibratorJSON {
    return { kind: 'downsampling', negativeRate: this.negativeRate };
  }
}

/**
 * The correction for negative downsampling: a model trained on all clicks and a fraction `w` of
 * non-clicks predicts p; the true rate is q = p / (p + (1 − p) / w). Needs no fitting.
 *
 * @param negativeRate - The fraction of negatives kept in training, in (0, 1].
 * @returns A calibrator (its `fit` does nothing).
 * @throws {@link CtrkitError} `E_CONFIG` when the rate is not in (0, 1].
 * @example
 * ```ts
 * import { createDownsamplingCorrection } from '@ctrkit/core';
 * const correction = createDownsamplingCorrection(0.1);
 * console.log(correction.applyOne(0.5).toFixed(4)); // 0.0909
 * ```
 */
export function createDownsamplingCorrection(negativeRate: number): Calibrator {
  ensure(
    Number.isFinite(negativeRate) && negativeRate > 0 && negativeRate <= 1,
    'E_CONFIG',
    () => `negativeRate must be in (0, 1], got ${negativeRate}`,
  );
  return new DownsamplingCorrection(negativeRate);
}
