import { describe, expect, it } from 'vitest';
import {
  createAdSelector,
  createManualClock,
  createPipelineMetrics,
  CtrkitError,
  type AdCandidate,
  type AdEvent,
  type AdRequest,
  type AuctionResult,
  type AuctionStage,
  type AuctionStageInputs,
  type BudgetHold,
  type BudgetRefusal,
  type PacingStage,
  type PredictionResult,
  type Rejection,
  type Predictor,
  type SpendLedger,
} from '../src/index.js';

const candidate = (adId: string, campaignId: string, bidType: 'CPC' | 'CPM' = 'CPC', bid = 1): AdCandidate => ({
  adId, advertiserId: 'x', campaignId, format: 'display', category: 'k', bid, bidType,
});
const request: AdRequest = {
  requestId: 'r1',
  user: { id: 'u' },
  context: { timestamp: 0, slots: [{ id: 's0', format: 'display', position: 0 }, { id: 's1', format: 'display', position: 1 }] },
  candidates: [candidate('a', 'c1'), candidate('b', 'c2'), candidate('c', 'c3', 'CPM', 8)],
};

const predictor: Predictor = {
  predict: (r): Promise<PredictionResult> =>
    Promise.resolve({
      requestId: r.requestId,
      pCtr: new Float32Array([0.05, 0.04, 0.01]),
      raw: new Float32Array([0.05, 0.04, 0.01]),
      modelVersion: 'v1',
      degraded: [],
      timings: { lookup: 0, encode: 0, predict: 0, calibrate: 0, total: 0 },
    }),
};

/** A first-price auction over admitted, non-exhausted candidates by eCPM, one winner per slot. */
const auction: AuctionStage & { calls: AuctionStageInputs[] } = {
  calls: [],
  run(r, pCtr, inputs = {}): AuctionResult {
    auction.calls.push(inputs);
    const scored = r.candidates
      .map((c, i) => ({ c, i, ecpm: (c.bidType === 'CPM' ? c.bid : c.bid * (pCtr[i] as number) * 1000) * (inputs.bidMultiplier?.[i] ?? 1) }))
      .filter(({ i }) => (inputs.admitted?.[i] ?? 1) && !(inputs.exhausted?.[i] ?? 0))
      .sort((a, b) => b.ecpm - a.ecpm);
    const slots = r.context.slots ?? [];
    const winners = scored.slice(0, slots.length).map(({ c, i, ecpm }, k) => ({
      adId: c.adId, campaignId: c.campaignId, advertiserId: c.advertiserId, slotId: slots[k]!.id, position: k,
      bidType: c.bidType, bid: c.bid, price: c.bid, priceCpm: ecpm, pCtr: pCtr[i] as number, score: ecpm,
    }));
    const excluded = r.candidates.flatMap((c, i): Rejection[] =>
      (inputs.exhausted?.[i] ?? 0)
        ? [{ adId: c.adId, reason: 'budget_exhausted' as const }]
        : (inputs.admitted?.[i] ?? 1)
          ? []
          : [{ adId: c.adId, reason: 'pacing_throttled' as const }],
    );
    return { requestId: r.requestId, winners, rejected: [...excluded, ...scored.slice(slots.length).map(({ c }) => ({ adId: c.adId, reason: 'outranked' as const }))] };
  },
};

function memoryLedger(budgets: Record<string, number>, mode: { down: boolean } = { down: false }): SpendLedger & { spent: Record<string, number>; held: Record<string, number> } {
  let next = 0;
  const ledger = {
    spent: {} as Record<string, number>,
    held: {} as Record<string, number>,
    reserve(campaignId: string, maxPrice: number): Promise<BudgetHold | BudgetRefusal> {
      if (mode.down) return Promise.reject(new CtrkitError('E_LEDGER', 'redis unreachable'));
      const left = (budgets[campaignId] ?? 0) - (ledger.spent[campaignId] ?? 0) - (ledger.held[campaignId] ?? 0);
      if (left < maxPrice) return Promise.resolve({ ok: false, campaignId, reason: 'budget', detail: `only ${left} left` });
      ledger.held[campaignId] = (ledger.held[campaignId] ?? 0) + maxPrice;
      return Promise.resolve({ ok: true, id: `h${next++}`, campaignId, amount: maxPrice, expiresAt: 1e12 });
    },
    commit(hold: BudgetHold, price: number) {
      ledger.held[hold.campaignId]! -= hold.amount;
      ledger.spent[hold.campaignId] = (ledger.spent[hold.campaignId] ?? 0) + price;
      return Promise.resolve();
    },
    release(hold: BudgetHold) {
      ledger.held[hold.campaignId]! -= hold.amount;
      return Promise.resolve();
    },
  };
  return ledger;
}

const event = (type: AdEvent['type'], adId: string, campaignId: string, cost?: number): AdEvent =>
  ({ type, eventId: `${type}-${adId}`, requestId: 'r1', timestamp: 1, userId: 'u', adId, campaignId, advertiserId: 'x', category: 'k', ...(cost === undefined ? {} : { cost }) }) as AdEvent;

