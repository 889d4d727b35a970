/**
 * A DSP-side OpenRTB 2.6 bidder: validate a BidRequest, gate consent, map it to an `AdRequest`
 * around the host's own creatives, predict, pace, and answer a BidResponse or a no-bid with a
 * reason. The handler never throws.
 */
import { AD_FORMATS, CtrkitError, isCtrkitError, systemClock } from '@ctrkit/core';
import type { AdCandidate, AdFormat, AdRequest, Clock, Rejection } from '@ctrkit/core';
import type { Bid, BidRequest, BidResponse, Imp } from 'iab-openrtb/v26';
import { checkKnownKeys, checkNumber, describe, isRecord } from './checks.js';
import { PASS } from './codes.js';
import { createConsentEvaluator, stripPersonalData } from './consent.js';
import type { ConsentEvaluation, ConsentOptions } from './consent.js';
import { mapBidRequest, mapImp, validateBidRequest } from './openrtb.js';
import type { MappedImp, ValidationIssue } from './openrtb.js';
import { CATTAX_IAB_1_0, categoryBlocked, isIabCategory } from './categories.js';
import { nativeProblem, nativeResponse, parseNativeRequest } from './native.js';
import type { NativeCreative, NativeRequest } from './native.js';
import { DEFAULT_PRICE_DECIMALS } from './price.js';
import { createCandidateFilter, domainBlocked } from './targeting.js';
import type { CandidateFilterOptions, CounterSource } from './targeting.js';

/** One of the host's own ads, with what the bidder needs to answer for it.
 *
 * @example
 * ```ts
 * import type { BidderCreative } from '@ctrkit/auction';
 * const creative: BidderCreative = {
 *   adId: 'ad-1', advertiserId: 'adv-1', campaignId: 'cmp-1', format: 'display', category: 'IAB20',
 *   bid: 0.8, bidType: 'CPC', domain: 'travel.example', width: 300, height: 250,
 *   adm: '<a href="https://travel.example"><img src="https://cdn.example/ad-1.png"></a>',
 * };
 * ```
 */
export interface BidderCreative extends AdCandidate {
  /** Width in pixels (banners must match one of the impression's sizes when both are known). */
  readonly width?: number;
  /** Height in pixels. */
  readonly height?: number;
  /**
   * Ad markup returned in the bid: HTML for a banner, VAST XML for a video. One of `adm`, `nurl`
   * and (native creatives) `native` is required.
   */
  readonly adm?: string;
  /** Win notice URL (serves the markup when there is no `adm`). */
  readonly nurl?: string;
  /** Billing notice URL. */
  readonly burl?: string;
  /** Advertiser domains for `adomain` (default `[domain]`); each is checked against `badv`. */
  readonly adomain?: readonly string[];
  /**
   * The creative's content categories (OpenRTB `bid.cat`) in the taxonomy `cattax` names: with
   * the default, IAB Content Taxonomy 1.0 codes such as `IAB13-6`, each checked by
   * {@link isIabCategory}. The request's `bcat` blocks a code and its subcategories (`IAB13`
   * blocks `IAB13-6`); a non-empty `acat` must cover every code. Default `[category]`, which then
   * has to be a code itself: keep a free-text `category` for the model and put the codes here.
   */
  readonly cat?: readonly string[];
  /**
   * The taxonomy of `cat` (OpenRTB 2.6 / AdCOM list Category Taxonomies; default 1, IAB Content
   * Taxonomy 1.0). Codes of other taxonomies are not checked and match `bcat` exactly, and a
   * request whose `bcat` or `acat` is in another taxonomy than the creative's gets no bid from it.
   */
  readonly cattax?: number;
  /** The advertised app's store id (OpenRTB `bid.bundle`), checked against `bapp`. */
  readonly bundle?: string;
  /** Creative attributes (OpenRTB / AdCOM list Creative Attributes), checked against each impression's `battr`. */
  readonly attr?: readonly number[];
  /** Video (required): the media types of its files (`video/mp4`); one must be in the impression's `video.mimes`. */
  readonly mimes?: readonly string[];
  /** Video (required): its length in seconds, within the impression's `minduration` / `maxduration` (and one of `rqddurs`); sent as `dur`. */
  readonly duration?: number;
  /** Video: the VAST version of its `adm` (OpenRTB list Protocols: 7 = VAST 4.0, 11 = 4.1, 13 = 4.2); must be one of the impression's `protocols` when it lists any; sent as `protocol`. */
  readonly protocol?: number;
  /** Native: the content of its Native 1.2 response, assembled per impression for the assets that impression's request asks for (the bid's `adm`). */
  readonly native?: NativeCreative;
  /** The most this creative may bid, CPM in the bidder's currency. */
  readonly maxBidCpm?: number;
}

/** What the pacing hook says about a campaign.
 *
 * @example
 * ```ts
 * import type { PacingDecision } from '@ctrkit/auction';
 * const decision: PacingDecision = { multiplier: 0.8, admit: true };
 * ```
 */
export interface PacingDecision {
  /** Bid multiplier, finite and ≥ 0. */
  readonly multiplier: number;
  /** Whether the campaign may bid on this request at all. */
  readonly admit: boolean;
}

/** The model's answer: pCTR per candidate, or pCTR and pCVR.
 *
 * @example
 * ```ts
 * import type { BidPrediction } from '@ctrkit/auction';
 * const prediction: BidPrediction = { pCtr: new Float32Array([0.02]), pCvr: new Float32Array([0.1]) };
 * ```
 */
export type BidPrediction = ArrayLike<number> | { readonly pCtr: ArrayLike<number>; readonly pCvr?: ArrayLike<number> };

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

