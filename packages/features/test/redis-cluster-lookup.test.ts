/**
 * The Redis store's lookup on Redis Cluster: one script call per master (keys grouped by the
 * slot map, the hash slots computed here), and the fall-back to one call per hash tag when the
 * slot map is out of date. The slot function is checked against Redis's own CLUSTER KEYSLOT.
 */
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock, createRandom, type AdCandidate } from '@ctrkit/core';
import { deleteKeysUnder, redisClusterFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createMemoryFeatureStore } from '../src/index.js';
import { createRedisFeatureStore } from '../src/redis.js';
import { adKeyOf, userKeyOf } from '../src/redis-keys.js';
import { keySlot, tagSlot } from '../src/redis-slots.js';
import { HOUR, T0, candidate, event } from './fixtures/store-conformance.js';

const nodes = await redisClusterFor('features: the lookup calls on Redis Cluster');
const prefixes: string[] = [];
const clients: Cluster[] = [];

function client(options: ConstructorParameters<typeof Cluster>[1] = {}): Cluster {
  const made = new Cluster(nodes ?? [], { redisOptions: { maxRetriesPerRequest: 2 }, ...options });
  made.on('error', () => undefined);
  clients.push(made);
  return made;
}

afterAll(async () => {
  if (nodes === undefined) return;
  const admin = client();
  for (const prefix of prefixes) await deleteKeysUnder(admin, prefix);
  for (const made of clients) made.disconnect();
});

function freshPrefix(): string {
  const prefix = uniqueKeyPrefix('features', 'cluster-lookup');
  prefixes.push(prefix);
  return prefix;
}

/** Ids with hash-tag and UTF-8 edge cases: braces, multi-byte and astral characters, a lone surrogate. */
const ODD_IDS = ['ad-1', '', 'a}b', '}', '{x}', 'é', '日本', '😀', '\ud800', 'x\udc00y', 'a{b}c', 'ünï}côdé'];

describe('redis store hash slots', () => {
  it('computes the CRC16 slot of the reference vector and of tagged keys without building them', () => {
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('{}x')).not.toBe(keySlot('x')); // an empty tag does not count: the whole key is hashed
    expect(keySlot('a{user}b')).toBe(keySlot('user'));
    for (const id of ODD_IDS) {
      expect(tagSlot('a', id), id).toBe(keySlot(adKeyOf('p:', id)));
      expect(tagSlot('u', id), id).toBe(keySlot(userKeyOf('p:', id)));
    }
  });
});

