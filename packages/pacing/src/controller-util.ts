import { CtrkitError } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import type { ControllerState, ControlSignal, PacerKind } from './controller.js';

/** Clamps `x` into [lo, hi]. @internal */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Relative spend error of an interval, `(spent − target) / target`, clipped to [−1, maxOver]:
 * −1 means nothing was spent, positive values mean overspending. Normalizing by the target makes
 * the gains independent of the budget's size and currency; clipping bounds the step a spike can
 * cause.
 *
 * @internal
 */
export function relativeOverspend(signal: ControlSignal, maxOver: number): number {
  return clamp((signal.spent - signal.target) / signal.target, -1, maxOver);
}

/** Validates a signal (it comes from the pacer, but a host may call a controller directly). @internal */
export function checkSignal(signal: ControlSignal): void {
  ensure(
    typeof signal === 'object' && signal !== null && Number.isFinite(signal.target) && signal.target > 0 && Number.isFinite(signal.spent) && signal.spent >= 0,
    'E_INPUT',
    () => `a control signal needs a finite target > 0 and spent ≥ 0, got target ${String(signal?.target)}, spent ${String(signal?.spent)}`,
  );
}

/** Reads a finite number field of a state from outside. @internal */
export function field(state: Record<string, unknown>, name: string, kind: PacerKind, lo = Number.NEGATIVE_INFINITY, hi = Number.POSITIVE_INFINITY): number {
  const value = state[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    throw new CtrkitError('E_INPUT', `${kind} controller state: ${name} must be a finite number in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks that a state is an object of the expected kind. @internal */
export function stateOf(state: unknown, kind: PacerKind): Record<string, unknown> {
  if (typeof state !== 'object' || state === null || (state as { kind?: unknown }).kind !== kind) {
    throw new CtrkitError('E_INPUT', `expected a ${kind} controller state, got ${JSON.stringify(state)?.slice(0, 80)}; resume with the controller that saved it`);
  }
  return state as Record<string, unknown>;
}

/** Checks a bound option. @internal */
export function checkRange(name: string, value: number, lo: number, hi: number, open = false): void {
  ensure(
    typeof value === 'number' && Number.isFinite(value) && (open ? value > lo : value >= lo) && value <= hi,
    'E_CONFIG',
    () => `${name} must be a number in ${open ? '(' : '['}${lo}, ${hi}], got ${String(value)}`,
  );
}

/** Narrows a state to one kind, for update functions. @internal */
export function expectKind<K extends PacerKind>(state: ControllerState, kind: K): Extract<ControllerState, { kind: K }> {
  if (state.kind !== kind) {
    throw new CtrkitError('E_INPUT', `a ${kind} controller was given a ${String(state.kind)} state; resume with the controller that saved it`);
  }
  return state as Extract<ControllerState, { kind: K }>;
}
