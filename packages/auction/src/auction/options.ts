/**
 * What an auction is told: its options ({@link AuctionOptions}, {@link PricingRule},
 * {@link ObjectiveWeights}) checked once into settings, and the per-request inputs beside a
 * request ({@link AuctionInputs}).
 */
import { CtrkitError, createRandom } from '@ctrkit/core';
import type { AdFormat, AdRequest, AdSlot, AuctionResult, Random } from '@ctrkit/core';
import { checkKnownKeys, checkNumber, describe, isRecord } from '../checks.js';
import { DEFAULT_PRICE_DECIMALS } from '../price.js';
import type { CandidateFilter, FilterContext, FilterResult } from '../targeting/filter.js';
import { checkFormat, checkSlot, FORMAT_INDEX, FORMATS } from './slots.js';
import type { SlotSettings } from './slots.js';

/**
 * How winners pay.
 *
 * - `gsp` — generalized second price with quality weights: the least bid that keeps the rank,
 *   p_i = (s_{i+1} b_{i+1} − c_i) / s_i (c_i is 0 unless the objective has non-revenue terms).
 * - `vcg` — Vickrey–Clarke–Groves for position auctions: each winner pays the value it takes from
 *   the others, so bidding one's true value is a dominant strategy.
 * - `first-price` — winners pay their bid.
 * - `second-price` — GSP plus a fixed increment (`secondPriceIncrement`, OpenRTB's "second price
 *   plus"), never above the bid; with a zero increment it equals `gsp`.
 *
 * @example
 * ```ts
 * import type { PricingRule } from '@ctrkit/auction';
 * const rule: PricingRule = 'vcg';
 * ```
 */
export type PricingRule = 'gsp' | 'vcg' | 'first-price' | 'second-price';

/** Every {@link PricingRule}.
 *
 * @example
 * ```ts
 * import { PRICING_RULES } from '@ctrkit/auction';
 * console.log(PRICING_RULES.includes('gsp')); // true
 * ```
 */
export const PRICING_RULES: readonly PricingRule[] = ['gsp', 'vcg', 'first-price', 'second-price'];

/**
 * Weights of the ranking objective. A candidate's rank score is
 * `revenue × s_i × b_i + userExperience × ux_i + advertiserValue × av_i`, where `s_i × b_i` is its
 * (squashed, quality-weighted) expected revenue per mille, `ux_i` defaults to expected clicks per
 * mille (1000 × pCTR) and `av_i` to expected conversions per mille (1000 × pCTR × pCVR); both can
 * be supplied per candidate through {@link AuctionInputs}.
 *
 * @example
 * ```ts
 * import type { ObjectiveWeights } from '@ctrkit/auction';
 * const weights: ObjectiveWeights = { revenue: 1, userExperience: 0.2, advertiserValue: 0 };
 * ```
 */
export interface ObjectiveWeights {
  /** Weight of expected revenue (must be > 0; default 1). */
  readonly revenue?: number;
  /** Weight of the user-experience term (default 0). */
  readonly userExperience?: number;
  /** Weight of the advertiser-value term (default 0). */
  readonly advertiserValue?: number;
}

/** Options for {@link createAuction}; validated once, when the auction is created.
 *
 * @example
 * ```ts
 * import type { AuctionOptions } from '@ctrkit/auction';
 * const options: AuctionOptions = {
 *   pricing: 'gsp', squashing: 0.8, positionEffects: [1, 0.6, 0.4],
 *   reserveCpm: 0.2, formatFloorsCpm: { video: 4 }, seed: 'prod-1',
 * };
 * ```
 */
export interface AuctionOptions {
  /** How winners pay (default `gsp`). */
  readonly pricing?: PricingRule;
  /** Squashing exponent γ ≥ 0: CPC and CPA candidates rank by bid × pCTR^γ (default 1, no squashing). */
  readonly squashing?: number;
  /** Multiply rank weights by `candidate.quality` when present (default true). */
  readonly useQuality?: boolean;
  /** Weights of the multi-objective score (default: revenue only). */
  readonly objective?: ObjectiveWeights;
  /**
   * CTR multiplier per slot position: `positionEffects[p]` for a slot at position p, the last
   * value for positions beyond the array. Positive and non-increasing (default `[1]`).
   */
  readonly positionEffects?: readonly number[];
  /** A reserve in CPM for every slot (default 0). */
  readonly reserveCpm?: number;
  /** Reserves in CPM per slot format; a slot's reserve is the largest of these, its own `floorCpm` and `reserveCpm`. */
  readonly formatFloorsCpm?: Partial<Record<AdFormat, number>>;
  /** Which ad formats a slot format accepts (default: only its own). */
  readonly formatCompatibility?: Partial<Record<AdFormat, readonly AdFormat[]>>;
  /** The increment of `second-price`, in bid units (default 0.01). */
  readonly secondPriceIncrement?: number;
  /** Decimal places prices are rounded to (default 6; see {@link roundPrice}). */
  readonly priceDecimals?: number;
  /** Seed of the tie-breaking source (default 0). Ignored when `random` is given. */
  readonly seed?: number | string;
  /** The tie-breaking source (core's `createRandom`); one draw per auction. */
  readonly random?: Random;
  /** A filter applied to every request before ranking. */
  readonly filter?: CandidateFilter;
  /** The slot used when a request names none (default `{ id: 'default', position: 0 }`, accepting every format). */
  readonly defaultSlot?: AdSlot;
  /** Candidates to preallocate scratch for (default 1,024; grows by doubling). */
  readonly capacity?: number;
}

