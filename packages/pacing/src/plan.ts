import { CtrkitError } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { checkTimezone, dayIndex as localDay, dayStartOf } from './budget.js';

const DAY_MS = 86_400_000;

/**
 * How a plan was made: spread evenly, spend as soon as possible, follow a custom curve, or follow
 * the traffic of past days.
 *
 * @example
 * ```ts
 * import type { PacingPlanKind } from '@ctrkit/pacing';
 * const kind: PacingPlanKind = 'traffic';
 * ```
 */
export type PacingPlanKind = 'even' | 'asap' | 'hourly' | 'traffic';

/**
 * A plan as plain JSON, to store beside a campaign and restore with {@link planFromJSON}.
 *
 * @example
 * ```ts
 * import type { PacingPlanJSON } from '@ctrkit/pacing';
 * const json: PacingPlanJSON = { kind: 'even', weights: new Array(24).fill(1 / 24), activeHours: [], timezoneOffsetMinutes: 0 };
 * ```
 */
export interface PacingPlanJSON {
  /** How it was made. */
  readonly kind: PacingPlanKind;
  /** Share of the day's budget per slot (the day cut into `weights.length` equal slots), summing to 1. */
  readonly weights: readonly number[];
  /** Local hours (0–23) in which spending is allowed; empty means all day. */
  readonly activeHours: readonly number[];
  /** Offset of local time from UTC, in minutes. */
  readonly timezoneOffsetMinutes: number;
}

/**
 * Options common to every plan: the campaign's time zone and day-parting.
 *
 * @example
 * ```ts
 * import type { PlanOptions } from '@ctrkit/pacing';
 * // Office hours in Paris (UTC+1 in winter).
 * const options: PlanOptions = { timezoneOffsetMinutes: 60, activeHours: [9, 10, 11, 12, 13, 14, 15, 16, 17] };
 * ```
 */
export interface PlanOptions {
  /** Offset of the campaign's local time from UTC in minutes (default 0): days start at local midnight. */
  readonly timezoneOffsetMinutes?: number;
  /** Day-parting: the local hours (0–23) in which the campaign may spend (default every hour). */
  readonly activeHours?: readonly number[];
}

/**
 * When a campaign's daily budget should be spent: a cumulative curve over the local day. A
 * {@link Pacer} compares actual spend with it.
 *
 * @example
 * ```ts
 * import { createEvenPlan } from '@ctrkit/pacing';
 * const plan = createEvenPlan();
 * const noon = Date.UTC(2026, 0, 5, 12);
 * console.log(plan.fraction(noon)); // 0.5
 * ```
 */
export interface PacingPlan {
  /** How it was made. */
  readonly kind: PacingPlanKind;
  /** Offset of local time from UTC, in minutes. */
  readonly timezoneOffsetMinutes: number;
  /** Share of the budget per slot after day-parting, summing to 1. */
  readonly weights: readonly number[];
  /** Local hours in which spending is allowed (all 24 when there is no day-parting). */
  readonly activeHours: readonly number[];
  /**
   * Share of the day's budget planned to be spent by `time`.
   *
   * @param time - Epoch milliseconds.
   * @returns A number in [0, 1]: 0 at local midnight, 1 by the end of the last active slot.
   */
  fraction(time: number): number;
  /**
   * Whether day-parting allows spending at `time`.
   *
   * @param time - Epoch milliseconds.
   * @returns `true` inside an active local hour.
   */
  isActive(time: number): boolean;
  /**
   * The local day `time` falls in.
   *
   * @param time - Epoch milliseconds.
   * @returns Days since 1970-01-01 in the plan's time zone.
   */
  dayIndex(time: number): number;
  /**
   * When a local day starts.
   *
   * @param day - A day index from {@link PacingPlan.dayIndex}.
   * @returns Epoch milliseconds of that local midnight.
   */
  dayStart(day: number): number;
  /**
   * The plan as JSON.
   *
   * @returns What {@link planFromJSON} takes back.
   */
  toJSON(): PacingPlanJSON;
}

