/**
 * The auction: score candidates by expected value, allocate the page's slots in rank order, and
 * price the winners by GSP, VCG, first price or second price, with reserves per slot and format.
 */
import { AD_FORMATS, CtrkitError, createRandom } from '@ctrkit/core';
import { fmix32 } from '@ctrkit/core/internal';
import type { AdCandidate, AdFormat, AdRequest, AdSlot, AuctionResult, AuctionWinner, BidType, Random, Rejection } from '@ctrkit/core';
import { checkKnownKeys, checkNumber, describe, isRecord } from './checks.js';
import { CODE, PASS, REASONS } from './codes.js';
import { clampRounded, DEFAULT_PRICE_DECIMALS } from './price.js';
import type { CounterSource } from './targeting/counters.js';
import type { CandidateFilter, FilterResult } from './targeting/filter.js';

/**
 * How winners pay.
 *
 * - `gsp` — generalised second price with quality weights: the least bid that keeps the rank,
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

/** Per-request inputs that travel beside the request, one value per candidate.
 *
 * @example
 * ```ts
 * import type { AuctionInputs } from '@ctrkit/auction';
 * const inputs: AuctionInputs = { pCvr: new Float32Array([0.1, 0.05]), bidMultiplier: [1, 0.5], admitted: [1, 1] };
 * ```
 */
export interface AuctionInputs {
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
  /** Counters for the configured filter's frequency caps. */
  readonly counters?: CounterSource;
  /** Categories this request blocks (passed to the configured filter). */
  readonly blockedCategories?: readonly string[];
  /** Advertisers or domains this request blocks (passed to the configured filter). */
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
const FORMATS: readonly AdFormat[] = AD_FORMATS;
const FORMAT_INDEX: Readonly<Record<string, number>> = { search: 0, display: 1, video: 2, native: 3, social: 4 };
const BID_TYPE_INDEX: Readonly<Record<string, number>> = { CPM: 0, CPC: 1, CPA: 2 };
const BID_TYPES: readonly BidType[] = ['CPM', 'CPC', 'CPA'];
const MAX_GROUPS = 30;
/** Marks, in the shared code array, a candidate the auction itself rejected (its reason is in `fate`). */
const AUCTION_REJECTED = 255;

/** A slot as the auction uses it: floors, CTR multiplier and formats resolved once per request. */
interface ResolvedSlot {
  readonly slot: AdSlot;
  readonly floorCpm: number;
  readonly alpha: number;
}

/** Slots that accept the same ad formats form a group and run one position auction. */
interface SlotGroup {
  readonly slots: ResolvedSlot[];
  /** Bit f set when the group accepts ad format index f. */
  readonly formatMask: number;
}

/** Scratch arrays reused across auctions; grown by doubling. */
class Scratch {
  capacity = 0;
  codes = new Uint8Array(0);
  fate = new Uint8Array(0);
  taken = new Uint8Array(0);
  bidType = new Uint8Array(0);
  formatOf = new Uint8Array(0);
  heap = new Int32Array(0);
  tie = new Uint32Array(0);
  bid = new Float64Array(0);
  units = new Float64Array(0);
  lambda = new Float64Array(0);
  offset = new Float64Array(0);
  score = new Float64Array(0);
  details: (string | undefined)[] = [];

