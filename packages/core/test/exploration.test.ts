/**
 * The explorer: which requests explore (a seeded share), the per-ad uncertainty (checked against
 * hand-computed Laplace posteriors), the Thompson draws (standard normal), determinism, bounds,
 * and the ad selector ranking by it while winners keep the model's pCTR.
 */
import { describe, expect, it } from 'vitest';
import {
  createAdSelector,
  createExplorer,
  type AdCandidate,
  type AdRequest,
  type AuctionResult,
  type AuctionStage,
  type PredictionResult,
  type Predictor,
  type StoreLookup,
} from '../src/index.js';

const ad = (adId: string): AdCandidate => ({ adId, advertiserId: 'x', campaignId: `c-${adId}`, format: 'display', category: 'k', bid: 1, bidType: 'CPC' });
const requestOf = (requestId: string, ids: readonly string[]): AdRequest => ({
  requestId,
  user: { id: 'u' },
  context: { timestamp: 0, slots: [{ id: 's0', format: 'display', position: 0 }] },
  candidates: ids.map(ad),
});
const lookupOf = (shown: readonly number[], names: readonly string[] = ['ad.imp.1h', 'ad.imp.1d']): StoreLookup => {
  const width = names.length;
  const column = names.indexOf('ad.imp.1d');
  const values = new Float32Array(shown.length * width);
  shown.forEach((n, row) => {
    if (column >= 0) values[row * width + column] = n;
  });
  return { names, rows: shown.length, values, degraded: false };
};
const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('createExplorer', () => {
  it('explores about `share` of requests, chosen by a hash of the seed and the request id', () => {
    const explorer = createExplorer({ share: 0.1, seed: 3 });
    const pCtr = new Float32Array([0.05]);
    let explored = 0;
    const total = 20_000;
    for (let k = 0; k < total; k++) if (explorer.rank(requestOf(`r${k}`, ['a']), pCtr).rankPctr !== undefined) explored++;
    // Binomial(20,000, 0.1): sd 42.4; within 4 sd.
    expect(Math.abs(explored - 0.1 * total)).toBeLessThan(4 * Math.sqrt(total * 0.1 * 0.9));
    expect(createExplorer({ share: 0 }).rank(requestOf('r1', ['a']), pCtr).rankPctr).toBeUndefined();
    for (let k = 0; k < 100; k++) expect(createExplorer({ share: 1 }).rank(requestOf(`r${k}`, ['a']), pCtr).rankPctr).toBeDefined();
  });

  it('adds κ posterior standard deviations of a per-ad logit offset (optimistic), hand-computed', () => {
    const explorer = createExplorer({ share: 1, method: 'optimistic', priorSd: 1, optimism: 2 });
    const pCtr = new Float32Array([0.1, 0.1, 0.02]);
    const { rankPctr } = explorer.rank(requestOf('r', ['cold', 'shown', 'often']), pCtr, lookupOf([0, 100, 10_000]));
    // sd = 1 / sqrt(1 / priorSd² + n p (1 − p)): n = 0 → 1; n = 100, p = 0.1 → 1 / sqrt(10);
    // n = 10,000, p = 0.02 → 1 / sqrt(1 + 196) = 1 / sqrt(197).
    const p = (x: number) => Math.fround(x);
    expect(rankPctr![0]).toBeCloseTo(p(sigmoid(logit(p(0.1)) + 2)), 6);
    expect(rankPctr![1]).toBeCloseTo(p(sigmoid(logit(p(0.1)) + 2 / Math.sqrt(10))), 6);
    expect(rankPctr![2]).toBeCloseTo(p(sigmoid(logit(p(0.02)) + 2 / Math.sqrt(197))), 6);
  });

  it('counts a missing counter, a NaN value and no lookup as no evidence', () => {
    const explorer = createExplorer({ share: 1, method: 'optimistic' });
    const pCtr = new Float32Array([0.1]);
    const cold = sigmoid(logit(Math.fround(0.1)) + 1);
    expect(explorer.rank(requestOf('r', ['a']), pCtr).rankPctr![0]).toBeCloseTo(cold, 6);
    expect(explorer.rank(requestOf('r', ['a']), pCtr, lookupOf([500], ['ad.imp.1h'])).rankPctr![0]).toBeCloseTo(cold, 6);
    expect(explorer.rank(requestOf('r', ['a']), pCtr, lookupOf([Number.NaN])).rankPctr![0]).toBeCloseTo(cold, 6);
  });

  it('reads a repeated ad’s evidence from its one lookup row', () => {
    const explorer = createExplorer({ share: 1, method: 'optimistic' });
    // Candidates a, b, a: the predictor looked up a and b once each (rows 0 and 1).
    const { rankPctr } = explorer.rank(requestOf('r', ['a', 'b', 'a']), new Float32Array([0.1, 0.1, 0.1]), lookupOf([0, 1_000]));
    expect(rankPctr![2]).toBe(rankPctr![0]);
    expect(rankPctr![1]).toBeLessThan(rankPctr![0] as number);
  });

  it('draws Thompson offsets that are standard normal once divided by each ad’s sd, the same for the same request and seed', () => {
    const explorer = createExplorer({ share: 1, seed: 'thompson' });
    const ids = Array.from({ length: 200 }, (_, i) => `ad-${i}`);
    const pCtr = new Float32Array(ids.length).fill(0.05);
    const zs: number[] = [];
    for (let k = 0; k < 50; k++) {
      const { rankPctr } = explorer.rank(requestOf(`r${k}`, ids), pCtr);
      for (const q of rankPctr!) zs.push(logit(q) - logit(Math.fround(0.05))); // sd 1 for unseen ads
    }
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
    // 10,000 draws: the mean's sd is 0.01, the variance's about 0.014; within 4 sd of each.
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(variance - 1)).toBeLessThan(0.06);
    expect(Math.max(...zs.map(Math.abs))).toBeLessThan(6.8);
    const again = createExplorer({ share: 1, seed: 'thompson' }).rank(requestOf('r7', ids), pCtr).rankPctr!;
    expect(Array.from(again)).toEqual(Array.from(explorer.rank(requestOf('r7', ids), pCtr).rankPctr!));
    const other = createExplorer({ share: 1, seed: 'other' }).rank(requestOf('r7', ids), pCtr).rankPctr!;
    expect(Array.from(other)).not.toEqual(Array.from(again));
  });

  it('shrinks the draws of an ad that has been shown, and keeps every pCTR inside (0, 1)', () => {
    const explorer = createExplorer({ share: 1, priorSd: 3, seed: 1 });
    let coldSpread = 0;
    let shownSpread = 0;
    for (let k = 0; k < 500; k++) {
      const { rankPctr } = explorer.rank(requestOf(`r${k}`, ['cold', 'shown', 'zero', 'one']), new Float32Array([0.03, 0.03, 0, 1]), lookupOf([0, 5_000, 0, 0]));
      coldSpread += (logit(rankPctr![0] as number) - logit(Math.fround(0.03))) ** 2;
      shownSpread += (logit(rankPctr![1] as number) - logit(Math.fround(0.03))) ** 2;
      for (const q of rankPctr!) expect(q > 0 && q < 1).toBe(true);
    }
    // Expected mean squares: 9 for the cold ad, 1 / (1/9 + 5,000 × 0.03 × 0.97) ≈ 0.0069 for the shown one.
    expect(coldSpread / 500).toBeGreaterThan(6);
    expect(shownSpread / 500).toBeLessThan(0.02);
  });

  it('refuses bad options with E_CONFIG', () => {
    for (const options of [{ share: -0.1 }, { share: 1.5 }, { priorSd: 0 }, { optimism: -1 }, { evidence: '' }, { method: 'greedy' as 'thompson' }, { seed: Number.NaN }]) {
      expect(() => createExplorer(options)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    }
  });
});

