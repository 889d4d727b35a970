/**
 * What the feature stores share: their options, the names of the counters a lookup returns, and
 * the validation of events. The memory and Redis stores implement the same counters with the same
 * arithmetic (see `counters.ts` and the Lua scripts), and one conformance suite holds them to it.
 */
import { CtrkitError, systemClock, type AdEvent, type AdEventType, type Clock, type LookupOptions } from '@ctrkit/core';

/** A decay window: counters are sums of `exp(−age / ms)` over events, so a steady rate r per ms reads `r × ms`, as a sliding window of that length would.
 *
 * @example
 * ```ts
 * import type { StoreWindow } from '@ctrkit/features';
 * const hour: StoreWindow = { name: '1h', ms: 3_600_000 };
 * ```
 */
export interface StoreWindow {
  /** Used in counter names (`ad.click.1h`): letters and digits. */
  readonly name: string;
  /** The time constant, ms. */
  readonly ms: number;
}

/**
 * Exact impression counts in sliding windows, for frequency caps ("at most 3 impressions per user
 * per campaign in 24 h"). For each window `w` a lookup returns `<entity>.imp_count.<w>` for the
 * entities of {@link FREQUENCY_ENTITIES}: how many impressions the pair had in the `ms` before
 * the lookup time — an impression counts while it is less than `ms` old, exactly, at the boundary
 * too. Each key keeps only the times of its newest `limit` impressions, so counts are exact up to
 * `limit` and read `limit` above it: set it to at least the largest cap.
 *
 * @example
 * ```ts
 * import type { FrequencyOptions } from '@ctrkit/features';
 * const frequency: FrequencyOptions = { windows: [{ name: '1h', ms: 3_600_000 }, { name: '24h', ms: 86_400_000 }], limit: 10 };
 * ```
 */
export interface FrequencyOptions {
  /** The windows: `name` appears in the counter names, `ms` is the window's length. */
  readonly windows: readonly StoreWindow[];
  /** Impression times kept per key, 1 to 1,000 (default 32): the largest count a lookup can tell apart. */
  readonly limit?: number;
}

/** Entities whose impressions {@link FrequencyOptions} counts exactly, and the prefix of their counter names.
 *
 * @example
 * ```ts
 * import { FREQUENCY_ENTITIES } from '@ctrkit/features';
 * console.log(FREQUENCY_ENTITIES.join(', ')); // user, user_ad, user_campaign, user_advertiser
 * ```
 */
export const FREQUENCY_ENTITIES = ['user', 'user_ad', 'user_campaign', 'user_advertiser'] as const;

/** Options every feature store takes.
 *
 * @example
 * ```ts
 * import type { FeatureStoreOptions } from '@ctrkit/features';
 * const options: FeatureStoreOptions = { prior: { alpha: 1, beta: 99 }, pendingCapacity: 128 };
 * ```
 */
export interface FeatureStoreOptions {
  /** Decay windows (default 1 h, 1 d, 7 d, 30 d). */
  readonly windows?: readonly StoreWindow[];
  /** Beta prior of the smoothed CTRs: `(clicks + alpha) / (impressions + alpha + beta)` (default 1, 49: a 2 % prior worth 50 impressions). */
  readonly prior?: { readonly alpha: number; readonly beta: number };
  /** A user's session ends after this long without events (default 30 min). */
  readonly sessionGapMs?: number;
  /**
   * Newest events kept unfolded per key (default 128), so a lookup at t can leave out events at or
   * after t. A lookup earlier than an event already folded fails with `E_INPUT` rather than leak.
   */
  readonly pendingCapacity?: number;
  /** Events older than the key's newest by more than this are folded (default 1 h). */
  readonly horizonMs?: number;
  /** Where "now" comes from, to refuse events stamped too far in the future (default the system clock). */
  readonly clock?: Clock;
  /**
   * Events stamped more than this after the clock's now are refused with `E_INPUT` (default one
   * day): a stray far-future timestamp would otherwise push the counters' reference time ahead.
   */
  readonly maxFutureMs?: number;
  /**
   * Exact impression counts in sliding windows for frequency caps (`user_campaign.imp_count.24h`;
   * default none). The decayed `*.imp.<w>` counters are sums of exp(−age / ms), not counts: use
   * these for caps.
   */
  readonly frequency?: FrequencyOptions;
}

