/**
 * The online loop's forgetting: the trainer the refresher sees learns as the FTRL-LR does and then
 * scales its learning-rate memory by 0.5^(rows / halfLifeRows).
 */
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
import { createFtrlTrainer } from '@ctrkit/models';
import { describe, expect, it } from 'vitest';
import { forgetting } from '../src/forgetting.js';

const encoder = createFeatureEncoder(adRequestSpec({ idSpace: 1 << 14, store: false }));
const generator = createTrafficGenerator({ seed: 'forgetting', users: 50, candidatesPerRequest: 8 });
const batches = [...generator.requests({ count: 12 })].map(({ request }) => encoder.encode(request));
const labelsOf = (rows: number, k: number) => Float32Array.from({ length: rows }, (_, r) => ((r + k) % 5 === 0 ? 1 : 0));

describe('forgetting (the online loop’s trainer)', () => {
  it('learns each batch, then forgets 0.5^(rows / halfLifeRows) of the learning-rate memory: the same weights as forget called by hand', () => {
    const settings = { alpha: 0.15, beta: 1, l1: 1, l2: 1 };
    const inner = createFtrlTrainer(encoder.layout, settings);
    const byHand = createFtrlTrainer(encoder.layout, settings);
    const plain = createFtrlTrainer(encoder.layout, settings);
    const wrapped = forgetting(inner, 16);
    batches.forEach((batch, k) => {
      const labels = labelsOf(batch.rows, k);
      const progressive = wrapped.update(batch, labels);
      expect(Array.from(progressive)).toEqual(Array.from(byHand.update(batch, labels)));
      byHand.forget(0.5 ** (batch.rows / 16));
      plain.update(batch, labels);
    });
    expect(wrapped.rowsSeen).toBe(inner.rowsSeen);
    expect(Array.from(inner.weights().ids)).toEqual(Array.from(byHand.weights().ids));
    // It did forget: the trainer without forgetting ends elsewhere.
    const without = plain.weights().ids;
    const moved = inner.weights().ids.reduce((sum, w, i) => sum + Math.abs(w - without[i]!), 0);
    expect(moved).toBeGreaterThan(0.1);
    const last = batches.at(-1)!;
    expect(Array.from(wrapped.predict(last))).toEqual(Array.from(inner.predict(last)));
  });

  it('without a half-life it is the trainer itself; a half-life that is not positive is refused', () => {
    const trainer = createFtrlTrainer(encoder.layout);
    expect(forgetting(trainer, Number.POSITIVE_INFINITY)).toBe(trainer);
    for (const bad of [0, -1, Number.NaN]) expect(() => forgetting(trainer, bad)).toThrow(RangeError);
  });
});
