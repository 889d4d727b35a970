/**
 * The server on Redis (feature store and budget ledger): on the shared Redis under a key prefix
 * of this run (deleted afterwards), and on a redis-server of our own that the tests kill, freeze
 * and bring back — no bids while Redis is gone (never spending blind), no crash, `/readyz` and
 * `/metrics` say so, and bids come back when Redis does.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisLedger } from '@ctrkit/pacing/redis';
import { keysUnder, pollUntil, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { startOwnRedis } from './fixtures/own-redis.js';
import { metric } from './fixtures/prometheus-text.js';
import { ADMIN_TOKEN, startInProcess, stopAll, type InProcess } from './fixtures/servers.js';
import { deleteSharedKeys, SHARED_REDIS_URL } from './fixtures/shared-redis.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 240_000 });

const available = await sharedRedisFor('example-ad-server: the server on the shared Redis');
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const prefixes: string[] = [];

beforeAll(ensureTestModels);
afterAll(async () => {
  await stopAll();
  for (const prefix of prefixes) await deleteSharedKeys(prefix);
});

describe.skipIf(!available)('on the shared Redis', () => {
  let server: InProcess;
  const prefix = uniqueKeyPrefix('ad-server', 'redis');
  prefixes.push(prefix);
  beforeAll(async () => {
    // The host's own events, unsigned (the token rule is pinned in hostile.test.ts).
    server = await startInProcess({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, EVENTS_REQUIRE_TOKEN: '0' });
  });

  it('is ready with Redis up, bids, and keeps spend and counters in Redis under its prefix', async () => {
    const ready = await send(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ ready: true, redis: 'up' });
    const [request] = makeBidRequests(1, { imps: 2 });
    const answer = await postJson(`${server.url}/openrtb2/bid`, request);
    expect(answer.status).toBe(200);
    const [won, lost] = bidsOf(answer);
    expect(won).toBeDefined();
    expect((await send(won?.burl.replace('${AUCTION_PRICE}', '2.5') ?? '')).headers.get('x-ctrkit-settled')).toBe('committed');
    expect((await send(lost?.lurl.replace('${AUCTION_LOSS}', '102') ?? '')).headers.get('x-ctrkit-settled')).toBe('released');
    const campaignId = testWorld().creativeById.get(won?.adid ?? '')?.campaignId as string;

    // Another ledger on the same keys (another process would see the same).
    const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
    const reader = createRedisLedger({ redis, budgets: { campaigns: testWorld().budgets }, keyPrefix: `${prefix}budget:` });
    try {
      await pollUntil('the committed spend to be settled to Redis', async () => {
        const line = (await reader.snapshot(campaignId)).lines.find((l) => l.period === 'daily');
        return Math.abs((line?.spent ?? 0) - 0.0025) < 1e-9;
      }, { timeoutMs: 5_000, intervalMs: 50 });
    } finally {
      await reader.close();
      redis.disconnect();
    }

    const event = { type: 'click', eventId: `${request?.id}:c`, requestId: request?.id, timestamp: Date.now(), userId: request?.user.id, adId: won?.adid, campaignId, advertiserId: testWorld().creativeById.get(won?.adid ?? '')?.advertiserId, category: testWorld().creativeById.get(won?.adid ?? '')?.category };
    expect((await postJson(`${server.url}/events`, { events: [event] })).status).toBe(200);
    const counters = await send(`${server.url}/admin/counters?user=${request?.user.id}&ad=${won?.adid}`, { headers: auth });
    const values = (counters.json as { degraded: boolean; counters: Record<string, number> });
    expect(values.degraded).toBe(false);
    expect(values.counters['user_ad.imp.1d']).toBeGreaterThan(0.99); // from the win notice
    expect(values.counters['user_ad.click.1d']).toBeGreaterThan(0.99);

    const keys = new Redis(SHARED_REDIS_URL);
    try {
      const found = await keysUnder(keys, prefix);
      expect(found.length).toBeGreaterThan(0);
      expect(found.every((k) => k.startsWith(prefix))).toBe(true);
    } finally {
      keys.disconnect();
    }
    const text = (await send(`${server.url}/metrics`)).text;
    expect(metric(text, 'adserver_redis_up')).toBe(1);
    expect(metric(text, 'adserver_ledger', { stat: 'redisErrors' })).toBe(0);

    // Any server of the prefix reports for the fleet: a second one sees the first one's win.
    const other = await startInProcess({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, EVENTS_REQUIRE_TOKEN: '0' });
    type Figures = { id: string; impressions: number; clicks: number; spend: number };
    let fleet: { scope: string; campaigns: Figures[] } | undefined;
    await pollUntil("the first server's win and click in the second server's fleet report", async () => {
      const answer = await send(`${other.url}/admin/report?windowMs=3600000`, { headers: auth });
      fleet = answer.json as typeof fleet;
      return answer.status === 200 && (fleet?.campaigns.find((c) => c.id === campaignId)?.clicks ?? 0) === 1;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    expect(fleet?.scope).toBe('fleet');
    expect(fleet?.campaigns.find((c) => c.id === campaignId)).toMatchObject({ impressions: 1, clicks: 1, spend: 0.0025 });
    expect((await send(`${other.url}/admin/report?windowMs=5`, { headers: auth })).status).toBe(400);
    expect((await send(`${other.url}/admin/report`)).status).toBe(401);
  });
});

describe('when Redis goes away', () => {
  it('stops bidding, says so, does not crash, and bids again when Redis returns', async () => {
    const own = await startOwnRedis();
    const { server, url } = await startInProcess({ REDIS_URL: own.url, REDIS_PREFIX: 'ctrkit-test:ad-server:own:', EVENTS_REQUIRE_TOKEN: '0' });
    const bid = async () => postJson(`${url}/openrtb2/bid`, makeBidRequests(1)[0]);
    expect((await bid()).status).toBe(200);
    const bidsBefore = metric((await send(`${url}/metrics`)).text, 'adserver_bids_total');

    await own.kill();
    await pollUntil('/readyz to fail', async () => (await send(`${url}/readyz`)).status === 503, { timeoutMs: 5_000, intervalMs: 50 });
    const readyz = await send(`${url}/readyz`);
    expect(readyz.json).toMatchObject({ ready: false, problems: ['redis unreachable'] });
    for (let i = 0; i < 5; i++) {
      const answer = await bid();
      expect(answer.status).toBe(204);
      expect(answer.headers.get('x-ctrkit-nbr')).toBe('1');
      expect(answer.headers.get('x-ctrkit-reason')).toMatch(/^redis_unavailable: /);
    }
    const creative = testWorld().catalog[0];
    const event = { type: 'impression', eventId: 'gone-1', requestId: 'gone', timestamp: Date.now(), userId: 'u-1', adId: creative?.adId, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category };
    const events = await postJson(`${url}/events`, { events: [event] });
    expect(events.status).toBe(503);
    expect(events.headers.get('retry-after')).toBe('1');
    expect((await send(`${url}/healthz`)).status).toBe(200);
    const down = (await send(`${url}/metrics`)).text;
    expect(metric(down, 'adserver_redis_up')).toBe(0);
    expect(metric(down, 'adserver_bids_total')).toBe(bidsBefore); // nothing bid while Redis was gone
    expect(metric(down, 'adserver_nobids_total', { reason: 'redis_unavailable' })).toBe(5);

    await own.start(); // empty: no persistence
    await pollUntil('Redis to come back', async () => (await send(`${url}/readyz`)).status === 200, { timeoutMs: 15_000, intervalMs: 50 });
    let back = 0;
    for (let i = 0; i < 5; i++) if ((await bid()).status === 200) back++;
    expect(back).toBe(5);
    expect((await postJson(`${url}/events`, { events: [{ ...event, eventId: 'back-1' }] })).status).toBe(200);
    await server.shutdown();
    await own.kill();
  });

  it('stops bidding while Redis hangs (the connection stays open, nothing answers) and resumes after', async () => {
    const own = await startOwnRedis();
    const { server, url } = await startInProcess({ REDIS_URL: own.url, REDIS_PREFIX: 'ctrkit-test:ad-server:own:', EVENTS_REQUIRE_TOKEN: '0' });
    const bid = async () => postJson(`${url}/openrtb2/bid`, makeBidRequests(1)[0]);
    expect((await bid()).status).toBe(200);
    const probe = new Redis(own.url);
    const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
    probe.disconnect();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    try {
      await pollUntil('/readyz to fail', async () => (await send(`${url}/readyz`)).status === 503, { timeoutMs: 5_000, intervalMs: 50 });
      const answer = await bid();
      expect(answer.status).toBe(204);
      expect(answer.headers.get('x-ctrkit-reason')).toMatch(/^redis_unavailable/);
      expect((await send(`${url}/healthz`)).status).toBe(200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await pollUntil('Redis to answer again', async () => (await send(`${url}/readyz`)).status === 200, { timeoutMs: 10_000, intervalMs: 50 });
    expect((await bid()).status).toBe(200);
    await server.shutdown();
    await own.kill();
  });
});
