/**
 * Each campaign's day two as the demo reports it: budget and plan, spend (the day's and all of
 * it), events, utilization, and cumulative spend against the plan hour by hour; and the overspend
 * against the day's budget lines, to the micro.
 */
import type { SimCampaign } from '@ctrkit/core/sim';
import type { CampaignBudget } from './campaign-budgets.js';
import type { CampaignTally } from './day-two.js';
import type { CampaignDay } from './scenario-report.js';

/**
 * The campaign days.
 *
 * @param campaigns - The world's campaigns.
 * @param budgets - Their budgets and plans.
 * @param tallies - What day two counted per campaign.
 * @param spendByHour - Spend committed per hour of day two, per campaign.
 * @returns One day per campaign, in the world's order.
 */
export function campaignDaysOf(
  campaigns: readonly SimCampaign[],
  budgets: ReadonlyMap<string, CampaignBudget>,
  tallies: ReadonlyMap<string, CampaignTally>,
  spendByHour: ReadonlyMap<string, Float64Array>,
): CampaignDay[] {
  return campaigns.map((c) => {
    const { budget, plan, weights } = budgets.get(c.id) as CampaignBudget;
    const figures = tallies.get(c.id)!;
    const hourly = spendByHour.get(c.id)!;
    const spendCumulative: number[] = [];
    const planCumulative: number[] = [];
    const totalWeight = weights.reduce((s, w) => s + w, 0);
    let spent = 0;
    let planned = 0;
    for (let h = 0; h < 24; h++) {
      spent += hourly[h] as number;
      // An as-soon-as-possible plan means the whole budget is open from the first hour.
      planned = plan === 'asap' ? budget : planned + ((weights[Math.floor((h * weights.length) / 24)] ?? 0) / (totalWeight * (weights.length / 24))) * budget;
      spendCumulative.push(spent);
      planCumulative.push(Math.min(budget, planned));
    }
    return {
      campaignId: c.id,
      bidType: c.bidType,
      plan,
      budget,
      spend: figures.spendMicros / 1e6,
      daySpend: figures.daySpendMicros / 1e6,
      impressions: figures.impressions,
      clicks: figures.clicks,
      conversions: figures.conversions,
      utilization: figures.daySpendMicros / 1e6 / budget,
      spendByHour: spendCumulative,
      planByHour: planCumulative,
    };
  });
}

/**
 * What the campaigns committed on day two beyond their budgets (the ledger's daily line), to the micro.
 *
 * @param days - The campaign days.
 * @returns The overspend, in currency units.
 */
export function overspendOf(days: readonly CampaignDay[]): number {
  return days.reduce((sum, c) => sum + Math.max(0, Math.round(c.daySpend * 1e6) - Math.round(c.budget * 1e6)), 0) / 1e6;
}
