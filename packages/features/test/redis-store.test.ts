import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { deleteKeysUnder, freePort, keysUnder, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock, type AdCandidate, type AdEvent, type FeatureStore, type StoreLookup } from '@ctrkit/core';
import { createMemoryFeatureStore } from '../src/index.js';
import { createRedisFeatureStore } from '../src/redis.js';
import { HOUR, T0, candidate, describeStoreConformance, event } from './fixtures/store-conformance.js';

const available = await sharedRedisFor('features: the Redis feature store tests');
const admin = available ? new Redis({ host: '127.0.0.1', port: 6379 }) : undefined;
const prefixes: string[] = [];
const keysOf = (prefix: string): Promise<string[]> => keysUnder(admin as Redis, prefix);

afterAll(async () => {
  if (admin !== undefined) for (const prefix of prefixes) await deleteKeysUnder(admin, prefix);
  admin?.disconnect();
});

function freshPrefix(): string {
  const prefix = uniqueKeyPrefix('features', 'redis-store');
  prefixes.push(prefix);
  return prefix;
}

/** Fails on the first value where the Redis store's lookup and the memory store's differ by more than 1e-6 (relative). */
function expectSameAsMemory(fromRedis: StoreLookup, fromMemory: StoreLookup): void {
  for (let i = 0; i < fromMemory.values.length; i++) {
    const a = fromRedis.values[i] as number;
    const b = fromMemory.values[i] as number;
    if (!(Number.isNaN(a) && Number.isNaN(b)) && Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(b))) expect.fail(`${fromRedis.names[i % fromRedis.names.length]}: redis ${a}, memory ${b}`);
  }
}

/** Records `events` into both stores, looks `userId` up in both and expects the same answer; returns the memory store's. */
async function expectSameAfter(redis: FeatureStore, memory: FeatureStore, events: readonly AdEvent[], userId: string, cands: readonly AdCandidate[], now: number): Promise<StoreLookup> {
  for (const e of events) {
    await redis.record(e);
    await memory.record(e);
  }
  const fromMemory = await memory.lookup({ id: userId }, cands, now);
  expectSameAsMemory(await redis.lookup({ id: userId }, cands, now), fromMemory);
  return fromMemory;
}

describeStoreConformance('redis', async (options) => createRedisFeatureStore({ ...options, redis: { host: '127.0.0.1', port: 6379 }, prefix: freshPrefix() }), available);
describeStoreConformance(
  'redis, one call per hash tag (cluster layout)',
  async (options) => createRedisFeatureStore({ ...options, redis: { host: '127.0.0.1', port: 6379 }, prefix: freshPrefix(), splitBySlot: true }),
  available,
);