/** Lookup options of this package's stores: core's, plus a buffer to fill.
 *
 * @example
 * ```ts
 * import type { StoreLookupOptions } from '@ctrkit/features';
 * const out = new Float32Array(100 * 92);
 * const options: StoreLookupOptions = { deadlineMs: 3, degradeOnError: true, out };
 * ```
 */
export interface StoreLookupOptions extends LookupOptions {
  /**
   * Where to write the values: used (as a view of its first `rows × names.length` floats) when
   * large enough, so a lookup allocates no value array; ignored when too small.
   */
  readonly out?: Float32Array;
}

/** @internal The values array of a lookup: a view of `out` when it has room, else a fresh one. */
export function valuesFor(rows: number, width: number, out: Float32Array | undefined): Float32Array {
  const n = rows * width;
  if (out !== undefined && out.length >= n) return out.length === n ? out : out.subarray(0, n);
  return new Float32Array(n);
}

/** Entities that have counters, and the prefix of their counter names.
 *
 * @example
 * ```ts
 * import { STORE_ENTITIES } from '@ctrkit/features';
 * console.log(STORE_ENTITIES.join(', ')); // user, ad, user_ad, user_category, user_advertiser
 * ```
 */
export const STORE_ENTITIES = ['user', 'ad', 'user_ad', 'user_category', 'user_advertiser'] as const;

/** One of {@link STORE_ENTITIES}.
 *
 * @example
 * ```ts
 * import type { StoreEntity } from '@ctrkit/features';
 * const entity: StoreEntity = 'user_category';
 * ```
 */
export type StoreEntity = (typeof STORE_ENTITIES)[number];

/** @internal Event types in counter order. */
export const EVENT_TYPES: readonly AdEventType[] = ['impression', 'click', 'conversion'];
const TYPE_NAMES = ['imp', 'click', 'conv'];

/** @internal The validated configuration both stores run on. */
export interface StoreConfig {
  readonly windows: readonly StoreWindow[];
  readonly taus: Float64Array;
  readonly alpha: number;
  readonly beta: number;
  readonly gapMs: number;
  readonly capacity: number;
  readonly horizonMs: number;
  /** Move the reference time once the newest event is this far past it (keeps exp() in range). */
  readonly rebaseMs: number;
  /** Lookups this far before a key's reference time are refused (exp() would overflow). */
  readonly readFloorMs: number;
  readonly clock: Clock;
  readonly maxFutureMs: number;
  readonly names: readonly string[];
  /** Columns per entity block: 4 per window + 2 recencies. */
  readonly entityWidth: number;
  /** Exact impression counts, when configured. */
  readonly frequency: FrequencyConfig | undefined;
}

/** @internal What a store needs of {@link FrequencyOptions}. */
export interface FrequencyConfig {
  readonly windows: readonly StoreWindow[];
  /** Window lengths, ms. */
  readonly ms: Float64Array;
  readonly limit: number;
  /** The column of the first count: then entity-major, window-minor ({@link FREQUENCY_ENTITIES} × windows). */
  readonly column: number;
}

const DEFAULT_WINDOWS: readonly StoreWindow[] = [
  { name: '1h', ms: 3_600_000 },
  { name: '1d', ms: 86_400_000 },
  { name: '7d', ms: 7 * 86_400_000 },
  { name: '30d', ms: 30 * 86_400_000 },
];

/**
 * The counter names a store with these windows returns, in column order: for each entity
 * (`user`, `ad`, `user_ad`, `user_category`, `user_advertiser`) and window `w`:
 * `<entity>.imp.<w>`, `.click.<w>`, `.conv.<w>`, `.ctr.<w>` (smoothed); then
 * `<entity>.since_imp` and `.since_click` (seconds since the last one, NaN if none); then
 * `user.session_seconds` and `user.session_pages`; then, with `frequency`, for each of
 * {@link FREQUENCY_ENTITIES} and frequency window `f`: `<entity>.imp_count.<f>`.
 *
 * @param windows - The decay windows (default 1 h, 1 d, 7 d, 30 d).
 * @param frequency - The exact impression-count windows, if the store keeps them.
 * @returns The names.
 * @throws `CtrkitError` `E_CONFIG` on a bad window.
 * @example
 * ```ts
 * import { storeCounterNames } from '@ctrkit/features';
 * console.log(storeCounterNames([{ name: '1d', ms: 86_400_000 }]).slice(0, 6));
 * // ['user.imp.1d', 'user.click.1d', 'user.conv.1d', 'user.ctr.1d', 'user.since_imp', 'user.since_click']
 * ```
 */
