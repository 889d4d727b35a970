/**
 * The server as an attacker and a sloppy exchange would treat it (issue 14): floods of
 * never-seen ids, forged and replayed notices, late notices, failures after budget was
 * reserved, withheld vendor consent, hostile tmax values, idle sockets; and a property over
 * arbitrary bodies and notice URLs (no 5xx, nothing left held, spend = the genuine prices).
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenRtbBidder } from '@ctrkit/auction';
import type { BidStep } from '../src/server.js';
import { pollUntil, sharedRedisFor, sleep, tcString, uniqueKeyPrefix } from '@ctrkit/test-support';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { metric } from './fixtures/prometheus-text.js';
import { ADMIN_TOKEN, startInProcess, stopAll, type InProcess } from './fixtures/servers.js';
import { deleteSharedKeys, SHARED_REDIS_URL } from './fixtures/shared-redis.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

const redisAvailable = await sharedRedisFor('example-ad-server: settlement across processes and restarts on the shared Redis');
const redisPrefix = uniqueKeyPrefix('ad-server', 'hostile');

let main: InProcess;
beforeAll(async () => {
  await ensureTestModels();
  main = await startInProcess();
});
afterAll(async () => {
  await stopAll();
  if (redisAvailable) await deleteSharedKeys(redisPrefix);
});

const seriesCount = (text: string): number => text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;

/** The campaign's daily line: spent and reserved, currency units. */
async function line(server: InProcess, campaignId: string): Promise<{ spent: number; reserved: number }> {
  const found = (await server.server.ledger.snapshot(campaignId)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
  if (found === undefined) throw new Error(`no daily line for ${campaignId}`);
  return found;
}
const campaignOf = (adId: string): string => testWorld().creativeById.get(adId)?.campaignId as string;
async function totals(server: InProcess): Promise<{ spent: number; reserved: number }> {
  let spent = 0;
  let reserved = 0;
  for (const b of server.server.world.budgets) {
    const l = await line(server, b.id);
    spent += l.spent;
    reserved += l.reserved;
  }
  return { spent, reserved };
}
const notice = (url: string, price: string): string => url.replace('${AUCTION_PRICE}', price).replace('${AUCTION_LOSS}', '102');

describe('finding 1: bounded state from outside', () => {
  it('refuses events whose ids are not in the catalog; a flood adds no metric series and no memory', async () => {
    const creative = testWorld().catalog[0];
    if (creative === undefined) throw new Error('empty catalog');
    const before = seriesCount((await send(`${main.url}/metrics`)).text);
    const flood = async (batches: number) => {
      for (let batch = 0; batch < batches; batch++) {
        const events = Array.from({ length: 1000 }, (_, i) => ({
          type: 'click',
          eventId: `flood-${batch}-${i}`,
          requestId: `flood-${batch}-${i}`,
          timestamp: Date.now(),
          userId: `u-flood-${i}`,
          adId: creative.adId,
          campaignId: `cmp-flood-${batch}-${i}`,
          advertiserId: `adv-flood-${batch}-${i}`,
          category: creative.category,
        }));
        const answer = await postJson(`${main.url}/events`, { events });
        expect(answer.status).toBe(400);
        expect(JSON.stringify(answer.json)).toMatch(/catalog/);
      }
    };
    await flood(3);
    global.gc?.();
    const memoryBefore = process.memoryUsage();
    await flood(10);
    global.gc?.();
    const memoryAfter = process.memoryUsage();
    const text = (await send(`${main.url}/metrics`)).text;
    expect(seriesCount(text) - before).toBeLessThan(50);
    expect(text).not.toContain('cmp-flood');
    expect(metric(text, 'adserver_events_total', { result: 'unknown_id' })).toBe(13_000);
    // The three batches took external memory from 9 to 341 MiB; ten more now move it by far less than 1 MiB a batch.
    const externalMiB = (memoryAfter.external - memoryBefore.external) / 2 ** 20;
    console.log(`flood of 10,000 unknown-id events: external ${(memoryBefore.external / 2 ** 20).toFixed(1)} → ${(memoryAfter.external / 2 ** 20).toFixed(1)} MiB, heap ${(memoryBefore.heapUsed / 2 ** 20).toFixed(1)} → ${(memoryAfter.heapUsed / 2 ** 20).toFixed(1)} MiB, series +${seriesCount(text) - before}`);
    expect(externalMiB).toBeLessThan(20);
    const unknownAd = await postJson(`${main.url}/events`, {
      events: [{ type: 'click', eventId: 'x', requestId: 'x', timestamp: Date.now(), userId: 'u', adId: 'ad-nope', campaignId: creative.campaignId, advertiserId: creative.advertiserId, category: creative.category }],
    });
    expect(unknownAd.status).toBe(400);
  });
});

describe('findings 2 and 3: notices are signed and settle once', () => {
  it('charges a replayed win once, and a reused request id gets no second bid on the same impression', async () => {
    const server = await startInProcess();
    const [request] = makeBidRequests(1);
    const first = bidsOf(await postJson(`${server.url}/openrtb2/bid`, request));
    expect(first).toHaveLength(1);
    const [won] = first as [(typeof first)[0]];
    const campaign = campaignOf(won.adid);
    const clearing = Math.round(won.price * 0.5 * 1e6) / 1e6;
    expect((await send(notice(won.burl, String(clearing)))).headers.get('x-ctrkit-settled')).toBe('committed');
    const again = await postJson(`${server.url}/openrtb2/bid`, request);
    expect(again.status).toBe(204);
    expect(again.headers.get('x-ctrkit-reason')).toMatch(/^duplicate/);
    for (let i = 0; i < 3; i++) expect((await send(notice(won.burl, String(clearing)))).headers.get('x-ctrkit-settled')).toBe('duplicate');
    expect((await line(server, campaign)).spent).toBeCloseTo(Math.round((clearing * 1e6) / 1000) / 1e6, 9);
    expect((await line(server, campaign)).reserved).toBe(0);
    expect(server.server.holds.size()).toBe(0);
    await server.server.shutdown();
  });

  it('refuses forged, tampered, over-priced and unsigned notices with a reason and a counter; the genuine one still settles', async () => {
    const server = await startInProcess();
    const [request] = makeBidRequests(1, { imps: 2 });
    const bids = bidsOf(await postJson(`${server.url}/openrtb2/bid`, request));
    expect(bids).toHaveLength(2);
    const [won, lost] = bids as [(typeof bids)[0], (typeof bids)[0]];
    const id = encodeURIComponent(request?.id ?? '');
    // The forgeries: a guessable price=0 win, a loss, an impression event with cost 0.
    const forgedWin = await send(`${server.url}/openrtb2/win?id=${id}&imp=${won.impid}&price=0`);
    expect(forgedWin.status).toBe(403);
    expect(forgedWin.headers.get('x-ctrkit-reason')).toMatch(/^unsigned/);
    expect((await send(`${server.url}/openrtb2/loss?id=${id}&imp=${lost.impid}&reason=102`)).status).toBe(403);
    const tampered = notice(won.burl, '0').replace(/bid=([0-9]+)/, (_, b: string) => `bid=${Number(b) * 10}`);
    expect((await send(tampered)).headers.get('x-ctrkit-reason')).toMatch(/^bad_signature/);
    const otherSig = notice(won.burl, '0').replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAA');
    expect((await send(otherSig)).status).toBe(403);
    const over = await send(notice(won.burl, String(won.price * 2)));
    expect(over.status).toBe(400);
    expect(over.headers.get('x-ctrkit-reason')).toMatch(/^price_above_bid/);
    const creative = testWorld().creativeById.get(won.adid);
    const forgedEvent = { type: 'impression', eventId: 'forged', requestId: request?.id, timestamp: Date.now(), userId: request?.user.id, adId: won.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, cost: 0 };
    const unsigned = await postJson(`${server.url}/events`, { events: [forgedEvent] });
    expect(unsigned.status).toBe(403);
    expect(unsigned.json).toMatchObject({ error: 'unsigned' });
    // Forged clicks cannot steer a user's counters either: refused, nothing recorded.
    const clicks = Array.from({ length: 100 }, (_, i) => ({ ...forgedEvent, type: 'click', eventId: `forged-click-${i}`, cost: undefined }));
    expect((await postJson(`${server.url}/events`, { events: clicks })).status).toBe(403);
    const counters = await send(`${server.url}/admin/counters?user=${request?.user.id}&ad=${won.adid}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((counters.json as { counters: Record<string, number> }).counters['user_ad.click.1d']).toBe(0);
    expect((await postJson(`${server.url}/events`, { events: [{ ...forgedEvent, token: `1.${Date.now() + 1e6}.AAAAAAAAAAAAAAAAAAAAAA.${won.impid}` }] })).status).toBe(403);
    expect(server.server.holds.size()).toBe(2); // nothing forged moved a hold
    const text = (await send(`${server.url}/metrics`)).text;
    expect(metric(text, 'adserver_notices_total', { kind: 'win', result: 'unsigned' })).toBe(1);
    expect(metric(text, 'adserver_notices_total', { kind: 'win', result: 'bad_signature' })).toBe(2);
    expect(metric(text, 'adserver_notices_total', { kind: 'win', result: 'price_above_bid' })).toBe(1);
    expect(metric(text, 'adserver_notices_total', { kind: 'loss', result: 'unsigned' })).toBe(1);
    // The genuine notices settle.
    expect((await send(notice(won.burl, String(won.price)))).headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await send(notice(lost.lurl, ''))).headers.get('x-ctrkit-settled')).toBe('released');
    expect((await line(server, campaignOf(won.adid))).spent).toBeCloseTo(Math.round((won.price * 1e6) / 1000) / 1e6, 9);
    expect(server.server.holds.size()).toBe(0);
    await server.server.shutdown();
  });

  it('an impression event settles only with its bid token, once, and not again after the win notice', async () => {
    const server = await startInProcess();
    const [request] = makeBidRequests(1);
    const [bid] = bidsOf(await postJson(`${server.url}/openrtb2/bid`, request)) as [ReturnType<typeof bidsOf>[0]];
    const creative = testWorld().creativeById.get(bid.adid);
    const event = { type: 'impression', eventId: 'i1', requestId: request?.id, timestamp: Date.now(), userId: request?.user.id, adId: bid.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, cost: 0.001, token: bid.ext.ctrkit.token };
    expect((await postJson(`${server.url}/events`, { events: [event] })).json).toMatchObject({ settled: 1 });
    expect((await postJson(`${server.url}/events`, { events: [{ ...event, eventId: 'i2' }] })).json).toMatchObject({ settled: 0 });
    expect((await send(notice(bid.burl, String(bid.price)))).headers.get('x-ctrkit-settled')).toBe('duplicate');
    expect((await line(server, campaignOf(bid.adid))).spent).toBeCloseTo(Math.min(0.001, bid.price / 1000), 9);
    await server.server.shutdown();
  });

  it('accepts the previous key during its grace only', async () => {
    const oldKey = 'aa'.repeat(32);
    const signedOld = await startInProcess({ NOTICE_KEY: oldKey });
    const [request] = makeBidRequests(1);
    const [bid] = bidsOf(await postJson(`${signedOld.url}/openrtb2/bid`, request));
    const url = new URL(notice(bid?.burl ?? '', '1'));
    const rotated = await startInProcess({ NOTICE_KEY: 'bb'.repeat(32), NOTICE_KEY_PREVIOUS: oldKey });
    const expired = await startInProcess({ NOTICE_KEY: 'bb'.repeat(32), NOTICE_KEY_PREVIOUS: oldKey, NOTICE_KEY_PREVIOUS_UNTIL: String(Date.now() - 1) });
    // Another process never bid on it: a genuine notice is 'unknown' there (no registry entry), not refused.
    expect((await send(`${rotated.url}${url.pathname}${url.search}`)).headers.get('x-ctrkit-settled')).toBe('unknown');
    expect((await send(`${expired.url}${url.pathname}${url.search}`)).headers.get('x-ctrkit-reason')).toMatch(/^bad_signature/);
    for (const s of [signedOld, rotated, expired]) await s.server.shutdown();
  });
});

describe.skipIf(!redisAvailable)('finding 2 on the shared Redis: once across processes and restarts', () => {
  it('a win replayed to another process, or after a restart, is not charged again; a late one commits once fleet-wide', async () => {
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: redisPrefix, NOTICE_KEY: 'cd'.repeat(32), HOLD_TTL_MS: '300' };
    const a = await startInProcess(env);
    const b = await startInProcess(env);
    const [request] = makeBidRequests(1, { imps: 2 });
    const bids = bidsOf(await postJson(`${a.url}/openrtb2/bid`, request));
    expect(bids).toHaveLength(2);
    const [won, late] = bids as [(typeof bids)[0], (typeof bids)[0]];
    const at = (server: InProcess, url: string) => send(`${server.url}${new URL(url).pathname}${new URL(url).search}`);
    const wonUrl = notice(won.burl, String(won.price));
    expect((await at(a, wonUrl)).headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await at(b, wonUrl)).headers.get('x-ctrkit-settled')).toBe('duplicate');
    // The same request id at the other process gets no second bid on those impressions.
    expect((await postJson(`${b.url}/openrtb2/bid`, request)).status).toBe(204);
    await pollUntil('the other hold to expire', () => a.server.holds.size() === 0, { timeoutMs: 5_000, intervalMs: 50 });
    await a.server.shutdown();
    // A restarted process (same prefix, same key): the late win commits once, the replay does not.
    const restarted = await startInProcess(env);
    const lateUrl = notice(late.burl, String(late.price));
    expect((await at(restarted, lateUrl)).headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await at(b, lateUrl)).headers.get('x-ctrkit-settled')).toBe('duplicate');
    expect((await at(restarted, wonUrl)).headers.get('x-ctrkit-settled')).toBe('duplicate');
    await b.server.shutdown();
    await restarted.server.shutdown();
    const check = await startInProcess(env);
    const charged = async (adId: string) => (await check.server.ledger.snapshot(campaignOf(adId))).lines.find((l) => l.scope === 'campaign' && l.period === 'daily')?.spent ?? Number.NaN;
    expect(await charged(won.adid)).toBeCloseTo(Math.round((won.price * 1e6) / 1000) / 1e6, 9);
    expect(await charged(late.adid)).toBeCloseTo(Math.round((late.price * 1e6) / 1000) / 1e6, 9);
    await check.server.shutdown();
  });
});

describe('finding 4: a late win notice still commits', () => {
  it('commits a win that arrives after its hold was released, and refuses one after the notice window', async () => {
    const server = await startInProcess({ HOLD_TTL_MS: '200', NOTICE_WINDOW_MS: '1500' });
    const [request] = makeBidRequests(1, { imps: 2 });
    const bids = bidsOf(await postJson(`${server.url}/openrtb2/bid`, request));
    expect(bids).toHaveLength(2);
    const [late, tooLate] = bids as [(typeof bids)[0], (typeof bids)[0]];
    await pollUntil('the holds to expire', async () => (await totals(server)).reserved === 0, { timeoutMs: 5_000, intervalMs: 50 });
    expect((await send(notice(late.burl, String(late.price)))).headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await send(notice(late.burl, String(late.price)))).headers.get('x-ctrkit-settled')).toBe('duplicate');
    expect((await line(server, campaignOf(late.adid))).spent).toBeCloseTo(Math.round((late.price * 1e6) / 1000) / 1e6, 9);
    await sleep(1_600);
    const answer = await send(notice(tooLate.burl, String(tooLate.price)));
    expect(answer.status).toBe(410);
    expect(answer.headers.get('x-ctrkit-reason')).toMatch(/^expired/);
    expect((await line(server, campaignOf(tooLate.adid))).spent).toBe(0);
    await server.server.shutdown();
  });
});

describe('finding 5: no budget without a bid', () => {
  it('answers 400 to a lone UTF-16 surrogate in a request or imp id and holds nothing', async () => {
    const [request] = makeBidRequests(1, { imps: 20 });
    const before = main.server.holds.size();
    const body = JSON.stringify({ ...request, id: 'x' }).replace('"id":"x"', '"id":"r\\ud800"');
    const answer = await postJson(`${main.url}/openrtb2/bid`, body);
    expect(answer.status).toBe(400);
    const imp = JSON.stringify(request).replace(/"imp":\[\{"id":"1"/, '"imp":[{"id":"\\udc00"');
    expect((await postJson(`${main.url}/openrtb2/bid`, imp)).status).toBe(400);
    expect(main.server.holds.size()).toBe(before);
  });

  const steps: BidStep[] = ['reserved', 'claimed', 'respond'];
  it.each(steps)('releases every reservation when the request fails at step %s', async (step) => {
    const server = await startInProcess({}, { hooks: { afterReserve: (at) => { if (at === step) throw new Error(`injected at ${at}`); } } });
    const [request] = makeBidRequests(1, { imps: 5 });
    const answer = await postJson(`${server.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('x-ctrkit-reason')).toMatch(/^technical: internal error: injected/);
    expect(server.server.holds.size()).toBe(0);
    expect((await totals(server)).reserved).toBe(0);
    await server.server.shutdown();
  });

  it.each(['rebid', 'rereserved'] as BidStep[])('releases every reservation when the second round fails at step %s', async (step) => {
    // Tiny budgets: the first round meets a refusal and the bidder runs again.
    const server = await startInProcess({ BUDGET_SCALE: '0.00001', PACING: 'none' }, { hooks: { afterReserve: (at) => { if (at === step) throw new Error(`injected at ${at}`); } } });
    let reached = false;
    for (const request of makeBidRequests(40, { imps: 3 })) {
      const answer = await postJson(`${server.url}/openrtb2/bid`, request);
      expect(answer.status).toBeLessThan(500);
      if (/injected/.test(answer.headers.get('x-ctrkit-reason') ?? '')) reached = true;
      for (const bid of bidsOf(answer)) await send(notice(bid.lurl, ''));
      expect((await totals(server)).reserved).toBe(0);
    }
    expect(reached).toBe(true);
    expect(server.server.holds.size()).toBe(0);
    await server.server.shutdown();
  });
});

describe('finding 6: vendor consent', () => {
  it('bids contextually when the TC string grants the purposes but not this vendor, and says why when asked', async () => {
    const server = await startInProcess({ TCF_VENDOR_ID: '755' });
    const [request] = makeBidRequests(1);
    const ask = (tc: string) => postJson(`${server.url}/openrtb2/bid`, { ...request, id: `${request?.id}-${tc.slice(0, 8)}-${Math.random()}`, test: 1, regs: { gdpr: 1 }, user: { ...request?.user, consent: tc } });
    const without = await ask(tcString({ purposes: [1, 3, 4], vendors: [32] }));
    expect(without.status).toBe(200);
    const consent = (without.json as { ext: { ctrkit: { consent: { decision: string; findings: { code: string }[] } } } }).ext.ctrkit.consent;
    expect(consent.decision).toBe('contextual');
    expect(consent.findings.map((f) => f.code)).toContain('tcf-vendor');
    const granted = await ask(tcString({ purposes: [1, 3, 4], vendors: [755] }));
    expect((granted.json as { ext: { ctrkit: { consent: { decision: string } } } }).ext.ctrkit.consent.decision).toBe('personalized');
    const text = (await send(`${server.url}/metrics`)).text;
    expect(metric(text, 'adserver_consent_total', { outcome: 'contextual', finding: 'tcf-vendor' })).toBe(1);
    expect(metric(text, 'adserver_consent_total', { outcome: 'personalized' })).toBe(1);
    await server.server.shutdown();
  });
});

describe('findings 8 and 9: timeouts, connection cap, deadline from arrival, tmax range', () => {
  it('sets the server timeouts and a connection cap, and closes an idle socket', async () => {
    const server = await startInProcess({ CONNECTION_TIMEOUT_MS: '300', MAX_CONNECTIONS: '64' });
    const http = server.server.app.server;
    expect(http.requestTimeout).toBe(10_000);
    expect(http.keepAliveTimeout).toBe(5_000);
    expect(http.maxConnections).toBe(64);
    expect(http.maxRequestsPerSocket).toBe(10_000);
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write('POST /openrtb2/bid HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const started = Date.now();
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(3_000);
    await server.server.shutdown();
  });

  it('bids on a tmax above 2^31 ms (clamped), and refuses one below TMAX_MIN_MS', async () => {
    const [request] = makeBidRequests(1);
    const huge = await postJson(`${main.url}/openrtb2/bid`, { ...request, id: `${request?.id}-huge`, tmax: 2 ** 31 + 5 });
    expect(huge.status).toBe(200);
    const tiny = await postJson(`${main.url}/openrtb2/bid`, { ...request, id: `${request?.id}-tiny`, tmax: 5 });
    expect(tiny.status).toBe(204);
    expect(tiny.headers.get('x-ctrkit-nbr')).toBe('15');
    for (const bid of bidsOf(huge)) await send(notice(bid.lurl, ''));
  });

  it('counts tmax from arrival: time spent before the bidder runs is not given away', async () => {
    let now = 1_000_000;
    const bidder = createOpenRtbBidder({ catalog: testWorld().catalog.slice(0, 3), predict: async (r) => new Float32Array(r.candidates.length).fill(0.05), clock: { now: () => now } });
    const [request] = makeBidRequests(1, { tmax: 100 });
    expect((await bidder.handle(request)).bid).toBe(true);
    const late = await bidder.handle(request, { receivedAt: now - 95 });
    expect(late.bid).toBe(false);
    expect(late.nbr).toBe(15);
    now += 1;
  });
});

describe('property: arbitrary bodies and notice URLs', () => {
  it('never answers 5xx, leaves nothing held, and the ledger spends exactly the genuine clearing prices', async () => {
    const server = await startInProcess();
    let genuineMicros = 0;
    const statuses = new Map<number, number>();
    const notices = new Map<string, number>();
    const json = fc.jsonValue({ maxDepth: 3 });
    const body = fc.oneof(
      json,
      fc.record({ id: fc.string(), imp: fc.array(fc.record({ id: fc.string({ minLength: 1 }) }), { maxLength: 3 }), tmax: fc.oneof(fc.double(), fc.integer()) }, { requiredKeys: [] }),
      // Real requests with hostile ids (lone surrogates included) and tmax values.
      fc
        .tuple(fc.constantFrom(...makeBidRequests(5, { imps: 3 })), fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), fc.constantFrom('\ud800', 'x\udfff', '\udbff\udbff', '\ud83d')), fc.option(fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }), fc.double({ min: 0.001, max: 1e12, noNaN: true }))))
        .map(([r, id, tmax]) => ({ ...r, id: `p-${Math.random()}-${id}`, imp: r.imp.map((imp, i) => (i === 0 ? { ...imp, id } : imp)), ...(tmax === null ? {} : { tmax }) })),
      fc.constantFrom(...makeBidRequests(5)).map((r) => ({ ...r, id: `p-${Math.random()}` })),
    );
    const mutate = fc.oneof(
      fc.constant((u: string) => u),
      fc.constant((u: string) => u.replace(/sig=[^&]+/, 'sig=x')),
      fc.constant((u: string) => u.replace(/bid=[0-9]+/, 'bid=1')),
      fc.constant((u: string) => u.replace(/exp=[0-9]+/, 'exp=99999999999999')),
      // The forgery: price 0, signature dropped.
      fc.constant((u: string) => u.replace(/price=[^&]*/, 'price=0').replace(/&sig=[^&]+/, '')),
      fc.string().map((s) => (u: string) => `${u}&${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
      fc.string().map((s) => (u: string) => u.replace(/id=[^&]+/, `id=${encodeURIComponent(s)}`)),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.tuple(fc.boolean(), mutate, fc.double({ min: 0, max: 2, noNaN: true })), { maxLength: 4 }), async (sent, sequence) => {
        const answer = await postJson(`${server.url}/openrtb2/bid`, sent);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status).toBeLessThan(500);
        const bids = bidsOf(answer);
        for (const [isWin, change, factor] of sequence) {
          const bid = bids[0];
          if (bid === undefined) break;
          const price = Math.round(bid.price * Math.min(1, factor) * 1e6) / 1e6;
          const url = change(notice(isWin ? bid.burl : bid.lurl, String(price)));
          const reply = await send(url);
          expect(reply.status).toBeLessThan(500);
          // Genuine: every signed field and the price as the bid's own URL states them (extra parameters change nothing).
          const original = new URL(notice(isWin ? bid.burl : bid.lurl, String(price))).searchParams;
          const given = new URL(url).searchParams;
          const genuine = ['id', 'imp', 'cmp', 'crid', 'bid', 'exp', 'sig', 'price'].every((k) => JSON.stringify(given.getAll(k)) === JSON.stringify(original.getAll(k)));
          const outcome = `${reply.status} ${genuine ? 'genuine' : 'forged'} ${reply.headers.get('x-ctrkit-settled') ?? ''}`;
          notices.set(outcome, (notices.get(outcome) ?? 0) + 1);
          if (reply.headers.get('x-ctrkit-settled') === 'committed') {
            expect(genuine).toBe(true);
            genuineMicros += Math.round(Math.round(price * 1e6) / 1000);
          }
        }
        for (const bid of bids) await send(notice(bid.lurl, ''));
        expect(server.server.holds.size()).toBe(0);
      }),
      { numRuns: 60 },
    );
    console.log('property: bid answers by status', Object.fromEntries(statuses), 'notices', Object.fromEntries(notices));
    const { spent, reserved } = await totals(server);
    expect(reserved).toBe(0);
    expect(Math.round(spent * 1e6)).toBe(genuineMicros);
    const committed = metric((await send(`${server.url}/metrics`)).text, 'adserver_spend_committed_total');
    expect(Math.round(committed * 1e6)).toBe(genuineMicros);
    await server.server.shutdown();
  });
});
