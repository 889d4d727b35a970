/**
 * The learner's clock for closing attribution windows: event time while it works through a
 * backlog, wall time once it is caught up.
 *
 * A restarted learner reads what the dead one left unacked, from the consumer's ack floor: rows
 * served minutes ago, each followed by its click. Closed by the wall clock, every such row would
 * be past its window the moment it arrived, and its click, a moment later, would be late: the
 * label lost. So the clock runs at the newest `servedAt` seen on the stream (plus `graceMs`),
 * never ahead of the wall clock: a row closes once rows served a window + lateness after it have
 * arrived — after its click, which the stream holds before them. Only `servedAt` moves it: a
 * served row's time is the server's clock, while a click's timestamp is whatever the host sent.
 * When no row has come for `idleMs` (traffic stopped), it is the wall clock again, so the last
 * rows still close.
 */
import { systemClock, type Clock } from '@ctrkit/core';

/** The clock, and what moves it. */
export interface EventTimeClock extends Clock {
  /** A served row came off the stream. */
  observe(servedAt: number): void;
}

/**
 * Creates the clock.
 *
 * @param options - `graceMs` ahead of the newest row (≤ the joiner's lateness), `idleMs` without rows before wall time takes over, the wall clock.
 * @returns The clock.
 */
export function createEventTimeClock(options: { readonly graceMs: number; readonly idleMs: number; readonly wall?: Clock }): EventTimeClock {
  const { graceMs, idleMs, wall = systemClock } = options;
  let newest = Number.NEGATIVE_INFINITY;
  let lastArrival = Number.NEGATIVE_INFINITY;
  return {
    now() {
      const t = wall.now();
      if (t - lastArrival > idleMs) return t;
      return Math.min(t, newest + graceMs);
    },
    observe(servedAt) {
      const t = wall.now();
      lastArrival = t;
      if (Number.isFinite(servedAt) && servedAt > newest) newest = Math.min(servedAt, t);
    },
  };
}