  ensure(n: number): void {
    if (n <= this.capacity) return;
    let capacity = Math.max(16, this.capacity);
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    this.codes = new Uint8Array(capacity);
    this.fate = new Uint8Array(capacity);
    this.taken = new Uint8Array(capacity);
    this.bidType = new Uint8Array(capacity);
    this.formatOf = new Uint8Array(capacity);
    this.heap = new Int32Array(capacity);
    this.tie = new Uint32Array(capacity);
    this.bid = new Float64Array(capacity);
    this.units = new Float64Array(capacity);
    this.lambda = new Float64Array(capacity);
    this.offset = new Float64Array(capacity);
    this.score = new Float64Array(capacity);
    // Filled, not sparse: sparse writes into a large empty array would turn it into a dictionary.
    this.details = new Array<string | undefined>(capacity).fill(undefined);
  }
}

function checkFormat(value: unknown, where: string, code: 'E_CONFIG' | 'E_INPUT'): AdFormat {
  if (typeof value !== 'string' || FORMAT_INDEX[value] === undefined) {
    throw new CtrkitError(code, `${where} must be one of ${FORMATS.join(', ')}, got ${describe(value)}`);
  }
  return value as AdFormat;
}

function checkSlot(slot: unknown, where: string, code: 'E_CONFIG' | 'E_INPUT', formatOptional: boolean): AdSlot {
  if (!isRecord(slot)) throw new CtrkitError(code, `${where} must be a slot object { id, format, position }, got ${describe(slot)}`);
  if (typeof slot.id !== 'string' || slot.id.length === 0) throw new CtrkitError(code, `${where}.id must be a non-empty string, got ${describe(slot.id)}`);
  if (!(formatOptional && slot.format === undefined)) checkFormat(slot.format, `${where}.format`, code);
  if (typeof slot.position !== 'number' || !Number.isInteger(slot.position) || slot.position < 0) {
    throw new CtrkitError(code, `${where}.position must be an integer ≥ 0 (0 = most prominent), got ${describe(slot.position)}`);
  }
  checkNumber(slot.floorCpm, `${where}.floorCpm`, 0, Infinity, code);
  checkNumber(slot.width, `${where}.width`, 0, Infinity, code);
  checkNumber(slot.height, `${where}.height`, 0, Infinity, code);
  return slot as unknown as AdSlot;
}

/**
 * Creates an {@link Auction}.
 *
 * **Model.** Candidate i has an effective bid b_i (bid × pacing multiplier) in its own unit, and
 * billable events per mille at position 0: u_i = 1 (CPM), 1000 × pCTR (CPC), 1000 × pCTR × pCVR
 * (CPA). Its rank weight is s_i = q_i × (1 for CPM, 1000 × pCTR^γ for CPC, 1000 × pCTR^γ × pCVR
 * for CPA) with q_i its quality (when `useQuality`), and its rank score
 * r_i = λ_i b_i + c_i with λ_i = W_rev × s_i and c_i the objective's other terms. A slot at
 * position p multiplies clicks by α_p (`positionEffects`).
 *
 * **Allocation.** Slots are grouped by the ad formats they accept; groups run in order of their
 * most prominent slot, and a candidate that wins in one group leaves the others. Within a group,
 * candidates are taken in decreasing r_i (ties broken by a seeded draw) and fill the slots in
 * position order. A candidate whose bid is below the reserve of the slot it would take is
 * rejected `below_reserve` and does not take part further.
 *
 * **Reserves.** Slot j's reserve F_j (CPM) is the largest of its `floorCpm`, the format floor and
 * `reserveCpm`; in bid units it is R_ij = F_j / e_ij with e_ij = 1 for CPM and u_i × α_j for CPC
 * and CPA, so a CPM floor becomes a per-click floor through pCTR.
 *
 * **Prices** (bid units, per event), for the winner of slot k, with r_{k+1} the next candidate's
 * rank score (0 if none): GSP (r_{k+1} − c_i) / λ_i; VCG (T_k / α_k − c_i) / λ_i with
 * T_k = Σ_{j≥k} (α_j − α_{j+1}) r_{j+1} over the group's slots (α past the last slot is 0);
 * first price b_i; second price GSP + increment. Every price then goes through
 * {@link roundPrice}'s rule: rounded half up to `priceDecimals`, clamped into [R_ik, b_i].
 * `priceCpm` is price × e_ik, the expected cost per thousand impressions in that slot.
 *
 * **Bad values.** A request without a candidates array, a `pCtr` of the wrong length or malformed
 * slots throw `E_INPUT`. A single candidate with a non-finite or non-positive bid, an unknown bid
 * type, a pCTR or pCVR outside [0, 1] or a non-positive quality is rejected `invalid_bid` with a
 * detail naming the field; the rest of the auction goes on.
 *
 * @param options - Pricing rule, scoring, position effects, reserves, tie-breaking seed, filter.
 * @returns The auction; `run` is synchronous and reuses internal scratch (not re-entrant).
 * @throws `CtrkitError` `E_CONFIG` on an unknown option or an invalid value.
 * @remarks `run` allocates only its result: the winners, a one-number-per-candidate snapshot of
 * the outcomes, and — on first read of `result.rejected` — the rejection objects (filter
 * rejections first, then the auction's in candidate order). Scoring and selection use typed-array
 * scratch sized by `capacity`, grown by doubling; selection is a binary heap, O(n + k log n) for
 * k slots.
 * @example
 * ```ts
 * import { createAuction } from '@ctrkit/auction';
 * import type { AdRequest } from '@ctrkit/core';
 * const auction = createAuction({ pricing: 'gsp' });
 * const ad = (adId: string, bid: number) => ({ adId, advertiserId: adId, campaignId: adId, format: 'search' as const, category: 'travel', bid, bidType: 'CPC' as const });
 * const request: AdRequest = {
 *   requestId: 'r-1', user: { id: 'u-1' }, context: { timestamp: 0, slots: [{ id: 'top', format: 'search', position: 0 }] },
 *   candidates: [ad('a', 2), ad('b', 1)],
 * };
 * const result = auction.run(request, new Float32Array([0.1, 0.1]));
 * console.log(result.winners[0]?.adId, result.winners[0]?.price); // a 1
 * ```
 */
export function createAuction(options: AuctionOptions = {}): Auction {
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
  const scratch = new Scratch();
  scratch.ensure(capacity);
  /** Winners of the current group in slot order, then the runner-up. */
  const competitors: number[] = [];

  const alphaAt = (position: number): number => alphas[Math.min(position, alphas.length - 1)] as number;
  const resolve = (slot: AdSlot): ResolvedSlot => ({
    slot,
    floorCpm: Math.max(slot.floorCpm ?? 0, reserveCpm, formatFloors[FORMAT_INDEX[slot.format] as number] as number),
    alpha: alphaAt(slot.position),
  });

  /** Groups the request's slots; validated per request because slots arrive with it. */
  function groupsOf(request: AdRequest): SlotGroup[] {
    const slots = request.context.slots;
    if (slots === undefined || slots.length === 0) {
      if (defaultSlot) return [{ slots: [resolve(defaultSlot)], formatMask: acceptMask[FORMAT_INDEX[defaultSlot.format] as number] as number }];
      const floorCpm = reserveCpm;
      return [{ slots: [{ slot: { id: 'default', format: 'display', position: 0 }, floorCpm, alpha: alphaAt(0) }], formatMask: (1 << FORMATS.length) - 1 }];
    }
    if (!Array.isArray(slots)) throw new CtrkitError('E_INPUT', `request.context.slots must be an array, got ${describe(slots)}`);
    const seen = new Set<string>();
    const groups: SlotGroup[] = [];
    for (let s = 0; s < slots.length; s++) {
      const slot = checkSlot(slots[s], `request.context.slots[${s}]`, 'E_INPUT', false);
      if (seen.has(slot.id)) throw new CtrkitError('E_INPUT', `request.context.slots has two slots with id "${slot.id}"; slot ids must be unique within a request`);
      seen.add(slot.id);
      const mask = acceptMask[FORMAT_INDEX[slot.format] as number] as number;
      let group = groups.find((g) => g.formatMask === mask);
      if (group === undefined) {
        if (groups.length === MAX_GROUPS) throw new CtrkitError('E_INPUT', `a request may have at most ${MAX_GROUPS} slot groups`);
        group = { slots: [], formatMask: mask };
        groups.push(group);
      }
      group.slots.push(resolve(slot));
    }
    for (const group of groups) group.slots.sort((a, b) => a.slot.position - b.slot.position || (a.slot.id < b.slot.id ? -1 : 1));
    groups.sort((a, b) => (a.slots[0] as ResolvedSlot).slot.position - (b.slots[0] as ResolvedSlot).slot.position);
    return groups;
  }

  function run(request: AdRequest, pCtr: ArrayLike<number>, inputs: AuctionInputs = {}): AuctionResult {
    if (!isRecord(request)) throw new CtrkitError('E_INPUT', `auction.run needs an AdRequest, got ${describe(request)}`);
    const candidates = request.candidates;
    if (!Array.isArray(candidates)) throw new CtrkitError('E_INPUT', `request.candidates must be an array, got ${describe(candidates)}`);
    if (!isRecord(request.context)) throw new CtrkitError('E_INPUT', `request.context must be an object, got ${describe(request.context)}`);
    const n = candidates.length;
    if (pCtr === null || typeof pCtr !== 'object' || pCtr.length !== n) {
      throw new CtrkitError('E_INPUT', `pCtr must hold one probability per candidate (${n}), got ${pCtr === null || typeof pCtr !== 'object' ? describe(pCtr) : `${pCtr.length} values`}`);
    }
    for (const key of ['pCvr', 'bidMultiplier', 'admitted', 'exhausted', 'userExperience', 'advertiserValue'] as const) {
      const values = inputs[key];
      if (values !== undefined && values.length !== n) {
        throw new CtrkitError('E_INPUT', `inputs.${key} has ${values.length} values for ${n} candidates; pass one per candidate`);
      }
    }
    const groups = groupsOf(request);
    scratch.ensure(n);
    const { codes, fate, taken, bidType, formatOf, heap, tie, bid, units, lambda, offset, score, details } = scratch;
    codes.fill(0, 0, n);
    fate.fill(0, 0, n);
    taken.fill(0, 0, n);
    const filterResults: FilterResult[] = [];

    if (inputs.filtered !== undefined) {
      if (inputs.filtered.codes.length !== n) throw new CtrkitError('E_INPUT', `inputs.filtered covers ${inputs.filtered.codes.length} candidates, the request has ${n}`);
      codes.set(inputs.filtered.codes);
      filterResults.push(inputs.filtered);
    }
    if (filter !== undefined) {
      const context = {
        ...(inputs.counters === undefined ? {} : { counters: inputs.counters }),
        ...(inputs.blockedCategories === undefined ? {} : { blockedCategories: inputs.blockedCategories }),
        ...(inputs.blockedAdvertisers === undefined ? {} : { blockedAdvertisers: inputs.blockedAdvertisers }),
      };
      filterResults.push(filter.apply(request, context, codes));
    }

    let allFormats = 0;
    for (const group of groups) allFormats |= group.formatMask;
    const pCvrs = inputs.pCvr;
    const multipliers = inputs.bidMultiplier;
    const admitted = inputs.admitted;
    const exhausted = inputs.exhausted;
    const uxs = inputs.userExperience;
    const advs = inputs.advertiserValue;
    const salt = (random.next() * 4294967296) >>> 0;
    const reject = (i: number, code: number): void => {
      codes[i] = AUCTION_REJECTED;
      fate[i] = code;
    };

    // Score every candidate still in the running. One pass, no allocation on the passing path.
    for (let i = 0; i < n; i++) {
      if (codes[i] !== PASS) continue;
      const candidate = candidates[i] as AdCandidate;
      if (!isRecord(candidate)) {
        throw new CtrkitError('E_INPUT', `request.candidates[${i}] must be an AdCandidate, got ${describe(candidate)}`);
      }
      if (exhausted !== undefined && (exhausted[i] === true || exhausted[i] === 1)) {
        reject(i, CODE.budget_exhausted);
        continue;
      }
      if (admitted !== undefined && (admitted[i] === false || admitted[i] === 0)) {
        reject(i, CODE.pacing_throttled);
        continue;
      }
      const type = BID_TYPE_INDEX[candidate.bidType];
      const p = pCtr[i] as number;
      const multiplier = multipliers === undefined ? 1 : (multipliers[i] as number);
      const quality = useQuality && candidate.quality !== undefined ? candidate.quality : 1;
      const cvr = type === 2 ? (pCvrs === undefined ? (candidate.pCvr ?? Number.NaN) : (pCvrs[i] as number)) : pCvrs === undefined ? (candidate.pCvr ?? 0) : (pCvrs[i] as number);
      const raw = candidate.bid;
      let problem: string | undefined;
      if (type === undefined) problem = `bidType ${describe(candidate.bidType)} is not one of ${BID_TYPES.join(', ')}`;
      else if (typeof raw !== 'number' || !(raw > 0) || raw === Infinity) problem = `bid must be a finite number > 0, got ${describe(raw)}`;
      else if (!(p >= 0 && p <= 1)) problem = `pCTR must be a probability in [0, 1], got ${p}`;
      else if (!(cvr >= 0 && cvr <= 1)) problem = type === 2 ? `CPA bids need a pCVR in [0, 1] (inputs.pCvr or candidate.pCvr), got ${cvr}` : `pCVR must be in [0, 1], got ${cvr}`;
      else if (!(quality > 0 && quality < Infinity)) problem = `quality must be a finite number > 0, got ${describe(quality)}`;
      else if (!(multiplier >= 0 && multiplier < Infinity)) problem = `pacing multiplier must be a finite number ≥ 0, got ${multiplier}`;
      if (problem !== undefined) {
        reject(i, CODE.invalid_bid);
        details[i] = problem;
        continue;
      }
      if (multiplier === 0) {
        reject(i, CODE.pacing_throttled);
        details[i] = 'pacing multiplier is 0';
        continue;
      }
      const f = FORMAT_INDEX[candidate.format];
      if (f === undefined || ((allFormats >>> f) & 1) === 0) {
        reject(i, CODE.format_mismatch);
        details[i] = `no slot accepts format ${describe(candidate.format)}`;
        continue;
      }
      const t = type as number;
      const u = t === 0 ? 1 : t === 1 ? 1000 * p : 1000 * p * cvr;
      if (!(u > 0)) {
        reject(i, CODE.below_reserve);
        details[i] = `zero expected value (pCTR ${p}${t === 2 ? `, pCVR ${cvr}` : ''})`;
        continue;
      }
      const squashed = gamma === 1 ? p : Math.pow(p, gamma);
      const weight = quality * (t === 0 ? 1 : t === 1 ? 1000 * squashed : 1000 * squashed * cvr);
      const b = raw * multiplier;
      const lam = wRevenue * weight;
      let c = 0;
      if (wUx !== 0) c += wUx * (uxs === undefined ? 1000 * p : (uxs[i] as number));
      if (wAdv !== 0) c += wAdv * (advs === undefined ? 1000 * p * cvr : (advs[i] as number));
      if (!Number.isFinite(c)) {
        reject(i, CODE.invalid_bid);
        details[i] = `objective terms must be finite, got ${c}`;
        continue;
      }
      bidType[i] = t;
      bid[i] = b;
      units[i] = u;
      lambda[i] = lam;
      offset[i] = c;
      score[i] = lam * b + c;
      tie[i] = fmix32(salt ^ Math.imul(i + 1, 0x9e3779b9));
      formatOf[i] = f;
    }

    const better = (a: number, b: number): boolean => {
      const sa = score[a] as number;
      const sb = score[b] as number;
      if (sa !== sb) return sa > sb;
      const ta = tie[a] as number;
      const tb = tie[b] as number;
      return ta !== tb ? ta > tb : a < b;
    };
    const siftDown = (size: number, from: number): void => {
      let at = from;
      const item = heap[at] as number;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        if (child + 1 < size && better(heap[child + 1] as number, heap[child] as number)) child++;
        if (!better(heap[child] as number, item)) break;
        heap[at] = heap[child] as number;
        at = child;
      }
      heap[at] = item;
    };

    const winners: AuctionWinner[] = [];
    for (const group of groups) {
      const m = group.slots.length;
      let size = 0;
      for (let i = 0; i < n; i++) {
        if (codes[i] === PASS && taken[i] === 0 && ((group.formatMask >>> (formatOf[i] as number)) & 1) === 1) heap[size++] = i;
      }
      for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(size, at);
      competitors.length = 0;
      let assigned = 0;
      while (size > 0) {
        const i = heap[0] as number;
        heap[0] = heap[--size] as number;
        siftDown(size, 0);
        if (assigned === m) {
          competitors.push(i); // the runner-up: prices the last slot, does not win
          break;
        }
        const slot = group.slots[assigned] as ResolvedSlot;
        const events = bidType[i] === 0 ? 1 : (units[i] as number) * slot.alpha;
        const reserve = slot.floorCpm / events;
        if ((bid[i] as number) < reserve) {
          fate[i] = CODE.below_reserve;
          details[i] = `bid ${bid[i]} below the reserve ${reserve} of slot ${slot.slot.id} (${slot.floorCpm} CPM)`;
          continue;
        }
        competitors.push(i);
        assigned++;
      }
      for (let k = 0; k < assigned; k++) {
        const i = competitors[k] as number;
        const slot = group.slots[k] as ResolvedSlot;
        const b = bid[i] as number;
        const lam = lambda[i] as number;
        const c = offset[i] as number;
        const next = competitors[k + 1];
        let price: number;
        if (pricing === 'first-price') {
          price = b;
        } else if (pricing === 'vcg') {
          let total = 0;
          for (let j = k; j < m; j++) {
            const follower = competitors[j + 1];
            if (follower === undefined) break;
            const alphaNext = j + 1 < m ? (group.slots[j + 1] as ResolvedSlot).alpha : 0;
            total += ((group.slots[j] as ResolvedSlot).alpha - alphaNext) * (score[follower] as number);
          }
          price = (total / slot.alpha - c) / lam;
        } else {
          price = ((next === undefined ? 0 : (score[next] as number)) - c) / lam;
          if (pricing === 'second-price') price += increment;
        }
        if (!(price > 0)) price = 0;
        const events = bidType[i] === 0 ? 1 : (units[i] as number) * slot.alpha;
        const reserve = slot.floorCpm / events;
        const charged = clampRounded(price, reserve, b, scale);
        const candidate = candidates[i] as AdCandidate;
        taken[i] = 1;
        fate[i] = PASS;
        winners.push({
          adId: candidate.adId,
          campaignId: candidate.campaignId,
          advertiserId: candidate.advertiserId,
          slotId: slot.slot.id,
          position: slot.slot.position,
          bidType: candidate.bidType,
          bid: b,
          price: charged,
          priceCpm: Math.round(charged * events * scale) / scale,
          pCtr: pCtr[i] as number,
          score: score[i] as number,
        });
      }
      // Candidates of this group that were neither winners nor dropped were outranked (a later
      // group may still take them and overwrite this).
      for (let h = 0; h < size; h++) {
        const i = heap[h] as number;
        if (fate[i] === PASS) fate[i] = CODE.outranked;
      }
      for (let k = assigned; k < competitors.length; k++) {
        const i = competitors[k] as number;
        if (fate[i] === PASS) fate[i] = CODE.outranked;
      }
    }

    // Rejections are snapshotted compactly (one byte per candidate, details only where set) and
    // turned into objects on first read: ~1,000 'outranked' objects per auction would otherwise be
    // most of the allocation, and most hosts only sample them.
    // A plain array: a typed array per auction is an off-heap buffer whose external-memory
    // accounting triggers full collections under load.
    const reasons: number[] = new Array<number>(n).fill(PASS);
    let snapshotDetails: (string | undefined)[] | undefined;
    for (let i = 0; i < n; i++) {
      const detail = details[i];
      if (detail !== undefined) details[i] = undefined;
      const code = codes[i] as number;
      let reason: number;
      if (code === PASS) {
        if (taken[i] === 1) continue;
        reason = fate[i] === PASS ? CODE.outranked : (fate[i] as number);
      } else if (code === AUCTION_REJECTED) {
        reason = fate[i] as number;
      } else {
        continue; // rejected by a filter, already listed
      }
      reasons[i] = reason;
      if (detail !== undefined && reason !== CODE.outranked) (snapshotDetails ??= [])[i] = detail;
    }
    let materialised: Rejection[] | undefined;
    return {
      requestId: request.requestId,
      winners,
      get rejected(): readonly Rejection[] {
        if (materialised === undefined) {
          materialised = [];
          for (const result of filterResults) for (const r of result.rejected) materialised.push(r);
          for (let i = 0; i < n; i++) {
            const reason = reasons[i] as number;
            if (reason === PASS) continue;
            const adId = (candidates[i] as AdCandidate).adId;
            const name = REASONS[reason] as Rejection['reason'];
            const detail = snapshotDetails?.[i];
            materialised.push(detail === undefined ? { adId, reason: name } : { adId, reason: name, detail });
          }
        }
        return materialised;
      },
    };
  }

  return { pricing, run };
}
