/**
 * The Redis feature store: the same counters as the memory store, shared by every ad-server
 * process. One script call per request answers every candidate (a single round trip); keys carry
 * hash tags per user and per ad, so the layout works on Redis Cluster; every key has a TTL.
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { CtrkitError, type AdCandidate, type AdEvent, type FeatureStore, type LookupOptions, type StoreLookup, type UserProfile } from '@ctrkit/core';
import { FORGET_SCRIPT, LOOKUP_SCRIPT, RECORD_SCRIPT } from './redis-lua.js';
import { STORE_ENTITIES, checkEvent, checkLookup, fillEmpty, storeConfig, type FeatureStoreOptions, type StoreConfig } from './store.js';

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
   * Send one script call per hash-tag group (the user's keys, each ad's keys) instead of one for
   * the whole request. Required on Redis Cluster; default: on for a `Cluster` client.
   */
  readonly splitBySlot?: boolean;
}

/** Script commands the store defines on its client. */
interface ScriptClient {
  ctrkitRecord(numKeys: number, ...args: (string | number)[]): Promise<number>;
  ctrkitLookup(numKeys: number, ...args: (string | number)[]): Promise<string>;
  ctrkitForget(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

function isClient(value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as { defineCommand?: unknown }).defineCommand === 'function';
}

/** A key name with its length, so ids containing separators cannot collide. */
function part(id: string): string {
  return `${id.length}:${id}`;
}

class RedisStore implements FeatureStore {
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
  private readonly windowArgs: (string | number)[];
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
    this.split = options.splitBySlot ?? (this.client as { isCluster?: boolean }).isCluster === true;
    this.client.defineCommand('ctrkitRecord', { lua: RECORD_SCRIPT });
    this.client.defineCommand('ctrkitLookup', { lua: LOOKUP_SCRIPT });
    this.client.defineCommand('ctrkitForget', { lua: FORGET_SCRIPT });
    this.scripts = this.client as unknown as ScriptClient;
    this.windowArgs = [this.config.windows.length, ...this.config.taus];
  }

  private userKey(userId: string): string {
    return `${this.prefix}{u:${userId}}`;
  }

  private adKey(adId: string): string {
    return `${this.prefix}{a:${adId}}`;
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
    args.push(...this.windowArgs, members.length, ...members);
    return args;
  }

