import { CtrkitError, createRandom, restoreRandom, systemClock, type Clock, type Random, type RandomState } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import type { ControllerState, PacerKind, PacingController } from './controller.js';
import { checkAmount, fromMicros, toMicros } from './money.js';
import type { PacingPlan } from './plan.js';

const DAY_MS = 86_400_000;

/**
 * A pacer's whole state as plain JSON: save it (`JSON.stringify(pacer.state())`) and pass it back
 * as `options.state` to resume after a restart.
 *
 * @example
 * ```ts
 * import type { PacerState } from '@ctrkit/pacing';
 * const spentShare = (state: PacerState, budget: number) => state.spentToday / budget;
 * ```
 */
export interface PacerState {
  /** Format version (1). */
  readonly version: 1;
  /** The controller that wrote it. */
  readonly kind: PacerKind;
  /** Local day (plan time zone) the figures belong to. */
  readonly day: number;
  /** Index of the current control interval within the day. */
  readonly interval: number;
  /** Spend recorded today, in currency units: exactly `fromMicros` of the integer micros the pacer counts. */
  readonly spentToday: number;
  /** Spend recorded in the current interval, in currency units (integer micros underneath, like `spentToday`). */
  readonly intervalSpent: number;
  /** Spend the plan wants in the current interval (0 outside active hours). */
  readonly target: number;
  /** The controller's state, with its current outputs. */
  readonly control: ControllerState;
  /** The throttling draw generator's state. */
  readonly random: RandomState;
}

/**
 * Options for {@link createPacer}.
 *
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import { createDualController, createEvenPlan, type PacerOptions } from '@ctrkit/pacing';
 * const options: PacerOptions = {
 *   controller: createDualController(),
 *   plan: createEvenPlan(),
 *   dailyBudget: 500,
 *   clock: createManualClock(Date.UTC(2026, 0, 5)),
 *   intervalMs: 60_000,
 * };
 * ```
 */
export interface PacerOptions {
  /** The control rule. */
  readonly controller: PacingController;
  /** When the budget should be spent. */
  readonly plan: PacingPlan;
  /** The campaign's daily budget, in the currency `record` is called with. */
  readonly dailyBudget: number;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
  /** Seeded source for throttling draws (default `createRandom('pacer')`). Ignored when resuming from `state`. */
  readonly random?: Random;
  /**
   * Length of a control interval (default 60,000 ms; at most one hour). Choose it so that an
   * interval holds several wins: the controllers clip each interval's error to bound the step a
   * spike can cause, which also biases them when one win is worth many intervals of budget.
   */
  readonly intervalMs?: number;
  /** A state saved by `pacer.state()` to resume from. */
  readonly state?: PacerState;
}

/**
 * Paces one campaign's daily budget: per bid request, whether to bid (`admit`) and how much of
 * the bid's value to offer (`multiplier`); after each win, `record` the price. Every
 * `intervalMs` the controller compares the interval's spend with the plan's target and updates
 * its outputs. The target re-plans what is left: remaining budget × (the interval's share of the
 * plan) / (the plan's remaining share), so a slow morning is made up in the afternoon and an
 * overspend is taken out of the rest of the day.
 *
 * The pacer decides how to bid; the {@link BudgetLedger} decides whether money may be spent.
 * Use both: the pacer alone does not prevent overspend.
 *
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import { createDualController, createEvenPlan, createPacer } from '@ctrkit/pacing';
 * const clock = createManualClock(Date.UTC(2026, 0, 5));
 * const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 100, clock });
 * const bid = pacer.admit() ? 2.0 * pacer.multiplier() : 0;
 * if (bid > 0) pacer.record(0.5); // won, paid 0.5
 * ```
 */
export interface Pacer {
  /** The controller's kind. */
  readonly kind: PacerKind;
  /**
   * Whether to bid on this request: `false` outside active hours, once today's budget is spent,
   * or (throttling) when the draw falls above the pass-through rate.
   *
   * @returns `true` to bid.
   */
  admit(): boolean;
  /**
   * The factor to apply to the bid's value now.
   *
   * @returns A number within the controller's multiplier bounds.
   */
  multiplier(): number;
  /**
   * `admit()` and `multiplier()` in one call.
   *
   * @param value - The bid at full value (for example value per click × pCTR × 1000 for a CPM bid).
   * @returns The paced bid, or 0 when the request should not be bid on.
   * @throws CtrkitError `E_INPUT` when `value` is negative or not finite.
   */
  bid(value: number): number;
  /**
   * Records spend (a won impression's price).
   *
   * @param amount - The price paid, ≥ 0.
   * @throws CtrkitError `E_INPUT` when `amount` is negative or not finite.
   */
  record(amount: number): void;
  /**
   * Sets today's spend from an authoritative source (the shared ledger) when several processes
   * spend one budget; the difference counts as spend in the current interval.
   *
   * @param spentToday - Today's total spend across all processes.
   * @throws CtrkitError `E_INPUT` when it is negative or not finite.
   */
  syncSpend(spentToday: number): void;
  /**
   * The whole state, as JSON.
   *
   * @returns A snapshot to save and resume from.
   */
  state(): PacerState;
}

