/**
 * The store-lookup benchmarks' scenario, shared by `run.ts` and `cluster-lookup.ts`: a day of a
 * 2,000-user world's traffic (three shown ads a page, every outcome's events in time order), the
 * clock a minute after its last event, one request of 100 candidates, and the users by events.
 */
import { createManualClock, createRandom, type AdCandidate, type AdEvent, type ManualClock, type UserProfile } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';

/** What the lookup benchmarks read and fill. */
export interface LookupScenario {
  /** Every event of the day, in time order. */
  readonly events: readonly AdEvent[];
  /** Just after the last event: the lookups' `now`. */
  readonly end: number;
  /** A clock a minute past `end`. */
  readonly clock: ManualClock;
  /** The 100 candidates of the request looked up. */
  readonly candidates: readonly AdCandidate[];
  /** The user with the most events (the most pending events to replay: the slowest lookup). */
  readonly user: UserProfile;
  /** The user with the median count of events. */
  readonly typical: UserProfile;
  /** Users and their counts of events, most first. */
  readonly byEvents: readonly (readonly [string, number])[];
}

/**
 * Builds the scenario.
 *
 * @param requests - Pages of traffic to draw (12,000 for a full run).
 * @returns The scenario.
 */
export function lookupScenario(requests: number): LookupScenario {
  const generator = createTrafficGenerator({ seed: 17, users: 2_000, candidatesPerRequest: 100 });
  const events: AdEvent[] = [];
  const random = createRandom('bench-outcomes');
  for (const { request } of generator.requests({ count: requests })) {
    // Three shown ads per page, as slots would; every outcome's events (clicks and conversions come later).
    for (let k = 0; k < 3; k++) events.push(...generator.outcome(request, k, k, random).events);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const end = (events.at(-1) as AdEvent).timestamp + 1;
  const [target] = [...generator.requests({ count: 1, stream: 'bench-target' })];
  const byEvents = [...events.reduce((m, e) => m.set(e.userId, (m.get(e.userId) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]);
  return {
    events,
    end,
    clock: createManualClock(end + 60_000),
    candidates: target?.request.candidates as readonly AdCandidate[],
    user: generator.userProfile(byEvents[0]?.[0] as string),
    typical: generator.userProfile(byEvents[Math.floor(byEvents.length / 2)]?.[0] as string),
    byEvents,
  };
}

/**
 * The largest relative difference between two stores' answers (NaN where both are NaN counts as equal).
 *
 * @param a - One store's lookup values.
 * @param b - The other's, in the same order.
 * @returns max |a − b| / max(1, |a|).
 */
export function worstRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!(Number.isNaN(x) && Number.isNaN(y))) worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(x)));
  }
  return worst;
}

/**
 * Deletes a benchmark's keys from each node (SCAN by prefix, then DEL).
 *
 * @param nodes - The cluster's masters (or one Redis).
 * @param prefix - The keys' prefix.
 */
export async function deleteByPrefix(nodes: readonly { scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]>; del(key: string): Promise<number> }[], prefix: string): Promise<void> {
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of found) await node.del(key);
    } while (cursor !== '0');
  }
}
