/**
 * The Redis feature store: the same counters as the memory store, shared by every ad-server
 * process. One plain MGET per request answers every candidate (a single round trip, a script
 * call more for a key with events pending at or after the lookup's time; on Redis Cluster the
 * user's MGET and one script call per master holding any of the ads, see redis-lookup.ts); keys
 * carry hash tags per user and per ad, so the layout works on Redis Cluster; every key has a
 * TTL. The key layout is in redis-keys.ts, the decoding of the replies in redis-reply.ts and
 * redis-state-head.ts.
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { CtrkitError, type AdCandidate, type AdEvent, type FeatureStore, type StoreLookup, type UserProfile } from '@ctrkit/core';
import { FORGET_SCRIPT, FREQUENCY_LOOKUP_SCRIPT, FREQUENCY_RECORD_SCRIPT, LOOKUP_KEYS_SCRIPT, LOOKUP_NODE_SCRIPT, RECORD_SCRIPT } from './redis-lua.js';
import { checkEvent, checkLookup, fillEmpty, storeConfig, valuesFor, type FeatureStoreOptions, type StoreConfig, type StoreLookupOptions } from './store.js';
import { adKeyOf, frequencyKeys, lookupIds, lookupKeyName, part, userKeyOf } from './redis-keys.js';
import { blockOf, lookupOnCluster, lookupOnServer, type LookupCall } from './redis-lookup.js';
import { keyPrefixOf } from './redis-encoded-command.js';
import { fillFrequency, fillRows } from './redis-reply.js';
import { ScratchPool } from './scratch-pool.js';

/** Options for {@link createRedisFeatureStore}.
 *
 * @example
 * ```ts
 * import type { RedisFeatureStoreOptions } from '@ctrkit/features/redis';
 * const options: RedisFeatureStoreOptions = { redis: { host: '127.0.0.1', port: 6379 }, prefix: 'ctr:', lookupDeadlineMs: 5 };
 * ```
 */
export interface RedisFeatureStoreOptions extends FeatureStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) the caller owns and closes, or connection options
   * for a client the store creates and closes.
   */
  readonly redis: Redis | Cluster | RedisOptions;
  /** Prefix of every key (default `ctrkit:fs:`); no braces. */
  readonly prefix?: string;
  /** Keys expire this long after their last write (default 3 × the longest window). */
  readonly ttlMs?: number;
  /** Deadline of a lookup when the call gives none (default 50 ms). */
  readonly lookupDeadlineMs?: number;
  /** Deadline of `record` and `forgetUser` (default 1,000 ms). */
  readonly writeDeadlineMs?: number;
  /**
   * Split a request's calls by where its keys live instead of one call for the whole request:
   * writes one call per hash-tag group (the user's keys, the ad's keys); lookups, on a `Cluster`
   * client, one call per master holding any of the keys, grouped by the client's slot map (one
   * call per hash tag when that map is out of date, or on a plain client). Required on Redis
   * Cluster; default: on for a `Cluster` client. Lookups are read-only scripts: a `Cluster`
   * client made with `scaleReads: 'slave'` reads them from replicas, seeing events a
   * replication lag late.
   */
  readonly splitBySlot?: boolean;
  /**
   * How long an event id is remembered, so a retried or redelivered event is applied once: ids of
   * events within this many ms of the newest event recorded for the same user (and the same ad)
   * are kept (default 3,600,000: one hour).
   */
  readonly dedupWindowMs?: number;
  /**
   * At most this many event ids are kept per user and per ad (default 10,000; the oldest go
   * first), which bounds the memory a flood of distinct ids can take. For an ad taking more
   * events than this within `dedupWindowMs`, the effective window is shorter.
   */
  readonly dedupCapacity?: number;
}

/** The Redis feature store: core's `FeatureStore`, plus an `out` buffer for lookups.
 *
 * @example
 * ```ts
 * import { createRedisFeatureStore, type RedisFeatureStore } from '@ctrkit/features/redis';
 * const store: RedisFeatureStore = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379, lazyConnect: true } });
 * await store.close();
 * ```
 */
