/**
 * Candidate selection before ranking: {@link createCandidateFilter} applies targeting rules per
 * campaign (rules.ts, judged per user in judge-user.ts), frequency caps read from counters the
 * host supplies (counters.ts), and blocked categories and advertisers (block-lists.ts). Every
 * rejected candidate gets a core `RejectionReason`.
 */
import { CtrkitError } from '@ctrkit/core';
import type { AdCandidate, AdRequest, Rejection } from '@ctrkit/core';
import { checkKnownKeys, checkStrings, describe, isRecord } from '../checks.js';
import { CODE, PASS, REASONS } from '../codes.js';
import { blockedCode, domainBlocked, merged } from './block-lists.js';
import { counterReader, MISSING } from './counters.js';
import type { CounterSource } from './counters.js';
import { judgeUser } from './judge-user.js';
import { compileCaps, compileTargeting } from './rules.js';
import type { CompiledCaps, CompiledRules, FrequencyCap, TargetingRules } from './rules.js';

/** Options for {@link createCandidateFilter}; validated once, when the filter is created.
 *
 * @example
 * ```ts
 * import type { CandidateFilterOptions } from '@ctrkit/auction';
 * const options: CandidateFilterOptions = {
 *   targeting: { 'cmp-1': { countries: ['FR'] } },
 *   frequencyCaps: [{ counter: 'user_ad.imp_count.24h', max: 10 }],
 *   counterNames: ['user_ad.imp_count.24h', 'user_campaign.imp_count.24h'], // a feature store's `names`
 *   blockedCategories: ['IAB25'],
 * };
 * ```
 */
export interface CandidateFilterOptions {
  /**
   * Rules per campaign id, compiled once here; or a function returning a candidate's rules,
   * compiled the first time each returned object is seen (return the same object per campaign).
   */
  readonly targeting?: Readonly<Record<string, TargetingRules>> | ((candidate: AdCandidate) => TargetingRules | undefined);
  /** Caps applied to every candidate, on top of each campaign's own. */
  readonly frequencyCaps?: readonly FrequencyCap[];
  /**
   * The counters the counter source provides (a feature store's `names`); required when any cap
   * is given, so that a cap naming a counter that does not exist fails here with a suggestion
   * instead of reading 0 for ever.
   */
  readonly counterNames?: readonly string[];
  /**
   * Categories never shown, matched against each candidate's IAB codes (`cat`, else its
   * `category`); `IAB7` also blocks its subcategories such as `IAB7-39`.
   */
  readonly blockedCategories?: readonly string[];
  /** Advertiser ids or landing domains never shown; a domain also blocks its subdomains. */
  readonly blockedAdvertisers?: readonly string[];
  /**
   * What to do with capped candidates when the counters are flagged `degraded` (the store failed
   * or ran late): `reject` them with `frequency_cap` (default; caps cannot be verified) or
   * `allow` them.
   */
  readonly degradedCounters?: 'reject' | 'allow';
}

/** Per-request inputs to {@link CandidateFilter.apply}.
 *
 * @example
 * ```ts
 * import type { FilterContext } from '@ctrkit/auction';
 * const context: FilterContext = { blockedCategories: ['IAB7-39'], blockedAdvertisers: ['ford.com'] };
 * ```
 */
export interface FilterContext {
  /** Counters for frequency caps; without them every counter counts as 0. */
  readonly counters?: CounterSource;
  /** Categories blocked by this request (for example OpenRTB `bcat`), on top of the filter's own. */
  readonly blockedCategories?: readonly string[];
  /** Advertisers or domains blocked by this request (for example OpenRTB `badv`). */
  readonly blockedAdvertisers?: readonly string[];
  /** The time behavior rules measure from (default `request.context.timestamp`). */
  readonly now?: number;
}

/** What {@link CandidateFilter.apply} found.
 *
 * @example
 * ```ts
 * import type { FilterResult } from '@ctrkit/auction';
 * const survivors = (result: FilterResult) => result.codes.reduce((n, code) => n + (code === 0 ? 1 : 0), 0);
 * ```
 */
export interface FilterResult {
  /** One code per candidate: 0 when it passed, otherwise the rejection (see {@link rejectionReasonOf}). */
  readonly codes: Uint8Array;
  /** The rejected candidates with reasons and details, in candidate order. */
  readonly rejected: readonly Rejection[];
  /** How many candidates passed. */
  readonly passed: number;
}

/**
 * Filters a request's candidates by targeting, frequency caps and block lists.
 *
 * @example
 * ```ts
 * import type { AdRequest } from '@ctrkit/core';
 * import type { CandidateFilter } from '@ctrkit/auction';
 * const eligible = (filter: CandidateFilter, request: AdRequest) => filter.apply(request).passed;
 * ```
 */