/**
 * Per-request inputs that travel beside the request, one value per candidate. Its `counters`,
 * `blockedCategories` and `blockedAdvertisers` are the configured filter's {@link FilterContext},
 * passed to it as they are.
 *
 * @example
 * ```ts
 * import type { AuctionInputs } from '@ctrkit/auction';
 * const inputs: AuctionInputs = { pCvr: new Float32Array([0.1, 0.05]), bidMultiplier: [1, 0.5], admitted: [1, 1] };
 * ```
 */
export interface AuctionInputs extends Pick<FilterContext, 'counters' | 'blockedCategories' | 'blockedAdvertisers'> {
  /** Conversion probabilities given a click (default: each candidate's `pCvr`, else 0). */
  readonly pCvr?: ArrayLike<number>;
  /** Pacing multipliers applied to bids (default 1). A multiplier of 0 rejects with `pacing_throttled`. */
  readonly bidMultiplier?: ArrayLike<number>;
  /** Pacing admission: 0 or `false` rejects with `pacing_throttled`. */
  readonly admitted?: ArrayLike<number | boolean>;
  /** Budget state: 1 or `true` rejects with `budget_exhausted`. */
  readonly exhausted?: ArrayLike<number | boolean>;
  /** User-experience terms for the objective (default 1000 × pCTR). */
  readonly userExperience?: ArrayLike<number>;
  /** Advertiser-value terms for the objective (default 1000 × pCTR × pCVR). */
  readonly advertiserValue?: ArrayLike<number>;
  readonly blockedAdvertisers?: readonly string[];
  /** The result of a filter the host ran itself; its rejections are carried over. */
  readonly filtered?: FilterResult;
}

/**
 * Ranks and prices one request's candidates.
 *
 * @example
 * ```ts
 * import type { AdRequest } from '@ctrkit/core';
 * import type { Auction } from '@ctrkit/auction';
 * const winnersOf = (auction: Auction, request: AdRequest, pCtr: Float32Array) => auction.run(request, pCtr).winners;
 * ```
 */
export interface Auction {
  /** The pricing rule in force. */
  readonly pricing: PricingRule;
  /**
   * Runs one auction.
   *
   * @param request - The request: candidates, slots (`context.slots`), consent.
   * @param pCtr - Calibrated click probability per candidate (position 0).
   * @param inputs - pCVR, pacing, objective terms, counters, block lists.
   * @returns Winners in slot order and every other candidate with its reason.
   */
  run(request: AdRequest, pCtr: ArrayLike<number>, inputs?: AuctionInputs): AuctionResult;
}

const OPTION_KEYS = [
  'pricing',
  'squashing',
  'useQuality',
  'objective',
  'positionEffects',
  'reserveCpm',
  'formatFloorsCpm',
  'formatCompatibility',
  'secondPriceIncrement',
  'priceDecimals',
  'seed',
  'random',
  'filter',
  'defaultSlot',
  'capacity',
] as const;

/** @internal The auction's settings: every option checked, defaults filled in. */
export interface AuctionSettings extends SlotSettings {
  readonly pricing: PricingRule;
  /** The squashing exponent γ. */
  readonly gamma: number;
  readonly useQuality: boolean;
  readonly wRevenue: number;
  readonly wUx: number;
  readonly wAdv: number;
  readonly increment: number;
  /** 10 ^ priceDecimals. */
  readonly scale: number;
  readonly random: Random;
  readonly filter: CandidateFilter | undefined;
  readonly capacity: number;
}

/**
 * @internal Checks the options once.
 *
 * @throws `CtrkitError` `E_CONFIG`, as {@link createAuction} documents.
 */