export interface RedisFeatureStore extends FeatureStore {
  /** Counters for each candidate as of `now`, seeing only events before `now`; writes into `options.out` when it has room. */
  lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options?: StoreLookupOptions): Promise<StoreLookup>;
}

/** Script commands the store defines on its client. */
interface ScriptClient {
  ctrkitRecord(numKeys: number, ...args: (string | number)[]): Promise<number>;
  ctrkitLookupBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  ctrkitLookupNodeBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  mgetBuffer(keys: string[]): Promise<(Buffer | null)[]>;
  ctrkitForget(numKeys: number, ...args: (string | number)[]): Promise<number>;
  ctrkitFrequencyRecord(numKeys: number, ...args: (string | number)[]): Promise<number>;
  ctrkitFrequencyLookup(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
}

function isClient(value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as { defineCommand?: unknown }).defineCommand === 'function';
}

/** How often `forgetUser` re-reads a user's index set that changed under it before giving up. */
const FORGET_ATTEMPTS = 5;

class RedisStore implements RedisFeatureStore {
  readonly names: readonly string[];
  private readonly config: StoreConfig;
  private readonly client: Redis | Cluster;
  private readonly scripts: ScriptClient;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly lookupDeadlineMs: number;
  private readonly writeDeadlineMs: number;
  private readonly split: boolean;
  /** Whether lookups write their own commands (redis-encoded-command.ts): the client puts no `keyPrefix` before keys. */
  private readonly rawCommands: boolean;
  /** The client when it is a Cluster client: its slot map groups a lookup's keys by node. */
  private readonly cluster: Cluster | undefined;
  private readonly windowArgs: (string | number)[];
  private readonly dedupWindowMs: number;
  private readonly dedupCapacity: number;
  /** Lookups' per-key buffers, reused. */
  private readonly scratch = new ScratchPool();
  private closed = false;

