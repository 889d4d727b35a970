import { needs } from './requirement.js';
import { redisAnswers } from './redis-probe.js';

/** The port of the shared Redis that the tests use (and CI starts). */
export const SHARED_REDIS_PORT = 6379;

/**
 * The skip-or-fail rule for tests that need the shared Redis at 127.0.0.1:6379: `true` when it
 * answers `PING`; otherwise one `[skipped]` line locally, and an error when `CI` is set.
 *
 * @param forWhat - Which tests need it, e.g. `pacing: the Redis ledger conformance suite`.
 * @returns Whether the tests can run.
 * @throws Error when Redis does not answer and `CI` is set.
 */
export async function sharedRedisFor(forWhat: string): Promise<boolean> {
  return needs({
    what: `Redis at 127.0.0.1:${SHARED_REDIS_PORT}`,
    forWhat,
    present: await redisAnswers(SHARED_REDIS_PORT),
    hint: 'redis-server --daemonize yes --port 6379',
  });
}
