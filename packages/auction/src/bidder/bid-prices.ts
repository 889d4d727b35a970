/**
 * What each creative bids, CPM in the response currency: its value per impression from the
 * model's pCTR (and pCVR), times the pacing multiplier, shaded in first-price auctions, capped.
 */
import { CtrkitError } from '@ctrkit/core';
import type { Rejection } from '@ctrkit/core';
import { describe, isRecord } from '../checks.js';
import type { BidderCreative } from './creative.js';
import type { PacingDecision } from './options.js';

/**
 * @internal The predictor's answer as pCTR and optional pCVR arrays, one value per candidate.
 *
 * @throws `CtrkitError` `E_INFERENCE` when it is not one value per candidate.
 */
export function predictionsOf(predicted: unknown, candidates: number): { readonly pCtr: ArrayLike<number>; readonly pCvr: ArrayLike<number> | undefined } {
  const pCtr = isRecord(predicted) && 'pCtr' in predicted ? (predicted as { pCtr: ArrayLike<number> }).pCtr : (predicted as ArrayLike<number>);
  const pCvr = isRecord(predicted) && 'pCvr' in predicted ? (predicted as { pCvr?: ArrayLike<number> }).pCvr : undefined;
  if (pCtr === null || typeof pCtr !== 'object' || pCtr.length !== candidates || (pCvr !== undefined && pCvr.length !== candidates)) {
    throw new CtrkitError('E_INFERENCE', `the predictor returned ${pCtr === null || typeof pCtr !== 'object' ? describe(pCtr) : `${pCtr.length} values`} for ${candidates} candidates; return one pCTR per candidate`);
  }
  return { pCtr, pCvr };
}

/** @internal What {@link bidPrices} needs besides the creatives and the predictions. */
export interface PricingInputs {
  readonly decisions: ReadonlyMap<string, PacingDecision | string>;
  /** OpenRTB `at` ≠ 2: bids are shaded. */
  readonly firstPrice: boolean;
  readonly shading: number;
  readonly maxBidCpm: number;
  /** Units of the response currency per unit of the bidder's. */
  readonly toResponse: number;
}

/**
 * @internal Bid CPM per survivor, in the response currency; NaN for a creative that cannot bid
 * (throttled by pacing, or an invalid prediction), whose rejection is pushed onto `rejected`.
 */
export function bidPrices(
  survivors: readonly BidderCreative[],
  pCtr: ArrayLike<number>,
  pCvr: ArrayLike<number> | undefined,
  inputs: PricingInputs,
  rejected: Rejection[],
): Float64Array {
  const { decisions, firstPrice, shading, maxBidCpm, toResponse } = inputs;
  const prices = new Float64Array(survivors.length);
  survivors.forEach((creative, i) => {
    prices[i] = Number.NaN;
    const decision = decisions.get(creative.campaignId);
    if (typeof decision === 'string') {
      rejected.push({ adId: creative.adId, reason: 'pacing_throttled', detail: decision });
      return;
    }
    if (decision !== undefined && (!decision.admit || decision.multiplier === 0)) {
      rejected.push({ adId: creative.adId, reason: 'pacing_throttled', ...(decision.admit ? { detail: 'pacing multiplier is 0' } : {}) });
      return;
    }
    const p = pCtr[i] as number;
    const cvr = pCvr === undefined ? creative.pCvr : (pCvr[i] as number);
    if (!(p >= 0 && p <= 1)) {
      rejected.push({ adId: creative.adId, reason: 'invalid_bid', detail: `the predictor gave pCTR ${p}; expected a probability in [0, 1]` });
      return;
    }
    if (creative.bidType === 'CPA' && !(cvr !== undefined && cvr >= 0 && cvr <= 1)) {
      rejected.push({ adId: creative.adId, reason: 'invalid_bid', detail: `CPA creative needs a pCVR in [0, 1] (predictor or creative.pCvr), got ${cvr}` });
      return;
    }
    const perMille = creative.bidType === 'CPM' ? creative.bid : creative.bidType === 'CPC' ? 1000 * p * creative.bid : 1000 * p * (cvr as number) * creative.bid;
    const value = perMille * (decision?.multiplier ?? 1) * (firstPrice ? shading : 1);
    const cap = Math.min(maxBidCpm, creative.maxBidCpm ?? Infinity);
    prices[i] = Math.min(value, cap) * toResponse;
  });
  return prices;
}