describe.skipIf(!available)('redis store specifics', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it('answers 100 candidates in one round trip, with the same numbers as the memory store', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379 });
    const redis = createRedisFeatureStore({ redis: client, prefix: freshPrefix(), clock });
    const memory = createMemoryFeatureStore({ clock });
    const ads = Array.from({ length: 100 }, (_, i) => `ad${String(i).padStart(3, '0')}${i % 7}`);
    for (let i = 0; i < 400; i++) {
      const e = event(i % 9 === 0 ? 'click' : 'impression', T0 + i * 1000, i % 3 === 0 ? 'hero' : `u${i % 11}`, ads[(i * 37) % 100] as string);
      await redis.record(e);
      await memory.record(e);
    }
    const cands = ads.map(candidate);
    await redis.lookup({ id: 'hero' }, cands, T0 + 500_000); // loads the script
    const sendCommand = client.sendCommand.bind(client);
    const commands: string[] = [];
    client.sendCommand = ((...args: Parameters<typeof sendCommand>) => {
      commands.push(args[0].name);
      return sendCommand(...args);
    }) as typeof client.sendCommand;
    const fromRedis = await redis.lookup({ id: 'hero' }, cands, T0 + 500_000);
    client.sendCommand = sendCommand;
    // Nothing pending at or after now: one plain MGET of every key, no Lua.
    expect(commands).toEqual(['mget']);
    const fromMemory = await memory.lookup({ id: 'hero' }, cands, T0 + 500_000);
    expectSameAsMemory(fromRedis, fromMemory);
    await redis.close();
    await memory.close();
    expect(client.status).toBe('ready'); // a client the caller passed stays open
    client.disconnect();
  });

  it("answers as the memory store through a client made with ioredis' keyPrefix (the lookup's own MGET then goes through ioredis)", async () => {
    const prefix = freshPrefix();
    const keyPrefix = 'kp:';
    prefixes.push(`${keyPrefix}${prefix}`);
    const client = new Redis({ host: '127.0.0.1', port: 6379, keyPrefix });
    const redis = createRedisFeatureStore({ redis: client, prefix, clock });
    const memory = createMemoryFeatureStore({ clock });
    const ads = Array.from({ length: 20 }, (_, i) => `ad${i}`);
    const events = Array.from({ length: 120 }, (_, i) => event(i % 7 === 0 ? 'click' : 'impression', T0 + i * 1000, i % 2 === 0 ? 'hero' : `u${i % 5}`, ads[(i * 7) % 20] as string));
    const fromMemory = await expectSameAfter(redis, memory, events, 'hero', ads.map(candidate), T0 + 500_000);
    expect(fromMemory.values.filter((b) => b !== 0 && !Number.isNaN(b)).length).toBeGreaterThan(100); // counters were found, not defaults compared with defaults
    await redis.close();
    await memory.close();
    client.disconnect();
  });

  it('decodes a user whose state holds a request id longer than the decoder’s aligned scratch (4 KiB)', async () => {
    const redis = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix: freshPrefix(), clock });
    const memory = createMemoryFeatureStore({ clock });
    const ads = ['adlong1', 'adlong2', 'adlong3'];
    const events = Array.from({ length: 30 }, (_, i) => event(i % 5 === 0 ? 'click' : 'impression', T0 + i * 1000, 'long-request-user', ads[i % 3] as string, { requestId: `${'r'.repeat(8192)}${Math.floor(i / 3)}` }));
    await expectSameAfter(redis, memory, events, 'long-request-user', ads.map(candidate), T0 + 60_000);
    await redis.close();
    await memory.close();
  });

  it('lays keys out with one hash tag per user and per ad, every key with a TTL', async () => {
    const prefix = freshPrefix();
    const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock, ttlMs: 3_600_000 });
    await store.record(event('impression', T0, 'user:{odd}', 'ad-1'));
    const keys = await keysOf(prefix);
    // Redis hashes what lies between the first '{' and the next '}': for this user id, 'u:user:{odd'.
    const tags = keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    expect(new Set(tags)).toEqual(new Set(['u:user:{odd', 'a:ad-1']));
    expect(keys.filter((k) => k.includes('{a:ad-1}'))).toHaveLength(2);
    expect(keys).toHaveLength(2 + 8 + 1 + 1); // ad + pending, user and 3 pairs each with pending, index, event ids
    for (const key of keys) {
      const ttl = await (admin as Redis).pttl(key);
      expect(ttl, key).toBeGreaterThan(3_500_000);
      expect(ttl, key).toBeLessThanOrEqual(3_600_000);
    }
    await store.forgetUser('user:{odd}');
    expect((await keysOf(prefix)).sort()).toEqual([`${prefix}{a:ad-1}`, `${prefix}{a:ad-1}|p`]);
    await store.close();
  });

  it('refuses keys written with another number of windows, naming the fix', async () => {
    const prefix = freshPrefix();
    const a = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock });
    await a.record(event('impression', T0, 'u1', 'ad-1'));
    const b = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock, windows: [{ name: '1d', ms: 86_400_000 }] });
    await expect(b.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 1, { degradeOnError: true })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/another number of windows/) });
    await expect(b.record(event('impression', T0, 'u1', 'ad-1'))).rejects.toMatchObject({ code: 'E_CONFIG' });
    await a.close();
    await b.close();
  });
});

