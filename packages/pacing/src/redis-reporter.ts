/**
 * Campaign reports for a whole fleet: every process counts its events in local time buckets and
 * flushes them to Redis; any process (or `ctrkit report`) reads what the fleet did over a window.
 *
 * Key layout for time bucket `b` (the bucket's index, `floor(timestamp / bucketMs)`) under prefix
 * `P`: `P{b}:data`, a hash with `<kind>:<id>|<f>` fields — kind `c` (campaign) or `a` (advertiser),
 * f `i` impressions, `k` clicks, `v` conversions, `s` spend in integer micros — and `n`, the
 * number of entities in the bucket; `P{b}:done`, a set of the flush batches applied. Both expire
 * `horizonMs` after the bucket ends. One bucket's keys share a hash tag, so each flush is one
 * atomic script on one Redis Cluster node.
 */
import { randomBytes } from 'node:crypto';
import { campaignFiguresOf, CtrkitError, systemClock, type AdEvent, type CampaignFigures, type CampaignReport, type Clock } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import type { Cluster, Redis } from 'ioredis';
import { MAX_AMOUNT, toMicros } from './money.js';

/**
 * Options of {@link createRedisCampaignReporter}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisCampaignReporterOptions } from '@ctrkit/pacing/redis';
 * const options: RedisCampaignReporterOptions = { redis: new Redis(), bucketMs: 60_000, flushIntervalMs: 1_000 };
 * ```
 */
export interface RedisCampaignReporterOptions {
  /** An ioredis client, or a `Cluster` (each bucket's keys share one hash tag). */
  readonly redis: Redis | Cluster;
  /** Prefix of every key (default `ctrkit:report:`); every process of a fleet uses the same one. No braces. */
  readonly keyPrefix?: string;
  /** Time resolution (default one minute). Writers and readers of one prefix must agree on it. */
  readonly bucketMs?: number;
  /** Longest window that can be reported, and how long buckets live in Redis (default one day). */
  readonly horizonMs?: number;
  /** How often the local buckets are sent (default 1,000 ms); 0: only on `flush`, `report` and `close`. */
  readonly flushIntervalMs?: number;
  /**
   * Most campaigns + advertisers one bucket holds in Redis, fleet-wide (default 20,000). Ids come
   * from events, so the state they can create is capped: an id new to a full bucket is not stored
   * and counted in `stats().shed`.
   */
  readonly maxEntitiesPerBucket?: number;
  /** Most campaigns + advertisers buffered locally between flushes (default 20,000); past it events are counted in `stats().dropped`. */
  readonly maxPendingEntities?: number;
  /** A Redis call that takes longer fails (default 1,000 ms); a failed flush is retried, applied once. */
  readonly commandTimeoutMs?: number;
  /** Names this process's flush batches (default random): 1–64 letters, digits, `.`, `_` or `-`. */
  readonly clientId?: string;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
}

/**
 * Counters of a {@link RedisCampaignReporter}.
 *
 * @example
 * ```ts
 * import type { RedisCampaignReporterStats } from '@ctrkit/pacing/redis';
 * const lost = (s: RedisCampaignReporterStats) => s.late + s.dropped + s.shed + s.rejected;
 * ```
 */
export interface RedisCampaignReporterStats {
  /** Events counted locally and not yet in Redis (waiting or in a flush that will be retried). */
  readonly pending: number;
  /** Events in Redis, sent by this process. */
  readonly flushed: number;
  /** Flush scripts run (a retried batch counts again). */
  readonly flushes: number;
  /** Events older than the horizon when recorded: not counted. */
  readonly late: number;
  /** Events not counted because the local buffer held `maxPendingEntities` entities. */
  readonly dropped: number;
  /** Entities (with their events) not stored because their bucket held `maxEntitiesPerBucket` in Redis. */
  readonly shed: number;
  /** Events refused as malformed (no campaign or advertiser id, a bad type, time or cost). */
  readonly rejected: number;
  /** Redis calls that failed or timed out. */
  readonly redisErrors: number;
}

/**
 * A campaign reporter shared by every process that writes under one key prefix: `record` is
 * synchronous and local, a timer sends the counts to Redis, and `report` answers for the fleet.
 *
 * @example
 * ```ts
 * import type { RedisCampaignReporter } from '@ctrkit/pacing/redis';
 * declare const reporter: RedisCampaignReporter;
 * const lastHour = await reporter.report(3_600_000);
 * console.log(lastHour.campaigns.map((c) => `${c.id}: ${c.impressions} impressions, ${c.spend} spent`));
 * ```
 */
