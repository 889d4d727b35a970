/**
 * The auction on core's synthetic traffic: real-looking requests (mixed CPC / CPM / CPA
 * campaigns, three slots with a 0.5 CPM floor), ranked by the traffic's true click probability.
 */
import { describe, expect, it } from 'vitest';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import type { AuctionResult } from '@ctrkit/core';
import { createAuction, createCandidateFilter, type PricingRule } from '../src/index.js';

const generator = createTrafficGenerator({ seed: 11, users: 2_000, candidatesPerRequest: 60 });
const traffic = [...generator.requests({ count: 150, stream: 'auction' })];
const alphas = [1, 0.7, 0.5];
const revenue = (result: AuctionResult) => result.winners.reduce((sum, w) => sum + w.priceCpm, 0);

describe('auctions on synthetic traffic', () => {
  const rules: PricingRule[] = ['first-price', 'second-price', 'gsp', 'vcg'];
  const auctions = Object.fromEntries(rules.map((rule) => [rule, createAuction({ pricing: rule, positionEffects: alphas, seed: 3 })])) as Record<PricingRule, ReturnType<typeof createAuction>>;

  it('fills every slot of a format with eligible candidates, and respects floors and bids', () => {
    let filled = 0;
    for (const { request, pClick } of traffic) {
      const result = auctions.gsp.run(request, pClick);
      const slots = request.context.slots ?? [];
      filled += result.winners.length;
      expect(result.winners.length).toBeLessThanOrEqual(slots.length);
      for (const winner of result.winners) {
        const slot = slots.find((s) => s.id === winner.slotId);
        const candidate = request.candidates.find((c) => c.adId === winner.adId);
        expect(candidate?.format).toBe(slot?.format);
        expect(winner.price).toBeLessThanOrEqual(candidate?.bid ?? 0);
        expect(winner.priceCpm).toBeGreaterThanOrEqual((slot?.floorCpm ?? 0) - 5e-7);
      }
      expect(result.winners.length + result.rejected.length).toBe(request.candidates.length);
    }
    // Sixty candidates for three slots: nearly every slot should be sold.
    expect(filled).toBeGreaterThan(0.9 * 3 * traffic.length);
  });

  it('orders revenue at truthful bids: first price ≥ second price ≥ GSP ≥ VCG', () => {
    const totals = Object.fromEntries(rules.map((rule) => [rule, 0])) as Record<PricingRule, number>;
    for (const { request, pClick } of traffic) {
      const results = Object.fromEntries(rules.map((rule) => [rule, auctions[rule].run(request, pClick)])) as Record<PricingRule, AuctionResult>;
      // Same allocation under every rule: prices never change who wins.
      for (const rule of rules) expect(results[rule].winners.map((w) => w.adId)).toEqual(results.gsp.winners.map((w) => w.adId));
      for (const rule of rules) totals[rule] += revenue(results[rule]);
      expect(revenue(results['first-price'])).toBeGreaterThanOrEqual(revenue(results['second-price']) - 1e-6);
      expect(revenue(results['second-price'])).toBeGreaterThanOrEqual(revenue(results.gsp) - 1e-6);
      expect(revenue(results.gsp)).toBeGreaterThanOrEqual(revenue(results.vcg) - 1e-6);
    }
    expect(totals.gsp).toBeGreaterThan(totals.vcg);
  });

  it('ranking by expected value earns more expected value than ranking by bid alone', () => {
    // Welfare = Σ α_slot × eCPM of the winner, with the traffic's true click probabilities.
    let byValue = 0;
    let byBid = 0;
    const blind = createAuction({ positionEffects: alphas, squashing: 0, useQuality: false });
    for (const { request, pClick } of traffic) {
      const welfare = (result: AuctionResult) =>
        result.winners.reduce((sum, w) => {
          const i = request.candidates.findIndex((c) => c.adId === w.adId);
          const c = request.candidates[i];
          if (c === undefined) return sum;
          const p = pClick[i] as number;
          const ecpm = c.bidType === 'CPM' ? c.bid : c.bidType === 'CPC' ? 1000 * p * c.bid : 1000 * p * (c.pCvr ?? 0) * c.bid;
          return sum + (alphas[w.position] ?? 0.5) * ecpm;
        }, 0);
      byValue += welfare(auctions.gsp.run(request, pClick));
      byBid += welfare(blind.run(request, pClick));
    }
    expect(byValue).toBeGreaterThan(byBid);
  });

  it('targeting the traffic’s own users changes winners only through eligibility', () => {
    const { request, pClick } = traffic[0] as (typeof traffic)[number];
    const country = request.user.country ?? 'FR';
    const others = createCandidateFilter({ targeting: (c) => (c.campaignId.endsWith('1') ? { excludeCountries: [country] } : undefined) });
    const result = createAuction({ positionEffects: alphas, filter: others, seed: 3 }).run(request, pClick);
    for (const winner of result.winners) expect(winner.campaignId.endsWith('1')).toBe(false);
    const excluded = request.candidates.filter((c) => c.campaignId.endsWith('1')).length;
    expect(excluded).toBeGreaterThan(0);
    expect(result.rejected.filter((r) => r.reason === 'targeting_geo').length).toBe(excluded);
  });
});
