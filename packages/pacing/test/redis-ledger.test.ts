import { createManualClock } from '@ctrkit/core';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerBudgets, Reservation } from '../src/index.js';
import { toMicros } from '../src/money.js';
import { HOLD_SCRIPT, SETTLE_SCRIPT } from '../src/redis-scripts.js';
import { createRedisLedger, type RedisLedgerOptions } from '../src/redis.js';
import { deleteKeysUnder, sharedRedisFor, sleep, uniqueKeyPrefix } from '@ctrkit/test-support';
import { describeLedgerConformance } from './fixtures/ledger-conformance.js';
import { propertyOptions } from './fixtures/property-options.js';
import { redisClient } from './fixtures/redis-clients.js';
import { CONFORMANCE_LEASE, CONFORMANCE_TTL_MS, redisLedgerHarness } from './fixtures/redis-ledger-harness.js';
import { redisProxy } from './fixtures/redis-proxy.js';

const available = await sharedRedisFor('pacing: the Redis ledger tests');

const TTL = CONFORMANCE_TTL_MS;
const leaseSettings = CONFORMANCE_LEASE;

function conformance(mode: 'leases' | 'direct'): void {
  describeLedgerConformance(`redis (${mode})`, redisLedgerHarness(mode, 'conformance', () => redisClient()), { ttlMs: TTL });
}

