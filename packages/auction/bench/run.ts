/**
 * Auction benchmarks: rank and price 1,000 candidates (p50 / p99 per auction), beside the obvious
 * implementation measured in the same run (map to objects, comparator sort, slice); and an
 * OpenRTB request → response round trip with a stub predictor.
 *
 * Run: npm run bench -w @ctrkit/auction
 */
import { formatBenchTable, measure, measureAsync } from '@ctrkit/core/bench';
import { createRandom } from '@ctrkit/core';
import type { AdCandidate, AdRequest, BidType } from '@ctrkit/core';
import { createAuction, createCandidateFilter, createOpenRtbBidder, type BidderCreative } from '@ctrkit/auction';

const N = 1_000;
const random = createRandom('auction-bench');
const types: BidType[] = ['CPC', 'CPC', 'CPC', 'CPM', 'CPA'];
const candidates: AdCandidate[] = Array.from({ length: N }, (_, i) => {
  const bidType = types[i % types.length] as BidType;
  return {
    adId: `ad-${i}`,
    advertiserId: `adv-${i % 97}`,
    campaignId: `cmp-${i % 211}`,
    format: 'search',
    category: `IAB${1 + (i % 26)}`,
    bid: bidType === 'CPM' ? random.uniform(0.5, 8) : bidType === 'CPC' ? random.uniform(0.05, 2) : random.uniform(5, 60),
    bidType,
    pCvr: random.uniform(0.01, 0.1),
    quality: random.uniform(0.7, 1.3),
  };
});
const pCtr = Float32Array.from({ length: N }, () => Math.min(0.5, random.exponential(1 / 0.02)));
const slots = [0, 1, 2].map((position) => ({ id: `s${position}`, format: 'search' as const, position, floorCpm: 0.2 }));
const request = (slotCount: number): AdRequest => ({
  requestId: 'bench',
  user: { id: 'u-1', country: 'FR', device: 'mobile', interests: ['travel'] },
  context: { timestamp: Date.UTC(2026, 0, 5, 12), slots: slots.slice(0, slotCount) },
  candidates,
});
const one = request(1);
const three = request(3);

/** The obvious implementation: score objects, sort them with a comparator, price the top k by GSP. */
function naiveGsp(req: AdRequest, p: Float32Array, k: number) {
  const scored = req.candidates.map((c, i) => {
    const pc = p[i] as number;
    const units = c.bidType === 'CPM' ? 1 : c.bidType === 'CPC' ? 1000 * pc : 1000 * pc * (c.pCvr ?? 0);
    const weight = (c.quality ?? 1) * units;
    return { c, units, weight, score: weight * c.bid };
  });
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, k).map((s, j) => {
    const next = scored[j + 1]?.score ?? 0;
    const reserve = 0.2 / s.units;
    return { adId: s.c.adId, price: Math.min(s.c.bid, Math.max(reserve, next / s.weight)) };
  });
}

// Same winners and prices as the baseline (γ = 1, α = 1, same reserve) before timing anything.
const check = createAuction({ positionEffects: [1] }).run(three, pCtr);
const expected = naiveGsp(three, pCtr, 3);
check.winners.forEach((w, j) => {
  const e = expected[j];
  if (e === undefined || e.adId !== w.adId || Math.abs(e.price - w.price) > 1e-6) throw new Error(`winner ${j} differs: ${w.adId} ${w.price} vs ${e?.adId} ${e?.price}`);
});

const gsp = createAuction({ pricing: 'gsp', positionEffects: [1, 0.7, 0.5], seed: 1 });
const vcg = createAuction({ pricing: 'vcg', positionEffects: [1, 0.7, 0.5], seed: 1 });
const filter = createCandidateFilter({
  targeting: Object.fromEntries(Array.from({ length: 211 }, (_, c) => [`cmp-${c}`, c % 3 === 0 ? { countries: ['FR', 'BE'], devices: ['mobile' as const] } : { interests: ['travel', 'golf'] }])),
  frequencyCaps: [{ counter: 'user_ad.imp_count.24h', max: 3 }],
  counterNames: ['user_ad.imp_count.24h'],
  blockedCategories: ['IAB25', 'IAB26'],
});
const filtered = createAuction({ pricing: 'gsp', positionEffects: [1, 0.7, 0.5], filter, seed: 1 });
const impressions = Float32Array.from({ length: N }, (_, i) => i % 17);
const counters = { names: ['user_ad.impressions.1d'], rows: N, values: impressions, degraded: false };

