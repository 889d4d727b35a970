/**
 * Day two's campaign budgets and pacing plans: sized from a dry run of the request path so that
 * some campaigns are budget-bound and others are not, with a mix of even, traffic-shaped and
 * as-soon-as-possible plans.
 */
import type { Predictor } from '@ctrkit/core';
import type { TrafficGenerator } from '@ctrkit/core/sim';
import type { Auction } from '@ctrkit/auction';
import { createAsapPlan, createEvenPlan, createTrafficShapedPlan, type PacingPlan } from '@ctrkit/pacing';

/** A campaign's day-two budget and the plan it is paced by. */
export interface CampaignBudget {
  readonly budget: number;
  /** `even`, `traffic` or `asap`. */
  readonly plan: string;
  /** The plan's weights over the day. */
  readonly weights: readonly number[];
}

/** Budget multiples of the dry run's expected spend, by campaign in turn: bound tight to ample. */
const FACTORS = [0.3, 0.6, 1.2, 3];

/**
 * The plan of the `k`-th campaign: even, traffic-shaped (learned from day one's times) or ASAP, in
 * turn. A fresh plan each call.
 *
 * @param k - The campaign's index.
 * @param timestamps - Day one's traffic times, for the traffic-shaped plan.
 * @returns Its name and plan.
 */
export function planOf(k: number, timestamps: readonly number[]): { name: string; plan: PacingPlan } {
  return k % 3 === 0 ? { name: 'even', plan: createEvenPlan() } : k % 3 === 1 ? { name: 'traffic', plan: createTrafficShapedPlan(timestamps) } : { name: 'asap', plan: createAsapPlan() };
}

/**
 * Runs day-two-like requests through the predictor and the auction (no pacing, no ledger), sums
 * each campaign's expected spend from the true probabilities, and sizes each budget as a multiple
 * of it for `requests` requests, at least two billable events.
 *
 * @param options - The world, the predictor and auction, day two's request count, day one's times.
 * @returns Each campaign's budget and plan.
 */
export async function sizeBudgets(options: {
  readonly generator: TrafficGenerator;
  readonly predictor: Predictor;
  readonly auction: Auction;
  readonly requests: number;
  readonly timestamps: readonly number[];
}): Promise<Map<string, CampaignBudget>> {
  const { generator, predictor, auction, requests } = options;
  const expectedSpend = new Map<string, number>();
  const dryRuns = Math.min(600, Math.max(100, Math.floor(requests / 10)));
  for (const { request } of generator.requests({ count: dryRuns, stream: 'dry-run', timeRange: [0.5, 1] })) {
    const prediction = await predictor.predict(request);
    const result = auction.run(request, prediction.pCtr);
    for (const winner of result.winners) {
      const i = request.candidates.findIndex((c) => c.adId === winner.adId);
      const pClick = generator.clickProbability(request, i, winner.position);
      const cost = winner.bidType === 'CPM' ? winner.price / 1000 : winner.bidType === 'CPC' ? winner.price * pClick : winner.price * pClick * generator.conversionProbability(request, i);
      expectedSpend.set(winner.campaignId, (expectedSpend.get(winner.campaignId) ?? 0) + cost);
    }
  }
  const budgets = new Map<string, CampaignBudget>();
  generator.campaigns.forEach((campaign, k) => {
    const perRequest = (expectedSpend.get(campaign.id) ?? 0) / dryRuns;
    // A budget must hold at least two billable events, or a CPC/CPA campaign could never bid.
    const floor = Math.max(0.5, campaign.bidType === 'CPM' ? 0 : 2 * campaign.bid);
    const budget = Math.max(floor, Math.round(perRequest * requests * (FACTORS[k % FACTORS.length] as number) * 100) / 100);
    const { name, plan } = planOf(k, options.timestamps);
    budgets.set(campaign.id, { budget, plan: name, weights: plan.weights });
  });
  return budgets;
}
