/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of JavaScript strings, without building the bytes.
 *
 * The string path encodes UTF-16 code units to UTF-8 on the fly (lone surrogates become U+FFFD,
 * exactly as `TextEncoder` and `Buffer.from` do), so the result is bit-identical to hashing
 * `new TextEncoder().encode(text)` with `murmurhash3js-revisited`. The tests hold it to that oracle.
 */
import { CtrkitError } from '@ctrkit/core';
import { fmix32 } from '@ctrkit/core/internal';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * Where a partial hash stands: `[h1, pending block, pending byte count, total byte count]`.
 *
 * @internal
 */
export type HashState = Int32Array;

/**
 * Absorbs the UTF-8 bytes of `text` into `state` (in place). Compile-time use (prefixes); the hot
 * paths below keep their state in locals, which V8 keeps in registers.
 *
 * @internal
 */
export function absorb(state: HashState, text: string): void {
  hashParts(state[0] as number, state[1] as number, state[2] as number, state[3] as number, text, '', '', '', '', 1, false);
  state[0] = partsH;
  state[1] = partsK;
  state[2] = partsN;
  state[3] = partsLen;
}

/** Where `hashParts` leaves its state when asked not to finish (compile-time only). */
let partsH = 0;
let partsK = 0;
let partsN = 0;
let partsLen = 0;

/**
 * The core: continues a hash from (h, k, n, len) over up to five strings in a row, then finishes
 * it (or, with `finishIt` false, parks the state in module variables). Locals only: no typed-array
 * state in the loop. Four ASCII characters on a block boundary go through as one block — Criteo's
 * hex tokens and most ids are ASCII, so that branch carries the hot path.
 */