function checkHours(hours: readonly number[] | undefined, code: 'E_CONFIG' | 'E_INPUT'): number[] {
  if (hours === undefined || hours.length === 0) return [];
  ensure(Array.isArray(hours), code, () => 'activeHours must be an array of local hours 0–23');
  const seen = new Set<number>();
  for (const hour of hours) {
    ensure(Number.isInteger(hour) && hour >= 0 && hour <= 23, code, () => `activeHours must hold whole hours 0–23, got ${String(hour)}`);
    ensure(!seen.has(hour), code, () => `activeHours lists hour ${hour} twice`);
    seen.add(hour);
  }
  return [...seen].sort((a, b) => a - b);
}

function buildPlan(kind: PacingPlanKind, rawWeights: readonly number[], options: PlanOptions, code: 'E_CONFIG' | 'E_INPUT'): PacingPlan {
  const tz = options.timezoneOffsetMinutes ?? 0;
  checkTimezone(tz, 'plan', code);
  const slots = rawWeights.length;
  ensure(
    Number.isInteger(slots) && slots >= 24 && slots % 24 === 0 && slots <= 24 * 60,
    code,
    () => `a plan needs a multiple of 24 slot weights (24 = hourly, 96 = quarter-hours, up to 1440), got ${slots}`,
  );
  const hours = checkHours(options.activeHours, code);
  const allowed = new Uint8Array(24).fill(hours.length === 0 ? 1 : 0);
  for (const hour of hours) allowed[hour] = 1;
  const perHour = slots / 24;
  const weights = new Float64Array(slots);
  let total = 0;
  for (let j = 0; j < slots; j++) {
    const w = rawWeights[j] as number;
    ensure(typeof w === 'number' && Number.isFinite(w) && w >= 0, code, () => `plan weight ${j} must be a finite number ≥ 0, got ${String(w)}`);
    const kept = allowed[Math.floor(j / perHour)] === 1 ? w : 0;
    weights[j] = kept;
    total += kept;
  }
  ensure(total > 0, code, () => 'the plan puts no weight on any active hour; give at least one active slot a positive weight');
  const cumulative = new Float64Array(slots + 1);
  for (let j = 0; j < slots; j++) {
    weights[j] = (weights[j] as number) / total;
    cumulative[j + 1] = (cumulative[j] as number) + (weights[j] as number);
  }
  cumulative[slots] = 1;
  const slotMs = DAY_MS / slots;
  let firstActive = 0;
  while ((weights[firstActive] as number) === 0) firstActive++;
  const activeHours = hours.length === 0 ? Array.from({ length: 24 }, (_, h) => h) : hours;
  const offsetMs = tz * 60_000;
  const sinceMidnight = (time: number): number => {
    const local = time + offsetMs;
    return local - Math.floor(local / DAY_MS) * DAY_MS;
  };
  const fraction =
    kind === 'asap'
      ? (time: number): number => (sinceMidnight(time) > firstActive * slotMs ? 1 : 0)
      : (time: number): number => {
          const t = sinceMidnight(time);
          const j = Math.min(slots - 1, Math.floor(t / slotMs));
          const within = (t - j * slotMs) / slotMs;
          return Math.min(1, (cumulative[j] as number) + (weights[j] as number) * within);
        };
  const frozenWeights = Object.freeze(Array.from(weights));
  return Object.freeze({
    kind,
    timezoneOffsetMinutes: tz,
    weights: frozenWeights,
    activeHours: Object.freeze(activeHours),
    fraction,
    isActive: (time: number) => allowed[Math.floor(sinceMidnight(time) / 3_600_000)] === 1,
    dayIndex: (time: number) => localDay(time, tz),
    dayStart: (day: number) => dayStartOf(day, tz),
    toJSON: (): PacingPlanJSON => ({ kind, weights: [...frozenWeights], activeHours: [...hours], timezoneOffsetMinutes: tz }),
  });
}

