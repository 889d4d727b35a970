/**
 * The fleet's campaign reports through Redis: several reporters (processes) write, any one reads
 * the sum; spend is exact; a flush retried after its reply was lost counts once; the state events
 * can create is capped; a Redis outage keeps the counts pending until it answers. The same on a
 * Redis Cluster where one is named (CTRKIT_REDIS_CLUSTER).
 */
import { createManualClock, isCtrkitError, type AdEvent } from '@ctrkit/core';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { codeThrownBy, deleteKeysUnder, pollUntil, redisClusterFor, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createRedisCampaignReporter, type RedisCampaignReporterOptions } from '../src/redis.js';
import { clusterClient, redisClient } from './fixtures/redis-clients.js';
import { redisProxy } from './fixtures/redis-proxy.js';

const available = await sharedRedisFor('pacing: the Redis campaign reporter tests');
const clusterNodes = await redisClusterFor('pacing: the Redis campaign reporter on Redis Cluster');

const HOUR = 3_600_000;
/** Noon of a fixed day, so buckets are predictable. */
const NOON = Date.UTC(2026, 11, 7, 12, 0, 0);

let serial = 0;
function event(type: AdEvent['type'], campaignId: string, advertiserId: string, timestamp: number, cost?: number): AdEvent {
  serial++;
  return { type, eventId: `e${serial}`, requestId: `r${serial}`, adId: `ad-${campaignId}`, campaignId, advertiserId, userId: 'u', timestamp, ...(cost === undefined ? {} : { cost }) } as AdEvent;
}

