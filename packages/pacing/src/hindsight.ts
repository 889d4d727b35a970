/**
 * Hindsight references for a pacer replay: what an auction log costs in all, the greedy optimum
 * knowing every price in advance, and the best fixed linear bid chosen in hindsight.
 */
import { argsort, ensure } from '@ctrkit/core/internal';
import { checkAuctionLog, type AuctionLog } from './auction-log.js';
import { fromMicros, toMicros } from './money.js';

/** @internal Σ price / 1000 over the log, in micros (the unit the ledger counts in). */
export function totalCostMicros(log: AuctionLog): number {
  let total = 0;
  for (let i = 0; i < log.size; i++) total += toMicros((log.prices[i] as number) / 1000);
  return total;
}

/**
 * The log's total market cost: what buying every impression would cost (Σ price / 1000).
 *
 * @param log - The auctions.
 * @returns The total, in currency units.
 * @example
 * ```ts
 * import { parseIpinyouLog, totalMarketCost } from '@ctrkit/pacing';
 * console.log(totalMarketCost(parseIpinyouLog('0 70 0.002\n0 30 0.004\n'))); // 0.1
 * ```
 */
export function totalMarketCost(log: AuctionLog): number {
  return fromMicros(totalCostMicros(log));
}

/** @internal The log's mean pCTR, the scale of a linear bid.
 *
 * @throws CtrkitError `E_INPUT` when every pCTR is 0.
 */
export function meanPctr(log: AuctionLog): number {
  let sum = 0;
  for (let i = 0; i < log.size; i++) sum += log.pctrs[i] as number;
  const mean = sum / log.size;
  ensure(mean > 0, 'E_INPUT', () => `${log.source}: every pCTR is 0, so a linear bid is 0 everywhere; the log needs click predictions`);
  return mean;
}

/**
 * What the hindsight greedy optimum achieves: knowing every price in advance, take impressions in
 * decreasing order of pCTR / price (free ones first) while they fit in the budget, skipping any
 * that no longer fits. It maximizes expected clicks for the budget up to one impression (the
 * fractional-knapsack bound), so it is the upper reference a pacer is compared with.
 *
 * @param log - The auctions.
 * @param budget - The budget, in currency units.
 * @returns Clicks, impressions and spend of the greedy selection.
 * @throws CtrkitError `E_INPUT` on a malformed log or a negative budget.
 * @example
 * ```ts
 * import { hindsightGreedy, parseIpinyouLog } from '@ctrkit/pacing';
 * const log = parseIpinyouLog('0 100 0.001\n1 20 0.004\n0 50 0.003\n');
 * // Best pCTR per price first: 0.02 fits, then 0.05 would exceed 0.05 in all, then 0.1 too.
 * console.log(hindsightGreedy(log, 0.05).impressions); // 1
 * ```
 */
export function hindsightGreedy(log: AuctionLog, budget: number): { clicks: number; impressions: number; spend: number } {
  checkAuctionLog(log);
  ensure(Number.isFinite(budget) && budget >= 0, 'E_INPUT', () => `budget must be a finite amount ≥ 0, got ${String(budget)}`);
  const keys = new Float64Array(log.size);
  for (let i = 0; i < log.size; i++) {
    const price = log.prices[i] as number;
    keys[i] = price > 0 ? -(log.pctrs[i] as number) / price : Number.NEGATIVE_INFINITY;
  }
  const order = argsort(keys);
  const limit = toMicros(budget);
  let spent = 0;
  let clicks = 0;
  let impressions = 0;
  for (let r = 0; r < order.length; r++) {
    const i = order[r] as number;
    const cost = toMicros((log.prices[i] as number) / 1000);
    if (spent + cost > limit) continue;
    spent += cost;
    clicks += log.clicks[i] as number;
    impressions++;
  }
  return { clicks, impressions, spend: fromMicros(spent) };
}