const options = { warmupMs: 300, minTimeMs: 3_000, rowsPerCall: N };
const auctions = [
  measure('naive sort, GSP 3 slots (baseline)', () => naiveGsp(three, pCtr, 3), options),
  measure('gsp, 1 slot', () => gsp.run(one, pCtr), options),
  measure('gsp, 3 slots', () => gsp.run(three, pCtr), options),
  measure('vcg, 3 slots', () => vcg.run(three, pCtr), options),
  measure('gsp, 3 slots + targeting, caps, bcat filter', () => filtered.run(three, pCtr, { counters }), options),
];
console.log(formatBenchTable(`@ctrkit/auction — rank and price ${N.toLocaleString('en')} candidates (rows/s = candidates/s)`, auctions, 'naive sort, GSP 3 slots (baseline)'));

// OpenRTB round trip: JSON text in, BidResponse out, 200 creatives, a stub predictor, consent.
const catalog: BidderCreative[] = Array.from({ length: 200 }, (_, i) => ({
  adId: `cr-${i}`,
  advertiserId: `adv-${i % 40}`,
  campaignId: `cmp-${i % 60}`,
  format: i % 4 === 3 ? 'video' : 'display',
  category: `IAB${1 + (i % 26)}`,
  bid: random.uniform(0.1, 2),
  bidType: 'CPC',
  domain: `adv-${i % 40}.example`,
  width: i % 2 === 0 ? 300 : 728,
  height: i % 2 === 0 ? 250 : 90,
  ...(i % 4 === 3
    ? { adm: `<VAST version="4.0"><Ad id="cr-${i}"><InLine><AdSystem>bench</AdSystem><AdTitle>cr-${i}</AdTitle><Creatives/></InLine></Ad></VAST>`, mimes: ['video/mp4'], duration: 15, protocol: 7 }
    : { adm: `<a href="https://adv-${i % 40}.example/"><img src="https://cdn.example/cr-${i}.png"></a>` }),
}));
const stubPCtr = Float64Array.from({ length: 200 }, () => random.uniform(0.001, 0.02));
const bidder = createOpenRtbBidder({
  catalog,
  predict: async (req) => stubPCtr.subarray(0, req.candidates.length),
  pacing: (campaignId) => ({ multiplier: campaignId.endsWith('7') ? 0.5 : 1, admit: !campaignId.endsWith('9') }),
  consent: { vendorId: 755 },
  filter: { frequencyCaps: [{ counter: 'user_ad.imp_count.24h', max: 5 }], counterNames: ['user_ad.imp_count.24h'] },
  seat: 'ctrkit',
});
const body = JSON.stringify({
  id: 'bench-req',
  at: 1,
  tmax: 120,
  cur: ['USD'],
  imp: [
    { id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5, bidfloorcur: 'USD' },
    { id: '2', banner: { format: [{ w: 728, h: 90 }] }, bidfloor: 0.3 },
    { id: '3', video: { mimes: ['video/mp4'], w: 640, h: 360 }, bidfloor: 2 },
  ],
  site: { domain: 'news.example', cat: ['IAB12'], publisher: { id: 'pub-1' } },
  device: { devicetype: 4, os: 'iOS', geo: { country: 'USA', region: 'CA' }, ifa: 'ifa-1' },
  user: { buyeruid: 'buyer-1', kwarray: ['travel'] },
  regs: { gdpr: 0, us_privacy: '1YNN' },
  bcat: ['IAB25'],
  badv: ['adv-3.example'],
});
const first = await bidder.handle(body);
if (!first.bid) throw new Error(`the round-trip request should bid: ${first.reason}`);
const roundTrip = [
  await measureAsync('OpenRTB JSON → BidResponse, 3 imps, 200 creatives', () => bidder.handle(body), { warmupMs: 300, minTimeMs: 3_000 }),
  await measureAsync('JSON.parse + stringify of the request (reference)', async () => JSON.stringify(JSON.parse(body)), { warmupMs: 300, minTimeMs: 1_000 }),
];
console.log();
console.log(formatBenchTable('@ctrkit/auction — OpenRTB bidder round trip (stub predictor)', roundTrip));
console.log(`\nbids: ${first.imps.map((i) => `${i.impId} → ${i.bid ? `${i.bid.adId} @ ${i.bid.price}` : i.reason}`).join('; ')}`);
