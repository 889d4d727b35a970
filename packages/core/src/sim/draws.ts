/**
 * The random draws the synthetic world is built from: weighted and Zipf-distributed indices,
 * uniform picks.
 */
import type { Random } from '../random.js';

/** @internal Index of a weighted draw. */
export function drawWeighted(random: Random, cumulative: Float64Array): number {
  const total = cumulative[cumulative.length - 1] as number;
  const u = random.next() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** @internal Cumulative Zipf weights 1/(k+1)^s. */
export function zipfCumulative(n: number, s: number): Float64Array {
  const out = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, s);
    out[k] = total;
  }
  return out;
}

/** @internal Cumulative sums of `weights`, for {@link drawWeighted}. */
export function cumulativeOf(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    out[i] = total;
  });
  return out;
}

/** @internal A uniformly drawn item. */
export const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)] as T;
