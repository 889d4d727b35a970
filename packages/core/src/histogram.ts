import { ensure } from './errors.js';

/** Options for {@link createLatencyHistogram}.
 *
 * @example
 * ```ts
 * import type { LatencyHistogramOptions } from '@ctrkit/core';
 * const options: LatencyHistogramOptions = { lowestMs: 0.001, highestMs: 10_000, relativePrecision: 0.01 };
 * ```
 */
export interface LatencyHistogramOptions {
  /** Smallest distinguishable value in ms (default 0.001 = 1 µs). */
  readonly lowestMs?: number;
  /** Largest tracked value in ms; larger values land in the top bucket (default 60,000). */
  readonly highestMs?: number;
  /** Relative width of a bucket (default 0.01: percentiles within 1%). */
  readonly relativePrecision?: number;
}

/**
 * A log-bucketed latency histogram: O(1) `record` with no allocation, percentiles within the
 * configured relative precision, mergeable across workers.
 *
 * @example
 * ```ts
 * import { createLatencyHistogram } from '@ctrkit/core';
 * const histogram = createLatencyHistogram();
 * for (const ms of [0.2, 0.3, 5]) histogram.record(ms);
 * console.log(histogram.percentile(0.5).toFixed(2)); // 0.30
 * ```
 */
export interface LatencyHistogram {
  /** Records one value in ms (negative and NaN values are ignored and counted as invalid). */
  record(ms: number): void;
  /** The value at quantile `q` in [0, 1] (NaN when empty). */
  percentile(q: number): number;
  /** Values recorded. */
  count(): number;
  /** Values rejected as negative or NaN. */
  invalid(): number;
  /** Mean of recorded values (exact). */
  mean(): number;
  /** Smallest recorded value (exact). */
  min(): number;
  /** Largest recorded value (exact). */
  max(): number;
  /** Sum of recorded values (exact). */
  sum(): number;
  /** Adds another histogram with the same options into this one. */
  merge(other: LatencyHistogram): void;
  /** Forgets everything. */
  reset(): void;
  /** @internal Raw bucket counts, for merging. */
  readonly buckets: Float64Array;
}

/**
 * Creates a {@link LatencyHistogram}.
 *
 * @param options - Range and precision.
 * @returns An empty histogram.
 * @throws {@link CtrkitError} `E_CONFIG` on a non-positive or inverted range or precision.
 * @example
 * ```ts
 * import { createLatencyHistogram } from '@ctrkit/core';
 * const histogram = createLatencyHistogram({ highestMs: 1_000 });
 * histogram.record(1.5);
 * console.log(histogram.count()); // 1
 * ```
 */
export function createLatencyHistogram(options: LatencyHistogramOptions = {}): LatencyHistogram {
  const { lowestMs = 0.001, highestMs = 60_000, relativePrecision = 0.01 } = options;
  ensure(lowestMs > 0 && highestMs > lowestMs, 'E_CONFIG', () => `need 0 < lowestMs < highestMs, got ${lowestMs}, ${highestMs}`);
  ensure(relativePrecision > 0 && relativePrecision < 1, 'E_CONFIG', () => `relativePrecision must be in (0, 1), got ${relativePrecision}`);
  const logBase = Math.log1p(relativePrecision);
  // Bucket 0 holds [0, lowest); bucket k ≥ 1 holds [lowest·(1+r)^(k−1), lowest·(1+r)^k).
  const size = Math.ceil(Math.log(highestMs / lowestMs) / logBase) + 2;
  const buckets = new Float64Array(size);
  let total = 0;
  let rejected = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;

  const bucketOf = (ms: number): number =>
    ms < lowestMs ? 0 : Math.min(size - 1, 1 + Math.floor(Math.log(ms / lowestMs) / logBase));
  const bucketValue = (k: number): number => (k === 0 ? lowestMs / 2 : lowestMs * Math.exp((k - 0.5) * logBase));

  return {
    buckets,
    record(ms: number) {
      if (!(ms >= 0)) {
        rejected++;
        return;
      }
      const k = bucketOf(ms);
      buckets[k] = (buckets[k] as number) + 1;
      total++;
      sum += ms;
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    },
    percentile(q: number) {
      if (total === 0) return Number.NaN;
      const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
      let seen = 0;
      for (let k = 0; k < size; k++) {
        seen += buckets[k] as number;
        if (seen >= rank) return Math.min(max, Math.max(min, bucketValue(k)));
      }
      return max;
    },
    count: () => total,
    invalid: () => rejected,
    mean: () => (total === 0 ? Number.NaN : sum / total),
    min: () => (total === 0 ? Number.NaN : min),
    max: () => (total === 0 ? Number.NaN : max),
    sum: () => sum,
    merge(other: LatencyHistogram) {
      ensure(other.buckets.length === size, 'E_INPUT', () => 'cannot merge histograms with different options');
      for (let k = 0; k < size; k++) buckets[k] = (buckets[k] as number) + (other.buckets[k] as number);
      total += other.count();
      rejected += other.invalid();
      sum += other.sum();
      if (other.count() > 0) {
        min = Math.min(min, other.min());
        max = Math.max(max, other.max());
      }
    },
    reset() {
      buckets.fill(0);
      total = 0;
      rejected = 0;
      sum = 0;
      min = Number.POSITIVE_INFINITY;
      max = Number.NEGATIVE_INFINITY;
    },
  };
}
