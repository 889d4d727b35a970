/**
 * Deadlines for the stages of the request path: a race of a stage's promise against its budget,
 * on an injectable {@link TimerScheduler}.
 */
import type { TimerScheduler } from '../timer-scheduler.js';

/**
 * What {@link within} resolves to when the stage ran past its budget.
 *
 * @internal
 */
export const TIMED_OUT = Symbol('timed-out');

/**
 * Resolves to the promise's value, or {@link TIMED_OUT} after `ms` (at once when `ms` is not
 * positive); a rejection propagates. An abandoned promise's late failure is swallowed.
 *
 * @param promise - The stage's work.
 * @param ms - Its budget.
 * @param scheduler - The timers.
 * @returns The value, or `TIMED_OUT`.
 * @internal
 */
export function within<T>(promise: Promise<T>, ms: number, scheduler: TimerScheduler): Promise<T | typeof TIMED_OUT> {
  if (!(ms > 0)) {
    promise.catch(() => undefined); // late failures of an abandoned stage must not go unhandled
    return Promise.resolve(TIMED_OUT);
  }
  let handle: unknown;
  const timer = new Promise<typeof TIMED_OUT>((resolve) => {
    handle = scheduler.setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timer]).finally(() => {
    scheduler.clearTimeout(handle);
    promise.catch(() => undefined);
  });
}
