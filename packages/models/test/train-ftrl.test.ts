import { auc, logLoss, type FeatureBatch } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createFtrlTrainer, createNativeRunner, type FtrlSettings } from '../src/index.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { CRITEO_PATH, criteoSplit } from './fixtures/criteo-split.js';
import { richLayout } from './fixtures/layouts.js';
import { randomBatch, randomLabels } from './fixtures/random-batches.js';
import { referenceLr } from './fixtures/reference-models.js';

/**
 * McMahan et al. (2013), Algorithm 1, written as plainly as possible: a map from coordinate to
 * (z, n), the row's features as a map from coordinate to summed value, the weight of each
 * coordinate recomputed from the closed form, float64 throughout. The intercept is a coordinate
 * without L1 or L2.
 */
class ReferenceFtrl {
  readonly z = new Map<string, number>();
  readonly n = new Map<string, number>();
  constructor(private readonly s: FtrlSettings) {}

  weight(key: string): number {
    const z = this.z.get(key) ?? 0;
    const n = this.n.get(key) ?? 0;
    const l1 = key === 'bias' ? 0 : this.s.l1;
    const l2 = key === 'bias' ? 0 : this.s.l2;
    if (Math.abs(z) <= l1) return 0;
    return (-1 / ((this.s.beta + Math.sqrt(n)) / this.s.alpha + l2)) * (z - Math.sign(z) * l1);
  }

  features(batch: FeatureBatch, r: number): Map<string, number> {
    const x = new Map<string, number>([['bias', 1]]);
    const { idWidth, denseWidth } = batch.layout;
    for (let c = 0; c < idWidth; c++) {
      const v = batch.values[r * idWidth + c]!;
      if (v !== 0) x.set(`id:${batch.ids[r * idWidth + c]}`, (x.get(`id:${batch.ids[r * idWidth + c]}`) ?? 0) + v);
    }
    for (let d = 0; d < denseWidth; d++) {
      const v = batch.dense[r * denseWidth + d]!;
      if (v !== 0) x.set(`dense:${d}`, v);
    }
    return x;
  }

  learn(batch: FeatureBatch, r: number, y: number): number {
    const x = this.features(batch, r);
    const w = new Map<string, number>();
    let dot = 0;
    for (const [key, value] of x) {
      w.set(key, this.weight(key));
      dot += w.get(key)! * value;
    }
    const p = 1 / (1 + Math.exp(-dot));
    for (const [key, value] of x) {
      const g = (p - y) * value;
      const n = this.n.get(key) ?? 0;
      const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / this.s.alpha;
      this.z.set(key, (this.z.get(key) ?? 0) + g - sigma * w.get(key)!);
      this.n.set(key, n + g * g);
    }
    return p;
  }
}

/** A rich batch with forced duplicate ids inside rows (two columns, one id) and zero-valued padding. */
function batchWithDuplicates(rows: number, seed: string): FeatureBatch {
  const batch = randomBatch(richLayout(), rows, seed);
  const { idWidth } = batch.layout;
  for (let r = 0; r < rows; r += 3) batch.ids[r * idWidth + 5] = batch.ids[r * idWidth + 0]!; // cross column = country column
  for (let i = 0; i < batch.ids.length; i++) batch.ids[i] = batch.ids[i]! % 40; // few ids: coordinates recur across rows
  return batch;
}