/** Options for {@link createOpenRtbBidder}; validated once.
 *
 * @example
 * ```ts
 * import type { OpenRtbBidderOptions } from '@ctrkit/auction';
 * const options: OpenRtbBidderOptions = {
 *   catalogue: [],
 *   predict: async (request) => new Float32Array(request.candidates.length).fill(0.01),
 *   pacing: () => ({ multiplier: 1, admit: true }),
 *   currency: 'EUR', exchangeRate: (from, to) => (from === 'USD' && to === 'EUR' ? 0.9 : undefined),
 * };
 * ```
 */
export interface OpenRtbBidderOptions {
  /**
   * The host's creatives — an array checked once, here (so change it by creating a new bidder) —
   * or a function returning those worth considering for a request, whose creatives are checked on
   * every request.
   */
  readonly catalogue: readonly BidderCreative[] | ((request: AdRequest) => readonly BidderCreative[] | Promise<readonly BidderCreative[]>);
  /** pCTR (and optionally pCVR) per candidate of the request it is given. */
  readonly predict: (request: AdRequest) => Promise<BidPrediction>;
  /** The model used when personalised ads are not allowed (default `predict`, on the stripped request). */
  readonly predictContextual?: (request: AdRequest) => Promise<BidPrediction>;
  /** Pacing per campaign (default: multiplier 1, always admitted). */
  readonly pacing?: (campaignId: string) => PacingDecision | Promise<PacingDecision>;
  /** Counters for frequency caps (for example from the features package's store). */
  readonly counters?: (request: AdRequest) => CounterSource | undefined | Promise<CounterSource | undefined>;
  /** Targeting, frequency caps and static block lists (see {@link createCandidateFilter}). */
  readonly filter?: CandidateFilterOptions;
  /** Consent options (vendor id, purposes). */
  readonly consent?: ConsentOptions;
  /** The currency bids and creatives' values are in (default `USD`). */
  readonly currency?: string;
  /** Units of `to` per unit of `from`, or `undefined` when unknown. Needed for floors and bids in other currencies. */
  readonly exchangeRate?: (from: string, to: string) => number | undefined;
  /** The most any bid may be, CPM in `currency` (default 50). */
  readonly maxBidCpm?: number;
  /** Factor applied to bids in first-price auctions (`at` ≠ 2), in (0, 1] (default 1: no shading). */
  readonly firstPriceShading?: number;
  /** A bid within this fraction below an impression's floor is raised to the floor, in [0, 1) (default 0). */
  readonly floorRaise?: number;
  /** The time budget when the request has no `tmax`, ms (default 100). */
  readonly defaultTmaxMs?: number;
  /** Time kept for the network out of `tmax`, ms (default 10). */
  readonly networkReserveMs?: number;
  /** Where time comes from (default the system clock). */
  readonly clock?: Clock;
  /** Schedules a callback after `ms`; returns a cancel function (default `setTimeout`). */
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
  /** The seat to bid from (`seatbid.seat`); requests whose `bseat` holds it, or whose `wseat` lacks it, get no bid. */
  readonly seat?: string;
  /** Bid each creative on at most one impression of a request (default true). */
  readonly oneBidPerAd?: boolean;
  /** Decimal places of bid prices (default 6). */
  readonly priceDecimals?: number;
}

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
 * Answers OpenRTB bid requests.
 *
 * @example
 * ```ts
 * import type { OpenRtbBidder } from '@ctrkit/auction';
 * async function serve(bidder: OpenRtbBidder, body: string) {
 *   const outcome = await bidder.handle(body);
 *   return outcome.bid ? { status: 200, body: JSON.stringify(outcome.response) } : { status: 204 };
 * }
 * ```
 */
export interface OpenRtbBidder {
  /**
   * Handles one request.
   *
   * @param body - The request body: JSON text or an already parsed object.
   * @param options - `receivedAt`: when the request arrived, by the bidder's clock (default:
   * now). `tmax` counts from it, so time spent in the host before `handle` (reading the body,
   * queueing behind other requests) is not given away.
   * @returns The outcome; never rejects.
   */
  handle(body: unknown, options?: { readonly receivedAt?: number }): Promise<BidderOutcome>;
}

const OPTION_KEYS = [
  'catalogue',
  'predict',
  'predictContextual',
  'pacing',
  'counters',
  'filter',
  'consent',
  'currency',
  'exchangeRate',
  'maxBidCpm',
  'firstPriceShading',
  'floorRaise',
  'defaultTmaxMs',
  'networkReserveMs',
  'clock',
  'setTimer',
  'seat',
  'oneBidPerAd',
  'priceDecimals',
] as const;
const FORMATS: readonly string[] = AD_FORMATS;
const BID_TYPES = ['CPM', 'CPC', 'CPA'];
const MTYPE: Readonly<Record<string, 1 | 2 | 4>> = { display: 1, video: 2, native: 4 };
const TIMEOUT = Symbol('timeout');

const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Why a creative's categories cannot be checked against `bcat`, or undefined when they can. A
 * free-text category is refused rather than matched as it is: OpenRTB's `bcat` holds taxonomy
 * codes, so a word such as "insurance" could never be blocked, and a brand-safety list that
 * silently blocks nothing is worse than a creative that does not load.
 */
