/**
 * Candidate selection before ranking: targeting rules per campaign (demographic, geographic,
 * device, interest, behavioural segment), frequency caps read from counters the host supplies,
 * blocked categories and advertisers. Every rejected candidate gets a core `RejectionReason`.
 */
import { CtrkitError } from '@ctrkit/core';
import { closestMatch } from '@ctrkit/core/internal';
import type { AdCandidate, AdRequest, DeviceType, Rejection, StoreLookup, UserProfile } from '@ctrkit/core';
import { categoryBlocked } from './categories.js';
import { checkKnownKeys, checkNumber, checkStrings, describe, isRecord } from './checks.js';
import { CODE, PASS, REASONS } from './codes.js';

/**
 * A ceiling on a counter the host keeps: "at most 3 impressions per user per campaign in 24 h"
 * is `{ counter: 'user_campaign.imp_count.24h', max: 3 }` over a feature store created with
 * `frequency: { windows: [{ name: '24h', ms: 86_400_000 }] }`, whose `imp_count` counters are
 * exact counts in a sliding window (the store's `*.imp.<w>` counters are decayed sums, not
 * counts, and make poor caps). The counter must be one of the filter's `counterNames`.
 *
 * @example
 * ```ts
 * import type { FrequencyCap } from '@ctrkit/auction';
 * const cap: FrequencyCap = { counter: 'user_advertiser.imp_count.24h', max: 5 };
 * ```
 */
export interface FrequencyCap {
  /** Counter name, as the host's store names it (one of `counterNames`). */
  readonly counter: string;
  /** The candidate is rejected once the counter has reached this value: with `max: 3`, the 4th impression is never bid. */
  readonly max: number;
}

/** A behavioural rule over the user's recent actions (`UserProfile.history`).
 *
 * @example
 * ```ts
 * import type { BehaviourRule } from '@ctrkit/auction';
 * // users who clicked a travel ad in the last 7 days
 * const rule: BehaviourRule = { action: 'click', category: 'travel', withinMs: 7 * 86_400_000 };
 * ```
 */
export interface BehaviourRule {
  /** The action to look for (`click`, `view`, `conversion`, `search`, `cart`, …). */
  readonly action: string;
  /** Only actions on this category count. */
  readonly category?: string;
  /** Only actions on this brand or advertiser count. */
  readonly brand?: string;
  /** Only actions on this item count. */
  readonly item?: string;
  /** Only actions at most this many milliseconds before the request count (actions without a timestamp then do not count). */
  readonly withinMs?: number;
  /** How many matching actions are needed (default 1). */
  readonly minCount?: number;
}

/**
 * Who a campaign wants to reach. Every field is optional; an absent field does not restrict.
 * A user attribute the rule needs but the request lacks fails the rule (an unknown age does not
 * satisfy an age range). Strings compare exactly, except countries (upper-cased) and operating
 * systems (lower-cased).
 *
 * | fields | rejection reason |
 * |---|---|
 * | `ageMin`, `ageMax`, `genders` | `targeting_demographic` |
 * | `countries`, `excludeCountries`, `regions`, `cities` | `targeting_geo` |
 * | `devices`, `os` | `targeting_device` |
 * | `interests` (any of) | `targeting_interest` |
 * | `segments` (any of), `excludeSegments`, `behaviour` (any rule) | `targeting_segment` |
 * | `frequencyCaps` | `frequency_cap` |
 *
 * Rules on personal data (age, gender, interests, segments, behaviour) reject with `consent` when
 * the request's consent denies personalised ads; under COPPA so do `regions` and `cities`.
 *
 * @example
 * ```ts
 * import type { TargetingRules } from '@ctrkit/auction';
 * const rules: TargetingRules = {
 *   ageMin: 25, ageMax: 54, countries: ['FR', 'BE'], devices: ['mobile'],
 *   interests: ['travel', 'outdoor'], frequencyCaps: [{ counter: 'user_campaign.imp_count.24h', max: 3 }],
 * };
 * ```
 */
