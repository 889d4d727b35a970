/**
 * Waits in real time: what tests against real servers and processes need (a fleet flushes, a
 * replica catches up, a server restarts), where no injected clock reaches.
 */

/** How long {@link pollUntil} waits, and how often it looks. */
export interface PollOptions {
  /** Gives up after this long (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** Looks again after this long (default 10 ms). */
  readonly intervalMs?: number;
}

/**
 * Resolves once `condition` holds, checking it at once and then every `intervalMs`.
 *
 * @param what - What is awaited, for the error, e.g. `the hold to expire`.
 * @param condition - The check; it may be async (an HTTP request, a Redis read).
 * @param options - Timeout and interval.
 * @returns When the condition held.
 * @throws Error `timed out after <timeoutMs> ms waiting for <what>` when it never held; an error
 * the condition throws, as is.
 * @example
 * ```ts
 * import { pollUntil } from '@ctrkit/test-support';
 * const seen: string[] = [];
 * setTimeout(() => seen.push('event'), 20);
 * await pollUntil('one event', () => seen.length === 1, { timeoutMs: 1_000 });
 * ```
 */
export async function pollUntil(what: string, condition: () => boolean | Promise<boolean>, options: PollOptions = {}): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 10 } = options;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Resolves after `ms` of real time (a reservation's TTL passing on Redis's clock, a lease expiring).
 *
 * @param ms - How long.
 * @returns When the time has passed.
 * @example
 * ```ts
 * import { sleep } from '@ctrkit/test-support';
 * await sleep(50);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
