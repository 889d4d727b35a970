import { describe, expect, it } from 'vitest';
import { isCtrkitError } from '@ctrkit/core';
import { createNativeRunner, initFmWeights, initLrWeights, type LrWeights } from '../src/index.js';
import { plainLayout, richLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff, probabilities, referenceFm, referenceLr } from './fixtures/reference-models.js';

describe('native runner', () => {
  const layout = richLayout();

  it('scores LR and FM like the naive forward pass, synchronously, logits and probabilities', () => {
    const lr = initLrWeights(layout, { seed: 'n-lr', scale: 0.5, biasScale: 0.2 });
    const fm = initFmWeights(layout, { seed: 'n-fm', dim: 5, scale: 0.3, biasScale: 0.2 });
    const batch = randomBatch(layout, 40, 'native');
    const lrRunner = createNativeRunner({ layout, weights: lr, version: 'v1' });
    const fmRunner = createNativeRunner({ layout, weights: fm });
    expect(maxAbsDiff(lrRunner.logitsSync(batch), referenceLr(lr, batch))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(lrRunner.predictSync(batch), probabilities(referenceLr(lr, batch)))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(fmRunner.logitsSync(batch), referenceFm(fm, batch))).toBeLessThanOrEqual(1e-5);
    expect(lrRunner.info).toEqual({ architecture: 'lr', version: 'v1', backend: 'native', provider: 'js', fingerprint: 'spec-rich' });
  });

  it('swaps weights atomically between calls, with no pause and no reload', async () => {
    const a = initLrWeights(layout, { seed: 'a', scale: 0.5 });
    const b = initLrWeights(layout, { seed: 'b', scale: 0.5 });
    const runner = createNativeRunner({ layout, weights: a });
    const batch = randomBatch(layout, 10, 'swap');
    const before = runner.predictSync(batch).slice();
    const pending = runner.predict(batch); // computed synchronously at call time: sees a
    runner.updateWeights(b, { version: 'ftrl-2', checkValues: false });
    expect(Array.from(await pending)).toEqual(Array.from(before));
    expect(maxAbsDiff(runner.predictSync(batch), probabilities(referenceLr(b, batch)))).toBeLessThanOrEqual(1e-6);
    expect(runner.weights).toBe(b);
    expect(runner.info.version).toBe('ftrl-2');
  });

  it('refuses weights of another shape, architecture or with NaN, keeping the old ones', () => {
    const a = initLrWeights(layout, { seed: 'a' });
    const runner = createNativeRunner({ layout, weights: a });
    const attempts: [() => void, RegExp][] = [
      [() => runner.updateWeights(initLrWeights(plainLayout())), /do not fit the runner's layout \(idSpace 997, denseWidth 2\)/],
      [() => runner.updateWeights(initFmWeights(layout)), /scores lr weights; got fm/],
      [() => runner.updateWeights({ ...a, ids: a.ids.map((v, i) => (i === 5 ? Number.NaN : v)) } as LrWeights), /lr\.ids\[5\] is NaN/],
    ];
    for (const [attempt, message] of attempts) {
      expect(attempt).toThrow(message);
    }
    expect(runner.weights).toBe(a);
  });

  it('refuses bad batches and, after dispose, every call', async () => {
    const runner = createNativeRunner({ layout, weights: initFmWeights(layout) });
    const batch = randomBatch(layout, 2, 'bad');
    const bad = { ...batch, values: batch.values.map((v, i) => (i === 1 ? Number.NaN : v)) };
    expect(() => runner.predictSync(bad)).toThrow(/batch\.values\[row 0, column 1\] is NaN/);
    await runner.dispose();
    let error: unknown;
    try {
      runner.predictSync(batch);
    } catch (e) {
      error = e;
    }
    expect(isCtrkitError(error) && error.code).toBe('E_STATE');
    expect(() => runner.updateWeights(initFmWeights(layout))).toThrow(/disposed/);
  });
});