export interface TargetingRules {
  /** Youngest age reached (inclusive). */
  readonly ageMin?: number;
  /** Oldest age reached (inclusive). */
  readonly ageMax?: number;
  /** Genders reached. */
  readonly genders?: readonly ('male' | 'female' | 'other')[];
  /** ISO 3166-1 alpha-2 countries reached. */
  readonly countries?: readonly string[];
  /** Countries never reached (a user without a country passes this rule). */
  readonly excludeCountries?: readonly string[];
  /** Regions reached. */
  readonly regions?: readonly string[];
  /** Cities reached. */
  readonly cities?: readonly string[];
  /** Device classes reached. */
  readonly devices?: readonly DeviceType[];
  /** Operating systems reached. */
  readonly os?: readonly string[];
  /** The user must hold at least one of these interests. */
  readonly interests?: readonly string[];
  /** The user must be in at least one of these segments. */
  readonly segments?: readonly string[];
  /** The user must be in none of these segments (a user without segments passes). */
  readonly excludeSegments?: readonly string[];
  /** The user's history must satisfy at least one of these rules. */
  readonly behaviour?: readonly BehaviourRule[];
  /** Caps on counters for this campaign's candidates. */
  readonly frequencyCaps?: readonly FrequencyCap[];
}

/**
 * Counters for the request's candidates: core's `StoreLookup` (one row per candidate, as the
 * features package's store returns it) or a function `(counter, candidateIndex) => value`.
 * A function's `undefined` or NaN counts as 0 (nothing counted yet); a lookup without a column a
 * cap reads rejects that cap's candidates (`frequency_cap`: it cannot be verified).
 *
 * @example
 * ```ts
 * import type { CounterSource } from '@ctrkit/auction';
 * const impressions = new Map([['ad-1', 2]]);
 * const adIds = ['ad-1', 'ad-2'];
 * const counters: CounterSource = (counter, row) =>
 *   counter === 'user_ad.imp_count.24h' ? impressions.get(adIds[row] ?? '') : undefined;
 * ```
 */
export type CounterSource = StoreLookup | ((counter: string, candidateIndex: number) => number | undefined);

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
  /** The time behaviour rules measure from (default `request.context.timestamp`). */
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

const RULE_KEYS = [
  'ageMin',
  'ageMax',
  'genders',
  'countries',
  'excludeCountries',
  'regions',
  'cities',
  'devices',
  'os',
  'interests',
  'segments',
  'excludeSegments',
  'behaviour',
  'frequencyCaps',
] as const;
const BEHAVIOUR_KEYS = ['action', 'category', 'brand', 'item', 'withinMs', 'minCount'] as const;
const FILTER_KEYS = ['targeting', 'frequencyCaps', 'counterNames', 'blockedCategories', 'blockedAdvertisers', 'degradedCounters'] as const;
const GENDERS = ['male', 'female', 'other'];
const DEVICES = ['desktop', 'mobile', 'tablet', 'ctv', 'other'];

interface CompiledCaps {
  readonly counters: readonly string[];
  readonly max: Float64Array;
}

/** A user-level verdict is the same for every candidate of a campaign, so it is memoised per request. */
interface CompiledRules {
  readonly ageMin: number;
  readonly ageMax: number;
  readonly genders: ReadonlySet<string> | undefined;
  readonly countries: ReadonlySet<string> | undefined;
  readonly excludeCountries: ReadonlySet<string> | undefined;
  readonly regions: ReadonlySet<string> | undefined;
  readonly cities: ReadonlySet<string> | undefined;
  readonly devices: ReadonlySet<string> | undefined;
  readonly os: ReadonlySet<string> | undefined;
  readonly interests: ReadonlySet<string> | undefined;
  readonly segments: ReadonlySet<string> | undefined;
  readonly excludeSegments: ReadonlySet<string> | undefined;
  readonly behaviour: readonly BehaviourRule[];
  readonly caps: CompiledCaps | undefined;
  readonly personal: boolean;
  readonly precise: boolean;
  epoch: number;
  verdict: number;
  detail: string | undefined;
}

function stringSet(value: unknown, where: string, normalise?: (s: string) => string, allowed?: readonly string[]): ReadonlySet<string> | undefined {
  const list = checkStrings(value, where);
  if (list === undefined) return undefined;
  if (allowed) {
    for (const item of list) {
      if (!allowed.includes(item)) throw new CtrkitError('E_CONFIG', `${where}: "${item}" is not one of ${allowed.join(', ')}`);
    }
  }
  return new Set(normalise ? list.map(normalise) : list);
}

