import { auc, createRandom } from '@ctrkit/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildDcnV2Model, createDcnV2Trainer, createFtrlTrainer, initDcnV2Weights, sliceRows, type DcnV2Weights, type LabeledRows } from '../src/index.js';
import type { DcnV2TrainerImpl } from '../src/train/dcnv2-trainer.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { CRITEO_PATH, criteoSplit } from './fixtures/criteo-split.js';
import { gradientChecker } from './fixtures/gradient-check.js';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { runSession, type OrtLike } from './fixtures/onnx-session.js';
import { richRows } from './fixtures/random-batches.js';
import { probabilities, referenceDcnV2 } from './fixtures/reference-models.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** Rich layout (bag, dense columns, two sequences of different lengths) with mixed full and low-rank cross layers. */
function mixedWeights(seed: string): DcnV2Weights {
  const layout = richLayout();
  const full = initDcnV2Weights(layout, { embeddingDim: 3, crossLayers: 1, deep: [5, 4], seed, embeddingScale: 0.4, biasScale: 0.1 });
  const low = initDcnV2Weights(layout, { embeddingDim: 3, crossLayers: 1, lowRank: 2, deep: [5, 4], seed: `${seed}-low`, biasScale: 0.1 });
  return { ...full, cross: [full.cross[0]!, low.cross[0]!] };
}

