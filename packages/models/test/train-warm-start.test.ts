import { logLoss } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createDcnV2Trainer, createDeepFmTrainer, createNativeRunner, fitModel, type LrWeights } from '../src/index.js';
import { clearlyBetter, pairedLogLossGain } from '../src/train/paired-log-loss.js';
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

  it('the one-standard-error rule: a gain is clear only beyond the standard error of the paired per-row differences', () => {
    const labels = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0);
    const simpler = new Float32Array(8).fill(0.25);
    const same = pairedLogLossGain(labels, simpler, simpler);
    expect(same.gain).toBe(0);
    expect(clearlyBetter(labels, simpler, simpler)).toBe(false);
    const sharp = Float32Array.of(0.9, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1);
    expect(clearlyBetter(labels, simpler, sharp)).toBe(true);
    expect(clearlyBetter(labels, sharp, simpler)).toBe(false);
    // One lucky row among many even ones: a positive mean gain, inside its standard error.
    const lucky = simpler.slice();
    lucky[0] = 0.3;
    lucky[1] = 0.27;
    expect(pairedLogLossGain(labels, simpler, lucky).gain).toBeGreaterThan(0);
    expect(clearlyBetter(labels, simpler, lucky)).toBe(false);
  });

  it('an FM keeps the LR fitted beside it unless it beats it by one standard error: it is that LR on a linear truth, an FM on a pairwise one', () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'fm-fallback');
    const fm = { dim: 4, learningRate: 0.05, factorL2: 0, initScale: 0.05 };
    const linear = { train: syntheticRows(layout, 6000, { seed: 'lin-train', scale: 0.5 }).rows, valid: syntheticRows(layout, 3000, { seed: 'lin-valid', scale: 0.5 }).rows };
    const flat = fitModel({ model: 'fm', ...linear, epochs: 6, calibrate: false, fm, seed: 1 });
    expect(flat.linearBaseline?.kept).toBe(true);
    const lr = fitModel({ model: 'lr', ...linear, epochs: 20, calibrate: false });
    expect(flat.weights.kind).toBe('fm');
    if (flat.weights.kind !== 'fm' || lr.weights.kind !== 'lr') throw new Error('kinds');
    expect(Array.from(flat.weights.ids)).toEqual(Array.from(lr.weights.ids));
    expect(flat.weights.idFactors.every((v) => v === 0)).toBe(true);
    expect(flat.metrics.validLogLoss).toBeCloseTo(lr.metrics.validLogLoss as number, 6);
    const pairs = { train: syntheticRows(layout, 30_000, { seed: 'xor-train', interaction: 2, scale: 0.3, intercept: -1 }).rows, valid: syntheticRows(layout, 5000, { seed: 'xor-valid', interaction: 2, scale: 0.3, intercept: -1 }).rows };
    const crossed = fitModel({ model: 'fm', ...pairs, epochs: 4, calibrate: false, fm, seed: 1 });
    expect(crossed.linearBaseline?.kept).toBe(false);
    expect(crossed.metrics.validLogLoss as number).toBeLessThan(crossed.linearBaseline?.validLogLoss as number);
    if (crossed.weights.kind !== 'fm') throw new Error('kind');
    expect(crossed.weights.idFactors.some((v) => v !== 0)).toBe(true);
    // Turned off, there is no LR beside it.
    expect(fitModel({ model: 'fm', ...linear, epochs: 2, calibrate: false, fm: { ...fm, linearFallback: false }, seed: 1 }).linearBaseline).toBeUndefined();
  });
});
