/**
 * Replaying an auction log through a pacer, a linear bidder and a memory ledger, as an ad server
 * would run them, and the pacing controller of each `PacerKind`; the hindsight references it is
 * compared with are in hindsight.ts.
 */
import { createManualClock, createRandom } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { checkAuctionLog, type AuctionLog } from './auction-log.js';
import type { PacerKind, PacingController } from './controller.js';
import { createDualController } from './dual.js';
import { hindsightGreedy, meanPctr, totalCostMicros } from './hindsight.js';
import { createMemoryLedger } from './memory-ledger.js';
import { fromMicros, toMicros } from './money.js';
import { createPacer, type PacerState } from './pacer.js';
import { createPidController } from './pid.js';
import { createEvenPlan, type PacingPlan, type PacingPlanKind } from './plan.js';
import { createThrottleController } from './throttle.js';
import { createUnpacedController } from './unpaced.js';

const DAY_MS = 86_400_000;
const CAMPAIGN = 'replay';

/**
 * Options for {@link replayAuctions}.
 *
 * @example
 * ```ts
 * import { createEvenPlan, type ReplayOptions, parseIpinyouLog } from '@ctrkit/pacing';
 * const log = parseIpinyouLog('0 70 0.0021\n1 30 0.0043\n');
 * const options: ReplayOptions = { log, budgetRatio: 1 / 8, pacer: 'dual', plan: createEvenPlan() };
 * ```
 */
