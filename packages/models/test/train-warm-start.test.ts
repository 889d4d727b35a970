import { logLoss } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createDcnV2Trainer, createDeepFmTrainer, createNativeRunner, fitModel, type LrWeights } from '../src/index.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

const logit = (p: number) => Math.log(p / (1 - p));

function trainedLr(layout: ReturnType<typeof richLayout>, seed: string): LrWeights {
  const { rows } = syntheticRows(layout, 3000, { seed });
  const fit = fitModel({ model: 'lr', train: rows, epochs: 2, lr: { alpha: 0.3, l1: 0, l2: 0.1 } });
  return fit.weights as LrWeights;
}

describe('warm start from a logistic regression', () => {
  it('DCN-v2 started from an LR scores exactly as the LR does (fields, bags, sequences and dense columns), low rank and full rank', () => {
    const layout = richLayout('warm-dcn');
    const lr = trainedLr(layout, 'warm-dcn');
    const batch = randomBatch(layout, 200, 'warm-dcn-score');
    const expected = createNativeRunner({ layout, weights: lr }).predictSync(batch);
    for (const lowRank of [4, undefined]) {
      const trainer = createDcnV2Trainer(layout, { embeddingDim: 4, crossLayers: 2, ...(lowRank === undefined ? {} : { lowRank }), deep: [8], warmStart: lr, seed: 3, threads: 1 });
      const got = trainer.predict(batch);
      let worst = 0;
      for (let i = 0; i < batch.rows; i++) worst = Math.max(worst, Math.abs(logit(got[i] as number) - logit(expected[i] as number)));
      expect(worst).toBeLessThan(1e-4);
      trainer.close();
    }
  });

  it('DeepFM started from an LR holds its linear part and scores as it does but for the small FM term', () => {
    const layout = richLayout('warm-deepfm');
    const lr = trainedLr(layout, 'warm-deepfm');
    const batch = randomBatch(layout, 200, 'warm-deepfm-score');
    const expected = createNativeRunner({ layout, weights: lr }).predictSync(batch);
    const trainer = createDeepFmTrainer(layout, { embeddingDim: 4, deep: [8], warmStart: lr, seed: 3, threads: 1 });
    expect(Array.from(trainer.weights().ids)).toEqual(Array.from(lr.ids));
    const got = trainer.predict(batch);
    let worst = 0;
    for (let i = 0; i < batch.rows; i++) worst = Math.max(worst, Math.abs(logit(got[i] as number) - logit(expected[i] as number)));
    expect(worst).toBeLessThan(0.01);
    trainer.close();
  });

  it('refuses an LR of another layout', () => {
    const lr = trainedLr(richLayout('warm-a'), 'warm-a');
    const other = wideLayout(3, 0, 1 << 8, 0, 'warm-b');
    expect(codeThrownBy(() => createDcnV2Trainer(other, { warmStart: lr, threads: 1 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDeepFmTrainer(other, { warmStart: lr, threads: 1 }))).toBe('E_CONFIG');
  });

  it('fitModel scores the start as pass 0 and keeps it when no pass beats it, so the model is never worse on validation than the LR', () => {
    const layout = wideLayout(6, 0, 1 << 12, 0, 'warm-fit');
    const train = syntheticRows(layout, 4000, { seed: 'warm-fit-train', cardinality: 200, scale: 0.5 });
    const valid = syntheticRows(layout, 2000, { seed: 'warm-fit-valid', cardinality: 200, scale: 0.5 });
    const lr = fitModel({ model: 'lr', train: train.rows, valid: valid.rows, epochs: 20, patience: 2, calibrate: false });
    // Adam at a rate of 1 wrecks every pass: the warm start is all that is worth keeping.
    const wrecked = { embeddingDim: 4, crossLayers: 1, lowRank: 4, deep: [8], learningRate: 1, threads: 1 };
    const warm = fitModel({ model: 'dcnv2', train: train.rows, valid: valid.rows, epochs: 3, patience: 2, calibrate: false, dcnv2: wrecked, seed: 1, warmStart: 'lr' });
    expect(warm.bestEpoch).toBe(0);
    expect(warm.warmStart?.lrPasses).toBe(lr.bestEpoch);
    expect(warm.warmStart?.validLogLoss).toBeCloseTo(lr.metrics.validLogLoss as number, 4);
    expect(warm.metrics.validLogLoss).toBeCloseTo(lr.metrics.validLogLoss as number, 4);
    expect(logLoss(valid.rows.labels, warm.predict(valid.rows))).toBeCloseTo(lr.metrics.validLogLoss as number, 4);
    expect(warm.history.every((e) => (e.validLogLoss as number) > (warm.warmStart?.validLogLoss as number))).toBe(true);
    // Without the warm start (DCN-v2's default) the same settings keep a wrecked pass.
    const cold = fitModel({ model: 'dcnv2', train: train.rows, valid: valid.rows, epochs: 3, patience: 2, calibrate: false, dcnv2: wrecked, seed: 1 });
    expect(cold.bestEpoch).toBeGreaterThan(0);
    expect(cold.warmStart).toBeUndefined();
    expect(cold.metrics.validLogLoss as number).toBeGreaterThan(lr.metrics.validLogLoss as number);
    // DeepFM starts from the LR by default; a refit of a kept start is the LR refitted on training + validation rows.
    const refit = fitModel({ model: 'deepfm', train: train.rows, valid: valid.rows, epochs: 2, patience: 2, calibrate: false, refit: true, deepfm: { embeddingDim: 4, deep: [8], learningRate: 1, threads: 1 }, seed: 1 });
    expect(refit.bestEpoch).toBe(0);
    expect(refit.trainRows).toBe(6000);
    expect(codeThrownBy(() => fitModel({ model: 'dcnv2', train: train.rows, warmStart: 'fm' as never }))).toBe('E_CONFIG');
  });
});
