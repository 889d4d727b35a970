import { describe, expect, it } from 'vitest';
import { createManualClock } from '@ctrkit/core';
import type { AdRequest } from '@ctrkit/core';
import { createOpenRtbBidder, validateBidRequest, type BidderCreative, type OpenRtbBidderOptions } from '../src/index.js';
import { tcString } from '@ctrkit/test-support';

function creative(adId: string, bid: number, extra: Partial<BidderCreative> = {}): BidderCreative {
  return {
    adId,
    advertiserId: `adv-${adId}`,
    campaignId: `cmp-${adId}`,
    format: 'display',
    category: 'IAB20-3',
    bid,
    bidType: 'CPC',
    domain: `${adId}.example`,
    width: 300,
    height: 250,
    adm: `<div id="${adId}"></div>`,
    ...extra,
  };
}

const banner = (id = '1', extra: Record<string, unknown> = {}) => ({ id, banner: { w: 300, h: 250 }, ...extra });

function bidRequest(extra: Record<string, unknown> = {}) {
  return { id: 'req-1', imp: [banner()], tmax: 120, ...extra };
}

/** A predictor that returns a fixed pCTR per ad id and records what it saw. */
function predictor(pCtrById: Record<string, number>, seen: AdRequest[] = []) {
  return async (request: AdRequest) => {
    seen.push(request);
    return Float64Array.from(request.candidates, (c) => pCtrById[c.adId] ?? 0.01);
  };
}

function bidder(options: Partial<OpenRtbBidderOptions> = {}) {
  return createOpenRtbBidder({
    catalog: [creative('a', 1.5), creative('b', 1)],
    predict: predictor({ a: 0.02, b: 0.05 }),
    clock: createManualClock(Date.UTC(2026, 0, 5, 12)),
    ...options,
  });
}