export function storeCounterNames(windows: readonly StoreWindow[] = DEFAULT_WINDOWS, frequency?: FrequencyOptions): string[] {
  checkWindows(windows, 'windows');
  const names: string[] = [];
  for (const entity of STORE_ENTITIES) {
    for (const w of windows) {
      for (const type of TYPE_NAMES) names.push(`${entity}.${type}.${w.name}`);
      names.push(`${entity}.ctr.${w.name}`);
    }
    names.push(`${entity}.since_imp`, `${entity}.since_click`);
  }
  names.push('user.session_seconds', 'user.session_pages');
  if (frequency !== undefined) {
    checkWindows(frequency?.windows, 'frequency.windows');
    for (const entity of FREQUENCY_ENTITIES) for (const w of frequency.windows) names.push(`${entity}.imp_count.${w.name}`);
  }
  return names;
}

function checkWindows(windows: readonly StoreWindow[], what: string): void {
  if (!Array.isArray(windows) || windows.length === 0 || windows.length > 16) throw new CtrkitError('E_CONFIG', `store: ${what} must list 1 to 16 { name, ms } entries`);
  const seen = new Set<string>();
  for (const w of windows) {
    if (typeof w?.name !== 'string' || !/^[A-Za-z0-9]+$/.test(w.name)) throw new CtrkitError('E_CONFIG', `store: window name must be letters and digits, got ${JSON.stringify(w?.name)}`);
    if (seen.has(w.name)) throw new CtrkitError('E_CONFIG', `store: window '${w.name}' is listed twice`);
    seen.add(w.name);
    if (!Number.isFinite(w.ms) || w.ms < 1000) throw new CtrkitError('E_CONFIG', `store: window '${w.name}' must last at least 1000 ms, got ${w.ms}`);
  }
}

function frequencyConfig(options: FrequencyOptions | undefined, column: number): FrequencyConfig | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new CtrkitError('E_CONFIG', 'store: frequency must be { windows, limit? }');
  const limit = options.limit ?? 32;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CtrkitError('E_CONFIG', `store: frequency.limit must be an integer in [1, 1000] (at least the largest cap), got ${String(options.limit)}`);
  return { windows: options.windows, ms: Float64Array.from(options.windows, (w) => w.ms), limit, column };
}

/** @internal Validates options into a config. */
export function storeConfig(options: FeatureStoreOptions): StoreConfig {
  const windows = options.windows ?? DEFAULT_WINDOWS;
  const names = storeCounterNames(windows, options.frequency);
  const frequency = frequencyConfig(options.frequency, storeCounterNames(windows).length);
  const alpha = options.prior?.alpha ?? 1;
  const beta = options.prior?.beta ?? 49;
  if (!(alpha > 0) || !(beta > 0) || !Number.isFinite(alpha) || !Number.isFinite(beta)) throw new CtrkitError('E_CONFIG', `store: prior alpha and beta must be positive, got ${alpha}, ${beta}`);
  const gapMs = options.sessionGapMs ?? 30 * 60_000;
  if (!(gapMs > 0) || !Number.isFinite(gapMs)) throw new CtrkitError('E_CONFIG', `store: sessionGapMs must be positive, got ${gapMs}`);
  const capacity = options.pendingCapacity ?? 128;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) throw new CtrkitError('E_CONFIG', `store: pendingCapacity must be an integer in [1, 100000], got ${capacity}`);
  const horizonMs = options.horizonMs ?? 3_600_000;
  if (!(horizonMs >= 0) || !Number.isFinite(horizonMs)) throw new CtrkitError('E_CONFIG', `store: horizonMs must be ≥ 0, got ${horizonMs}`);
  const minTau = Math.min(...windows.map((w) => w.ms));
  const maxFutureMs = options.maxFutureMs ?? 86_400_000;
  if (!(maxFutureMs >= 0)) throw new CtrkitError('E_CONFIG', `store: maxFutureMs must be ≥ 0, got ${maxFutureMs}`);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new CtrkitError('E_CONFIG', 'store: clock must have a now() method');
  return {
    windows,
    taus: Float64Array.from(windows, (w) => w.ms),
    alpha,
    beta,
    gapMs,
    capacity,
    horizonMs,
    rebaseMs: 16 * minTau,
    readFloorMs: 600 * minTau,
    clock,
    maxFutureMs,
    names,
    entityWidth: 4 * windows.length + 2,
    frequency,
  };
}

