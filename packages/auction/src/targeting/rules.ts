/**
 * Targeting rules and frequency caps as a host writes them ({@link TargetingRules},
 * {@link BehaviorRule}, {@link FrequencyCap}), and their compiled form: validated once, sets
 * instead of arrays, case normalized, each cap's counter checked against the store's names.
 */
import { CtrkitError } from '@ctrkit/core';
import { closestMatch } from '@ctrkit/core/internal';
import type { DeviceType } from '@ctrkit/core';
import { checkKnownKeys, checkNumber, checkStrings, describe, isRecord } from '../checks.js';
import { PASS } from '../codes.js';

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

/** A behavioral rule over the user's recent actions (`UserProfile.history`).
 *
 * @example
 * ```ts
 * import type { BehaviorRule } from '@ctrkit/auction';
 * // users who clicked a travel ad in the last 7 days
 * const rule: BehaviorRule = { action: 'click', category: 'travel', withinMs: 7 * 86_400_000 };
 * ```
 */
export interface BehaviorRule {
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
 * | `segments` (any of), `excludeSegments`, `behavior` (any rule) | `targeting_segment` |
 * | `frequencyCaps` | `frequency_cap` |
 *
 * Rules on personal data (age, gender, interests, segments, behavior) reject with `consent` when
 * the request's consent denies personalized ads; under COPPA so do `regions` and `cities`.
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
  readonly behavior?: readonly BehaviorRule[];
  /** Caps on counters for this campaign's candidates. */
  readonly frequencyCaps?: readonly FrequencyCap[];
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
  'behavior',
  'frequencyCaps',
] as const;
const BEHAVIOR_KEYS = ['action', 'category', 'brand', 'item', 'withinMs', 'minCount'] as const;
const GENDERS = ['male', 'female', 'other'];
const DEVICES = ['desktop', 'mobile', 'tablet', 'ctv', 'other'];

/** @internal Caps compiled: counter names and their ceilings, index for index. */
export interface CompiledCaps {
  readonly counters: readonly string[];
  readonly max: Float64Array;
}

/** @internal Rules compiled. A user-level verdict is the same for every candidate of a campaign, so it is memoized per request. */
export interface CompiledRules {
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
  readonly behavior: readonly BehaviorRule[];
  readonly caps: CompiledCaps | undefined;
  readonly personal: boolean;
  readonly precise: boolean;
  epoch: number;
  verdict: number;
  detail: string | undefined;
}

function stringSet(value: unknown, where: string, normalize?: (s: string) => string, allowed?: readonly string[]): ReadonlySet<string> | undefined {
  const list = checkStrings(value, where);
  if (list === undefined) return undefined;
  if (allowed) {
    for (const item of list) {
      if (!allowed.includes(item)) throw new CtrkitError('E_CONFIG', `${where}: "${item}" is not one of ${allowed.join(', ')}`);
    }
  }
  return new Set(normalize ? list.map(normalize) : list);
}

/** Why `counter` cannot be capped, with the nearest names; undefined when the source has it. */
function unknownCounter(counter: string, names: ReadonlySet<string> | undefined): string | undefined {
  if (names === undefined) return 'caps need counterNames: the counters the source provides (a feature store\'s `names`), so that a misspelled cap fails here instead of reading 0';
  if (names.has(counter)) return undefined;
  const all = [...names];
  const near = closestMatch(counter, all);
  const entity = counter.slice(0, counter.indexOf('.') + 1);
  const counts = all.filter((n) => n.includes('.imp_count.') && (entity === '' || n.startsWith(entity)));
  const hint = near !== undefined ? `did you mean "${near}"?` : counts.length > 0 ? `exact impression counts are ${counts.slice(0, 6).join(', ')}${counts.length > 6 ? ', …' : ''}` : `it provides ${all.slice(0, 6).join(', ')}${all.length > 6 ? ', …' : ''}`;
  return `counter "${counter}" is not among the ${all.length} counterNames; ${hint}`;
}

/** @internal Validates and compiles caps; undefined for none. */
export function compileCaps(value: unknown, where: string, names: ReadonlySet<string> | undefined): CompiledCaps | undefined {
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
 * Validates and compiles targeting rules (sets instead of arrays, normalized case).
 *
 * @internal
 */
export function compileTargeting(rules: unknown, where = 'targeting rules', counterNames?: ReadonlySet<string>): CompiledRules {
  if (!isRecord(rules)) throw new CtrkitError('E_CONFIG', `${where} must be an object, got ${describe(rules)}`);
  checkKnownKeys(rules, RULE_KEYS, where);
  const ageMin = checkNumber(rules.ageMin, `${where}.ageMin`, 0, 150) ?? -Infinity;
  const ageMax = checkNumber(rules.ageMax, `${where}.ageMax`, 0, 150) ?? Infinity;
  if (ageMin > ageMax) throw new CtrkitError('E_CONFIG', `${where}: ageMin ${ageMin} is above ageMax ${ageMax}; swap them`);
  const behavior: BehaviorRule[] = [];
  if (rules.behavior !== undefined) {
    if (!Array.isArray(rules.behavior)) throw new CtrkitError('E_CONFIG', `${where}.behavior must be an array of rules, got ${describe(rules.behavior)}`);
    rules.behavior.forEach((rule: unknown, i) => {
      const at = `${where}.behavior[${i}]`;
      if (!isRecord(rule)) throw new CtrkitError('E_CONFIG', `${at} must be an object, got ${describe(rule)}`);
      checkKnownKeys(rule, BEHAVIOR_KEYS, at);
      if (typeof rule.action !== 'string' || rule.action.length === 0) throw new CtrkitError('E_CONFIG', `${at}.action must be a non-empty string such as "click"`);
      for (const key of ['category', 'brand', 'item'] as const) {
        if (rule[key] !== undefined && typeof rule[key] !== 'string') throw new CtrkitError('E_CONFIG', `${at}.${key} must be a string, got ${describe(rule[key])}`);
      }
      checkNumber(rule.withinMs, `${at}.withinMs`, 0);
      const minCount = checkNumber(rule.minCount, `${at}.minCount`, 1) ?? 1;
      behavior.push({ ...(rule as unknown as BehaviorRule), minCount });
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
    behavior,
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
    behavior.length > 0;
  (compiled as { precise: boolean }).precise = compiled.regions !== undefined || compiled.cities !== undefined;
  return compiled;
}
