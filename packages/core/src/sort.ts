/**
 * Sorting kernels shared by metrics and calibrators. A least-significant-digit radix sort over
 * the IEEE-754 bits beats `Array.prototype.sort` with a comparator by ~10× on a million rows,
 * which is what keeps exact AUC over 1M rows well under a second.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;
const RADIX = 1 << 16;

/**
 * Returns the permutation that sorts `values` ascending (stable; `-0` before `+0`).
 * NaN must be filtered out beforehand.
 *
 * @param values - The keys.
 * @param out - Optional buffer of at least `values.length` to receive the permutation.
 * @returns Indices `i0, i1, …` with `values[i0] ≤ values[i1] ≤ …`.
 * @remarks O(n) time in four 16-bit passes (passes whose digit never varies are skipped);
 * allocates key and scratch arrays of `n` words.
 * @example
 * ```ts
 * import { argsort } from '@ctrkit/core/internal';
 * console.log(Array.from(argsort([0.3, 0.1, 0.2]))); // [1, 2, 0]
 * ```
 */
export function argsort(values: ArrayLike<number>, out?: Uint32Array): Uint32Array {
  const n = values.length;
  const result = out && out.length >= n ? out.subarray(0, n) : new Uint32Array(n);
  const keysHi = new Uint32Array(n);
  const keysLo = new Uint32Array(n);
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  for (let i = 0; i < n; i++) {
    f64[0] = values[i] as number;
    let hi = u32[HI] as number;
    let lo = u32[LO] as number;
    // Map IEEE-754 to an unsigned order: flip every bit of negatives, only the sign of positives.
    if (hi & 0x80000000) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
    } else {
      hi = (hi | 0x80000000) >>> 0;
    }
    keysHi[i] = hi;
    keysLo[i] = lo;
    result[i] = i;
  }
  let src: Uint32Array = result;
  let dst: Uint32Array = new Uint32Array(n);
  const counts = new Uint32Array(RADIX);
  for (let pass = 0; pass < 4; pass++) {
    const keys = pass < 2 ? keysLo : keysHi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const digit = ((keys[i] as number) >>> shift) & 0xffff;
      counts[digit] = (counts[digit] as number) + 1;
    }
    // A pass whose digit is the same for every row would copy the permutation unchanged.
    const firstDigit = n > 0 ? ((keys[0] as number) >>> shift) & 0xffff : 0;
    if (counts[firstDigit] === n) continue;
    let total = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[d] as number;
      counts[d] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const index = src[i] as number;
      const digit = ((keys[index] as number) >>> shift) & 0xffff;
      const position = counts[digit] as number;
      dst[position] = index;
      counts[digit] = position + 1;
    }
    const swap = src;
    src = dst;
    dst = swap;
  }
  if (src !== result) result.set(src);
  return result;
}
