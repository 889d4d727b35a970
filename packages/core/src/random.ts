import { ensure } from './errors.js';
import { fmix32 } from './hash-mix.js';

/**
 * A seeded pseudo-random source: small-fast-counter (sfc32), seeded through splitmix32. Pure
 * 32-bit integer arithmetic, so a seed gives the same sequence in Node and in every browser.
 *
 * @example
 * ```ts
 * import { createRandom } from '@ctrkit/core';
 * const random = createRandom(42);
 * const coin = random.next() < 0.5;
 * ```
 */
export interface Random {
  /** A float in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** A float in [0, 1) with 53 bits of resolution (two draws). */
  nextDouble(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A float in [min, max). */
  uniform(min: number, max: number): number;
  /** A standard normal draw (mean 0, standard deviation 1). */
  normal(): number;
  /** `true` with probability `p`. */
  bernoulli(p: number): boolean;
  /** An exponential draw with the given rate (mean 1 / rate). */
  exponential(rate: number): number;
  /** A new independent generator derived from this one's seed and `stream`; does not advance this one. */
  fork(stream: number | string): Random;
  /** The generator's state, to resume it later with {@link restoreRandom}. */
  state(): RandomState;
}

/** Serializable state of a {@link Random}.
 *
 * @example
 * ```ts
 * import { createRandom, type RandomState } from '@ctrkit/core';
 * const saved: RandomState = createRandom(1).state();
 * ```
 */
export interface RandomState {
  /** First word of sfc32's state. */
  readonly a: number;
  /** Second word. */
  readonly b: number;
  /** Third word. */
  readonly c: number;
  /** The counter. */
  readonly d: number;
  /** The seed the generator was created from (forks derive from it). */
  readonly seed: number;
}

/**
 * Hashes a string to a 32-bit seed (FNV-1a over UTF-16 code units, then splitmix-finalized).
 *
 * @param text - Any string.
 * @returns An unsigned 32-bit integer.
 * @example
 * ```ts
 * import { seedFromString } from '@ctrkit/core';
 * const seed = seedFromString('campaign-7');
 * ```
 */
export function seedFromString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32(h >>> 0);
}

/** splitmix32's output step: the golden-ratio increment, then MurmurHash3's finalizer. */
function splitmix32(x: number): number {
  return fmix32((x + 0x9e3779b9) | 0);
}

class Sfc32 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  constructor(
    private readonly seed: number,
    state?: RandomState,
  ) {
    if (state) {
      this.a = state.a | 0;
      this.b = state.b | 0;
      this.c = state.c | 0;
      this.d = state.d | 0;
      return;
    }
    this.a = splitmix32(seed);
    this.b = splitmix32(this.a ^ 0x6a09e667);
    this.c = splitmix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    // Discard the first outputs: sfc32's authors recommend warming up after seeding.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  private nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  nextDouble(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(maxExclusive: number): number {
    ensure(
      Number.isInteger(maxExclusive) && maxExclusive > 0,
      'E_INPUT',
      () => `random.int needs a positive integer bound, got ${maxExclusive}`,
    );
    return Math.floor(this.next() * maxExclusive);
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const spare = this.spareNormal;
      this.spareNormal = Number.NaN;
      return spare;
    }
    // Marsaglia's polar method: two normals per accepted pair, no trigonometry.
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return u * factor;
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }

  fork(stream: number | string): Random {
    const salt = typeof stream === 'number' ? splitmix32(stream >>> 0) : seedFromString(stream);
    return new Sfc32(splitmix32((this.seed ^ salt) >>> 0));
  }

  state(): RandomState {
    return { a: this.a, b: this.b, c: this.c, d: this.d, seed: this.seed };
  }
}

/**
 * Creates a seeded {@link Random}.
 *
 * @param seed - A number (its low 32 bits are used) or a string.
 * @returns A generator whose sequence depends only on `seed`.
 * @example
 * ```ts
 * import { createRandom } from '@ctrkit/core';
 * const a = createRandom('demo');
 * const b = createRandom('demo');
 * console.log(a.next() === b.next()); // true
 * ```
 */
export function createRandom(seed: number | string = 0): Random {
  const numeric = typeof seed === 'string' ? seedFromString(seed) : seed >>> 0;
  ensure(typeof seed === 'string' || Number.isFinite(seed), 'E_INPUT', () => `seed must be finite, got ${seed}`);
  return new Sfc32(numeric);
}

/**
 * Resumes a generator from a saved {@link RandomState}.
 *
 * @param state - What `random.state()` returned.
 * @returns A generator that continues the saved sequence.
 * @example
 * ```ts
 * import { createRandom, restoreRandom } from '@ctrkit/core';
 * const random = createRandom(3);
 * const resumed = restoreRandom(random.state());
 * console.log(random.next() === resumed.next()); // true
 * ```
 */
export function restoreRandom(state: RandomState): Random {
  return new Sfc32(state.seed >>> 0, state);
}