describe('OpenRTB bidder: bids', () => {
  it('bids the highest value creative at pCTR × value per click × 1000', async () => {
    const outcome = await bidder().handle(bidRequest({ imp: [banner('1', { bidfloor: 0.5 })] }));
    expect(outcome.bid).toBe(true);
    // a: 1000 × 0.02 × 1.5 = 30; b: 1000 × 0.05 × 1 = 50 → b bids 50 CPM.
    expect(outcome.response).toEqual({
      id: 'req-1',
      bidid: 'req-1:ctrkit',
      cur: 'USD',
      seatbid: [
        {
          bid: [
            {
              id: '1:b',
              impid: '1',
              price: 50,
              adid: 'b',
              crid: 'b',
              cid: 'cmp-b',
              cat: ['IAB20-3'],
              cattax: 1,
              adomain: ['b.example'],
              adm: '<div id="b"></div>',
              w: 300,
              h: 250,
              mtype: 1,
            },
          ],
        },
      ],
    });
    expect(outcome.imps).toEqual([{ impId: '1', bid: { adId: 'b', price: 50 } }]);
    expect(outcome.rejected).toEqual([{ adId: 'a', reason: 'outranked' }]);
  });

  it('rounds prices down to the quantum: a Float32 pCTR never pushes a bid above its value', async () => {
    // 0.02 as a float32 is 0.0199999995529651…, so a 1.5 CPC is worth 29.99999933 CPM: bid 29.999999.
    const outcome = await bidder({ catalog: [creative('a', 1.5)], predict: async () => new Float32Array([0.02]) }).handle(bidRequest());
    expect(outcome.imps[0]?.bid?.price).toBe(29.999999);
    // With two decimals the same bid is 29.99, and never below a floor of 29.995.
    const coarse = bidder({ catalog: [creative('a', 1.5)], predict: async () => new Float32Array([0.02]), priceDecimals: 2 });
    expect((await coarse.handle(bidRequest())).imps[0]?.bid?.price).toBe(29.99);
    expect((await coarse.handle(bidRequest({ imp: [banner('1', { bidfloor: 29.995 })] }))).imps[0]?.bid?.price).toBe(29.995);
  });

  it('accepts JSON text and answers the same', async () => {
    const outcome = await bidder().handle(JSON.stringify(bidRequest()));
    expect(outcome.response.seatbid?.[0]?.bid[0]?.price).toBe(50);
  });

  it('shades first-price auctions only (at = 1); at absent means second price', async () => {
    const shaded = bidder({ firstPriceShading: 0.8 });
    expect((await shaded.handle(bidRequest({ at: 1 }))).response.seatbid?.[0]?.bid[0]?.price).toBe(40);
    expect((await shaded.handle(bidRequest({ at: 2 }))).response.seatbid?.[0]?.bid[0]?.price).toBe(50);
    expect((await shaded.handle(bidRequest())).response.seatbid?.[0]?.bid[0]?.price).toBe(50);
  });

  it('caps bids at maxBidCpm and at the creative’s own cap', async () => {
    expect((await bidder({ maxBidCpm: 20 }).handle(bidRequest())).response.seatbid?.[0]?.bid[0]?.price).toBe(20);
    const capped = bidder({ catalog: [creative('a', 1.5), creative('b', 1, { maxBidCpm: 10 })] });
    // b is capped at 10, so a (30) wins.
    expect((await capped.handle(bidRequest())).imps).toEqual([{ impId: '1', bid: { adId: 'a', price: 30 } }]);
  });

  it('raises a bid within floorRaise to the floor, and skips bids further below', async () => {
    const floor = (bidfloor: number) => bidRequest({ imp: [banner('1', { bidfloor })] });
    expect((await bidder({ floorRaise: 0.1 }).handle(floor(54))).imps[0]?.bid?.price).toBe(54);
    const far = await bidder({ floorRaise: 0.1 }).handle(floor(60));
    expect(far.bid).toBe(false);
    expect(far.reason).toBe('no bid: 1: every bid is below the floor 60 USD');
    expect(far.rejected).toEqual([
      { adId: 'a', reason: 'below_reserve', detail: 'bid below the floor of every impression it fits' },
      { adId: 'b', reason: 'below_reserve', detail: 'bid below the floor of every impression it fits' },
    ]);
    expect(far.response).toEqual({ id: 'req-1' });
  });

  it('converts floors from bidfloorcur; an unknown currency skips only that impression', async () => {
    const rates: Record<string, number> = { 'EUR:USD': 1.1 };
    const b = bidder({ exchangeRate: (from, to) => rates[`${from}:${to}`] });
    const outcome = await b.handle(
      bidRequest({
        imp: [banner('1', { bidfloor: 50, bidfloorcur: 'EUR' }), banner('2', { bidfloor: 1, bidfloorcur: 'XYZ' }), banner('3', { bidfloor: 10 })],
      }),
    );
    // Imp 1: floor 55 USD, above both bids (50, 30). Imp 2: unknown currency. Imp 3: b bids 50.
    expect(outcome.imps).toEqual([
      { impId: '1', reason: 'every bid is below the floor 55.00000000000001 USD' },
      { impId: '2', reason: 'bidfloorcur XYZ cannot be converted to USD; configure exchangeRate' },
      { impId: '3', bid: { adId: 'b', price: 50 } },
    ]);
  });

  it('answers in a currency the request allows, converting the bid', async () => {
    const b = bidder({ exchangeRate: (from, to) => (from === 'USD' && to === 'EUR' ? 0.9 : undefined) });
    const outcome = await b.handle(bidRequest({ cur: ['EUR'], imp: [banner('1', { bidfloor: 40, bidfloorcur: 'EUR' })] }));
    expect(outcome.response.cur).toBe('EUR');
    expect(outcome.response.seatbid?.[0]?.bid[0]?.price).toBe(45);
    const none = await bidder().handle(bidRequest({ cur: ['JPY'] }));
    expect(none.reason).toMatch(/cannot bid in any currency the request allows \(JPY\) from USD/);
  });

  it('fills several impressions in order, each creative once, matching format and size', async () => {
    const catalog = [creative('a', 1.5), creative('b', 1), creative('v', 20, { bidType: 'CPM', format: 'video', width: 640, height: 360, mimes: ['video/mp4'], duration: 30, adm: '<VAST version="4.0"></VAST>' }), creative('big', 4, { width: 728, height: 90 })];
    const outcome = await bidder({ catalog }).handle(
      bidRequest({
        imp: [banner('1'), banner('2'), { id: '3', video: { mimes: ['video/mp4'], w: 640, h: 360 } }, { id: '4', banner: { format: [{ w: 728, h: 90 }] } }],
      }),
    );
    expect(outcome.imps).toEqual([
      { impId: '1', bid: { adId: 'b', price: 50 } },
      { impId: '2', bid: { adId: 'a', price: 30 } },
      { impId: '3', bid: { adId: 'v', price: 20 } },
      { impId: '4', bid: { adId: 'big', price: 40 } },
    ]);
    expect(outcome.response.seatbid?.[0]?.bid.find((bid) => bid.impid === '3')?.mtype).toBe(2);
    const twice = await bidder({ oneBidPerAd: false }).handle(bidRequest({ imp: [banner('1'), banner('2')] }));
    expect(twice.imps.map((i) => i.bid?.adId)).toEqual(['b', 'b']);
  });

  it('skips audio-only impressions, private auctions and malformed impressions with reasons', async () => {
    const outcome = await bidder().handle(
      bidRequest({
        imp: [{ id: 'a1', audio: { mimes: ['audio/mp3'] } }, banner('p', { pmp: { private_auction: 1, deals: [{ id: 'd' }] } }), banner('neg', { bidfloor: -1 }), banner('ok')],
      }),
    );
    expect(outcome.imps).toEqual([
      { impId: 'a1', reason: 'imp[0] is audio only, which this bidder does not serve' },
      { impId: 'p', reason: 'private auction: this bidder has no deals' },
      { impId: 'neg', reason: 'imp[2].bidfloor must be a finite number ≥ 0, got -1' },
      { impId: 'ok', bid: { adId: 'b', price: 50 } },
    ]);
    expect(outcome.issues.map((i) => i.path)).toEqual(['imp[0]', 'imp[2].bidfloor']);
  });

  it('honors bcat (with IAB prefixes) and badv (also against adomain)', async () => {
    const catalog = [creative('a', 1.5), creative('b', 1, { category: 'IAB7-1' }), creative('c', 1.2, { adomain: ['c.example', 'brand.example'] })];
    const outcome = await bidder({ catalog }).handle(bidRequest({ bcat: ['IAB7'], badv: ['brand.example', 'a.example'] }));
    expect(outcome.bid).toBe(false);
    expect(outcome.rejected).toEqual([
      { adId: 'a', reason: 'blocked_advertiser', detail: 'advertiser a.example is blocked' },
      { adId: 'b', reason: 'blocked_category', detail: 'category IAB7-1 is blocked' },
      { adId: 'c', reason: 'blocked_advertiser', detail: 'advertiser domain brand.example is blocked' },
    ]);
  });

  it('applies targeting and frequency caps from the host', async () => {
    const b = bidder({
      filter: { targeting: { 'cmp-b': { countries: ['FR'] } }, frequencyCaps: [{ counter: 'user_ad.imp_count.24h', max: 2 }], counterNames: ['user_ad.imp_count.24h'] },
      counters: (request) => (counter, row) => (request.candidates[row]?.adId === 'a' ? 5 : 0),
    });
    const outcome = await b.handle(bidRequest({ device: { geo: { country: 'DEU' } } }));
    expect(outcome.rejected.map((r) => [r.adId, r.reason])).toEqual([
      ['a', 'frequency_cap'],
      ['b', 'targeting_geo'],
    ]);
    expect(outcome.reason).toBe('every creative was filtered out (targeting, caps or block lists)');
  });
});

