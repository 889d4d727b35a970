/**
 * The server on embedded defaults (memory feature store, memory ledger), over real HTTP on
 * loopback: every endpoint, the budget held for each bid and settled by notices and events,
 * bad input of every kind (never a 500), hold expiry, budget exhaustion and the hot swap.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pollUntil } from '@ctrkit/test-support';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { metric } from './fixtures/prometheus-text.js';
import { ADMIN_TOKEN, startInProcess, stopAll, type InProcess } from './fixtures/servers.js';
import { ensureTestModels, MODEL_OTHER_SPEC, MODEL_V1, MODEL_V2 } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

let main: InProcess;
beforeAll(async () => {
  await ensureTestModels();
  main = await startInProcess();
});
afterAll(stopAll);

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** An amount of the ledger (whole micros) as micros, exactly. */
const micros = (amount: number): number => Math.round(amount * 1e6);
/** What the server charges (or holds) for a CPM: the CPM in micros, per impression, rounded to the micro. */
const chargeMicros = (cpm: number): number => Math.round(Math.round(cpm * 1e6) / 1000);

async function snapshot(server: InProcess, campaignId: string) {
  const line = (await server.server.ledger.snapshot(campaignId)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
  if (line === undefined) throw new Error(`no daily line for ${campaignId}`);
  return line;
}

describe('health, readiness and metrics', () => {
  it('answers /healthz at once and /readyz only once the model is loaded and warmed', async () => {
    const cold = await startInProcess({}, { ready: false });
    expect((await send(`${cold.url}/healthz`)).status).toBe(200);
    const before = await send(`${cold.url}/readyz`);
    expect(before.status).toBe(503);
    expect(before.json).toMatchObject({ ready: false, problems: ['model not loaded'] });
    const [request] = makeBidRequests(1);
    const early = await postJson(`${cold.url}/openrtb2/bid`, request);
    expect(early.status).toBe(503);
    expect(early.json).toMatchObject({ error: 'not_ready' });
    await cold.server.ready();
    const after = await send(`${cold.url}/readyz`);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ ready: true, redis: 'none' });
    await cold.server.shutdown();
  });

  it('exposes ctrkit and server series in Prometheus text format', async () => {
    for (const request of makeBidRequests(3)) await postJson(`${main.url}/openrtb2/bid`, request);
    const answer = await send(`${main.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    for (const family of [
      'ctrkit_stage_latency_ms',
      'ctrkit_requests_total',
      'ctrkit_candidates_scored_total',
      'ctrkit_model_quality',
      'adserver_bid_requests_total',
      'adserver_holds_open',
      'adserver_model_ready',
      'adserver_http_request_duration_seconds_bucket',
      'process_resident_memory_bytes',
    ]) {
      expect(answer.text, family).toContain(family);
    }
    expect(metric(answer.text, 'adserver_model_ready')).toBe(1);
    expect(metric(answer.text, 'adserver_model_info', { version: 'ad-server-dcnv2' })).toBeNaN(); // label is the full version
    expect(answer.text).toMatch(/adserver_model_info\{version="ad-server-dcnv2-[^"]+"\} 1/);
    // The embedded feature store's size, so a soak can tell a filling store from a leak.
    for (const stat of ['users', 'ads', 'pairs', 'evicted']) expect(answer.text).toMatch(new RegExp(`adserver_feature_store\\{stat="${stat}"\\} \\d+`));
  });

  it('answers 404 with a reason for an unknown path', async () => {
    const answer = await send(`${main.url}/nope`);
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ error: 'not_found' });
  });
});

describe('POST /openrtb2/bid', () => {
  it('scores the 100 display creatives of the catalog and bids on each impression, with notice URLs', async () => {
    expect(testWorld().catalog.filter((c) => c.format === 'display')).toHaveLength(100);
    const before = metric((await send(`${main.url}/metrics`)).text, 'ctrkit_candidates_scored_total');
    const [request] = makeBidRequests(1, { imps: 2 });
    const answer = await postJson(`${main.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-ctrkit-model')).toMatch(/^ad-server-dcnv2-/);
    const body = answer.json as { id: string; cur: string; seatbid: { seat: string }[] };
    expect(body.id).toBe(request?.id);
    expect(body.cur).toBe('USD');
    expect(body.seatbid[0]?.seat).toBe('ctrkit');
    const bids = bidsOf(answer);
    expect(bids.map((b) => b.impid).sort()).toEqual(['1', '2']);
    expect(new Set(bids.map((b) => b.adid)).size).toBe(2); // one creative per impression
    for (const bid of bids) {
      expect(bid.price).toBeGreaterThanOrEqual(0.5); // the floor
      expect(bid.price).toBeLessThanOrEqual(50); // MAX_BID_CPM
      // Signed over what it settles; the exchange substitutes the macro.
      expect(bid.burl).toMatch(new RegExp(`^${main.url}/openrtb2/win\\?id=${encodeURIComponent(request?.id ?? '')}&imp=${bid.impid}&cmp=${bid.cid}&crid=${bid.adid}&bid=${Math.round(bid.price * 1e6)}&exp=[0-9]+&sig=[A-Za-z0-9_-]{22}&price=\\$\\{AUCTION_PRICE\\}$`));
      expect(bid.lurl).toMatch(/\/openrtb2\/loss\?.*&sig=.*&reason=\$\{AUCTION_LOSS\}$/);
      expect(bid.ext.ctrkit.pctr).toBeGreaterThanOrEqual(0);
      expect(bid.ext.ctrkit.pctr).toBeLessThanOrEqual(1);
    }
    const after = metric((await send(`${main.url}/metrics`)).text, 'ctrkit_candidates_scored_total');
    expect(after - before).toBe(100);
  });

  it('holds each bid in the ledger until its win notice commits the clearing price or its loss notice releases it', async () => {
    const server = await startInProcess(); // its own ledger: nothing else holds budget there
    const [request] = makeBidRequests(1, { imps: 2 });
    const bids = bidsOf(await postJson(`${server.url}/openrtb2/bid`, request));
    expect(bids).toHaveLength(2);
    const [won, lost] = bids as [(typeof bids)[0], (typeof bids)[0]];
    const wonCampaign = testWorld().creativeById.get(won.adid)?.campaignId as string;
    const lostCampaign = testWorld().creativeById.get(lost.adid)?.campaignId as string;
    expect(wonCampaign).not.toBe(lostCampaign); // one creative per campaign
    expect(micros((await snapshot(server, wonCampaign)).reserved)).toBe(chargeMicros(won.price));
    expect(micros((await snapshot(server, lostCampaign)).reserved)).toBe(chargeMicros(lost.price));
    expect(server.server.holds.size()).toBe(2);

    const clearing = Math.round(won.price * 0.6 * 1e4) / 1e4;
    const winUrl = won.burl.replace('${AUCTION_PRICE}', String(clearing));
    const first = await send(winUrl);
    expect(first.status).toBe(204);
    expect(first.headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await send(winUrl)).headers.get('x-ctrkit-settled')).toBe('duplicate'); // once only
    const line = await snapshot(server, wonCampaign);
    expect(micros(line.spent)).toBe(chargeMicros(clearing));
    expect(line.reserved).toBe(0);

    const lossUrl = lost.lurl.replace('${AUCTION_LOSS}', '102');
    expect((await send(lossUrl)).headers.get('x-ctrkit-settled')).toBe('released');
    expect((await send(lossUrl)).headers.get('x-ctrkit-settled')).toBe('duplicate');
    expect(await snapshot(server, lostCampaign)).toMatchObject({ spent: 0, reserved: 0 });
    expect(server.server.holds.size()).toBe(0);
    await server.server.shutdown();
  });

  it('answers 204 with the no-bid reason in headers', async () => {
    const [floor] = makeBidRequests(1, { bidfloor: 1000 });
    const high = await postJson(`${main.url}/openrtb2/bid`, floor);
    expect(high.status).toBe(204);
    expect(high.text).toBe('');
    expect(high.headers.get('x-ctrkit-reason')).toMatch(/^floor: .*below the floor/);
    expect(high.headers.get('x-ctrkit-nbr')).toBe('0');

    const [request] = makeBidRequests(1);
    const seat = await postJson(`${main.url}/openrtb2/bid`, { ...request, bseat: ['ctrkit'] });
    expect(seat.status).toBe(204);
    expect(seat.headers.get('x-ctrkit-reason')).toMatch(/^seat: /);

    const [short] = makeBidRequests(1, { tmax: 5 }); // less than the 10 ms network reserve
    const late = await postJson(`${main.url}/openrtb2/bid`, short);
    expect(late.status).toBe(204);
    expect(late.headers.get('x-ctrkit-nbr')).toBe('15');
  });

  it('tolerates unknown OpenRTB fields, as the spec requires', async () => {
    const [request] = makeBidRequests(1);
    const answer = await postJson(`${main.url}/openrtb2/bid`, { ...request, ext: { whatever: true }, source: { fd: 1 }, futureField: [1, 2] });
    expect(answer.status).toBe(200);
  });
});