export interface RedisCampaignReporter {
  /**
   * Counts one event in its time bucket (by `event.timestamp`), locally. Never throws on bad
   * input: a malformed event is counted in `stats().rejected`, a late one in `stats().late`.
   *
   * @param event - An impression, click or conversion; `cost` (currency units) is spend.
   */
  record(event: AdEvent): void;
  /**
   * Sends every local count to Redis. A batch whose call failed is kept and re-sent with the same
   * id, and Redis applies each batch id once, so a retry after a timeout never counts twice.
   *
   * @throws `CtrkitError` `E_STORE` when Redis did not take every batch (they stay pending).
   */
  flush(): Promise<void>;
  /**
   * The fleet's figures over the last `windowMs` (bucket-aligned, at most the horizon), after
   * flushing this process's counts.
   *
   * @param windowMs - Window length in ms.
   * @returns Per campaign and per advertiser, sorted by id; spend in currency units (exact sums of micros).
   * @throws `CtrkitError` `E_INPUT` on a bad window, `E_STORE` when Redis cannot be read.
   */
  report(windowMs: number): Promise<CampaignReport>;
  /** Counters for monitoring. */
  stats(): RedisCampaignReporterStats;
  /**
   * Stops the timer and flushes what is pending.
   *
   * @throws `CtrkitError` `E_STORE` when the last flush failed (those counts are lost with the process).
   */
  close(): Promise<void>;
}

/** Applies one batch of one bucket, once per batch id. */
const FLUSH_SCRIPT = `
local DATA, DONE = KEYS[1], KEYS[2]
local ttl = ARGV[2]
if redis.call('SISMEMBER', DONE, ARGV[1]) == 1 then return {0, 0} end
local cap = tonumber(ARGV[3])
local entities = tonumber(redis.call('HGET', DATA, 'n') or '0')
local shed = 0
local at = 5
for _ = 1, tonumber(ARGV[4]) do
  local e = ARGV[at]
  local known = redis.call('HEXISTS', DATA, e .. '|i') == 1
  if known or entities < cap then
    if not known then entities = entities + 1 end
    redis.call('HINCRBY', DATA, e .. '|i', ARGV[at + 1])
    redis.call('HINCRBY', DATA, e .. '|k', ARGV[at + 2])
    redis.call('HINCRBY', DATA, e .. '|v', ARGV[at + 3])
    redis.call('HINCRBY', DATA, e .. '|s', ARGV[at + 4])
  else
    shed = shed + 1
  end
  at = at + 5
end
redis.call('HSET', DATA, 'n', entities)
redis.call('SADD', DONE, ARGV[1])
redis.call('PEXPIRE', DATA, ttl)
redis.call('PEXPIRE', DONE, ttl)
return {1, shed}
`;

/** Counts of one entity in one bucket: impressions, clicks, conversions, spend micros. */
type Counts = [number, number, number, number];

interface Batch {
  readonly id: string;
  readonly bucket: number;
  readonly entities: Map<string, Counts>;
  events: number;
}

const FIELD_INDEX: Record<string, number> = { i: 0, k: 1, v: 2, s: 3 };
const MAX_ID_LENGTH = 256;

/**
 * Creates a {@link RedisCampaignReporter}. Counts are exact: spend is summed in integer micros
 * (as the ledgers hold money) and converted to currency units only in the report.
 *
 * **What a report can miss**: each process's counts of the last `flushIntervalMs` (`report`
 * flushes its own first), and what a process that died had not flushed. What it never does:
 * count one flushed batch twice.
 *
 * @param options - Client, key prefix, buckets, caps, clock.
 * @returns The reporter; call `close()` at shutdown.
 * @throws `CtrkitError` `E_CONFIG` on a missing client or bad settings.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisCampaignReporter } from '@ctrkit/pacing/redis';
 * const redis = new Redis();
 * const reporter = createRedisCampaignReporter({ redis });
 * reporter.record({ type: 'impression', eventId: 'e1', requestId: 'r1', adId: 'a', campaignId: 'c', advertiserId: 'adv', category: 'IAB1', userId: 'u', timestamp: Date.now(), cost: 0.002 });
 * console.log((await reporter.report(3_600_000)).campaigns);
 * await reporter.close();
 * redis.disconnect();
 * ```
 */
