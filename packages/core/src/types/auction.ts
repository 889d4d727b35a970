/**
 * What ranking and the auction produce: a prediction per candidate, the winners with their
 * prices, and the rejected candidates with the reason. Money is in the campaign's currency units.
 */
import type { BidType } from './request.js';

/** A model's estimate for one candidate.
 *
 * @example
 * ```ts
 * import type { Prediction } from '@ctrkit/core';
 * const prediction: Prediction = { adId: 'a', pCtr: 0.021 };
 * ```
 */
export interface Prediction {
  /** The candidate's ad id. */
  readonly adId: string;
  /** Calibrated click probability in [0, 1]. */
  readonly pCtr: number;
  /** Conversion probability given a click, when known. */
  readonly pCvr?: number;
  /** The model's score before calibration. */
  readonly rawScore?: number;
  /** Which model version produced it. */
  readonly modelVersion?: string;
}

/** Why a candidate left the auction.
 *
 * @example
 * ```ts
 * import type { RejectionReason } from '@ctrkit/core';
 * const reason: RejectionReason = 'frequency_cap';
 * ```
 */
export type RejectionReason =
  | 'targeting_demographic'
  | 'targeting_geo'
  | 'targeting_device'
  | 'targeting_interest'
  | 'targeting_segment'
  | 'frequency_cap'
  | 'blocked_category'
  | 'blocked_advertiser'
  | 'format_mismatch'
  | 'below_reserve'
  | 'budget_exhausted'
  | 'pacing_throttled'
  | 'consent'
  | 'invalid_bid'
  | 'outranked';

/** A candidate that did not win, and why.
 *
 * @example
 * ```ts
 * import type { Rejection } from '@ctrkit/core';
 * const rejection: Rejection = { adId: 'a', reason: 'blocked_category', detail: 'IAB7-39' };
 * ```
 */
export interface Rejection {
  /** The candidate's ad id. */
  readonly adId: string;
  /** Machine-readable reason. */
  readonly reason: RejectionReason;
  /** Human-readable detail. */
  readonly detail?: string;
}

/** One winning ad, its slot and its price.
 *
 * @example
 * ```ts
 * import type { AuctionWinner } from '@ctrkit/core';
 * const winner: AuctionWinner = {
 *   adId: 'a', campaignId: 'c', advertiserId: 'x', slotId: 'top', position: 0,
 *   bidType: 'CPC', bid: 1, price: 0.6, priceCpm: 12, pCtr: 0.02, score: 20,
 * };
 * ```
 */
export interface AuctionWinner {
  /** The ad. */
  readonly adId: string;
  /** Its campaign. */
  readonly campaignId: string;
  /** Its advertiser. */
  readonly advertiserId: string;
  /** The slot it won. */
  readonly slotId: string;
  /** The slot's position (0 first). */
  readonly position: number;
  /** What the price is charged for. */
  readonly bidType: BidType;
  /** The bid, in `bidType` units. */
  readonly bid: number;
  /** The price charged, in `bidType` units (per click for CPC, per mille for CPM, per action for CPA). */
  readonly price: number;
  /** The same price as an expected cost per thousand impressions. */
  readonly priceCpm: number;
  /** The calibrated click probability used to rank it. */
  readonly pCtr: number;
  /** The ranking score (expected value per thousand impressions unless configured otherwise). */
  readonly score: number;
}

/** The outcome of one auction.
 *
 * @example
 * ```ts
 * import type { AuctionResult } from '@ctrkit/core';
 * const empty: AuctionResult = { requestId: 'r-1', winners: [], rejected: [] };
 * ```
 */
export interface AuctionResult {
  /** The request. */
  readonly requestId: string;
  /** Winners in slot order. */
  readonly winners: readonly AuctionWinner[];
  /** Candidates that did not win, with reasons. */
  readonly rejected: readonly Rejection[];
}
