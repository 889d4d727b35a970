import fc from 'fast-check';
import murmurHash3 from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { hashFeature, murmur3, murmur3Bytes } from '../src/index.js';

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

  it('rejects seeds outside uint32', () => {
    expect(() => murmur3('x', -1)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => murmur3('x', 2 ** 32)).toThrow(/seed/);
    expect(() => murmur3('x', 1.5)).toThrow(/seed/);
  });
});
