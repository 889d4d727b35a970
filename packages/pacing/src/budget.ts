import { CtrkitError } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { checkAmount, toMicros } from './money.js';

const DAY_MS = 86_400_000;

/**
 * A campaign's budgets. Give a daily budget, a lifetime budget or both; when the campaign's
 * advertiser has budgets too, every one of them applies and the most restrictive wins.
 *
 * @example
 * ```ts
 * import type { CampaignBudget } from '@ctrkit/pacing';
 * const campaign: CampaignBudget = { id: 'cmp-1', advertiserId: 'adv-1', dailyBudget: 250, lifetimeBudget: 5_000 };
 * ```
 */
export interface CampaignBudget {
  /** Campaign id (non-empty). */
  readonly id: string;
  /** The advertiser whose budgets also bind this campaign; it must be listed in `advertisers`. */
  readonly advertiserId?: string;
  /** Most the campaign may spend in one local day, in currency units. */
  readonly dailyBudget?: number;
  /** Most the campaign may ever spend, in currency units. */
  readonly lifetimeBudget?: number;
  /** Offset of the campaign's local time from UTC, in minutes: its day starts at local midnight (default 0). */
  readonly timezoneOffsetMinutes?: number;
}

/**
 * An advertiser's budgets, shared by all of its campaigns.
 *
 * @example
 * ```ts
 * import type { AdvertiserBudget } from '@ctrkit/pacing';
 * const advertiser: AdvertiserBudget = { id: 'adv-1', dailyBudget: 400, timezoneOffsetMinutes: 60 };
 * ```
 */
export interface AdvertiserBudget {
  /** Advertiser id (non-empty). */
  readonly id: string;
  /** Most all its campaigns together may spend in one local day. */
  readonly dailyBudget?: number;
  /** Most all its campaigns together may ever spend. */
  readonly lifetimeBudget?: number;
  /** Offset of the advertiser's local time from UTC, in minutes (default 0). */
  readonly timezoneOffsetMinutes?: number;
}

/**
 * Every budget a ledger enforces. All processes sharing a Redis ledger must use the same budgets.
 *
 * @example
 * ```ts
 * import type { LedgerBudgets } from '@ctrkit/pacing';
 * const budgets: LedgerBudgets = {
 *   advertisers: [{ id: 'adv-1', dailyBudget: 400 }],
 *   campaigns: [
 *     { id: 'cmp-1', advertiserId: 'adv-1', dailyBudget: 250 },
 *     { id: 'cmp-2', advertiserId: 'adv-1', lifetimeBudget: 1_000 },
 *   ],
 * };
 * ```
 */
export interface LedgerBudgets {
  /** Campaigns; ids must be unique. */
  readonly campaigns: readonly CampaignBudget[];
  /** Advertisers named by campaigns; ids must be unique. */
  readonly advertisers?: readonly AdvertiserBudget[];
}

/** One budget limit: a campaign's or an advertiser's, daily or lifetime. @internal */
export interface BudgetLine {
  /** Stable key, e.g. `c:cmp-1:d` (campaign daily) or `a:adv-1:l` (advertiser lifetime). */
  readonly key: string;
  readonly scope: 'campaign' | 'advertiser';
  readonly ownerId: string;
  readonly period: 'daily' | 'lifetime';
  readonly limitMicros: number;
  readonly timezoneOffsetMinutes: number;
}

/** A campaign with the budget lines that bind it, resolved once. @internal */
export interface CompiledCampaign {
  readonly id: string;
  readonly advertiserId: string | undefined;
  readonly lines: readonly BudgetLine[];
  /** Budget group: campaigns sharing an advertiser budget share a group (and a Redis hash slot). */
  readonly group: string;
  /** The tightest limit among its lines, in micros. */
  readonly tightestMicros: number;
}

/** Local day number of `time` for an offset from UTC in minutes. @internal */
export function dayIndex(time: number, timezoneOffsetMinutes: number): number {
  return Math.floor((time + timezoneOffsetMinutes * 60_000) / DAY_MS);
}

/** Epoch ms at which local day `day` starts. @internal */
export function dayStartOf(day: number, timezoneOffsetMinutes: number): number {
  return day * DAY_MS - timezoneOffsetMinutes * 60_000;
}