describe('ad selector', () => {
  it('holds budget for each winner and settles it on the billable event only', async () => {
    const ledger = memoryLedger({ c1: 10, c2: 10, c3: 10 });
    const selector = createAdSelector({ predictor, auction, ledger });
    const selection = await selector.select(request);
    expect(selection.winners.map((w) => w.adId)).toEqual(['a', 'b']);
    expect(selection.winners.every((w) => w.hold?.ok)).toBe(true);
    expect(selector.openHolds()).toBe(2);
    expect(await selector.settle(event('impression', 'a', 'c1'))).toBe(0); // CPC bills clicks
    expect(await selector.settle(event('click', 'a', 'c1', 0.7))).toBe(0.7);
    expect(ledger.spent.c1).toBe(0.7);
    expect(await selector.settle(event('click', 'a', 'c1', 0.7))).toBe(0); // settled once
    expect(await selector.release('r1', 'b')).toBe(true); // no click came for b
    expect(await selector.release('r1', 'b')).toBe(false);
    expect(ledger.held.c2).toBe(0);
    expect(await selector.releaseAll()).toBe(0);
  });

  it('re-runs the auction without a campaign whose budget is spent', async () => {
    const ledger = memoryLedger({ c1: 0.5, c2: 10, c3: 10 }); // c1 cannot hold a 1.0 click
    const selector = createAdSelector({ predictor, auction, ledger });
    const selection = await selector.select(request);
    expect(selection.winners.map((w) => `${w.slotId}:${w.adId}`)).toEqual(['s0:b', 's1:c']);
    expect(selection.rejected).toContainEqual(expect.objectContaining({ adId: 'a', reason: 'budget_exhausted' }));
    expect(auction.calls.at(-1)?.exhausted?.[0]).toBe(1);
    expect(selection.winners.find((w) => w.adId === 'c')?.charge).toBeCloseTo(8 / 1000, 12);
  });

  it('does not bid when the ledger is unreachable, and says so', async () => {
    const metrics = createPipelineMetrics();
    const selector = createAdSelector({ predictor, auction, ledger: memoryLedger({ c1: 10 }, { down: true }), metrics });
    const selection = await selector.select(request);
    expect(selection.winners).toEqual([]);
    expect(selection.degraded).toContainEqual(expect.objectContaining({ stage: 'ledger', reason: 'unavailable', action: 'no-bid' }));
    expect(metrics.snapshot().degradations).toContainEqual({ stage: 'ledger', label: 'unavailable', count: 2 });
  });

  it('passes pacing multipliers and admission to the auction, and spend back to pacing', async () => {
    const spent: Record<string, number> = {};
    const pacing: PacingStage = {
      decide: (campaignId) => (campaignId === 'c1' ? { admit: false, multiplier: 1 } : { admit: true, multiplier: 0.5 }),
      recordSpend: (campaignId, amount) => {
        spent[campaignId] = (spent[campaignId] ?? 0) + amount;
      },
    };
    const selector = createAdSelector({ predictor, auction, pacing, ledger: memoryLedger({ c1: 10, c2: 10, c3: 10 }) });
    const selection = await selector.select(request);
    expect(selection.winners.map((w) => w.adId)).toEqual(['b', 'c']);
    const inputs = auction.calls.at(-1)!;
    expect(Array.from(inputs.admitted as Uint8Array)).toEqual([0, 1, 1]);
    expect(Array.from(inputs.bidMultiplier as Float64Array)).toEqual([1, 0.5, 0.5]);
    await selector.settle(event('impression', 'c', 'c3'));
    expect(spent.c3).toBeCloseTo(0.008, 12);
  });

  it('a throwing pacer or auction means no bid, never an exception', async () => {
    const pacing: PacingStage = { decide: () => { throw new Error('state corrupt'); }, recordSpend: () => undefined };
    const broken: AuctionStage = { run: () => { throw new CtrkitError('E_INPUT', 'bad slot'); } };
    const a = await createAdSelector({ predictor, auction, pacing }).select(request);
    expect(a.winners).toEqual([]);
    expect(a.degraded[0]).toMatchObject({ stage: 'pace', action: 'no-bid' });
    const b = await createAdSelector({ predictor, auction: broken }).select(request);
    expect(b.winners).toEqual([]);
    expect(b.degraded[0]).toMatchObject({ stage: 'auction', detail: 'E_INPUT: bad slot' });
  });

  it('releases holds whose billable event never came', async () => {
    const clock = createManualClock(0);
    const ledger = memoryLedger({ c1: 10, c2: 10 });
    const selector = createAdSelector({ predictor, auction, ledger, clock, holdTtlMs: 1000 });
    await selector.select(request);
    clock.advance(999);
    expect(await selector.releaseExpired()).toBe(0);
    clock.advance(1);
    expect(await selector.releaseExpired()).toBe(2);
    expect(ledger.held.c1).toBe(0);
  });
});
