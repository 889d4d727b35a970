/**
 * The request's deadline: every host hook (catalog, counters, predictor, pacing) races it, so a
 * slow one costs a no-bid, never a late answer.
 */
import type { Clock } from '@ctrkit/core';

/** @internal What {@link beforeDeadline} answers when the deadline passed first. */
export const TIMEOUT = Symbol('timeout');

/**
 * @internal Waits for `work` until `deadline` (by `clock`); {@link TIMEOUT} when the deadline
 * passes first. A failure of `work` after the timeout is swallowed, not left unhandled.
 */
export async function beforeDeadline<T>(
  work: () => T | Promise<T>,
  deadline: number,
  clock: Clock,
  setTimer: (callback: () => void, ms: number) => () => void,
): Promise<T | typeof TIMEOUT> {
  const remaining = deadline - clock.now();
  if (remaining <= 0) return TIMEOUT;
  const running = Promise.resolve().then(work);
  let cancel: (() => void) | undefined;
  const timer = new Promise<typeof TIMEOUT>((resolve) => {
    // setTimeout fires after 1 ms for a delay of 2^31 ms or more: never ask it for more.
    cancel = setTimer(() => resolve(TIMEOUT), Math.min(remaining, 2_147_483_647));
  });
  try {
    return await Promise.race([running, timer]);
  } finally {
    cancel?.();
    running.catch(() => undefined); // a late failure after a timeout must not surface as unhandled
  }
}