/**
 * A plan that spreads the budget evenly over the active hours of the local day.
 *
 * @param options - Time zone and day-parting.
 * @returns The plan.
 * @throws CtrkitError `E_CONFIG` on a bad time zone or hour list.
 * @example
 * ```ts
 * import { createEvenPlan } from '@ctrkit/pacing';
 * const plan = createEvenPlan({ activeHours: [8, 9, 10, 11] });
 * console.log(plan.fraction(Date.UTC(2026, 0, 5, 10))); // 0.5
 * ```
 */
export function createEvenPlan(options: PlanOptions = {}): PacingPlan {
  return buildPlan('even', new Array<number>(24).fill(1), options, 'E_CONFIG');
}

/**
 * A plan that wants the whole budget spent as soon as the first active hour opens: the pacer
 * then bids at full value until the budget is gone.
 *
 * @param options - Time zone and day-parting.
 * @returns The plan.
 * @throws CtrkitError `E_CONFIG` on a bad time zone or hour list.
 * @example
 * ```ts
 * import { createAsapPlan } from '@ctrkit/pacing';
 * const plan = createAsapPlan();
 * console.log(plan.fraction(Date.UTC(2026, 0, 5, 0, 1))); // 1
 * ```
 */
export function createAsapPlan(options: PlanOptions = {}): PacingPlan {
  return buildPlan('asap', new Array<number>(24).fill(1), options, 'E_CONFIG');
}

/**
 * A plan following a custom curve: one weight per local hour (24 values) or per finer slot
 * (any multiple of 24). Weights are relative; they are normalized to sum to 1.
 *
 * @param weights - Relative share of the budget for each slot, finite and ≥ 0.
 * @param options - Time zone and day-parting (hours outside it get weight 0).
 * @returns The plan.
 * @throws CtrkitError `E_CONFIG` when the count is not a multiple of 24, a weight is negative or
 * not finite, or no active slot has weight.
 * @example
 * ```ts
 * import { createHourlyPlan } from '@ctrkit/pacing';
 * // Twice the spend in the evening.
 * const plan = createHourlyPlan(Array.from({ length: 24 }, (_, h) => (h >= 18 ? 2 : 1)));
 * ```
 */
export function createHourlyPlan(weights: readonly number[], options: PlanOptions = {}): PacingPlan {
  ensure(Array.isArray(weights), 'E_CONFIG', () => 'createHourlyPlan needs an array of weights');
  return buildPlan('hourly', weights, options, 'E_CONFIG');
}

/**
 * Options for {@link createTrafficShapedPlan}.
 *
 * @example
 * ```ts
 * import type { TrafficPlanOptions } from '@ctrkit/pacing';
 * const options: TrafficPlanOptions = { slots: 96, halfLifeDays: 7, timezoneOffsetMinutes: -300 };
 * ```
 */
export interface TrafficPlanOptions extends PlanOptions {
  /** Slots per day (a multiple of 24; default 24 = hourly). */
  readonly slots?: number;
  /** Weight of past days halves every this many days (default: all days count the same). */
  readonly halfLifeDays?: number;
}

/**
 * A traffic-shaped plan: spend follows the traffic the campaign can expect, forecast as the
 * (optionally recency-weighted) mean share of requests per local time slot over past days.
 *
 * @param timestamps - When past requests (or eligible auctions) arrived, epoch ms, any order.
 * @param options - Slots per day, recency half-life, time zone and day-parting.
 * @returns The plan.
 * @throws CtrkitError `E_INPUT` when there are no timestamps or one is not finite; `E_CONFIG` on
 * bad options or when no traffic fell in an active hour.
 * @example
 * ```ts
 * import { createTrafficShapedPlan } from '@ctrkit/pacing';
 * const day = Date.UTC(2026, 0, 4);
 * const seen = [day + 20 * 3_600_000, day + 21 * 3_600_000, day + 21.5 * 3_600_000, day + 9 * 3_600_000];
 * const plan = createTrafficShapedPlan(seen);
 * console.log(plan.weights[21]); // 0.5
 * ```
 */
