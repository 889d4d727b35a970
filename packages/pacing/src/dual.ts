import type { ControllerState, ControlSignal, PacingController } from './controller.js';
import { checkRange, checkSignal, clamp, expectKind, field, relativeOverspend, stateOf } from './controller-util.js';

/**
 * Options for {@link createDualController}.
 *
 * @example
 * ```ts
 * import type { DualOptions } from '@ctrkit/pacing';
 * const options: DualOptions = { learningRate: 0.2, initialMultiplier: 0.2 };
 * ```
 */
export interface DualOptions {
  /** Step size η of the dual update (default 0.3). */
  readonly learningRate?: number;
  /** Multiplier 1 / (1 + λ) to start from (default 0.1: start low, since overspending early cannot be undone). */
  readonly initialMultiplier?: number;
  /** Lowest multiplier, i.e. the largest λ is 1 / minMultiplier − 1 (default 1e-4). */
  readonly minMultiplier?: number;
  /**
   * Overspending is counted up to this many times the target per interval (default 10): enough
   * that lumpy spend (a few wins an interval) is not biased upwards by the clip, small enough that
   * one spike moves λ by at most a factor e^(η·maxGradient).
   */
  readonly maxGradient?: number;
}

/**
 * Dual-gradient multiplicative pacing (Balseiro, Lu, Mirrokni, "Dual mirror descent for online
 * allocation problems", ICML 2020; Balseiro & Gur, "Learning in repeated auctions with budgets",
 * 2019): bid = value / (1 + λ), where λ ≥ 0 is the budget constraint's dual variable. After each
 * interval λ takes a mirror-descent step on the constraint's (sub)gradient, spend minus target,
 * normalized by the target: `(1 + λ) ← (1 + λ)·exp(η·g)`, `g = clip((spent − target)/target, −1, maxGradient)`.
 * The multiplicative form moves λ by the same factor whatever its scale, so it settles fast whether
 * the right bid is a third or a thirtieth of value.
 *
 * @param options - Step size, start and bounds.
 * @returns The controller.
 * @throws CtrkitError `E_CONFIG` on out-of-range options.
 * @example
 * ```ts
 * import { createDualController } from '@ctrkit/pacing';
 * const dual = createDualController({ initialMultiplier: 0.5 });
 * const next = dual.update(dual.initial(), { target: 1, spent: 2, remaining: 50, budget: 100 });
 * if (next.kind === 'dual') console.log(next.lambda > 1); // true: λ grew, bids shrink
 * ```
 */
export function createDualController(options: DualOptions = {}): PacingController {
  const { learningRate = 0.3, initialMultiplier = 0.1, minMultiplier = 1e-4, maxGradient = 10 } = options;
  checkRange('dual learningRate', learningRate, 0, 10, true);
  checkRange('dual minMultiplier', minMultiplier, 0, 1, true);
  checkRange('dual initialMultiplier', initialMultiplier, minMultiplier, 1);
  checkRange('dual maxGradient', maxGradient, 0, 1e3, true);
  const lambdaMax = 1 / minMultiplier - 1;
  return {
    kind: 'dual',
    multiplierBounds: [minMultiplier, 1],
    admitRateBounds: [1, 1],
    initial: () => ({ kind: 'dual', admitRate: 1, multiplier: initialMultiplier, lambda: 1 / initialMultiplier - 1 }),
    update(state: ControllerState, signal: ControlSignal): ControllerState {
      const current = expectKind(state, 'dual');
      checkSignal(signal);
      const gradient = relativeOverspend(signal, maxGradient);
      const lambda = clamp((1 + current.lambda) * Math.exp(learningRate * gradient) - 1, 0, lambdaMax);
      return { kind: 'dual', admitRate: 1, multiplier: clamp(1 / (1 + lambda), minMultiplier, 1), lambda };
    },
    validate(state: unknown): ControllerState {
      const s = stateOf(state, 'dual');
      const lambda = field(s, 'lambda', 'dual', 0, lambdaMax);
      return { kind: 'dual', admitRate: 1, multiplier: clamp(1 / (1 + lambda), minMultiplier, 1), lambda };
    },
  };
}
