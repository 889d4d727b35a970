/**
 * The embedded feature store: counters in this process's memory, bounded by LRU limits on users,
 * ads and pairs per user, and by idle expiry. The default store; needs nothing running.
 */
import { CtrkitError, type AdCandidate, type AdEvent, type FeatureStore, type StoreLookup, type UserProfile } from '@ctrkit/core';
import { KeyState, NEVER, hasPending, readCounters, readSession, recordInto } from './counters.js';
import { ImpressionRing, ringCount, ringRecord } from './frequency.js';
import { STORE_ENTITIES, checkEvent, checkLookup, fillEmpty, storeConfig, valuesFor, writeEmptyEntity, type FeatureStoreOptions, type StoreConfig, type StoreEntity, type StoreLookupOptions } from './store.js';

/** Options for {@link createMemoryFeatureStore}.
 *
 * @example
 * ```ts
 * import type { MemoryFeatureStoreOptions } from '@ctrkit/features';
 * const options: MemoryFeatureStoreOptions = { maxUsers: 50_000, maxAds: 10_000, idleMs: 7 * 86_400_000 };
 * ```
 */
export interface MemoryFeatureStoreOptions extends FeatureStoreOptions {
  /** Users kept; the least recently written is evicted beyond this (default 100,000). */
  readonly maxUsers?: number;
  /** Ads kept (default 100,000). */
  readonly maxAds?: number;
  /** User × ad, × category and × advertiser pairs kept per user, each (default 1,000); with `frequency`, also its exact-count rings per ad, campaign and advertiser, each. */
  readonly maxPairsPerUser?: number;
  /** Keys with no event for this long (relative to the newest event recorded) are dropped (default 3 × the longest window). */
  readonly idleMs?: number;
}

/** What a memory store holds and has dropped.
 *
 * @example
 * ```ts
 * import type { MemoryStoreStats } from '@ctrkit/features';
 * const full = (s: MemoryStoreStats) => s.evicted > 0;
 * ```
 */
export interface MemoryStoreStats {
  /** Users held. */
  readonly users: number;
  /** Ads held. */
  readonly ads: number;
  /** User × entity pairs held. */
  readonly pairs: number;
  /** Keys evicted by the LRU limits. */
  readonly evicted: number;
  /** Keys dropped as idle. */
  readonly expired: number;
  /** Events ignored as duplicates of a still-pending one. */
  readonly duplicates: number;
}

/** The embedded `FeatureStore`, with counts of what it holds.
 *
 * @example
 * ```ts
 * import { createMemoryFeatureStore, type MemoryFeatureStore } from '@ctrkit/features';
 * const store: MemoryFeatureStore = createMemoryFeatureStore();
 * console.log(store.stats().users); // 0
 * ```
 */
export interface MemoryFeatureStore extends FeatureStore {
  /** Counters for each candidate as of `now`, seeing only events before `now`; writes into `options.out` when it has room. */
  lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options?: StoreLookupOptions): Promise<StoreLookup>;
  /** Sizes and drop counts. */
  stats(): MemoryStoreStats;
}

/** The three pair maps of one user, each in LRU order. */
class UserEntry {
  readonly byAd = new Map<string, KeyState>();
  readonly byCategory = new Map<string, KeyState>();
  readonly byAdvertiser = new Map<string, KeyState>();
  /** Exact impression counts (`frequency`): the user's own, and per ad, campaign and advertiser, each map in LRU order. */
  ring: ImpressionRing | undefined;
  readonly ringsByAd = new Map<string, ImpressionRing>();
  readonly ringsByCampaign = new Map<string, ImpressionRing>();
  readonly ringsByAdvertiser = new Map<string, ImpressionRing>();

  constructor(readonly self: KeyState) {}

  get pairs(): number {
    return this.byAd.size + this.byCategory.size + this.byAdvertiser.size;
  }
}

function touch<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) {
    map.delete(key);
    map.set(key, existing);
    return existing;
  }
  const created = make();
  map.set(key, created);
  return created;
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  const limit = value ?? fallback;
  if (!Number.isInteger(limit) || limit < 1) throw new CtrkitError('E_CONFIG', `memory store: ${name} must be a positive integer, got ${String(value)}`);
  return limit;
}

