/** The scratch pool lends a buffer to one caller at a time and reuses it once given back. */
import { describe, expect, it } from 'vitest';
import { ScratchPool } from '../src/scratch-pool.js';

describe('ScratchPool', () => {
  it('reuses a buffer given back, grows by doubling, and never lends one buffer twice at once', () => {
    const pool = new ScratchPool(2);
    const a = pool.take(10);
    expect(a.length).toBe(10);
    const b = pool.take(10);
    expect(b).not.toBe(a); // a is still lent
    pool.give(a);
    expect(pool.take(8)).toBe(a); // big enough: reused
    pool.give(a);
    const grown = pool.take(15);
    expect(grown).not.toBe(a);
    expect(grown.length).toBe(20); // max(15, 2 × 10)
  });

  it('keeps at most `keep` buffers', () => {
    const pool = new ScratchPool(1);
    const a = pool.take(4);
    const b = pool.take(4);
    pool.give(a);
    pool.give(b); // dropped: the pool already holds one
    expect(pool.take(4)).toBe(a);
    expect(pool.take(4)).not.toBe(b);
  });
});