function categoryProblem(creative: Record<string, unknown>): string | undefined {
  const cattax = creative.cattax ?? CATTAX_IAB_1_0;
  if (!isInteger(cattax) || cattax < 1) return `cattax must be an OpenRTB category taxonomy (an integer ≥ 1; 1 = IAB Content Taxonomy 1.0), got ${describe(creative.cattax)}`;
  const cat = creative.cat;
  if (cat !== undefined && !(Array.isArray(cat) && cat.length > 0 && cat.length <= 32 && cat.every((c) => typeof c === 'string' && c.length > 0))) {
    return `cat must be 1 to 32 category codes (strings such as "IAB13-6"), got ${describe(cat)}`;
  }
  if (cattax !== CATTAX_IAB_1_0) return undefined;
  const codes = (cat as readonly string[] | undefined) ?? [creative.category as string];
  const bad = codes.find((code) => !isIabCategory(code));
  if (bad === undefined) return undefined;
  const where = cat === undefined ? `category ${JSON.stringify(bad)}` : `cat entry ${JSON.stringify(bad)}`;
  return `${where} is not an IAB Content Taxonomy 1.0 code (IAB1 … IAB26 or a subcategory such as IAB13-6), so an exchange's bcat could never block it; give the creative cat: [its IAB codes] (category stays free text for the model), or set cattax for another taxonomy`;
}

/** Why a video or native creative lacks what its impressions are checked against, or undefined. */
function mediaProblem(creative: Record<string, unknown>): string | undefined {
  if (creative.native !== undefined) {
    if (creative.format !== 'native') return `native content is only for format native, got format ${describe(creative.format)}`;
    const problem = nativeProblem(creative.native);
    if (problem !== undefined) return problem;
  }
  if (creative.format !== 'video') return undefined;
  const mimes = creative.mimes;
  if (!(Array.isArray(mimes) && mimes.length > 0 && mimes.every((m) => typeof m === 'string' && m.length > 0))) return `a video creative needs mimes, the media types of its files (["video/mp4"]), got ${describe(mimes)}`;
  if (!(typeof creative.duration === 'number' && Number.isFinite(creative.duration) && creative.duration > 0)) return `a video creative needs duration, its length in seconds (> 0), got ${describe(creative.duration)}`;
  if (creative.protocol !== undefined && !(isInteger(creative.protocol) && creative.protocol >= 1)) return `protocol must be an OpenRTB protocol id (7 = VAST 4.0), got ${describe(creative.protocol)}`;
  if (typeof creative.adm === 'string' && !/<VAST[\s>]/.test(creative.adm)) return 'a video creative\'s adm must be VAST XML (a <VAST> document)';
  return undefined;
}

/** Why a creative cannot be used, or undefined when it can. */
function creativeProblem(creative: unknown): string | undefined {
  if (!isRecord(creative)) return `a creative must be an object, got ${describe(creative)}`;
  for (const key of ['adId', 'advertiserId', 'campaignId', 'category'] as const) {
    if (typeof creative[key] !== 'string' || creative[key] === '') return `${key} must be a non-empty string, got ${describe(creative[key])}`;
  }
  const categories = categoryProblem(creative);
  if (categories !== undefined) return categories;
  if (creative.bundle !== undefined && !(typeof creative.bundle === 'string' && creative.bundle.length > 0)) return `bundle must be a non-empty app store id, got ${describe(creative.bundle)}`;
  if (creative.attr !== undefined && !(Array.isArray(creative.attr) && creative.attr.every(isInteger))) return `attr must be an array of creative attribute integers, got ${describe(creative.attr)}`;
  const media = mediaProblem(creative);
  if (media !== undefined) return media;
  if (typeof creative.format !== 'string' || !FORMATS.includes(creative.format)) return `format must be one of ${FORMATS.join(', ')}, got ${describe(creative.format)}`;
  if (typeof creative.bidType !== 'string' || !BID_TYPES.includes(creative.bidType)) return `bidType must be one of ${BID_TYPES.join(', ')}, got ${describe(creative.bidType)}`;
  if (typeof creative.bid !== 'number' || !Number.isFinite(creative.bid) || creative.bid <= 0) return `bid must be a finite number > 0, got ${describe(creative.bid)}`;
  if (typeof creative.adm !== 'string' && typeof creative.nurl !== 'string' && !(creative.format === 'native' && creative.native !== undefined)) {
    return 'needs adm (markup), nurl (win notice serving the markup) or, for a native creative, native (its assets)';
  }
  if (creative.maxBidCpm !== undefined && !(typeof creative.maxBidCpm === 'number' && creative.maxBidCpm > 0)) return `maxBidCpm must be a number > 0, got ${describe(creative.maxBidCpm)}`;
  if (creative.pCvr !== undefined && !(typeof creative.pCvr === 'number' && creative.pCvr >= 0 && creative.pCvr <= 1)) return `pCvr must be in [0, 1], got ${describe(creative.pCvr)}`;
  if (creative.adomain !== undefined && !(Array.isArray(creative.adomain) && creative.adomain.every((d) => typeof d === 'string'))) return 'adomain must be an array of domains';
  return undefined;
}

/**
 * The request's category and app rules that the candidate filter does not apply: `bcat` / `acat`
 * in another taxonomy than a creative's, `acat` (every code of the creative covered), `bapp`.
 * `bcat` itself goes to the filter, which matches it against each creative's `cat`.
 */
