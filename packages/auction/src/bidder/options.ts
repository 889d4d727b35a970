/**
 * The bidder's options and hooks ({@link OpenRtbBidderOptions}, {@link PacingDecision},
 * {@link BidPrediction}), and the settings they resolve to: checked once, when the bidder is
 * created.
 */
import { CtrkitError, systemClock } from '@ctrkit/core';
import type { AdRequest, Clock } from '@ctrkit/core';
import { checkKnownKeys, checkNumber, describe, isRecord } from '../checks.js';
import { createConsentEvaluator } from '../consent.js';
import type { ConsentEvaluator, ConsentOptions } from '../consent.js';
import { DEFAULT_PRICE_DECIMALS } from '../price.js';
import type { CounterSource } from '../targeting/counters.js';
import { createCandidateFilter } from '../targeting/filter.js';
import type { CandidateFilter, CandidateFilterOptions } from '../targeting/filter.js';
import { creativeProblem } from './creative.js';
import type { BidderCreative } from './creative.js';

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

/** Options for {@link createOpenRtbBidder}; validated once.
 *
 * @example
 * ```ts
 * import type { OpenRtbBidderOptions } from '@ctrkit/auction';
 * const options: OpenRtbBidderOptions = {
 *   catalog: [],
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
  readonly catalog: readonly BidderCreative[] | ((request: AdRequest) => readonly BidderCreative[] | Promise<readonly BidderCreative[]>);
  /** pCTR (and optionally pCVR) per candidate of the request it is given. */
  readonly predict: (request: AdRequest) => Promise<BidPrediction>;
  /** The model used when personalized ads are not allowed (default `predict`, on the stripped request). */
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

const OPTION_KEYS = [
  'catalog',
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

/** @internal The bidder's settings: every option checked, defaults filled in, hooks bound. */
export interface BidderSettings {
  readonly catalog: OpenRtbBidderOptions['catalog'];
  readonly predict: OpenRtbBidderOptions['predict'];
  readonly predictContextual: OpenRtbBidderOptions['predict'];
  readonly pacing: OpenRtbBidderOptions['pacing'];
  readonly counters: OpenRtbBidderOptions['counters'];
  readonly filter: CandidateFilter;
  readonly consent: ConsentEvaluator;
  /** Upper-case ISO-4217 code. */
  readonly currency: string;
  readonly maxBidCpm: number;
  readonly shading: number;
  readonly floorRaise: number;
  readonly defaultTmax: number;
  readonly reserveMs: number;
  /** 10 ^ priceDecimals. */
  readonly scale: number;
  readonly clock: Clock;
  readonly setTimer: (callback: () => void, ms: number) => () => void;
  readonly seat: string | undefined;
  readonly oneBidPerAd: boolean;
  /** Units of `to` per unit of `from` (1 for the same currency), or undefined when unknown or not a positive finite number. */
  readonly rate: (from: string, to: string) => number | undefined;
}

function defaultTimer(callback: () => void, ms: number): () => void {
  const handle = setTimeout(callback, ms);
  return () => clearTimeout(handle);
}

/**
 * @internal Checks the options once, a static catalog included (every creative, ids unique).
 *
 * @throws `CtrkitError` `E_CONFIG`, as {@link createOpenRtbBidder} documents.
 */
export function resolveSettings(options: OpenRtbBidderOptions): BidderSettings {
  if (!isRecord(options as unknown)) throw new CtrkitError('E_CONFIG', `bidder options must be an object, got ${describe(options)}`);
  checkKnownKeys(options as unknown as Record<string, unknown>, OPTION_KEYS, 'createOpenRtbBidder');
  if (typeof options.predict !== 'function') throw new CtrkitError('E_CONFIG', 'predict is required: an async (request) => pCTR per candidate');
  for (const key of ['predictContextual', 'pacing', 'counters', 'exchangeRate', 'setTimer'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new CtrkitError('E_CONFIG', `${key} must be a function, got ${describe(options[key])}`);
  }
  const catalog = options.catalog;
  if (typeof catalog !== 'function') {
    if (!Array.isArray(catalog)) throw new CtrkitError('E_CONFIG', `catalog must be an array of creatives or a function, got ${describe(catalog)}`);
    const ids = new Set<string>();
    catalog.forEach((creative, i) => {
      const problem = creativeProblem(creative);
      if (problem !== undefined) throw new CtrkitError('E_CONFIG', `catalog[${i}]: ${problem}`);
      if (ids.has(creative.adId)) throw new CtrkitError('E_CONFIG', `catalog[${i}]: adId "${creative.adId}" appears twice; ad ids must be unique`);
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
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function') throw new CtrkitError('E_CONFIG', 'clock must be a Clock from @ctrkit/core');
  const seat = options.seat;
  if (seat !== undefined && (typeof seat !== 'string' || seat.length === 0)) throw new CtrkitError('E_CONFIG', `seat must be a non-empty string, got ${describe(seat)}`);
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
  return {
    catalog,
    predict,
    predictContextual,
    pacing,
    counters,
    filter,
    consent,
    currency,
    maxBidCpm,
    shading,
    floorRaise,
    defaultTmax,
    reserveMs,
    scale: 10 ** decimals,
    clock,
    setTimer: options.setTimer ?? defaultTimer,
    seat,
    oneBidPerAd: options.oneBidPerAd ?? true,
    rate,
  };
}