interface PacerConfig {
  readonly controller: PacingController;
  readonly plan: PacingPlan;
  readonly budget: number;
  readonly intervalMs: number;
  readonly intervals: number;
}

/** Budget left, subtracted in integer micros so it is exact to the micro. */
function remainingOf(budget: number, spentToday: number): number {
  return fromMicros(Math.max(0, toMicros(budget) - toMicros(spentToday)));
}

/** Spend the plan wants in interval `k` of `day`, re-planning what is left. */
function targetOf(config: PacerConfig, day: number, k: number, spentToday: number): number {
  const { plan, budget, intervalMs } = config;
  const start = plan.dayStart(day);
  const t0 = start + k * intervalMs;
  const t1 = Math.min(t0 + intervalMs, start + DAY_MS);
  const remaining = remainingOf(budget, spentToday);
  const f0 = plan.fraction(t0);
  if (f0 >= 1 - 1e-12) return plan.isActive(t0) ? remaining : 0; // everything is due now
  const f1 = t1 >= start + DAY_MS ? 1 : plan.fraction(t1); // fraction() of the next midnight would be 0
  return (remaining * Math.max(0, f1 - f0)) / (1 - f0);
}

/** Moves a state to the interval containing `now`, closing the intervals that ended. Pure. */
function advance(config: PacerConfig, state: PacerState, now: number): PacerState {
  const day = config.plan.dayIndex(now);
  const k = Math.min(config.intervals - 1, Math.floor((now - config.plan.dayStart(day)) / config.intervalMs));
  if (day < state.day || (day === state.day && k <= state.interval)) return state;
  const { controller, budget } = config;
  let control = state.control;
  let spentToday = state.spentToday;
  const close = (target: number, spent: number): void => {
    if (target > 0) control = controller.update(control, { target, spent, remaining: remainingOf(budget, spentToday), budget });
  };
  close(state.target, state.intervalSpent);
  if (day === state.day) {
    // Intervals nobody called in saw no spend: the controller hears about each of them.
    for (let j = state.interval + 1; j < k; j++) close(targetOf(config, day, j, spentToday), 0);
  } else {
    spentToday = 0;
  }
  return { ...state, day, interval: k, spentToday, intervalSpent: 0, target: targetOf(config, day, k, spentToday), control };
}

function checkState(state: PacerState, controller: PacingController): PacerState {
  ensure(typeof state === 'object' && state !== null && state.version === 1, 'E_INPUT', () => 'pacer state must be an object with version 1 (from pacer.state())');
  ensure(state.kind === controller.kind, 'E_INPUT', () => `pacer state was saved by a ${String(state.kind)} pacer; resume it with a ${String(state.kind)} controller, not ${controller.kind}`);
  for (const name of ['day', 'interval', 'spentToday', 'intervalSpent', 'target'] as const) {
    const value = state[name];
    ensure(typeof value === 'number' && Number.isFinite(value) && value >= 0, 'E_INPUT', () => `pacer state: ${name} must be a finite number ≥ 0, got ${JSON.stringify(value)}`);
  }
  const random = state.random;
  ensure(
    typeof random === 'object' && random !== null && ['a', 'b', 'c', 'd', 'seed'].every((key) => Number.isInteger((random as unknown as Record<string, unknown>)[key])),
    'E_INPUT',
    () => 'pacer state: random must be a saved random state (from pacer.state())',
  );
  return { ...state, control: controller.validate(state.control) };
}

/**
 * Creates a {@link Pacer}.
 *
 * @param options - Controller, plan, daily budget, clock, random source, interval, saved state.
 * @returns The pacer.
 * @throws CtrkitError `E_CONFIG` on a bad budget or interval; `E_INPUT` on a malformed saved state.
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import { createEvenPlan, createPacer, createPidController } from '@ctrkit/pacing';
 * const clock = createManualClock(Date.UTC(2026, 0, 5));
 * const options = { controller: createPidController(), plan: createEvenPlan(), dailyBudget: 100, clock };
 * const pacer = createPacer(options);
 * pacer.record(1);
 * const resumed = createPacer({ ...options, state: JSON.parse(JSON.stringify(pacer.state())) });
 * console.log(resumed.state().spentToday); // 1
 * ```
 */
