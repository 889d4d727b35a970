/**
 * The stacked ensemble: its ONNX graph computes `sigmoid(bias + Σ cᵢ·logitᵢ)` of the members'
 * own ONNX logits (every architecture, sequences shared by several members, one architecture
 * twice); its manifest names the inputs any member reads; the stacker recovers coefficients it
 * was generated with and judges itself out of fold.
 */
import { createRandom, logLoss } from '@ctrkit/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { codeThrownBy } from '@ctrkit/test-support';
import {
  buildModel,
  buildStackedEnsembleModel,
  createStackedEnsembleManifest,
  fitStacker,
  initDcnV2Weights,
  initDeepFmWeights,
  initDinWeights,
  initFmWeights,
  initLrWeights,
  type StackedMember,
} from '../src/index.js';
import { richLayout } from './fixtures/layouts.js';
import { runSession, type OrtLike } from './fixtures/onnx-session.js';
import { randomBatch } from './fixtures/random-batches.js';

const layout = richLayout();
const members: StackedMember[] = [
  { weights: initLrWeights(layout, { seed: 'lr', scale: 0.3 }), weight: 0.4 },
  { weights: initFmWeights(layout, { seed: 'fm', dim: 3 }), weight: -0.7 },
  { weights: initDcnV2Weights(layout, { seed: 'dcn', embeddingDim: 4, crossLayers: 2, deep: [6], embeddingScale: 0.5, biasScale: 0.1 }), weight: 1.3 },
  { weights: initDeepFmWeights(layout, { seed: 'deepfm', embeddingDim: 3, deep: [5], embeddingScale: 0.4, linearScale: 0.3, biasScale: 0.1 }), weight: 0.8 },
  { weights: initDinWeights(layout, { seed: 'din', embeddingDim: 4 }), weight: 0.5 },
  { weights: initFmWeights(layout, { seed: 'fm-2', dim: 2 }), weight: 0.25 },
];

describe('stacked ensemble builder', () => {
  it("computes bias + Σ coefficient × member logit of the members' own models", async () => {
    const batch = randomBatch(layout, 33, 'ensemble');
    const bias = -0.35;
    const ensemble = await runSession(ort as unknown as OrtLike, buildStackedEnsembleModel(layout, members, bias), batch);
    const expected = new Float64Array(batch.rows).fill(bias);
    for (const member of members) {
      const { logit } = await runSession(ort as unknown as OrtLike, buildModel(layout, member.weights), batch);
      for (let r = 0; r < batch.rows; r++) expected[r] = (expected[r] as number) + member.weight * (logit[r] as number);
    }
    let spread = 0;
    for (let r = 0; r < batch.rows; r++) {
      expect(ensemble.logit[r]).toBeCloseTo(expected[r] as number, 4);
      expect(ensemble.probability[r]).toBeCloseTo(1 / (1 + Math.exp(-(expected[r] as number))), 5);
      spread = Math.max(spread, Math.abs((expected[r] as number) - (expected[0] as number)));
    }
    expect(spread).toBeGreaterThan(0.1); // the members move the logit: the comparison is not of constants
    expect([...ensemble.inputs].sort()).toEqual(['dense', 'ids', 'sequence_ids', 'sequence_lengths', 'values']);
  });

  it('writes a manifest with the inputs any member reads and each member’s coefficient', () => {
    const manifest = createStackedEnsembleManifest(layout, members.slice(0, 2), 0.1, { version: 'e1' });
    expect(manifest.architecture).toBe('ensemble');
    expect(manifest.inputs.map((i) => i.name).sort()).toEqual(['dense', 'ids', 'values']); // LR and FM read no sequences
    const withSequences = createStackedEnsembleManifest(layout, members.slice(1, 3), 0, { version: 'e2' });
    expect(withSequences.inputs.map((i) => i.name)).toContain('sequence_ids');
    expect((manifest.config as { members: { architecture: string; coefficient: number }[] }).members.map((m) => [m.architecture, m.coefficient])).toEqual([
      ['lr', 0.4],
      ['fm', -0.7],
    ]);
  });

  it('refuses fewer than two members and coefficients or a bias that are not finite', () => {
    expect(codeThrownBy(() => buildStackedEnsembleModel(layout, members.slice(0, 1), 0))).toBe('E_CONFIG');
    expect(codeThrownBy(() => buildStackedEnsembleModel(layout, [members[0]!, { ...members[1]!, weight: Number.NaN }], 0))).toBe('E_INPUT');
    expect(codeThrownBy(() => buildStackedEnsembleModel(layout, members.slice(0, 2), Number.POSITIVE_INFINITY))).toBe('E_INPUT');
  });
});

describe('stacker', () => {
  /** Two members' probabilities and labels drawn from sigmoid(b + c₁·z₁ + c₂·z₂). */
  function world(rows: number, c: readonly [number, number], b: number) {
    const random = createRandom('stacker');
    const a = new Float32Array(rows);
    const d = new Float32Array(rows);
    const labels = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      const z1 = random.normal() * 1.2 - 2;
      const z2 = 0.5 * z1 + random.normal();
      a[i] = 1 / (1 + Math.exp(-z1));
      d[i] = 1 / (1 + Math.exp(-z2));
      labels[i] = random.next() < 1 / (1 + Math.exp(-(b + c[0] * z1 + c[1] * z2))) ? 1 : 0;
    }
    return { a, d, labels };
  }

  it('recovers the coefficients the labels were drawn with, and beats either member out of fold', () => {
    const { a, d, labels } = world(60_000, [0.6, 0.7], -0.4);
    const fit = fitStacker([a, d], labels);
    expect(fit.coefficients[0]).toBeCloseTo(0.6, 1);
    expect(fit.coefficients[1]).toBeCloseTo(0.7, 1);
    expect(fit.bias).toBeCloseTo(-0.4, 1);
    expect(fit.outOfFoldLogLoss).toBeGreaterThanOrEqual(fit.logLoss - 1e-4);
    expect(fit.outOfFold).toHaveLength(labels.length);
    expect(logLoss(labels, fit.outOfFold)).toBeCloseTo(fit.outOfFoldLogLoss, 12);
    expect(fit.outOfFoldLogLoss).toBeLessThan(Math.min(logLoss(labels, a), logLoss(labels, d)));
  });

  it('refuses one member, mismatched lengths and labels of one class', () => {
    const { a, d, labels } = world(100, [1, 0], 0);
    expect(codeThrownBy(() => fitStacker([a], labels))).toBe('E_INPUT');
    expect(codeThrownBy(() => fitStacker([a, d.subarray(1)], labels))).toBe('E_INPUT');
    expect(codeThrownBy(() => fitStacker([a, d], new Float32Array(100)))).toBe('E_INPUT');
    expect(codeThrownBy(() => fitStacker([a, d], labels, { folds: 1 }))).toBe('E_CONFIG');
  });
});