function hashParts(h: number, k: number, n: number, len: number, p0: string, p1: string, p2: string, p3: string, p4: string, parts: number, finishIt: boolean): number {
  for (let part = 0; part < parts; part++) {
    const text = part === 0 ? p0 : part === 1 ? p1 : part === 2 ? p2 : part === 3 ? p3 : p4;
    const end = text.length;
    let i = 0;
    while (i < end) {
      let c = text.charCodeAt(i);
      if (n === 0 && i + 3 < end) {
        const c1 = text.charCodeAt(i + 1);
        const c2 = text.charCodeAt(i + 2);
        const c3 = text.charCodeAt(i + 3);
        if ((c | c1 | c2 | c3) < 0x80) {
          let b = c | (c1 << 8) | (c2 << 16) | (c3 << 24);
          b = Math.imul(b, C1);
          b = (b << 15) | (b >>> 17);
          h ^= Math.imul(b, C2);
          h = (h << 13) | (h >>> 19);
          h = (Math.imul(h, 5) + 0xe6546b64) | 0;
          i += 4;
          len += 4;
          continue;
        }
      }
      i++;
      let bytes: number;
      let count: number;
      if (c < 0x80) {
        bytes = c;
        count = 1;
      } else if (c < 0x800) {
        bytes = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
        count = 2;
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i < end ? text.charCodeAt(i) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          bytes = (0xf0 | (c >> 18)) | ((0x80 | ((c >> 12) & 0x3f)) << 8) | ((0x80 | ((c >> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
          count = 4;
        } else {
          // A lone surrogate: WHATWG UTF-8 encoders write U+FFFD (EF BF BD). Parts are joined by
          // ASCII separators, so a surrogate pair never straddles two parts.
          bytes = 0xef | (0xbf << 8) | (0xbd << 16);
          count = 3;
        }
      } else {
        bytes = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
        count = 3;
      }
      len += count;
      for (let j = 0; j < count; j++) {
        k |= (bytes & 0xff) << (n << 3);
        bytes >>>= 8;
        if (++n === 4) {
          k = Math.imul(k, C1);
          k = (k << 15) | (k >>> 17);
          h ^= Math.imul(k, C2);
          h = (h << 13) | (h >>> 19);
          h = (Math.imul(h, 5) + 0xe6546b64) | 0;
          k = 0;
          n = 0;
        }
      }
    }
  }
  if (!finishIt) {
    partsH = h;
    partsK = k;
    partsN = n;
    partsLen = len;
    return 0;
  }
  if (n > 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  // Signed: an int32 stays a small integer in V8, where an unsigned value above 2^31 would be boxed.
  return fmix32(h ^ len) | 0;
}

/**
 * Finishes a hash: tail block, length, final avalanche. Returns the hash as a signed int32 (as do
 * `hashAfter*`); `>>> 0` gives the unsigned value.
 *
 * @internal
 */
export function finish(state: HashState): number {
  return hashParts(state[0] as number, state[1] as number, state[2] as number, state[3] as number, '', '', '', '', '', 0, true);
}

/**
 * A fresh state seeded with `seed`.
 *
 * @internal
 */
export function startHash(seed: number): HashState {
  const state = new Int32Array(4);
  state[0] = seed | 0;
  return state;
}

/**
 * The state after absorbing `field + "\u0001"`: each field hashes its prefix once, at compile time.
 *
 * @internal
 */
export function prefixState(field: string, seed: number): HashState {
  const state = startHash(seed);
  absorb(state, field);
  absorb(state, '\u0001');
  return state;
}

/**
 * Hashes `prefix ‖ a` without allocating.
 *
 * @internal
 */
export function hashAfter(prefix: HashState, a: string): number {
  return hashParts(prefix[0] as number, prefix[1] as number, prefix[2] as number, prefix[3] as number, a, '', '', '', '', 1, true);
}

/**
 * Hashes `prefix ‖ a ‖ "\u0002" ‖ b` (a two-way cross) without allocating.
 *
 * @internal
 */
export function hashAfter2(prefix: HashState, a: string, b: string): number {
  return hashParts(prefix[0] as number, prefix[1] as number, prefix[2] as number, prefix[3] as number, a, '\u0002', b, '', '', 3, true);
}

/**
 * Hashes `prefix ‖ a ‖ "\u0002" ‖ b ‖ "\u0002" ‖ c` (a three-way cross) without allocating.
 *
 * @internal
 */
export function hashAfter3(prefix: HashState, a: string, b: string, c: string): number {
  return hashParts(prefix[0] as number, prefix[1] as number, prefix[2] as number, prefix[3] as number, a, '\u0002', b, '\u0002', c, 5, true);
}

/**
 * `1 / modulus`, precomputed per encoder for {@link toId}.
 *
 * @internal
 */
export function inverseOf(modulus: number): number {
  return 1 / modulus;
}

/**
 * The id of a hash: `1 + (h as uint32) mod modulus`, from the signed int32 `h`, by multiplying with
 * the precomputed reciprocal. `uint32 % m` in JavaScript is a floating-point fmod (~10 ns per id,
 * a fifth of the encoder's time on Criteo rows) and an integer remainder still a division; here
 * u·(1/m) is within 2^−20 of the true quotient (u < 2^32, |error| ≤ 2^−52 relative), so its floor
 * is off by at most one, which one correction step repairs, and u − q·m < 2^33 is exact.
 *
 * @internal
 */
export function toId(h: number, modulus: number, inverse: number): number {
  const u = h >>> 0;
  const q = Math.floor(u * inverse);
  let r = u - q * modulus;
  if (r < 0) r += modulus;
  else if (r >= modulus) r -= modulus;
  return 1 + r;
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new CtrkitError('E_INPUT', `murmur3 seed must be an integer in [0, 2^32 − 1], got ${seed}`, { details: { seed } });
  }
}

/**
 * The id of a missing value of the field (or shared id space) `name`: the hash of `name +
 * "\u0000"`, its own bucket. Computed once, when a kernel is compiled.
 *
 * @internal
 */
export function missingIdOf(name: string, seed: number, modulus: number, inverse: number): number {
  const missing = startHash(seed);
  absorb(missing, name);
  absorb(missing, '\u0000');
  return toId(finish(missing), modulus, inverse);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `text`.
 *
 * @param text - Any string; lone surrogates are encoded as U+FFFD, as `TextEncoder` does.
 * @param seed - An unsigned 32-bit seed (default 0).
 * @returns The hash as an unsigned 32-bit integer, equal to
 *   `murmurHash3.x86.hash32(new TextEncoder().encode(text), seed)` from `murmurhash3js-revisited`.
 * @throws `CtrkitError` `E_INPUT` when the seed is not an integer in [0, 2^32 − 1].
 * @remarks Allocates nothing: the UTF-8 bytes are produced and consumed in registers.
 * @example
 * ```ts
 * import { murmur3 } from '@ctrkit/features';
 * console.log(murmur3('hello', 0)); // 613153351
 * ```
 */
export function murmur3(text: string, seed = 0): number {
  checkSeed(seed);
  return hashParts(seed | 0, 0, 0, 0, text, '', '', '', '', 1, true) >>> 0;
}

/**
 * MurmurHash3 x86_32 of raw bytes.
 *
 * @param bytes - The bytes to hash.
 * @param seed - An unsigned 32-bit seed (default 0).
 * @returns The hash as an unsigned 32-bit integer.
 * @throws `CtrkitError` `E_INPUT` when the seed is not an integer in [0, 2^32 − 1].
 * @example
 * ```ts
 * import { murmur3Bytes } from '@ctrkit/features';
 * console.log(murmur3Bytes(new TextEncoder().encode('hello'))); // 613153351
 * ```
 */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  checkSeed(seed);
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = bytes[blocks] as number;
    if (tail > 1) k ^= (bytes[blocks + 1] as number) << 8;
    if (tail > 2) k ^= (bytes[blocks + 2] as number) << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return fmix32(h ^ bytes.length);
}

/**
 * The hash of one feature value: MurmurHash3 x86_32 of the UTF-8 bytes of `field + "\u0001" + value`.
 * This is the contract training and serving share; the encoder computes the same number without
 * building the concatenated string.
 *
 * @param field - The field's name.
 * @param value - The value's token (as the encoder renders it: strings as they are, numbers by `String(n)`).
 * @param seed - The spec's seed.
 * @returns The hash as an unsigned 32-bit integer.
 * @throws `CtrkitError` `E_INPUT` when the seed is not an integer in [0, 2^32 − 1].
 * @example
 * ```ts
 * import { hashFeature, murmur3 } from '@ctrkit/features';
 * console.log(hashFeature('country', 'FR', 7) === murmur3('country\u0001FR', 7)); // true
 * ```
 */
export function hashFeature(field: string, value: string, seed = 0): number {
  checkSeed(seed);
  return hashAfter(prefixState(field, seed), value) >>> 0;
}
