/**
 * A chain of calibrators, each applied to the previous one's output (a downsampling correction,
 * then Platt or isotonic).
 */
import { ensure } from '../errors.js';
import type { Numbers } from '../metrics/numbers.js';
import { BaseCalibrator, type Calibrator, type CalibratorJSON } from './calibrator.js';

/**
 * Calibrators applied one after another.
 *
 * @internal
 */
export class ChainCalibrator extends BaseCalibrator {
  readonly kind = 'chain' as const;
  constructor(private readonly steps: readonly Calibrator[]) {
    super();
  }
  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator {
    let current: Numbers = scores;
    for (const step of this.steps) {
      step.fit(current, labels, weights);
      current = step.apply(current, new Float64Array(current.length));
    }
    return this;
  }
  applyOne(score: number): number {
    let value = score;
    for (const step of this.steps) value = step.applyOne(value);
    return value;
  }
  isFitted(): boolean {
    return this.steps.every((step) => step.isFitted());
  }
  toJSON(): CalibratorJSON {
    return { kind: 'chain', steps: this.steps.map((step) => step.toJSON()) };
  }
}

/**
 * Chains calibrators: each applies to the previous one's output. `fit` fits them in order, each
 * on the output of those before it (fit a downsampling correction first, then isotonic).
 *
 * @param steps - The calibrators, first applied first.
 * @returns The chain.
 * @throws {@link CtrkitError} `E_CONFIG` when `steps` is empty.
 * @example
 * ```ts
 * import { chainCalibrators, createDownsamplingCorrection, createPlattCalibrator } from '@ctrkit/core';
 * const chain = chainCalibrators([createDownsamplingCorrection(0.5), createPlattCalibrator()]);
 * chain.fit([0.2, 0.4, 0.6, 0.8], [0, 0, 1, 1]);
 * ```
 */
export function chainCalibrators(steps: readonly Calibrator[]): Calibrator {
  ensure(steps.length > 0, 'E_CONFIG', () => 'chainCalibrators needs at least one step');
  return new ChainCalibrator([...steps]);
}