function brandSafetyOf(request: BidRequest): { check(creative: BidderCreative): Rejection | undefined } {
  const taxonomy = request.cattax ?? CATTAX_IAB_1_0;
  const bcat = request.bcat !== undefined && request.bcat.length > 0;
  const acat = request.acat !== undefined && request.acat.length > 0 ? new Set(request.acat) : undefined;
  const bapp = request.bapp !== undefined && request.bapp.length > 0 ? new Set(request.bapp) : undefined;
  return {
    check(creative) {
      const adId = creative.adId;
      const own = creative.cattax ?? CATTAX_IAB_1_0;
      if ((bcat || acat !== undefined) && own !== taxonomy) {
        return { adId, reason: 'blocked_category', detail: `the request's ${bcat ? 'bcat' : 'acat'} is in category taxonomy ${taxonomy} and this creative's cat in ${own}: it cannot be checked` };
      }
      if (acat !== undefined) {
        const outside = (creative.cat ?? [creative.category]).find((code) => !categoryBlocked(code, acat));
        if (outside !== undefined) return { adId, reason: 'blocked_category', detail: `category ${outside} is not in the request's acat` };
      }
      if (bapp !== undefined && creative.bundle !== undefined && bapp.has(creative.bundle)) {
        return { adId, reason: 'blocked_advertiser', detail: `app ${creative.bundle} is blocked (bapp)` };
      }
      return undefined;
    },
  };
}

/** Whether a video creative meets the impression's `video` object: a media type it plays, its duration, its VAST protocol. */
function videoFits(imp: Imp, creative: BidderCreative): boolean {
  const video = imp.video;
  if (video === undefined) return false;
  const mimes = creative.mimes ?? [];
  if (video.mimes !== undefined && video.mimes.length > 0 && !mimes.some((m) => video.mimes?.includes(m))) return false;
  const duration = creative.duration ?? 0;
  if (video.minduration !== undefined && duration < video.minduration) return false;
  if (video.maxduration !== undefined && video.maxduration > 0 && duration > video.maxduration) return false;
  if (video.rqddurs !== undefined && video.rqddurs.length > 0 && !video.rqddurs.includes(duration)) return false;
  if (video.protocols !== undefined && video.protocols.length > 0 && (creative.protocol === undefined || !(video.protocols as readonly number[]).includes(creative.protocol))) return false;
  return true;
}

/** Whether the impression's media object for the creative's format blocks one of its attributes (`battr`). */
function attributeBlocked(imp: Imp, creative: BidderCreative): boolean {
  const attr = creative.attr;
  if (attr === undefined || attr.length === 0) return false;
  const media = creative.format === 'video' ? imp.video : creative.format === 'native' ? imp.native : imp.banner;
  const battr = (media as { battr?: readonly number[] } | undefined)?.battr;
  return battr !== undefined && battr.length > 0 && attr.some((a) => battr.includes(a));
}

/**
 * Rounds a bid to the nearest multiple of 1 / `scale` that is not above it (a bid is ours to
 * choose, so never round it up), and not below the floor (the exact floor when they are closer
 * than one quantum).
 */
function roundBid(price: number, floor: number, scale: number): number {
  let steps = Math.round(price * scale);
  if (steps / scale > price) steps -= 1;
  const rounded = steps / scale;
  return rounded < floor ? floor : rounded;
}

/** A pacing answer, or why it cannot be used. */
function checkDecision(decision: unknown): PacingDecision | string {
  if (!isRecord(decision) || typeof decision.admit !== 'boolean' || typeof decision.multiplier !== 'number' || !Number.isFinite(decision.multiplier) || decision.multiplier < 0) {
    return `pacing returned ${isRecord(decision) ? JSON.stringify(decision) : describe(decision)}; expected { multiplier ≥ 0, admit: boolean }`;
  }
  return decision as unknown as PacingDecision;
}

function defaultTimer(callback: () => void, ms: number): () => void {
  const handle = setTimeout(callback, ms);
  return () => clearTimeout(handle);
}

/** A no-bid the handler decided on; caught at the top and turned into an outcome. */
class NoBid extends Error {
  constructor(
    readonly reason: string,
    readonly nbr: number | undefined,
  ) {
    super(reason);
  }
}

