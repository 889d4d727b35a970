/**
 * `WORKERS=2`: one server process per core on one port (node:cluster), on the shared Redis under
 * a key prefix of their own. Every request below opens a connection of its own, so the primary
 * hands them to the two workers in turn and most notices reach the worker that did not bid:
 * both workers serve; every win commits on the bidding worker's own hold (never a fresh
 * reservation) and the ledger spends exactly the genuine clearing prices, in micros; a replayed
 * win is charged once; a loss releases the other worker's hold at once; the host's impression
 * event after its win is not counted again; the impression is counted for its user. SIGTERM
 * shuts both workers down gracefully (holds released, exit 0); a worker killed is restarted.
 * `WORKERS=2` with state in process memory is refused at start.
 */
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ctrkitErrorThrownBy, pollUntil, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createRedisLedger } from '@ctrkit/pacing/redis';
import { readConfig } from '../src/config.js';
import { createWorld } from '../src/world.js';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { metric } from './fixtures/prometheus-text.js';
import { ADMIN_TOKEN, spawnServer, stopAll, testEnv, type Child } from './fixtures/servers.js';
import { deleteSharedKeys, SHARED_REDIS_URL } from './fixtures/shared-redis.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const available = await sharedRedisFor('example-ad-server: two workers on the shared Redis');
const prefixes: string[] = [];

beforeAll(ensureTestModels);
afterAll(async () => {
  await stopAll();
  for (const prefix of prefixes) await deleteSharedKeys(prefix);
});

/** An answer read whole, with the worker that gave it. */
interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly worker: string;
  readonly json: unknown;
  readonly text: string;
}

/** One request: on a connection of its own (no keep-alive) unless `agent` is given, so that the primary picks a worker for it. */
function fresh(url: string, options: { method?: string; body?: unknown; headers?: Record<string, string>; agent?: http.Agent } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', agent: options.agent ?? false, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, worker: String(response.headers['x-ctrkit-worker'] ?? ''), json, text });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

type Bid = { impid: string; price: number; adid: string; burl: string; lurl: string; ext: { ctrkit: { token: string } } };
const bidsIn = (reply: Reply): Bid[] => ((reply.json as { seatbid?: { bid: Bid[] }[] } | undefined)?.seatbid ?? []).flatMap((s) => s.bid);
const campaignOf = (adId: string): string => testWorld().creativeById.get(adId)?.campaignId as string;

/**
 * A keep-alive connection to each worker: a socket stays with the worker it was handed to, so
 * requests on `pinned.get('2')` all reach worker 2.
 */
async function pinned(url: string, workers: readonly string[]): Promise<Map<string, http.Agent>> {
  const agents = new Map<string, http.Agent>();
  for (let tries = 0; agents.size < workers.length && tries < 50; tries++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { worker } = await fresh(`${url}/healthz`, { agent });
    if (agents.has(worker)) agent.destroy();
    else agents.set(worker, agent);
  }
  if (agents.size < workers.length) throw new Error(`reached only workers ${[...agents.keys()].join(', ')}`);
  return agents;
}

/** The whole fleet's series: `/metrics` answers for every worker, each series labeled with its worker. */
const scrape = async (url: string): Promise<string> => (await fresh(`${url}/metrics`)).text;

describe('WORKERS: the configuration', () => {
  it('reads a count or auto, and refuses more than one worker while money or dedup state would stay in process memory', () => {
    expect(readConfig(testEnv()).workers).toBe(1);
    const shared = { REDIS_URL: SHARED_REDIS_URL, ONLINE_LEARNING: '0' };
    expect(readConfig(testEnv({ ...shared, WORKERS: '2' })).workers).toBe(2);
    expect(readConfig(testEnv({ ...shared, WORKERS: 'auto' })).workers).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'two', '257']) expect(ctrkitErrorThrownBy(() => readConfig(testEnv({ ...shared, WORKERS: bad }))).code, bad).toBe('E_CONFIG');
    // The defaults keep the ledger, the registry and the store in memory, and learn online in-process.
    const refused = ctrkitErrorThrownBy(() => readConfig(testEnv({ WORKERS: '2' })));
    expect(refused.code).toBe('E_CONFIG');
    expect(refused.message).toMatch(/REDIS_URL/);
    expect(refused.message).toMatch(/ONLINE_LEARNING=0/);
    expect((refused as unknown as { details: { problems: string[] } }).details.problems).toHaveLength(2);
    expect(ctrkitErrorThrownBy(() => readConfig(testEnv({ REDIS_URL: SHARED_REDIS_URL, WORKERS: '2' }))).message).toMatch(/ONLINE_LEARNING/);
    expect(ctrkitErrorThrownBy(() => readConfig(testEnv({ ...shared, WORKERS: '2', EVENTS_REQUIRE_TOKEN: '0' }))).message).toMatch(/EVENTS_REQUIRE_TOKEN=1/);
    // One worker keeps every default.
    expect(readConfig(testEnv({ WORKERS: '1' })).workers).toBe(1);
  });

  it('a server started with WORKERS=2 and the embedded ledger exits 2 at start, saying which settings to change', async () => {
    const failure = await spawnServer({ WORKERS: '2' }).then(
      () => undefined,
      (error: unknown) => (error as Error).message,
    );
    expect(failure).toMatch(/exited \(2\) before it was ready/);
    expect(failure).toMatch(/WORKERS=2 needs every shared state in Redis/);
    expect(failure).toMatch(/set REDIS_URL/);
  });
});