describe('OpenRTB bidder: brand safety (IAB categories, advertisers, apps)', () => {
  const finance = (adId: string, bid: number, extra: Partial<BidderCreative> = {}) => creative(adId, bid, { category: 'finance', cat: ['IAB13-2'], ...extra });

  it('a bcat of IAB13 blocks a creative whose cat is IAB13-2 (its free-text category is for the model)', async () => {
    const b = bidder({ catalog: [finance('loan', 2), creative('trip', 1)] });
    const outcome = await b.handle(bidRequest({ bcat: ['IAB13'] }));
    expect(outcome.rejected).toContainEqual({ adId: 'loan', reason: 'blocked_category', detail: 'category IAB13-2 is blocked' });
    expect(outcome.imps).toEqual([{ impId: '1', bid: { adId: 'trip', price: 10 } }]);
    // Without the bcat the finance creative wins, and its bid names its IAB codes and domain.
    const open = await b.handle(bidRequest());
    expect(open.response.seatbid?.[0]?.bid[0]).toMatchObject({ adid: 'loan', cat: ['IAB13-2'], cattax: 1, adomain: ['loan.example'] });
  });

  it('a bcat entry blocks only its own subtree: IAB1 does not block IAB13-2, IAB13-2 does not block IAB13', async () => {
    const b = bidder({ catalog: [finance('loan', 2), creative('parent', 1, { cat: ['IAB13'] })] });
    const outcome = await b.handle(bidRequest({ bcat: ['IAB1', 'IAB13-2'] }));
    expect(outcome.rejected.filter((r) => r.reason === 'blocked_category').map((r) => r.adId)).toEqual(['loan']);
    expect(outcome.imps[0]?.bid?.adId).toBe('parent');
  });

  it('badv blocks by advertiser domain and its subdomains', async () => {
    const b = bidder({ catalog: [finance('loan', 2, { domain: 'ads.bank.example', adomain: ['ads.bank.example'] }), creative('trip', 1)] });
    const outcome = await b.handle(bidRequest({ badv: ['bank.example'] }));
    expect(outcome.rejected).toContainEqual({ adId: 'loan', reason: 'blocked_advertiser', detail: 'advertiser ads.bank.example is blocked' });
    expect(outcome.imps[0]?.bid?.adId).toBe('trip');
  });

  it('nothing bids on a request whose bcat covers every creative', async () => {
    const b = bidder({ catalog: [finance('loan', 2), finance('card', 1.5, { cat: ['IAB13-7', 'IAB3'] }), creative('trip', 1)] });
    const outcome = await b.handle(bidRequest({ bcat: ['IAB13', 'IAB20'] }));
    expect(outcome.bid).toBe(false);
    expect(outcome.response).toEqual({ id: 'req-1' });
    expect(outcome.rejected.map((r) => [r.adId, r.reason])).toEqual([
      ['loan', 'blocked_category'],
      ['card', 'blocked_category'],
      ['trip', 'blocked_category'],
    ]);
  });

  it('acat must cover every code of a creative; bapp blocks the advertised app; battr the attributes', async () => {
    const b = bidder({
      catalog: [finance('loan', 2, { cat: ['IAB13-2', 'IAB3'] }), creative('app', 1.8, { bundle: 'com.game.example' }), creative('pop', 1.6, { attr: [8] }), creative('trip', 1)],
    });
    const acat = await b.handle(bidRequest({ acat: ['IAB13', 'IAB20'] }));
    expect(acat.rejected).toContainEqual({ adId: 'loan', reason: 'blocked_category', detail: 'category IAB3 is not in the request\'s acat' });
    const bapp = await b.handle(bidRequest({ bapp: ['com.game.example'] }));
    expect(bapp.rejected).toContainEqual({ adId: 'app', reason: 'blocked_advertiser', detail: 'app com.game.example is blocked (bapp)' });
    const battr = await b.handle(bidRequest({ imp: [banner('1', { banner: { w: 300, h: 250, battr: [8] } })] }));
    expect(battr.imps[0]?.bid?.adId).toBe('loan');
    const pop = await b.handle(bidRequest({ imp: [banner('1', { banner: { w: 300, h: 250, battr: [8] } })], bcat: ['IAB13'] }));
    expect(pop.imps[0]?.bid?.adId).toBe('app');
    const open = await b.handle(bidRequest({ bcat: ['IAB13'] }));
    expect(open.response.seatbid?.[0]?.bid[0]).toMatchObject({ adid: 'app', bundle: 'com.game.example' });
  });

  it('a bcat in another taxonomy than the creative\'s blocks it: it cannot be checked', async () => {
    const b = bidder({ catalog: [creative('v3', 2, { category: 'travel', cat: ['653'], cattax: 7 }), creative('trip', 1)] });
    const other = await b.handle(bidRequest({ bcat: ['IAB25'] }));
    expect(other.rejected).toContainEqual({ adId: 'v3', reason: 'blocked_category', detail: "the request's bcat is in category taxonomy 1 and this creative's cat in 7: it cannot be checked" });
    const same = await b.handle(bidRequest({ bcat: ['653'], cattax: 7 }));
    // trip (taxonomy 1) cannot be checked against a taxonomy-7 bcat; v3's code is in it.
    expect(same.rejected.map((r) => [r.adId, r.reason])).toEqual([['trip', 'blocked_category'], ['v3', 'blocked_category']]);
    const none = await b.handle(bidRequest());
    expect(none.response.seatbid?.[0]?.bid[0]).toMatchObject({ adid: 'v3', cat: ['653'], cattax: 7 });
  });

  it('refuses at creation a creative whose category is free text and has no IAB cat', () => {
    const build = (c: BidderCreative) => () => createOpenRtbBidder({ catalog: [c], predict: predictor({}) });
    expect(build(creative('x', 1, { category: 'insurance' }))).toThrow(/catalog\[0\]: category "insurance" is not an IAB Content Taxonomy 1.0 code.*cat: \[its IAB codes\]/);
    expect(build(creative('x', 1, { category: 'insurance', cat: ['IAB13-13'] }))).toThrow(/cat entry "IAB13-13" is not an IAB Content Taxonomy 1.0 code/);
    expect(build(creative('x', 1, { cat: [] }))).toThrow(/cat must be 1 to 32 category codes/);
    expect(build(creative('x', 1, { cattax: 0 }))).toThrow(/cattax must be an OpenRTB category taxonomy/);
    try {
      build(creative('x', 1, { category: 'insurance' }))();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('E_CONFIG');
    }
    expect(build(creative('x', 1, { category: 'insurance', cat: ['IAB13-6'] }))).not.toThrow();
  });

  it('a catalog function\'s free-text creative is left out of that request with the reason', async () => {
    const b = bidder({ catalog: () => [creative('free', 3, { category: 'insurance' }), creative('trip', 1)] });
    const outcome = await b.handle(bidRequest());
    expect(outcome.rejected[0]).toMatchObject({ adId: 'free', reason: 'invalid_bid' });
    expect(outcome.imps[0]?.bid?.adId).toBe('trip');
  });
});