/**
 * Creates an {@link OpenRtbBidder}. For each request:
 *
 * 1. Parse (JSON text or object) and {@link validateBidRequest}; a malformed request gets a
 *    no-bid with `nbr` 2 and the issues. `bseat` / `wseat` excluding the seat: no-bid.
 * 2. Evaluate consent ({@link createConsentEvaluator}); without consent for personalised ads the
 *    request is stripped ({@link stripPersonalData}) and `predictContextual` is used.
 * 3. Each impression becomes a slot taking the formats of its media objects (`banner` →
 *    display, `video`, `native`; audio-only and private auctions are skipped with a reason; a
 *    native request that is not readable Native 1.2 JSON takes the native format away). Floors
 *    are converted from `bidfloorcur` (default USD) into the response currency; an unknown
 *    currency skips that impression with a reason.
 * 4. Creatives of a format some impression takes are filtered: targeting, frequency caps,
 *    brand safety — `bcat` against each creative's `cat` codes (a code and its subcategories:
 *    `IAB13` blocks `IAB13-6`), `acat` (must cover every code), a `bcat` / `acat` in another
 *    `cattax` than the creative's (no bid: it cannot be checked), `badv` (also against every
 *    `adomain`), `bapp` against the creative's `bundle` — and, per impression, `battr` against
 *    its `attr`. Each bid carries `cat`, `cattax`, `adomain` and `bundle`.
 * 5. `predict` runs with a deadline of `tmax` (or `defaultTmaxMs`) − `networkReserveMs` from
 *    arrival, raced against `setTimer`; too slow, or finished after the deadline by the clock:
 *    no-bid with `nbr` 15. The catalogue, counters and pacing hooks race the same deadline. A
 *    failing hook: no-bid with `nbr` 1.
 * 6. Pacing per campaign: `admit: false` rejects `pacing_throttled`; a failing or malformed
 *    answer rejects that campaign's creatives rather than bid unpaced.
 * 7. Bid CPM = value per impression × 1000 × multiplier: bid (CPM), pCTR × bid (CPC),
 *    pCTR × pCVR × bid (CPA); × `firstPriceShading` unless `at` = 2; capped by `maxBidCpm` and
 *    the creative's own cap. Below the floor: raised when within `floorRaise`, else no bid there.
 * 8. Impressions are served in request order, each taking the highest bid among creatives that
 *    fit it (each creative once, with `oneBidPerAd`): of a format it takes; a banner of one of its
 *    sizes; a video with a media type in `video.mimes`, a `duration` within `minduration` /
 *    `maxduration` (and in `rqddurs`) and a `protocol` in `protocols`; a native creative able to
 *    fill every required asset of its native request, whose Native 1.2 response (with the
 *    request's asset ids) becomes the bid's `adm`. Video bids carry `protocol` and `dur`; `mtype`
 *    is 1, 2 or 4. Prices are rounded to `priceDecimals` places, to the nearest multiple not
 *    above the computed bid, and never below the floor.
 *
 * @param options - Catalogue, predictor, pacing, consent, currency, limits, clock.
 * @returns The bidder.
 * @throws `CtrkitError` `E_CONFIG` on a missing hook, an unknown option, an invalid limit, or a
 *   malformed static creative — among them one whose categories are not IAB Content Taxonomy 1.0
 *   codes (a free-text `category` and no `cat`) unless it names another `cattax`. A catalogue
 *   function's malformed creatives are left out of that request (`invalid_bid`).
 * @example
 * ```ts
 * import { createOpenRtbBidder } from '@ctrkit/auction';
 * const bidder = createOpenRtbBidder({
 *   catalogue: [{ adId: 'ad-1', advertiserId: 'adv-1', campaignId: 'cmp-1', format: 'display', category: 'IAB20',
 *     bid: 1.5, bidType: 'CPC', domain: 'travel.example', width: 300, height: 250, adm: '<div>ad</div>' }],
 *   predict: async (request) => new Float64Array(request.candidates.length).fill(0.02),
 * });
 * const outcome = await bidder.handle({ id: 'req-1', imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }], tmax: 120 });
 * console.log(outcome.bid, outcome.response.seatbid?.[0]?.bid[0]?.price); // true 30
 * ```
 */