function suite(label: string, connect: () => Redis | Cluster): void {
  describe(label, () => {
    const clients: (Redis | Cluster)[] = [];
    const prefixes: string[] = [];
    const fresh = () => {
      const redis = connect();
      clients.push(redis);
      return redis;
    };
    const prefixFor = (what: string) => {
      const prefix = uniqueKeyPrefix('pacing', `report-${what}`);
      prefixes.push(prefix);
      return prefix;
    };
    afterAll(async () => {
      const first = clients[0];
      if (first !== undefined) for (const prefix of prefixes) await deleteKeysUnder(first, prefix);
      for (const redis of clients) redis.disconnect();
    });
    const make = (prefix: string, extra: Partial<RedisCampaignReporterOptions> = {}) =>
      createRedisCampaignReporter({ redis: fresh(), keyPrefix: prefix, flushIntervalMs: 0, clock: createManualClock(NOON), ...extra });

    it('adds up what every process recorded, exactly, per campaign and per advertiser', async () => {
      const prefix = prefixFor('fleet');
      const a = make(prefix, { clientId: 'server-a' });
      const b = make(prefix, { clientId: 'server-b' });
      for (let i = 0; i < 30; i++) a.record(event('impression', 'c1', 'adv1', NOON - 10 * 60_000 + i * 1000, 0.1));
      for (let i = 0; i < 20; i++) b.record(event('impression', 'c2', 'adv1', NOON - 5 * 60_000 + i * 1000, 0.2));
      b.record(event('click', 'c2', 'adv1', NOON - 60_000));
      b.record(event('conversion', 'c2', 'adv1', NOON - 30_000, 1.5));
      await a.flush();
      await b.close();
      const reader = make(prefix);
      const report = await reader.report(HOUR);
      expect(report.windowMs).toBe(HOUR);
      const [c1, c2] = report.campaigns;
      expect(report.campaigns.map((c) => c.id)).toEqual(['c1', 'c2']);
      expect(c1).toMatchObject({ impressions: 30, clicks: 0, conversions: 0, spend: 3 });
      expect(c2).toMatchObject({ impressions: 20, clicks: 1, conversions: 1, spend: 5.5, ctr: 0.05 });
      // Summed as micros: 30 × 0.1 is 3, not 3.0000000000000013.
      expect(report.advertisers).toEqual([expect.objectContaining({ id: 'adv1', impressions: 50, clicks: 1, conversions: 1, spend: 8.5 })]);
      expect(a.stats()).toMatchObject({ pending: 0, flushed: 30, rejected: 0 });
      // A narrower window leaves out the older buckets.
      const recent = await reader.report(6 * 60_000);
      expect(recent.campaigns.map((c) => c.id)).toEqual(['c2']);
      await a.close();
      await reader.close();
    });

    it('flushes on a clock that carries a fraction of a millisecond (as the system clock does)', async () => {
      const prefix = prefixFor('fraction');
      const reporter = make(prefix, { clock: createManualClock(NOON + 0.375) });
      reporter.record(event('impression', 'c', 'adv', NOON - 1000.5, 0.5));
      await reporter.flush();
      expect((await reporter.report(HOUR)).campaigns).toEqual([expect.objectContaining({ id: 'c', impressions: 1, spend: 0.5 })]);
      await reporter.close();
    });

    it('applies a flush once when its reply was lost and it is sent again', async () => {
      const prefix = prefixFor('retry');
      const redis = fresh();
      let loseReplies = 1;
      // A client whose first script call runs on Redis but whose reply never arrives (a timeout).
      const lossy = new Proxy(redis, {
        get(target, key, receiver) {
          if (key === 'eval') {
            return async (...args: unknown[]) => {
              const reply = await (target as Redis).eval(...(args as [string, number, ...string[]]));
              if (loseReplies-- > 0) throw new Error('connection reset before the reply');
              return reply;
            };
          }
          const value = Reflect.get(target, key, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const reporter = createRedisCampaignReporter({ redis: lossy, keyPrefix: prefix, flushIntervalMs: 0, clock: createManualClock(NOON) });
      for (let i = 0; i < 7; i++) reporter.record(event('impression', 'c', 'adv', NOON - 1000, 0.25));
      const failed = await reporter.flush().then(() => undefined, (error: unknown) => error);
      expect(isCtrkitError(failed) && failed.code).toBe('E_STORE');
      expect(reporter.stats()).toMatchObject({ pending: 7, redisErrors: 1 });
      reporter.record(event('click', 'c', 'adv', NOON - 500));
      await reporter.flush();
      expect(reporter.stats()).toMatchObject({ pending: 0, flushed: 8 });
      const [c] = (await reporter.report(HOUR)).campaigns;
      expect(c).toMatchObject({ id: 'c', impressions: 7, clicks: 1, spend: 1.75 });
      await reporter.close();
    });

    it('caps what events can create: entities per bucket in Redis, entities buffered locally; late and malformed events are counted', async () => {
      const prefix = prefixFor('caps');
      const capped = make(prefix, { maxEntitiesPerBucket: 4 });
      for (let i = 0; i < 6; i++) capped.record(event('impression', `c${i}`, 'adv', NOON - 1000));
      await capped.flush();
      // adv + c0 + c1 + c2 fill the bucket; c3, c4, c5 are shed (the advertiser still counts them).
      expect(capped.stats().shed).toBe(3);
      const report = await capped.report(HOUR);
      expect(report.campaigns.map((c) => c.id)).toEqual(['c0', 'c1', 'c2']);
      expect(report.advertisers[0]).toMatchObject({ id: 'adv', impressions: 6 });
      const small = make(prefixFor('pending'), { maxPendingEntities: 3 });
      small.record(event('impression', 'x', 'adv', NOON - 1000));
      small.record(event('impression', 'y', 'adv', NOON - 1000));
      small.record(event('impression', 'z', 'adv', NOON - 1000));
      expect(small.stats()).toMatchObject({ dropped: 1, pending: 2 });
      small.record(event('click', 'x', 'adv', NOON - 1000)); // an entity already buffered still counts
      expect(small.stats()).toMatchObject({ dropped: 1, pending: 3 });
      small.record(event('impression', 'x', 'adv', NOON - 25 * HOUR));
      small.record({ type: 'impression', campaignId: '', advertiserId: 'adv', timestamp: NOON } as AdEvent);
      small.record(event('impression', 'x', 'adv', NOON, -1));
      small.record(event('impression', 'x', 'adv', Number.NaN));
      small.record({ type: 'refund', campaignId: 'x', advertiserId: 'adv', timestamp: NOON } as unknown as AdEvent);
      small.record(null as unknown as AdEvent);
      expect(small.stats()).toMatchObject({ late: 1, rejected: 5, pending: 3 });
      await small.close();
      await capped.close();
    });

    it('refuses bad settings and bad windows', async () => {
      const redis = fresh();
      expect(codeThrownBy(() => createRedisCampaignReporter({ redis: {} as Redis }))).toBe('E_CONFIG');
      expect(codeThrownBy(() => createRedisCampaignReporter({ redis, keyPrefix: 'a{b}' }))).toBe('E_CONFIG');
      expect(codeThrownBy(() => createRedisCampaignReporter({ redis, bucketMs: 60_000, horizonMs: 90_000 }))).toBe('E_CONFIG');
      expect(codeThrownBy(() => createRedisCampaignReporter({ redis, flushIntervalMs: 5 }))).toBe('E_CONFIG');
      expect(codeThrownBy(() => createRedisCampaignReporter({ redis, clientId: 'a b' }))).toBe('E_CONFIG');
      const reporter = make(prefixFor('bad'));
      await expect(reporter.report(0)).rejects.toMatchObject({ code: 'E_INPUT' });
      await reporter.close();
    });
  });
}

describe.skipIf(!available)('Redis campaign reporter', () => {
  suite('on one Redis', () => redisClient());

  it('keeps counts pending while Redis is unreachable and sends them once it answers', async () => {
    const proxy = await redisProxy();
    const redis = redisClient(proxy.port, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const prefix = uniqueKeyPrefix('pacing', 'report-outage');
    const reporter = createRedisCampaignReporter({ redis, keyPrefix: prefix, flushIntervalMs: 0, commandTimeoutMs: 300, clock: createManualClock(NOON) });
    const ready = () => pollUntil('the client to reconnect', () => redis.status === 'ready', { timeoutMs: 5_000, intervalMs: 50 });
    try {
      await ready();
      await redis.ping();
      await proxy.cut();
      for (let i = 0; i < 5; i++) reporter.record(event('impression', 'c', 'adv', NOON - 1000, 0.01));
      await expect(reporter.flush()).rejects.toMatchObject({ code: 'E_STORE' });
      expect(reporter.stats().pending).toBe(5);
      await proxy.restore();
      await ready();
      await reporter.flush();
      const reader = createRedisCampaignReporter({ redis: redisClient(), keyPrefix: prefix, flushIntervalMs: 0, clock: createManualClock(NOON) });
      expect((await reader.report(HOUR)).campaigns).toEqual([expect.objectContaining({ id: 'c', impressions: 5, spend: 0.05 })]);
      await reader.close();
    } finally {
      await reporter.close().catch(() => undefined);
      const cleaner = redisClient();
      await deleteKeysUnder(cleaner, prefix);
      cleaner.disconnect();
      redis.disconnect();
      await proxy.close();
    }
  });
});

if (clusterNodes !== undefined) suite('Redis campaign reporter on Redis Cluster', () => clusterClient(clusterNodes));