describe.skipIf(nodes === undefined)('redis store lookup calls on Redis Cluster', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it("computes the slot Redis computes (CLUSTER KEYSLOT) for the store's keys and odd ones", async () => {
    const admin = client();
    const random = createRandom('slots');
    const keys = ODD_IDS.flatMap((id) => [adKeyOf('p:', id), userKeyOf('ctrkit:fs:', id), `${id}{`, `{${id}`]);
    for (let i = 0; i < 200; i++) keys.push(String.fromCodePoint(...Array.from({ length: 1 + random.int(12) }, () => (random.next() < 0.8 ? 32 + random.int(95) : 160 + random.int(5000)))));
    for (const key of keys) expect(keySlot(key), JSON.stringify(key)).toBe(Number(await admin.call('CLUSTER', 'KEYSLOT', key)));
  });

  /**
   * Calls `seen` with the name of every command a cluster client's node connections send —
   * the lookup sends some straight to a node, not through the cluster client — so a command
   * redirected to another node counts twice.
   */
  function watchCommands(cluster: Cluster, seen: (name: string) => void): void {
    for (const node of cluster.nodes('all')) {
      const send = node.sendCommand.bind(node);
      node.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        seen(command.name);
        return (send as (...args: unknown[]) => unknown)(command, ...rest);
      }) as typeof node.sendCommand;
    }
  }

  /** Counts the script calls (EVALSHA or EVAL) a client sends. */
  function countScripts(cluster: Cluster): { calls: number } {
    const counter = { calls: 0 };
    watchCommands(cluster, (name) => {
      if (name === 'evalsha' || name === 'eval') counter.calls++;
    });
    return counter;
  }

  async function filled(prefix: string, cluster: Cluster, ads: readonly AdCandidate[]) {
    const redis = createRedisFeatureStore({ redis: cluster, prefix, clock, lookupDeadlineMs: 2000 });
    const memory = createMemoryFeatureStore({ clock });
    for (let i = 0; i < ads.length; i++) {
      for (const e of [event('impression', T0 + i, 'u-many', (ads[i] as AdCandidate).adId), ...(i % 3 === 0 ? [event('click', T0 + i + 1, 'u-many', (ads[i] as AdCandidate).adId)] : [])]) {
        await redis.record(e);
        await memory.record(e);
      }
    }
    return { redis, memory };
  }

  async function expectSame(redis: Awaited<ReturnType<typeof filled>>['redis'], memory: Awaited<ReturnType<typeof filled>>['memory'], ads: readonly AdCandidate[]): Promise<void> {
    const now = T0 + HOUR;
    const fromRedis = await redis.lookup({ id: 'u-many' }, ads, now);
    const fromMemory = await memory.lookup({ id: 'u-many' }, ads, now);
    expect(fromRedis.degraded).toBe(false);
    for (let k = 0; k < fromMemory.values.length; k++) {
      const expected = fromMemory.values[k] as number;
      if (Number.isNaN(expected)) expect(fromRedis.values[k]).toBeNaN();
      else expect(fromRedis.values[k], fromRedis.names[k % fromRedis.names.length]).toBeCloseTo(expected, 6);
    }
  }

  const ads = Array.from({ length: 100 }, (_, i) => candidate(`ad-${String(i).padStart(3, '0')}`));

  /** Counts the commands a client sends, by name. */
  function countCommands(cluster: Cluster): Map<string, number> {
    const counts = new Map<string, number>();
    watchCommands(cluster, (name) => counts.set(name, (counts.get(name) ?? 0) + 1));
    return counts;
  }

  it("reads the user's keys with one plain MGET, no Lua, and the ads with one script call per master", async () => {
    const cluster = client();
    const { redis, memory } = await filled(freshPrefix(), cluster, ads);
    const masters = cluster.nodes('master').length;
    await expectSame(redis, memory, ads); // loads the scripts
    const counts = countCommands(cluster);
    await expectSame(redis, memory, ads);
    expect(counts.get('mget')).toBe(1);
    expect(counts.get('evalsha') ?? 0).toBeLessThanOrEqual(masters);
    expect([...counts.keys()].sort()).toEqual(['evalsha', 'mget']);
    await redis.close();
  });

  it('reads the user again with the script when some of its events are at or after now, answering as the memory store', async () => {
    const cluster = client();
    const { redis, memory } = await filled(freshPrefix(), cluster, ads);
    await redis.lookup({ id: 'u-many' }, ads, T0 + 50); // loads the scripts
    const counts = countCommands(cluster);
    // Events at T0 .. T0 + 100 are recorded: at T0 + 50 the user's later events are pending after now.
    const now = T0 + 50;
    const fromRedis = await redis.lookup({ id: 'u-many' }, ads, now);
    const fromMemory = await memory.lookup({ id: 'u-many' }, ads, now);
    for (let k = 0; k < fromMemory.values.length; k++) {
      const expected = fromMemory.values[k] as number;
      if (Number.isNaN(expected)) expect(fromRedis.values[k]).toBeNaN();
      else expect(fromRedis.values[k], fromRedis.names[k % fromRedis.names.length]).toBeCloseTo(expected, 6);
    }
    expect(counts.get('mget')).toBe(1);
    // The ads' calls (one per master) and one more for the user's hash tag.
    expect(counts.get('evalsha')).toBe(cluster.nodes('master').length + 1);
    await redis.close();
  });

  it('sends at most one script call per master for 100 candidates, and answers as the memory store does', async () => {
    const cluster = client();
    const { redis, memory } = await filled(freshPrefix(), cluster, ads);
    const masters = cluster.nodes('master').length;
    const counter = countScripts(cluster);
    await expectSame(redis, memory, ads);
    expect(counter.calls).toBeGreaterThan(1); // the ads span the masters
    expect(counter.calls).toBeLessThanOrEqual(masters);
    await redis.close();
  });

  it('falls back to one call per hash tag when the slot map sends keys to the wrong node, then regroups', async () => {
    const cluster = client();
    const { redis, memory } = await filled(freshPrefix(), cluster, ads);
    const masters = cluster.nodes('master').length;
    // A stale map: every slot claimed by the master of the user's slot. Its call is answered
    // there (or redirected), but reads ads that node does not hold, which Redis refuses.
    const right = cluster.slots.map((owners) => [...owners]);
    const one = [...(cluster.slots[tagSlot('u', 'u-many')] as string[])];
    for (let s = 0; s < cluster.slots.length; s++) cluster.slots[s] = [...one];
    const counter = countScripts(cluster);
    try {
      await expectSame(redis, memory, ads);
      expect(counter.calls).toBeGreaterThan(ads.length); // one call per ad (and the user's)
    } finally {
      for (let s = 0; s < right.length; s++) cluster.slots[s] = right[s] as string[];
    }
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    counter.calls = 0;
    await expectSame(redis, memory, ads);
    expect(counter.calls).toBeLessThanOrEqual(masters);
    await redis.close();
  });

  it("reads from replicas with scaleReads: 'slave', one call per master, the same answers once replicated", async () => {
    const writer = client();
    const prefix = freshPrefix();
    const { redis, memory } = await filled(prefix, writer, ads);
    await writer.call('WAIT', '1', '1000');
    for (const node of writer.nodes('master')) await node.call('WAIT', '1', '1000');
    const replicas = client({ scaleReads: 'slave' });
    const reader = createRedisFeatureStore({ redis: replicas, prefix, clock, lookupDeadlineMs: 2000 });
    await reader.lookup({ id: 'warm' }, [candidate('ad-warm')], T0);
    const counter = countScripts(replicas);
    await expectSame(reader, memory, ads);
    expect(counter.calls).toBeLessThanOrEqual(replicas.nodes('master').length);
    await reader.close();
    await redis.close();
  });
});
