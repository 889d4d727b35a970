/**
 * Shutdown in the middle of an auction, made deterministic: a hook holds one request between
 * its consent check and its prediction while shutdown starts. New bids are refused, the held
 * auction finishes and bids (its budget held), a win notice that arrives during the grace period
 * commits, and what is still held when the server closes is released — on the shared Redis
 * ledger, checked by another ledger on the same keys.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisLedger } from '@ctrkit/pacing/redis';
import { pollUntil, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { startInProcess, stopAll } from './fixtures/servers.js';
import { deleteSharedKeys, SHARED_REDIS_URL } from './fixtures/shared-redis.js';
import { ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 240_000 });

const available = await sharedRedisFor('example-ad-server: shutdown mid-auction on the shared Redis');
const prefix = uniqueKeyPrefix('ad-server', 'shutdown');

beforeAll(ensureTestModels);
afterAll(async () => {
  await stopAll();
  await deleteSharedKeys(prefix);
});

describe.skipIf(!available)('shutdown mid-auction', () => {
  it('finishes the auction in flight, commits what was won, releases the rest: nothing left held', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let holding = false;
    // tmax counts from arrival: the held auction needs the time the test keeps it open.
    const [held, ...others] = makeBidRequests(6, { imps: 2, tmax: 1000 });
    const { server, url } = await startInProcess(
      { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SHUTDOWN_GRACE_MS: '3000' },
      {
        hooks: {
          beforePredict: async (request) => {
            if (request.requestId !== held?.id) return;
            holding = true;
            await gate;
          },
        },
      },
    );
    // Some finished auctions with open holds, one won already.
    const earlier = [];
    for (const request of others) earlier.push(...bidsOf(await postJson(`${url}/openrtb2/bid`, request)));
    expect(earlier.length).toBe(10);
    const [first] = earlier;
    expect((await send(first?.burl.replace('${AUCTION_PRICE}', '3') ?? '')).headers.get('x-ctrkit-settled')).toBe('committed');

    const inFlight = postJson(`${url}/openrtb2/bid`, held);
    await pollUntil('the auction to reach the model', () => holding, { timeoutMs: 10_000, intervalMs: 50 });
    const stopping = server.shutdown('test');
    await pollUntil('/readyz to say shutting down', async () => (await send(`${url}/readyz`)).status === 503, { timeoutMs: 5_000, intervalMs: 50 });
    const refused = await postJson(`${url}/openrtb2/bid`, makeBidRequests(1)[0]);
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ error: 'draining' });

    open();
    const answer = await inFlight;
    expect(answer.status, answer.headers.get("x-ctrkit-reason") ?? "").toBe(200); // the auction in flight finished and bid
    const late = bidsOf(answer);
    expect(late).toHaveLength(2);
    // A win notice during the grace period still commits.
    expect((await send(late[0]?.burl.replace('${AUCTION_PRICE}', '2') ?? '')).headers.get('x-ctrkit-settled')).toBe('committed');

    const report = await stopping;
    expect(report.problems).toEqual([]);
    expect(report.released).toBe(earlier.length - 1 + late.length - 1); // every bid not won
    expect(server.holds.size()).toBe(0);
    await expect(send(`${url}/healthz`)).rejects.toThrow(); // closed

    const committed = new Map<string, number>();
    const charge = (adId: string, cpm: number) => {
      const campaignId = testWorld().creativeById.get(adId)?.campaignId as string;
      committed.set(campaignId, (committed.get(campaignId) ?? 0) + cpm / 1000);
    };
    charge(first?.adid ?? '', 3);
    charge(late[0]?.adid ?? '', 2);
    const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
    const ledger = createRedisLedger({ redis, budgets: { campaigns: testWorld().budgets }, keyPrefix: `${prefix}budget:` });
    try {
      for (const budget of testWorld().budgets) {
        const line = (await ledger.snapshot(budget.id)).lines.find((l) => l.period === 'daily');
        expect(line?.reserved, budget.id).toBe(0);
        expect(line?.spent ?? 0, budget.id).toBeCloseTo(committed.get(budget.id) ?? 0, 9);
      }
    } finally {
      await ledger.close();
      redis.disconnect();
    }
  });
});
