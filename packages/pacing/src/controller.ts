/**
 * The controllers a {@link Pacer} can run. Each is a pure function from its state and one
 * control interval's outcome to its next state; the state is plain JSON, so a restarted process
 * resumes where it stopped.
 */

/**
 * Which controller paces a campaign:
 * - `throttle` — probabilistic throttling: a pass-through rate for bid requests (Agarwal et al., KDD 2014);
 * - `pid` — a PID controller on a bid multiplier (Zhang et al., WSDM 2016);
 * - `dual` — dual-gradient multiplicative pacing, bid = value / (1 + λ) (Balseiro et al.);
 * - `none` — no pacing: bid full value until the ledger refuses.
 *
 * @example
 * ```ts
 * import type { PacerKind } from '@ctrkit/pacing';
 * const kind: PacerKind = 'dual';
 * ```
 */
export type PacerKind = 'throttle' | 'pid' | 'dual' | 'none';

/** Every {@link PacerKind}.
 *
 * @example
 * ```ts
 * import { PACER_KINDS } from '@ctrkit/pacing';
 * console.log(PACER_KINDS.join('|')); // throttle|pid|dual|none
 * ```
 */
export const PACER_KINDS: readonly PacerKind[] = ['throttle', 'pid', 'dual', 'none'];

/**
 * A controller's state: what it outputs now (`admitRate`, `multiplier`) and what it remembers.
 * Plain JSON.
 *
 * @example
 * ```ts
 * import type { ControllerState } from '@ctrkit/pacing';
 * const state: ControllerState = { kind: 'dual', admitRate: 1, multiplier: 0.25, lambda: 3 };
 * ```
 */
export type ControllerState =
  | { readonly kind: 'throttle'; readonly admitRate: number; readonly multiplier: 1 }
  | { readonly kind: 'pid'; readonly admitRate: 1; readonly multiplier: number; readonly integral: number; readonly lastError: number }
  | { readonly kind: 'dual'; readonly admitRate: 1; readonly multiplier: number; readonly lambda: number }
  | { readonly kind: 'none'; readonly admitRate: 1; readonly multiplier: 1 };

/**
 * What happened in one control interval, as a controller sees it.
 *
 * @example
 * ```ts
 * import type { ControlSignal } from '@ctrkit/pacing';
 * const signal: ControlSignal = { target: 2.5, spent: 3.1, remaining: 80, budget: 240 };
 * ```
 */
export interface ControlSignal {
  /** Spend the plan wanted in the interval (> 0; intervals with nothing planned are not sent). */
  readonly target: number;
  /** Spend recorded in the interval (≥ 0). */
  readonly spent: number;
  /** Budget left for the day after the interval. */
  readonly remaining: number;
  /** The day's budget. */
  readonly budget: number;
}

/**
 * A pacing controller: a pure update rule plus its bounds. Create one with
 * {@link createThrottleController}, {@link createPidController}, {@link createDualController} or
 * {@link createUnpacedController}.
 *
 * @example
 * ```ts
 * import { createDualController } from '@ctrkit/pacing';
 * const controller = createDualController();
 * let state = controller.initial();
 * state = controller.update(state, { target: 1, spent: 3, remaining: 50, budget: 100 });
 * console.log(state.multiplier < controller.initial().multiplier); // true: overspent, so bid lower
 * ```
 */
export interface PacingController {
  /** Which controller this is. */
  readonly kind: PacerKind;
  /** The lowest and highest `multiplier` it can output. */
  readonly multiplierBounds: readonly [number, number];
  /** The lowest and highest `admitRate` it can output. */
  readonly admitRateBounds: readonly [number, number];
  /**
   * The state to start from.
   *
   * @returns A fresh state.
   */
  initial(): ControllerState;
  /**
   * The next state after one control interval. Pure: same inputs, same output.
   *
   * @param state - The current state.
   * @param signal - What the interval planned and spent.
   * @returns The next state, its outputs within the controller's bounds.
   * @throws CtrkitError `E_INPUT` when the state belongs to another controller or is malformed.
   */
  update(state: ControllerState, signal: ControlSignal): ControllerState;
  /**
   * Checks a state from outside (a saved file) before resuming from it.
   *
   * @param state - Anything parsed from JSON.
   * @returns The state, typed.
   * @throws CtrkitError `E_INPUT` when it is not a valid state for this controller.
   */
  validate(state: unknown): ControllerState;
}
