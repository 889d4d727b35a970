import { auc, logLoss } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import {
  createBackendRegistry,
  createFmTrainer,
  createNativeBackend,
  createRowCollector,
  downsampleNegatives,
  exportModel,
  fitModel,
  loadModelFromBytes,
  manifestToJSON,
  sliceRows,
  takeRows,
  type FitProgress,
} from '../src/index.js';
import { createOnnxNodeBackend } from '../src/node.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { CRITEO_PATH, criteoSplit } from './fixtures/criteo-split.js';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { randomBatch, randomLabels } from './fixtures/random-batches.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

describe('row buffers', () => {
  it('collect chunks (growing by doubling), slice without copying and take rows by index', () => {
    const layout = richLayout();
    const collector = createRowCollector(layout, 3);
    const a = randomBatch(layout, 5, 'a');
    const b = randomBatch(layout, 9, 'b');
    collector.append(a, randomLabels(5, 0.5, 'a'));
    collector.append(b, randomLabels(9, 0.5, 'b'), 2, 7);
    const rows = collector.toRows();
    expect(rows.batch.rows).toBe(10);
    const w = layout.idWidth;
    expect(Array.from(rows.batch.ids.subarray(5 * w, 6 * w))).toEqual(Array.from(b.ids.subarray(2 * w, 3 * w)));
    expect(Array.from(rows.batch.sequenceLengths.subarray(5 * 2, 6 * 2))).toEqual(Array.from(b.sequenceLengths.subarray(2 * 2, 3 * 2)));
    const tail = sliceRows(rows, 6);
    expect(tail.batch.rows).toBe(4);
    expect(tail.batch.ids.buffer).toBe(rows.batch.ids.buffer);
    const picked = takeRows(rows, Int32Array.of(9, 0));
    expect(Array.from(picked.batch.dense.subarray(0, 2))).toEqual(Array.from(rows.batch.dense.subarray(18, 20)));
    expect(picked.labels[1]).toBe(rows.labels[0]);
    expect(codeThrownBy(() => collector.append(a, Float32Array.of(0, 1, 0.5, 0, 0)))).toBe('E_INPUT');
    expect(codeThrownBy(() => collector.append({ ...a, layout: richLayout('other') }, randomLabels(5)))).toBe('E_INPUT');
    expect(codeThrownBy(() => sliceRows(rows, 4, 11))).toBe('E_INPUT');
    expect(codeThrownBy(() => downsampleNegatives(rows, 0))).toBe('E_CONFIG');
  });

  it('downsampling is reproducible by seed and keeps row order', () => {
    const layout = wideLayout(3, 0, 256, 0, 'ds-order');
    const { rows } = syntheticRows(layout, 2000, { seed: 'ds' });
    const a = downsampleNegatives(rows, 0.3, 5);
    const b = downsampleNegatives(rows, 0.3, 5);
    const c = downsampleNegatives(rows, 0.3, 6);
    expect(Array.from(a.batch.ids)).toEqual(Array.from(b.batch.ids));
    expect(Array.from(a.batch.ids)).not.toEqual(Array.from(c.batch.ids));
  });
});