describe('createAdSelector with an explorer', () => {
  const predictor: Predictor = {
    predict: (r): Promise<PredictionResult> =>
      Promise.resolve({
        requestId: r.requestId,
        pCtr: new Float32Array([0.05, 0.04]),
        raw: new Float32Array([0.05, 0.04]),
        modelVersion: 'v1',
        degraded: [],
        timings: { lookup: 0, encode: 0, predict: 0, calibrate: 0, total: 0 },
        // 'known' has been shown 20,000 times, 'fresh' never.
        lookup: lookupOf([20_000, 0]),
      }),
  };
  const seen: Float32Array[] = [];
  /** One slot, highest bid × pCTR wins, pays its bid. */
  const auction: AuctionStage = {
    run(r, pCtr): AuctionResult {
      seen.push(Float32Array.from(pCtr));
      const best = pCtr[0]! >= pCtr[1]! ? 0 : 1;
      const c = r.candidates[best]!;
      return {
        requestId: r.requestId,
        winners: [{ adId: c.adId, campaignId: c.campaignId, advertiserId: c.advertiserId, slotId: 's0', position: 0, bidType: 'CPC', bid: 1, price: 1, priceCpm: 1000 * pCtr[best]!, pCtr: pCtr[best]!, score: 1000 * pCtr[best]! }],
        rejected: [],
      };
    },
  };

  it('ranks by the optimistic pCTR, so the unseen ad wins, and hands back the model’s pCTR beside the one it ranked by', async () => {
    const selector = createAdSelector({ predictor, auction, explorer: createExplorer({ share: 1, method: 'optimistic' }) });
    const selection = await selector.select(requestOf('r1', ['known', 'fresh']));
    expect(selection.explored).toBe(true);
    expect(selection.winners[0]!.adId).toBe('fresh');
    expect(selection.winners[0]!.pCtr).toBe(Math.fround(0.04));
    expect(selection.winners[0]!.rankPctr).toBeCloseTo(sigmoid(logit(Math.fround(0.04)) + 1), 6);
  });

  it('ranks by the model’s pCTR when the request does not explore, or without an explorer', async () => {
    for (const selector of [createAdSelector({ predictor, auction }), createAdSelector({ predictor, auction, explorer: createExplorer({ share: 0 }) })]) {
      const selection = await selector.select(requestOf('r1', ['known', 'fresh']));
      expect(selection.explored).toBe(false);
      expect(selection.winners[0]!.adId).toBe('known');
      expect(selection.winners[0]!.rankPctr).toBeUndefined();
      expect(Array.from(seen.at(-1)!)).toEqual([Math.fround(0.05), Math.fround(0.04)]);
    }
  });
});