/**
 * Replays a fixed linear bid, `bid = baseBid × pCTR / mean pCTR`, with the same rules as
 * {@link replayAuctions} with pacer `none` (a bid goes out only if the remaining budget covers it;
 * it wins when it is at least the market price and pays that price), but synchronously and fast.
 *
 * @param log - The auctions.
 * @param budget - The budget, in currency units.
 * @param baseBid - The CPM bid for an auction of average pCTR.
 * @returns Clicks, impressions and spend.
 * @throws CtrkitError `E_INPUT` on a malformed log, a negative budget or base bid.
 * @example
 * ```ts
 * import { fixedLinearBid, parseIpinyouLog } from '@ctrkit/pacing';
 * const log = parseIpinyouLog('0 100 0.001\n1 20 0.004\n0 50 0.003\n');
 * console.log(fixedLinearBid(log, 1, 40).clicks); // 1
 * ```
 */
export function fixedLinearBid(log: AuctionLog, budget: number, baseBid: number): { clicks: number; impressions: number; spend: number } {
  checkAuctionLog(log);
  ensure(Number.isFinite(budget) && budget >= 0, 'E_INPUT', () => `budget must be a finite amount ≥ 0, got ${String(budget)}`);
  ensure(Number.isFinite(baseBid) && baseBid >= 0, 'E_INPUT', () => `baseBid must be a finite amount ≥ 0, got ${String(baseBid)}`);
  return runFixed(log, toMicros(budget), baseBid / meanPctr(log));
}

function runFixed(log: AuctionLog, limit: number, scale: number): { clicks: number; impressions: number; spend: number } {
  const { prices, pctrs, clicks: clicked } = log;
  let spent = 0;
  let clicks = 0;
  let impressions = 0;
  for (let i = 0; i < log.size; i++) {
    const bid = scale * (pctrs[i] as number);
    if (!(bid > 0)) continue;
    if (toMicros(bid / 1000) > limit - spent) continue;
    const price = prices[i] as number;
    if (bid >= price) {
      spent += toMicros(price / 1000);
      clicks += clicked[i] as number;
      impressions++;
    }
  }
  return { clicks, impressions, spend: fromMicros(spent) };
}

/**
 * The best fixed linear bid chosen in hindsight: searches `baseBid` over a log-spaced grid of 160
 * values spanning every auction's break-even bid, then 160 values between the best one's
 * neighbors (a resolution finer than 0.1 %), replaying each with {@link fixedLinearBid}.
 *
 * @param log - The auctions.
 * @param budget - The budget, in currency units.
 * @returns The best base bid found and what it achieves.
 * @throws CtrkitError `E_INPUT` on a malformed log or a negative budget.
 * @example
 * ```ts
 * import { hindsightLinearBid, parseIpinyouLog } from '@ctrkit/pacing';
 * const log = parseIpinyouLog('0 100 0.001\n1 20 0.004\n0 50 0.003\n');
 * console.log(hindsightLinearBid(log, 1).clicks); // 1
 * ```
 */
export function hindsightLinearBid(log: AuctionLog, budget: number): { baseBid: number; clicks: number; impressions: number; spend: number } {
  checkAuctionLog(log);
  ensure(Number.isFinite(budget) && budget >= 0, 'E_INPUT', () => `budget must be a finite amount ≥ 0, got ${String(budget)}`);
  const mean = meanPctr(log);
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (let i = 0; i < log.size; i++) {
    const pctr = log.pctrs[i] as number;
    if (pctr <= 0) continue;
    const breakEven = Math.max((log.prices[i] as number) * (mean / pctr), 1e-9);
    if (breakEven < lo) lo = breakEven;
    if (breakEven > hi) hi = breakEven;
  }
  const limit = toMicros(budget);
  let best = { baseBid: lo, ...runFixed(log, limit, lo / mean) };
  const search = (from: number, to: number, steps: number): number => {
    const ratio = Math.pow(to / from, 1 / steps);
    let bestStep = -1;
    for (let s = 0, b = from; s <= steps; s++, b *= ratio) {
      const result = runFixed(log, limit, b / mean);
      if (result.clicks > best.clicks || (result.clicks === best.clicks && result.spend < best.spend)) {
        best = { baseBid: b, ...result };
        bestStep = s;
      }
    }
    return bestStep < 0 ? 1 : ratio;
  };
  const ratio = search(lo, Math.max(hi, lo * 1.0001), 160);
  const center = best.baseBid;
  search(center / ratio, center * ratio, 160);
  return best;
}