describe('fitModel and exportModel', () => {
  it('stops early on the validation slice and returns the best pass, whose weights score as recorded', () => {
    const layout = wideLayout(6, 0, 1 << 12, 0, 'early');
    const train = syntheticRows(layout, 3000, { seed: 'early-train', cardinality: 300, scale: 0.4 });
    const valid = syntheticRows(layout, 3000, { seed: 'early-valid', cardinality: 300, scale: 0.4 });
    // A large FM on few rows per id overfits after a pass or two.
    const result = fitModel({ model: 'fm', train: train.rows, valid: valid.rows, epochs: 12, patience: 2, fm: { dim: 16, learningRate: 0.2, factorL2: 0, initScale: 0.1, linearFallback: false }, seed: 1 });
    const losses = result.history.map((e) => e.validLogLoss!);
    expect(result.history.length).toBeLessThan(12);
    expect(result.bestEpoch).toBe(losses.indexOf(Math.min(...losses)) + 1);
    expect(result.history.length).toBe(result.bestEpoch + 2);
    expect(logLoss(valid.rows.labels, result.predict(valid.rows))).toBeCloseTo(losses[result.bestEpoch - 1]!, 5);
    expect(result.metrics.validLogLoss).toBeCloseTo(losses[result.bestEpoch - 1]!, 9);
    expect(result.calibration).toBeDefined();
    expect(result.metrics.validLogLossCalibrated).toBe(result.calibration!.logLoss[result.calibration!.kind]);
  });

  it("FM's factors learn until a pass makes validation worse; that pass is undone and the linear part goes on alone (and the refit replays it)", () => {
    const layout = wideLayout(6, 0, 1 << 12, 0, 'freeze');
    const train = syntheticRows(layout, 3000, { seed: 'freeze-train', cardinality: 300, scale: 0.4 });
    const valid = syntheticRows(layout, 3000, { seed: 'freeze-valid', cardinality: 300, scale: 0.4 });
    const fm = { dim: 16, learningRate: 0.2, factorL2: 0, factorPrior: 0, initScale: 0.1, linearFallback: false };
    const base = { model: 'fm' as const, train: train.rows, valid: valid.rows, epochs: 12, patience: 2, seed: 1 };
    const auto = fitModel({ ...base, fm });
    const always = fitModel({ ...base, fm: { ...fm, factorPasses: Infinity } });
    const undone = auto.history.filter((e) => e.undone === true);
    expect(undone).toHaveLength(1);
    const at = auto.history.indexOf(undone[0]!);
    // Every pass before it improved; it did not; after it, the pass is redone without the factors.
    for (let i = 1; i < at; i++) expect(auto.history[i]!.validLogLoss!).toBeLessThan(auto.history[i - 1]!.validLogLoss!);
    expect(undone[0]!.validLogLoss!).toBeGreaterThanOrEqual(auto.history[at - 1]!.validLogLoss!);
    expect(auto.history[at]!.validLogLoss).toBe(always.history[at]!.validLogLoss);
    expect(auto.history[at + 1]!.validLogLoss).not.toBe(always.history[at + 1]!.validLogLoss);
    expect(Math.min(...auto.history.filter((e) => !e.undone).map((e) => e.validLogLoss!))).toBeLessThanOrEqual(auto.metrics.validLogLoss!);
    expect(auto.metrics.validLogLoss!).toBeLessThan(always.metrics.validLogLoss!);
    expect(logLoss(valid.rows.labels, auto.predict(valid.rows))).toBeCloseTo(auto.metrics.validLogLoss!, 5);
    // The refit trains the factors for as many passes, then the linear part alone for the rest.
    const refit = fitModel({ ...base, fm, refit: true });
    const factorPasses = at;
    const passes = auto.bestEpoch - 1;
    const collector = createRowCollector(layout, 6000);
    collector.append(train.rows.batch, train.rows.labels);
    collector.append(valid.rows.batch, valid.rows.labels);
    const trainer = createFmTrainer(layout, { seed: 1, ...fm });
    const all = collector.toRows();
    for (let pass = 1; pass <= passes; pass++) {
      if (pass > factorPasses) trainer.freezeFactors();
      for (let start = 0; start < all.batch.rows; start += 4096) {
        const part = sliceRows(all, start, Math.min(all.batch.rows, start + 4096));
        trainer.update(part.batch, part.labels);
      }
    }
    expect(Array.from(refit.weights.kind === 'fm' ? refit.weights.idFactors : [])).toEqual(Array.from(trainer.weights().idFactors));
    expect(Array.from(refit.weights.kind === 'fm' ? refit.weights.ids : [])).toEqual(Array.from(trainer.weights().ids));
    expect(() => fitModel({ ...base, fm: { ...fm, factorPasses: 0 } })).toThrow(/factorPasses/);
  });

  it('refit trains afresh on training + validation rows for the chosen number of passes and keeps the calibrator', () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'refit');
    const train = syntheticRows(layout, 6000, { seed: 'refit-train' });
    const valid = syntheticRows(layout, 2000, { seed: 'refit-valid' });
    const options = { model: 'lr' as const, train: train.rows, valid: valid.rows, epochs: 6, patience: 1, lr: { alpha: 0.3, l1: 0, l2: 0 } };
    const plain = fitModel(options);
    const refit = fitModel({ ...options, refit: true });
    expect(refit.bestEpoch).toBe(plain.bestEpoch);
    expect(refit.trainRows).toBe(8000);
    expect(refit.metrics.refitRows).toBe(8000);
    expect(refit.calibrator?.toJSON()).toEqual(plain.calibrator?.toJSON());
    // The same as training one FTRL model on the 8,000 rows in order for bestEpoch passes.
    const collector = createRowCollector(layout, 8000);
    collector.append(train.rows.batch, train.rows.labels);
    collector.append(valid.rows.batch, valid.rows.labels);
    const expected = fitModel({ model: 'lr', train: collector.toRows(), epochs: plain.bestEpoch, lr: options.lr });
    expect(Array.from(refit.weights.kind === 'lr' ? refit.weights.ids : [])).toEqual(Array.from(expected.weights.kind === 'lr' ? expected.weights.ids : [0]));
  });

  it('reports progress, runs fixed passes without validation rows, and refuses empty or mismatched sets', () => {
    const layout = wideLayout(3, 0, 256, 0, 'progress');
    const { rows } = syntheticRows(layout, 10_000, { seed: 'p' });
    const seen: FitProgress[] = [];
    const epochs: number[] = [];
    const result = fitModel({ model: 'lr', train: rows, epochs: 2, onProgress: (p) => seen.push(p), onEpoch: (e) => epochs.push(e.epoch) });
    expect(epochs).toEqual([1, 2]);
    expect(result.history.map((e) => e.epoch)).toEqual([1, 2]);
    expect(result.bestEpoch).toBe(2);
    expect(result.calibrator).toBeUndefined();
    expect(seen.at(-1)).toEqual({ epoch: 2, epochs: 2, done: 10_000, total: 10_000 });
    expect(seen.filter((p) => p.epoch === 1).length).toBeGreaterThan(1);
    expect(codeThrownBy(() => fitModel({ model: 'lr', train: sliceRows(rows, 0, 0) }))).toBe('E_INPUT');
    const other = syntheticRows(wideLayout(3, 0, 256, 0, 'other'), 10).rows;
    expect(codeThrownBy(() => fitModel({ model: 'lr', train: rows, valid: other }))).toBe('E_INPUT');
    expect(codeThrownBy(() => fitModel({ model: 'xgboost' as 'lr', train: rows }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => fitModel({ model: 'dcnv2', train: rows, epochs: 0 }))).toBe('E_CONFIG');
  });

  it('downsamples negatives, records the correction in the calibrator, and the exported model serves calibrated probabilities', async () => {
    const layout = wideLayout(5, 0, 1 << 10, 0, 'export');
    const train = syntheticRows(layout, 40_000, { seed: 'export-train', intercept: -3 });
    const valid = syntheticRows(layout, 10_000, { seed: 'export-valid', intercept: -3 });
    const result = fitModel({ model: 'lr', train: train.rows, valid: valid.rows, epochs: 2, negativeRate: 0.2, lr: { alpha: 0.1, l1: 0, l2: 1 }, seed: 3 });
    expect(result.trainRows).toBeLessThan(train.rows.batch.rows / 3);
    expect(result.calibrator?.toJSON()).toMatchObject({ kind: 'chain', steps: [{ kind: 'downsampling', negativeRate: 0.2 }, {}] });
    const { model, manifest, profile } = exportModel(layout, result, { version: 'test-1', profileRows: train.rows, metrics: { extra: 1 }, config: { source: 'unit test' } });
    expect(manifest.metrics).toMatchObject({ extra: 1, trainRows: result.trainRows, bestEpoch: result.bestEpoch });
    expect(manifest.config).toMatchObject({ source: 'unit test', training: { bestEpoch: result.bestEpoch } });
    expect(profile?.rows).toBe(train.rows.batch.rows);
    expect((manifest.config as { featureProfile: { fields: unknown[] } }).featureProfile.fields).toHaveLength(5);
    for (const backend of [createNativeBackend(), createOnnxNodeBackend({ providers: ['cpu'] })]) {
      const registry = createBackendRegistry();
      registry.register(backend, 1);
      const loaded = await loadModelFromBytes({ model, manifest: manifestToJSON(manifest) }, { expect: layout, registry });
      const raw = await loaded.runner.predict(valid.rows.batch);
      const expected = result.predict(valid.rows);
      for (let r = 0; r < 200; r++) expect(Math.abs(raw[r]! - expected[r]!)).toBeLessThan(1e-5);
      const calibrated = loaded.calibrator.apply(raw, new Float32Array(raw.length));
      const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, x) => a + x, 0) / v.length;
      expect(Math.abs(mean(calibrated) / mean(valid.truth) - 1)).toBeLessThan(0.05);
      expect(auc(valid.rows.labels, calibrated)).toBeGreaterThan(0.7);
      await loaded.runner.dispose();
    }
  });

  it.skipIf(CRITEO_PATH === undefined)('trains DCN-v2 on the Criteo sample with early stopping and calibration (small model, fast)', async () => {
    const { train, test } = await criteoSplit(1 << 16);
    const result = fitModel({
      model: 'dcnv2',
      train: sliceRows(train, 0, 6400),
      valid: sliceRows(train, 6400),
      epochs: 3,
      dcnv2: { embeddingDim: 4, crossLayers: 1, lowRank: 8, deep: [16], batchSize: 128, learningRate: 2e-3 },
      seed: 2,
    });
    expect(result.history.length).toBeGreaterThanOrEqual(2);
    const p = result.predict(test);
    expect(auc(test.labels, p)).toBeGreaterThan(0.7);
    // The calibrator may be none (raw scores won out of fold), and then serving applies nothing.
    const calibrated = result.calibrator === undefined ? p : result.calibrator.apply(p, new Float32Array(p.length));
    expect(logLoss(test.labels, calibrated)).toBeLessThan(0.5);
  });
});
