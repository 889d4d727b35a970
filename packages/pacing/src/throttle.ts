import type { ControllerState, ControlSignal, PacingController } from './controller.js';
import { checkRange, checkSignal, clamp, expectKind, field, relativeOverspend, stateOf } from './controller-util.js';

/**
 * Options for {@link createThrottleController}.
 *
 * @example
 * ```ts
 * import type { ThrottleOptions } from '@ctrkit/pacing';
 * const options: ThrottleOptions = { initialRate: 0.2, maxStep: 0.5 };
 * ```
 */
export interface ThrottleOptions {
  /** Pass-through rate to start from (default 0.1: start low, since overspending early cannot be undone). */
  readonly initialRate?: number;
  /** Lowest rate (default 1e-4). */
  readonly minRate?: number;
  /** Highest rate (default 1). */
  readonly maxRate?: number;
  /** Largest relative change per interval: the rate moves by a factor in [1/(1+maxStep), 1+maxStep] (default 1). */
  readonly maxStep?: number;
}

/**
 * Probabilistic throttling (Agarwal, Ghosh, Kaplan, Sanghavi, "Budget pacing for targeted online
 * advertisements at LinkedIn", KDD 2014): each bid request passes with probability `admitRate`;
 * after each interval the rate is scaled by `target / spent`, clipped to one step of at most
 * `1 + maxStep` either way and to [minRate, maxRate]. Bids are left unchanged (multiplier 1).
 *
 * @param options - Start, bounds and step size.
 * @returns The controller.
 * @throws CtrkitError `E_CONFIG` on out-of-range options.
 * @example
 * ```ts
 * import { createThrottleController } from '@ctrkit/pacing';
 * const throttle = createThrottleController({ initialRate: 0.5 });
 * const next = throttle.update(throttle.initial(), { target: 2, spent: 4, remaining: 10, budget: 20 });
 * console.log(next.admitRate); // 0.25: spent twice the target, so pass half as many requests
 * ```
 */
export function createThrottleController(options: ThrottleOptions = {}): PacingController {
  const { initialRate = 0.1, minRate = 1e-4, maxRate = 1, maxStep = 1 } = options;
  checkRange('throttle maxRate', maxRate, 0, 1, true);
  checkRange('throttle minRate', minRate, 0, maxRate, true);
  checkRange('throttle initialRate', initialRate, minRate, maxRate);
  checkRange('throttle maxStep', maxStep, 0, 100, true);
  const up = 1 + maxStep;
  const down = 1 / up;
  return {
    kind: 'throttle',
    multiplierBounds: [1, 1],
    admitRateBounds: [minRate, maxRate],
    initial: () => ({ kind: 'throttle', admitRate: initialRate, multiplier: 1 }),
    update(state: ControllerState, signal: ControlSignal): ControllerState {
      const current = expectKind(state, 'throttle');
      checkSignal(signal);
      const error = relativeOverspend(signal, maxStep);
      // target / spent, written so that spent = 0 gives the largest step up instead of ∞.
      const factor = clamp(1 / Math.max(1 + error, down), down, up);
      return { kind: 'throttle', admitRate: clamp(current.admitRate * factor, minRate, maxRate), multiplier: 1 };
    },
    validate(state: unknown): ControllerState {
      const s = stateOf(state, 'throttle');
      return { kind: 'throttle', admitRate: field(s, 'admitRate', 'throttle', minRate, maxRate), multiplier: 1 };
    },
  };
}