export function createPacer(options: PacerOptions): Pacer {
  const { controller, plan } = options;
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 60_000;
  ensure(
    Number.isFinite(intervalMs) && intervalMs >= 1 && intervalMs <= 3_600_000,
    'E_CONFIG',
    () => `intervalMs must be between 1 ms and one hour, got ${String(intervalMs)}`,
  );
  checkAmount(options.dailyBudget, 'dailyBudget', 'E_CONFIG');
  ensure(options.dailyBudget > 0, 'E_CONFIG', () => 'dailyBudget must be positive');
  const config: PacerConfig = { controller, plan, budget: options.dailyBudget, intervalMs, intervals: Math.ceil(DAY_MS / intervalMs) };

  let state: PacerState;
  let random: Random;
  const now0 = clock.now();
  if (options.state !== undefined) {
    state = checkState(options.state, controller);
    random = restoreRandom(state.random);
    state = advance(config, state, now0);
  } else {
    random = options.random ?? createRandom('pacer');
    const day = plan.dayIndex(now0);
    const interval = Math.min(config.intervals - 1, Math.floor((now0 - plan.dayStart(day)) / intervalMs));
    state = {
      version: 1,
      kind: controller.kind,
      day,
      interval,
      spentToday: 0,
      intervalSpent: 0,
      target: targetOf(config, day, interval, 0),
      control: controller.initial(),
      random: random.state(),
    };
  }

  // Hot fields, unpacked so that admit/bid/record touch no objects but these. Money is counted in
  // integer micros held in a `number` (not `bigint`: no BigInt on the hot path, and every amount is
  // capped at 10^15 micros, so sums stay exact far below 2^53), rounded at the edge by the same
  // `toMicros` the ledgers use, so the pacer's spend equals the ledger's to the micro.
  let spentMicros = toMicros(state.spentToday);
  let intervalMicros = toMicros(state.intervalSpent);
  const budgetMicros = toMicros(config.budget);
  let target = state.target;
  let admitRate = state.control.admitRate;
  let multiplier = state.control.multiplier;
  let boundary = 0;
  const setBoundary = (): void => {
    const start = plan.dayStart(state.day);
    boundary = Math.min(start + (state.interval + 1) * intervalMs, start + DAY_MS);
  };
  setBoundary();

  const pack = (): PacerState => ({ ...state, spentToday: fromMicros(spentMicros), intervalSpent: fromMicros(intervalMicros), random: random.state() });
  const roll = (now: number): void => {
    state = advance(config, pack(), now);
    spentMicros = toMicros(state.spentToday);
    intervalMicros = toMicros(state.intervalSpent);
    target = state.target;
    admitRate = state.control.admitRate;
    multiplier = state.control.multiplier;
    setBoundary();
  };

  const admit = (): boolean => {
    const now = clock.now();
    if (now >= boundary) roll(now);
    if (target <= 0 || spentMicros >= budgetMicros) return false;
    return admitRate >= 1 || random.next() < admitRate;
  };

  const checkMoney = (amount: number, what: string): void => {
    if (!(amount >= 0 && amount <= 1e15)) {
      throw new CtrkitError('E_INPUT', `${what} must be a finite number ≥ 0, got ${String(amount)}`, { details: { value: amount } });
    }
  };

  const guardSum = (micros: number): void => {
    if (micros > Number.MAX_SAFE_INTEGER) {
      throw new CtrkitError('E_INPUT', `pacer.record: today's spend would pass 2^53 micros and lose exactness; check the amounts recorded`, { details: { micros } });
    }
  };

  return {
    kind: controller.kind,
    admit,
    multiplier: () => {
      const now = clock.now();
      if (now >= boundary) roll(now);
      return multiplier;
    },
    bid(value: number): number {
      checkMoney(value, 'pacer.bid: value');
      return admit() ? value * multiplier : 0;
    },
    record(amount: number): void {
      checkMoney(amount, 'pacer.record: amount');
      const now = clock.now();
      if (now >= boundary) roll(now);
      const micros = toMicros(amount);
      guardSum(spentMicros + micros);
      spentMicros += micros;
      intervalMicros += micros;
    },
    syncSpend(total: number): void {
      checkMoney(total, 'pacer.syncSpend: spentToday');
      const now = clock.now();
      if (now >= boundary) roll(now);
      const micros = toMicros(total);
      if (micros > spentMicros) intervalMicros += micros - spentMicros;
      spentMicros = micros;
    },
    state: pack,
  };
}