describe('OpenRTB bidder: video and native', () => {
  const VAST = '<VAST version="4.0"><Ad id="v"><InLine><Creatives/></InLine></Ad></VAST>';
  const video = (adId: string, bid: number, extra: Partial<BidderCreative> = {}) =>
    creative(adId, bid, { format: 'video', adm: VAST, mimes: ['video/mp4'], duration: 15, protocol: 7, width: 640, height: 360, ...extra });
  const native = (adId: string, bid: number, extra: Partial<BidderCreative> = {}): BidderCreative => {
    const { adm: _adm, width: _w, height: _h, ...rest } = creative(adId, bid);
    return {
      ...rest,
      format: 'native',
      native: { title: `Title ${adId}`, sponsored: 'brand.example', description: 'A fine thing', cta: 'Book', clickUrl: `https://brand.example/${adId}`, image: { url: `https://cdn.example/${adId}.jpg`, w: 1200, h: 627 }, icon: { url: `https://cdn.example/${adId}-icon.png`, w: 80, h: 80 }, impressionTrackers: ['https://t.example/i'] },
      ...extra,
    };
  };
  const videoImp = (extra: Record<string, unknown> = {}) => ({ id: '1', video: { mimes: ['video/mp4', 'video/webm'], minduration: 5, maxduration: 30, protocols: [2, 3, 7], w: 640, h: 360, ...extra } });
  const nativeRequest = (assets: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ ver: '1.2', assets, eventtrackers: [{ event: 1, methods: [1] }], ...extra });
  const ASSETS = [
    { id: 1, required: 1, title: { len: 40 } },
    { id: 2, required: 1, img: { type: 3, wmin: 600, hmin: 300 } },
    { id: 3, required: 0, data: { type: 2, len: 90 } },
    { id: 4, required: 0, data: { type: 1 } },
    { id: 5, required: 0, img: { type: 1, w: 50, h: 50 } },
  ];
  const catalog = () => [creative('banner', 3), video('clip', 2.5), native('card', 2)];

  it('a video-only impression gets a video creative with its VAST as adm, protocol, dur and mtype 2', async () => {
    const outcome = await bidder({ catalog: catalog() }).handle(bidRequest({ imp: [videoImp()] }));
    expect(outcome.bid).toBe(true);
    expect(outcome.response.seatbid?.[0]?.bid[0]).toMatchObject({ impid: '1', adid: 'clip', adm: VAST, mtype: 2, protocol: 7, dur: 15 });
  });

  it('checks the video object: mimes, duration range, rqddurs, protocols', async () => {
    const b = bidder({ catalog: [video('clip', 2.5)] });
    const reason = async (imp: Record<string, unknown>) => (await b.handle(bidRequest({ imp: [videoImp(imp)] }))).imps[0]?.reason;
    expect(await reason({ mimes: ['video/webm'] })).toMatch(/no creative of an accepted format, size and media/);
    expect(await reason({ maxduration: 10 })).toMatch(/no creative/);
    expect(await reason({ minduration: 20 })).toMatch(/no creative/);
    expect(await reason({ rqddurs: [6, 30] })).toMatch(/no creative/);
    expect(await reason({ protocols: [2, 3] })).toMatch(/no creative/);
    expect(await reason({ rqddurs: [15], protocols: [] })).toBeUndefined();
  });

  it('a native-only impression gets the native response built for its request: its asset ids, no asset it did not ask for, mtype 4', async () => {
    const outcome = await bidder({ catalog: catalog() }).handle(bidRequest({ imp: [{ id: '1', native: { request: nativeRequest(ASSETS), ver: '1.2' } }] }));
    const bid = outcome.response.seatbid?.[0]?.bid[0];
    expect(bid).toMatchObject({ adid: 'card', mtype: 4 });
    expect(JSON.parse(bid?.adm ?? '')).toEqual({
      ver: '1.2',
      assets: [
        { id: 1, title: { text: 'Title card' } },
        { id: 2, img: { url: 'https://cdn.example/card.jpg', w: 1200, h: 627 } },
        { id: 3, data: { value: 'A fine thing' } },
        { id: 4, data: { value: 'brand.example' } },
      ],
      link: { url: 'https://brand.example/card' },
      eventtrackers: [{ event: 1, method: 1, url: 'https://t.example/i' }],
    });
  });

  it('a Native 1.0 request (wrapped in "native") gets a wrapped response; a required asset it cannot fill leaves the creative out', async () => {
    const b = bidder({ catalog: catalog() });
    const wrapped = await b.handle(bidRequest({ imp: [{ id: '1', native: { request: JSON.stringify({ native: { assets: [{ id: 7, required: 1, title: { len: 20 } }] } }) } }] }));
    expect(JSON.parse(wrapped.response.seatbid?.[0]?.bid[0]?.adm ?? '')).toEqual({ native: { ver: '1.2', assets: [{ id: 7, title: { text: 'Title card' } }], link: { url: 'https://brand.example/card' }, imptrackers: ['https://t.example/i'] } });
    const short = await b.handle(bidRequest({ imp: [{ id: '1', native: { request: nativeRequest([{ id: 1, required: 1, title: { len: 5 } }]) } }] }));
    expect(short.bid).toBe(false);
    const video = await b.handle(bidRequest({ imp: [{ id: '1', native: { request: nativeRequest([{ id: 1, required: 1, video: { mimes: ['video/mp4'] } }]) } }] }));
    expect(video.bid).toBe(false);
  });

  it('a banner impression never gets a video or native creative, even when they bid more', async () => {
    const b = bidder({ catalog: [creative('banner', 1), video('clip', 9), native('card', 9)] });
    const outcome = await b.handle(bidRequest({ imp: [banner('1'), banner('2')] }));
    expect(outcome.imps).toEqual([{ impId: '1', bid: { adId: 'banner', price: 10 } }, { impId: '2', reason: 'no creative of an accepted format, size and media (video mimes, duration, protocols; native assets)' }]);
    expect(outcome.rejected).toContainEqual({ adId: 'clip', reason: 'format_mismatch', detail: 'no impression takes video' });
  });

  it('an impression offering banner and video takes either; an unreadable native request leaves its other formats', async () => {
    const b = bidder({ catalog: [creative('banner', 1), video('clip', 2)] });
    const both = await b.handle(bidRequest({ imp: [{ ...videoImp(), banner: { w: 300, h: 250 }, native: { request: '{not json' } }] }));
    expect(both.imps[0]?.bid?.adId).toBe('clip');
    const only = await b.handle(bidRequest({ imp: [{ id: '1', native: { request: '{not json' } }] }));
    expect(only.imps[0]?.reason).toMatch(/^imp\[0\]\.native\.request is not JSON/);
  });

  it('refuses video creatives without mimes or duration or with non-VAST markup, and native content on another format', () => {
    const build = (c: BidderCreative) => () => createOpenRtbBidder({ catalog: [c], predict: predictor({}) });
    expect(build(video('v', 1, { mimes: [] }))).toThrow(/a video creative needs mimes/);
    expect(build(video('v', 1, { duration: 0 }))).toThrow(/needs duration/);
    expect(build(video('v', 1, { adm: '<div>not vast</div>' }))).toThrow(/must be VAST XML/);
    expect(build(native('n', 1, { format: 'display' }))).toThrow(/native content is only for format native/);
    expect(build(native('n', 1, { native: { title: '', clickUrl: 'https://x.example' } }))).toThrow(/native.title/);
  });
});