describe('bad input gets a 400 (413, 415) with a reason, never a 500', () => {
  const valid = () => makeBidRequests(1)[0] as unknown as Record<string, unknown>;
  const cases: [string, () => { body: string; type?: string }, number, RegExp][] = [
    ['malformed JSON', () => ({ body: '{"id": "x", "imp": [' }), 400, /JSON/i],
    ['an empty body', () => ({ body: '' }), 400, /empty/i],
    ['a JSON array', () => ({ body: '[1, 2]' }), 400, /must be object/],
    ['a number id', () => ({ body: JSON.stringify({ ...valid(), id: 5 }) }), 400, /body\/id must be string/],
    ['no impressions', () => ({ body: JSON.stringify({ ...valid(), imp: [] }) }), 400, /body\/imp must NOT have fewer than 1 items/],
    ['an impression without id', () => ({ body: JSON.stringify({ ...valid(), imp: [{ banner: { w: 300, h: 250 } }] }) }), 400, /must have required property 'id'/],
    ['a negative tmax', () => ({ body: JSON.stringify({ ...valid(), tmax: -5 }) }), 400, /tmax/],
    ['a string device type (the bidder validator)', () => ({ body: JSON.stringify({ ...valid(), device: { devicetype: 'mobile' } }) }), 400, /device\.devicetype must be an integer/],
    ['duplicate impression ids', () => ({ body: JSON.stringify({ ...valid(), imp: [{ id: '1', banner: { w: 1, h: 1 } }, { id: '1', banner: { w: 1, h: 1 } }] }) }), 400, /impression ids must be unique/],
    ['a prototype-poisoning key', () => ({ body: '{"id":"p","imp":[{"id":"1","banner":{}}],"__proto__":{"x":1}}' }), 400, /not valid JSON/],
    ['text/plain JSON', () => ({ body: JSON.stringify(valid()), type: 'text/plain' }), 400, /must be object/],
    ['an XML body', () => ({ body: '<BidRequest/>', type: 'application/xml' }), 415, /Unsupported Media Type|content-type/i],
    ['an oversized body', () => ({ body: JSON.stringify({ ...valid(), padding: 'x'.repeat(70 * 1024) }) }), 413, /too large/i],
  ];
  it.each(cases)('%s', async (_name, make, status, reason) => {
    const { body, type } = make();
    const answer = await send(`${main.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': type ?? 'application/json' }, body });
    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.json)).toMatch(reason);
  });

  it('never answers 500 to arbitrary JSON, or to valid requests with a field replaced by junk', async () => {
    const statuses = new Map<number, number>();
    const base = makeBidRequests(1)[0] as unknown as Record<string, unknown>;
    const keys = ['id', 'imp', 'site', 'device', 'user', 'regs', 'tmax', 'cur', 'bcat', 'badv', 'at', 'wseat'];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ key: fc.constantFrom(...keys), value: fc.jsonValue() }).map(({ key, value }) => ({ ...base, id: `fuzz-${Math.random()}`, [key]: value }))), async (value) => {
        const answer = await send(`${main.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) ?? 'null' });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect([200, 204, 400]).toContain(answer.status);
      }),
      { numRuns: 150, seed: 10 },
    );
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect((await send(`${main.url}/healthz`)).status).toBe(200);
  });
});