export function createOpenRtbBidder(options: OpenRtbBidderOptions): OpenRtbBidder {
  if (!isRecord(options as unknown)) throw new CtrkitError('E_CONFIG', `bidder options must be an object, got ${describe(options)}`);
  checkKnownKeys(options as unknown as Record<string, unknown>, OPTION_KEYS, 'createOpenRtbBidder');
  if (typeof options.predict !== 'function') throw new CtrkitError('E_CONFIG', 'predict is required: an async (request) => pCTR per candidate');
  for (const key of ['predictContextual', 'pacing', 'counters', 'exchangeRate', 'setTimer'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new CtrkitError('E_CONFIG', `${key} must be a function, got ${describe(options[key])}`);
  }
  const catalogue = options.catalogue;
  if (typeof catalogue !== 'function') {
    if (!Array.isArray(catalogue)) throw new CtrkitError('E_CONFIG', `catalogue must be an array of creatives or a function, got ${describe(catalogue)}`);
    const ids = new Set<string>();
    catalogue.forEach((creative, i) => {
      const problem = creativeProblem(creative);
      if (problem !== undefined) throw new CtrkitError('E_CONFIG', `catalogue[${i}]: ${problem}`);
      if (ids.has(creative.adId)) throw new CtrkitError('E_CONFIG', `catalogue[${i}]: adId "${creative.adId}" appears twice; ad ids must be unique`);
      ids.add(creative.adId);
    });
  }
  const currency = (options.currency ?? 'USD').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new CtrkitError('E_CONFIG', `currency must be an ISO-4217 code such as "USD", got ${describe(options.currency)}`);
  const maxBidCpm = checkNumber(options.maxBidCpm, 'maxBidCpm', 0) ?? 50;
  if (!(maxBidCpm > 0)) throw new CtrkitError('E_CONFIG', 'maxBidCpm must be > 0');
  const shading = checkNumber(options.firstPriceShading, 'firstPriceShading', 0, 1) ?? 1;
  if (!(shading > 0)) throw new CtrkitError('E_CONFIG', 'firstPriceShading must be in (0, 1]');
  const floorRaise = checkNumber(options.floorRaise, 'floorRaise', 0, 0.999999) ?? 0;
  const defaultTmax = checkNumber(options.defaultTmaxMs, 'defaultTmaxMs', 1) ?? 100;
  const reserveMs = checkNumber(options.networkReserveMs, 'networkReserveMs', 0) ?? 10;
  const decimals = checkNumber(options.priceDecimals, 'priceDecimals', 0, 12) ?? DEFAULT_PRICE_DECIMALS;
  if (!Number.isInteger(decimals)) throw new CtrkitError('E_CONFIG', `priceDecimals must be an integer, got ${decimals}`);
  const scale = 10 ** decimals;
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function') throw new CtrkitError('E_CONFIG', 'clock must be a Clock from @ctrkit/core');
  const setTimer = options.setTimer ?? defaultTimer;
  const seat = options.seat;
  if (seat !== undefined && (typeof seat !== 'string' || seat.length === 0)) throw new CtrkitError('E_CONFIG', `seat must be a non-empty string, got ${describe(seat)}`);
  const oneBidPerAd = options.oneBidPerAd ?? true;
  const filter = createCandidateFilter(options.filter ?? {});
  const consent = createConsentEvaluator(options.consent ?? {});
  const { predict, predictContextual = predict, pacing, counters, exchangeRate } = options;

  const rate = (from: string, to: string): number | undefined => {
    const f = from.toUpperCase();
    const t = to.toUpperCase();
    if (f === t) return 1;
    if (exchangeRate === undefined) return undefined;
    const value = exchangeRate(f, t);
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
  };

  /** Waits for `work` until the deadline; TIMEOUT when the deadline passes first. */
  async function beforeDeadline<T>(work: () => T | Promise<T>, deadline: number): Promise<T | typeof TIMEOUT> {
    const remaining = deadline - clock.now();
    if (remaining <= 0) return TIMEOUT;
    const running = Promise.resolve().then(work);
    let cancel: (() => void) | undefined;
    const timer = new Promise<typeof TIMEOUT>((resolve) => {
      // setTimeout fires after 1 ms for a delay of 2^31 ms or more: never ask it for more.
      cancel = setTimer(() => resolve(TIMEOUT), Math.min(remaining, 2_147_483_647));
    });
    try {
      return await Promise.race([running, timer]);
    } finally {
      cancel?.();
      running.catch(() => undefined); // a late failure after a timeout must not surface as unhandled
    }
  }

  async function handle(body: unknown, handleOptions?: { readonly receivedAt?: number }): Promise<BidderOutcome> {
    const now = clock.now();
    const receivedAt = handleOptions?.receivedAt;
    // Never later than now: a host clock glitch must not extend the deadline.
    const started = receivedAt !== undefined && Number.isFinite(receivedAt) ? Math.min(receivedAt, now) : now;
    let requestId = '';
    let issues: readonly ValidationIssue[] = [];
    let imps: ImpOutcome[] = [];
    const rejected: Rejection[] = [];
    let evaluation: ConsentEvaluation | undefined;
    const finish = (response: BidResponse, bid: boolean, reason?: string, nbr?: number): BidderOutcome => ({
      bid,
      response,
      ...(reason === undefined ? {} : { reason }),
      ...(nbr === undefined ? {} : { nbr }),
      issues,
      imps,
      rejected,
      ...(evaluation === undefined ? {} : { consent: evaluation }),
      elapsedMs: clock.now() - started,
    });
    try {
      let raw = body;
      if (typeof body === 'string') {
        try {
          raw = JSON.parse(body) as unknown;
        } catch (error) {
          throw new NoBid(`the body is not JSON: ${(error as Error).message}`, NO_BID_REASONS.INVALID_REQUEST);
        }
      }
      if (isRecord(raw) && typeof raw.id === 'string') requestId = raw.id;
      const validation = validateBidRequest(raw);
      if (!validation.ok) {
        issues = validation.issues;
        throw new NoBid(`invalid BidRequest: ${validation.issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`, NO_BID_REASONS.INVALID_REQUEST);
      }
      const request = validation.request;
      issues = validation.impIssues;
      if (seat !== undefined && (request.bseat?.includes(seat) === true || (request.wseat !== undefined && request.wseat.length > 0 && !request.wseat.includes(seat)))) {
        throw new NoBid(`seat ${seat} is not allowed to bid on this request (wseat / bseat)`, undefined);
      }
      const deadline = started + (request.tmax ?? defaultTmax) - reserveMs;
      if (deadline <= clock.now()) throw new NoBid(`tmax ${request.tmax ?? defaultTmax} ms leaves no time after the ${reserveMs} ms network reserve`, NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);

      // Response currency: ours if allowed, else the first allowed one we can convert to.
      const allowed = request.cur !== undefined && request.cur.length > 0 ? request.cur.map((c) => c.toUpperCase()) : ['USD'];
      const responseCurrency = allowed.includes(currency) ? currency : allowed.find((c) => rate(currency, c) !== undefined);
      if (responseCurrency === undefined) throw new NoBid(`cannot bid in any currency the request allows (${allowed.join(', ')}) from ${currency}; configure exchangeRate`, undefined);
      const toResponse = rate(currency, responseCurrency) as number;

      evaluation = consent.evaluateOpenRtb(request);
      const impIssueByIndex = new Map<number, string>();
      for (const issue of validation.impIssues) {
        const index = Number(/^imp\[(\d+)\]/.exec(issue.path)?.[1]);
        impIssueByIndex.set(index, `${impIssueByIndex.has(index) ? `${impIssueByIndex.get(index)}; ` : ''}${issue.path} ${issue.message}`);
      }
      const mapped: (MappedImp & { readonly floor: number; readonly native: NativeRequest | undefined })[] = [];
      imps = request.imp.map((imp, index) => {
        const problem = impIssueByIndex.get(index);
        if (problem !== undefined) return { impId: imp.id, reason: problem };
        if (imp.pmp?.private_auction === 1) return { impId: imp.id, reason: 'private auction: this bidder has no deals' };
        const floorCurrency = (imp.bidfloorcur ?? 'USD').toUpperCase();
        const floorRate = rate(floorCurrency, responseCurrency);
        if (floorRate === undefined) return { impId: imp.id, reason: `bidfloorcur ${floorCurrency} cannot be converted to ${responseCurrency}; configure exchangeRate` };
        const floor = (imp.bidfloor ?? 0) * floorRate;
        let slot = mapImp(imp, index, floor);
        let native: NativeRequest | undefined;
        if (imp.native !== undefined) {
          const parsed = parseNativeRequest(imp.native.request);
          if (typeof parsed === 'string') {
            // An unreadable native request: the impression may still take its banner or video.
            const formats = slot.formats.filter((f) => f !== 'native');
            if (formats.length === 0) return { impId: imp.id, reason: `imp[${index}].${parsed}` };
            slot = { ...slot, formats };
          } else native = parsed;
        }
        mapped.push({ ...slot, floor, native });
        return { impId: imp.id };
      });
      if (mapped.length === 0) throw new NoBid(`no impression can be bid on: ${imps.map((i) => `${i.impId}: ${i.reason ?? ''}`).join('; ')}`, undefined);

      const base = mapBidRequest(request, clock.now(), mapped.map((m) => m.slot));
      const personalised = evaluation.signals.personalisedAds;
      const adRequest: AdRequest = stripPersonalData({ ...base, consent: evaluation.signals }, evaluation.signals);

      const listed = typeof catalogue === 'function' ? await beforeDeadline(() => catalogue(adRequest), deadline) : catalogue;
      if (listed === TIMEOUT) throw new NoBid('the catalogue did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (!Array.isArray(listed)) throw new CtrkitError('E_INPUT', `the catalogue function returned ${describe(listed)}; return an array of creatives`);
      const acceptedFormats = new Set<AdFormat>(mapped.flatMap((m) => m.formats));
      const brandSafety = brandSafetyOf(request);
      const pool: BidderCreative[] = [];
      const seenIds = new Set<string>();
      // A static catalogue was checked (ids unique included) when the bidder was created; a
      // function's creatives are checked on every request.
      const checked = typeof catalogue !== 'function';
      for (const creative of listed) {
        if (!checked) {
          const problem = creativeProblem(creative);
          const adId = isRecord(creative) && typeof creative.adId === 'string' ? creative.adId : '';
          if (problem !== undefined || seenIds.has(adId)) {
            rejected.push({ adId, reason: 'invalid_bid', detail: problem ?? `adId "${adId}" appears twice in the catalogue` });
            continue;
          }
          seenIds.add(adId);
        }
        const adId = creative.adId;
        if (!acceptedFormats.has(creative.format)) {
          rejected.push({ adId, reason: 'format_mismatch', detail: `no impression takes ${creative.format}` });
          continue;
        }
        const unsafe = brandSafety.check(creative);
        if (unsafe !== undefined) {
          rejected.push(unsafe);
          continue;
        }
        pool.push(creative);
      }
      if (pool.length === 0) throw new NoBid('no creative fits the impressions', undefined);

      const withPool: AdRequest = { ...adRequest, candidates: pool };
      const counterSource = counters === undefined ? undefined : await beforeDeadline(() => counters(withPool), deadline);
      if (counterSource === TIMEOUT) throw new NoBid('the counters did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      const filtered = filter.apply(withPool, {
        ...(counterSource === undefined ? {} : { counters: counterSource }),
        ...(request.bcat === undefined ? {} : { blockedCategories: request.bcat }),
        ...(request.badv === undefined ? {} : { blockedAdvertisers: request.badv }),
      });
      for (const r of filtered.rejected) rejected.push(r);
      const badv = request.badv === undefined || request.badv.length === 0 ? undefined : new Set(request.badv.map((d) => d.toLowerCase()));
      const survivors: BidderCreative[] = [];
      pool.forEach((creative, i) => {
        if (filtered.codes[i] !== PASS) return;
        const blocked = badv === undefined ? undefined : creative.adomain?.find((d) => domainBlocked(d, badv));
        if (blocked !== undefined) {
          rejected.push({ adId: creative.adId, reason: 'blocked_advertiser', detail: `advertiser domain ${blocked} is blocked` });
          return;
        }
        survivors.push(creative);
      });
      if (survivors.length === 0) throw new NoBid('every creative was filtered out (targeting, caps or block lists)', undefined);

      const scoring: AdRequest = { ...adRequest, candidates: survivors };
      const model = personalised ? predict : predictContextual;
      const predicted = await beforeDeadline(() => model(scoring), deadline);
      if (predicted === TIMEOUT) throw new NoBid('the predictor did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (clock.now() > deadline) throw new NoBid('the predictor answered after the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      const pCtr = isRecord(predicted) && 'pCtr' in predicted ? (predicted as { pCtr: ArrayLike<number> }).pCtr : (predicted as ArrayLike<number>);
      const pCvr = isRecord(predicted) && 'pCvr' in predicted ? (predicted as { pCvr?: ArrayLike<number> }).pCvr : undefined;
      if (pCtr === null || typeof pCtr !== 'object' || pCtr.length !== survivors.length || (pCvr !== undefined && pCvr.length !== survivors.length)) {
        throw new CtrkitError('E_INFERENCE', `the predictor returned ${pCtr === null || typeof pCtr !== 'object' ? describe(pCtr) : `${pCtr.length} values`} for ${survivors.length} candidates; return one pCTR per candidate`);
      }

      const decisions = new Map<string, PacingDecision | string>();
      if (pacing !== undefined) {
        // Synchronous answers are used as they come; only promises are awaited (together, against
        // the deadline), so a host with in-memory pacing pays no async machinery per campaign.
        const pending: Promise<void>[] = [];
        for (const creative of survivors) {
          const campaignId = creative.campaignId;
          if (decisions.has(campaignId)) continue;
          decisions.set(campaignId, 'pacing did not answer');
          try {
            const answer: unknown = pacing(campaignId);
            if (isRecord(answer) && typeof answer.then === 'function') {
              pending.push(
                (answer as unknown as Promise<unknown>).then(
                  (decision) => void decisions.set(campaignId, checkDecision(decision)),
                  (error: unknown) => void decisions.set(campaignId, `pacing failed: ${error instanceof Error ? error.message : String(error)}`),
                ),
              );
            } else {
              decisions.set(campaignId, checkDecision(answer));
            }
          } catch (error) {
            decisions.set(campaignId, `pacing failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        if (pending.length > 0 && (await beforeDeadline(() => Promise.all(pending), deadline)) === TIMEOUT) {
          throw new NoBid('pacing did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
        }
      }

      // Bid CPM per survivor, in the response currency; NaN when it cannot bid.
      // OpenRTB's default auction type is 2 (second price plus); 1 and exchange-specific types shade.
      const firstPrice = (request.at ?? 2) !== 2;
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

      const used = new Uint8Array(survivors.length);
      const belowFloor = new Uint8Array(survivors.length);
      const bids: Bid[] = [];
      const byImp = new Map<string, ImpOutcome>();
      for (const m of mapped) {
        let best = -1;
        let bestPrice = 0;
        let bestAdm: string | undefined;
        let compatible = 0;
        for (let i = 0; i < survivors.length; i++) {
          const creative = survivors[i] as BidderCreative;
          let price = prices[i] as number;
          if (Number.isNaN(price) || (oneBidPerAd && used[i] === 1) || !m.formats.includes(creative.format)) continue;
          if (creative.format === 'display' && m.sizes.length > 0 && creative.width !== undefined && creative.height !== undefined && !m.sizes.some(([w, h]) => w === creative.width && h === creative.height)) continue;
          if (attributeBlocked(m.imp, creative)) continue;
          if (creative.format === 'video' && !videoFits(m.imp, creative)) continue;
          let adm: string | undefined;
          if (creative.format === 'native' && creative.native !== undefined) {
            adm = m.native === undefined ? undefined : nativeResponse(creative.native, m.native);
            if (adm === undefined) continue;
          }
          compatible++;
          if (price < m.floor) {
            if (price >= m.floor * (1 - floorRaise)) price = m.floor;
            else {
              belowFloor[i] = 1;
              continue;
            }
          }
          if (price > bestPrice) {
            best = i;
            bestPrice = price;
            bestAdm = adm;
          }
        }
        if (best < 0 || !(bestPrice > 0)) {
          byImp.set(m.imp.id, { impId: m.imp.id, reason: compatible === 0 ? 'no creative of an accepted format, size and media (video mimes, duration, protocols; native assets)' : `every bid is below the floor ${m.floor} ${responseCurrency}` });
          continue;
        }
        const creative = survivors[best] as BidderCreative;
        used[best] = 1;
        const price = roundBid(bestPrice, m.floor, scale);
        const adomain = creative.adomain ?? (creative.domain === undefined ? undefined : [creative.domain]);
        const mtype = MTYPE[creative.format];
        const adm = bestAdm ?? creative.adm;
        bids.push({
          id: `${m.imp.id}:${creative.adId}`,
          impid: m.imp.id,
          price,
          adid: creative.adId,
          crid: creative.creativeId ?? creative.adId,
          cid: creative.campaignId,
          cat: [...(creative.cat ?? [creative.category])],
          cattax: (creative.cattax ?? CATTAX_IAB_1_0) as NonNullable<Bid['cattax']>,
          ...(creative.bundle === undefined ? {} : { bundle: creative.bundle }),
          ...(creative.attr === undefined ? {} : { attr: [...creative.attr] as NonNullable<Bid['attr']> }),
          ...(adomain === undefined ? {} : { adomain: [...adomain] }),
          ...(adm === undefined ? {} : { adm }),
          ...(creative.nurl === undefined ? {} : { nurl: creative.nurl }),
          ...(creative.burl === undefined ? {} : { burl: creative.burl }),
          ...(creative.width === undefined ? {} : { w: creative.width }),
          ...(creative.height === undefined ? {} : { h: creative.height }),
          ...(mtype === undefined ? {} : { mtype }),
          ...(creative.format === 'video' && creative.protocol !== undefined ? { protocol: creative.protocol as NonNullable<Bid['protocol']> } : {}),
          ...(creative.format === 'video' && creative.duration !== undefined ? { dur: creative.duration } : {}),
        });
        byImp.set(m.imp.id, { impId: m.imp.id, bid: { adId: creative.adId, price } });
      }
      imps = imps.map((outcome) => byImp.get(outcome.impId) ?? outcome);
      survivors.forEach((creative, i) => {
        if (used[i] === 1 || Number.isNaN(prices[i] as number)) return;
        rejected.push(belowFloor[i] === 1 ? { adId: creative.adId, reason: 'below_reserve', detail: 'bid below the floor of every impression it fits' } : { adId: creative.adId, reason: 'outranked' });
      });
      if (clock.now() > deadline) throw new NoBid('bidding finished after the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (bids.length === 0) throw new NoBid(`no bid: ${imps.map((i) => `${i.impId}: ${i.reason ?? ''}`).join('; ')}`, undefined);
      return finish({ id: request.id, bidid: `${request.id}:${seat ?? 'ctrkit'}`, cur: responseCurrency, seatbid: [{ ...(seat === undefined ? {} : { seat }), bid: bids }] }, true);
    } catch (error) {
      if (error instanceof NoBid) return finish({ id: requestId, ...(error.nbr === undefined ? {} : { nbr: error.nbr as 2 }) }, false, error.reason, error.nbr);
      const message = isCtrkitError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      return finish({ id: requestId, nbr: NO_BID_REASONS.TECHNICAL_ERROR }, false, `technical error: ${message}`, NO_BID_REASONS.TECHNICAL_ERROR);
    }
  }

  return { handle };
}
