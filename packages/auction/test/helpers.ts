import type { AdCandidate, AdFormat, AdRequest, AdSlot, BidType, ConsentSignals, UserProfile } from '@ctrkit/core';

/** A candidate with sensible defaults; `id` doubles as advertiser and campaign id. */
export function ad(id: string, bid: number, extra: Partial<AdCandidate> & { bidType?: BidType; format?: AdFormat } = {}): AdCandidate {
  return {
    adId: id,
    advertiserId: `adv-${id}`,
    campaignId: `cmp-${id}`,
    format: 'search',
    category: 'travel',
    bid,
    bidType: 'CPC',
    ...extra,
  };
}

/** `count` slots of one format at positions 0, 1, … */
export function slots(count: number, format: AdFormat = 'search', floorCpm?: number): AdSlot[] {
  return Array.from({ length: count }, (_, i) => ({ id: `s${i}`, format, position: i, ...(floorCpm === undefined ? {} : { floorCpm }) }));
}

/** A request around the given candidates and slots. */
export function request(candidates: readonly AdCandidate[], pageSlots?: readonly AdSlot[], user: Partial<UserProfile> = {}, consent?: ConsentSignals): AdRequest {
  return {
    requestId: 'r-1',
    user: { id: 'u-1', ...user },
    context: { timestamp: Date.UTC(2026, 0, 5, 12), ...(pageSlots === undefined ? {} : { slots: pageSlots }) },
    candidates,
    ...(consent === undefined ? {} : { consent }),
  };
}
