import fc from 'fast-check';
import murmurHash3 from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { hashFeature, murmur3, murmur3Bytes } from '../src/index.js';
import { hashAfter, hashAfter2, hashAfter3, prefixState, toId, inverseOf } from '../src/hash.js';

const utf8 = new TextEncoder();
const oracle = (text: string, seed: number) => murmurHash3.x86.hash32(utf8.encode(text), seed);

describe('murmur3 (x86_32 over UTF-8)', () => {
  it('matches published test vectors', () => {
    // Vectors from the reference SMHasher implementation (as listed by many ports).
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3('test', 0)).toBe(0xba6bd213);
    expect(murmur3('Hello, world!', 0)).toBe(0xc0363e43);
    expect(murmur3('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
    expect(murmur3Bytes(Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0)).toBe(0xf55b516b);
    expect(murmur3Bytes(Uint8Array.of(0x21, 0x43, 0x65), 0)).toBe(0x7e4a8634);
  });

  it('is bit-identical to murmurhash3js-revisited on random Unicode strings, emoji and lone surrogates', () => {
    const anyUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), anyUnits, fc.string({ maxLength: 60 }));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => {
        expect(murmur3(s, seed)).toBe(oracle(s, seed));
        expect(murmur3Bytes(utf8.encode(s), seed)).toBe(oracle(s, seed));
      }),
      { numRuns: 3000, seed: 1 },
    );
  });

  it('handles the encodings edge by edge', () => {
    const cases = ['a', 'ab', 'abc', 'abcd', 'abcde', 'é', '€', '\u07ff', '\u0800', '\uffff', '😀', 'x😀y', '\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\ud83d', 'ab\ud83d', '\u0001\u0000'];
    for (const s of cases) for (const seed of [0, 1, 42, 0x9747b28c, 0xffffffff]) expect(murmur3(s, seed), JSON.stringify(s)).toBe(oracle(s, seed));
  });

  it('hashFeature hashes field + "\\u0001" + value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.nat(), (field, value, seed) => {
        expect(hashFeature(field, value, seed)).toBe(oracle(`${field}\u0001${value}`, seed));
      }),
      { numRuns: 1000, seed: 2 },
    );
  });

  it('hashes cross keys part by part exactly as the joined string (the encoder\'s no-allocation path)', () => {
    const part = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 9 }).map((u) => String.fromCharCode(...u)));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 9 }), part, part, part, fc.nat(), (field, a, b, c, seed) => {
        const prefix = prefixState(field, seed);
        // The internal hashes are signed int32 (no boxing); >>> 0 gives the unsigned value.
        expect(hashAfter(prefix, a) >>> 0).toBe(oracle(`${field}\u0001${a}`, seed));
        expect(hashAfter2(prefix, a, b) >>> 0).toBe(oracle(`${field}\u0001${a}\u0002${b}`, seed));
        expect(hashAfter3(prefix, a, b, c) >>> 0).toBe(oracle(`${field}\u0001${a}\u0002${b}\u0002${c}`, seed));
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it('maps a signed hash to 1 + (uint32 mod m) exactly, through the reciprocal', () => {
    const check = (h: number, m: number): void => {
      expect(toId(h | 0, m, inverseOf(m))).toBe(1 + ((h >>> 0) % m));
    };
    for (const m of [1, 2, 3, 1023, 1 << 20, 1_000_003, 2 ** 30, 2 ** 30 + 1, 2 ** 31 - 2, 2 ** 31 - 1]) {
      for (const h of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32 - 2, m, m - 1, 2 ** 31 + m]) check(h, m);
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 2 }), check), { numRuns: 20_000, seed: 5 });
  });

  it('rejects seeds outside uint32', () => {
    expect(() => murmur3('x', -1)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => murmur3('x', 2 ** 32)).toThrow(/seed/);
    expect(() => murmur3('x', 1.5)).toThrow(/seed/);
  });
});
