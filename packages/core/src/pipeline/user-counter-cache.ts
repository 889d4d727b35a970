/**
 * The predictor's cache of each user's last good store counters: reused within a TTL instead of
 * asking the store again, and as stale counters when the store fails.
 */
import type { StoreLookup } from '../stages.js';
import type { AdRequest } from '../types/request.js';

/**
 * A user's last good counters. Entries are rewritten in place and an evicted entry's buffer goes
 * to the next user, so a busy cache copies into memory it already holds instead of keeping each
 * request's arrays alive (which, churned at hundreds of requests a second, would all survive into
 * the old generation and trigger full collections).
 */
interface CachedUser {
  names: readonly string[];
  at: number;
  /** Row-major counters, `rows × names.length` (the buffer may be longer). */
  values: Float32Array;
  rows: number;
  /** The ad id of each row (the array may be longer than `rows`). */
  readonly adIds: string[];
  /** Built on first use: most cached lookups are never read back. */
  rowOf: Map<string, number> | undefined;
}

/**
 * Users' last good counters, least recently stored evicted first.
 *
 * @internal
 */
export interface UserCounterCache {
  /** Keeps a good (not degraded) lookup of `request`'s candidates as the user's counters at `at`. */
  remember(userId: string, request: AdRequest, lookup: StoreLookup, at: number): void;
  /**
   * The user's counters for `request`'s candidates, when stored at most `maxAge` ms before `now`:
   * `complete` when every candidate had a row (a candidate without one gets zeros).
   */
  lookup(request: AdRequest, now: number, maxAge: number): { lookup: StoreLookup; complete: boolean } | undefined;
}

/**
 * Creates a cache of `size` users (0 keeps none).
 *
 * @param size - Users kept at most.
 * @returns The cache.
 * @internal
 */
export function createUserCounterCache(size: number): UserCounterCache {
  const users = new Map<string, CachedUser>();
  return {
    remember(userId, request, lookup, at) {
      if (size <= 0 || lookup.degraded) return;
      let entry = users.get(userId);
      if (entry !== undefined) users.delete(userId);
      else if (users.size >= size) {
        const oldest = users.keys().next().value as string;
        entry = users.get(oldest);
        users.delete(oldest);
      }
      const length = lookup.rows * lookup.names.length;
      const values = entry !== undefined && entry.values.length >= length ? entry.values : new Float32Array(length);
      values.set(lookup.values.length === length ? lookup.values : lookup.values.subarray(0, length));
      const adIds = entry?.adIds ?? [];
      for (let r = 0; r < lookup.rows; r++) adIds[r] = (request.candidates[r] as AdRequest['candidates'][number]).adId;
      if (entry === undefined) entry = { names: lookup.names, at, values, rows: lookup.rows, adIds, rowOf: undefined };
      else {
        entry.names = lookup.names;
        entry.at = at;
        entry.values = values;
        entry.rows = lookup.rows;
        entry.rowOf = undefined;
      }
      users.set(userId, entry);
    },

    lookup(request, now, maxAge) {
      const cached = users.get(request.user.id);
      if (cached === undefined || now - cached.at > maxAge) return undefined;
      const width = cached.names.length;
      const values = new Float32Array(request.candidates.length * width);
      let complete = true;
      if (cached.rowOf === undefined) {
        const built = new Map<string, number>();
        for (let r = 0; r < cached.rows; r++) if (!built.has(cached.adIds[r] as string)) built.set(cached.adIds[r] as string, r);
        cached.rowOf = built;
      }
      const rowOf = cached.rowOf;
      request.candidates.forEach((candidate, r) => {
        const row = rowOf.get(candidate.adId);
        if (row === undefined) complete = false;
        else values.set(cached.values.subarray(row * width, (row + 1) * width), r * width);
      });
      return { lookup: { names: cached.names, rows: request.candidates.length, values, degraded: false }, complete };
    },
  };
}
