import { createRandom } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import type { AuctionLog } from './auction-log.js';

/**
 * Options for {@link createSyntheticAuctionLog}.
 *
 * @example
 * ```ts
 * import type { SyntheticLogOptions } from '@ctrkit/pacing';
 * const options: SyntheticLogOptions = { rows: 100_000, seed: 7, modelNoise: 0.5 };
 * ```
 */
export interface SyntheticLogOptions {
  /** Auctions to generate (1 to 10,000,000). */
  readonly rows: number;
  /** Seed of the synthetic world and of the prices (default 1). */
  readonly seed?: number | string;
  /** Users in the synthetic world (default 5,000). */
  readonly users?: number;
  /** Start of the simulated day, epoch ms (default Monday 2026-01-05 00:00 UTC). */
  readonly startTime?: number;
  /** Label of the random stream: another label gives other auctions from the same world (default `replay`). */
  readonly stream?: string;
  /** Median market price, CPM, of an auction of average click probability (default 50). */
  readonly priceScale?: number;
  /** Standard deviation of the bidder's error on the logit scale: 0 is a perfect model (default 0.3). */
  readonly modelNoise?: number;
  /** Called every 8,192 rows with the number generated and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Generates an auction log from core's synthetic traffic (arrivals over one day following a
 * diurnal curve, a hidden click model), for replays without a real log.
 *
 * Each row is one impression opportunity of the generator: `clicks` is its sampled click,
 * `pctrs` the bidder's estimate — the true click probability blurred on the logit scale by
 * `modelNoise` — and `prices` the market price, modeled as the best competing CPM bid:
 * `priceScale × (p / mean p)^0.7 × lognormal(σ = 0.5)`, rounded to a whole CPM ≥ 1 as in the
 * iPinYou logs. Competitors value likely clicks too, so good impressions cost more, which is what
 * makes bid shading (pid, dual) beat throttling. Deterministic by seed.
 *
 * @param options - Rows, seed, world size, day, price and model-noise settings.
 * @returns A log with timestamps, in time order.
 * @throws CtrkitError `E_INPUT` on a row count outside [1, 10⁷] or a non-positive price scale or
 * negative noise.
 * @example
 * ```ts
 * import { createSyntheticAuctionLog } from '@ctrkit/pacing';
 * const log = createSyntheticAuctionLog({ rows: 1_000, seed: 3 });
 * console.log(log.size, log.timestamps !== undefined); // 1000 true
 * ```
 */
export function createSyntheticAuctionLog(options: SyntheticLogOptions): AuctionLog {
  const { rows, seed = 1, users = 5_000, stream = 'replay', priceScale = 50, modelNoise = 0.3 } = options;
  ensure(Number.isInteger(rows) && rows >= 1 && rows <= 10_000_000, 'E_INPUT', () => `rows must be an integer between 1 and 10,000,000, got ${String(rows)}`);
  ensure(Number.isFinite(priceScale) && priceScale > 0, 'E_INPUT', () => `priceScale must be positive, got ${String(priceScale)}`);
  ensure(Number.isFinite(modelNoise) && modelNoise >= 0, 'E_INPUT', () => `modelNoise must be ≥ 0, got ${String(modelNoise)}`);
  const generator = createTrafficGenerator({
    seed,
    users,
    ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
  });
  const random = createRandom(seed).fork(`auction-prices:${stream}`);
  const clicks = new Uint8Array(rows);
  const prices = new Float64Array(rows);
  const pctrs = new Float64Array(rows);
  const timestamps = new Float64Array(rows);
  const truth = new Float64Array(rows);
  let i = 0;
  let sum = 0;
  for (const row of generator.impressions({ count: rows, stream })) {
    truth[i] = row.pClick;
    sum += row.pClick;
    clicks[i] = row.clicked ? 1 : 0;
    timestamps[i] = row.request.context.timestamp;
    const p = Math.min(1 - 1e-9, Math.max(1e-9, row.pClick));
    const logit = Math.log(p / (1 - p)) + modelNoise * random.normal();
    pctrs[i] = 1 / (1 + Math.exp(-logit));
    i++;
    if (options.onProgress !== undefined && (i & 8191) === 0) options.onProgress(i, rows);
  }
  const mean = sum / rows;
  for (let k = 0; k < rows; k++) {
    const competing = priceScale * Math.pow((truth[k] as number) / mean, 0.7) * Math.exp(0.5 * random.normal());
    prices[k] = Math.max(1, Math.round(competing));
  }
  options.onProgress?.(rows, rows);
  return { source: `synthetic:${rows}:${String(seed)}`, size: rows, clicks, prices, pctrs, timestamps };
}