describe('OpenRTB bidder: pacing', () => {
  it('multiplies bids and drops campaigns that are not admitted', async () => {
    const b = bidder({ pacing: async (campaignId) => (campaignId === 'cmp-b' ? { multiplier: 1, admit: false } : { multiplier: 0.5, admit: true }) });
    const outcome = await b.handle(bidRequest());
    expect(outcome.imps).toEqual([{ impId: '1', bid: { adId: 'a', price: 15 } }]);
    expect(outcome.rejected).toEqual([{ adId: 'b', reason: 'pacing_throttled' }]);
  });

  it('a failing or malformed pacing answer rejects that campaign, not the request', async () => {
    const b = bidder({
      pacing: (campaignId) => {
        if (campaignId === 'cmp-b') throw new Error('ledger down');
        return { multiplier: Number.NaN, admit: true };
      },
    });
    const outcome = await b.handle(bidRequest());
    expect(outcome.bid).toBe(false);
    expect(outcome.rejected).toEqual([
      { adId: 'a', reason: 'pacing_throttled', detail: 'pacing returned {"multiplier":null,"admit":true}; expected { multiplier ≥ 0, admit: boolean }' },
      { adId: 'b', reason: 'pacing_throttled', detail: 'pacing failed: ledger down' },
    ]);
  });
});