  async record(event: AdEvent): Promise<void> {
    this.checkOpen('record');
    const type = checkEvent(event, this.config);
    const user = this.userKey(event.userId);
    const pairKeys = [`${user}|a|${part(event.adId)}`, `${user}|c|${part(event.category)}`, `${user}|v|${part(event.advertiserId)}`];
    const ad = this.adKey(event.adId);
    const userPairs = [user, `${user}|p`, ...pairKeys.flatMap((k) => [k, `${k}|p`])];
    if (!this.split) {
      const keys = [...userPairs, ad, `${ad}|p`, `${user}|keys`];
      await this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(keys.length, ...keys, ...this.recordArgs(event, type, 5, 2, 1, pairKeys)));
      return;
    }
    // Cluster: the user's keys share one slot, the ad's another. The user call decides duplicates.
    const userKeys = [...userPairs, `${user}|keys`];
    const fresh = await this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(userKeys.length, ...userKeys, ...this.recordArgs(event, type, 4, 2, 1, pairKeys)));
    if (fresh === 1) await this.within('record', this.writeDeadlineMs, () => this.scripts.ctrkitRecord(2, ad, `${ad}|p`, ...this.recordArgs(event, type, 1, 0, 0, [])));
  }

  async lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options: LookupOptions = {}): Promise<StoreLookup> {
    this.checkOpen('lookup');
    const rows = checkLookup(user, candidates, now);
    const deadline = options.deadlineMs ?? this.lookupDeadlineMs;
    const names = this.names;
    const values = new Float32Array(rows * names.length);
    try {
      const userKey = this.userKey(user.id);
      // Unique keys: the user's own, then each distinct ad, pair, category and advertiser.
      const index = new Map<string, number>([[userKey, 0]]);
      const keyOf: number[] = new Array<number>(rows * 4);
      const add = (key: string): number => {
        let i = index.get(key);
        if (i === undefined) {
          i = index.size;
          index.set(key, i);
        }
        return i;
      };
      for (let r = 0; r < rows; r++) {
        const c = candidates[r] as AdCandidate;
        keyOf[4 * r] = add(this.adKey(c.adId));
        keyOf[4 * r + 1] = add(`${userKey}|a|${part(c.adId)}`);
        keyOf[4 * r + 2] = add(`${userKey}|c|${part(c.category)}`);
        keyOf[4 * r + 3] = add(`${userKey}|v|${part(c.advertiserId)}`);
      }
      const keys = [...index.keys()];
      const c = this.config;
      const argsFor = (count: number, session: number) => [String(now), count, session, c.readFloorMs, c.gapMs, 0, 0, 0, 0, 0, 0, 0, ...this.windowArgs];
      const answers: string[] = new Array<string>(keys.length);
      if (!this.split) {
        const flat = keys.flatMap((k) => [k, `${k}|p`]);
        const reply = await this.within('lookup', deadline, () => this.scripts.ctrkitLookup(flat.length, ...flat, ...argsFor(keys.length, 1)));
        const parts = reply.split(';');
        if (parts.length !== keys.length) throw new CtrkitError('E_STORE', `redis store: lookup answered ${parts.length} keys for ${keys.length}; is the script out of date?`);
        parts.forEach((p, i) => (answers[i] = p));
      } else {
        // One call per hash tag: the user's keys together, each ad alone; sent back to back.
        const userGroup = keys.map((k, i) => [k, i] as const).filter(([k]) => k.startsWith(userKey));
        const adGroups = keys.map((k, i) => [k, i] as const).filter(([k]) => !k.startsWith(userKey));
        const groups = [userGroup, ...adGroups.map((g) => [g])];
        await this.within('lookup', deadline, () =>
          Promise.all(
            groups.map(async (group, g) => {
              const flat = group.flatMap(([k]) => [k, `${k}|p`]);
              const reply = await this.scripts.ctrkitLookup(flat.length, ...flat, ...argsFor(group.length, g === 0 ? 1 : 0));
              reply.split(';').forEach((p, j) => (answers[(group[j] as readonly [string, number])[1]] = p));
            }),
          ),
        );
      }
      this.fill(values, rows, now, keys, answers, keyOf);
    } catch (error) {
      if (options.degradeOnError !== true || (error instanceof CtrkitError && error.code === 'E_CONFIG')) throw error;
      fillEmpty(this.config, values, rows);
      return { names, rows, values, degraded: true, reason: (error as Error).message };
    }
    return { names, rows, values, degraded: false };
  }

  /** Decodes the script's answers into the lookup's rows. */
  private fill(values: Float32Array, rows: number, now: number, keys: readonly string[], answers: readonly string[], keyOf: readonly number[]): void {
    const W = this.config.windows.length;
    const E = this.config.entityWidth;
    const width = this.names.length;
    const { alpha, beta } = this.config;
    const prior = alpha / (alpha + beta);
    const blocks = new Float64Array(keys.length * E);
    const session = [0, 0];
    answers.forEach((answer, i) => {
      let p = i * E;
      if (answer === '-') {
        for (let w = 0; w < W; w++) {
          blocks[p++] = 0;
          blocks[p++] = 0;
          blocks[p++] = 0;
          blocks[p++] = prior;
        }
        blocks[p++] = Number.NaN;
        blocks[p] = Number.NaN;
        return;
      }
      if (answer.startsWith('!')) {
        throw new CtrkitError(
          'E_INPUT',
          `store.lookup at ${now} for ${keys[i]}: events at or after that time are already folded into its counters (up to ${answer.slice(1)}), so the answer would leak them; look up in time order, or raise pendingCapacity / horizonMs`,
          { details: { key: keys[i], now, folded: Number(answer.slice(1)) } },
        );
      }
      const parts = answer.split(',');
      const num = (j: number) => {
        const text = parts[j] as string;
        return text === 'n' ? Number.NaN : Number(text);
      };
      for (let w = 0; w < W; w++) {
        const imp = num(w);
        const click = num(W + w);
        blocks[p++] = imp;
        blocks[p++] = click;
        blocks[p++] = num(2 * W + w);
        blocks[p++] = (click + alpha) / (imp + alpha + beta);
      }
      blocks[p++] = (now - num(3 * W)) / 1000;
      blocks[p] = (now - num(3 * W + 1)) / 1000;
      if (i === 0 && parts.length >= 3 * W + 4) {
        session[0] = num(3 * W + 2);
        session[1] = num(3 * W + 3);
      }
    });
    const sessionAt = STORE_ENTITIES.length * E;
    for (let r = 0; r < rows; r++) {
      const p = r * width;
      values.set(blocks.subarray(0, E), p);
      for (let e = 0; e < 4; e++) {
        const k = keyOf[4 * r + e] as number;
        values.set(blocks.subarray(k * E, (k + 1) * E), p + (e + 1) * E);
      }
      values[p + sessionAt] = session[0] as number;
      values[p + sessionAt + 1] = session[1] as number;
    }
  }

  async forgetUser(userId: string): Promise<void> {
    this.checkOpen('forgetUser');
    if (typeof userId !== 'string' || userId.length === 0) throw new CtrkitError('E_INPUT', 'store.forgetUser: userId must be a non-empty string');
    const user = this.userKey(userId);
    await this.within('forgetUser', this.writeDeadlineMs, () => this.scripts.ctrkitForget(3, user, `${user}|p`, `${user}|keys`));
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
 * @returns The store. A lookup of any number of candidates is one script call (one round trip);
 *   with `splitBySlot`, one call per hash tag, sent together.
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
export function createRedisFeatureStore(options: RedisFeatureStoreOptions): FeatureStore {
  return new RedisStore(options);
}
