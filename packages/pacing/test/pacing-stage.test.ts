import { createAdSelector, createManualClock, createRandom, type AdRequest, type AuctionStage, type Predictor, type SpendLedger } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createDualController, createEvenPlan, createMemoryLedger, createPacer, createPacingStage, createThrottleController } from '../src/index.js';

describe('pacing stage', () => {
  it('asks each campaign pacer, feeds spend back, and handles unknown campaigns as configured', () => {
    const clock = createManualClock(Date.UTC(2026, 0, 5, 12));
    const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 100, clock });
    const stage = createPacingStage({ c1: pacer });
    const decision = stage.decide('c1');
    expect(decision.admit).toBe(true);
    expect(decision.multiplier).toBe(pacer.multiplier());
    stage.recordSpend('c1', 2.5);
    expect(JSON.stringify(pacer.state())).toContain('2.5');
    expect(stage.decide('nobody')).toEqual({ admit: true, multiplier: 1 });
    expect(createPacingStage({ c1: pacer }, { unknownCampaigns: 'refuse' }).decide('nobody')).toEqual({ admit: false, multiplier: 0 });
    expect(stage.campaigns()).toEqual(['c1']);
  });

  it('a throttled campaign is refused at the throttle rate', () => {
    const clock = createManualClock(Date.UTC(2026, 0, 5, 12));
    const pacer = createPacer({
      controller: createThrottleController({ initialRate: 0.25 }),
      plan: createEvenPlan(),
      dailyBudget: 100,
      clock,
      random: createRandom(1),
    });
    const stage = createPacingStage(new Map([['c1', pacer]]));
    let admitted = 0;
    for (let i = 0; i < 4000; i++) if (stage.decide('c1').admit) admitted++;
    expect(admitted / 4000).toBeGreaterThan(0.2);
    expect(admitted / 4000).toBeLessThan(0.3);
  });

  it('plugs into core’s ad selector with the memory ledger as its SpendLedger', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 5, 12));
    const ledger: SpendLedger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c1', dailyBudget: 1 }] }, clock });
    const request: AdRequest = {
      requestId: 'r',
      user: { id: 'u' },
      context: { timestamp: clock.now() },
      candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c1', format: 'display', category: 'k', bid: 0.6, bidType: 'CPC' }],
    };
    const predictor: Predictor = {
      predict: (r) => Promise.resolve({ requestId: r.requestId, pCtr: new Float32Array([0.1]), raw: new Float32Array([0.1]), modelVersion: 'v', degraded: [], timings: { lookup: 0, encode: 0, predict: 0, calibrate: 0, total: 0 } }),
    };
    const auction: AuctionStage = {
      run: (r, pCtr) => ({
        requestId: r.requestId,
        rejected: [],
        winners: [{ adId: 'a', campaignId: 'c1', advertiserId: 'x', slotId: 'default', position: 0, bidType: 'CPC', bid: 0.6, price: 0.6, priceCpm: 60, pCtr: pCtr[0] as number, score: 60 }],
      }),
    };
    const pacing = createPacingStage({ c1: createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 1, clock }) });
    const selector = createAdSelector({ predictor, auction, pacing, ledger, clock });
    const first = await selector.select(request);
    expect(first.winners).toHaveLength(1);
    // The first hold (0.6 of a 1.0 budget) is still open, so a second 0.6 cannot be held.
    const second = await selector.select({ ...request, requestId: 'r2' });
    expect(second.winners).toHaveLength(0);
    expect(second.rejected).toContainEqual(expect.objectContaining({ adId: 'a', reason: 'budget_exhausted' }));
  });
});
