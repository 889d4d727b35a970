import type { ControllerState, ControlSignal, PacingController } from './controller.js';
import { checkSignal, expectKind, stateOf } from './controller-util.js';

/**
 * No pacing: admit every request and bid full value until the ledger refuses. The baseline the
 * other controllers are measured against (it spends the budget as early as traffic allows).
 *
 * @returns The controller.
 * @example
 * ```ts
 * import { createUnpacedController } from '@ctrkit/pacing';
 * const none = createUnpacedController();
 * console.log(none.initial().multiplier); // 1
 * ```
 */
export function createUnpacedController(): PacingController {
  const state: ControllerState = Object.freeze({ kind: 'none', admitRate: 1, multiplier: 1 });
  return {
    kind: 'none',
    multiplierBounds: [1, 1],
    admitRateBounds: [1, 1],
    initial: () => state,
    update(current: ControllerState, signal: ControlSignal): ControllerState {
      expectKind(current, 'none');
      checkSignal(signal);
      return state;
    },
    validate(value: unknown): ControllerState {
      stateOf(value, 'none');
      return state;
    },
  };
}