describe('redis store when Redis is down or slow', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  });

  async function expectFast(store: FeatureStore, deadlineMs: number): Promise<void> {
    const started = performance.now();
    await expect(store.lookup({ id: 'u1' }, [candidate('ad-1')], T0, { deadlineMs })).rejects.toMatchObject({ code: 'E_STORE' });
    expect(performance.now() - started).toBeLessThan(deadlineMs + 500);
    const degraded = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0, { deadlineMs, degradeOnError: true });
    expect(degraded.degraded).toBe(true);
    expect(degraded.reason).toMatch(/redis store: lookup/);
    expect(degraded.values[store.names.indexOf('ad.imp.1h')]).toBe(0);
    expect(degraded.values[store.names.indexOf('ad.since_imp')]).toBeNaN();
    await expect(store.record(event('impression', T0, 'u1', 'ad-1'))).rejects.toMatchObject({ code: 'E_STORE' });
  }

  it('fails fast with E_STORE when nothing listens, or degrades when asked', async () => {
    const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: await freePort(), retryStrategy: () => 50 }, clock, writeDeadlineMs: 200 });
    await expectFast(store, 100);
    await store.close();
  });

  it('gives up at the deadline when Redis accepts but never answers', async () => {
    silent = createServer((socket) => sockets.push(socket)); // accepts, reads, never replies
    await new Promise<void>((resolve) => (silent as Server).listen(0, '127.0.0.1', resolve));
    const port = ((silent as Server).address() as { port: number }).port;
    const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port }, clock, writeDeadlineMs: 150 });
    await expectFast(store, 80);
    await store.close();
  });

  it('rejects invalid options with E_CONFIG', () => {
    expect(() => createRedisFeatureStore({ redis: { port: 1, lazyConnect: true }, prefix: 'bad{' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createRedisFeatureStore({ redis: undefined as never })).toThrow(/pass `redis`/);
  });
});

describe.skipIf(!available)('redis store: event ids', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it('applies a redelivered event once even after it left the pending set', async () => {
    const prefix = freshPrefix();
    const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock, pendingCapacity: 2 });
    const memory = createMemoryFeatureStore({ clock, pendingCapacity: 2 });
    const first = event('click', T0, 'u1', 'ad-1');
    const later = [1, 2, 3, 4].map((i) => event('impression', T0 + i * 1000, 'u1', 'ad-1'));
    for (const e of [first, ...later]) {
      await store.record(e);
      await memory.record(e);
    }
    // Four later events pushed the click out of the pending set (capacity 2); a redelivery must not count again.
    await store.record({ ...first });
    const now = T0 + 10_000;
    const fromRedis = await store.lookup({ id: 'u1' }, [candidate('ad-1')], now);
    const fromMemory = await memory.lookup({ id: 'u1' }, [candidate('ad-1')], now);
    // One click, 10 s old, in a window of one hour: e^(−10/3600).
    const once = Math.exp(-10 / 3600);
    for (const name of ['user_ad.click.1h', 'ad.click.1h', 'user.click.1h']) {
      expect(fromRedis.values[store.names.indexOf(name)], name).toBeCloseTo(once, 6);
      expect(fromMemory.values[store.names.indexOf(name)], `${name} (memory)`).toBeCloseTo(once, 6);
    }
    await store.close();
    await memory.close();
  });

  it('keeps at most dedupCapacity ids per user, and refuses bad dedup settings', async () => {
    const prefix = freshPrefix();
    const store = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock, dedupCapacity: 5 });
    for (let i = 0; i < 20; i++) await store.record(event('impression', T0 + i, 'u1', `ad-${i}`));
    expect(await (admin as Redis).zcard(`${prefix}{u:u1}|e`)).toBe(5);
    await store.close();
    expect(() => createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379, lazyConnect: true }, dedupCapacity: 0 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379, lazyConnect: true }, dedupWindowMs: -1 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