describe('OpenRTB bidder: time', () => {
  it('no-bids with nbr 15 when the predictor finishes after the deadline by the clock', async () => {
    const clock = createManualClock(0);
    const slow = async (request: AdRequest) => {
      clock.advance(115); // tmax 120 − 10 ms network reserve = 110 ms budget
      return new Float32Array(request.candidates.length).fill(0.05);
    };
    const outcome = await bidder({ clock, predict: slow }).handle(bidRequest());
    expect(outcome).toMatchObject({ bid: false, nbr: 15, reason: 'the predictor answered after the deadline', response: { id: 'req-1', nbr: 15 } });
    expect(outcome.elapsedMs).toBe(115);
  });

  it('stops waiting for a predictor that never answers when the timer fires', async () => {
    const delays: number[] = [];
    const outcome = await bidder({
      predict: () => new Promise(() => undefined),
      setTimer: (callback, ms) => {
        delays.push(ms);
        queueMicrotask(callback);
        return () => undefined;
      },
    }).handle(bidRequest({ tmax: 80 }));
    expect(outcome).toMatchObject({ bid: false, nbr: 15, reason: 'the predictor did not answer before the deadline' });
    expect(delays).toEqual([70]);
  });

  it('stops waiting for pacing that never answers', async () => {
    let timers = 0;
    const outcome = await bidder({
      pacing: (campaignId) => (campaignId === 'cmp-a' ? { multiplier: 1, admit: true } : new Promise(() => undefined)),
      // The first timer guards the predictor (never fires); the second guards pacing (fires).
      setTimer: (callback) => {
        if (++timers === 2) queueMicrotask(callback);
        return () => undefined;
      },
    }).handle(bidRequest());
    expect(timers).toBe(2);
    expect(outcome).toMatchObject({ bid: false, nbr: 15, reason: 'pacing did not answer before the deadline' });
  });

  it('does not start when tmax leaves no time, and uses defaultTmaxMs without tmax', async () => {
    let called = 0;
    const counting = async (request: AdRequest) => {
      called++;
      return new Float32Array(request.candidates.length).fill(0.05);
    };
    const tight = await bidder({ predict: counting }).handle(bidRequest({ tmax: 8 }));
    expect(tight).toMatchObject({ nbr: 15, reason: 'tmax 8 ms leaves no time after the 10 ms network reserve' });
    expect(called).toBe(0);
    const delays: number[] = [];
    await bidder({ predict: counting, defaultTmaxMs: 200, setTimer: (_cb, ms) => (delays.push(ms), () => undefined) }).handle({ id: 'r', imp: [banner()] });
    expect(delays).toEqual([190]);
  });
});