describe('POST /events', () => {
  it('records events in the store, settles the hold, reports and feeds the quality monitor', async () => {
    const [request] = makeBidRequests(1);
    const [bid] = bidsOf(await postJson(`${main.url}/openrtb2/bid`, request));
    expect(bid).toBeDefined();
    const creative = testWorld().creativeById.get(bid?.adid ?? '');
    const userId = request?.user.id as string;
    const campaignId = creative?.campaignId as string;
    const spentBefore = (await snapshot(main, campaignId)).spent;
    const reservedBefore = (await snapshot(main, campaignId)).reserved;
    expect(micros(reservedBefore)).toBeGreaterThanOrEqual(chargeMicros(bid?.price ?? 0));
    const metricsBefore = (await send(`${main.url}/metrics`)).text;
    const base = { requestId: request?.id, userId, adId: bid?.adid, campaignId, advertiserId: creative?.advertiserId, category: creative?.category, format: 'display' };
    const now = Date.now();
    // The bid's token authenticates each event; the impression settles the hold with it.
    const token = bid?.ext.ctrkit.token;
    const answer = await postJson(`${main.url}/events`, {
      events: [
        { ...base, type: 'impression', eventId: `${request?.id}:i`, timestamp: now, cost: 0.002, token },
        { ...base, type: 'click', eventId: `${request?.id}:c`, timestamp: now + 1, token },
        { ...base, type: 'conversion', eventId: `${request?.id}:v`, timestamp: now + 2, value: 30, token },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ received: 3, recorded: 3, settled: 1, spend: expect.any(Number), failed: [] });
    expect(micros((answer.json as { spend: number }).spend)).toBe(Math.min(2000, chargeMicros(bid?.price ?? 0)));
    expect(micros((await snapshot(main, campaignId)).spent) - micros(spentBefore)).toBe(Math.min(2000, chargeMicros(bid?.price ?? 0)));
    expect(micros(reservedBefore) - micros((await snapshot(main, campaignId)).reserved)).toBe(chargeMicros(bid?.price ?? 0));

    const counters = await send(`${main.url}/admin/counters?user=${userId}&ad=${bid?.adid}`, { headers: auth });
    expect(counters.status).toBe(200);
    const values = (counters.json as { counters: Record<string, number> }).counters;
    expect(values['user_ad.imp.1d']).toBeGreaterThan(0.99);
    expect(values['user_ad.click.1d']).toBeGreaterThan(0.99);

    const metricsAfter = (await send(`${main.url}/metrics`)).text;
    expect(metric(metricsAfter, 'adserver_events_total', { result: 'recorded' }) - (metric(metricsBefore, 'adserver_events_total', { result: 'recorded' }) || 0)).toBe(3);
    expect(metric(metricsAfter, 'ctrkit_campaign', { level: 'campaign', id: campaignId, metric: 'clicks', window: '3600s' })).toBeGreaterThanOrEqual(1);
    // The click matched the impression the quality monitor was given: labeled at once, nothing pending for it.
    expect(metricsAfter).toContain('ctrkit_model_quality');
  });

  it('counts an impression once when both its win notice and its event arrive', async () => {
    const [request] = makeBidRequests(1);
    const [bid] = bidsOf(await postJson(`${main.url}/openrtb2/bid`, request));
    const creative = testWorld().creativeById.get(bid?.adid ?? '');
    expect((await send(bid?.burl.replace('${AUCTION_PRICE}', '1') ?? '')).headers.get('x-ctrkit-settled')).toBe('committed');
    const event = { type: 'impression', eventId: `${request?.id}:i`, requestId: request?.id, timestamp: Date.now(), userId: request?.user.id, adId: bid?.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, token: bid?.ext.ctrkit.token };
    const answer = await postJson(`${main.url}/events`, { events: [event] });
    expect(answer.json).toMatchObject({ received: 1, recorded: 0, settled: 0 });
    const counters = await send(`${main.url}/admin/counters?user=${request?.user.id}&ad=${bid?.adid}`, { headers: auth });
    expect((counters.json as { counters: Record<string, number> }).counters['user_ad.imp.1d']).toBeCloseTo(1, 3);
  });

  const good = () => ({ type: 'click', eventId: `e-${Math.random()}`, requestId: 'r', timestamp: Date.now(), userId: 'u-bad-input', adId: 'ad-0-0-1', campaignId: 'cmp-0-0', advertiserId: 'adv-0', category: 'travel' });
  const badBatches: [string, () => unknown, RegExp][] = [
    ['no events array', () => ({}), /must have required property 'events'/],
    ['an empty batch', () => ({ events: [] }), /fewer than 1 items/],
    ['a missing field', () => ({ events: [good(), { ...good(), userId: undefined }] }), /must have required property 'userId'/],
    ['a string timestamp', () => ({ events: [good(), { ...good(), timestamp: String(Date.now()) }] }), /timestamp must be number/],
    ['an unknown type', () => ({ events: [{ ...good(), type: 'view' }] }), /must be equal to one of the allowed values/],
    ['an unknown field', () => ({ events: [{ ...good(), costs: 1 }] }), /must NOT have additional properties/],
    ['a negative cost', () => ({ events: [{ ...good(), cost: -1 }] }), /must be >= 0/],
    ['too many events', () => ({ events: Array.from({ length: 1001 }, good) }), /must NOT have more than 1000 items/],
    ['a timestamp two days ahead', () => ({ events: [good(), { ...good(), timestamp: Date.now() + 2 * 86_400_000 }] }), /more than a day ahead/],
  ];
  it.each(badBatches)('refuses a batch with %s and records nothing of it', async (_name, make, reason) => {
    const answer = await postJson(`${main.url}/events`, make());
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toMatch(reason);
    const counters = await send(`${main.url}/admin/counters?user=u-bad-input&ad=ad-0-0-1`, { headers: auth });
    expect((counters.json as { counters: Record<string, number> }).counters['user_ad.click.1d']).toBe(0);
  });

  it('refuses malformed win and loss notices (an unsubstituted price macro)', async () => {
    const answer = await send(`${main.url}/openrtb2/win?id=x&imp=1&price=\${AUCTION_PRICE}`);
    expect(answer.status).toBe(400);
    expect((await send(`${main.url}/openrtb2/loss?imp=1`)).status).toBe(400);
    // Unsigned: refused, and counted.
    const unsigned = await send(`${main.url}/openrtb2/win?id=nobody&imp=1&price=1.5`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-ctrkit-settled')).toBe('refused');
  });
});

describe('holds and budgets', () => {
  it('releases a reservation whose win notice never comes', async () => {
    const short = await startInProcess({ HOLD_TTL_MS: '300' });
    const [request] = makeBidRequests(1);
    const [bid] = bidsOf(await postJson(`${short.url}/openrtb2/bid`, request));
    const campaignId = testWorld().creativeById.get(bid?.adid ?? '')?.campaignId as string;
    expect((await snapshot(short, campaignId)).reserved).toBeGreaterThan(0);
    await pollUntil('the hold to expire', async () => (await snapshot(short, campaignId)).reserved === 0, { timeoutMs: 5_000, intervalMs: 50 });
    expect(short.server.holds.size()).toBe(0);
    expect((await snapshot(short, campaignId)).spent).toBe(0);
    // A win notice after the release still commits, within the notice window (once).
    expect((await send(bid?.burl.replace('${AUCTION_PRICE}', '1') ?? '')).headers.get('x-ctrkit-settled')).toBe('committed');
    expect(micros((await snapshot(short, campaignId)).spent)).toBe(1000);
    expect((await send(bid?.burl.replace('${AUCTION_PRICE}', '1') ?? '')).headers.get('x-ctrkit-settled')).toBe('duplicate');
    await short.server.shutdown();
  });

  it('stops bidding for a campaign whose budget is spent, never spending beyond it', async () => {
    const tight = await startInProcess({ BUDGET_SCALE: '0.0005', PACING: 'none' }); // 0.025–0.25 a campaign
    const budgets = new Map(tight.server.world.budgets.map((b) => [b.id, b.dailyBudget as number]));
    let budgetNoBids = 0;
    for (const request of makeBidRequests(150, { imps: 2 })) {
      const answer = await postJson(`${tight.url}/openrtb2/bid`, request);
      expect([200, 204]).toContain(answer.status);
      if (answer.status === 204 && /^budget|^pacing/.test(answer.headers.get('x-ctrkit-reason') ?? '')) budgetNoBids++;
      for (const bid of bidsOf(answer)) await send(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)));
    }
    let exhausted = 0;
    for (const [id, budget] of budgets) {
      const line = await snapshot(tight, id);
      expect(line.spent + line.reserved).toBeLessThanOrEqual(budget + 1e-9);
      if (line.remaining < 0.05) exhausted++;
    }
    expect(exhausted).toBeGreaterThan(0);
    const text = (await send(`${tight.url}/metrics`)).text;
    expect(metric(text, 'adserver_reservations_total', { result: 'budget' }) + budgetNoBids).toBeGreaterThan(0);
    await tight.server.shutdown();
  });
});

