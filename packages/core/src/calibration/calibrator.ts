/**
 * The {@link Calibrator} interface, its JSON form, and the base class the calibrators of this
 * folder extend.
 */
import { ensure } from '../errors.js';
import type { Numbers } from '../metrics/numbers.js';

/** The JSON form of every calibrator; {@link calibratorFromJSON} turns it back into one.
 *
 * @example
 * ```ts
 * import type { CalibratorJSON } from '@ctrkit/core';
 * const json: CalibratorJSON = { kind: 'downsampling', negativeRate: 0.1 };
 * ```
 */
export type CalibratorJSON =
  | { readonly kind: 'identity' }
  | { readonly kind: 'platt'; readonly a: number; readonly b: number; readonly input: 'probability' | 'logit' }
  | { readonly kind: 'isotonic'; readonly x: readonly number[]; readonly y: readonly number[] }
  | { readonly kind: 'downsampling'; readonly negativeRate: number }
  | { readonly kind: 'chain'; readonly steps: readonly CalibratorJSON[] };

/**
 * Maps a model's scores to calibrated click probabilities. Fitted on held-out rows, applied
 * after the model on every request.
 *
 * @example
 * ```ts
 * import { createIsotonicCalibrator } from '@ctrkit/core';
 * const calibrator = createIsotonicCalibrator().fit([0.1, 0.4, 0.6, 0.9], [0, 0, 1, 1]);
 * const calibrated = calibrator.apply(new Float32Array([0.2, 0.7]));
 * ```
 */
export interface Calibrator {
  /** Which kind of calibrator this is. */
  readonly kind: CalibratorJSON['kind'];
  /**
   * Fits the calibrator to held-out scores and labels, replacing earlier parameters.
   * Returns itself, fitted.
   */
  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator;
  /** Calibrates `scores` into `out` (allocated when absent) and returns it. NaN stays NaN. */
  apply<T extends Float32Array | Float64Array = Float32Array>(scores: Numbers, out?: T): T;
  /** Calibrates one score. */
  applyOne(score: number): number;
  /** Whether `fit` has run (or the calibrator needs no fitting). */
  isFitted(): boolean;
  /** The JSON form, for a model manifest. */
  toJSON(): CalibratorJSON;
}

/**
 * What every calibrator shares: `apply` is `applyOne` over the scores, into `out` when given.
 *
 * @internal
 */
export abstract class BaseCalibrator implements Calibrator {
  abstract readonly kind: CalibratorJSON['kind'];
  abstract fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator;
  abstract applyOne(score: number): number;
  abstract isFitted(): boolean;
  abstract toJSON(): CalibratorJSON;

  apply<T extends Float32Array | Float64Array = Float32Array>(scores: Numbers, out?: T): T {
    ensure(this.isFitted(), 'E_STATE', () => `${this.kind} calibrator: call fit() before apply()`);
    const n = scores.length;
    const target = (out ?? new Float32Array(n)) as T;
    ensure(target.length >= n, 'E_INPUT', () => `out holds ${target.length} values but ${n} scores were given`);
    for (let i = 0; i < n; i++) target[i] = this.applyOne(scores[i] as number);
    return target;
  }
}