  constructor(options: RedisFeatureStoreOptions) {
    this.config = storeConfig(options);
    this.names = this.config.names;
    const prefix = options.prefix ?? 'ctrkit:fs:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new CtrkitError('E_CONFIG', `redis store: prefix must be a string without braces (they would break hash tags), got ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
    const longest = Math.max(...this.config.windows.map((w) => w.ms));
    this.ttlMs = options.ttlMs ?? 3 * longest;
    if (!Number.isInteger(this.ttlMs) || this.ttlMs < 1000) throw new CtrkitError('E_CONFIG', `redis store: ttlMs must be an integer ≥ 1000, got ${String(options.ttlMs)}`);
    this.lookupDeadlineMs = options.lookupDeadlineMs ?? 50;
    this.writeDeadlineMs = options.writeDeadlineMs ?? 1000;
    for (const [name, value] of [['lookupDeadlineMs', this.lookupDeadlineMs], ['writeDeadlineMs', this.writeDeadlineMs]] as const) {
      if (!(value > 0) || !Number.isFinite(value)) throw new CtrkitError('E_CONFIG', `redis store: ${name} must be a positive number of ms, got ${value}`);
    }
    this.dedupWindowMs = options.dedupWindowMs ?? 3_600_000;
    this.dedupCapacity = options.dedupCapacity ?? 10_000;
    if (!Number.isInteger(this.dedupWindowMs) || this.dedupWindowMs < 0) throw new CtrkitError('E_CONFIG', `redis store: dedupWindowMs must be an integer ≥ 0, got ${String(options.dedupWindowMs)}`);
    if (!Number.isInteger(this.dedupCapacity) || this.dedupCapacity < 1 || this.dedupCapacity > 1_000_000) throw new CtrkitError('E_CONFIG', `redis store: dedupCapacity must be an integer in [1, 1000000], got ${String(options.dedupCapacity)}`);
    if (options.redis === undefined || options.redis === null) throw new CtrkitError('E_CONFIG', 'redis store: pass `redis`, an ioredis client or connection options');
    if (isClient(options.redis)) {
      this.client = options.redis;
      this.owned = false;
    } else {
      // Fail fast while disconnected rather than queue without bound; every call also has a deadline.
      this.client = new Redis({ maxRetriesPerRequest: 1, connectTimeout: 2000, ...options.redis, lazyConnect: false });
      this.client.on('error', () => undefined); // Surfaced per call as E_STORE; keep it off the process's error event.
      this.owned = true;
    }
    const isCluster = (this.client as { isCluster?: boolean }).isCluster === true;
    this.cluster = isCluster ? (this.client as Cluster) : undefined;
    this.split = options.splitBySlot ?? isCluster;
    this.client.defineCommand('ctrkitRecord', { lua: RECORD_SCRIPT });
    // Lookups only read: on a Cluster client created with `scaleReads: 'slave'` (or 'all') they
    // are served by replicas, at the price of replication lag (see the Redis guide).
    this.client.defineCommand('ctrkitLookup', { lua: LOOKUP_KEYS_SCRIPT, readOnly: true });
    this.client.defineCommand('ctrkitLookupNode', { lua: LOOKUP_NODE_SCRIPT, readOnly: true });
    this.client.defineCommand('ctrkitForget', { lua: FORGET_SCRIPT });
    this.client.defineCommand('ctrkitFrequencyRecord', { lua: FREQUENCY_RECORD_SCRIPT });
    this.client.defineCommand('ctrkitFrequencyLookup', { lua: FREQUENCY_LOOKUP_SCRIPT, readOnly: true });
    const frequency = this.config.frequency;
    if (frequency !== undefined && this.ttlMs < Math.max(...frequency.ms)) {
      throw new CtrkitError('E_CONFIG', `redis store: ttlMs (${this.ttlMs}) is shorter than the longest frequency window (${Math.max(...frequency.ms)} ms); counts would expire inside their window`);
    }
    this.scripts = this.client as unknown as ScriptClient;
    this.rawCommands = keyPrefixOf(this.client) === '';
    this.windowArgs = [this.config.windows.length, ...this.config.taus];
  }

  private userKey(userId: string): string {
    return userKeyOf(this.prefix, userId);
  }

  private adKey(adId: string): string {
    return adKeyOf(this.prefix, adId);
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new CtrkitError('E_STATE', `redis store: ${what} after close(); create a new store`);
  }

