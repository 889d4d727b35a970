/**
 * Timers behind an interface, so deadlines, ack waits and flush ticks can run on fake timers in
 * tests: {@link TimerScheduler}, and the global timers as the default.
 */

/** A scheduler for deadlines; inject fake timers in tests.
 *
 * @example
 * ```ts
 * import type { TimerScheduler } from '@ctrkit/core';
 * const scheduler: TimerScheduler = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
 * ```
 */
export interface TimerScheduler {
  /** Calls `callback` after `ms`; returns a handle. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a pending callback. */
  clearTimeout(handle: unknown): void;
}

/**
 * The global `setTimeout` and `clearTimeout`, the default scheduler.
 *
 * @internal
 */
export const defaultScheduler: TimerScheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};