/** Why `counter` cannot be capped, with the nearest names; undefined when the source has it. */
function unknownCounter(counter: string, names: ReadonlySet<string> | undefined): string | undefined {
  if (names === undefined) return 'caps need counterNames: the counters the source provides (a feature store\'s `names`), so that a misspelt cap fails here instead of reading 0';
  if (names.has(counter)) return undefined;
  const all = [...names];
  const near = closestMatch(counter, all);
  const entity = counter.slice(0, counter.indexOf('.') + 1);
  const counts = all.filter((n) => n.includes('.imp_count.') && (entity === '' || n.startsWith(entity)));
  const hint = near !== undefined ? `did you mean "${near}"?` : counts.length > 0 ? `exact impression counts are ${counts.slice(0, 6).join(', ')}${counts.length > 6 ? ', …' : ''}` : `it provides ${all.slice(0, 6).join(', ')}${all.length > 6 ? ', …' : ''}`;
  return `counter "${counter}" is not among the ${all.length} counterNames; ${hint}`;
}

function compileCaps(value: unknown, where: string, names: ReadonlySet<string> | undefined): CompiledCaps | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new CtrkitError('E_CONFIG', `${where} must be an array of { counter, max }, got ${describe(value)}`);
  const counters: string[] = [];
  const max = new Float64Array(value.length);
  value.forEach((cap: unknown, i) => {
    if (!isRecord(cap)) throw new CtrkitError('E_CONFIG', `${where}[${i}] must be { counter, max }, got ${describe(cap)}`);
    checkKnownKeys(cap, ['counter', 'max'], `${where}[${i}]`);
    if (typeof cap.counter !== 'string' || cap.counter.length === 0) {
      throw new CtrkitError('E_CONFIG', `${where}[${i}].counter must name a counter such as "user_campaign.imp_count.24h", got ${describe(cap.counter)}`);
    }
    const unknown = unknownCounter(cap.counter, names);
    if (unknown !== undefined) throw new CtrkitError('E_CONFIG', `${where}[${i}]: ${unknown}`, { details: { counter: cap.counter } });
    counters.push(cap.counter);
    max[i] = checkNumber(cap.max, `${where}[${i}].max`, 0) ?? Number.NaN;
    if (Number.isNaN(max[i])) throw new CtrkitError('E_CONFIG', `${where}[${i}].max is required: the counter value at which the candidate stops showing`);
  });
  return value.length === 0 ? undefined : { counters, max };
}

/**
 * Validates and compiles targeting rules (sets instead of arrays, normalised case).
 *
 * @internal
 */
export function compileTargeting(rules: unknown, where = 'targeting rules', counterNames?: ReadonlySet<string>): CompiledRules {
  if (!isRecord(rules)) throw new CtrkitError('E_CONFIG', `${where} must be an object, got ${describe(rules)}`);
  checkKnownKeys(rules, RULE_KEYS, where);
  const ageMin = checkNumber(rules.ageMin, `${where}.ageMin`, 0, 150) ?? -Infinity;
  const ageMax = checkNumber(rules.ageMax, `${where}.ageMax`, 0, 150) ?? Infinity;
  if (ageMin > ageMax) throw new CtrkitError('E_CONFIG', `${where}: ageMin ${ageMin} is above ageMax ${ageMax}; swap them`);
  const behaviour: BehaviourRule[] = [];
  if (rules.behaviour !== undefined) {
    if (!Array.isArray(rules.behaviour)) throw new CtrkitError('E_CONFIG', `${where}.behaviour must be an array of rules, got ${describe(rules.behaviour)}`);
    rules.behaviour.forEach((rule: unknown, i) => {
      const at = `${where}.behaviour[${i}]`;
      if (!isRecord(rule)) throw new CtrkitError('E_CONFIG', `${at} must be an object, got ${describe(rule)}`);
      checkKnownKeys(rule, BEHAVIOUR_KEYS, at);
      if (typeof rule.action !== 'string' || rule.action.length === 0) throw new CtrkitError('E_CONFIG', `${at}.action must be a non-empty string such as "click"`);
      for (const key of ['category', 'brand', 'item'] as const) {
        if (rule[key] !== undefined && typeof rule[key] !== 'string') throw new CtrkitError('E_CONFIG', `${at}.${key} must be a string, got ${describe(rule[key])}`);
      }
      checkNumber(rule.withinMs, `${at}.withinMs`, 0);
      const minCount = checkNumber(rule.minCount, `${at}.minCount`, 1) ?? 1;
      behaviour.push({ ...(rule as unknown as BehaviourRule), minCount });
    });
  }
  const compiled: CompiledRules = {
    ageMin,
    ageMax,
    genders: stringSet(rules.genders, `${where}.genders`, undefined, GENDERS),
    countries: stringSet(rules.countries, `${where}.countries`, (s) => s.toUpperCase()),
    excludeCountries: stringSet(rules.excludeCountries, `${where}.excludeCountries`, (s) => s.toUpperCase()),
    regions: stringSet(rules.regions, `${where}.regions`),
    cities: stringSet(rules.cities, `${where}.cities`),
    devices: stringSet(rules.devices, `${where}.devices`, undefined, DEVICES),
    os: stringSet(rules.os, `${where}.os`, (s) => s.toLowerCase()),
    interests: stringSet(rules.interests, `${where}.interests`),
    segments: stringSet(rules.segments, `${where}.segments`),
    excludeSegments: stringSet(rules.excludeSegments, `${where}.excludeSegments`),
    behaviour,
    caps: compileCaps(rules.frequencyCaps, `${where}.frequencyCaps`, counterNames),
    personal: false,
    precise: false,
    epoch: -1,
    verdict: PASS,
    detail: undefined,
  };
  (compiled as { personal: boolean }).personal =
    compiled.ageMin > -Infinity ||
    compiled.ageMax < Infinity ||
    compiled.genders !== undefined ||
    compiled.interests !== undefined ||
    compiled.segments !== undefined ||
    compiled.excludeSegments !== undefined ||
    behaviour.length > 0;
  (compiled as { precise: boolean }).precise = compiled.regions !== undefined || compiled.cities !== undefined;
  return compiled;
}