export interface CandidateFilter {
  /**
   * Checks every candidate of `request`. Candidates whose code in `out` is already non-zero are
   * left as they are (so filters chain).
   *
   * @param request - The request; its `consent` gates rules on personal data.
   * @param context - Counters and per-request block lists.
   * @param out - Optional buffer of at least `request.candidates.length` codes (zeroed by the caller).
   * @returns Codes, rejections and the number that passed.
   */
  apply(request: AdRequest, context?: FilterContext, out?: Uint8Array): FilterResult;
}

/**
 * Names the rejection reason behind a code in {@link FilterResult.codes}.
 *
 * @param code - A code from `codes`.
 * @returns The reason, or `undefined` for 0 (passed) and unknown codes.
 * @example
 * ```ts
 * import { rejectionReasonOf } from '@ctrkit/auction';
 * console.log(rejectionReasonOf(0)); // undefined
 * ```
 */
export function rejectionReasonOf(code: number): Rejection['reason'] | undefined {
  return REASONS[code];
}

const FILTER_KEYS = ['targeting', 'frequencyCaps', 'counterNames', 'blockedCategories', 'blockedAdvertisers', 'degradedCounters'] as const;

/**
 * Creates a {@link CandidateFilter}. Rules are validated and compiled here, once; `apply` only
 * reads sets and counters. Checks run in this order and the first failure is the reason:
 * consent → demographic → geo → device → interest → segment/behavior (each memoized per campaign
 * and request), then blocked advertiser, blocked category, frequency caps (per candidate).
 *
 * @param options - Targeting per campaign, global caps, block lists.
 * @returns The filter.
 * @throws `CtrkitError` `E_CONFIG` on an unknown option, a malformed rule, an inverted range, or
 *   a cap naming a counter not in `counterNames` (with the nearest name) or given without
 *   `counterNames`. Caps of rules returned by a `targeting` function are checked when first seen,
 *   so `apply` throws that error then.
 * @remarks `apply` allocates a one-number-per-candidate snapshot of what it rejected (the
 * rejection objects are built on first read of `rejected`) and, per request, small sets for the
 * request's own block lists; nothing per candidate.
 * @example
 * ```ts
 * import { createCandidateFilter } from '@ctrkit/auction';
 * import type { AdRequest } from '@ctrkit/core';
 * const filter = createCandidateFilter({ targeting: { 'cmp-fr': { countries: ['FR'] } } });
 * const request: AdRequest = {
 *   requestId: 'r-1', user: { id: 'u-1', country: 'DE' }, context: { timestamp: 0 },
 *   candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'cmp-fr', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }],
 * };
 * console.log(filter.apply(request).rejected); // [{ adId: 'a', reason: 'targeting_geo', detail: 'country DE not targeted' }]
 * ```
 */