describe.skipIf(!available)('Redis ledger', () => {
  conformance('leases');
  conformance('direct');

  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(() => {
    redis = redisClient();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });
  const prefixFor = (what: string): string => {
    const prefix = uniqueKeyPrefix('pacing', what);
    prefixes.push(prefix);
    return prefix;
  };
  const make = (budgets: LedgerBudgets, extra: Partial<RedisLedgerOptions> = {}) =>
    createRedisLedger({ redis, budgets, keyPrefix: prefixFor('ledger'), reservationTtlMs: TTL, lease: leaseSettings, ...extra });

  it('keeps a campaign group in one hash slot: every key carries the same hash tag', async () => {
    const prefix = prefixFor('tags');
    const budgets: LedgerBudgets = {
      advertisers: [{ id: 'adv', dailyBudget: 5 }],
      campaigns: [
        { id: 'a', advertiserId: 'adv', dailyBudget: 3 },
        { id: 'b', advertiserId: 'adv', dailyBudget: 3 },
        { id: 'solo', lifetimeBudget: 2 },
      ],
    };
    const ledger = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false, reservationTtlMs: TTL });
    for (const campaign of ['a', 'b', 'solo']) {
      const r = (await ledger.reserve(campaign, 0.5)) as Reservation;
      await ledger.commit(r, 0.25);
    }
    const keys = (await redis.keys(`${prefix}*`)).sort();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/\{(a:adv|c:solo)\}:(lines|holds|exp|done)$/);
    expect(keys.filter((k) => k.includes('{a:adv}')).length).toBeGreaterThan(0);
    expect((await ledger.snapshot('b')).lines.find((l) => l.scope === 'advertiser')?.spent).toBeCloseTo(0.5, 9);
    await ledger.close();
  });

  it('two ledgers (two processes) sharing one budget never grant more than it', async () => {
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: 2 }] };
    const prefix = prefixFor('shared');
    for (const lease of [false, { ...leaseSettings, amount: 0.5 }] as const) {
      await deleteKeysUnder(redis, prefix);
      const one = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease, reservationTtlMs: TTL });
      const two = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease, reservationTtlMs: TTL });
      let spent = 0;
      const run = async (ledger: typeof one) => {
        for (let i = 0; i < 200; i++) {
          const r = await ledger.reserve('c', 0.03);
          if (!r.ok) continue;
          await ledger.commit(r, 0.02);
          spent += 0.02;
        }
      };
      await Promise.all([run(one), run(two)]);
      await one.close();
      await two.close();
      const line = (await createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false }).snapshot('c')).lines[0];
      expect(spent).toBeLessThanOrEqual(2 + 1e-9);
      expect(line?.spent).toBeCloseTo(spent, 6);
      expect(line?.reserved).toBe(0); // closing returned every lease
      expect(spent).toBeGreaterThan(2 - 0.03 * 2 - 1e-9); // and the budget was used up
    }
  });

  it('refuses (does not bid) when Redis is unreachable, and errors clearly where it must', async () => {
    const down = redisClient(6390, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false });
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: 1 }] };
    for (const lease of [false, leaseSettings] as const) {
      const ledger = createRedisLedger({ redis: down, budgets, keyPrefix: prefixFor('down'), lease, reservationTtlMs: TTL, commandTimeoutMs: 200 });
      const started = Date.now();
      const result = await ledger.reserve('c', 0.1);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toBe('unavailable');
        expect(result.detail).toMatch(/not bidding rather than spending blind/);
      }
      await expect(ledger.snapshot('c')).rejects.toMatchObject({ code: 'E_LEDGER' });
      await ledger.close();
    }
    down.disconnect();
  });

  it('keeps serving from its lease through a partition, stops when the lease is used, and settles afterwards', async () => {
    const proxy = await redisProxy();
    const through = redisClient(proxy.port, { commandTimeout: 300 });
    const prefix = prefixFor('partition');
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: 10 }] };
    const ledger = createRedisLedger({ redis: through, budgets, keyPrefix: prefix, reservationTtlMs: TTL, commandTimeoutMs: 200, lease: { amount: 1, ttlMs: 3_000, flushIntervalMs: 20, idleMs: 5_000 } });
    let spent = 0;
    const first = (await ledger.reserve('c', 0.1)) as Reservation;
    await ledger.commit(first, 0.1);
    spent += 0.1;
    await proxy.cut();
    // The lease (1.0) still covers bids: about nine more of 0.1 go out without Redis.
    let granted = 0;
    let refusal: string | undefined;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      const r = await ledger.reserve('c', 0.1);
      if (r.ok) {
        granted++;
        await ledger.commit(r, 0.1);
        spent += 0.1;
      } else refusal = r.reason;
    }
    expect(granted).toBe(9);
    expect(refusal).toBe('unavailable');
    expect(ledger.stats().redisErrors).toBeGreaterThan(0);
    await proxy.restore();
    // Within the lease TTL: the lease is still alive in Redis and the spend settles normally.
    for (let i = 0; i < 50 && ledger.stats().unflushed > 0; i++) await sleep(50);
    const snapshot = await createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false }).snapshot('c');
    expect(snapshot.lines[0]?.spent).toBeCloseTo(spent, 9);
    expect(ledger.stats().lostLeases).toBe(0);
    expect((await ledger.reserve('c', 0.1)).ok).toBe(true);
    await ledger.close();
    through.disconnect();
    await proxy.close();
  });

  it('stops reserving from a lease it cannot renew before Redis could expire it', async () => {
    const proxy = await redisProxy();
    const through = redisClient(proxy.port);
    const prefix = prefixFor('deadline');
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: 10 }] };
    const lease = { amount: 5, ttlMs: 1_000, flushIntervalMs: 20, idleMs: 60_000 };
    const ledger = createRedisLedger({ redis: through, budgets, keyPrefix: prefix, reservationTtlMs: 200, commandTimeoutMs: 100, lease });
    const first = (await ledger.reserve('c', 0.1)) as Reservation;
    await ledger.release(first);
    await proxy.cut();
    expect((await ledger.reserve('c', 0.1)).ok).toBe(true); // the lease is still good locally
    await sleep(lease.ttlMs);
    // Budget is left in the local lease, but the lease may be gone in Redis by now: no bid.
    const late = await ledger.reserve('c', 0.1);
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.reason).toBe('unavailable');
    await proxy.restore();
    await ledger.close().catch(() => undefined);
    through.disconnect();
    await proxy.close();
  });

  it('a lost lease overspends by at most its amount, and its late spend is still recorded', async () => {
    const proxy = await redisProxy();
    const victimClient = redisClient(proxy.port);
    const prefix = prefixFor('lost-lease');
    const budget = 3;
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: budget }] };
    const lease = { amount: 0.5, ttlMs: 1_200, flushIntervalMs: 20, idleMs: 5_000 };
    const victim = createRedisLedger({ redis: victimClient, budgets, keyPrefix: prefix, reservationTtlMs: 200, commandTimeoutMs: 150, lease });
    const survivor = createRedisLedger({ redis, budgets, keyPrefix: prefix, reservationTtlMs: 200, lease });
    let real = 0;
    // The victim takes its lease and bids, loses Redis, then wins: 0.3 spent that Redis never hears of.
    const bids: Reservation[] = [];
    for (let i = 0; i < 3; i++) bids.push((await victim.reserve('c', 0.1)) as Reservation);
    await proxy.cut();
    for (const r of bids) {
      await victim.commit(r, 0.1);
      real += 0.1;
    }
    const spendAll = async () => {
      for (;;) {
        const r = await survivor.reserve('c', 0.05);
        if (!r.ok) return;
        await survivor.commit(r, 0.05);
        real += 0.05;
      }
    };
    await spendAll();
    await survivor.flush();
    const beforeExpiry = (await survivor.snapshot('c')).lines[0];
    expect((beforeExpiry?.spent ?? 0) + (beforeExpiry?.reserved ?? 0)).toBeCloseTo(budget, 6);
    await sleep(lease.ttlMs + 200); // the victim's lease expires in Redis: its 0.5 comes back
    await spendAll();
    expect(real).toBeLessThanOrEqual(budget + victim.overspendBound('c') + 1e-9);
    // The whole lease came back and was spent again, so the victim's unsettled 0.3 is the overspend.
    expect(real).toBeCloseTo(budget + 0.3, 6);
    expect(victim.overspendBound('c')).toBe(0.5);
    // Redis comes back: the victim finds its lease gone and records its spend anyway.
    await proxy.restore();
    for (let i = 0; i < 60 && victim.stats().lostLeases === 0; i++) await sleep(50);
    expect(victim.stats().lostLeases).toBe(1);
    expect(victim.stats().lateSpend).toBeCloseTo(0.3, 9);
    await survivor.close();
    await victim.close();
    const line = (await createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false }).snapshot('c')).lines[0];
    expect(line?.spent).toBeCloseTo(real, 6);
    expect(line?.reserved).toBe(0);
    victimClient.disconnect();
    await proxy.close();
  });

  it('validates its options', async () => {
    const budgets: LedgerBudgets = { campaigns: [{ id: 'c', dailyBudget: 1 }] };
    expect(() => createRedisLedger({ redis, budgets, keyPrefix: 'a{b}' })).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/braces/) }));
    expect(() => createRedisLedger({ redis, budgets, reservationTtlMs: 60_000, lease: { ttlMs: 10_000 } })).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/lease\.ttlMs/) }));
    expect(() => createRedisLedger({ redis, budgets, lease: { amount: -1 } })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createRedisLedger({ redis: {} as Redis, budgets })).toThrow(/ioredis client/);
    const ledger = createRedisLedger({ redis, budgets, keyPrefix: prefixFor('big'), lease: { amount: 0.2, ttlMs: 150_000 } });
    await expect(ledger.reserve('c', 0.3)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/exceeds the lease amount/) });
    await ledger.close();
  });

  describe('Lua scripts', () => {
    const keys = (prefix: string) => [`${prefix}{c:x}:lines`, `${prefix}{c:x}:holds`, `${prefix}{c:x}:exp`, `${prefix}{c:x}:done`];
    const line = ['1', 'c:x:l', '1000000', '-1'];
    const hold = (prefix: string, id: string, want: number, min: number, cap: number, mustExist = '0') =>
      redis.eval(HOLD_SCRIPT, 4, ...keys(prefix), id, String(want), String(min), '60000', mustExist, String(cap), ...line) as Promise<string[]>;
    const settle = (prefix: string, id: string, seq: number, spent: number, release: number, late = 0) =>
      redis.eval(SETTLE_SCRIPT, 4, ...keys(prefix), id, String(seq), String(spent), String(release), '60000', String(late), ...line) as Promise<string[]>;
    const spentOf = async (prefix: string) => Number((await redis.hget(`${prefix}{c:x}:lines`, 'c:x:l|s')) ?? 0);

    it('a hold takes at most half of what is left beyond the bid at hand', async () => {
      const prefix = prefixFor('half');
      expect(await hold(prefix, 'h1', 900_000, 1, 900_000)).toEqual(['1', '500000', '500000', '500000']);
      expect(await hold(prefix, 'h2', 900_000, 400_000, 900_000)).toEqual(['1', '400000', '400000', '100000']);
      expect((await hold(prefix, 'h3', 900_000, 200_000, 900_000))[0]).toBe('0');
    });

    it('a hold never exceeds its cap, however often it is topped up', async () => {
      const prefix = prefixFor('cap');
      expect(await hold(prefix, 'h', 300_000, 1, 400_000)).toEqual(['1', '300000', '300000', '700000']);
      expect(await hold(prefix, 'h', 300_000, 1, 400_000, '1')).toEqual(['1', '100000', '400000', '600000']);
      expect((await hold(prefix, 'h', 300_000, 1, 400_000, '1'))[0]).toBe('-5');
      expect((await hold(prefix, 'gone', 1, 1, 10, '1'))[0]).toBe('-1');
    });

    it('a settle retried with the same sequence is applied once', async () => {
      const prefix = prefixFor('idempotent');
      await hold(prefix, 'h', 500_000, 1, 500_000);
      expect(await settle(prefix, 'h', 1, 100_000, 0)).toEqual(['1', '400000']);
      expect(await settle(prefix, 'h', 1, 100_000, 0)).toEqual(['1', '400000']); // a retry: not applied twice
      expect(await spentOf(prefix)).toBe(100_000);
      expect(await settle(prefix, 'h', 2, 50_000, -1)).toEqual(['2', '0']); // close: the rest goes back
      expect(await settle(prefix, 'h', 2, 50_000, -1)).toEqual(['2', '0']); // a retry after the close gets the same reply
      expect(await spentOf(prefix)).toBe(150_000);
      expect(Number(await redis.hget(`${prefix}{c:x}:lines`, 'c:x:l|r'))).toBe(0);
    });

    it('late spend on a missing hold: fit mode refuses what no longer fits, force mode records it', async () => {
      const prefix = prefixFor('late');
      expect((await hold(prefix, 'h', 900_000, 900_000, 900_000))[0]).toBe('1');
      expect(await settle(prefix, 'gone', 1, 200_000, 0, 1)).toEqual(['-3', '100000']);
      expect(await settle(prefix, 'gone', 1, 100_000, 0, 1)).toEqual(['-2', '0']);
      expect(await settle(prefix, 'gone2', 1, 200_000, 0, 2)).toEqual(['-2', '0']);
      expect(await settle(prefix, 'gone2', 1, 200_000, 0, 2)).toEqual(['-2', '0']); // tombstoned: same reply, not recorded twice
      expect(await spentOf(prefix)).toBe(300_000);
    });
  });

  it('property: spend + holds never exceed any line for random reserve/commit/release across two ledgers', async () => {
    const budgets: LedgerBudgets = {
      advertisers: [{ id: 'adv', dailyBudget: 1.5, lifetimeBudget: 4 }],
      campaigns: [
        { id: 'a', advertiserId: 'adv', dailyBudget: 1 },
        { id: 'b', advertiserId: 'adv', dailyBudget: 0.9, lifetimeBudget: 2 },
      ],
    };
    const step = fc.record({ ledger: fc.nat(1), op: fc.constantFrom('reserve', 'commit', 'release'), campaign: fc.constantFrom('a', 'b'), micros: fc.integer({ min: 0, max: 300_000 }), pick: fc.nat() });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), fc.boolean(), async (steps, leased) => {
        const prefix = prefixFor('property');
        const lease = leased ? { amount: 0.6, ttlMs: 150_000, flushIntervalMs: 20, idleMs: 50 } : (false as const);
        const ledgers = [0, 1].map(() => createRedisLedger({ redis, budgets, keyPrefix: prefix, lease, clock: createManualClock(Date.UTC(2026, 0, 5, 12)) }));
        const open: Array<{ ledger: number; r: Reservation }> = [];
        let committed = 0;
        for (const s of steps) {
          const ledger = ledgers[s.ledger] as (typeof ledgers)[number];
          if (s.op === 'reserve') {
            const r = await ledger.reserve(s.campaign, s.micros / 1e6);
            if (r.ok) open.push({ ledger: s.ledger, r });
          } else if (open.length > 0) {
            const [{ ledger: owner, r }] = open.splice(s.pick % open.length, 1) as [{ ledger: number; r: Reservation }];
            const mine = ledgers[owner] as (typeof ledgers)[number];
            if (s.op === 'commit') {
              const price = Math.floor((r.amount * 1e6 * (s.micros % 1000)) / 1000);
              await mine.commit(r, price / 1e6);
              committed += price;
            } else await mine.release(r);
          }
        }
        for (const ledger of ledgers) await ledger.close();
        const reader = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false, clock: createManualClock(Date.UTC(2026, 0, 5, 12)) });
        for (const campaign of ['a', 'b']) {
          for (const l of (await reader.snapshot(campaign)).lines) {
            expect(toMicros(l.spent) + toMicros(l.reserved)).toBeLessThanOrEqual(toMicros(l.limit)); // exact, in micros
            expect(l.reserved).toBe(0); // every lease and open reservation was returned on close
          }
        }
        const total = (await reader.snapshot('a')).lines.find((l) => l.scope === 'advertiser' && l.period === 'lifetime');
        expect(toMicros(total?.spent ?? 0)).toBe(committed);
        await deleteKeysUnder(redis, prefix);
      }),
      propertyOptions(40),
    );
  });
});
