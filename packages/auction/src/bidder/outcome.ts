/**
 * What the bidder answers: the outcome of a request and of each impression, the OpenRTB no-bid
 * reasons it sends, and the no-bid a step decides on.
 */
import type { Rejection } from '@ctrkit/core';
import type { BidResponse } from 'iab-openrtb/v26';
import type { ConsentEvaluation } from '../consent.js';
import type { ValidationIssue } from '../openrtb.js';

/** OpenRTB no-bid reason codes this bidder sends (OpenRTB 3.0 list, referenced by 2.6).
 *
 * @example
 * ```ts
 * import { NO_BID_REASONS } from '@ctrkit/auction';
 * console.log(NO_BID_REASONS.INVALID_REQUEST); // 2
 * ```
 */
export const NO_BID_REASONS = {
  /** A host hook or the bidder failed. */
  TECHNICAL_ERROR: 1,
  /** The request is malformed. */
  INVALID_REQUEST: 2,
  /** The request left too little time, or the model answered too late. */
  INSUFFICIENT_AUCTION_TIME: 15,
} as const;

/** What happened to one impression.
 *
 * @example
 * ```ts
 * import type { ImpOutcome } from '@ctrkit/auction';
 * const outcome: ImpOutcome = { impId: '1', bid: { adId: 'ad-1', price: 2.5 } };
 * ```
 */
export interface ImpOutcome {
  /** The impression's id. */
  readonly impId: string;
  /** The bid made on it, price CPM in the response currency. */
  readonly bid?: { readonly adId: string; readonly price: number };
  /** Why there is no bid. */
  readonly reason?: string;
}

/** What {@link OpenRtbBidder.handle} returns: the response to send and why it is what it is.
 *
 * @example
 * ```ts
 * import type { BidderOutcome } from '@ctrkit/auction';
 * const status = (outcome: BidderOutcome) => (outcome.bid ? 200 : 204);
 * ```
 */
export interface BidderOutcome {
  /** Whether the response holds at least one bid. */
  readonly bid: boolean;
  /** The BidResponse: bids, or `{ id, nbr? }` for a no-bid. */
  readonly response: BidResponse;
  /** Why there is no bid. */
  readonly reason?: string;
  /** The OpenRTB no-bid reason code, when one fits. */
  readonly nbr?: number;
  /** Validation problems (request-level ones cause a no-bid; impression-level ones skip the impression). */
  readonly issues: readonly ValidationIssue[];
  /** One outcome per impression. */
  readonly imps: readonly ImpOutcome[];
  /** Candidates that were not bid, with reasons. */
  readonly rejected: readonly Rejection[];
  /** The consent evaluation, once the request was valid. */
  readonly consent?: ConsentEvaluation;
  /** Time spent, by the injected clock. */
  readonly elapsedMs: number;
}

/**
 * @internal A no-bid a step of the handler decided on; caught at the top and turned into an
 * outcome with `reason` and, when one fits, the OpenRTB `nbr`.
 */
export class NoBid extends Error {
  constructor(
    readonly reason: string,
    readonly nbr: number | undefined,
  ) {
    super(reason);
  }
}
