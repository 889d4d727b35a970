import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '@ctrkit/core';
import { createOpenRtbBidder, type BidderCreative } from '../src/index.js';

const RUNS = { numRuns: 200, seed: 20260105 };

describe('bidder properties', () => {
  it('never throws and always answers, whatever the body', async () => {
    const bidder = createOpenRtbBidder({
      catalog: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'IAB1', bid: 1, bidType: 'CPC', adm: '<div></div>' }],
      predict: async (request) => new Float64Array(request.candidates.length).fill(0.02),
      clock: createManualClock(0),
    });
    // Arbitrary values, arbitrary JSON text, and mutations of a valid request.
    const mutated = fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
        imp: fc.oneof(fc.array(fc.record({ id: fc.oneof(fc.string(), fc.nat()), banner: fc.oneof(fc.constant({ w: 300, h: 250 }), fc.anything()), bidfloor: fc.oneof(fc.double(), fc.string()), bidfloorcur: fc.string() }, { requiredKeys: [] })), fc.anything()),
        tmax: fc.oneof(fc.double(), fc.anything()),
        at: fc.anything(),
        regs: fc.anything(),
        user: fc.anything(),
        device: fc.anything(),
        cur: fc.anything(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.json(), mutated), async (body) => {
        const outcome = await bidder.handle(body);
        expect(typeof outcome.bid).toBe('boolean');
        expect(typeof outcome.response.id).toBe('string');
        if (!outcome.bid) expect(typeof outcome.reason).toBe('string');
      }),
      RUNS,
    );
  });

  it('bids lie between the impression floor and the caps, one per impression, each creative once', async () => {
    const creative = fc.record({
      bid: fc.double({ min: 0.01, max: 5, noNaN: true }),
      bidType: fc.constantFrom('CPC' as const, 'CPM' as const),
      format: fc.constantFrom('display' as const, 'video' as const),
      maxBidCpm: fc.option(fc.double({ min: 1, max: 40, noNaN: true }), { nil: undefined }),
      pCtr: fc.double({ min: 0, max: 0.2, noNaN: true }),
    });
    const imp = fc.record({ floor: fc.double({ min: 0, max: 30, noNaN: true }), video: fc.boolean() });
    const setting = fc.record({
      creatives: fc.array(creative, { minLength: 1, maxLength: 15 }),
      imps: fc.array(imp, { minLength: 1, maxLength: 4 }),
      maxBidCpm: fc.double({ min: 5, max: 60, noNaN: true }),
      shading: fc.double({ min: 0.5, max: 1, noNaN: true }),
      floorRaise: fc.double({ min: 0, max: 0.3, noNaN: true }),
      at: fc.constantFrom(1, 2),
    });
    await fc.assert(
      fc.asyncProperty(setting, async (x) => {
        const catalog: BidderCreative[] = x.creatives.map((c, i) => ({
          adId: `ad-${i}`,
          advertiserId: `adv-${i}`,
          campaignId: `cmp-${i}`,
          format: c.format,
          category: 'IAB1',
          bid: c.bid,
          bidType: c.bidType,
          ...(c.format === 'video' ? { adm: '<VAST version="4.0"></VAST>', mimes: ['video/mp4'], duration: 15 } : { adm: '<div></div>' }),
          ...(c.maxBidCpm === undefined ? {} : { maxBidCpm: c.maxBidCpm }),
        }));
        const pCtr = Float64Array.from(x.creatives, (c) => c.pCtr);
        const bidder = createOpenRtbBidder({
          catalog,
          predict: async (request) => Float64Array.from(request.candidates, (c) => pCtr[Number(c.adId.slice(3))] as number),
          maxBidCpm: x.maxBidCpm,
          firstPriceShading: x.shading,
          floorRaise: x.floorRaise,
          clock: createManualClock(0),
        });
        const imps = x.imps.map((m, i) => (m.video ? { id: `${i}`, video: { mimes: ['video/mp4'] }, bidfloor: m.floor } : { id: `${i}`, banner: {}, bidfloor: m.floor }));
        const outcome = await bidder.handle({ id: 'r', imp: imps, at: x.at, tmax: 100 });
        const bids = outcome.response.seatbid?.[0]?.bid ?? [];
        expect(new Set(bids.map((b) => b.impid)).size).toBe(bids.length);
        expect(new Set(bids.map((b) => b.adid)).size).toBe(bids.length);
        for (const bid of bids) {
          const i = Number(bid.adid?.slice(3));
          const c = x.creatives[i] as (typeof x.creatives)[number];
          const m = x.imps[Number(bid.impid)] as (typeof x.imps)[number];
          expect(c.format).toBe(m.video ? 'video' : 'display');
          const value = (c.bidType === 'CPM' ? c.bid : 1000 * c.pCtr * c.bid) * (x.at === 1 ? x.shading : 1);
          const cap = Math.min(x.maxBidCpm, c.maxBidCpm ?? Infinity, value);
          expect(bid.price).toBeGreaterThanOrEqual(m.floor);
          // Raised to the floor only from within floorRaise of it; otherwise never above value or caps.
          if (bid.price > m.floor) expect(bid.price).toBeLessThanOrEqual(cap + 1e-9);
          else expect(cap).toBeGreaterThanOrEqual(m.floor * (1 - x.floorRaise) - 1e-9);
        }
        expect(outcome.imps.length).toBe(x.imps.length);
      }),
      RUNS,
    );
  });
});
