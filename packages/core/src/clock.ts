import { ensure } from './errors.js';

/**
 * The source of time for everything in ctrkit. Inject a {@link ManualClock} in tests so nothing
 * sleeps; use {@link systemClock} in production.
 *
 * @example
 * ```ts
 * import { systemClock, type Clock } from '@ctrkit/core';
 * const clock: Clock = systemClock;
 * const started = clock.now();
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; may carry a fraction, never goes backwards. */
  now(): number;
}

/**
 * A clock that moves only when told to.
 *
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * const clock = createManualClock(Date.UTC(2026, 0, 1));
 * clock.advance(1_000);
 * ```
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (must be ≥ 0). */
  advance(ms: number): void;
  /** Jumps to `epochMs` (must not be earlier than now). */
  set(epochMs: number): void;
}

const hasPerformance = typeof performance !== 'undefined' && typeof performance.now === 'function';
const origin = hasPerformance ? performance.timeOrigin : 0;

/**
 * The real clock: sub-millisecond resolution from `performance.now()` where the platform has it
 * (Node and browsers), `Date.now()` otherwise. Monotonic within a process.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ctrkit/core';
 * const t0 = systemClock.now();
 * const elapsedMs = systemClock.now() - t0;
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: hasPerformance ? () => origin + performance.now() : () => Date.now(),
});

/**
 * Creates a {@link ManualClock}.
 *
 * @param startMs - The initial time in milliseconds since the epoch (default 0).
 * @returns A clock that only moves through `advance` and `set`.
 * @throws {@link CtrkitError} `E_INPUT` when asked to move backwards or by a non-finite amount.
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * const clock = createManualClock(0);
 * clock.advance(250);
 * console.log(clock.now()); // 250
 * ```
 */
export function createManualClock(startMs = 0): ManualClock {
  ensure(Number.isFinite(startMs), 'E_INPUT', () => `clock start must be finite, got ${startMs}`);
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      ensure(Number.isFinite(ms) && ms >= 0, 'E_INPUT', () => `clock.advance needs a finite ms ≥ 0, got ${ms}`);
      current += ms;
    },
    set(epochMs: number) {
      ensure(
        Number.isFinite(epochMs) && epochMs >= current,
        'E_INPUT',
        () => `clock.set cannot move backwards (now ${current}, asked ${epochMs})`,
      );
      current = epochMs;
    },
  };
}
