import { auc, type FeatureBatch } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createFmTrainer, createFtrlTrainer, type FmWeights } from '../src/index.js';
import type { FtrlOptions } from '../src/train/ftrl.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { CRITEO_PATH, criteoSplit } from './fixtures/criteo-split.js';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { randomBatch, randomLabels, rowOf } from './fixtures/random-batches.js';
import { referenceFm } from './fixtures/reference-models.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** The FM trainer's internal gradient hook. */
interface WithGradient {
  logitGradient(batch: FeatureBatch, r: number): { logit: number; coords: Int32Array; factorGradient: Float64Array };
}

function batchWithDuplicates(rows: number, seed: string): FeatureBatch {
  const batch = randomBatch(richLayout(), rows, seed);
  const { idWidth } = batch.layout;
  for (let r = 0; r < rows; r += 2) batch.ids[r * idWidth + 5] = batch.ids[r * idWidth + 0]!;
  return batch;
}

/** Logit of row r of `batch` under `weights` with one factor entry replaced. */
function logitWith(weights: FmWeights, batch: FeatureBatch, r: number, index: number, value: number, dense: boolean): number {
  const idFactors = weights.idFactors.slice();
  const denseFactors = weights.denseFactors.slice();
  (dense ? denseFactors : idFactors)[index] = value;
  return referenceFm({ ...weights, idFactors, denseFactors }, rowOf(batch, r))[0]!;
}