export function resolveSettings(options: AuctionOptions): AuctionSettings {
  if (!isRecord(options as unknown)) throw new CtrkitError('E_CONFIG', `auction options must be an object, got ${describe(options)}`);
  checkKnownKeys(options as Record<string, unknown>, OPTION_KEYS, 'createAuction');
  const pricing = options.pricing ?? 'gsp';
  if (!PRICING_RULES.includes(pricing)) throw new CtrkitError('E_CONFIG', `pricing must be one of ${PRICING_RULES.join(', ')}, got ${describe(pricing)}`);
  const gamma = checkNumber(options.squashing, 'squashing', 0, 10) ?? 1;
  const useQuality = options.useQuality ?? true;
  if (typeof useQuality !== 'boolean') throw new CtrkitError('E_CONFIG', `useQuality must be a boolean, got ${describe(useQuality)}`);
  const objective = options.objective ?? {};
  if (!isRecord(objective)) throw new CtrkitError('E_CONFIG', `objective must be an object of weights, got ${describe(objective)}`);
  checkKnownKeys(objective, ['revenue', 'userExperience', 'advertiserValue'], 'objective');
  const wRevenue = checkNumber(objective.revenue, 'objective.revenue', 0) ?? 1;
  if (!(wRevenue > 0)) throw new CtrkitError('E_CONFIG', 'objective.revenue must be > 0: prices are defined through the revenue term');
  const wUx = checkNumber(objective.userExperience, 'objective.userExperience', 0) ?? 0;
  const wAdv = checkNumber(objective.advertiserValue, 'objective.advertiserValue', 0) ?? 0;
  const positionEffects = options.positionEffects ?? [1];
  if (!Array.isArray(positionEffects) || positionEffects.length === 0) {
    throw new CtrkitError('E_CONFIG', `positionEffects must be a non-empty array of CTR multipliers, got ${describe(positionEffects)}`);
  }
  const alphas = Float64Array.from(positionEffects, (value: unknown, i) => {
    const alpha = checkNumber(value, `positionEffects[${i}]`, 0) as number;
    if (!(alpha > 0)) throw new CtrkitError('E_CONFIG', `positionEffects[${i}] must be > 0, got ${alpha}`);
    if (i > 0 && alpha > (positionEffects[i - 1] as number)) {
      throw new CtrkitError('E_CONFIG', `positionEffects must be non-increasing (a lower slot never gets more clicks), but [${i}] = ${alpha} > [${i - 1}] = ${positionEffects[i - 1]}`);
    }
    return alpha;
  });
  const reserveCpm = checkNumber(options.reserveCpm, 'reserveCpm', 0) ?? 0;
  const formatFloors = new Float64Array(FORMATS.length);
  if (options.formatFloorsCpm !== undefined) {
    if (!isRecord(options.formatFloorsCpm)) throw new CtrkitError('E_CONFIG', `formatFloorsCpm must be an object, got ${describe(options.formatFloorsCpm)}`);
    for (const [format, floor] of Object.entries(options.formatFloorsCpm)) {
      formatFloors[FORMAT_INDEX[checkFormat(format, 'formatFloorsCpm key', 'E_CONFIG')] as number] = checkNumber(floor, `formatFloorsCpm.${format}`, 0) ?? 0;
    }
  }
  // acceptMask[f] = bit set of ad formats a slot of format f accepts.
  const acceptMask = FORMATS.map((_, f) => 1 << f);
  if (options.formatCompatibility !== undefined) {
    if (!isRecord(options.formatCompatibility)) throw new CtrkitError('E_CONFIG', `formatCompatibility must be an object, got ${describe(options.formatCompatibility)}`);
    for (const [slotFormat, adFormats] of Object.entries(options.formatCompatibility)) {
      const f = FORMAT_INDEX[checkFormat(slotFormat, 'formatCompatibility key', 'E_CONFIG')] as number;
      if (!Array.isArray(adFormats)) throw new CtrkitError('E_CONFIG', `formatCompatibility.${slotFormat} must be an array of ad formats`);
      let mask = 0;
      adFormats.forEach((format: unknown, i) => {
        mask |= 1 << (FORMAT_INDEX[checkFormat(format, `formatCompatibility.${slotFormat}[${i}]`, 'E_CONFIG')] as number);
      });
      acceptMask[f] = mask;
    }
  }
  const increment = checkNumber(options.secondPriceIncrement, 'secondPriceIncrement', 0) ?? 0.01;
  const decimals = checkNumber(options.priceDecimals, 'priceDecimals', 0, 12) ?? DEFAULT_PRICE_DECIMALS;
  if (!Number.isInteger(decimals)) throw new CtrkitError('E_CONFIG', `priceDecimals must be an integer, got ${decimals}`);
  const scale = 10 ** decimals;
  if (options.random !== undefined && (!isRecord(options.random as unknown) || typeof (options.random as { next?: unknown }).next !== 'function')) {
    throw new CtrkitError('E_CONFIG', 'random must be a Random from @ctrkit/core createRandom');
  }
  if (options.seed !== undefined && typeof options.seed !== 'string' && !Number.isFinite(options.seed)) {
    throw new CtrkitError('E_CONFIG', `seed must be a finite number or a string, got ${describe(options.seed)}`);
  }
  const random = options.random ?? createRandom(options.seed ?? 0);
  const filter = options.filter;
  if (filter !== undefined && (!isRecord(filter as unknown) || typeof filter.apply !== 'function')) {
    throw new CtrkitError('E_CONFIG', 'filter must be a CandidateFilter from createCandidateFilter');
  }
  const defaultSlot = options.defaultSlot === undefined ? undefined : checkSlot(options.defaultSlot, 'defaultSlot', 'E_CONFIG', false);
  const capacity = checkNumber(options.capacity, 'capacity', 0, 1 << 24) ?? 1024;
  return { pricing, gamma, useQuality, wRevenue, wUx, wAdv, alphas, reserveCpm, formatFloors, acceptMask, increment, scale, random, filter, defaultSlot, capacity };
}