export function createTrafficShapedPlan(timestamps: ArrayLike<number>, options: TrafficPlanOptions = {}): PacingPlan {
  const slots = options.slots ?? 24;
  ensure(Number.isInteger(slots) && slots >= 24 && slots % 24 === 0 && slots <= 1440, 'E_CONFIG', () => `slots must be a multiple of 24 up to 1440, got ${String(slots)}`);
  const halfLife = options.halfLifeDays;
  ensure(halfLife === undefined || (Number.isFinite(halfLife) && halfLife > 0), 'E_CONFIG', () => `halfLifeDays must be positive, got ${String(halfLife)}`);
  ensure(timestamps.length > 0, 'E_INPUT', () => 'a traffic-shaped plan needs the timestamps of past traffic; none were given');
  const tz = options.timezoneOffsetMinutes ?? 0;
  checkTimezone(tz, 'plan');
  const slotMs = DAY_MS / slots;
  const byDay = new Map<number, Float64Array>();
  let lastDay = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i] as number;
    ensure(Number.isFinite(t), 'E_INPUT', () => `traffic timestamp ${i} is not a finite number (${String(t)})`);
    const day = localDay(t, tz);
    let counts = byDay.get(day);
    if (counts === undefined) {
      counts = new Float64Array(slots);
      byDay.set(day, counts);
    }
    const j = Math.min(slots - 1, Math.floor((t - dayStartOf(day, tz)) / slotMs));
    counts[j] = (counts[j] as number) + 1;
    if (day > lastDay) lastDay = day;
  }
  const weights = new Array<number>(slots).fill(0);
  for (const [day, counts] of byDay) {
    let total = 0;
    for (let j = 0; j < slots; j++) total += counts[j] as number;
    // Each day contributes its shape (shares), so a busy day does not outweigh a quiet one.
    const weight = halfLife === undefined ? 1 : Math.pow(0.5, (lastDay - day) / halfLife);
    for (let j = 0; j < slots; j++) weights[j] = (weights[j] as number) + (weight * (counts[j] as number)) / total;
  }
  try {
    return buildPlan('traffic', weights, options, 'E_CONFIG');
  } catch (error) {
    throw new CtrkitError('E_CONFIG', 'no past traffic fell in an active hour of the plan; check activeHours and timezoneOffsetMinutes, or use an even plan', { cause: error });
  }
}

/**
 * Restores a plan saved with `plan.toJSON()`.
 *
 * @param json - The saved plan (for example parsed from a file).
 * @returns An equivalent plan.
 * @throws CtrkitError `E_INPUT` when the JSON is not a valid plan.
 * @example
 * ```ts
 * import { createEvenPlan, planFromJSON } from '@ctrkit/pacing';
 * const saved = JSON.stringify(createEvenPlan({ timezoneOffsetMinutes: 60 }));
 * const plan = planFromJSON(JSON.parse(saved));
 * console.log(plan.timezoneOffsetMinutes); // 60
 * ```
 */
export function planFromJSON(json: PacingPlanJSON): PacingPlan {
  ensure(typeof json === 'object' && json !== null, 'E_INPUT', () => 'a saved plan must be an object');
  ensure(['even', 'asap', 'hourly', 'traffic'].includes(json.kind), 'E_INPUT', () => `unknown plan kind ${JSON.stringify(json.kind)}; expected even, asap, hourly or traffic`);
  ensure(Array.isArray(json.weights), 'E_INPUT', () => 'a saved plan needs a weights array');
  ensure(json.activeHours === undefined || Array.isArray(json.activeHours), 'E_INPUT', () => 'activeHours must be an array');
  return buildPlan(json.kind, json.weights, { timezoneOffsetMinutes: json.timezoneOffsetMinutes, activeHours: json.activeHours }, 'E_INPUT');
}
