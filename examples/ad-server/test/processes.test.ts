/**
 * Real server processes (`src/main.ts` under node + tsx) on the shared Redis under a key prefix
 * of their own: two processes share budgets and counters; SIGTERM in the middle of a burst of
 * auctions leaves nothing held in the ledger and spend exactly as committed; SIGHUP swaps in the
 * model written into MODEL_DIR.
 */
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisLedger, type RedisLedger } from '@ctrkit/pacing/redis';
import { createWorld } from '../src/world.js';
import { pollUntil, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { ADMIN_TOKEN, spawnServer, stopAll, type Child } from './fixtures/servers.js';
import { deleteSharedKeys, SHARED_REDIS_URL } from './fixtures/shared-redis.js';
import { ensureTestModels, MODEL_ROOT, MODEL_V1, MODEL_V2 } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 240_000 });

const available = await sharedRedisFor('example-ad-server: server processes on the shared Redis');
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const prefixes: string[] = [];
const dirs: string[] = [];

beforeAll(ensureTestModels);
afterAll(async () => {
  await stopAll();
  for (const prefix of prefixes) await deleteSharedKeys(prefix);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A ledger on the same keys, to read what the servers did (snapshots only: it never reserves). */
function reader(prefix: string, budgetScale: number): { ledger: RedisLedger; close(): Promise<void> } {
  const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
  const ledger = createRedisLedger({ redis, budgets: { campaigns: createWorld({ budgetScale }).budgets }, keyPrefix: `${prefix}budget:` });
  return {
    ledger,
    async close() {
      await ledger.close();
      redis.disconnect();
    },
  };
}

async function daily(ledger: RedisLedger, campaignId: string) {
  const line = (await ledger.snapshot(campaignId)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
  if (line === undefined) throw new Error(`no daily line for ${campaignId}`);
  return line;
}

/** Sends SIGTERM and waits for the exit. */
async function terminate(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  child.process.kill('SIGTERM');
  return child.exited;
}

describe.skipIf(!available)('two server processes on one Redis', () => {
  it('share budgets (total spend ≤ budget) and counters', async () => {
    const prefix = uniqueKeyPrefix('ad-server', 'fleet');
    prefixes.push(prefix);
    const BUDGET_SCALE = 0.001; // daily budgets of 0.05–0.5: a few dozen wins each
    const LEASE = 0.05; // one maximal bid (50 CPM) per lease
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, BUDGET_SCALE: String(BUDGET_SCALE), PACING: 'none', LEASE_AMOUNT: String(LEASE), EVENTS_REQUIRE_TOKEN: '0' }; // the host's own unsigned events below
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    const servers = [a, b] as const;
    const budgets = new Map(createWorld({ budgetScale: BUDGET_SCALE }).budgets.map((x) => [x.id, x.dailyBudget as number]));

    // Both bid on the same traffic stream, alternately, four at a time each; every bid wins at its price.
    const committed = new Map<string, number>();
    let wins = 0;
    let budgetNoBids = 0;
    const requests = makeBidRequests(400, { imps: 2 });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        const server = servers[worker % 2] as Child;
        while (next < requests.length) {
          const answer = await postJson(`${server.url}/openrtb2/bid`, requests[next++]);
          expect([200, 204]).toContain(answer.status);
          if (answer.status === 204 && /^(budget|pacing)/.test(answer.headers.get('x-ctrkit-reason') ?? '')) budgetNoBids++;
          for (const bid of bidsOf(answer)) {
            const settled = await send(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)));
            if (settled.headers.get('x-ctrkit-settled') !== 'committed') continue;
            wins++;
            const campaignId = testWorld().creativeById.get(bid.adid)?.campaignId as string;
            committed.set(campaignId, (committed.get(campaignId) ?? 0) + Math.round((bid.price / 1000) * 1e6) / 1e6);
          }
        }
      }),
    );
    expect(wins).toBeGreaterThan(50);

    // Counters recorded through one process are seen by the other.
    const creative = testWorld().catalog[7];
    const userId = `u-fleet-${randomUUID().slice(0, 8)}`;
    const event = { type: 'click', eventId: `${userId}:c`, requestId: `${userId}:r`, timestamp: Date.now() - 1_000, userId, adId: creative?.adId, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category };
    expect((await postJson(`${a.url}/events`, { events: [{ ...event, type: 'impression', eventId: `${userId}:i` }, event] })).status).toBe(200);
    const seen = await send(`${b.url}/admin/counters?user=${userId}&ad=${creative?.adId}`, { headers: auth });
    expect(seen.status).toBe(200);
    const counters = (seen.json as { counters: Record<string, number> }).counters;
    expect(counters['user_ad.imp.1d']).toBeGreaterThan(0.99);
    expect(counters['user_ad.click.1d']).toBeGreaterThan(0.99);
    expect(counters['user.click.30d']).toBeGreaterThan(0.99);

    // Both shut down cleanly: spend settled to Redis, leases returned.
    expect(await terminate(a)).toMatchObject({ code: 0 });
    expect(await terminate(b)).toMatchObject({ code: 0 });
    const { ledger, close } = reader(prefix, BUDGET_SCALE);
    try {
      let exhausted = 0;
      let total = 0;
      for (const [campaignId, budget] of budgets) {
        const line = await daily(ledger, campaignId);
        total += line.spent;
        // While both processes keep their leases, spend never exceeds the budget; the ledger's stated bound is one lease.
        expect(line.spent, campaignId).toBeLessThanOrEqual(budget + 1e-9);
        expect(line.spent, campaignId).toBeLessThanOrEqual(budget + ledger.overspendBound(campaignId));
        expect(line.reserved, campaignId).toBe(0);
        expect(line.spent, campaignId).toBeCloseTo(committed.get(campaignId) ?? 0, 6);
        if (line.remaining < 0.05) exhausted++;
      }
      expect(total).toBeGreaterThan(0);
      expect(exhausted).toBeGreaterThan(3); // the budget did bind, in both processes' bids
      expect(budgetNoBids).toBeGreaterThan(0); // and both then answered no-bid for it
    } finally {
      await close();
    }
  });

  it('SIGTERM in the middle of a burst: auctions in flight finish, then nothing is left held and spend is as committed', async () => {
    const prefix = uniqueKeyPrefix('ad-server', 'sigterm');
    prefixes.push(prefix);
    const server = await spawnServer({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SHUTDOWN_GRACE_MS: '1500', PACING: 'none', LOG_LEVEL: 'info' });
    const requests = makeBidRequests(60, { imps: 2 });
    const committed = new Map<string, number>();
    const statuses: (number | string)[] = [];
    let answered = 0;
    let signaled = false;
    let winsAfterSignal = 0;
    await Promise.all(
      requests.map(async (request, i) => {
        // Spread the burst over ~200 ms so the signal lands in the middle of it.
        await new Promise((resolve) => setTimeout(resolve, i * 3));
        let answer;
        try {
          answer = await postJson(`${server.url}/openrtb2/bid`, request);
        } catch (error) {
          statuses.push(`refused: ${(error as Error).message}`); // the listener has closed
          return;
        }
        statuses.push(answer.status);
        if (++answered === 10 && !signaled) {
          signaled = true;
          server.process.kill('SIGTERM');
        }
        // Win notices for every other bid, before and after the signal (the grace period accepts them).
        const bids = bidsOf(answer);
        for (const bid of bids.filter((_, k) => (i + k) % 2 === 0)) {
          try {
            const settled = await send(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)));
            if (settled.headers.get('x-ctrkit-settled') !== 'committed') continue;
            if (signaled) winsAfterSignal++;
            const campaignId = testWorld().creativeById.get(bid.adid)?.campaignId as string;
            committed.set(campaignId, (committed.get(campaignId) ?? 0) + Math.round((bid.price / 1000) * 1e6) / 1e6);
          } catch {
            // closed meanwhile: that bid's hold is released at shutdown
          }
        }
      }),
    );
    const exit = await server.exited;
    expect(exit.code, server.output()).toBe(0);
    // Every answer was a bid, a no-bid, or "shutting down" — never an error.
    for (const status of statuses) expect(typeof status === 'string' || [200, 204, 503].includes(status), String(status)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
    expect(statuses.some((s) => s === 503 || typeof s === 'string')).toBe(true); // some came after the signal
    expect(server.output()).toMatch(/"msg":"shut down"/);
    expect(winsAfterSignal).toBeGreaterThan(0);

    const { ledger, close } = reader(prefix, 1);
    try {
      for (const budget of createWorld().budgets) {
        const line = await daily(ledger, budget.id);
        expect(line.reserved, budget.id).toBe(0);
        expect(line.spent, budget.id).toBeCloseTo(committed.get(budget.id) ?? 0, 6);
      }
    } finally {
      await close();
    }
  });

  it('SIGHUP loads the model written into MODEL_DIR beside the serving one and swaps it in', async () => {
    const dir = path.join(MODEL_ROOT, `hup-${randomUUID().slice(0, 8)}`);
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    for (const file of ['model.onnx', 'model.json']) copyFileSync(path.join(MODEL_V1, file), path.join(dir, file));
    const server = await spawnServer({ MODEL_DIR: dir, LOG_LEVEL: 'info' });
    const version = async () => (await postJson(`${server.url}/openrtb2/bid`, makeBidRequests(1)[0])).headers.get('x-ctrkit-model') ?? '';
    expect(await version()).toMatch(/-s1-/);
    // A new version arrives the way saveModel writes it: each file renamed into place, model first.
    for (const file of ['model.onnx', 'model.json']) {
      copyFileSync(path.join(MODEL_V2, file), path.join(dir, `${file}.tmp`));
      renameSync(path.join(dir, `${file}.tmp`), path.join(dir, file));
    }
    server.process.kill('SIGHUP');
    await pollUntil('the swap', async () => /-s2-/.test(await version()), { timeoutMs: 30_000, intervalMs: 50 });
    expect(server.output()).toMatch(/"msg":"model swapped"/);
    expect(await terminate(server)).toMatchObject({ code: 0 });
  });
});
