/**
 * A calibrator rebuilt from its JSON form, as a model manifest stores it, each kind validated.
 */
import { CtrkitError } from '../errors.js';
import type { Calibrator } from './calibrator.js';
import { ChainCalibrator } from './chain.js';
import { DownsamplingCorrection } from './downsampling.js';
import { IdentityCalibrator } from './identity.js';
import { IsotonicCalibrator } from './isotonic.js';
import { PlattCalibrator } from './platt.js';

function finiteArray(value: unknown, what: string): Float64Array {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new CtrkitError('E_INPUT', `calibrator JSON: ${what} must be a non-empty array of finite numbers`);
  }
  return Float64Array.from(value as number[]);
}

/**
 * Rebuilds a calibrator from its JSON form (as stored in a model manifest), validating it.
 *
 * @param json - What `toJSON()` returned, possibly parsed from a file.
 * @returns A fitted calibrator.
 * @throws {@link CtrkitError} `E_INPUT` when the JSON is malformed: unknown kind, non-finite or
 * unsorted isotonic points, a downsampling rate outside (0, 1].
 * @example
 * ```ts
 * import { calibratorFromJSON } from '@ctrkit/core';
 * const calibrator = calibratorFromJSON({ kind: 'platt', a: 1, b: 0, input: 'logit' });
 * console.log(calibrator.applyOne(0)); // 0.5
 * ```
 */
export function calibratorFromJSON(json: unknown): Calibrator {
  if (typeof json !== 'object' || json === null) throw new CtrkitError('E_INPUT', 'calibrator JSON must be an object');
  const value = json as Record<string, unknown>;
  switch (value.kind) {
    case 'identity':
      return new IdentityCalibrator();
    case 'platt': {
      const { a, b, input } = value;
      if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) {
        throw new CtrkitError('E_INPUT', 'platt calibrator JSON: a and b must be finite numbers');
      }
      if (input !== 'probability' && input !== 'logit') {
        throw new CtrkitError('E_INPUT', `platt calibrator JSON: input must be "probability" or "logit", got ${String(input)}`);
      }
      return new PlattCalibrator(input, 100, { a, b });
    }
    case 'isotonic': {
      const x = finiteArray(value.x, 'x');
      const y = finiteArray(value.y, 'y');
      if (x.length !== y.length) throw new CtrkitError('E_INPUT', 'isotonic calibrator JSON: x and y differ in length');
      for (let i = 1; i < x.length; i++) {
        if (!((x[i] as number) > (x[i - 1] as number)) || (y[i] as number) < (y[i - 1] as number)) {
          throw new CtrkitError('E_INPUT', `isotonic calibrator JSON: points must increase in x and not decrease in y (at ${i})`);
        }
      }
      return new IsotonicCalibrator({ x, y });
    }
    case 'downsampling': {
      const rate = value.negativeRate;
      if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
        throw new CtrkitError('E_INPUT', `downsampling calibrator JSON: negativeRate must be in (0, 1], got ${String(rate)}`);
      }
      return new DownsamplingCorrection(rate);
    }
    case 'chain': {
      if (!Array.isArray(value.steps) || value.steps.length === 0) {
        throw new CtrkitError('E_INPUT', 'chain calibrator JSON: steps must be a non-empty array');
      }
      return new ChainCalibrator(value.steps.map((step) => calibratorFromJSON(step)));
    }
    default:
      throw new CtrkitError(
        'E_INPUT',
        `calibrator JSON: unknown kind ${JSON.stringify(value.kind)}; expected identity, platt, isotonic, downsampling or chain`,
      );
  }
}