function anyIn(values: readonly string[] | undefined, set: ReadonlySet<string>): boolean {
  if (values === undefined) return false;
  for (const value of values) if (set.has(value)) return true;
  return false;
}

function behaviourMatches(rule: BehaviourRule, user: UserProfile, now: number): boolean {
  const history = user.history;
  if (history === undefined) return false;
  const since = rule.withinMs === undefined ? -Infinity : now - rule.withinMs;
  const need = rule.minCount ?? 1;
  let count = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i];
    if (event === undefined || event.action !== rule.action) continue;
    if (rule.category !== undefined && event.category !== rule.category) continue;
    if (rule.brand !== undefined && event.brand !== rule.brand) continue;
    if (rule.item !== undefined && event.item !== rule.item) continue;
    if (rule.withinMs !== undefined && (event.timestamp === undefined || event.timestamp < since || event.timestamp > now)) continue;
    if (++count >= need) return true;
  }
  return false;
}

/** Sets `rules.verdict` / `rules.detail` for this user (everything but frequency caps). */
function judgeUser(rules: CompiledRules, user: UserProfile, noPersonal: boolean, coppa: boolean, now: number): void {
  rules.detail = undefined;
  if ((noPersonal && rules.personal) || (coppa && rules.precise)) {
    rules.verdict = CODE.consent;
    rules.detail = coppa ? 'campaign targets personal data and the request is under COPPA' : 'campaign targets personal data and the request has no consent for personalised ads';
    return;
  }
  if (rules.ageMin > -Infinity || rules.ageMax < Infinity) {
    const age = user.age;
    if (age === undefined || !(age >= rules.ageMin && age <= rules.ageMax)) {
      rules.verdict = CODE.targeting_demographic;
      rules.detail = `age ${age ?? 'unknown'} outside [${rules.ageMin}, ${rules.ageMax}]`;
      return;
    }
  }
  if (rules.genders && (user.gender === undefined || !rules.genders.has(user.gender))) {
    rules.verdict = CODE.targeting_demographic;
    rules.detail = `gender ${user.gender ?? 'unknown'} not targeted`;
    return;
  }
  const country = user.country === undefined ? undefined : user.country.toUpperCase();
  if (rules.countries && (country === undefined || !rules.countries.has(country))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `country ${country ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.excludeCountries && country !== undefined && rules.excludeCountries.has(country)) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `country ${country} excluded`;
    return;
  }
  if (rules.regions && (user.region === undefined || !rules.regions.has(user.region))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `region ${user.region ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.cities && (user.city === undefined || !rules.cities.has(user.city))) {
    rules.verdict = CODE.targeting_geo;
    rules.detail = `city ${user.city ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.devices && (user.device === undefined || !rules.devices.has(user.device))) {
    rules.verdict = CODE.targeting_device;
    rules.detail = `device ${user.device ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.os && (user.os === undefined || !rules.os.has(user.os.toLowerCase()))) {
    rules.verdict = CODE.targeting_device;
    rules.detail = `os ${user.os ?? 'unknown'} not targeted`;
    return;
  }
  if (rules.interests && !anyIn(user.interests, rules.interests)) {
    rules.verdict = CODE.targeting_interest;
    rules.detail = 'no targeted interest';
    return;
  }
  if (rules.segments && !anyIn(user.segments, rules.segments)) {
    rules.verdict = CODE.targeting_segment;
    rules.detail = 'in no targeted segment';
    return;
  }
  if (rules.excludeSegments && anyIn(user.segments, rules.excludeSegments)) {
    rules.verdict = CODE.targeting_segment;
    rules.detail = 'in an excluded segment';
    return;
  }
  if (rules.behaviour.length > 0) {
    let matched = false;
    for (const rule of rules.behaviour) {
      if (behaviourMatches(rule, user, now)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      rules.verdict = CODE.targeting_segment;
      rules.detail = 'no behaviour rule matched the user history';
      return;
    }
  }
  rules.verdict = PASS;
}

/** What a reader answers for a counter the lookup has no column for. */
const MISSING = Number.NEGATIVE_INFINITY;

/** Reads one counter for one candidate (or {@link MISSING}); a lookup's column indices are resolved once per request. */
interface CounterReader {
  read(counter: string, row: number): number;
  readonly degraded: boolean;
}

function counterReader(source: CounterSource | undefined, rows: number): CounterReader {
  if (source === undefined) return { read: () => 0, degraded: false };
  if (typeof source === 'function') {
    return {
      read(counter, row) {
        const value = source(counter, row);
        return value === undefined || Number.isNaN(value) ? 0 : value;
      },
      degraded: false,
    };
  }
  const width = source.names.length;
  if (source.rows !== rows || source.values.length < rows * width) {
    throw new CtrkitError(
      'E_INPUT',
      `counters have ${source.rows} rows (${source.values.length} values for ${width} names) but the request has ${rows} candidates; look counters up for exactly the request's candidates`,
    );
  }
  const columns = new Map<string, number>();
  source.names.forEach((name, i) => columns.set(name, i));
  return {
    read(counter, row) {
      const column = columns.get(counter);
      if (column === undefined) return MISSING;
      const value = source.values[row * width + column] as number;
      return Number.isNaN(value) ? 0 : value;
    },
    degraded: source.degraded,
  };
}

/** The code of `candidate` that `blocked` covers, if any: its `cat` codes, else its `category`. */
function blockedCode(candidate: AdCandidate, blocked: ReadonlySet<string>, cache: Map<string, boolean>): string | undefined {
  const codes = candidate.cat;
  if (codes === undefined || codes.length === 0) return isBlocked(candidate.category, blocked, cache) ? candidate.category : undefined;
  for (const code of codes) if (isBlocked(code, blocked, cache)) return code;
  return undefined;
}

function isBlocked(code: string, blocked: ReadonlySet<string>, cache: Map<string, boolean>): boolean {
  let hit = cache.get(code);
  if (hit === undefined) {
    hit = categoryBlocked(code, blocked);
    cache.set(code, hit);
  }
  return hit;
}

/** @internal Whether `domain` or a parent domain of it is in `blocked` (lower-case entries). */
export function domainBlocked(domain: string, blocked: ReadonlySet<string>): boolean {
  let d = domain.toLowerCase();
  for (;;) {
    if (blocked.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot < 0 || d.indexOf('.', dot + 1) < 0) return false;
    d = d.slice(dot + 1);
  }
}

function merged(a: readonly string[] | undefined, b: readonly string[] | undefined, lower: boolean): ReadonlySet<string> | undefined {
  if (!a?.length && !b?.length) return undefined;
  const set = new Set<string>();
  for (const item of a ?? []) set.add(lower ? item.toLowerCase() : item);
  for (const item of b ?? []) set.add(lower ? item.toLowerCase() : item);
  return set;
}

/**
 * Creates a {@link CandidateFilter}. Rules are validated and compiled here, once; `apply` only
 * reads sets and counters. Checks run in this order and the first failure is the reason:
 * consent → demographic → geo → device → interest → segment/behaviour (each memoised per campaign
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
      const noPersonal = coppa || consent?.personalisedAds === false;
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
