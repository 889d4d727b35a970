/**
 * One conformance suite for every FeatureStore: the memory store and the Redis store run it
 * unchanged. Counters are checked against a naive reference that recomputes every value from the
 * full list of events with timestamps before the lookup time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock, createRandom, type AdCandidate, type AdEvent, type AdEventType, type FeatureStore, type StoreLookup } from '@ctrkit/core';
import { FREQUENCY_ENTITIES, STORE_ENTITIES, storeCounterNames, type FeatureStoreOptions, type FrequencyOptions, type StoreLookupOptions, type StoreWindow } from '../src/index.js';

export const T0 = Date.UTC(2026, 0, 5, 12);
export const HOUR = 3_600_000;
const WINDOWS: readonly StoreWindow[] = [
  { name: '1h', ms: HOUR },
  { name: '1d', ms: 24 * HOUR },
  { name: '7d', ms: 7 * 24 * HOUR },
];
const PRIOR = { alpha: 1, beta: 49 };
const GAP = 30 * 60_000;

/** Builds a store for one test; the suite closes it (and the factory cleans up its keys). */
export type StoreFactory = (options: FeatureStoreOptions) => Promise<FeatureStore & { lookup(user: { id: string }, candidates: readonly AdCandidate[], now: number, options?: StoreLookupOptions): Promise<StoreLookup> }>;

let eventCounter = 0;
export function event(type: AdEventType, timestamp: number, userId: string, adId: string, extra: Partial<AdEvent> = {}): AdEvent {
  eventCounter++;
  return {
    type,
    eventId: `e${eventCounter}`,
    requestId: `r${eventCounter}`,
    timestamp,
    userId,
    adId,
    campaignId: `camp-${adId}`,
    advertiserId: `adv-${adId.slice(0, 3)}`,
    category: `cat-${adId.slice(-1)}`,
    ...extra,
  } as AdEvent;
}

export function candidate(adId: string): AdCandidate {
  return { adId, advertiserId: `adv-${adId.slice(0, 3)}`, campaignId: `camp-${adId}`, format: 'display', category: `cat-${adId.slice(-1)}`, bid: 1, bidType: 'CPC' };
}