export function createRedisCampaignReporter(options: RedisCampaignReporterOptions): RedisCampaignReporter {
  const { redis } = options;
  ensure(typeof redis === 'object' && redis !== null && typeof (redis as Redis).evalsha === 'function', 'E_CONFIG', () => 'options.redis must be an ioredis client or Cluster');
  const prefix = options.keyPrefix ?? 'ctrkit:report:';
  ensure(typeof prefix === 'string' && !/[{}]/.test(prefix), 'E_CONFIG', () => `keyPrefix must be a string without braces (they would break hash tags), got ${JSON.stringify(prefix)}`);
  const bucketMs = options.bucketMs ?? 60_000;
  const horizonMs = options.horizonMs ?? 86_400_000;
  ensure(Number.isInteger(bucketMs) && bucketMs >= 1_000, 'E_CONFIG', () => `bucketMs must be a whole number of ms, at least 1,000, got ${String(options.bucketMs)}`);
  ensure(Number.isInteger(horizonMs) && horizonMs >= bucketMs && horizonMs % bucketMs === 0, 'E_CONFIG', () => `horizonMs (${String(options.horizonMs)}) must be a multiple of bucketMs (${bucketMs})`);
  ensure(horizonMs / bucketMs <= 100_000, 'E_CONFIG', () => `horizonMs / bucketMs must be at most 100,000 buckets, got ${horizonMs / bucketMs}`);
  const flushMs = options.flushIntervalMs ?? 1_000;
  ensure(flushMs === 0 || (Number.isFinite(flushMs) && flushMs >= 10), 'E_CONFIG', () => `flushIntervalMs must be 0 or at least 10 ms, got ${String(options.flushIntervalMs)}`);
  const maxEntities = options.maxEntitiesPerBucket ?? 20_000;
  const maxPending = options.maxPendingEntities ?? 20_000;
  ensure(Number.isInteger(maxEntities) && maxEntities >= 1, 'E_CONFIG', () => `maxEntitiesPerBucket must be a positive integer, got ${String(options.maxEntitiesPerBucket)}`);
  ensure(Number.isInteger(maxPending) && maxPending >= 1, 'E_CONFIG', () => `maxPendingEntities must be a positive integer, got ${String(options.maxPendingEntities)}`);
  const timeoutMs = options.commandTimeoutMs ?? 1_000;
  ensure(Number.isFinite(timeoutMs) && timeoutMs > 0, 'E_CONFIG', () => `commandTimeoutMs must be positive, got ${String(options.commandTimeoutMs)}`);
  const clientId = options.clientId ?? randomBytes(6).toString('hex');
  ensure(typeof clientId === 'string' && /^[\w.-]{1,64}$/.test(clientId), 'E_CONFIG', () => `clientId must be 1–64 letters, digits, '.', '_' or '-', got ${JSON.stringify(clientId)}`);
  const clock = options.clock ?? systemClock;
  const buckets = horizonMs / bucketMs;
  const keysOf = (bucket: number): [string, string] => [`${prefix}{${bucket}}:data`, `${prefix}{${bucket}}:done`];

  /** Counts being gathered, per bucket; a flush moves a bucket's map into a batch. */
  const open = new Map<number, Batch>();
  /** Batches whose flush failed: re-sent as they are, under the same id, before anything newer. */
  const retry: Batch[] = [];
  let pendingEntities = 0;
  let serial = 0;
  let closed = false;
  let flushing: Promise<void> | undefined;
  const counters = { flushed: 0, flushes: 0, late: 0, dropped: 0, shed: 0, rejected: 0, redisErrors: 0 };

  const withTimeout = async <T>(call: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      counters.redisErrors++;
      call.catch(() => undefined);
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  const send = async (batch: Batch): Promise<void> => {
    const args: string[] = [batch.id, '', String(maxEntities), String(batch.entities.size)];
    for (const [entity, counts] of batch.entities) args.push(entity, String(counts[0]), String(counts[1]), String(counts[2]), String(counts[3]));
    // Buckets live `horizonMs` past their end, by this process's clock (whole ms: clocks may carry a fraction, PEXPIRE takes none); never less than a minute.
    args[1] = String(Math.ceil(Math.max(60_000, (batch.bucket + 1) * bucketMs + horizonMs - clock.now())));
    counters.flushes++;
    const reply = (await withTimeout((redis as Redis).eval(FLUSH_SCRIPT, 2, ...keysOf(batch.bucket), ...args))) as [number, number];
    counters.shed += Number(reply[1]);
    counters.flushed += batch.events;
    pendingEntities -= batch.entities.size;
  };

  const flushNow = async (): Promise<void> => {
    for (const batch of open.values()) retry.push(batch);
    open.clear();
    const failed: Batch[] = [];
    let firstError: unknown;
    for (const batch of retry.splice(0)) {
      try {
        await send(batch);
      } catch (error) {
        firstError ??= error;
        failed.push(batch);
      }
    }
    retry.push(...failed);
    if (failed.length > 0) {
      const reason = firstError instanceof Error ? firstError.message : String(firstError);
      throw new CtrkitError('E_STORE', `report flush: ${failed.length} batch(es) did not reach Redis (${reason}); they stay pending and are re-sent, counted once, by the next flush`, { cause: firstError });
    }
  };

  const flush = (): Promise<void> => {
    // One flush at a time: a second caller waits for the one in flight, then sends what came since.
    const run = (flushing ?? Promise.resolve()).catch(() => undefined).then(flushNow);
    const tracked = run.finally(() => {
      if (flushing === tracked) flushing = undefined;
    });
    flushing = tracked;
    return tracked;
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (flushMs > 0) {
    timer = setInterval(() => {
      if (open.size > 0 || retry.length > 0) flush().catch(() => undefined);
    }, flushMs);
    timer.unref?.();
  }

  const validId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;

  const count = (batch: Batch, entity: string, field: number, spend: number): void => {
    let counts = batch.entities.get(entity);
    if (counts === undefined) {
      counts = [0, 0, 0, 0];
      batch.entities.set(entity, counts);
      pendingEntities++;
    }
    counts[field] = (counts[field] as number) + 1;
    counts[3] = (counts[3] as number) + spend;
  };

  const figures = (id: string, counts: readonly number[]): CampaignFigures => {
    const [impressions = 0, clicks = 0, conversions = 0, micros = 0] = counts;
    return campaignFiguresOf(id, impressions, clicks, conversions, micros / 1_000_000);
  };

  return {
    record(event) {
      const field = event?.type === 'impression' ? 0 : event?.type === 'click' ? 1 : event?.type === 'conversion' ? 2 : -1;
      const cost = event?.cost ?? 0;
      if (field < 0 || closed || !validId(event.campaignId) || !validId(event.advertiserId) || !Number.isFinite(event.timestamp) || !(typeof cost === 'number' && cost >= 0 && cost <= MAX_AMOUNT)) {
        counters.rejected++;
        return;
      }
      const bucket = Math.floor(event.timestamp / bucketMs);
      if (bucket <= Math.floor(clock.now() / bucketMs) - buckets) {
        counters.late++;
        return;
      }
      let batch = open.get(bucket);
      if (batch === undefined) {
        batch = { id: `${clientId}:${++serial}`, bucket, entities: new Map(), events: 0 };
        open.set(bucket, batch);
      }
      const spend = toMicros(cost);
      // Both or neither: a campaign's figures and its advertiser's always add up.
      const campaignKey = `c:${event.campaignId}`;
      const advertiserKey = `a:${event.advertiserId}`;
      const newOnes = (batch.entities.has(campaignKey) ? 0 : 1) + (batch.entities.has(advertiserKey) ? 0 : 1);
      if (pendingEntities + newOnes > maxPending) {
        counters.dropped++;
        return;
      }
      count(batch, campaignKey, field, spend);
      count(batch, advertiserKey, field, spend);
      batch.events++;
    },

    flush,

    async report(windowMs) {
      ensure(Number.isFinite(windowMs) && windowMs > 0, 'E_INPUT', () => `windowMs must be a positive number of ms, got ${String(windowMs)}`);
      if (!closed) await flush();
      const until = clock.now();
      const last = Math.floor(until / bucketMs);
      const span = Math.min(buckets, Math.ceil(windowMs / bucketMs));
      const reads: Promise<Record<string, string>>[] = [];
      for (let bucket = last - span + 1; bucket <= last; bucket++) reads.push((redis as Redis).hgetall(keysOf(bucket)[0]));
      let hashes: Record<string, string>[];
      try {
        hashes = await withTimeout(Promise.all(reads));
      } catch (error) {
        throw new CtrkitError('E_STORE', `report: Redis could not be read (${error instanceof Error ? error.message : String(error)})`, { cause: error });
      }
      const campaigns = new Map<string, number[]>();
      const advertisers = new Map<string, number[]>();
      for (const hash of hashes) {
        for (const [key, value] of Object.entries(hash)) {
          if (key === 'n' || key.length < 5 || key[1] !== ':' || key[key.length - 2] !== '|') continue;
          const map = key[0] === 'c' ? campaigns : key[0] === 'a' ? advertisers : undefined;
          const index = FIELD_INDEX[key[key.length - 1] as string];
          if (map === undefined || index === undefined) continue;
          const id = key.slice(2, -2);
          let sums = map.get(id);
          if (sums === undefined) map.set(id, (sums = [0, 0, 0, 0]));
          sums[index] = (sums[index] as number) + Number(value);
        }
      }
      const list = (map: Map<string, number[]>) => [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([id, sums]) => figures(id, sums));
      return { windowMs: span * bucketMs, until, campaigns: list(campaigns), advertisers: list(advertisers) };
    },

    stats() {
      let pending = 0;
      for (const batch of open.values()) pending += batch.events;
      for (const batch of retry) pending += batch.events;
      return { pending, ...counters };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await flush();
    },
  };
}