describe('OpenRTB bidder: failures never throw', () => {
  it('malformed bodies get nbr 2 with the issues', async () => {
    const b = bidder();
    for (const body of [undefined, null, 42, [], 'not json {', '{"imp": []}']) {
      const outcome = await b.handle(body);
      expect(outcome.bid).toBe(false);
      expect(outcome.nbr).toBe(2);
    }
    const outcome = await b.handle({ id: 'x', imp: [{ id: '1', banner: {} }, { id: '1', banner: {} }], tmax: 'soon', regs: { gdpr: 'yes' } });
    expect(outcome.response).toEqual({ id: 'x', nbr: 2 });
    expect(outcome.issues).toEqual([
      { path: 'tmax', message: 'must be a finite number > 0, got "soon"' },
      { path: 'regs.gdpr', message: 'must be 0 or 1, got "yes"' },
      { path: 'imp[1].id', message: '"1" is used by two impressions; impression ids must be unique' },
    ]);
    expect((await b.handle('not json {')).reason).toMatch(/^the body is not JSON/);
  });

  it('a throwing or misbehaving predictor gets nbr 1', async () => {
    const throwing = await bidder({ predict: async () => Promise.reject(new Error('model gone')) }).handle(bidRequest());
    expect(throwing).toMatchObject({ bid: false, nbr: 1, reason: 'technical error: model gone' });
    const short = await bidder({ predict: async () => new Float32Array(1) }).handle(bidRequest());
    expect(short.reason).toBe('technical error: E_INFERENCE: the predictor returned 1 values for 2 candidates; return one pCTR per candidate');
    const nan = await bidder({ predict: async () => new Float32Array([Number.NaN, 0.05]) }).handle(bidRequest());
    expect(nan.bid).toBe(true);
    expect(nan.rejected).toContainEqual({ adId: 'a', reason: 'invalid_bid', detail: 'the predictor gave pCTR NaN; expected a probability in [0, 1]' });
  });

  it('bad creatives from a catalog function are rejected, the rest bid', async () => {
    const outcome = await bidder({ catalog: async () => [creative('a', 1.5), { ...creative('x', 1), adm: undefined } as never, creative('y', Number.NaN)] }).handle(bidRequest());
    expect(outcome.imps).toEqual([{ impId: '1', bid: { adId: 'a', price: 30 } }]);
    expect(outcome.rejected).toEqual([
      { adId: 'x', reason: 'invalid_bid', detail: 'needs adm (markup), nurl (win notice serving the markup) or, for a native creative, native (its assets)' },
      { adId: 'y', reason: 'invalid_bid', detail: 'bid must be a finite number > 0, got NaN' },
    ]);
  });

  it('refuses bad configuration at creation', () => {
    const predict = predictor({});
    expect(() => createOpenRtbBidder({ catalog: [creative('a', 1, { adm: undefined } as never)], predict })).toThrow(/catalog\[0\]: needs adm/);
    expect(() => createOpenRtbBidder({ catalog: [creative('a', 1), creative('a', 2)], predict })).toThrow(/adId "a" appears twice/);
    expect(() => createOpenRtbBidder({ catalog: [] } as never)).toThrow(/predict is required/);
    expect(() => createOpenRtbBidder({ catalog: [], predict, currency: 'dollars' })).toThrow(/currency must be an ISO-4217 code/);
    expect(() => createOpenRtbBidder({ catalog: [], predict, firstPriceShading: 0 })).toThrow(/firstPriceShading/);
    expect(() => createOpenRtbBidder({ catalog: [], predict, tmax: 10 } as never)).toThrow(/unknown option "tmax"/);
  });
});

