/**
 * Online learning in serving, end to end over HTTP: bids are answered, their impressions and some
 * clicks come back signed through `POST /events`, the label joiner labels each served row when
 * its click comes or its attribution window closes (by the server's injected clock), and the
 * online refresher decides whether its FTRL-LR snapshot may replace the serving DCN-v2.
 */
import { systemClock, type Clock } from '@ctrkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { metric } from './fixtures/prometheus-text.js';
import { startInProcess, stopAll } from './fixtures/servers.js';
import { ensureTestModels, MODEL_V1 } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

beforeAll(ensureTestModels);
afterAll(stopAll);

const WINDOW_MS = 1_000;
/** Settings small enough for a few dozen impressions: 20 held out, a decision every 10 rows learned. */
const ONLINE = { ATTRIBUTION_WINDOW_MS: String(WINDOW_MS), ONLINE_HOLDOUT_ROWS: '20', ONLINE_MIN_ROWS: '20', ONLINE_MIN_POSITIVES: '1', ONLINE_EVERY_ROWS: '10', ONLINE_EVERY_MS: '600000' };

describe('online learning', () => {
  it('joins the served row of every signed impression to its click and decides on a candidate; /metrics shows both', async () => {
    // Real time plus a jump: the bidder times its deadline on the system clock, so the server's clock must run with it.
    let offset = 0;
    const clock: Clock & { advance(ms: number): void } = { now: () => systemClock.now() + offset, advance: (ms) => void (offset += ms) };
    const { server, url } = await startInProcess({ MODEL_DIR: MODEL_V1, ...ONLINE }, { clock });
    const world = testWorld();
    let impressions = 0;
    let clicks = 0;
    /** Bids until `count` more impressions are served and sent back signed; every third is clicked. */
    const serve = async (count: number): Promise<void> => {
      const until = impressions + count;
      while (impressions < until) {
        for (const request of makeBidRequests(10)) {
          for (const bid of bidsOf(await postJson(`${url}/openrtb2/bid`, request))) {
            if (impressions >= until) break;
            const creative = world.creativeById.get(bid.adid);
            const base = { requestId: request.id, userId: request.user.id, adId: bid.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, format: 'display', token: bid.ext.ctrkit.token };
            const now = clock.now();
            const events: Record<string, unknown>[] = [{ ...base, type: 'impression', eventId: `${request.id}:${bid.impid}:i`, timestamp: now }];
            if (impressions % 3 === 0) events.push({ ...base, type: 'click', eventId: `${request.id}:${bid.impid}:c`, timestamp: now + 1 });
            expect((await postJson(`${url}/events`, { events })).status).toBe(200);
            impressions++;
            clicks += events.length - 1;
          }
        }
      }
    };
    const online = server.online();
    expect(online).toBeDefined();

    await serve(60);
    // Clicks label their rows at once; the rest become negatives when the window (plus the joiner's 5 s lateness) closes.
    expect(online!.joinerStats()).toMatchObject({ impressions: 60, positives: 20, negatives: 0, pending: 60, orphans: { click: 0, conversion: 0 } });
    clock.advance(WINDOW_MS + 5_001);
    const first = await online!.tick();
    // A click's label comes at once, a non-click's only when its window closes: the newest joined rows
    // are this cohort's negatives, and a window without a click is not judged.
    expect(first).toMatchObject({ swapped: false, reason: 'too-few-positives', rows: 20, positives: 0 });

    await serve(15);
    clock.advance(WINDOW_MS + 5_001);
    const second = await online!.tick();
    const stats = online!.stats();
    expect(online!.joinerStats()).toMatchObject({ pending: 0, positives: clicks, negatives: impressions - clicks });
    expect(stats.rowsAdded).toBe(75);
    expect(stats.rowsLearned).toBe(75 - 20); // the 20 most recent are held out
    // Judged on both models' log loss this time: the window holds the second cohort's clicks.
    expect(second?.rows).toBe(20);
    expect(second?.positives).toBeGreaterThanOrEqual(1);
    expect(['not-worse', 'worse']).toContain(second?.reason);
    expect(second?.candidate?.logLoss).toBeGreaterThan(0);
    expect(second?.serving?.logLoss).toBeGreaterThan(0);
    expect(stats.swaps + stats.refusals).toBe(2);

    const text = (await send(`${url}/metrics`)).text;
    expect(metric(text, 'ctrkit_joined_rows_total', { label: 'positive' })).toBe(clicks);
    expect(metric(text, 'ctrkit_joined_rows_total', { label: 'negative' })).toBe(impressions - clicks);
    expect(metric(text, 'ctrkit_online_rows_learned_total')).toBe(impressions - 20);
    expect(metric(text, 'ctrkit_online_swaps_total')).toBe(stats.swaps);
    expect(metric(text, 'ctrkit_online_refusals_total')).toBe(stats.refusals);
    // After a swap the FTRL snapshot serves, else the DCN-v2 still does.
    expect(metric(text, 'adserver_model_info', { version: stats.servingVersion })).toBe(1);
    await server.shutdown();
  });

  it('is off with ONLINE_LEARNING=0: no loop, no online series', async () => {
    const { server, url } = await startInProcess({ MODEL_DIR: MODEL_V1, ONLINE_LEARNING: '0' });
    expect(server.online()).toBeUndefined();
    const text = (await send(`${url}/metrics`)).text;
    expect(text).not.toContain('ctrkit_online_swaps_total');
    expect(text).not.toContain('ctrkit_joined_rows_total');
    await server.shutdown();
  });
});
