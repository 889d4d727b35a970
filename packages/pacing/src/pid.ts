import type { ControllerState, ControlSignal, PacingController } from './controller.js';
import { checkRange, checkSignal, clamp, expectKind, field, relativeOverspend, stateOf } from './controller-util.js';

/**
 * Options for {@link createPidController}.
 *
 * @example
 * ```ts
 * import type { PidOptions } from '@ctrkit/pacing';
 * const options: PidOptions = { kp: 0.4, ki: 0.05, kd: 0.02, maxMultiplier: 1 };
 * ```
 */
export interface PidOptions {
  /** Proportional gain on the relative spend error (default 0.3). */
  readonly kp?: number;
  /** Integral gain (default 0.05 per interval). */
  readonly ki?: number;
  /** Derivative gain (default 0). */
  readonly kd?: number;
  /** Multiplier to start from (default 0.1: start low, since overspending early cannot be undone). */
  readonly initialMultiplier?: number;
  /** Lowest multiplier (default 1e-3). */
  readonly minMultiplier?: number;
  /** Highest multiplier (default 1: never bid above value). */
  readonly maxMultiplier?: number;
  /** Overspending is counted up to this many times the target per interval (default 10), so one spike cannot swamp the loop while lumpy spend is not biased by the clip. */
  readonly maxError?: number;
}

/**
 * A PID controller on the bid multiplier (Zhang, Rong, Wang, Zhu, Wang, "Feedback control of
 * real-time display advertising", WSDM 2016): the error is the interval's relative spend shortfall
 * `e = (target − spent) / target` (clipped to [−maxError, 1]), and
 * `multiplier = exp(φ₀ + kp·e + ki·Σe + kd·Δe)`, clipped to [minMultiplier, maxMultiplier]. The
 * integral stops accumulating while the output is saturated (anti-windup), so a dead hour does not
 * leave a debt that overshoots afterwards.
 *
 * @param options - Gains, start and bounds.
 * @returns The controller.
 * @throws CtrkitError `E_CONFIG` on out-of-range options.
 * @example
 * ```ts
 * import { createPidController } from '@ctrkit/pacing';
 * const pid = createPidController();
 * const next = pid.update(pid.initial(), { target: 1, spent: 0.2, remaining: 50, budget: 100 });
 * console.log(next.multiplier > 0.1); // true: underspent, so bid higher
 * ```
 */
export function createPidController(options: PidOptions = {}): PacingController {
  const { kp = 0.3, ki = 0.05, kd = 0, initialMultiplier = 0.1, minMultiplier = 1e-3, maxMultiplier = 1, maxError = 10 } = options;
  checkRange('pid kp', kp, 0, 100);
  checkRange('pid ki', ki, 0, 100);
  checkRange('pid kd', kd, 0, 100);
  checkRange('pid maxMultiplier', maxMultiplier, 0, 1e6, true);
  checkRange('pid minMultiplier', minMultiplier, 0, maxMultiplier, true);
  checkRange('pid initialMultiplier', initialMultiplier, minMultiplier, maxMultiplier);
  checkRange('pid maxError', maxError, 0, 1e3, true);
  const phi0 = Math.log(initialMultiplier);
  const lo = Math.log(minMultiplier);
  const hi = Math.log(maxMultiplier);
  // The integral alone never needs to move φ further than across the whole range.
  const integralBound = ki > 0 ? (hi - lo + Math.abs(phi0) + 1) / ki : 0;
  return {
    kind: 'pid',
    multiplierBounds: [minMultiplier, maxMultiplier],
    admitRateBounds: [1, 1],
    initial: () => ({ kind: 'pid', admitRate: 1, multiplier: initialMultiplier, integral: 0, lastError: 0 }),
    update(state: ControllerState, signal: ControlSignal): ControllerState {
      const current = expectKind(state, 'pid');
      checkSignal(signal);
      const error = -relativeOverspend(signal, maxError);
      const derivative = error - current.lastError;
      let integral = clamp(current.integral + error, -integralBound, integralBound);
      let phi = phi0 + kp * error + ki * integral + kd * derivative;
      // Conditional integration: do not integrate further into a saturated output.
      if ((phi > hi && error > 0) || (phi < lo && error < 0)) {
        integral = current.integral;
        phi = phi0 + kp * error + ki * integral + kd * derivative;
      }
      return { kind: 'pid', admitRate: 1, multiplier: clamp(Math.exp(phi), minMultiplier, maxMultiplier), integral, lastError: error };
    },
    validate(state: unknown): ControllerState {
      const s = stateOf(state, 'pid');
      return {
        kind: 'pid',
        admitRate: 1,
        multiplier: field(s, 'multiplier', 'pid', minMultiplier, maxMultiplier),
        integral: field(s, 'integral', 'pid', -integralBound, integralBound),
        lastError: field(s, 'lastError', 'pid', -maxError, 1),
      };
    },
  };
}
