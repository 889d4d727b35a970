/**
 * Rejection reasons as small integers, so filters and the auction can keep one `Uint8Array` of
 * outcomes per request instead of an object per candidate.
 */
import type { RejectionReason } from '@ctrkit/core';

/** @internal Outcome code of a candidate that is still in the running. */
export const PASS = 0;

/** @internal Every rejection reason, indexed by its code (code 0 is "still in the running"). */
export const REASONS: readonly (RejectionReason | undefined)[] = [
  undefined,
  'targeting_demographic',
  'targeting_geo',
  'targeting_device',
  'targeting_interest',
  'targeting_segment',
  'frequency_cap',
  'blocked_category',
  'blocked_advertiser',
  'format_mismatch',
  'below_reserve',
  'budget_exhausted',
  'pacing_throttled',
  'consent',
  'invalid_bid',
  'outranked',
];

/** @internal Code of each rejection reason. */
export const CODE = {
  targeting_demographic: 1,
  targeting_geo: 2,
  targeting_device: 3,
  targeting_interest: 4,
  targeting_segment: 5,
  frequency_cap: 6,
  blocked_category: 7,
  blocked_advertiser: 8,
  format_mismatch: 9,
  below_reserve: 10,
  budget_exhausted: 11,
  pacing_throttled: 12,
  consent: 13,
  invalid_bid: 14,
  outranked: 15,
} as const satisfies Record<RejectionReason, number>;
