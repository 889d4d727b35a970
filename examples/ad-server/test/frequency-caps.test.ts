/**
 * Frequency caps that are caps (issue 14, finding 10): the bidder's filter over the feature
 * stores' exact windowed impression counts, on the memory store and on the shared Redis.
 * "At most 3 impressions per user per campaign in 24 h": the 4th is not bid, and once the first
 * impression is 24 h old the campaign bids again.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createOpenRtbBidder, type BidderCreative } from '@ctrkit/auction';
import { createManualClock, type FeatureStore } from '@ctrkit/core';
import { createMemoryFeatureStore, type FrequencyOptions } from '@ctrkit/features';
import { createRedisFeatureStore } from '@ctrkit/features/redis';
import { sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { makeBidRequests } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { ADMIN_TOKEN, startInProcess, stopAll } from './fixtures/servers.js';
import { deleteSharedKeys } from './fixtures/shared-redis.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 12);
const frequency: FrequencyOptions = { windows: [{ name: '1h', ms: 3_600_000 }, { name: '24h', ms: DAY }], limit: 8 };
const creative = (adId: string, campaignId: string, bid: number): BidderCreative => ({
  adId,
  advertiserId: 'adv-1',
  campaignId,
  format: 'display',
  category: 'travel',
  cat: ['IAB20'],
  bid,
  bidType: 'CPM',
  domain: 'travel.example',
  width: 300,
  height: 250,
  adm: `<div>${adId}</div>`,
});
const catalog = [creative('a1', 'cmp-a', 3), creative('a2', 'cmp-a', 2.5), creative('b1', 'cmp-b', 1)];

const redisUp = await sharedRedisFor('example-ad-server: frequency caps on the Redis feature store');
const prefixes: string[] = [];
afterAll(async () => {
  await stopAll();
  for (const prefix of prefixes) await deleteSharedKeys(prefix);
});

const stores: [string, boolean, () => FeatureStore][] = [
  ['memory', true, () => createMemoryFeatureStore({ frequency, clock: createManualClock(T0 + 2 * DAY) })],
  [
    'redis',
    redisUp,
    () => {
      const prefix = uniqueKeyPrefix('ad-server', 'frequency');
      prefixes.push(prefix);
      return createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, frequency, clock: createManualClock(T0 + 2 * DAY) });
    },
  ],
];

describe.each(stores)('frequency caps on the %s store', (_name, enabled, make) => {
  it.skipIf(!enabled)('3 impressions of a campaign in 24 h block the 4th; an impression older than 24 h no longer counts', async () => {
    const store = make();
    const clock = createManualClock(T0);
    const bidder = createOpenRtbBidder({
      catalog,
      predict: async (request) => new Float32Array(request.candidates.length).fill(0.01),
      counters: (request) => store.lookup(request.user, request.candidates, clock.now()),
      filter: { frequencyCaps: [{ counter: 'user_campaign.imp_count.24h', max: 3 }], counterNames: store.names },
      clock,
    });
    let n = 0;
    const bidAt = async (time: number) => {
      clock.set(time);
      const outcome = await bidder.handle({ id: `r${++n}`, imp: [{ id: '1', banner: { w: 300, h: 250 } }], user: { id: 'u-1' }, tmax: 1_000 });
      return outcome.imps[0]?.bid?.adId;
    };
    const shown = (adId: string, campaignId: string, time: number) =>
      store.record({ type: 'impression', eventId: `imp-${time}`, requestId: `r-${time}`, timestamp: time, userId: 'u-1', adId, campaignId, advertiserId: 'adv-1', category: 'travel' });
    try {
      const times = [T0, T0 + 3_600_000, T0 + 5 * 3_600_000];
      for (const [i, time] of times.entries()) {
        expect(await bidAt(time)).toBe('a1');
        await shown(i === 1 ? 'a2' : 'a1', 'cmp-a', time);
      }
      // Three impressions of cmp-a (two ads) in 24 h: neither of its ads bids; cmp-b's does.
      expect(await bidAt(T0 + 6 * 3_600_000)).toBe('b1');
      expect(await bidAt(T0 + DAY - 1)).toBe('b1');
      // At T0 + 24 h the first impression is 24 h old: two in the window, cmp-a bids again.
      expect(await bidAt(T0 + DAY)).toBe('a1');
    } finally {
      await store.close();
    }
  });

  it.skipIf(!enabled)('a cap naming a counter the store does not keep is refused when the bidder is built', () => {
    const store = make();
    try {
      expect(() =>
        createOpenRtbBidder({
          catalog,
          predict: async (request) => new Float32Array(request.candidates.length),
          filter: { frequencyCaps: [{ counter: 'user_advertiser.impressions.1d', max: 3 }], counterNames: store.names },
        }),
      ).toThrow(/"user_advertiser.impressions.1d" is not among the \d+ counterNames; .*user_advertiser.imp_count.1h/);
    } finally {
      void store.close();
    }
  });
});

describe('FREQUENCY_CAP on the server', () => {
  it('2/1h: a user sees a campaign twice, then the server bids another campaign for that user', async () => {
    await ensureTestModels();
    const server = await startInProcess({ FREQUENCY_CAP: '2/1h' });
    const [request] = makeBidRequests(1, { tmax: 500 });
    if (request === undefined) throw new Error('no request');
    const won: string[] = [];
    const ads: string[] = [];
    for (let round = 0; round < 6; round++) {
      const answer = await postJson(`${server.url}/openrtb2/bid`, { ...request, id: `${request.id}-${round}` });
      expect(answer.status).toBe(200);
      const [bid] = bidsOf(answer);
      if (bid === undefined) throw new Error('no bid');
      won.push(bid.cid);
      ads.push(bid.adid);
      // The exchange reports the win: the impression is counted for this user and campaign.
      expect((await send(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)))).status).toBe(204);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the next lookup is strictly after the impression
    }
    // The same user and page: the best campaign wins twice, then it is capped and the next one wins.
    expect(won[1]).toBe(won[0]);
    expect(won[2]).not.toBe(won[0]);
    const perCampaign = new Map<string, number>();
    for (const cid of won) perCampaign.set(cid, (perCampaign.get(cid) ?? 0) + 1);
    for (const count of perCampaign.values()) expect(count).toBeLessThanOrEqual(2);
    // What the cap read: the store's exact count for that user and the first campaign.
    const counters = await send(`${server.url}/admin/counters?user=${request.user.id}&ad=${ads[0]}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((counters.json as { counters: Record<string, number> }).counters['user_campaign.imp_count.1h']).toBe(2);
    await server.server.shutdown();
  });

  it('refuses a malformed FREQUENCY_CAP at start', async () => {
    const { readConfig } = await import('../src/config.js');
    expect(() => readConfig({ FREQUENCY_CAP: '3 per day' })).toThrow(/FREQUENCY_CAP must be <max impressions>\/<window>/);
    expect(readConfig({ FREQUENCY_CAP: '3/24h' }).frequencyCap).toEqual({ max: 3, window: '24h', windowMs: 86_400_000 });
    expect(readConfig({}).frequencyCap).toBeUndefined();
  });
});
