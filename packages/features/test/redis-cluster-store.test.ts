/**
 * The feature-store conformance suite on a real Redis Cluster (3 masters, 1 replica each: see
 * scripts/redis-cluster.sh), through ioredis' Cluster client, selected by CTRKIT_REDIS_CLUSTER.
 * Every key a script touches is declared and shares one slot, or the cluster refuses the call
 * (CROSSSLOT) — so this suite is what proves the layout, not the single-node suite.
 */
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '@ctrkit/core';
import { deleteKeysUnder, keysUnder, redisClusterFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createMemoryFeatureStore } from '../src/index.js';
import { createRedisFeatureStore } from '../src/redis.js';
import { HOUR, T0, candidate, describeStoreConformance, event } from './fixtures/store-conformance.js';

const nodes = await redisClusterFor('features: the feature store on Redis Cluster');
const cluster = nodes === undefined ? undefined : new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
cluster?.on('error', () => undefined);
const prefixes: string[] = [];

const keysOf = (prefix: string): Promise<string[]> => keysUnder(cluster as Cluster, prefix);

afterAll(async () => {
  if (cluster === undefined) return;
  for (const prefix of prefixes) await deleteKeysUnder(cluster, prefix);
  cluster.disconnect();
});

function freshPrefix(): string {
  const prefix = uniqueKeyPrefix('features', 'cluster-store');
  prefixes.push(prefix);
  return prefix;
}

describeStoreConformance(
  'redis on Redis Cluster',
  async (options) => createRedisFeatureStore({ ...options, redis: cluster as Cluster, prefix: freshPrefix() }),
  cluster !== undefined,
);

describe.skipIf(cluster === undefined)('redis store specifics on Redis Cluster', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it('spreads users and ads over the masters, and answers as the memory store does', async () => {
    const prefix = freshPrefix();
    const redis = createRedisFeatureStore({ redis: cluster as Cluster, prefix, clock });
    const memory = createMemoryFeatureStore({ clock });
    const ads = Array.from({ length: 40 }, (_, i) => candidate(`ad-${i}`));
    for (let u = 0; u < 20; u++) {
      for (let i = 0; i < ads.length; i += 3) {
        const impression = event('impression', T0 + u * 1000 + i, `u${u}`, `ad-${i}`);
        await redis.record(impression);
        await memory.record(impression);
        if ((u + i) % 4 === 0) {
          const click = event('click', T0 + u * 1000 + i + 1, `u${u}`, `ad-${i}`);
          await redis.record(click);
          await memory.record(click);
        }
      }
    }
    const now = T0 + HOUR;
    for (const user of ['u0', 'u7', 'u19', 'nobody']) {
      const fromRedis = await redis.lookup({ id: user }, ads, now);
      const fromMemory = await memory.lookup({ id: user }, ads, now);
      expect(fromRedis.degraded).toBe(false);
      expect(fromRedis.rows).toBe(ads.length);
      for (let k = 0; k < fromMemory.values.length; k++) {
        const expected = fromMemory.values[k] as number;
        // NaN marks a counter with no history (e.g. recency of a never-seen pair): it must stay NaN.
        if (Number.isNaN(expected)) expect(fromRedis.values[k]).toBeNaN();
        else expect(fromRedis.values[k]).toBeCloseTo(expected, 6);
      }
    }
    // The keys landed on more than one master: the test really spans the cluster.
    const perMaster = await Promise.all((cluster as Cluster).nodes('master').map(async (node) => (await keysUnder(node, prefix)).length));
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1);
    await redis.close();
    await memory.close();
  });
});