describe('POST /admin/model (hot swap)', () => {
  it('refuses a request without the bearer token', async () => {
    expect((await postJson(`${main.url}/admin/model`, {})).status).toBe(401);
    const wrong = await postJson(`${main.url}/admin/model`, {}, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await send(`${main.url}/admin/budgets`)).status).toBe(401);
  });

  it('refuses a directory outside MODEL_ROOT, a missing model and a model of another spec, and keeps serving', async () => {
    const outside = await postJson(`${main.url}/admin/model`, { dir: '/etc' }, auth);
    expect(outside.status).toBe(400);
    const missing = await postJson(`${main.url}/admin/model`, { dir: 'does-not-exist' }, auth);
    expect(missing.status).toBe(409);
    const other = await postJson(`${main.url}/admin/model`, { dir: MODEL_OTHER_SPEC }, auth);
    expect(other.status).toBe(409);
    expect(JSON.stringify(other.json)).toMatch(/feature spec/);
    const [request] = makeBidRequests(1);
    const answer = await postJson(`${main.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-ctrkit-model')).toMatch(/-s1-/);
  });

  it('loads and warms the new version beside the old one, then swaps; requests in flight are unaffected', async () => {
    const server = await startInProcess();
    const requests = makeBidRequests(60);
    const statuses: number[] = [];
    const models = new Set<string>();
    let i = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (i < requests.length) {
          const answer = await postJson(`${server.url}/openrtb2/bid`, requests[i++]);
          statuses.push(answer.status);
          if (answer.status === 200) models.add(answer.headers.get('x-ctrkit-model') ?? '');
        }
      }),
    );
    const swap = await postJson(`${server.url}/admin/model`, { dir: MODEL_V2 }, auth);
    await load;
    expect(swap.status).toBe(200);
    expect(swap.json).toMatchObject({ previous: expect.stringMatching(/-s1-/), current: expect.stringMatching(/-s2-/) });
    expect(statuses.every((s) => s === 200 || s === 204)).toBe(true);
    const [after] = makeBidRequests(1);
    expect((await postJson(`${server.url}/openrtb2/bid`, after)).headers.get('x-ctrkit-model')).toMatch(/-s2-/);
    // And back to MODEL_DIR (v1) with an empty body.
    const back = await send(`${server.url}/admin/model`, { method: 'POST', headers: auth });
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({ current: expect.stringMatching(/-s1-/) });
    expect(MODEL_V1).not.toBe(MODEL_V2);
    await server.server.shutdown();
  });
});