export interface ReplayOptions {
  /** The auctions, in time order. */
  readonly log: AuctionLog;
  /** Daily budget as a share of the log's total market cost (Σ price / 1000), > 0. */
  readonly budgetRatio: number;
  /** Which controller paces the bidder, or a controller built with custom options. */
  readonly pacer: PacerKind | PacingController;
  /** When the budget should be spent (default an even plan in UTC). */
  readonly plan?: PacingPlan;
  /**
   * The linear bidder's CPM bid for an auction of average pCTR: auction `i` is valued at
   * `baseBid × pCTR[i] / mean pCTR`, and the pacer scales that value down. Default: the log's
   * highest market price (a value at which an average auction is always won), so the controller,
   * not the setting, finds the right bid.
   */
  readonly baseBid?: number;
  /** Control interval of the pacer (default 60,000 ms). */
  readonly intervalMs?: number;
  /** Seed for throttling draws (default `replay`). */
  readonly seed?: number | string;
  /** Start of the day a log without timestamps is spread over (default Monday 2026-01-05 00:00 UTC). */
  readonly startTime?: number;
  /** Points in the cumulative-spend series (default 288, one per five minutes). */
  readonly samples?: number;
  /** Called every 8,192 auctions with the number replayed and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Cumulative spend against the plan over the replayed day, for plots.
 *
 * @example
 * ```ts
 * import type { SpendSeries } from '@ctrkit/pacing';
 * const behind = (s: SpendSeries, i: number) => (s.plan[i] ?? 0) - (s.spend[i] ?? 0);
 * ```
 */
export interface SpendSeries {
  /** Start of the day, epoch ms. */
  readonly start: number;
  /** Sample times, ms since `start`. */
  readonly times: Float64Array;
  /** Cumulative spend at each time. */
  readonly spend: Float64Array;
  /** Cumulative spend the plan wanted at each time (budget × plan fraction). */
  readonly plan: Float64Array;
  /** The pacer's bid multiplier at each time. */
  readonly multiplier: Float64Array;
  /** The pacer's pass-through rate at each time. */
  readonly admitRate: Float64Array;
}

/**
 * What a replay measured. Money is in the unit market prices are quoted in: a won auction costs
 * its CPM market price / 1000.
 *
 * @example
 * ```ts
 * import type { ReplayResult } from '@ctrkit/pacing';
 * const summary = (r: ReplayResult) => `${r.clicks} clicks, ${(100 * r.utilization).toFixed(1)} % of budget`;
 * ```
 */
export interface ReplayResult {
  /** The log's name. */
  readonly source: string;
  /** The controller used. */
  readonly pacer: PacerKind;
  /** The plan used. */
  readonly plan: PacingPlanKind;
  /** Auctions replayed. */
  readonly auctions: number;
  /** The daily budget. */
  readonly budget: number;
  /** Money spent (Σ market price / 1000 over won auctions). */
  readonly spend: number;
  /** What the ledger recorded (equal to `spend`; reported as a cross-check). */
  readonly ledgerSpend: number;
  /** Auctions won. */
  readonly impressions: number;
  /** Clicks among the won impressions. */
  readonly clicks: number;
  /** Cost per click, or `null` without clicks. */
  readonly cpc: number | null;
  /** Spend beyond the budget (0 unless something is broken). */
  readonly overspend: number;
  /** spend / budget. */
  readonly utilization: number;
  /** Clicks of the hindsight greedy optimum (see {@link hindsightGreedy}). */
  readonly optimalClicks: number;
  /** Bids placed (reservation granted). */
  readonly bids: number;
  /** Bids the ledger refused (budget exhausted). */
  readonly refusals: number;
  /** The base bid used. */
  readonly baseBid: number;
  /** The pacer's state at the end of the day. */
  readonly finalState: PacerState;
  /** Cumulative spend against the plan. */
  readonly series: SpendSeries;
}

/**
 * Builds the controller for a kind with its default options.
 *
 * @param kind - `throttle`, `pid`, `dual` or `none`.
 * @returns A controller.
 * @throws CtrkitError `E_INPUT` for an unknown kind.
 * @example
 * ```ts
 * import { controllerFor } from '@ctrkit/pacing';
 * console.log(controllerFor('pid').kind); // pid
 * ```
 */
export function controllerFor(kind: PacerKind): PacingController {
  switch (kind) {
    case 'throttle':
      return createThrottleController();
    case 'pid':
      return createPidController();
    case 'dual':
      return createDualController();
    case 'none':
      return createUnpacedController();
    default:
      ensure(false, 'E_INPUT', () => `unknown pacer ${JSON.stringify(kind)}; expected throttle, pid, dual or none`);
  }
}

function budgetMicrosOf(log: AuctionLog, ratio: number): number {
  ensure(Number.isFinite(ratio) && ratio > 0 && ratio <= 1000, 'E_INPUT', () => `budgetRatio must be a number in (0, 1000], got ${String(ratio)}`);
  return toMicros(fromMicros(totalCostMicros(log)) * ratio);
}

/**
 * Replays an auction log as one day of traffic through a pacer, a linear bidder and a memory
 * ledger, as an ad server would run them: for each auction in order, the pacer admits or skips it
 * and scales the bid; the ledger reserves the bid (and refuses when the budget cannot cover it);
 * the bid wins when it is at least the market price and pays the market price (second price),
 * and the reservation is committed; otherwise it is released. Auctions without timestamps are
 * spread evenly over the day in log order.
 *
 * @param options - Log, budget ratio, controller, plan, base bid, interval, seed.
 * @returns Spend, impressions, clicks, utilization, overspend, the hindsight greedy optimum and a
 * cumulative-spend series.
 * @throws CtrkitError `E_INPUT` on a malformed log, a non-positive budget ratio, a bad base bid,
 * timestamps spanning more than one day, or an unknown pacer kind.
 * @example
 * ```ts
 * import { parseIpinyouLog, replayAuctions } from '@ctrkit/pacing';
 * const lines = Array.from({ length: 2_000 }, (_, i) => `${i % 97 === 0 ? 1 : 0} ${20 + (i % 60)} ${0.001 + (i % 7) / 1000}`);
 * const result = await replayAuctions({ log: parseIpinyouLog(lines.join('\n')), budgetRatio: 0.25, pacer: 'dual' });
 * console.log(result.overspend); // 0
 * ```
 */
export async function replayAuctions(options: ReplayOptions): Promise<ReplayResult> {
  const log = checkAuctionLog(options.log);
  const n = log.size;
  const controller = typeof options.pacer === 'string' ? controllerFor(options.pacer) : options.pacer;
  const plan = options.plan ?? createEvenPlan();
  const mean = meanPctr(log);
  let maxPrice = 0;
  for (let i = 0; i < n; i++) maxPrice = Math.max(maxPrice, log.prices[i] as number);
  const baseBid = options.baseBid ?? Math.max(maxPrice, 1e-6);
  ensure(Number.isFinite(baseBid) && baseBid > 0, 'E_INPUT', () => `baseBid must be a positive CPM amount, got ${String(baseBid)}`);
  const budgetMicros = budgetMicrosOf(log, options.budgetRatio);
  ensure(budgetMicros > 0, 'E_INPUT', () => `the budget (${options.budgetRatio} × the log's market cost) rounds to 0; use a larger ratio or a log with prices`);
  const budget = fromMicros(budgetMicros);
  const samples = options.samples ?? 288;
  ensure(Number.isInteger(samples) && samples >= 2 && samples <= 100_000, 'E_INPUT', () => `samples must be an integer in [2, 100000], got ${String(samples)}`);

  // The day the log is replayed over.
  const timestamps = log.timestamps;
  const firstTime = timestamps !== undefined ? (timestamps[0] as number) : (options.startTime ?? Date.UTC(2026, 0, 5));
  ensure(Number.isFinite(firstTime), 'E_INPUT', () => `startTime must be finite, got ${String(firstTime)}`);
  const day = plan.dayIndex(firstTime);
  const dayStart = plan.dayStart(day);
  if (timestamps !== undefined) {
    ensure(
      plan.dayIndex(timestamps[n - 1] as number) === day,
      'E_INPUT',
      () => `${log.source}: the replay covers one day of the plan's time zone, but the timestamps run from ${new Date(firstTime).toISOString()} to ${new Date(timestamps[n - 1] as number).toISOString()}`,
    );
  }
  const timeOf = timestamps !== undefined ? (i: number) => timestamps[i] as number : (i: number) => dayStart + ((i + 0.5) / n) * DAY_MS;

  const clock = createManualClock(dayStart);
  const ledger = createMemoryLedger({
    budgets: { campaigns: [{ id: CAMPAIGN, dailyBudget: budget, timezoneOffsetMinutes: plan.timezoneOffsetMinutes }] },
    clock,
    reservationTtlMs: 60_000,
  });
  const pacer = createPacer({
    controller,
    plan,
    dailyBudget: budget,
    clock,
    random: createRandom(options.seed ?? 'replay'),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });

  const series = {
    start: dayStart,
    times: new Float64Array(samples),
    spend: new Float64Array(samples),
    plan: new Float64Array(samples),
    multiplier: new Float64Array(samples),
    admitRate: new Float64Array(samples),
  };
  const scale = baseBid / mean;
  const { prices, pctrs, clicks: clicked } = log;
  let spentMicros = 0;
  let impressions = 0;
  let clicks = 0;
  let bids = 0;
  let refusals = 0;
  let nextSample = 0;
  const sampleUntil = (time: number): void => {
    while (nextSample < samples) {
      const at = (nextSample / (samples - 1)) * DAY_MS;
      if (dayStart + at > time) break;
      const state = pacer.state();
      series.times[nextSample] = at;
      series.spend[nextSample] = fromMicros(spentMicros);
      // At the very end of the day the plan is complete (fraction() of the next midnight is 0).
      series.plan[nextSample] = at >= DAY_MS ? budget : budget * plan.fraction(dayStart + at);
      series.multiplier[nextSample] = state.control.multiplier;
      series.admitRate[nextSample] = state.control.admitRate;
      nextSample++;
    }
  };

  for (let i = 0; i < n; i++) {
    const time = timeOf(i);
    sampleUntil(time);
    clock.set(Math.max(time, clock.now()));
    if (options.onProgress !== undefined && (i & 8191) === 0) options.onProgress(i, n);
    if (!pacer.admit()) continue;
    const bid = scale * (pctrs[i] as number) * pacer.multiplier();
    if (!(bid > 0)) continue;
    const reservation = await ledger.reserve(CAMPAIGN, bid / 1000);
    if (!reservation.ok) {
      refusals++;
      continue;
    }
    bids++;
    const price = prices[i] as number;
    if (bid >= price) {
      const cost = price / 1000;
      await ledger.commit(reservation, cost);
      spentMicros += toMicros(cost);
      // Exact spend (from integer micros, as the ledger counts) rather than a running float sum,
      // so the pacer's "budget spent" agrees with the ledger to the last micro.
      pacer.syncSpend(fromMicros(spentMicros));
      impressions++;
      clicks += clicked[i] as number;
    } else {
      await ledger.release(reservation);
    }
  }
  sampleUntil(Number.POSITIVE_INFINITY);
  options.onProgress?.(n, n);
  const snapshot = await ledger.snapshot(CAMPAIGN);
  await ledger.close();
  const spend = fromMicros(spentMicros);
  return {
    source: log.source,
    pacer: controller.kind,
    plan: plan.kind,
    auctions: n,
    budget,
    spend,
    ledgerSpend: snapshot.lines[0]?.spent ?? Number.NaN,
    impressions,
    clicks,
    cpc: clicks > 0 ? spend / clicks : null,
    overspend: Math.max(0, fromMicros(spentMicros - budgetMicros)),
    utilization: spend / budget,
    optimalClicks: hindsightGreedy(log, budget).clicks,
    bids,
    refusals,
    baseBid,
    finalState: pacer.state(),
    series,
  };
}
