import { describe, expect, it } from 'vitest';
import { explainByOcclusion, summarizeFactors, type AdRequest, type FeatureBatch, type FeatureLayout, type ModelRunner } from '../src/index.js';

const layout: FeatureLayout = {
  fingerprint: 'fp',
  idSpace: 100,
  idWidth: 3,
  fields: [
    { name: 'device', kind: 'categorical', offset: 0, width: 1 },
    { name: 'interests', kind: 'bag', offset: 1, width: 2 },
  ],
  denseWidth: 1,
  denseNames: ['bid'],
  sequences: [{ name: 'history', maxLength: 2 }],
};

/** An additive model: logit = Σ values·w[id] + 0.5·dense + 0.25·(sequence length). */
const weights = new Float32Array(100).map((_, i) => (i % 7) / 10 - 0.3);
const runner: ModelRunner = {
  info: { architecture: 'lr', version: '1', backend: 'native', provider: 'cpu', fingerprint: 'fp' },
  predict(batch: FeatureBatch, out = new Float32Array(batch.rows)) {
    for (let r = 0; r < batch.rows; r++) {
      let z = 0;
      for (let c = 0; c < 3; c++) z += (batch.values[r * 3 + c] as number) * (weights[batch.ids[r * 3 + c] as number] as number);
      z += 0.5 * (batch.dense[r] as number) + 0.25 * (batch.sequenceLengths[r] as number);
      out[r] = 1 / (1 + Math.exp(-z));
    }
    return Promise.resolve(out);
  },
  dispose: () => Promise.resolve(),
};

const batch: FeatureBatch = {
  layout,
  rows: 2,
  ids: Int32Array.from([5, 9, 12, 6, 9, 0]),
  values: Float32Array.from([1, 0.5, 0.5, 1, 1, 0]),
  dense: Float32Array.from([2, 1]),
  sequenceIds: Int32Array.from([3, 4, 0, 7]),
  sequenceLengths: Int32Array.from([2, 1]),
};

describe('explainByOcclusion', () => {
  it('recovers each field’s exact contribution for an additive model', async () => {
    const missing = new Map([['device', 50], ['interests', 51]]);
    const contributions = await explainByOcclusion(runner, batch, 0, missing);
    const byField = Object.fromEntries(contributions.map((c) => [c.field, c.contribution]));
    const w = (i: number) => weights[i] as number;
    expect(byField.device).toBeCloseTo(w(5) - w(50), 5);
    expect(byField.interests).toBeCloseTo(0.5 * w(9) + 0.5 * w(12) - w(51), 5);
    expect(byField.history).toBeCloseTo(0.5, 5);
    expect(byField['dense:bid']).toBeCloseTo(1, 5);
    const magnitudes = contributions.map((c) => Math.abs(c.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
  });

  it('rejects a row outside the batch', async () => {
    await expect(explainByOcclusion(runner, batch, 2, new Map())).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});

describe('summarizeFactors', () => {
  const request = { requestId: 'r', user: { id: 'u' }, context: { timestamp: 0 }, candidates: [] } as unknown as AdRequest;
  it('phrases the strongest positive factors, skipping negatives, unknowns and repeats', () => {
    const phrases = summarizeFactors(
      [
        { field: 'a', contribution: 0.1 },
        { field: 'b', contribution: 0.9 },
        { field: 'c', contribution: -2 },
        { field: 'd', contribution: 0.5 },
        { field: 'e', contribution: 0.4 },
        { field: 'f', contribution: 0.3 },
      ],
      request,
      0,
      (field) => (field === 'd' ? undefined : field === 'e' ? 'same' : field === 'f' ? 'same' : `phrase ${field}`),
      3,
    );
    expect(phrases).toEqual(['phrase b', 'same', 'phrase a']);
  });
});