describe('FTRL-Proximal trainer', () => {
  const settings: FtrlSettings = { alpha: 0.3, beta: 1, l1: 0.5, l2: 0.7 };

  it('matches a straightforward implementation of McMahan et al. Algorithm 1 (predictions and weights)', () => {
    const batch = batchWithDuplicates(400, 'ftrl-ref');
    const labels = randomLabels(batch.rows, 0.35, 'ftrl-ref');
    const trainer = createFtrlTrainer(batch.layout, settings);
    const reference = new ReferenceFtrl(settings);
    const progressive = trainer.update(batch, labels);
    for (let r = 0; r < batch.rows; r++) {
      // Tolerance: the trainer returns float32 probabilities.
      expect(Math.abs(progressive[r]! - reference.learn(batch, r, labels[r]!))).toBeLessThan(1e-6);
    }
    const weights = trainer.weights();
    let nonZero = 0;
    for (let id = 0; id < batch.layout.idSpace; id++) {
      const expected = reference.weight(`id:${id}`);
      expect(Math.abs(weights.ids[id]! - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
      if (expected !== 0) nonZero++;
    }
    for (let d = 0; d < batch.layout.denseWidth; d++) expect(weights.dense[d]).toBeCloseTo(reference.weight(`dense:${d}`), 6);
    expect(weights.bias).toBeCloseTo(reference.weight('bias'), 6);
    expect(nonZero).toBeGreaterThan(5); // the comparison covered learned weights, not only zeros
    expect(trainer.rowsSeen).toBe(400);
  });

  it('updateRow and update give the same state; predict uses the lazy weights', () => {
    const batch = batchWithDuplicates(120, 'ftrl-rows');
    const labels = randomLabels(batch.rows, 0.4, 'ftrl-rows');
    const a = createFtrlTrainer(batch.layout, settings);
    const b = createFtrlTrainer(batch.layout, settings);
    a.update(batch, labels);
    for (let r = 0; r < batch.rows; r++) b.updateRow(batch, r, labels[r]!);
    expect(Array.from(b.weights().ids)).toEqual(Array.from(a.weights().ids));
    const fromWeights = referenceLr(a.weights(), batch).map((z) => 1 / (1 + Math.exp(-z)));
    const predicted = a.predict(batch);
    for (let r = 0; r < batch.rows; r++) expect(Math.abs(predicted[r]! - fromWeights[r]!)).toBeLessThan(1e-6);
  });

  it('L1 makes weights exactly zero; without L1 every touched coordinate moves', () => {
    const batch = batchWithDuplicates(300, 'ftrl-l1');
    const labels = randomLabels(batch.rows, 0.3, 'ftrl-l1');
    const sparse = createFtrlTrainer(batch.layout, { ...settings, l1: 20 });
    const dense = createFtrlTrainer(batch.layout, { ...settings, l1: 0 });
    sparse.update(batch, labels);
    dense.update(batch, labels);
    const count = (ids: Float32Array) => ids.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
    expect(count(sparse.weights().ids)).toBeLessThan(count(dense.weights().ids) / 4);
    expect(count(dense.weights().ids)).toBeGreaterThan(30);
  });

  it('hands weights to a native runner that swaps them in (double-buffered) and scores as the trainer does', () => {
    const batch = batchWithDuplicates(64, 'ftrl-swap');
    const labels = randomLabels(batch.rows, 0.3, 'ftrl-swap');
    const trainer = createFtrlTrainer(batch.layout, settings);
    const buffers = [trainer.weights(), trainer.weights()];
    const runner = createNativeRunner({ layout: batch.layout, weights: buffers[0]! });
    for (let round = 1; round <= 4; round++) {
      trainer.update(batch, labels);
      const next = trainer.weights(buffers[round % 2]);
      runner.updateWeights(next, { version: `ftrl-${round}`, checkValues: false });
      const served = runner.predictSync(batch);
      const own = trainer.predict(batch);
      for (let r = 0; r < batch.rows; r++) expect(Math.abs(served[r]! - own[r]!)).toBeLessThan(1e-6);
    }
    expect(runner.info.version).toBe('ftrl-4');
  });

  it('forget keeps every weight and the intercept, and makes the next rows move the weights further', () => {
    const batch = batchWithDuplicates(300, 'ftrl-forget');
    const labels = randomLabels(batch.rows, 0.3, 'ftrl-forget');
    const kept = createFtrlTrainer(batch.layout, settings);
    const forgot = createFtrlTrainer(batch.layout, settings);
    kept.update(batch, labels);
    forgot.update(batch, labels);
    forgot.forget(0.05);
    const before = kept.weights();
    const after = forgot.weights();
    expect(Math.abs(after.bias - before.bias)).toBeLessThan(1e-6);
    let learned = 0;
    for (let i = 0; i < before.ids.length; i++) {
      expect(Math.abs(after.ids[i]! - before.ids[i]!)).toBeLessThan(1e-6);
      if (before.ids[i] !== 0) learned++;
    }
    expect(learned).toBeGreaterThan(30); // the comparison covered learned weights
    const predicted = forgot.predict(batch);
    const own = kept.predict(batch);
    for (let r = 0; r < batch.rows; r++) expect(Math.abs(predicted[r]! - own[r]!)).toBeLessThan(1e-6);
    // A few of the same rows again, all clicked (the world drifted): the trainer that forgot moves
    // its weights further (its per-coordinate rates recovered).
    for (let r = 0; r < 20; r++) {
      kept.updateRow(batch, r, 1);
      forgot.updateRow(batch, r, 1);
    }
    const moved = (w: Float32Array) => w.reduce((sum, x, i) => sum + Math.abs(x - before.ids[i]!), 0);
    expect(moved(forgot.weights().ids)).toBeGreaterThan(1.25 * moved(kept.weights().ids));
    const same = Array.from(kept.weights().ids);
    kept.forget(1); // nothing to forget
    expect(Array.from(kept.weights().ids)).toEqual(same);
    for (const bad of [0, -0.5, 1.5, Number.NaN]) expect(codeThrownBy(() => kept.forget(bad))).toBe('E_INPUT');
  });

  it('rejects bad input with CtrkitError and keeps the rows before it', () => {
    const batch = batchWithDuplicates(10, 'ftrl-bad');
    const trainer = createFtrlTrainer(batch.layout, settings);
    const labels = randomLabels(10);
    labels[3] = 2;
    expect(codeThrownBy(() => trainer.update(batch, labels))).toBe('E_INPUT');
    const nan = { ...batch, values: batch.values.slice() };
    nan.values[2 * batch.layout.idWidth + 1] = Number.NaN;
    expect(codeThrownBy(() => trainer.update(nan, randomLabels(10)))).toBe('E_INPUT');
    expect(trainer.rowsSeen).toBe(2);
    const outside = { ...batch, ids: batch.ids.slice() };
    outside.ids[0] = batch.layout.idSpace;
    expect(codeThrownBy(() => trainer.updateRow(outside, 0, 1))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.update({ ...batch, layout: richLayout('another-spec') }, randomLabels(10)))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.update(batch, randomLabels(3)))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.updateRow(batch, 10, 0))).toBe('E_INPUT');
    expect(codeThrownBy(() => createFtrlTrainer(batch.layout, { alpha: 0 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createFtrlTrainer(batch.layout, { l1: -1 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createFtrlTrainer(batch.layout, { beta: Number.NaN }))).toBe('E_CONFIG');
  });

  it.skipIf(CRITEO_PATH === undefined)('learns the Criteo sample: 8,000 rows in time order, two passes, AUC > 0.70 on the last 2,000', async () => {
    const { layout, train, test } = await criteoSplit();
    const trainer = createFtrlTrainer(layout, { alpha: 0.05, beta: 1, l1: 1, l2: 1 });
    trainer.update(train.batch, train.labels);
    trainer.update(train.batch, train.labels);
    const p = trainer.predict(test.batch);
    expect(auc(test.labels, p)).toBeGreaterThan(0.7);
    expect(logLoss(test.labels, p)).toBeLessThan(0.5);
  });
});
