/**
 * Formats and brand safety on the wire (issue 14, findings 11 and 7): the catalog serves
 * banner, video (a VAST 4.0 `adm`) and native (an OpenRTB Native 1.2 response) creatives, each
 * impression gets a creative of a format its media objects offer, and the request's `bcat` /
 * `badv` are checked against the creatives' IAB categories and domains.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NATIVE_REQUEST, VAST_4_0 } from '../src/world.js';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { postJson, send, type Answer } from './fixtures/http.js';
import { metric } from './fixtures/prometheus-text.js';
import { startInProcess, stopAll, type InProcess } from './fixtures/servers.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

let main: InProcess;
beforeAll(async () => {
  await ensureTestModels();
  main = await startInProcess();
});
afterAll(stopAll);

interface WireBid {
  impid: string;
  adid: string;
  adm: string;
  mtype: number;
  cat: string[];
  cattax: number;
  adomain: string[];
  protocol?: number;
  dur?: number;
}
const bidsIn = (answer: Answer): WireBid[] => ((answer.json as { seatbid?: { bid: WireBid[] }[] } | undefined)?.seatbid ?? []).flatMap((s) => s.bid);
const formatOf = (adId: string) => testWorld().creativeById.get(adId)?.format;
const scored = async () => metric((await send(`${main.url}/metrics`)).text, 'ctrkit_candidates_scored_total');

describe('formats', () => {
  it('the catalog holds 100 display, 100 video and 100 native creatives, each with IAB categories', () => {
    const catalog = testWorld().catalog;
    expect(['display', 'video', 'native'].map((f) => catalog.filter((c) => c.format === f).length)).toEqual([100, 100, 100]);
    for (const creative of catalog) expect(creative.cat?.[0]).toMatch(/^IAB\d+(-\d+)?$/);
  });

  it('a video-only impression gets a video bid whose adm is VAST 4.0, scoring only the 100 video creatives', async () => {
    const [request] = makeBidRequests(1, { media: 'video' });
    const before = await scored();
    const answer = await postJson(`${main.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(200);
    const [bid] = bidsIn(answer);
    expect(bid).toBeDefined();
    expect(formatOf(bid?.adid ?? '')).toBe('video');
    expect(bid?.mtype).toBe(2);
    expect(bid?.adm).toMatch(/^<VAST version="4\.0"><Ad id="[^"]+"><InLine>.*<MediaFile delivery="progressive" type="video\/mp4"/);
    expect(bid?.protocol).toBe(VAST_4_0);
    expect([15, 30]).toContain(bid?.dur);
    expect((await scored()) - before).toBe(100);
  });

  it('a video impression the creatives cannot play (only webm, or a 6 s slot) gets no bid', async () => {
    const [request] = makeBidRequests(1, { media: 'video' });
    const webm = { ...request, imp: request?.imp.map((imp) => ('video' in imp ? { ...imp, video: { ...imp.video, mimes: ['video/webm'] } } : imp)) };
    expect((await postJson(`${main.url}/openrtb2/bid`, webm)).status).toBe(204);
    const short = { ...request, id: `${request?.id}-short`, imp: request?.imp.map((imp) => ('video' in imp ? { ...imp, video: { ...imp.video, maxduration: 6 } } : imp)) };
    expect((await postJson(`${main.url}/openrtb2/bid`, short)).status).toBe(204);
  });

  it('a native-only impression gets a native bid whose adm is the Native 1.2 response to its request', async () => {
    const [request] = makeBidRequests(1, { media: 'native' });
    const answer = await postJson(`${main.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(200);
    const [bid] = bidsIn(answer);
    expect(formatOf(bid?.adid ?? '')).toBe('native');
    expect(bid?.mtype).toBe(4);
    const adm = JSON.parse(bid?.adm ?? '') as { ver: string; assets: { id: number; title?: { text: string }; img?: { w: number; h: number }; data?: { value: string } }[]; link: { url: string } };
    expect(adm.ver).toBe('1.2');
    const asked = new Set<number>(NATIVE_REQUEST.assets.map((a) => a.id));
    for (const asset of adm.assets) expect(asked.has(asset.id)).toBe(true);
    const required = NATIVE_REQUEST.assets.filter((a) => a.required === 1).map((a) => a.id);
    expect(adm.assets.map((a) => a.id)).toEqual(expect.arrayContaining(required));
    const title = adm.assets.find((a) => a.id === 1)?.title?.text ?? '';
    expect(title.length).toBeGreaterThan(0);
    expect(title.length).toBeLessThanOrEqual(90);
    expect(adm.assets.find((a) => a.id === 2)?.img?.w).toBeGreaterThanOrEqual(600);
    expect(adm.link.url).toMatch(/^https:\/\/.+\/\?ad=/);
  });

  it('banner impressions never get a video or native creative', async () => {
    const requests = makeBidRequests(15, { imps: 2 });
    const bids: WireBid[] = [];
    for (const request of requests) bids.push(...bidsIn(await postJson(`${main.url}/openrtb2/bid`, request)));
    expect(bids.length).toBeGreaterThan(20);
    for (const bid of bids) {
      expect(formatOf(bid.adid)).toBe('display');
      expect(bid.mtype).toBe(1);
      expect(bid.adm).toMatch(/^<a href=/);
    }
  });
});

describe('brand safety', () => {
  it('every bid names its IAB categories and advertiser domain; badv and bcat move the bid to another creative', async () => {
    const [request] = makeBidRequests(1, { tmax: 200 });
    const first = bidsIn(await postJson(`${main.url}/openrtb2/bid`, request))[0];
    expect(first?.cattax).toBe(1);
    const creative = testWorld().creativeById.get(first?.adid ?? '');
    expect(first?.cat).toEqual(creative?.cat);
    expect(first?.adomain).toEqual([creative?.domain]);
    const byDomain = bidsIn(await postJson(`${main.url}/openrtb2/bid`, { ...request, id: `${request?.id}-badv`, badv: first?.adomain }))[0];
    expect(byDomain?.adomain).not.toEqual(first?.adomain);
    const tier1 = (first?.cat[0] ?? '').split('-')[0] as string;
    const byCategory = bidsIn(await postJson(`${main.url}/openrtb2/bid`, { ...request, id: `${request?.id}-bcat`, bcat: [tier1] }))[0];
    expect(byCategory).toBeDefined();
    expect(byCategory?.cat.some((c) => c === tier1 || c.startsWith(`${tier1}-`))).toBe(false);
  });

  it('nothing bids on a request whose bcat covers every creative', async () => {
    const [request] = makeBidRequests(1);
    const every = [...new Set(testWorld().catalog.flatMap((c) => c.cat ?? []).map((c) => c.split('-')[0] as string))];
    const answer = await postJson(`${main.url}/openrtb2/bid`, { ...request, bcat: every });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('x-ctrkit-reason')).toMatch(/filtered out/);
  });
});