describe('DCN-v2 trainer', () => {
  it('computes the same probabilities as the naive float64 DCN-v2 (bags, dense, sequences, full and low-rank cross)', () => {
    const layout = richLayout();
    const weights = mixedWeights('forward');
    const trainer = createDcnV2Trainer(layout, { initial: weights, batchSize: 7 });
    const { batch } = richRows(40, 'forward');
    const expected = probabilities(referenceDcnV2(layout, weights, batch));
    const predicted = trainer.predict(batch);
    for (let r = 0; r < batch.rows; r++) expect(Math.abs(predicted[r]! - expected[r]!)).toBeLessThan(1e-6);
  });

  it('derives every gradient by hand: each matches the central finite difference of the objective (with both L2 terms)', () => {
    const layout = richLayout();
    const trainer = createDcnV2Trainer(layout, { initial: mixedWeights('gradients'), l2: 0.03, embeddingL2: 0.05 }) as unknown as DcnV2TrainerImpl;
    const rows = richRows(12, 'gradients');
    trainer.computeGradients(rows);
    const gradients = gradientChecker(() => trainer.objective(rows));
    gradients.checkParameters(trainer.params, createRandom('picks'));
    // Embedding rows: ids of fields (bag columns included) and of sequence items.
    const D = 3;
    const ids = new Set<number>();
    for (let c = 0; c < 6; c++) ids.add(rows.batch.ids[c]!);
    const L = 5;
    const length = rows.batch.sequenceLengths[0]!;
    for (let t = L - length; t < L; t++) ids.add(rows.batch.sequenceIds[t]!);
    const embeddingAnalytic = new Map<number, number[]>();
    trainer.computeGradients(rows);
    for (const id of ids) embeddingAnalytic.set(id, Array.from({ length: D }, (_, k) => trainer.embeddingGradient(id, k)));
    for (const [id, grads] of embeddingAnalytic) for (let k = 0; k < D; k++) gradients.check(grads[k]!, trainer.embedding, id * D + k, `embedding[${id}, ${k}]`);
    // An id no row touches has no gradient (and no L2 pull).
    const untouched = Array.from({ length: layout.idSpace }, (_, i) => i).find((i) => !rows.batch.ids.includes(i) && !rows.batch.sequenceIds.includes(i))!;
    expect(trainer.embeddingGradient(untouched, 0)).toBe(0);
    expect(gradients.checked).toBeGreaterThan(120);
  });

  it('the frequency-aware prior: each id’s share of its once-a-pass penalty; the embedding gradient matches the finite difference of the objective', () => {
    const layout = richLayout();
    const trainer = createDcnV2Trainer(layout, { initial: mixedWeights('prior'), frequencyL2: 3 }) as unknown as DcnV2TrainerImpl;
    const pass = richRows(60, 'prior-pass');
    const rows = sliceRows(pass, 0, 12); // a mini-batch of the pass: each id's share is its occurrences here over those in the pass
    trainer.countPass(pass);
    trainer.computeGradients(rows);
    const D = 3;
    const ids = new Set<number>();
    for (let c = 0; c < 6; c++) ids.add(rows.batch.ids[c]!);
    const grads = new Map<number, number[]>();
    for (const id of ids) grads.set(id, Array.from({ length: D }, (_, k) => trainer.embeddingGradient(id, k)));
    const gradients = gradientChecker(() => trainer.objective(rows));
    for (const [id, g] of grads) for (let k = 0; k < D; k++) gradients.check(g[k]!, trainer.embedding, id * D + k, `embedding[${id}, ${k}]`);
    // The prior adds to the objective the same weights would have without it.
    const withPrior = trainer.objective(rows);
    const plain = (createDcnV2Trainer(layout, { initial: mixedWeights('prior') }) as unknown as DcnV2TrainerImpl).objective(rows);
    expect(withPrior).toBeGreaterThan(plain);
  });

  it('exports weights that onnxruntime scores exactly as the trainer does', async () => {
    const layout = richLayout();
    const train = richRows(200, 'export-train');
    const trainer = createDcnV2Trainer(layout, { embeddingDim: 4, crossLayers: 2, lowRank: 3, deep: [8], batchSize: 32, seed: 4 });
    trainer.trainEpoch(train);
    const weights = trainer.weights();
    const { batch } = richRows(30, 'export-test');
    const { probability } = await runSession(ort as unknown as OrtLike, buildDcnV2Model(layout, weights), batch);
    const own = trainer.predict(batch);
    for (let r = 0; r < batch.rows; r++) expect(Math.abs(probability[r]! - own[r]!)).toBeLessThan(2e-6);
  });

  it('is reproducible by seed (initialization and shuffling)', () => {
    const layout = richLayout();
    const train = richRows(300, 'seed');
    const run = (seed: number) => {
      const trainer = createDcnV2Trainer(layout, { embeddingDim: 4, crossLayers: 2, deep: [8], batchSize: 64, seed });
      trainer.trainEpoch(train);
      trainer.trainEpoch(train);
      return trainer.weights();
    };
    const [a, b, c] = [run(7), run(7), run(8)];
    expect(Array.from(a.embedding)).toEqual(Array.from(b.embedding));
    expect(Array.from(a.output.weight)).toEqual(Array.from(b.output.weight));
    expect(Array.from(a.output.weight)).not.toEqual(Array.from(c.output.weight));
  });

  it('learns a pairwise interaction that logistic regression cannot, and its loss falls', () => {
    const layout = wideLayout(4, 0, 1 << 10, 0, 'dcn-xor');
    const train = syntheticRows(layout, 30_000, { seed: 'train', interaction: 2, scale: 0.3, intercept: -1 });
    const test = syntheticRows(layout, 8_000, { seed: 'test', interaction: 2, scale: 0.3, intercept: -1 });
    const dcn = createDcnV2Trainer(layout, { embeddingDim: 4, crossLayers: 2, deep: [16], learningRate: 0.01, batchSize: 128, seed: 2 });
    const losses = [1, 2, 3].map(() => dcn.trainEpoch(train.rows));
    expect(losses[2]!).toBeLessThan(losses[0]!);
    const lr = createFtrlTrainer(layout, { alpha: 0.1, l1: 0.1, l2: 0.1 });
    for (let pass = 0; pass < 3; pass++) lr.update(train.rows.batch, train.rows.labels);
    const bayes = auc(test.rows.labels, test.truth);
    expect(bayes - auc(test.rows.labels, dcn.predict(test.rows.batch))).toBeLessThan(0.02);
    expect(bayes - auc(test.rows.labels, lr.predict(test.rows.batch))).toBeGreaterThan(0.05);
  });

  it('rejects bad rows, options and divergence with CtrkitError', () => {
    const layout = richLayout();
    const trainer = createDcnV2Trainer(layout, { embeddingDim: 2, crossLayers: 1, deep: [4] });
    const rows = richRows(10, 'bad');
    const nan = { batch: { ...rows.batch, dense: rows.batch.dense.slice() }, labels: rows.labels };
    nan.batch.dense[3] = Number.NaN;
    expect(codeThrownBy(() => trainer.trainEpoch(nan))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.step({ batch: rows.batch, labels: Float32Array.of(0, 1, 2, 0, 0, 0, 0, 0, 0, 0) }))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.trainEpoch(sliceRows(rows, 0, 0)))).toBe('E_INPUT');
    expect(codeThrownBy(() => trainer.predict({ ...rows.batch, layout: richLayout('other') }))).toBe('E_INPUT');
    expect(codeThrownBy(() => createDcnV2Trainer(layout, { learningRate: 0 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDcnV2Trainer(layout, { deep: [0] }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => createDcnV2Trainer(layout, { initial: initDcnV2Weights(wideLayout(2, 0, 64)) }))).toBe('E_INPUT');
    // Weights so large that the cross layers overflow float64: the loss is not finite, and training says so.
    const huge = initDcnV2Weights(layout, { embeddingDim: 2, crossLayers: 5, deep: [4], seed: 1 });
    huge.embedding.fill(1e38);
    for (const layer of huge.cross) if (layer.kind === 'full') layer.w.fill(1e38);
    expect(codeThrownBy(() => createDcnV2Trainer(layout, { initial: huge }).trainEpoch(rows))).toBe('E_CONFIG');
  });

  it.skipIf(CRITEO_PATH === undefined)('learns the Criteo sample: AUC > 0.70 on the last 2,000 rows after two epochs of a small model', async () => {
    const { layout, train, test } = await criteoSplit(1 << 16);
    const trainer = createDcnV2Trainer(layout, { embeddingDim: 4, crossLayers: 1, lowRank: 8, deep: [16], batchSize: 128, learningRate: 2e-3, seed: 1 });
    trainer.trainEpoch(train);
    trainer.trainEpoch(train);
    expect(auc(test.labels, trainer.predict(test.batch))).toBeGreaterThan(0.7);
  });
});