/** The key an error names: `user u1`, `ad a1`, `user u1 × category travel`, … */
function keyLabel(entity: StoreEntity, userId: string, id: string): string {
  switch (entity) {
    case 'user':
      return `user ${userId}`;
    case 'ad':
      return `ad ${id}`;
    case 'user_ad':
      return `user ${userId} × ad ${id}`;
    case 'user_category':
      return `user ${userId} × category ${id}`;
    case 'user_advertiser':
      return `user ${userId} × advertiser ${id}`;
  }
}

class MemoryStore implements MemoryFeatureStore {
  readonly names: readonly string[];
  private readonly config: StoreConfig;
  private readonly users = new Map<string, UserEntry>();
  private readonly ads = new Map<string, KeyState>();
  private readonly maxUsers: number;
  private readonly maxAds: number;
  private readonly maxPairs: number;
  private readonly idleMs: number;
  private newest = NEVER;
  private pairCount = 0;
  private evicted = 0;
  private expired = 0;
  private duplicates = 0;
  private closed = false;
  // Scratch for reads: the lookup path allocates only its result.
  private readonly counts: Float64Array;
  private readonly last = new Float64Array(2);
  private readonly session = new Float64Array(2);
  private readonly userBlock: Float64Array;

  constructor(options: MemoryFeatureStoreOptions) {
    this.config = storeConfig(options);
    this.names = this.config.names;
    this.maxUsers = checkLimit('maxUsers', options.maxUsers, 100_000);
    this.maxAds = checkLimit('maxAds', options.maxAds, 100_000);
    this.maxPairs = checkLimit('maxPairsPerUser', options.maxPairsPerUser, 1_000);
    const longest = Math.max(...this.config.windows.map((w) => w.ms));
    this.idleMs = options.idleMs ?? 3 * longest;
    if (!(this.idleMs > 0)) throw new CtrkitError('E_CONFIG', `memory store: idleMs must be positive, got ${String(options.idleMs)}`);
    this.counts = new Float64Array(3 * this.config.windows.length);
    this.userBlock = new Float64Array(this.config.entityWidth);
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new CtrkitError('E_STATE', `memory store: ${what} after close(); create a new store`);
  }

  private pair(map: Map<string, KeyState>, key: string, start: number): KeyState {
    const before = map.size;
    const state = touch(map, key, () => new KeyState(this.config.windows.length, start));
    if (map.size > before) {
      this.pairCount++;
      if (map.size > this.maxPairs) {
        map.delete(map.keys().next().value as string);
        this.pairCount--;
        this.evicted++;
      }
    }
    return state;
  }

  private sweep(): void {
    // Amortized expiry: look at the least recently written keys only.
    const horizon = this.newest - this.idleMs;
    for (let i = 0; i < 2; i++) {
      const first = this.users.entries().next();
      if (first.done || first.value[1].self.N >= horizon) break;
      this.users.delete(first.value[0]);
      this.pairCount -= first.value[1].pairs;
      this.expired++;
    }
    for (let i = 0; i < 2; i++) {
      const first = this.ads.entries().next();
      if (first.done || first.value[1].N >= horizon) break;
      this.ads.delete(first.value[0]);
      this.expired++;
    }
  }

