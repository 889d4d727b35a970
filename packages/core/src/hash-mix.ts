/**
 * MurmurHash3's 32-bit finalizer (fmix32): a bijection on 32-bit integers that spreads every input
 * bit over the output, for tie-break keys and the last step of the murmur3 string hashes.
 *
 * @param x - A 32-bit integer (signed or unsigned; read as unsigned).
 * @returns The mixed value, unsigned.
 * @example
 * ```ts
 * import { fmix32 } from '@ctrkit/core/internal';
 * console.log(fmix32(1)); // 1364076727
 * ```
 * @internal
 */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
