import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromMicros, MAX_AMOUNT, MICROS_PER_UNIT, toMicros } from '../src/money.js';
import { propertyOptions } from './fixtures/property-options.js';

describe('money', () => {
  it('toMicros recovers every micro count from its currency figure exactly, up to MAX_AMOUNT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT * MICROS_PER_UNIT }), (micros) => toMicros(fromMicros(micros)) === micros),
      propertyOptions(2_000, { examples: [[0], [1], [MAX_AMOUNT * MICROS_PER_UNIT], [50_000_000]] }),
    );
  });

  it('fromMicros gives the same double as the decimal literal', () => {
    expect(fromMicros(100_000)).toBe(0.1);
    expect(fromMicros(50_000_000)).toBe(50);
    expect(toMicros(0.1000000004)).toBe(100_000);
  });
});