export function createCandidateFilter(options: CandidateFilterOptions = {}): CandidateFilter {
  if (!isRecord(options as unknown)) throw new CtrkitError('E_CONFIG', `filter options must be an object, got ${describe(options)}`);
  checkKnownKeys(options as Record<string, unknown>, FILTER_KEYS, 'createCandidateFilter');
  const counterNameList = checkStrings(options.counterNames, 'counterNames');
  const counterNames = counterNameList === undefined ? undefined : new Set(counterNameList);
  const globalCaps = compileCaps(options.frequencyCaps, 'frequencyCaps', counterNames);
  const staticCategories = checkStrings(options.blockedCategories, 'blockedCategories');
  const staticAdvertisers = checkStrings(options.blockedAdvertisers, 'blockedAdvertisers');
  const degraded = options.degradedCounters ?? 'reject';
  if (degraded !== 'reject' && degraded !== 'allow') throw new CtrkitError('E_CONFIG', `degradedCounters must be "reject" or "allow", got ${describe(degraded)}`);

  const targeting = options.targeting;
  let rulesOf: (candidate: AdCandidate) => CompiledRules | undefined;
  if (targeting === undefined) {
    rulesOf = () => undefined;
  } else if (typeof targeting === 'function') {
    const cache = new WeakMap<object, CompiledRules>();
    rulesOf = (candidate) => {
      const rules = targeting(candidate);
      if (rules === undefined) return undefined;
      if (!isRecord(rules)) throw new CtrkitError('E_CONFIG', `the targeting function returned ${describe(rules)} for campaign ${candidate.campaignId}; return a rules object or undefined`);
      let compiled = cache.get(rules);
      if (compiled === undefined) {
        compiled = compileTargeting(rules, `targeting of campaign ${candidate.campaignId}`, counterNames);
        cache.set(rules, compiled);
      }
      return compiled;
    };
  } else {
    if (!isRecord(targeting)) throw new CtrkitError('E_CONFIG', `targeting must be a record of campaign id → rules or a function, got ${describe(targeting)}`);
    const byCampaign = new Map<string, CompiledRules>();
    for (const [campaignId, rules] of Object.entries(targeting)) byCampaign.set(campaignId, compileTargeting(rules, `targeting["${campaignId}"]`, counterNames));
    rulesOf = (candidate) => byCampaign.get(candidate.campaignId);
  }

  let epoch = 0;
  return {
    apply(request, context = {}, out) {
      const candidates = request.candidates;
      const n = candidates.length;
      const codes = out && out.length >= n ? out.subarray(0, n) : new Uint8Array(n);
      const reader = counterReader(context.counters, n);
      const blockedCategories = merged(staticCategories, context.blockedCategories, false);
      const blockedAdvertisers = merged(staticAdvertisers, context.blockedAdvertisers, true);
      const categoryCache = blockedCategories ? new Map<string, boolean>() : undefined;
      const consent = request.consent;
      const coppa = consent?.coppa === true;
      const noPersonal = coppa || consent?.personalizedAds === false;
      const now = context.now ?? request.context.timestamp;
      const thisEpoch = ++epoch;

      // What this call rejected, snapshotted compactly; Rejection objects are built on first read
      // of `rejected` (a filter may turn away most of 1,000 candidates on every request).
      // Plain arrays, not typed arrays: each typed array is a separate off-heap buffer, and a few
      // per request add enough external memory pressure to trigger full collections (p99 × 50).
      const own: number[] = new Array<number>(n).fill(PASS);
      let targetingDetail: (string | undefined)[] | undefined;
      let capCounter: string[] | undefined;
      let capValue: number[] | undefined;
      let capMax: number[] | undefined;

      /** Checks caps; on failure records counter, value (NaN when degraded) and cap for the message. */
      const capFails = (caps: CompiledCaps, row: number): boolean => {
        for (let c = 0; c < caps.counters.length; c++) {
          const counter = caps.counters[c] as string;
          let value: number;
          if (reader.degraded) {
            if (degraded === 'allow') continue;
            value = Number.NaN;
          } else {
            value = reader.read(counter, row);
            if (value !== MISSING && value < (caps.max[c] as number)) continue;
          }
          (capCounter ??= [])[row] = counter;
          (capValue ??= [])[row] = value;
          (capMax ??= [])[row] = caps.max[c] as number;
          return true;
        }
        return false;
      };

      let passed = 0;
      for (let i = 0; i < n; i++) {
        if (codes[i] !== PASS) continue;
        const candidate = candidates[i] as AdCandidate;
        const rules = rulesOf(candidate);
        if (rules !== undefined) {
          if (rules.epoch !== thisEpoch) {
            judgeUser(rules, request.user, noPersonal, coppa, now);
            rules.epoch = thisEpoch;
          }
          if (rules.verdict !== PASS) {
            codes[i] = own[i] = rules.verdict;
            (targetingDetail ??= [])[i] = rules.detail;
            continue;
          }
        }
        if (blockedAdvertisers !== undefined) {
          if (blockedAdvertisers.has(candidate.advertiserId.toLowerCase()) || (candidate.domain !== undefined && domainBlocked(candidate.domain, blockedAdvertisers))) {
            codes[i] = own[i] = CODE.blocked_advertiser;
            continue;
          }
        }
        if (blockedCategories !== undefined && categoryCache !== undefined && blockedCode(candidate, blockedCategories, categoryCache) !== undefined) {
          codes[i] = own[i] = CODE.blocked_category;
          continue;
        }
        if ((globalCaps !== undefined && capFails(globalCaps, i)) || (rules?.caps !== undefined && capFails(rules.caps, i))) {
          codes[i] = own[i] = CODE.frequency_cap;
          continue;
        }
        passed++;
      }

      let rejected: Rejection[] | undefined;
      return {
        codes,
        passed,
        get rejected(): readonly Rejection[] {
          if (rejected !== undefined) return rejected;
          rejected = [];
          for (let i = 0; i < n; i++) {
            const code = own[i] as number;
            if (code === PASS) continue;
            const candidate = candidates[i] as AdCandidate;
            let detail: string | undefined;
            if (code === CODE.blocked_advertiser) detail = `advertiser ${candidate.domain ?? candidate.advertiserId} is blocked`;
            else if (code === CODE.blocked_category) detail = `category ${blockedCode(candidate, blockedCategories as ReadonlySet<string>, categoryCache as Map<string, boolean>) ?? candidate.category} is blocked`;
            else if (code === CODE.frequency_cap) {
              const counter = capCounter?.[i] as string;
              const value = capValue?.[i] as number;
              detail = Number.isNaN(value)
                ? `counters degraded; cannot verify cap on ${counter}`
                : value === MISSING
                  ? `the counters have no ${counter}; cannot verify its cap`
                  : `${counter} = ${value} ≥ cap ${capMax?.[i]}`;
            } else detail = targetingDetail?.[i];
            const reason = REASONS[code] as Rejection['reason'];
            rejected.push(detail === undefined ? { adId: candidate.adId, reason } : { adId: candidate.adId, reason, detail });
          }
          return rejected;
        },
      };
    },
  };
}
