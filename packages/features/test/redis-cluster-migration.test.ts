/**
 * The Redis store while Redis Cluster moves slots under it: the slot of one user's hash tag and
 * the slot of one ad's are migrated to another master key by key (CLUSTER SETSLOT IMPORTING /
 * MIGRATING, MIGRATE … KEYS, SETSLOT NODE), lookups and records running all along — through the
 * ASK window, when some of a slot's keys are on each node — and then moved back. Every lookup
 * must answer as the memory store fed the same events, and every record must count once however
 * often it is delivered or retried. Selected by CTRKIT_REDIS_CLUSTER, like the other cluster
 * suites; the slots are restored to their masters afterwards, whatever happened.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CtrkitError, createManualClock, type AdCandidate, type AdEvent, type StoreLookup } from '@ctrkit/core';
import { deleteKeysUnder, redisClusterFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createMemoryFeatureStore } from '../src/index.js';
import { createRedisFeatureStore } from '../src/redis.js';
import { tagSlot } from '../src/redis-slots.js';
import { HOUR, T0, candidate, event } from './fixtures/store-conformance.js';

const nodes = await redisClusterFor('features: lookups and records during a live slot migration');
const clients: Cluster[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  if (nodes === undefined) return;
  const admin = clients[0];
  if (admin !== undefined) for (const prefix of prefixes) await deleteKeysUnder(admin, prefix);
  for (const made of clients) made.disconnect();
});

/** One master: its connection (from the admin client), node id and address. */
interface Master {
  readonly redis: Redis;
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

async function mastersOf(admin: Cluster): Promise<Master[]> {
  return Promise.all(
    admin.nodes('master').map(async (redis) => ({ redis, id: String(await redis.call('CLUSTER', 'MYID')), host: redis.options.host as string, port: redis.options.port as number })),
  );
}

/** The master serving `slot`, from CLUSTER SLOTS as `via` sees it. */
async function ownerOf(via: Redis, masters: readonly Master[], slot: number): Promise<Master> {
  const ranges = (await via.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
  const range = ranges.find(([from, to]) => from <= slot && slot <= to);
  const owner = masters.find((m) => m.id === range?.[2][2]);
  if (owner === undefined) throw new Error(`slot ${slot} has no master in CLUSTER SLOTS`);
  return owner;
}

/**
 * Moves `slot` from `from` to `to` as redis-cli --cluster reshard does, one key per MIGRATE so
 * the ASK window lasts a round trip per key; `between` runs after each key (it starts work, and
 * must not wait for any: a multi-key call on a migrating slot with a key on each side gets
 * TRYAGAIN until the move ends).
 */
async function moveSlot(slot: number, from: Master, to: Master, masters: readonly Master[], between: () => void, first: (key: string) => boolean = () => false): Promise<number> {
  await to.redis.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
  await from.redis.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
  let moved = 0;
  for (;;) {
    const keys = (await from.redis.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
    if (keys.length === 0) break;
    // The keys `first` picks go before the others, whatever order the node lists them in.
    keys.sort((a, b) => Number(first(b)) - Number(first(a)));
    for (const key of keys) {
      await from.redis.call('MIGRATE', to.host, to.port, '', 0, 5000, 'REPLACE', 'KEYS', key);
      moved++;
      between();
    }
  }
  // The new owner first, then the old one, then everyone else (the order redis-cli uses).
  await to.redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
  await from.redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
  for (const m of masters) if (m !== from && m !== to) await m.redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
  return moved;
}

/** Puts `slot` back on `home` whatever state a failed test left it in. */
async function restoreSlot(slot: number, home: Master, masters: readonly Master[]): Promise<void> {
  const owner = await ownerOf(home.redis, masters, slot);
  if (owner !== home) {
    await moveSlot(slot, owner, home, masters, () => undefined);
    return;
  }
  // Home already owns it: finish any half-started move (keys sent away come back first).
  for (const m of masters) {
    if (m === home) continue;
    const away = (await m.redis.call('CLUSTER', 'COUNTKEYSINSLOT', slot)) as number;
    if (away > 0) {
      await home.redis.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', m.id);
      await m.redis.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', home.id);
      for (let keys = (await m.redis.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]; keys.length > 0; keys = (await m.redis.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]) {
        await m.redis.call('MIGRATE', home.host, home.port, '', 0, 5000, 'REPLACE', 'KEYS', ...keys);
      }
    }
  }
  for (const m of [home, ...masters.filter((x) => x !== home)]) await m.redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', home.id);
}

function expectSameAs(got: StoreLookup, expected: StoreLookup, what: string): void {
  expect(got.degraded, what).toBe(false);
  for (let k = 0; k < expected.values.length; k++) {
    const want = expected.values[k] as number;
    const name = `${what}: ${got.names[k % got.names.length]} (row ${Math.floor(k / got.names.length)})`;
    if (Number.isNaN(want)) expect(got.values[k], name).toBeNaN();
    else expect(got.values[k], name).toBeCloseTo(want, 6);
  }
}

describe.skipIf(nodes === undefined)('redis store during a live slot migration on Redis Cluster', () => {
  it("answers every lookup as the memory store and counts every record once while a user's slot and an ad's slot move to another master and back", { timeout: 60_000 }, async () => {
    // ioredis answers TRYAGAIN by retrying on a random node after 100 ms, spending two or three
    // redirections a round; the default 16 would give up within about half a second of window.
    const cluster = new Cluster(nodes ?? [], { maxRedirections: 64, redisOptions: { maxRetriesPerRequest: 2 } });
    cluster.on('error', () => undefined);
    clients.push(cluster);
    const admin = new Cluster(nodes ?? []);
    admin.on('error', () => undefined);
    clients.unshift(admin);
    await admin.ping();
    await cluster.ping();
    const masters = await mastersOf(admin);
    expect(masters.length).toBeGreaterThan(1);

    const tag = randomUUID().slice(0, 8);
    const user = `u-move-${tag}`;
    const other = `u-stay-${tag}`;
    const ad = `ad-move-${tag}`;
    // A second ad in the moving ad's slot: both are read by the one node-script call for that
    // master (no other candidate lives there), so a call that reaches the importing node with
    // ASKING reads both, whichever has moved.
    let twin = '';
    for (let k = 0; twin === ''; k++) if (tagSlot('a', `${ad}-${k}`) === tagSlot('a', ad)) twin = `${ad}-${k}`;
    const userSlot = tagSlot('u', user);
    const adSlot = tagSlot('a', ad);
    const userHome = await ownerOf(masters[0]?.redis as Redis, masters, userSlot);
    const adHome = await ownerOf(masters[0]?.redis as Redis, masters, adSlot);
    const userAway = masters.find((m) => m !== userHome) as Master;
    const adAway = masters.find((m) => m !== adHome && m !== userAway) ?? (masters.find((m) => m !== adHome) as Master);
    const others: string[] = [];
    for (let k = 0; others.length < 12; k++) {
      const id = `ad-stay-${tag}-${k}`;
      const slot = tagSlot('a', id);
      if (slot === userSlot || slot === adSlot) continue;
      if ((await ownerOf(masters[0]?.redis as Redis, masters, slot)) !== adHome) others.push(id);
    }
    const cands: AdCandidate[] = [ad, twin, ...others].map(candidate);

    const prefix = uniqueKeyPrefix('features', 'cluster-migration');
    prefixes.push(prefix);
    const clock = createManualClock(T0 + 30 * 24 * HOUR);
    // Room for every later event in the pending sets, so a lookup between the two batches never leaks.
    const counters = { clock, pendingCapacity: 1000 };
    const redis = createRedisFeatureStore({ ...counters, redis: cluster, prefix, lookupDeadlineMs: 5000, writeDeadlineMs: 5000 });
    const memory = createMemoryFeatureStore(counters);

    // Before: a minute of events for both users over every candidate.
    const before: AdEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const adId = (cands[i % cands.length] as AdCandidate).adId;
      const userId = i % 3 === 2 ? other : user;
      before.push(event('impression', T0 + 1000 * i, userId, adId));
      if (i % 4 === 0) before.push(event('click', T0 + 1000 * i + 500, userId, adId));
    }
    // During: events stamped 20 minutes on, recorded while slots move (twice each: a redelivery).
    const during: AdEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const adId = [ad, twin, ad, others[i % others.length] as string][i % 4] as string;
      during.push(event(i % 5 === 0 ? 'click' : 'impression', T0 + 20 * 60_000 + 1000 * i, i % 2 === 0 ? user : other, adId));
    }
    for (const e of before) {
      await redis.record(e);
      await memory.record(e);
    }
    for (const e of during) await memory.record(e);
    // Lookups inside the windows are at ten minutes: after every earlier event, before every later one.
    const midway = T0 + 10 * 60_000;
    const expectedMidway = new Map([user, other].map((u) => [u, memory.lookup({ id: u }, cands, midway)]));
    const settled: Promise<void>[] = [];
    const failures: string[] = [];
    let lookups = 0;
    let next = 0;

    /** A record as a caller makes it: retried on E_STORE (a deadline, a redirection given up). */
    async function deliver(e: AdEvent): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          await redis.record(e);
          return;
        } catch (error) {
          if (!(error instanceof CtrkitError && error.code === 'E_STORE') || attempt === 5) throw error;
        }
      }
    }
    const track = (p: Promise<void>): Promise<void> => p.catch((error: unknown) => void failures.push(String(error)));
    const between = (): void => {
      for (const u of [user, other]) {
        const checked = redis.lookup({ id: u }, cands, midway).then(async (got) => {
          lookups++;
          expectSameAs(got, await (expectedMidway.get(u) as Promise<StoreLookup>), `lookup for ${u} during a move`);
        });
        settled.push(track(checked));
      }
      const e = during[next++];
      if (e !== undefined) settled.push(track(Promise.all([deliver(e), deliver(e)]).then(() => undefined)));
    };

    try {
      // The ad's own keys move before its twin's: the window in which a call routed by the ad
      // (the first of its master's group) is redirected to the new node while the twin is not there yet.
      const adFirst = (key: string): boolean => key.includes(`{a:${ad}}`);
      const moves = [
        [userSlot, userHome, userAway, () => false],
        [adSlot, adHome, adAway, adFirst],
        [userSlot, userAway, userHome, () => false],
        [adSlot, adAway, adHome, adFirst],
      ] as const;
      for (const [slot, from, to, first] of moves) {
        const moved = await moveSlot(slot, from, to, masters, between, first);
        expect(moved, `keys moved in slot ${slot}`).toBeGreaterThan(2);
        // Work started during the move finishes now; then the slot map settles before the next move.
        await Promise.all(settled.splice(0));
        await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
      }
    } finally {
      await Promise.all(settled.splice(0));
      await restoreSlot(userSlot, userHome, masters);
      await restoreSlot(adSlot, adHome, masters);
    }
    expect(failures).toEqual([]);
    expect(lookups).toBeGreaterThan(20);
    expect(next).toBeGreaterThan(10);

    // After: the rest of the events, then every event counted once, for both users.
    for (const e of during.slice(next)) await deliver(e);
    for (const e of during.slice(0, next)) await deliver(e); // a late redelivery of each
    const after = T0 + 40 * 60_000;
    for (const u of [user, other]) expectSameAs(await redis.lookup({ id: u }, cands, after), await memory.lookup({ id: u }, cands, after), `lookup for ${u} after the moves`);
    expect(await ownerOf(masters[0]?.redis as Redis, masters, userSlot)).toBe(userHome);
    expect(await ownerOf(masters[0]?.redis as Redis, masters, adSlot)).toBe(adHome);
    await redis.close();
    await memory.close();
  });
});