const REQUIRED = ['eventId', 'requestId', 'userId', 'adId', 'advertiserId', 'category'] as const;
const REQUIRED_WITH_CAMPAIGN = [...REQUIRED, 'campaignId'] as const;

/** @internal Checks an event before any counter moves; returns its type index. */
export function checkEvent(event: AdEvent, config: StoreConfig): number {
  if (typeof event !== 'object' || event === null) throw new CtrkitError('E_INPUT', `store.record: event must be an object, got ${String(event)}`);
  const type = EVENT_TYPES.indexOf(event.type);
  if (type < 0) throw new CtrkitError('E_INPUT', `store.record: event.type must be impression, click or conversion, got ${JSON.stringify(event.type)}`);
  if (typeof event.timestamp !== 'number' || !Number.isFinite(event.timestamp)) {
    throw new CtrkitError('E_INPUT', `store.record: event ${String(event.eventId)} has timestamp ${String(event.timestamp)}; pass milliseconds since the epoch`);
  }
  const ahead = event.timestamp - config.clock.now();
  if (ahead > config.maxFutureMs) {
    throw new CtrkitError('E_INPUT', `store.record: event ${String(event.eventId)} is stamped ${Math.round(ahead)} ms after now (more than maxFutureMs = ${config.maxFutureMs}); fix the event's clock or raise maxFutureMs`, {
      details: { timestamp: event.timestamp, aheadMs: ahead },
    });
  }
  // Exact impression counts are kept per campaign too.
  const required = config.frequency !== undefined && type === 0 ? REQUIRED_WITH_CAMPAIGN : REQUIRED;
  for (const key of required) {
    const value = event[key];
    if (typeof value !== 'string' || value.length === 0) {
      throw new CtrkitError('E_INPUT', `store.record: event ${String(event.eventId)}.${key} must be a non-empty string, got ${JSON.stringify(value)}`, { details: { field: key } });
    }
  }
  return type;
}

/** @internal Checks a lookup's arguments; returns the candidate count. */
export function checkLookup(user: { id?: unknown } | null | undefined, candidates: readonly unknown[], now: number): number {
  if (typeof user !== 'object' || user === null || typeof user.id !== 'string' || user.id.length === 0) {
    throw new CtrkitError('E_INPUT', 'store.lookup: user must be an object with a non-empty string id');
  }
  if (!Array.isArray(candidates)) throw new CtrkitError('E_INPUT', 'store.lookup: candidates must be an array');
  for (let r = 0; r < candidates.length; r++) {
    const c = candidates[r] as { adId?: unknown; advertiserId?: unknown; category?: unknown } | null;
    if (typeof c !== 'object' || c === null || typeof c.adId !== 'string' || typeof c.advertiserId !== 'string' || typeof c.category !== 'string') {
      throw new CtrkitError('E_INPUT', `store.lookup: candidates[${r}] needs string adId, advertiserId and category`);
    }
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new CtrkitError('E_INPUT', `store.lookup: now must be a finite time in ms, got ${String(now)}`);
  return candidates.length;
}

/**
 * @internal Writes the block of an entity never seen at `out[p…]`: zero counts and the prior CTR
 * per window, NaN recencies. Returns the index after it.
 */
export function writeEmptyEntity(out: Float32Array | Float64Array, p: number, windows: number, prior: number): number {
  for (let w = 0; w < windows; w++) {
    out[p++] = 0;
    out[p++] = 0;
    out[p++] = 0;
    out[p++] = prior;
  }
  out[p++] = Number.NaN;
  out[p++] = Number.NaN;
  return p;
}

/** @internal Fills a lookup's values as for a user and ads never seen: zero counts, prior CTRs, NaN recency, no session, no impressions counted. */
export function fillEmpty(config: StoreConfig, values: Float32Array, rows: number): void {
  const width = config.names.length;
  const W = config.windows.length;
  const prior = config.alpha / (config.alpha + config.beta);
  for (let r = 0; r < rows; r++) {
    let p = r * width;
    for (let e = 0; e < STORE_ENTITIES.length; e++) p = writeEmptyEntity(values, p, W, prior);
    values[p++] = 0;
    values[p++] = 0;
    for (; p < (r + 1) * width; p++) values[p] = 0;
  }
}
