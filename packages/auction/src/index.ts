/**
 * `@ctrkit/auction` — what a click prediction is for: picking the ads to show and what they pay.
 * Targeting filters and frequency caps, ranking by expected value (with squashing, quality and a
 * multi-objective score), multi-slot pricing (GSP, VCG, first and second price) with reserves,
 * an OpenRTB 2.6 bidder, and consent gating (TCF v2, US privacy, GPP, COPPA).
 *
 * @packageDocumentation
 */
export { createAuction } from './auction/auction.js';
export { PRICING_RULES } from './auction/options.js';
export type { Auction, AuctionInputs, AuctionOptions, ObjectiveWeights, PricingRule } from './auction/options.js';
export { createCandidateFilter, rejectionReasonOf } from './targeting/filter.js';
export type { CandidateFilter, CandidateFilterOptions, FilterContext, FilterResult } from './targeting/filter.js';
export type { CounterSource } from './targeting/counters.js';
export type { BehaviorRule, FrequencyCap, TargetingRules } from './targeting/rules.js';
export { DEFAULT_PRICE_DECIMALS, eventsPerMille, roundPrice } from './price.js';
export { createConsentEvaluator } from './consent.js';
export type { ConsentEvaluation, ConsentEvaluator, ConsentFinding, ConsentFindingCode, ConsentOptions } from './consent.js';
export { consentInputFromOpenRtb } from './consent-input.js';
export type { ConsentInput } from './consent-input.js';
export { stripPersonalData } from './strip-personal-data.js';
export { isIabCategory } from './categories.js';
export type { NativeCreative, NativeImage } from './native.js';
export { validateBidRequest } from './openrtb.js';
export type { BidRequestValidation, ValidationIssue } from './openrtb.js';
export { createOpenRtbBidder } from './bidder/bidder.js';
export type { OpenRtbBidder } from './bidder/bidder.js';
export type { BidderCreative } from './bidder/creative.js';
export type { BidPrediction, OpenRtbBidderOptions, PacingDecision } from './bidder/options.js';
export { NO_BID_REASONS } from './bidder/outcome.js';
export type { BidderOutcome, ImpOutcome } from './bidder/outcome.js';