describe('OpenRTB bidder: consent and mapping', () => {
  const personal = {
    device: { devicetype: 4, os: 'iOS', language: 'fr', geo: { country: 'FRA', region: 'IDF', city: 'Paris', utcoffset: 60 }, ifa: 'ifa-1', connectiontype: 2 },
    user: { buyeruid: 'buyer-7', yob: 1990, gender: 'F', kwarray: ['travel', 'golf'], data: [{ id: 'dmp', segment: [{ id: 'seg-1' }, { id: 'seg-2' }] }] },
    site: { domain: 'news.example', cat: ['IAB12'], keywords: 'election, results', publisher: { id: 'pub-1' } },
  };

  it('maps the BidRequest into the AdRequest the predictor sees', async () => {
    const seen: AdRequest[] = [];
    await bidder({ predict: predictor({}, seen) }).handle(bidRequest(personal));
    const request = seen[0] as AdRequest;
    expect(request.user).toEqual({
      id: 'buyer-7',
      age: 36,
      gender: 'female',
      country: 'FR',
      region: 'IDF',
      city: 'Paris',
      device: 'mobile',
      os: 'iOS',
      language: 'fr',
      interests: ['travel', 'golf'],
      segments: ['seg-1', 'seg-2'],
    });
    expect(request.context).toMatchObject({
      publisherId: 'pub-1',
      domain: 'news.example',
      pageCategory: 'IAB12',
      keywords: ['election', 'results'],
      connection: 'wifi',
      timezoneOffsetMinutes: 60,
      slots: [{ id: '1', format: 'display', position: 0, width: 300, height: 250, floorCpm: 0 }],
    });
    expect(request.consent).toEqual({ gdprApplies: false, personalizedAds: true, coppa: false });
    expect(request.candidates.map((c) => c.adId)).toEqual(['a', 'b']);
  });

  it('without GDPR consent strips the user and calls the contextual model', async () => {
    const seen: AdRequest[] = [];
    const contextual: AdRequest[] = [];
    const b = bidder({ predict: predictor({}, seen), predictContextual: predictor({ a: 0.03, b: 0.01 }, contextual), consent: { vendorId: 755 } });
    const outcome = await b.handle(bidRequest({ ...personal, regs: { gdpr: 1 }, user: { ...personal.user, consent: tcString({ purposes: [1] }) } }));
    expect(seen).toEqual([]);
    expect(contextual[0]?.user).toEqual({ id: 'anon:req-1', country: 'FR', region: 'IDF', city: 'Paris', device: 'mobile', os: 'iOS', language: 'fr' });
    expect(outcome.consent?.findings.map((f) => f.code)).toEqual(['tcf-purpose']);
    expect(outcome.imps[0]?.bid?.adId).toBe('a');
  });

  it('with consent uses the personalized model', async () => {
    const seen: AdRequest[] = [];
    const b = bidder({ predict: predictor({}, seen), predictContextual: () => Promise.reject(new Error('not this one')), consent: { vendorId: 755 } });
    const outcome = await b.handle(bidRequest({ ...personal, regs: { gdpr: 1 }, user: { ...personal.user, consent: tcString() } }));
    expect(outcome.bid).toBe(true);
    expect(seen[0]?.user.id).toBe('buyer-7');
  });

  it('under COPPA drops region and city too, and targeting on personal data rejects with consent', async () => {
    const contextual: AdRequest[] = [];
    const b = bidder({ predictContextual: predictor({}, contextual), filter: { targeting: { 'cmp-a': { interests: ['travel'] } } } });
    const outcome = await b.handle(bidRequest({ ...personal, regs: { coppa: 1 } }));
    expect(contextual[0]?.user).toEqual({ id: 'anon:req-1', country: 'FR', device: 'mobile', os: 'iOS', language: 'fr' });
    expect(outcome.rejected).toContainEqual(expect.objectContaining({ adId: 'a', reason: 'consent' }));
  });

  it('respects wseat and bseat', async () => {
    const b = bidder({ seat: 'seat-9' });
    expect((await b.handle(bidRequest({ bseat: ['seat-9'] }))).reason).toBe('seat seat-9 is not allowed to bid on this request (wseat / bseat)');
    expect((await b.handle(bidRequest({ wseat: ['other'] }))).bid).toBe(false);
    const ok = await b.handle(bidRequest({ wseat: ['seat-9'] }));
    expect(ok.response.seatbid?.[0]?.seat).toBe('seat-9');
  });
});

describe('validateBidRequest', () => {
  it('accepts a minimal request and ignores unknown fields', () => {
    const result = validateBidRequest({ id: 'r', imp: [{ id: '1', native: { request: '{}' }, futureField: 1 }], ext: { anything: true }, somethingNew: [1] });
    expect(result.ok).toBe(true);
  });

  it('names every problem with its path', () => {
    const result = validateBidRequest({ imp: 'x', device: { geo: { lat: 200 } }, user: { data: [{ segment: [{ id: 3 }] }] }, cur: ['dollars'] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { path: 'imp', message: 'must be an array of impressions, got "x"' },
      { path: 'id', message: 'is required' },
      { path: 'cur[0]', message: 'must be an ISO-4217 currency code such as "USD", got "dollars"' },
      { path: 'device.geo.lat', message: 'must be a finite number ≥ -90 and ≤ 90, got 200' },
      { path: 'user.data[0].segment[0].id', message: 'must be a string, got 3' },
    ]);
  });

  it('keeps impression problems separate from request problems', () => {
    const result = validateBidRequest({ id: 'r', imp: [{ id: '1', video: { w: 640 } }, { id: '2', banner: { w: 300, h: 250 }, bidfloorcur: 'euro' }] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.impIssues).toEqual([
      { path: 'imp[0].video.mimes', message: 'is required' },
      { path: 'imp[1].bidfloorcur', message: 'must be an ISO-4217 currency code such as "USD", got "euro"' },
    ]);
  });
});
