import { describe, expect, it } from 'vitest';
import { createManualClock } from '@ctrkit/core';
import { createMemoryFeatureStore } from '../src/index.js';
import { HOUR, T0, candidate, describeStoreConformance, event } from './fixtures/store-conformance.js';

describeStoreConformance('memory', async (options) => createMemoryFeatureStore(options));

describe('memory store limits', () => {
  const clock = createManualClock(T0 + 30 * 24 * HOUR);

  it('evicts the least recently written users, ads and pairs beyond their limits', async () => {
    const store = createMemoryFeatureStore({ clock, maxUsers: 2, maxAds: 3, maxPairsPerUser: 2 });
    await store.record(event('impression', T0, 'u1', 'ad-1'));
    await store.record(event('impression', T0 + 1, 'u2', 'ad-2'));
    await store.record(event('impression', T0 + 2, 'u1', 'ad-3'));
    await store.record(event('impression', T0 + 3, 'u3', 'ad-4'));
    const stats = store.stats();
    expect(stats.users).toBe(2);
    expect(stats.ads).toBe(3);
    expect(stats.evicted).toBeGreaterThanOrEqual(2);
    const u2 = await store.lookup({ id: 'u2' }, [candidate('ad-2')], T0 + 10);
    expect(u2.values[store.names.indexOf('user.imp.1h')]).toBe(0); // u2 was the least recently written
    expect(u2.values[store.names.indexOf('ad.imp.1h')]).toBeGreaterThan(0.99); // ad-2 is still held…
    const ad1 = await store.lookup({ id: 'u1' }, [candidate('ad-1'), candidate('ad-3')], T0 + 10);
    expect(ad1.values[store.names.indexOf('ad.imp.1h')]).toBe(0); // …but ad-1, the oldest of four ads, is gone
    expect(ad1.values[store.names.indexOf('user.imp.1h')]).toBeGreaterThan(1.99); // u1 kept both impressions
    await store.close();
  });

  it('bounds the exact-count rings a flood of campaigns creates: maxPairsPerUser per kind, least recently written out', async () => {
    const store = createMemoryFeatureStore({ clock, maxPairsPerUser: 5, maxAds: 1_000, frequency: { windows: [{ name: '1h', ms: HOUR }], limit: 4 } });
    for (let i = 0; i < 500; i++) await store.record(event('impression', T0 + i, 'u1', `ad-${i}`, { campaignId: `camp-${i}`, advertiserId: `adv-${i}` }));
    const rows = [0, 494, 499].map((i) => ({ ...candidate(`ad-${i}`), campaignId: `camp-${i}`, advertiserId: `adv-${i}` }));
    const lookup = await store.lookup({ id: 'u1' }, rows, T0 + 1_000);
    const at = (row: number, name: string) => lookup.values[row * lookup.names.length + lookup.names.indexOf(name)];
    // The oldest pairs are gone (their counts read 0), the five newest are kept; the user's own ring holds its limit.
    expect([0, 1, 2].map((r) => at(r, 'user_campaign.imp_count.1h'))).toEqual([0, 0, 1]);
    expect([0, 1, 2].map((r) => at(r, 'user_ad.imp_count.1h'))).toEqual([0, 0, 1]);
    expect(at(2, 'user.imp_count.1h')).toBe(4);
    // 495 evicted per kind of decayed pair (ad, category… here one category each) and ring, and no more.
    expect(store.stats().evicted).toBeGreaterThanOrEqual(3 * 495);
    await store.close();
  });

  it('drops keys idle for longer than idleMs', async () => {
    const store = createMemoryFeatureStore({ clock, idleMs: HOUR });
    await store.record(event('impression', T0, 'old', 'ad-old'));
    await store.record(event('impression', T0 + 2 * HOUR, 'new', 'ad-new'));
    await store.record(event('impression', T0 + 2 * HOUR + 1, 'new', 'ad-new'));
    expect(store.stats()).toMatchObject({ users: 1, ads: 1, expired: 2 });
    await store.close();
  });

  it('ignores a duplicate delivery of a pending event', async () => {
    const store = createMemoryFeatureStore({ clock });
    const imp = event('impression', T0, 'u1', 'ad-1');
    await store.record(imp);
    await store.record({ ...imp });
    expect(store.stats().duplicates).toBe(1);
    const lookup = await store.lookup({ id: 'u1' }, [candidate('ad-1')], T0 + 1);
    expect(lookup.values[store.names.indexOf('ad.imp.1d')]).toBeCloseTo(1, 6);
    await store.close();
  });

  it('names the key whose folded counters refuse an early lookup', async () => {
    const store = createMemoryFeatureStore({ clock, pendingCapacity: 2 });
    // Five users see ad-1 once each: only the ad's own counters fold past the lookup time.
    for (let i = 0; i < 5; i++) await store.record(event('impression', T0 + 10_000 * (i + 1), `u${i}`, 'ad-1'));
    await expect(store.lookup({ id: 'fresh' }, [candidate('ad-2'), candidate('ad-1')], T0 + 5_000)).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringContaining('for ad ad-1:'),
      details: { key: 'ad ad-1' },
    });
    // One user sees five ads: the user's counters fold first.
    for (let i = 0; i < 5; i++) await store.record(event('impression', T0 + 10_000 * (i + 1), 'busy', `ad-${i + 2}`));
    await expect(store.lookup({ id: 'busy' }, [candidate('ad-9')], T0 + 5_000)).rejects.toMatchObject({ details: { key: 'user busy' } });
    await store.close();
  });
});
