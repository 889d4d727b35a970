/**
 * The identity calibrator: scores pass unchanged, for models that need no calibration.
 */
import { BaseCalibrator, type Calibrator, type CalibratorJSON } from './calibrator.js';

/**
 * The calibrator that changes nothing.
 *
 * @internal
 */
export class IdentityCalibrator extends BaseCalibrator {
  readonly kind = 'identity' as const;
  fit(): Calibrator {
    return this;
  }
  applyOne(p: number): number {
    return p;
  }
  isFitted(): boolean {
    return true;
  }
  toJSON(): CalibratorJSON {
    return { kind: 'identity' };
  }
}

/**
 * A calibrator that returns scores unchanged: the default when a model needs none.
 *
 * @returns The identity calibrator.
 * @example
 * ```ts
 * import { createIdentityCalibrator } from '@ctrkit/core';
 * console.log(createIdentityCalibrator().applyOne(0.3)); // 0.3
 * ```
 */
export function createIdentityCalibrator(): Calibrator {
  return new IdentityCalibrator();
}
