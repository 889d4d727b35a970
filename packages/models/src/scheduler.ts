import { createManualClock, systemClock, type Clock, type ManualClock } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';

/**
 * Where the micro-batcher, the fallback runner and deadlines get their timers. Inject
 * {@link createManualScheduler} in tests so nothing waits on wall time; {@link systemScheduler}
 * uses the platform's `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemScheduler, type Scheduler } from '@ctrkit/models';
 * const scheduler: Scheduler = systemScheduler;
 * const handle = scheduler.setTimeout(() => console.log('tick'), 5);
 * scheduler.clearTimeout(handle);
 * ```
 */
export interface Scheduler {
  /** The clock timers are measured against. */
  readonly clock: Clock;
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for {@link Scheduler.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer that has not fired; does nothing for one that has. */
  clearTimeout(handle: unknown): void;
}

/**
 * A {@link Scheduler} whose time moves only when told to. `advance(ms)` moves its clock and runs
 * every timer that falls due, in due order, letting promise callbacks settle between timers.
 *
 * @example
 * ```ts
 * import { createManualScheduler } from '@ctrkit/models';
 * const scheduler = createManualScheduler();
 * let fired = false;
 * scheduler.setTimeout(() => { fired = true; }, 10);
 * await scheduler.advance(10);
 * console.log(fired); // true
 * ```
 */
export interface ManualScheduler extends Scheduler {
  /** The manual clock behind the scheduler. */
  readonly clock: ManualClock;
  /** Moves time forward by `ms`, running due timers in order; resolves once they and their promise callbacks have run. */
  advance(ms: number): Promise<void>;
  /** Timers waiting to fire. */
  pending(): number;
}

/**
 * The real scheduler: `globalThis.setTimeout` and `performance.now()` (through core's `systemClock`).
 *
 * @example
 * ```ts
 * import { systemScheduler } from '@ctrkit/models';
 * systemScheduler.setTimeout(() => console.log('later'), 1);
 * ```
 */
export const systemScheduler: Scheduler = Object.freeze({
  clock: systemClock,
  setTimeout: (callback: () => void, ms: number): unknown => {
    const handle = setTimeout(callback, ms);
    // A pending model timer must never keep a Node process alive on its own.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

interface ManualTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/** Lets queued promise callbacks (and the ones they queue) run before the next timer fires. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * Creates a {@link ManualScheduler}.
 *
 * @param clock - The clock to drive (default: a new manual clock starting at 0).
 * @returns A scheduler whose timers fire only inside `advance`.
 * @throws `CtrkitError` `E_INPUT` from `advance` when `ms` is negative or not finite.
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import { createManualScheduler } from '@ctrkit/models';
 * const scheduler = createManualScheduler(createManualClock(1_000));
 * scheduler.setTimeout(() => console.log(scheduler.clock.now()), 5);
 * await scheduler.advance(5); // prints 1005
 * ```
 */
export function createManualScheduler(clock: ManualClock = createManualClock(0)): ManualScheduler {
  let timers: ManualTimer[] = [];
  let nextId = 1;
  return {
    clock,
    setTimeout(callback: () => void, ms: number): unknown {
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      const timer = { id: nextId++, due: clock.now() + delay, callback };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle: unknown): void {
      timers = timers.filter((timer) => timer.id !== handle);
    },
    pending: () => timers.length,
    async advance(ms: number): Promise<void> {
      ensure(Number.isFinite(ms) && ms >= 0, 'E_INPUT', () => `scheduler.advance needs a finite ms ≥ 0, got ${ms}`);
      const target = clock.now() + ms;
      await settle();
      for (;;) {
        let first: ManualTimer | undefined;
        for (const timer of timers) {
          if (timer.due <= target && (first === undefined || timer.due < first.due || (timer.due === first.due && timer.id < first.id))) first = timer;
        }
        if (first === undefined) break;
        const chosen = first;
        timers = timers.filter((timer) => timer !== chosen);
        if (chosen.due > clock.now()) clock.set(chosen.due);
        chosen.callback();
        await settle();
      }
      if (target > clock.now()) clock.set(target);
      await settle();
    },
  };
}