describe('online FM trainer', () => {
  it('scores exactly as the naive pairwise-sum FM on its exported weights', () => {
    const batch = batchWithDuplicates(50, 'fm-forward');
    const trainer = createFmTrainer(batch.layout, { dim: 4, seed: 3, initScale: 0.3 });
    trainer.update(batch, randomLabels(batch.rows, 0.3, 'fm-forward'));
    const weights = trainer.weights();
    const expected = referenceFm(weights, batch);
    const predicted = trainer.predict(batch);
    for (let r = 0; r < batch.rows; r++) expect(Math.abs(predicted[r]! - 1 / (1 + Math.exp(-expected[r]!)))).toBeLessThan(1e-6);
  });

  it('derives ∂logit/∂v by hand as the central finite difference of the naive FM (ids with duplicate columns, bags, dense)', () => {
    const batch = batchWithDuplicates(8, 'fm-grad');
    const trainer = createFmTrainer(batch.layout, { dim: 3, seed: 5, initScale: 0.5 });
    const weights = trainer.weights();
    const { idSpace } = batch.layout;
    let checked = 0;
    for (let r = 0; r < batch.rows; r++) {
      const { coords, factorGradient } = (trainer as unknown as WithGradient).logitGradient(batch, r);
      for (let j = 0; j < coords.length; j++) {
        for (let f = 0; f < 3; f++) {
          const dense = coords[j]! >= idSpace;
          const index = (dense ? coords[j]! - idSpace : coords[j]!) * 3 + f;
          const v = (dense ? weights.denseFactors : weights.idFactors)[index]!;
          // float32 steps: use the step actually taken on each side.
          const up = Math.fround(v + 1e-2);
          const down = Math.fround(v - 1e-2);
          const numeric = (logitWith(weights, batch, r, index, up, dense) - logitWith(weights, batch, r, index, down, dense)) / (up - down);
          expect(Math.abs(factorGradient[j * 3 + f]! - numeric)).toBeLessThan(1e-4 + 1e-4 * Math.abs(numeric));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('takes the AdaGrad step −η·g/√(G₀ + g²) with g = (p − y)·∂logit/∂v, and the linear part follows FTRL', () => {
    const batch = batchWithDuplicates(1, 'fm-step');
    const linear: FtrlOptions = { alpha: 0.1, beta: 1, l1: 0, l2: 0 };
    const eta = 0.05;
    const g0 = 0.5;
    const trainer = createFmTrainer(batch.layout, { dim: 2, seed: 9, initScale: 0.4, learningRate: eta, factorL2: 0, factorPrior: 0, initialAccumulator: g0, linear });
    const before = trainer.weights();
    const { logit, coords, factorGradient } = (trainer as unknown as WithGradient).logitGradient(batch, 0);
    const p = trainer.updateRow(batch, 0, 1);
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-logit)), 6);
    const after = trainer.weights();
    for (let j = 0; j < coords.length; j++) {
      if (coords[j]! >= batch.layout.idSpace) continue;
      for (let f = 0; f < 2; f++) {
        const g = (p - 1) * factorGradient[j * 2 + f]!;
        const expected = before.idFactors[coords[j]! * 2 + f]! - (eta * g) / Math.sqrt(g0 + g * g);
        expect(after.idFactors[coords[j]! * 2 + f]!).toBeCloseTo(expected, 6);
      }
    }
    // FTRL's first step from zero weights: z = g, n = g², w = −α·g / (β + |g|), with g = p − y for the intercept.
    expect(after.bias).toBeCloseTo((-(p - 1) * linear.alpha!) / (linear.beta! + Math.abs(p - 1)), 6);
  });

  it('is reproducible by seed', () => {
    const batch = batchWithDuplicates(200, 'fm-seed');
    const labels = randomLabels(batch.rows, 0.3, 'fm-seed');
    const run = (seed: number) => {
      const trainer = createFmTrainer(batch.layout, { dim: 4, seed });
      trainer.update(batch, labels);
      return trainer.weights();
    };
    const [a, b, c] = [run(1), run(1), run(2)];
    expect(Array.from(a.idFactors)).toEqual(Array.from(b.idFactors));
    expect(a.bias).toBe(b.bias);
    expect(Array.from(a.idFactors)).not.toEqual(Array.from(c.idFactors));
  });

  it('freezeFactors stops the factors and nothing else; clone is a deep copy that learns on its own', () => {
    const batch = batchWithDuplicates(300, 'fm-freeze');
    const labels = randomLabels(batch.rows, 0.3, 'fm-freeze');
    const trainer = createFmTrainer(batch.layout, { dim: 3, seed: 4, initScale: 0.2 });
    trainer.update(batch, labels);
    const copy = trainer.clone();
    const before = trainer.weights();
    expect(Array.from(copy.predict(batch))).toEqual(Array.from(trainer.predict(batch)));
    expect(copy.rowsSeen).toBe(trainer.rowsSeen);
    trainer.freezeFactors();
    expect(trainer.factorsFrozen).toBe(true);
    expect(copy.factorsFrozen).toBe(false);
    trainer.update(batch, labels);
    const after = trainer.weights();
    expect(Array.from(after.idFactors)).toEqual(Array.from(before.idFactors));
    expect(Array.from(after.denseFactors)).toEqual(Array.from(before.denseFactors));
    expect(Array.from(after.ids)).not.toEqual(Array.from(before.ids));
    // The copy was untouched by that pass, and learns its factors on its own.
    expect(Array.from(copy.weights().idFactors)).toEqual(Array.from(before.idFactors));
    copy.update(batch, labels);
    expect(Array.from(copy.weights().idFactors)).not.toEqual(Array.from(before.idFactors));
    expect(Array.from(trainer.weights().idFactors)).toEqual(Array.from(before.idFactors));
  });

  it('learns a pairwise interaction that logistic regression cannot', () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'fm-xor');
    const train = syntheticRows(layout, 40_000, { seed: 'train', interaction: 2, scale: 0.3, intercept: -1 });
    const test = syntheticRows(layout, 10_000, { seed: 'test', interaction: 2, scale: 0.3, intercept: -1 });
    const fm = createFmTrainer(layout, { dim: 4, seed: 1, learningRate: 0.05, factorL2: 0 });
    const lr = createFtrlTrainer(layout, { alpha: 0.1, l1: 0.1, l2: 0.1 });
    for (let pass = 0; pass < 3; pass++) {
      fm.update(train.rows.batch, train.rows.labels);
      lr.update(train.rows.batch, train.rows.labels);
    }
    const bayes = auc(test.rows.labels, test.truth);
    const fmAuc = auc(test.rows.labels, fm.predict(test.rows.batch));
    const lrAuc = auc(test.rows.labels, lr.predict(test.rows.batch));
    expect(bayes - fmAuc).toBeLessThan(0.02);
    expect(bayes - lrAuc).toBeGreaterThan(0.05);
  });

  it('rejects bad input and options', () => {
    const batch = batchWithDuplicates(4, 'fm-bad');
    const trainer = createFmTrainer(batch.layout, { dim: 2 });
    const dense = { ...batch, dense: batch.dense.slice() };
    dense.dense[1] = Number.POSITIVE_INFINITY;
    expect(codeThrownBy(() => trainer.update(dense, randomLabels(4)))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.updateRow(batch, 0, 0.5))).toBe('E_INPUT');
    expect(codeThrownBy(() => createFmTrainer(batch.layout, { dim: 0 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createFmTrainer(batch.layout, { learningRate: -1 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => trainer.weights({ ...trainer.weights(), dim: 3 }))).toBe('E_INPUT');
  });

  it.skipIf(CRITEO_PATH === undefined)('learns the Criteo sample: AUC > 0.70 on the last 2,000 rows after two passes', async () => {
    const { layout, train, test } = await criteoSplit();
    const trainer = createFmTrainer(layout, { dim: 8, learningRate: 0.005, factorL2: 0.3, seed: 1, linear: { alpha: 0.05, l1: 3, l2: 1 } });
    trainer.update(train.batch, train.labels);
    trainer.update(train.batch, train.labels);
    expect(auc(test.labels, trainer.predict(test.batch))).toBeGreaterThan(0.7);
  });
});