describe.skipIf(!available)('WORKERS=2 on the shared Redis', () => {
  const BUDGET_SCALE = 1;
  let server: Child;
  let prefix: string;

  beforeAll(async () => {
    prefix = uniqueKeyPrefix('ad-server', 'workers');
    prefixes.push(prefix);
    // No NOTICE_KEY: the primary draws one for both workers, or neither could check the other's notices.
    server = await spawnServer({ WORKERS: '2', REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, ONLINE_LEARNING: '0', PACING: 'none', BUDGET_SCALE: String(BUDGET_SCALE), SHUTDOWN_GRACE_MS: '500', LOG_LEVEL: 'info' });
  });

  it('serves through both workers; every win commits on its bidding worker\'s hold, once, and the ledger spends exactly the genuine prices', async () => {
    const requests = makeBidRequests(60, { imps: 1 });
    const bidders = new Map<string, string>();
    let genuineMicros = 0;
    const genuineByCampaign = new Map<string, number>();
    let wins = 0;
    let crossWins = 0;
    let losses = 0;
    let crossLosses = 0;
    let unnoticed = 0;
    const won: { request: (typeof requests)[number]; bid: Bid; url: string; worker: string }[] = [];
    const committedBy = new Map<string, number>();
    // Bids and notices on connections pinned to a worker, in all four combinations.
    const to = await pinned(server.url, ['1', '2']);
    const on = (worker: string): http.Agent => to.get(worker) as http.Agent;
    for (const [i, request] of requests.entries()) {
      const bidder = String(1 + (i % 2));
      const noticed = String(1 + ((i >> 1) % 2));
      const answer = await fresh(`${server.url}/openrtb2/bid`, { method: 'POST', body: request, agent: on(bidder) });
      expect(answer.worker).toBe(bidder);
      expect([200, 204], answer.text).toContain(answer.status);
      const [bid] = bidsIn(answer);
      if (bid === undefined) continue;
      bidders.set(request.id, answer.worker);
      if (i >= requests.length - 5) {
        unnoticed++; // the last few get no notice at all: held (well within HOLD_TTL_MS), then released at shutdown
        continue;
      }
      if (i % 5 === 4) {
        const lost = await fresh(bid.lurl.replace('${AUCTION_LOSS}', '102'), { agent: on(noticed) });
        expect(lost.headers['x-ctrkit-settled']).toBe('released');
        losses++;
        if (lost.worker !== answer.worker) crossLosses++;
        continue;
      }
      // A clearing price of 70% of the bid, to the thousandth of a CPM: whole micros per impression.
      const price = (bid.price * 0.7).toFixed(3);
      const url = bid.burl.replace('${AUCTION_PRICE}', price);
      const settled = await fresh(url, { agent: on(noticed) });
      expect(settled.status).toBe(204);
      expect(settled.headers['x-ctrkit-settled']).toBe('committed');
      wins++;
      committedBy.set(answer.worker, (committedBy.get(answer.worker) ?? 0) + 1);
      if (settled.worker !== answer.worker) crossWins++;
      const micros = Math.round(Math.round(Number(price) * 1e6) / 1000);
      genuineMicros += micros;
      genuineByCampaign.set(campaignOf(bid.adid), (genuineByCampaign.get(campaignOf(bid.adid)) ?? 0) + micros);
      won.push({ request, bid, url, worker: answer.worker });
    }
    expect(new Set(bidders.values())).toEqual(new Set(['1', '2']));
    expect(wins).toBeGreaterThan(20);
    expect(crossWins).toBeGreaterThan(5); // the point of the test: notices that reached the other worker
    expect(wins - crossWins).toBeGreaterThan(5); // and the bidding worker's own
    expect(crossLosses).toBeGreaterThan(0);

    // Replays, through each worker: settled once.
    for (const { url } of won) for (const worker of ['1', '2']) expect((await fresh(url, { agent: on(worker) })).headers['x-ctrkit-settled']).toBe('duplicate');

    // The host's impression event after the win notice, through either worker: not counted twice.
    for (const [k, { request, bid }] of won.slice(0, 6).entries()) {
      const creative = testWorld().creativeById.get(bid.adid);
      const event = { type: 'impression', eventId: `${request.id}:imp`, requestId: request.id, timestamp: Date.now(), userId: request.user.id, adId: bid.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, token: bid.ext.ctrkit.token };
      const answer = await fresh(`${server.url}/events`, { method: 'POST', body: { events: [event] }, agent: on(String(1 + (k % 2))) });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json).toMatchObject({ received: 1, recorded: 0, settled: 0 });
    }

    // Each win was committed on the hold of the worker that bid, none on a fresh reservation, and
    // no hold waits for its TTL: the other worker's losses released them at once.
    const text = await scrape(server.url);
    expect(metric(text, 'adserver_holds_settled_total', { outcome: 'committed' })).toBe(wins);
    for (const worker of ['1', '2']) expect(metric(text, 'adserver_holds_settled_total', { outcome: 'committed', worker }), `worker ${worker}`).toBe(committedBy.get(worker));
    expect(metric(text, 'adserver_holds_settled_total', { outcome: 'committed-late' })).toBeNaN();
    expect(metric(text, 'adserver_holds_settled_total', { outcome: 'released-loss' })).toBe(losses);
    expect(metric(text, 'adserver_holds_open')).toBe(unnoticed);
    expect(Math.round(metric(text, 'adserver_spend_committed_total') * 1e6)).toBe(genuineMicros);
    expect(metric(text, 'adserver_events_total', { type: 'impression', result: 'duplicate' })).toBe(6);

    // A win that reached the other worker counted its impression for the bid's user (frequency caps read this).
    for (const { request, bid } of won.slice(0, 8)) {
      const counters = await fresh(`${server.url}/admin/counters?user=${encodeURIComponent(request.user.id)}&ad=${encodeURIComponent(bid.adid)}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(counters.status).toBe(200);
      expect((counters.json as { counters: Record<string, number> }).counters['user_ad.imp.1d'], request.id).toBeGreaterThan(0.99);
    }

    for (const agent of to.values()) agent.destroy();
    // SIGTERM: the primary forwards it; each worker drains, releases what is still held, returns its leases, and exits 0.
    server.process.kill('SIGTERM');
    expect(await server.exited).toMatchObject({ code: 0 });
    const output = server.output();
    expect(output.match(/"msg":"shut down"/g)?.length, output).toBe(3); // two workers and the primary
    expect(output).toMatch(/"exitCodes":\[0,0\],"msg":"shut down"/);
    const released = [...output.matchAll(/"released":([0-9]+),"problems":\[\],"msg":"shut down"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(released).toBe(unnoticed);

    // The ledger in Redis, read by a ledger of our own: nothing reserved, spend equal to the genuine prices to the micro.
    const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
    const ledger = createRedisLedger({ redis, budgets: { campaigns: createWorld({ budgetScale: BUDGET_SCALE }).budgets }, keyPrefix: `${prefix}budget:` });
    try {
      let spentMicros = 0;
      for (const budget of createWorld({ budgetScale: BUDGET_SCALE }).budgets) {
        const line = (await ledger.snapshot(budget.id)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
        expect(line?.reserved, budget.id).toBe(0);
        const micros = Math.round((line?.spent ?? Number.NaN) * 1e6);
        expect(micros, budget.id).toBe(genuineByCampaign.get(budget.id) ?? 0);
        spentMicros += micros;
      }
      expect(spentMicros).toBe(genuineMicros);
    } finally {
      await ledger.close();
      redis.disconnect();
    }
  });
});

describe.skipIf(!available)('WORKERS=2: a worker that dies', () => {
  it('is restarted by the primary, and the port keeps answering meanwhile', async () => {
    const prefix = uniqueKeyPrefix('ad-server', 'workers-restart');
    prefixes.push(prefix);
    const server = await spawnServer({ WORKERS: '2', REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, ONLINE_LEARNING: '0', LOG_LEVEL: 'info' });
    const pids = [...server.output().matchAll(/"worker":([0-9]+),"workerPid":([0-9]+)/g)].map((m) => Number(m[2]));
    expect(pids).toHaveLength(2);
    process.kill(pids[0] as number, 'SIGKILL');
    await pollUntil('the primary to restart the worker', () => /"msg":"worker exited unexpectedly; restarting it"/.test(server.output()), { timeoutMs: 10_000, intervalMs: 50 });
    expect(server.output()).toMatch(/"signal":"SIGKILL","ranMs":[0-9]+,"restartInMs":250/);
    // Meanwhile the other worker answers everything.
    for (let i = 0; i < 4; i++) expect((await fresh(`${server.url}/healthz`)).status).toBe(200);
    await pollUntil('the new worker to be ready', () => /"worker":3,"workerPid":[0-9]+,"url"/.test(server.output()), { timeoutMs: 120_000, intervalMs: 200 });
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await fresh(`${server.url}/healthz`)).worker);
    expect(seen.has('3')).toBe(true);
    server.process.kill('SIGTERM');
    expect(await server.exited).toMatchObject({ code: 0 });
  });
});