  async record(event: AdEvent): Promise<void> {
    this.checkOpen('record');
    const type = checkEvent(event, this.config);
    const time = event.timestamp;
    const config = this.config;
    const existing = this.users.get(event.userId);
    const existingPair = existing?.byAd.get(event.adId);
    if (existingPair !== undefined && hasPending(existingPair, event.eventId, type)) {
      this.duplicates++;
      return;
    }
    const entry = touch(this.users, event.userId, () => new UserEntry(new KeyState(config.windows.length, time)));
    if (this.users.size > this.maxUsers) {
      const [oldId, old] = this.users.entries().next().value as [string, UserEntry];
      this.users.delete(oldId);
      this.pairCount -= old.pairs;
      this.evicted++;
    }
    recordInto(entry.self, time, type, event.eventId, event.requestId, config, true);
    recordInto(this.pair(entry.byAd, event.adId, time), time, type, event.eventId, event.requestId, config, false);
    recordInto(this.pair(entry.byCategory, event.category, time), time, type, event.eventId, event.requestId, config, false);
    recordInto(this.pair(entry.byAdvertiser, event.advertiserId, time), time, type, event.eventId, event.requestId, config, false);
    const ad = touch(this.ads, event.adId, () => new KeyState(config.windows.length, time));
    if (this.ads.size > this.maxAds) {
      this.ads.delete(this.ads.keys().next().value as string);
      this.evicted++;
    }
    recordInto(ad, time, type, event.eventId, event.requestId, config, false);
    const frequency = config.frequency;
    if (frequency !== undefined && type === 0) {
      const limit = frequency.limit;
      ringRecord((entry.ring ??= new ImpressionRing()), time, event.eventId, limit);
      ringRecord(this.ringOf(entry.ringsByAd, event.adId), time, event.eventId, limit);
      ringRecord(this.ringOf(entry.ringsByCampaign, event.campaignId), time, event.eventId, limit);
      ringRecord(this.ringOf(entry.ringsByAdvertiser, event.advertiserId), time, event.eventId, limit);
    }
    if (time > this.newest) this.newest = time;
    this.sweep();
  }

  /** Writes one entity block (4 × W counters + 2 recencies) at `p`; throws on a point-in-time violation. */
  /**
   * Writes one entity's counters at `out[p…]`. The key is named by its entity and ids, and only
   * spelled out when the read fails: lookups run per candidate and must not build strings.
   */
  private block(state: KeyState | undefined, now: number, out: Float32Array | Float64Array, p: number, entity: StoreEntity, userId: string, id: string): void {
    const W = this.config.windows.length;
    const { alpha, beta } = this.config;
    if (state === undefined) {
      writeEmptyEntity(out, p, W, alpha / (alpha + beta));
      return;
    }
    const counts = this.counts;
    const last = this.last;
    if (!readCounters(state, now, this.config, counts, last)) {
      const what = keyLabel(entity, userId, id);
      throw new CtrkitError(
        'E_INPUT',
        `store.lookup at ${now} for ${what}: events at or after that time are already folded into its counters (up to ${state.F}), so the answer would leak them; look up in time order, or raise pendingCapacity / horizonMs`,
        { details: { key: what, now, folded: state.F } },
      );
    }
    for (let w = 0; w < W; w++) {
      const imp = counts[w] as number;
      const click = counts[W + w] as number;
      out[p++] = imp;
      out[p++] = click;
      out[p++] = counts[2 * W + w] as number;
      out[p++] = (click + alpha) / (imp + alpha + beta);
    }
    out[p++] = last[0] === NEVER ? Number.NaN : (now - (last[0] as number)) / 1000;
    out[p] = last[1] === NEVER ? Number.NaN : (now - (last[1] as number)) / 1000;
  }

  /** The ring of one pair, made when new; each map is bounded like the decayed pairs (least recently written out). */
  private ringOf(map: Map<string, ImpressionRing>, id: string): ImpressionRing {
    const ring = touch(map, id, () => new ImpressionRing());
    if (map.size > this.maxPairs) {
      map.delete(map.keys().next().value as string);
      this.evicted++;
    }
    return ring;
  }

  /** Writes one key's exact impression counts, one per frequency window, at `out[at…]`. */
  private writeCounts(out: Float32Array, at: number, ring: ImpressionRing | undefined, now: number): void {
    const ms = (this.config.frequency as NonNullable<StoreConfig['frequency']>).ms;
    for (let w = 0; w < ms.length; w++) out[at + w] = ringCount(ring, now, ms[w] as number);
  }