describe.skipIf(cluster === undefined)('redis store writes on Redis Cluster', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it('a record retried after its ad half failed is applied once to the user and once to the ad', async () => {
    const prefix = freshPrefix();
    const client = cluster as Cluster & { ctrkitRecord?: (...args: unknown[]) => Promise<number> };
    const store = createRedisFeatureStore({ redis: client, prefix, clock });
    const click = event('click', T0, 'u-half', 'ad-half');
    const real = client.ctrkitRecord as (...args: unknown[]) => Promise<number>;
    // The ad's call is lost (a timeout, a failover) while the user's lands.
    client.ctrkitRecord = function (this: unknown, ...args: unknown[]) {
      if (String(args[1]).includes('{a:ad-half}')) return Promise.reject(new Error('connection lost'));
      return real.apply(this, args);
    };
    try {
      await expect(store.record(click)).rejects.toMatchObject({ code: 'E_STORE' });
    } finally {
      client.ctrkitRecord = real;
    }
    await store.record(click); // the caller's retry
    await store.record(click); // and a redelivery
    const lookup = await store.lookup({ id: 'u-half' }, [candidate('ad-half')], T0 + 10_000);
    const once = Math.exp(-10 / 3600);
    for (const name of ['user.click.1h', 'user_ad.click.1h', 'ad.click.1h']) expect(lookup.values[store.names.indexOf(name)], name).toBeCloseTo(once, 6);
    await store.close();
  });

  it('forgets a user with every key declared, leaving the ads', async () => {
    const prefix = freshPrefix();
    const store = createRedisFeatureStore({ redis: cluster as Cluster, prefix, clock });
    for (let i = 0; i < 5; i++) await store.record(event('impression', T0 + i, 'u-gone', `ad-${i}`));
    expect((await keysOf(prefix)).some((key) => key.includes('{u:u-gone}'))).toBe(true);
    await store.forgetUser('u-gone');
    const left = await keysOf(prefix);
    expect(left.filter((key) => key.includes('{u:u-gone}'))).toEqual([]);
    expect(left.filter((key) => key.includes('{a:ad-')).length).toBe(5 * 3);
    await store.close();
  });
});

describe.skipIf(cluster === undefined)('redis store reads from replicas on Redis Cluster', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it("serves lookups from replicas with scaleReads: 'slave', seeing a write after the replication lag", async () => {
    const replicaReads = new Cluster(nodes ?? [], { scaleReads: 'slave', redisOptions: { maxRetriesPerRequest: 2 } });
    replicaReads.on('error', () => undefined);
    const prefix = freshPrefix();
    const writer = createRedisFeatureStore({ redis: cluster as Cluster, prefix, clock });
    const reader = createRedisFeatureStore({ redis: replicaReads, prefix, clock });
    const replicas = async () => {
      let calls = 0;
      for (const node of replicaReads.nodes('slave')) {
        const stats = await node.info('commandstats');
        // A lookup reads the user's keys with MGET and the ads with the node script.
        for (const match of stats.matchAll(/cmdstat_(?:evalsha|eval|mget)(?:_ro)?:calls=(\d+)/g)) calls += Number(match[1]);
      }
      return calls;
    };
    try {
      await reader.lookup({ id: 'warm' }, [candidate('ad-warm')], T0); // loads the script and the topology
      const before = await replicas();
      const lags: number[] = [];
      for (let i = 0; i < 20; i++) {
        await writer.record(event('click', T0 + i, `u-lag-${i}`, 'ad-lag'));
        const started = performance.now();
        for (;;) {
          const lookup = await reader.lookup({ id: `u-lag-${i}` }, [candidate('ad-lag')], T0 + 60_000);
          if ((lookup.values[reader.names.indexOf('user.click.1h')] as number) > 0) break;
          if (performance.now() - started > 2_000) throw new Error('a replica did not see the write within 2 s');
        }
        lags.push(performance.now() - started);
      }
      lags.sort((a, b) => a - b);
      console.log(`feature lookups on replicas: write visible after p50 ${lags[10]?.toFixed(2)} ms, max ${lags[19]?.toFixed(2)} ms (20 writes, loopback)`);
      expect(await replicas()).toBeGreaterThan(before + 20);
    } finally {
      await writer.close();
      await reader.close();
      replicaReads.disconnect();
    }
  });
});
