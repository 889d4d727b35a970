import { auc, createRandom } from '@ctrkit/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  buildDeepFmModel,
  createDeepFmTrainer,
  createFtrlTrainer,
  exportModel,
  fitModel,
  initDeepFmWeights,
  sliceRows,
  type DeepFmWeights,
  type LabeledRows,
} from '../src/index.js';
import type { DeepFmTrainerImpl } from '../src/train/deepfm-trainer.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { CRITEO_PATH, criteoSplit } from './fixtures/criteo-split.js';
import { gradientChecker } from './fixtures/gradient-check.js';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { runSession, type OrtLike } from './fixtures/onnx-session.js';
import { richRows } from './fixtures/random-batches.js';
import { maxAbsDiff, probabilities, referenceDeepFm } from './fixtures/reference-models.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** Weights at scales where every term (linear, FM, MLP) moves the logit. */
function scaledWeights(seed: string, deep: readonly number[] = [5, 4]): DeepFmWeights {
  return initDeepFmWeights(richLayout(), { embeddingDim: 3, deep, seed, embeddingScale: 0.4, linearScale: 0.3, biasScale: 0.1 });
}

describe('DeepFM trainer', () => {
  it.each([
    ['with an MLP', [5, 4]],
    ['without an MLP', []],
  ])('computes the same probabilities as the naive float64 DeepFM, FM as the explicit pairwise sum (bags, dense, sequences; %s)', (_name, deep) => {
    const layout = richLayout();
    const weights = scaledWeights(`forward-${deep.length}`, deep);
    const trainer = createDeepFmTrainer(layout, { initial: weights, batchSize: 7 });
    const { batch } = richRows(40, 'forward');
    const expected = referenceDeepFm(layout, weights, batch);
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.5);
    // The trainer keeps float64 copies of float32 weights: agreement to float64 rounding.
    expect(maxAbsDiff(trainer.predict(batch), probabilities(expected))).toBeLessThan(1e-6);
  });

  it('derives every gradient by hand: each matches the central finite difference of the objective (both L2 terms, linear weights included)', () => {
    const layout = richLayout();
    const trainer = createDeepFmTrainer(layout, { initial: scaledWeights('gradients'), l2: 0.03, embeddingL2: 0.05 }) as unknown as DeepFmTrainerImpl;
    const rows = richRows(12, 'gradients');
    trainer.computeGradients(rows);
    const gradients = gradientChecker(() => trainer.objective(rows));
    gradients.checkParameters(trainer.params, createRandom('picks'));
    // Embedding rows and linear weights of field ids (bag columns included) and sequence items.
    const D = 3;
    const ids = new Set<number>();
    for (let c = 0; c < 6; c++) if (rows.batch.values[c] !== 0) ids.add(rows.batch.ids[c]!);
    const L = 5;
    const length = rows.batch.sequenceLengths[0]!;
    for (let t = L - length; t < L; t++) ids.add(rows.batch.sequenceIds[t]!);
    trainer.computeGradients(rows);
    const embeddingAnalytic = new Map<number, number[]>();
    const linearAnalytic = new Map<number, number>();
    for (const id of ids) {
      embeddingAnalytic.set(id, Array.from({ length: D }, (_, k) => trainer.embeddingGradient(id, k)));
      linearAnalytic.set(id, trainer.linearGradient(id));
    }
    for (const [id, grads] of embeddingAnalytic) for (let k = 0; k < D; k++) gradients.check(grads[k]!, trainer.embedding, id * D + k, `embedding[${id}, ${k}]`);
    for (const [id, grad] of linearAnalytic) gradients.check(grad, trainer.linear!, id, `linear[${id}]`);
    // An id no row touches has no gradient (and no L2 pull).
    const untouched = Array.from({ length: layout.idSpace }, (_, i) => i).find((i) => !rows.batch.ids.includes(i) && !rows.batch.sequenceIds.includes(i))!;
    expect(trainer.embeddingGradient(untouched, 0)).toBe(0);
    expect(trainer.linearGradient(untouched)).toBe(0);
    expect(gradients.checked).toBeGreaterThan(80);
  });

  it('the frequency-aware prior covers the embedding rows and the linear weights: gradients match the finite differences', () => {
    const layout = richLayout();
    const trainer = createDeepFmTrainer(layout, { initial: scaledWeights('prior'), frequencyL2: 3 }) as unknown as DeepFmTrainerImpl;
    const pass = richRows(60, 'prior-pass');
    const rows = sliceRows(pass, 0, 12);
    trainer.countPass(pass);
    trainer.computeGradients(rows);
    const D = 3;
    const ids = new Set<number>();
    for (let c = 0; c < 6; c++) if (rows.batch.values[c] !== 0) ids.add(rows.batch.ids[c]!);
    const grads = new Map<number, number[]>();
    for (const id of ids) grads.set(id, [...Array.from({ length: D }, (_, k) => trainer.embeddingGradient(id, k)), trainer.linearGradient(id)]);
    const gradients = gradientChecker(() => trainer.objective(rows));
    for (const [id, g] of grads) {
      for (let k = 0; k < D; k++) gradients.check(g[k]!, trainer.embedding, id * D + k, `embedding[${id}, ${k}]`);
      gradients.check(g[D]!, trainer.linear!, id, `linear[${id}]`);
    }
    const plain = (createDeepFmTrainer(layout, { initial: scaledWeights('prior') }) as unknown as DeepFmTrainerImpl).objective(rows);
    expect(trainer.objective(rows)).toBeGreaterThan(plain);
  });

  it.each([
    ['with an MLP', [8, 4]],
    ['without an MLP', []],
  ])('exports weights that onnxruntime-node scores as the trainer does, on random batches with bags, dense columns and sequences (%s)', async (_name, deep) => {
    const layout = richLayout();
    const train = richRows(300, 'export-train');
    const trainer = createDeepFmTrainer(layout, { embeddingDim: 4, deep, batchSize: 32, learningRate: 0.01, seed: 4 });
    trainer.trainEpoch(train);
    trainer.trainEpoch(train);
    const weights = trainer.weights();
    for (const seed of ['export-a', 'export-b', 'export-c']) {
      const { batch } = richRows(50, seed);
      const { probability, logit, inputs } = await runSession(ort as unknown as OrtLike, buildDeepFmModel(layout, weights), batch);
      expect(inputs).toContain('sequence_ids');
      const own = trainer.predict(batch);
      // float32 ONNX arithmetic against the trainer's float64 forward pass over float32-rounded-from weights.
      expect(maxAbsDiff(probability, own)).toBeLessThan(2e-6);
      expect(Math.max(...logit) - Math.min(...logit)).toBeGreaterThan(0.05);
    }
  });

  it('is reproducible by seed (initialization and shuffling)', () => {
    const layout = richLayout();
    const train = richRows(300, 'seed');
    const run = (seed: number) => {
      const trainer = createDeepFmTrainer(layout, { embeddingDim: 4, deep: [8], batchSize: 64, seed });
      trainer.trainEpoch(train);
      trainer.trainEpoch(train);
      return trainer.weights();
    };
    const [a, b, c] = [run(7), run(7), run(8)];
    expect(Array.from(a.embedding)).toEqual(Array.from(b.embedding));
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from(a.output.weight)).toEqual(Array.from(b.output.weight));
    expect(Array.from(a.output.weight)).not.toEqual(Array.from(c.output.weight));
  });

  it('learns a pairwise interaction that logistic regression cannot — with the MLP, and by its FM term alone', () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'deepfm-xor');
    const train = syntheticRows(layout, 30_000, { seed: 'train', interaction: 2, scale: 0.3, intercept: -1 });
    const test = syntheticRows(layout, 8_000, { seed: 'test', interaction: 2, scale: 0.3, intercept: -1 });
    const bayes = auc(test.rows.labels, test.truth);
    const lr = createFtrlTrainer(layout, { alpha: 0.1, l1: 0.1, l2: 0.1 });
    for (let pass = 0; pass < 3; pass++) lr.update(train.rows.batch, train.rows.labels);
    expect(bayes - auc(test.rows.labels, lr.predict(test.rows.batch))).toBeGreaterThan(0.05);
    for (const deep of [[16], []]) {
      const deepfm = createDeepFmTrainer(layout, { embeddingDim: 4, deep, learningRate: 0.01, batchSize: 128, seed: 2 });
      const losses = [1, 2, 3].map(() => deepfm.trainEpoch(train.rows));
      expect(losses[2]!).toBeLessThan(losses[0]!);
      expect(bayes - auc(test.rows.labels, deepfm.predict(test.rows.batch)), `deep [${deep.join(',')}]`).toBeLessThan(0.02);
    }
  });

  it('fitModel({ model: "deepfm" }) early-stops, calibrates and exports a model onnxruntime scores as result.predict does', async () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'deepfm-fit');
    const { rows } = syntheticRows(layout, 12_000, { seed: 'fit', interaction: 2, scale: 0.3, intercept: -1 });
    const result = fitModel({ model: 'deepfm', train: sliceRows(rows, 0, 9_000), valid: sliceRows(rows, 9_000), epochs: 4, deepfm: { embeddingDim: 4, deep: [16], learningRate: 0.01 }, seed: 3 });
    expect(result.weights.kind).toBe('deepfm');
    expect(result.history.length).toBeGreaterThanOrEqual(1);
    expect(result.metrics.validAuc).toBeGreaterThan(0.7);
    expect(result.metrics.validLogLossFinal).toBeLessThan(result.metrics.validBaseLogLoss!);
    expect(result.warnings).toEqual([]);
    const { model, manifest } = exportModel(layout, result, { version: '1' });
    expect(manifest.architecture).toBe('deepfm');
    const test = sliceRows(rows, 11_000);
    const { probability } = await runSession(ort as unknown as OrtLike, model, test.batch);
    expect(maxAbsDiff(probability, result.predict(test))).toBeLessThan(2e-6);
  });

  it('rejects bad rows, options and divergence with CtrkitError', () => {
    const layout = richLayout();
    const trainer = createDeepFmTrainer(layout, { embeddingDim: 2, deep: [4] });
    const rows = richRows(10, 'bad');
    const nan = { batch: { ...rows.batch, dense: rows.batch.dense.slice() }, labels: rows.labels };
    nan.batch.dense[3] = Number.NaN;
    expect(codeThrownBy(() => trainer.trainEpoch(nan))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.step({ batch: rows.batch, labels: Float32Array.of(0, 1, 2, 0, 0, 0, 0, 0, 0, 0) }))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.trainEpoch(sliceRows(rows, 0, 0)))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.predict({ ...rows.batch, layout: richLayout('other') }))).toBe('E_INPUT');
    expect(codeThrownBy(() => createDeepFmTrainer(layout, { learningRate: 0 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDeepFmTrainer(layout, { deep: [0] }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDeepFmTrainer(layout, { frequencyL2: -1 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDeepFmTrainer(layout, { initial: initDeepFmWeights(wideLayout(2, 0, 64)) }))).toBe('E_INPUT');
    expect(codeThrownBy(() => fitModel({ model: 'deepfm', train: rows, epochs: 0 }))).toBe('E_CONFIG');
    // Weights so large that the MLP overflows float64 (1e38 per layer, eight layers): the loss is not finite, and training says so.
    const huge = initDeepFmWeights(layout, { embeddingDim: 2, deep: [4, 4, 4, 4, 4, 4, 4], seed: 1 });
    huge.embedding.fill(1e38);
    for (const layer of [...huge.deep, huge.output]) layer.weight.fill(1e38);
    expect(codeThrownBy(() => createDeepFmTrainer(layout, { initial: huge }).trainEpoch(rows))).toBe('E_CONFIG');
  });

  it.skipIf(CRITEO_PATH === undefined)('learns the Criteo sample: AUC > 0.70 on the last 2,000 rows after two epochs of a small model', async () => {
    const { layout, train, test } = await criteoSplit(1 << 16);
    const trainer = createDeepFmTrainer(layout, { embeddingDim: 4, deep: [16], batchSize: 128, learningRate: 2e-3, frequencyL2: 1, seed: 1 });
    trainer.trainEpoch(train);
    trainer.trainEpoch(train);
    expect(auc(test.labels, trainer.predict(test.batch))).toBeGreaterThan(0.7);
  });
});