  /** Runs a Redis call against a deadline; any failure becomes `E_STORE`. */
  private async within<T>(what: string, deadlineMs: number, call: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CtrkitError('E_STORE', `redis store: ${what} did not answer within ${deadlineMs} ms; check that Redis is up and not overloaded`, { details: { deadlineMs } })), deadlineMs);
    });
    try {
      return await Promise.race([call(), timeout]);
    } catch (error) {
      if (error instanceof CtrkitError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith('E_CONFIG')) throw new CtrkitError('E_CONFIG', `redis store: ${message.slice(9)}; use the windows the keys were written with, or another prefix`, { cause: error });
      throw new CtrkitError('E_STORE', `redis store: ${what} failed: ${message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private recordArgs(event: AdEvent, type: number, pairs: number, dedup: number, session: number, members: readonly string[]): (string | number)[] {
    const c = this.config;
    const args: (string | number)[] = [event.timestamp, type, event.eventId, event.requestId, c.capacity, c.horizonMs, this.ttlMs, c.gapMs, c.rebaseMs, pairs, dedup, session];
    args.push(...this.windowArgs, members.length, ...members, this.dedupWindowMs, this.dedupCapacity);
    return args;
  }

  /** Records an impression into the exact counts (same hash tag as the user: one call on Cluster too). */
  private recordFrequency(event: AdEvent, user: string): Promise<number> {
    const limit = (this.config.frequency as NonNullable<StoreConfig['frequency']>).limit;
    const keys = [`${user}|f|u`, `${user}|f|a|${part(event.adId)}`, `${user}|f|m|${part(event.campaignId)}`, `${user}|f|v|${part(event.advertiserId)}`, `${user}|keys`];
    return this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitFrequencyRecord(keys.length, ...keys, String(event.timestamp), event.eventId, limit, this.ttlMs));
  }

  async record(event: AdEvent): Promise<void> {
    this.checkOpen('record');
    const type = checkEvent(event, this.config);
    const user = this.userKey(event.userId);
    const counted = this.config.frequency !== undefined && type === 0 ? this.recordFrequency(event, user) : undefined;
    // Awaited below; until then a failure must not surface as unhandled.
    counted?.catch(() => undefined);
    const pairKeys = [`${user}|a|${part(event.adId)}`, `${user}|c|${part(event.category)}`, `${user}|v|${part(event.advertiserId)}`];
    const ad = this.adKey(event.adId);
    const userPairs = [user, `${user}|p`, ...pairKeys.flatMap((k) => [k, `${k}|p`])];
    if (!this.split) {
      const keys = [...userPairs, ad, `${ad}|p`, `${user}|keys`, `${user}|e`];
      await this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(keys.length, ...keys, ...this.recordArgs(event, type, 5, keys.length, 1, pairKeys)));
      await counted;
      return;
    }
    // Cluster: the user's keys share one slot, the ad's another; each group keeps its own event-id
    // set, so a record retried after one of the two calls failed completes the other exactly once.
    const userKeys = [...userPairs, `${user}|keys`, `${user}|e`];
    const adKeys = [ad, `${ad}|p`, `${ad}|e`];
    await Promise.all([
      this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(userKeys.length, ...userKeys, ...this.recordArgs(event, type, 4, userKeys.length, 1, pairKeys))),
      this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(adKeys.length, ...adKeys, ...this.recordArgs(event, type, 1, adKeys.length, 0, []))),
      counted,
    ]);
  }

  async lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options: StoreLookupOptions = {}): Promise<StoreLookup> {
    this.checkOpen('lookup');
    const rows = checkLookup(user, candidates, now);
    const deadline = options.deadlineMs ?? this.lookupDeadlineMs;
    const names = this.names;
    const values = valuesFor(rows, names.length, options.out);
    try {
      const userKey = this.userKey(user.id);
      const c = this.config;
      const frequency = this.frequencyLookup(userKey, candidates, rows, now, deadline);
      frequency?.counts.catch(() => undefined); // awaited below
      const keyOf = new Int32Array(rows * 4);
      const ids = lookupIds(candidates, rows, keyOf);
      const call: LookupCall = {
        config: c,
        scripts: this.scripts,
        prefix: this.prefix,
        windowArgs: this.windowArgs,
        userKey,
        ids,
        now,
        decoded: this.scratch.take(ids.keyCount * blockOf(c)),
        session: new Float64Array(2),
        rawCommands: this.rawCommands,
      };
      // One server: one MGET. Cluster: the user's MGET and one call per master holding any of the ads, sent together.
      await this.within('lookup', deadline, () => (this.split ? lookupOnCluster(call, this.cluster) : lookupOnServer(call, this.cluster === undefined && this.rawCommands ? (this.client as Redis) : undefined)));
      const blocks = this.scratch.take(ids.keyCount * c.entityWidth);
      fillRows(c, values, rows, now, (i) => lookupKeyName(this.prefix, userKey, ids, i), ids.keyCount, call.decoded, keyOf, call.session, blocks);
      // Every call has settled (a deadline that fired leaves its buffer to the collector, as a late reply may still write into it).
      this.scratch.give(blocks);
      this.scratch.give(call.decoded);
      if (frequency !== undefined) fillFrequency(c, values, rows, frequency.keyOf, frequency.size, await frequency.counts);
    } catch (error) {
      if (options.degradeOnError !== true || (error instanceof CtrkitError && error.code === 'E_CONFIG')) throw error;
      fillEmpty(this.config, values, rows);
      return { names, rows, values, degraded: true, reason: (error as Error).message };
    }
    return { names, rows, values, degraded: false };
  }

  /** Starts the read of the exact impression counts: the distinct keys, each row's three of them, and the script call. */
  private frequencyLookup(userKey: string, candidates: readonly AdCandidate[], rows: number, now: number, deadline: number): { keyOf: Int32Array; size: number; counts: Promise<number[]> } | undefined {
    const frequency = this.config.frequency;
    if (frequency === undefined) return undefined;
    const { keys, keyOf } = frequencyKeys(userKey, candidates, rows);
    const bounds = [`(${now}`, ...Array.from(frequency.ms, (ms) => `(${now - ms}`)];
    return { keyOf, size: keys.length, counts: this.within('lookup', deadline, () => this.scripts.ctrkitFrequencyLookup(keys.length, ...keys, ...bounds)) };
  }

  async forgetUser(userId: string): Promise<void> {
    this.checkOpen('forgetUser');
    if (typeof userId !== 'string' || userId.length === 0) throw new CtrkitError('E_INPUT', 'store.forgetUser: userId must be a non-empty string');
    const user = this.userKey(userId);
    const index = `${user}|keys`;
    // The script declares every key it deletes; a record landing between the read of the index
    // and the script makes it refuse (-1), and the index is read again.
    for (let attempt = 0; attempt < FORGET_ATTEMPTS; attempt++) {
      const members = await this.within('forgetUser', this.writeDeadlineMs, () => this.client.smembers(index));
      const keys = [user, `${user}|p`, index, `${user}|e`, ...members.flatMap((member) => [member, `${member}|p`])];
      const deleted = await this.within('forgetUser', this.writeDeadlineMs, () => this.scripts.ctrkitForget(keys.length, ...keys));
      if (deleted >= 0) return;
    }
    throw new CtrkitError('E_STORE', `redis store: forgetUser('${userId}') raced with ${FORGET_ATTEMPTS} concurrent writes to that user; stop the user's events and call it again`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    // QUIT waits for Redis's reply; a server that stopped answering must not hang close().
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.writeDeadlineMs)));
    try {
      const outcome = await Promise.race([this.client.quit(), gaveUp]);
      if (outcome === 'late') this.client.disconnect();
    } catch {
      this.client.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Creates the Redis feature store: the memory store's counters (see `createMemoryFeatureStore`),
 * shared through Redis by every process.
 *
 * Keys: `<prefix>{u:<user>}` (the user), `<prefix>{u:<user>}|a|<n>:<ad>`, `|c|…`, `|v|…` (its
 * pairs with ads, categories and advertisers), `<prefix>{a:<ad>}` (the ad), each with a `|p`
 * sorted set of pending events, and `<prefix>{u:<user>}|keys` (the user's pairs, for
 * `forgetUser`). Everything about a user shares one hash tag. Every write refreshes a TTL.
 *
 * @param options - The client or connection options, key prefix, TTL, deadlines, and the counter
 *   options shared with the memory store.
 * @returns The store. A lookup of any number of candidates is one `MGET` (one round trip; a
 *   script call more when some key has events pending at or after `now`); on Redis Cluster, the
 *   user's `MGET` and one script call per master holding any of the ads, sent together.
 * @throws `CtrkitError` `E_CONFIG` on invalid options. Its methods reject with `E_STORE` when Redis
 *   fails or misses the deadline (a lookup with `degradeOnError` returns empty counters flagged
 *   `degraded` instead), `E_INPUT` on malformed input or a lookup that would leak, `E_STATE` after `close`.
 * @example
 * ```ts
 * import { createRedisFeatureStore } from '@ctrkit/features/redis';
 * const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix: 'demo:fs:' });
 * const lookup = await store.lookup({ id: 'u1' }, [], Date.now(), { deadlineMs: 5, degradeOnError: true });
 * console.log(lookup.degraded);
 * await store.close();
 * ```
 */
export function createRedisFeatureStore(options: RedisFeatureStoreOptions): RedisFeatureStore {
  return new RedisStore(options);
}