  async lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options: StoreLookupOptions = {}): Promise<StoreLookup> {
    this.checkOpen('lookup');
    const rows = checkLookup(user, candidates, now);
    const names = this.names;
    const width = names.length;
    const values = valuesFor(rows, width, options.out);
    try {
      const entry = this.users.get(user.id);
      const E = this.config.entityWidth;
      const userBlock = this.userBlock;
      const frequency = this.config.frequency;
      const Wf = frequency === undefined ? 0 : frequency.ms.length;
      this.block(entry?.self, now, userBlock, 0, 'user', user.id, '');
      if (entry !== undefined) readSession(entry.self, now, this.config, this.session);
      else this.session.fill(0);
      for (let r = 0; r < rows; r++) {
        const candidate = candidates[r] as AdCandidate;
        const p = r * width;
        values.set(userBlock, p);
        this.block(this.ads.get(candidate.adId), now, values, p + E, 'ad', user.id, candidate.adId);
        this.block(entry?.byAd.get(candidate.adId), now, values, p + 2 * E, 'user_ad', user.id, candidate.adId);
        this.block(entry?.byCategory.get(candidate.category), now, values, p + 3 * E, 'user_category', user.id, candidate.category);
        this.block(entry?.byAdvertiser.get(candidate.advertiserId), now, values, p + 4 * E, 'user_advertiser', user.id, candidate.advertiserId);
        values[p + STORE_ENTITIES.length * E] = this.session[0] as number;
        values[p + STORE_ENTITIES.length * E + 1] = this.session[1] as number;
        if (frequency !== undefined) {
          const at = p + frequency.column;
          this.writeCounts(values, at, entry?.ring, now);
          this.writeCounts(values, at + Wf, entry?.ringsByAd.get(candidate.adId), now);
          this.writeCounts(values, at + 2 * Wf, entry?.ringsByCampaign.get(candidate.campaignId), now);
          this.writeCounts(values, at + 3 * Wf, entry?.ringsByAdvertiser.get(candidate.advertiserId), now);
        }
      }
    } catch (error) {
      if (options.degradeOnError !== true) throw error;
      fillEmpty(this.config, values, rows);
      return { names, rows, values, degraded: true, reason: (error as Error).message };
    }
    return { names, rows, values, degraded: false };
  }

  async forgetUser(userId: string): Promise<void> {
    this.checkOpen('forgetUser');
    if (typeof userId !== 'string' || userId.length === 0) throw new CtrkitError('E_INPUT', 'store.forgetUser: userId must be a non-empty string');
    const entry = this.users.get(userId);
    if (entry === undefined) return;
    this.users.delete(userId);
    this.pairCount -= entry.pairs;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.users.clear();
    this.ads.clear();
    this.pairCount = 0;
  }

  stats(): MemoryStoreStats {
    return { users: this.users.size, ads: this.ads.size, pairs: this.pairCount, evicted: this.evicted, expired: this.expired, duplicates: this.duplicates };
  }
}

/**
 * Creates the embedded feature store.
 *
 * Counters: for the user, the ad, and the user × ad, × category and × advertiser pairs, decayed
 * impression, click and conversion counts per window, Beta-smoothed CTRs, seconds since the last
 * impression and click; the user's current session length and pages. A lookup at `now` sees only
 * events stamped before `now` (point-in-time correct), so replaying a log in time order builds
 * training features without leakage.
 *
 * @param options - Windows, prior, session gap, pending capacity, LRU limits and idle expiry.
 * @returns The store.
 * @throws `CtrkitError` `E_CONFIG` on invalid options. Its methods reject with `E_INPUT` on a
 *   malformed event or a lookup that would leak (see `pendingCapacity`), `E_STATE` after `close`.
 * @remarks `deadlineMs` has no effect (lookups never wait); `degradeOnError` turns a refused lookup
 *   into empty counters flagged `degraded`. A lookup allocates only its result object, and its
 *   values array too unless `options.out` has room.
 * @example
 * ```ts
 * import { createMemoryFeatureStore } from '@ctrkit/features';
 * const store = createMemoryFeatureStore();
 * const t = Date.UTC(2026, 0, 5, 12);
 * await store.record({ type: 'impression', eventId: 'e1', requestId: 'r1', timestamp: t, userId: 'u1', adId: 'a1', campaignId: 'c1', advertiserId: 'x1', category: 'travel' });
 * const lookup = await store.lookup({ id: 'u1' }, [{ adId: 'a1', advertiserId: 'x1', campaignId: 'c1', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }], t + 1000);
 * console.log(lookup.values[lookup.names.indexOf('user_ad.imp.1h')]); // ≈ 0.9997
 * ```
 */
export function createMemoryFeatureStore(options: MemoryFeatureStoreOptions = {}): MemoryFeatureStore {
  return new MemoryStore(options);
}
