import { explainByOcclusion, type FeatureBatch } from '@ctrkit/core';
import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { describe, expect, it } from 'vitest';
import { createNativeRunner, explainLinearModel, initFmWeights, initLrWeights } from '../src/index.js';

const encoder = createFeatureEncoder(adRequestSpec({ store: false, idSpace: 1 << 14 }));
const [first] = createTrafficGenerator({ seed: 9, users: 200 }).requests({ count: 1 });
const batch: FeatureBatch = encoder.encode(first!.request);

describe('explainLinearModel', () => {
  for (const kind of ['lr', 'fm'] as const) {
    it(`splits a ${kind.toUpperCase()} logit exactly into field terms`, () => {
      const weights = kind === 'lr' ? initLrWeights(batch.layout, { seed: 3, scale: 0.5 }) : initFmWeights(batch.layout, { seed: 3, dim: 4, scale: 0.5 });
      const runner = createNativeRunner({ layout: batch.layout, weights });
      const logits = runner.logitsSync(batch);
      for (let row = 0; row < batch.rows; row++) {
        const explanation = explainLinearModel(weights, batch, row);
        expect(explanation.logit).toBeCloseTo(logits[row] as number, 4);
        const sum = explanation.contributions.reduce((s, c) => s + c.contribution, explanation.bias);
        expect(sum).toBeCloseTo(explanation.logit, 9);
      }
    });
  }

  it('agrees with occlusion for LR, where removing a field removes exactly its term', async () => {
    const weights = initLrWeights(batch.layout, { seed: 5, scale: 0.5 });
    const runner = createNativeRunner({ layout: batch.layout, weights });
    const exact = explainLinearModel(weights, batch, 0);
    const occluded = await explainByOcclusion(runner, batch, 0, encoder.missingIds());
    const missing = encoder.missingIds();
    for (const { field, contribution } of occluded) {
      if (field.startsWith('history')) {
        expect(contribution).toBeCloseTo(0, 5); // LR ignores sequences
        continue;
      }
      const term = exact.contributions.find((c) => c.field === field)!.contribution;
      // Occlusion measures the term minus the missing bucket's own weight.
      const missingWeight = field.startsWith('dense:') ? 0 : (weights.ids[missing.get(field)!] as number);
      expect(contribution, field).toBeCloseTo(term - missingWeight, 4);
    }
  });

  it('rejects rows outside the batch and weights of another layout', () => {
    const weights = initLrWeights(batch.layout, { seed: 1 });
    expect(() => explainLinearModel(weights, batch, batch.rows)).toThrow(/outside/);
    expect(() => explainLinearModel({ ...weights, idSpace: 8 }, batch, 0)).toThrow(/do not fit/);
  });
});