/** The naive reference: every counter recomputed from the events before `now`. */
export function reference(events: readonly AdEvent[], userId: string, candidates: readonly AdCandidate[], now: number, windows = WINDOWS): Float64Array {
  const names = storeCounterNames(windows);
  const width = names.length;
  const out = new Float64Array(candidates.length * width);
  const seen = new Set<string>();
  const unique = events.filter((e) => {
    const key = `${e.type}|${e.eventId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return e.timestamp < now;
  });
  const typeIndex = { impression: 0, click: 1, conversion: 2 } as const;
  const blockOf = (matching: readonly AdEvent[]): number[] => {
    const block: number[] = [];
    for (const w of windows) {
      const counts = [0, 0, 0];
      for (const e of matching) counts[typeIndex[e.type]] = (counts[typeIndex[e.type]] as number) + Math.exp(-(now - e.timestamp) / w.ms);
      block.push(counts[0] as number, counts[1] as number, counts[2] as number, ((counts[1] as number) + PRIOR.alpha) / ((counts[0] as number) + PRIOR.alpha + PRIOR.beta));
    }
    const last = (type: AdEventType) => Math.max(-Infinity, ...matching.filter((e) => e.type === type).map((e) => e.timestamp));
    const since = (t: number) => (t === -Infinity ? Number.NaN : (now - t) / 1000);
    block.push(since(last('impression')), since(last('click')));
    return block;
  };
  const mine = unique.filter((e) => e.userId === userId);
  // Session: replay the user's events in time order (ties in arrival order).
  const ordered = mine.map((e, i) => [e, i] as const).sort((a, b) => a[0].timestamp - b[0].timestamp || a[1] - b[1]);
  let start = -Infinity;
  let lastTime = -Infinity;
  let pages = 0;
  let request = '';
  for (const [e] of ordered) {
    if (lastTime === -Infinity || e.timestamp - lastTime > GAP) {
      start = e.timestamp;
      pages = 0;
      request = '';
    }
    lastTime = Math.max(lastTime, e.timestamp);
    if (e.type === 'impression' && e.requestId !== request) {
      pages++;
      request = e.requestId;
    }
  }
  const session = lastTime === -Infinity || now - lastTime > GAP ? [0, 0] : [(now - start) / 1000, pages];
  candidates.forEach((c, r) => {
    const blocks = [
      blockOf(mine),
      blockOf(unique.filter((e) => e.adId === c.adId)),
      blockOf(mine.filter((e) => e.adId === c.adId)),
      blockOf(mine.filter((e) => e.category === c.category)),
      blockOf(mine.filter((e) => e.advertiserId === c.advertiserId)),
    ];
    out.set([...blocks.flat(), ...session], r * width);
  });
  return out;
}

function expectClose(lookup: StoreLookup, want: Float64Array, context: string): void {
  expect(lookup.values.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const got = lookup.values[i] as number;
    const w = want[i] as number;
    const name = lookup.names[i % lookup.names.length];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(got)) expect.fail(`${context}: ${name} (row ${Math.floor(i / lookup.names.length)}) is ${got}, expected NaN`);
      continue;
    }
    // Float32 output: relative 1e-6, or absolute 1e-6 near zero.
    if (!(Math.abs(got - w) <= 1e-6 * Math.max(1, Math.abs(w)))) expect.fail(`${context}: ${name} (row ${Math.floor(i / lookup.names.length)}) is ${got}, expected ${w}`);
  }
}

export function describeStoreConformance(name: string, make: StoreFactory, enabled = true): void {
  describe.skipIf(!enabled)(`FeatureStore conformance: ${name}`, () => {
    const clock = createManualClock(T0 + 30 * 24 * HOUR);
    const base: FeatureStoreOptions = { windows: WINDOWS, prior: PRIOR, sessionGapMs: GAP, clock };
    async function withStore<T>(options: FeatureStoreOptions, body: (store: Awaited<ReturnType<StoreFactory>>) => Promise<T>): Promise<T> {
      const store = await make({ ...base, ...options });
      try {
        return await body(store);
      } finally {
        await store.close();
      }
    }

    it('returns the documented counter names, one row per candidate', async () => {
      await withStore({}, async (store) => {
        expect(store.names).toEqual(storeCounterNames(WINDOWS));
        expect(store.names).toHaveLength(STORE_ENTITIES.length * (4 * 3 + 2) + 2);
        const lookup = await store.lookup({ id: 'nobody' }, [candidate('ad-1'), candidate('ad-2')], T0);
        expect(lookup.rows).toBe(2);
        expect(lookup.degraded).toBe(false);
        expectClose(lookup, reference([], 'nobody', [candidate('ad-1'), candidate('ad-2')], T0), 'empty');
        expect(lookup.values[store.names.indexOf('ad.ctr.1h')]).toBeCloseTo(0.02, 7);
      });
    });

    it('decays counts with each window: e^(−age/τ)', async () => {
      await withStore({}, async (store) => {
        await store.record(event('impression', T0, 'u1', 'ad-1'));
        const lookup = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + HOUR);
        const at = (n: string) => lookup.values[store.names.indexOf(n)] as number;
        expect(at('user_ad.imp.1h')).toBeCloseTo(Math.exp(-1), 6);
        expect(at('user_ad.imp.1d')).toBeCloseTo(Math.exp(-1 / 24), 6);
        expect(at('ad.imp.7d')).toBeCloseTo(Math.exp(-1 / 168), 6);
        expect(at('user_ad.since_imp')).toBe(3600);
        expect(at('user_ad.since_click')).toBeNaN();
        expect(at('user_ad.ctr.1h')).toBeCloseTo(1 / (Math.exp(-1) + 50), 6);
      });
    });

    it('is point-in-time correct: a lookup at t sees only events before t', async () => {
      await withStore({}, async (store) => {
        const imp = event('impression', T0, 'u1', 'ad-1');
        const click = event('click', T0 + 5_000, 'u1', 'ad-1', { requestId: imp.requestId });
        await store.record(imp);
        await store.record(click); // recorded now, stamped in the future
        const at = async (t: number) => {
          const lookup = await store.lookup({ id: 'u1' }, [candidate('ad-1')], t);
          return [lookup.values[store.names.indexOf('user_ad.imp.1h')], lookup.values[store.names.indexOf('user_ad.click.1h')]];
        };
        expect((await at(T0))[0]).toBe(0); // not even the impression at exactly t
        expect((await at(T0 + 1_000))[1]).toBe(0);
        expect((await at(T0 + 5_000))[1]).toBe(0);
        expect((await at(T0 + 5_001))[1]).toBeCloseTo(Math.exp(-1 / HOUR), 6); // 1 ms old
        // Earlier again: still exact.
        expect((await at(T0 + 2_000))[1]).toBe(0);
      });
    });

    it('matches the naive reference on random event streams with out-of-order and future events (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), async (seed) => {
          const random = createRandom(seed);
          await withStore({ pendingCapacity: 16, horizonMs: 2 * HOUR }, async (store) => {
            const users = ['u1', 'u2', 'u3'];
            const ads = ['adA1', 'adA2', 'adB1', 'adB3', 'adC2'];
            const events: AdEvent[] = [];
            let now = T0;
            for (let step = 0; step < 60; step++) {
              now += Math.floor(random.exponential(1 / 600_000));
              const user = users[random.int(users.length)] as string;
              const ad = ads[random.int(ads.length)] as string;
              const imp = event('impression', now, user, ad, { requestId: `req-${Math.floor(now / 1_000_000)}` });
              const batch: AdEvent[] = [imp];
              if (random.bernoulli(0.3)) batch.push(event('click', now + random.int(20_000), user, ad, { requestId: imp.requestId }));
              if (random.bernoulli(0.1)) batch.push(event('conversion', now + random.int(600_000), user, ad, { requestId: imp.requestId }));
              if (random.bernoulli(0.1)) batch.push(event('impression', now - random.int(60_000), user, ad)); // a little late
              if (random.bernoulli(0.05)) batch.push(imp); // a duplicate delivery
              for (const e of batch) {
                await store.record(e);
                events.push(e);
              }
              if (step % 6 === 5) {
                const t = now + 1 + random.int(30_000);
                const cands = ads.slice(0, 1 + random.int(ads.length)).map(candidate);
                const lookup = await store.lookup({ id: user }, cands, t);
                expectClose(lookup, reference(events, user, cands, t), `seed ${seed} step ${step}`);
              }
            }
            // After everything (conversions included): every user, every ad, with sessions still open.
            const after = Math.max(...events.map((e) => e.timestamp)) + 1 + random.int(1_000);
            for (const user of users) expectClose(await store.lookup({ id: user }, ads.map(candidate), after), reference(events, user, ads.map(candidate), after), `seed ${seed} after`);
          });
        }),
        { numRuns: 12, seed: 7 },
      );
    });

    it('counts sessions: pages are impressions of distinct requests; a 30-minute gap starts anew', async () => {
      await withStore({}, async (store) => {
        const events = [
          event('impression', T0, 'u9', 'ad-1', { requestId: 'p1' }),
          event('impression', T0 + 1_000, 'u9', 'ad-2', { requestId: 'p1' }),
          event('click', T0 + 4_000, 'u9', 'ad-2', { requestId: 'p1' }),
          event('impression', T0 + 60_000, 'u9', 'ad-1', { requestId: 'p2' }),
          event('impression', T0 + 60_000 + GAP + 1, 'u9', 'ad-3', { requestId: 'p3' }),
        ];
        for (const e of events) await store.record(e);
        const session = async (t: number) => {
          const lookup = await store.lookup({ id: 'u9' }, [candidate('ad-1')], t);
          return [lookup.values[store.names.indexOf('user.session_seconds')], lookup.values[store.names.indexOf('user.session_pages')]];
        };
        expect(await session(T0 + 120_000)).toEqual([120, 2]);
        // Just before the gap closes the session is still open (1,860 s, 2 pages); one ms later it is over.
        expect(await session(T0 + 60_000 + GAP)).toEqual([1860, 2]);
        expect(await session(T0 + 60_000 + GAP + 1)).toEqual([0, 0]);
        // The next impression opens a new session.
        expect(await session(T0 + 60_000 + GAP + 1001)).toEqual([1, 1]);
      });
    });

    it('refuses a lookup that would leak folded future events, or degrades when asked', async () => {
      await withStore({ pendingCapacity: 2 }, async (store) => {
        for (let i = 0; i < 5; i++) await store.record(event('impression', T0 + 10_000 * (i + 1), 'u1', 'ad-1'));
        await expect(store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 5_000)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/already folded/) });
        const degraded = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 5_000, { degradeOnError: true });
        expect(degraded.degraded).toBe(true);
        expect(degraded.reason).toMatch(/folded/);
        expectClose(degraded, reference([], 'u1', [candidate('ad-1')], T0 + 5_000), 'degraded');
        const fine = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 45_000);
        expect(fine.values[store.names.indexOf('ad.imp.1h')]).toBeGreaterThan(3.9);
      });
    });

    it('rejects malformed events and far-future timestamps, leaving the counters as they were', async () => {
      await withStore({}, async (store) => {
        await store.record(event('impression', T0, 'u1', 'ad-1'));
        const before = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 1);
        const bad = [
          { ...event('impression', T0, 'u1', 'ad-1'), type: 'view' },
          { ...event('impression', Number.NaN, 'u1', 'ad-1') },
          { ...event('impression', T0, 'u1', 'ad-1'), userId: '' },
          { ...event('impression', T0, 'u1', 'ad-1'), category: undefined },
          event('impression', clock.now() + 2 * 86_400_000, 'u1', 'ad-1'),
          null,
        ];
        for (const e of bad) await expect(store.record(e as AdEvent)).rejects.toMatchObject({ code: 'E_INPUT' });
        const after = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 1);
        expect(Array.from(after.values)).toEqual(Array.from(before.values));
        await expect(store.lookup({ id: '' }, [], T0)).rejects.toMatchObject({ code: 'E_INPUT' });
        await expect(store.lookup({ id: 'u1' }, [{ adId: 'x' } as AdCandidate], T0)).rejects.toMatchObject({ code: 'E_INPUT' });
        await expect(store.lookup({ id: 'u1' }, [], Number.NaN)).rejects.toMatchObject({ code: 'E_INPUT' });
      });
    });

    it('forgets a user entirely, keeping the ad aggregates', async () => {
      await withStore({}, async (store) => {
        await store.record(event('impression', T0, 'gone', 'ad-1'));
        await store.record(event('click', T0 + 1000, 'gone', 'ad-1'));
        await store.record(event('impression', T0, 'kept', 'ad-1'));
        await store.forgetUser('gone');
        const lookup = await store.lookup({ id: 'gone' }, [candidate('ad-1')], T0 + 2000);
        const at = (n: string) => lookup.values[store.names.indexOf(n)];
        expect([at('user.imp.1d'), at('user_ad.imp.1d'), at('user_category.click.1d'), at('user_advertiser.imp.1d')]).toEqual([0, 0, 0, 0]);
        expect(at('user.since_imp')).toBeNaN();
        expect(at('ad.imp.1d')).toBeGreaterThan(1.9);
        const kept = await store.lookup({ id: 'kept' }, [candidate('ad-1')], T0 + 2000);
        expect(kept.values[store.names.indexOf('user.imp.1d')]).toBeGreaterThan(0.99);
      });
    });

    it('keeps ids with separators, braces and any Unicode apart', async () => {
      await withStore({}, async (store) => {
        const ids = ['é😀', 'a|b', 'a', '1:a', '{x}', 'ad\ud800', 'ad\u00e9'];
        for (const [i, id] of ids.entries()) {
          for (let k = 0; k <= i; k++) await store.record(event('impression', T0 + k, `usér-${id}`, id, { category: `cat:${id}`, advertiserId: `adv|${id}` }));
        }
        const cands = ids.map((id) => ({ ...candidate(id), category: `cat:${id}`, advertiserId: `adv|${id}` }));
        const lookup = await store.lookup({ id: `usér-${ids[3] as string}` }, cands, T0 + 100);
        const W = store.names.length;
        const at = (row: number, n: string) => lookup.values[row * W + store.names.indexOf(n)] as number;
        ids.forEach((_, row) => {
          expect(at(row, 'ad.imp.1d')).toBeCloseTo(row + 1, 4);
          expect(at(row, 'user_ad.imp.1d')).toBeCloseTo(row === 3 ? 4 : 0, 4);
          expect(at(row, 'user_category.imp.1d')).toBeCloseTo(row === 3 ? 4 : 0, 4);
          expect(at(row, 'user_advertiser.imp.1d')).toBeCloseTo(row === 3 ? 4 : 0, 4);
        });
      });
    });

    it('writes into an out buffer when it has room', async () => {
      await withStore({}, async (store) => {
        await store.record(event('impression', T0, 'u1', 'ad-1'));
        const cands = [candidate('ad-1'), candidate('ad-2')];
        const fresh = await store.lookup({ id: 'u1' }, cands, T0 + 1);
        const out = new Float32Array(store.names.length * 5).fill(-1);
        const into = await store.lookup({ id: 'u1' }, cands, T0 + 1, { out });
        expect(into.values.buffer).toBe(out.buffer);
        expect(into.values.length).toBe(2 * store.names.length);
        expect(Array.from(into.values)).toEqual(Array.from(fresh.values));
        const small = await store.lookup({ id: 'u1' }, cands, T0 + 1, { out: new Float32Array(3) });
        expect(small.values.length).toBe(2 * store.names.length);
      });
    });

    describe('exact impression counts (frequency)', () => {
      const DAY = 24 * HOUR;
      const frequency: FrequencyOptions = { windows: [{ name: '1h', ms: HOUR }, { name: '24h', ms: DAY }], limit: 8 };
      const count = (lookup: StoreLookup, row: number, name: string) => lookup.values[row * lookup.names.length + lookup.names.indexOf(name)] as number;

      it('names imp_count columns after the decayed ones, and only when asked', async () => {
        await withStore({ frequency }, async (store) => {
          expect(store.names).toEqual(storeCounterNames(WINDOWS, frequency));
          expect(store.names.slice(storeCounterNames(WINDOWS).length)).toEqual(FREQUENCY_ENTITIES.flatMap((e) => [`${e}.imp_count.1h`, `${e}.imp_count.24h`]));
        });
        await withStore({}, async (store) => expect(store.names.some((n) => n.includes('imp_count'))).toBe(false));
      });

      it('counts impressions in the window exactly: 3 in 24 h read 3; one exactly 24 h old no longer counts', async () => {
        await withStore({ frequency }, async (store) => {
          const times = [T0, T0 + 2 * HOUR, T0 + 20 * HOUR];
          // ad-1 and ad-2 belong to the same campaign and advertiser; one click does not count.
          await store.record(event('impression', times[0] as number, 'u1', 'ad-1', { campaignId: 'camp-x' }));
          await store.record(event('impression', times[1] as number, 'u1', 'ad-2', { campaignId: 'camp-x' }));
          await store.record(event('impression', times[2] as number, 'u1', 'ad-1', { campaignId: 'camp-x' }));
          await store.record(event('click', (times[2] as number) + 1000, 'u1', 'ad-1', { campaignId: 'camp-x' }));
          await store.record(event('impression', times[2] as number, 'u2', 'ad-1', { campaignId: 'camp-x' }));
          const cands = [{ ...candidate('ad-1'), campaignId: 'camp-x' }, { ...candidate('ad-3'), campaignId: 'camp-x' }, candidate('ad-9')];
          const at = await store.lookup({ id: 'u1' }, cands, T0 + 20.5 * HOUR);
          expect([0, 1, 2].map((r) => count(at, r, 'user_campaign.imp_count.24h'))).toEqual([3, 3, 0]);
          expect([0, 1, 2].map((r) => count(at, r, 'user_ad.imp_count.24h'))).toEqual([2, 0, 0]);
          // Every ad of these helpers has advertiser adv-ad-: u1's three impressions count for each row.
          expect([0, 1, 2].map((r) => count(at, r, 'user_advertiser.imp_count.24h'))).toEqual([3, 3, 3]);
          expect(count(at, 0, 'user.imp_count.24h')).toBe(3);
          expect(count(at, 0, 'user_campaign.imp_count.1h')).toBe(1);
          // The boundary: one ms before the first impression is 24 h old it counts; at 24 h it does not.
          const before = await store.lookup({ id: 'u1' }, cands, (times[0] as number) + DAY - 1);
          expect(count(before, 0, 'user_campaign.imp_count.24h')).toBe(3);
          const exactly = await store.lookup({ id: 'u1' }, cands, (times[0] as number) + DAY);
          expect(count(exactly, 0, 'user_campaign.imp_count.24h')).toBe(2);
          // Point in time: a lookup at the third impression's own time does not see it.
          const during = await store.lookup({ id: 'u1' }, cands, times[2] as number);
          expect(count(during, 0, 'user_campaign.imp_count.24h')).toBe(2);
        });
      });

      it('counts a redelivered event once, saturates at limit, and forgets the user', async () => {
        await withStore({ frequency: { ...frequency, limit: 3 } }, async (store) => {
          const first = event('impression', T0, 'u1', 'ad-1');
          await store.record(first);
          await store.record(first);
          for (let i = 1; i <= 4; i++) await store.record(event('impression', T0 + i * 1000, 'u1', 'ad-1'));
          const lookup = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + HOUR / 2);
          expect(count(lookup, 0, 'user_ad.imp_count.1h')).toBe(3);
          await store.forgetUser('u1');
          const gone = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + HOUR / 2);
          expect(count(gone, 0, 'user_ad.imp_count.1h')).toBe(0);
        });
      });

      it('matches a naive count on random impression streams, out of order and duplicated (property)', async () => {
        const ads = ['ad-1', 'ad-2', 'ad-3'];
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ ad: fc.integer({ min: 0, max: 2 }), offset: fc.integer({ min: 0, max: 30 * HOUR }), type: fc.constantFrom<AdEventType>('impression', 'impression', 'click'), repeat: fc.boolean() }), { maxLength: 40 }),
            fc.integer({ min: 1, max: 32 * HOUR }),
            async (drawn, after) => {
              await withStore({ frequency: { ...frequency, limit: 1000 } }, async (store) => {
                const events: AdEvent[] = [];
                for (const d of drawn) {
                  const e = event(d.type, T0 + d.offset, 'u1', ads[d.ad] as string, { campaignId: d.ad === 2 ? 'camp-b' : 'camp-a' });
                  events.push(e);
                  await store.record(e);
                  if (d.repeat) await store.record(e);
                }
                // After every event: the decayed counters refuse lookups behind events they folded.
                const now = T0 + Math.max(0, ...drawn.map((d) => d.offset)) + after;
                const cands = ads.map((ad, i) => ({ ...candidate(ad), campaignId: i === 2 ? 'camp-b' : 'camp-a' }));
                const lookup = await store.lookup({ id: 'u1' }, cands, now);
                for (const [w, ms] of [['1h', HOUR], ['24h', DAY]] as const) {
                  const inWindow = events.filter((e) => e.type === 'impression' && e.timestamp < now && e.timestamp > now - ms);
                  cands.forEach((c, r) => {
                    expect(count(lookup, r, `user.imp_count.${w}`)).toBe(inWindow.length);
                    expect(count(lookup, r, `user_ad.imp_count.${w}`)).toBe(inWindow.filter((e) => e.adId === c.adId).length);
                    expect(count(lookup, r, `user_campaign.imp_count.${w}`)).toBe(inWindow.filter((e) => e.campaignId === c.campaignId).length);
                    expect(count(lookup, r, `user_advertiser.imp_count.${w}`)).toBe(inWindow.filter((e) => e.advertiserId === c.advertiserId).length);
                  });
                }
              });
            },
          ),
          { numRuns: 25, seed: 11 },
        );
      });
    });

    it('rejects calls after close with E_STATE', async () => {
      const store = await make(base);
      await store.close();
      await expect(store.lookup({ id: 'u' }, [], T0)).rejects.toMatchObject({ code: 'E_STATE' });
      await expect(store.record(event('impression', T0, 'u', 'ad-1'))).rejects.toMatchObject({ code: 'E_STATE' });
    });
  });
}