/** Checks a time-zone offset. @internal */
export function checkTimezone(offset: number, what: string, code: 'E_INPUT' | 'E_CONFIG' = 'E_CONFIG'): void {
  ensure(
    Number.isInteger(offset) && offset >= -14 * 60 && offset <= 14 * 60,
    code,
    () => `${what}: timezoneOffsetMinutes must be a whole number of minutes between -840 and 840 (UTC-14 to UTC+14), got ${String(offset)}`,
  );
}

function checkId(id: unknown, what: string): asserts id is string {
  ensure(
    typeof id === 'string' && id.length > 0 && !/[\u0000-\u001f{}]/.test(id),
    'E_CONFIG',
    () => `${what} id must be a non-empty string without control characters or braces, got ${JSON.stringify(id)}`,
  );
}

function linesOf(
  scope: 'campaign' | 'advertiser',
  owner: { id: string; dailyBudget?: number; lifetimeBudget?: number; timezoneOffsetMinutes?: number },
): BudgetLine[] {
  const what = `${scope} ${owner.id}`;
  const tz = owner.timezoneOffsetMinutes ?? 0;
  checkTimezone(tz, what);
  const lines: BudgetLine[] = [];
  const prefix = scope === 'campaign' ? 'c' : 'a';
  if (owner.dailyBudget !== undefined) {
    checkAmount(owner.dailyBudget, `${what}: dailyBudget`, 'E_CONFIG');
    lines.push({ key: `${prefix}:${owner.id}:d`, scope, ownerId: owner.id, period: 'daily', limitMicros: toMicros(owner.dailyBudget), timezoneOffsetMinutes: tz });
  }
  if (owner.lifetimeBudget !== undefined) {
    checkAmount(owner.lifetimeBudget, `${what}: lifetimeBudget`, 'E_CONFIG');
    lines.push({ key: `${prefix}:${owner.id}:l`, scope, ownerId: owner.id, period: 'lifetime', limitMicros: toMicros(owner.lifetimeBudget), timezoneOffsetMinutes: tz });
  }
  return lines;
}

/**
 * Validates budgets once and resolves, for each campaign, every line that binds it.
 *
 * @throws CtrkitError `E_CONFIG` on duplicate or malformed ids, negative or non-finite budgets,
 * an unknown advertiser, or a campaign that no budget binds.
 * @internal
 */
export function compileBudgets(budgets: LedgerBudgets): Map<string, CompiledCampaign> {
  ensure(
    typeof budgets === 'object' && budgets !== null && Array.isArray(budgets.campaigns),
    'E_CONFIG',
    () => 'budgets must be an object { campaigns: [...], advertisers?: [...] }',
  );
  const advertiserLines = new Map<string, BudgetLine[]>();
  for (const advertiser of budgets.advertisers ?? []) {
    checkId(advertiser.id, 'advertiser');
    ensure(!advertiserLines.has(advertiser.id), 'E_CONFIG', () => `advertiser ${advertiser.id} is listed twice; give each advertiser one entry`);
    advertiserLines.set(advertiser.id, linesOf('advertiser', advertiser));
  }
  const campaigns = new Map<string, CompiledCampaign>();
  for (const campaign of budgets.campaigns) {
    checkId(campaign.id, 'campaign');
    ensure(!campaigns.has(campaign.id), 'E_CONFIG', () => `campaign ${campaign.id} is listed twice; give each campaign one entry`);
    const own = linesOf('campaign', campaign);
    let shared: BudgetLine[] = [];
    if (campaign.advertiserId !== undefined) {
      const found = advertiserLines.get(campaign.advertiserId);
      if (found === undefined) {
        throw new CtrkitError(
          'E_CONFIG',
          `campaign ${campaign.id} names advertiser ${campaign.advertiserId}, which is not among the advertisers; add { id: '${campaign.advertiserId}' } (with or without budgets) or fix the id`,
          { details: { campaign: campaign.id, advertiser: campaign.advertiserId } },
        );
      }
      shared = found;
    }
    const lines = [...own, ...shared];
    ensure(
      lines.length > 0,
      'E_CONFIG',
      () => `campaign ${campaign.id} has no dailyBudget or lifetimeBudget, nor does its advertiser; give it at least one so spend is bounded`,
    );
    campaigns.set(campaign.id, {
      id: campaign.id,
      advertiserId: campaign.advertiserId,
      lines,
      group: shared.length > 0 ? `a:${campaign.advertiserId as string}` : `c:${campaign.id}`,
      tightestMicros: Math.min(...lines.map((line) => line.limitMicros)),
    });
  }
  return campaigns;
}
