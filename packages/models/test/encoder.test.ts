/**
 * The contract end to end: batches written by @ctrkit/features' encoder (bags with padding,
 * dense columns, two behavior sequences of different lengths, one sharing ids with the ad's
 * category) run through every built-in architecture and match the naive forward pass.
 */
import { describe, expect, it } from 'vitest';
import type { AdCandidate, AdRequest } from '@ctrkit/core';
import { createFeatureEncoder } from '@ctrkit/features';
import {
  buildModel,
  createBackendRegistry,
  createManifest,
  createManualScheduler,
  createMicroBatcher,
  initDcnV2Weights,
  initDinWeights,
  initFmWeights,
  initLrWeights,
  loadModelFromBytes,
  type ModelWeights,
} from '../src/index.js';
import { createOnnxNodeBackend } from '../src/node.js';
import { maxAbsDiff, probabilities, referenceLogits } from './fixtures/reference-models.js';

const encoder = createFeatureEncoder({
  version: 1,
  seed: 11,
  idSpace: 4096,
  fields: [
    { name: 'country', kind: 'categorical', source: 'user', path: 'country' },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' },
    { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 4 },
    { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } },
    { name: 'history_category', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: 6, sharesIdsWith: 'ad_category' },
    { name: 'history_brand', kind: 'sequence', source: 'user', path: 'history', item: 'brand', maxLength: 4 },
  ],
});

const categories = ['travel', 'auto', 'food', 'games', 'finance'];
function request(i: number, candidates: number): AdRequest {
  const history = Array.from({ length: i % 9 }, (_, k) => ({ action: 'view', category: categories[(i + k) % 5] as string, brand: `brand-${(i * k) % 7}` }));
  return {
    requestId: `r-${i}`,
    user: { id: `u-${i}`, country: ['FR', 'DE', 'US'][i % 3] as string, interests: categories.slice(0, i % 5), history },
    context: { timestamp: 1_700_000_000_000 + i },
    candidates: Array.from(
      { length: candidates },
      (_, c): AdCandidate => ({ adId: `ad-${i}-${c}`, advertiserId: 'x', campaignId: 'c', format: 'display', category: categories[(i + c) % 5] as string, bid: 0.5 + c, bidType: 'CPC' }),
    ),
  };
}

const layout = encoder.layout;
const registry = createBackendRegistry();
registry.register(createOnnxNodeBackend({ providers: ['cpu'] }), 100);

const architectures: ModelWeights[] = [
  initLrWeights(layout, { seed: 'e-lr', scale: 0.5, biasScale: 0.2 }),
  initFmWeights(layout, { seed: 'e-fm', dim: 4, scale: 0.3 }),
  initDcnV2Weights(layout, { seed: 'e-dcn', embeddingDim: 4, crossLayers: 2, lowRank: 3, deep: [16], embeddingScale: 0.5, biasScale: 0.1 }),
  initDinWeights(layout, { seed: 'e-din', embeddingDim: 4, attention: [8], deep: [16], embeddingScale: 0.5, biasScale: 0.1 }),
];

describe('batches from the features encoder', () => {
  it('have the shape the models expect (two sequences of different maxLength share one stride)', () => {
    expect(layout.sequences.map((s) => s.maxLength)).toEqual([6, 4]);
    const batch = encoder.encode(request(8, 3));
    expect(batch.sequenceIds.length).toBe(3 * 2 * 6);
    expect(Array.from(batch.sequenceLengths)).toEqual([6, 4, 6, 4, 6, 4]);
  });

  it.each(architectures.map((w) => [w.kind, w] as const))('%s scores them like the naive forward pass, directly and through the micro-batcher', async (_kind, weights) => {
    const { runner } = await loadModelFromBytes(
      { model: buildModel(layout, weights), manifest: createManifest(layout, weights, { version: 'enc' }) },
      { expect: layout, registry },
    );
    for (let i = 0; i < 12; i++) {
      const batch = encoder.encode(request(i, 1 + (i % 4)));
      const expected = probabilities(referenceLogits(layout, weights, batch));
      expect(maxAbsDiff(await runner.predict(batch), expected)).toBeLessThanOrEqual(1e-5);
    }
    const scheduler = createManualScheduler();
    const batcher = createMicroBatcher(runner, { maxBatchRows: 16, maxWaitMs: 1, scheduler });
    const singles = Array.from({ length: 20 }, (_, i) => encoder.encode(request(100 + i, 1)));
    const pending = Promise.all(singles.map((batch) => batcher.predict(batch)));
    await scheduler.advance(1);
    const merged = await pending;
    singles.forEach((batch, i) => expect(maxAbsDiff(merged[i]!, probabilities(referenceLogits(layout, weights, batch)))).toBeLessThanOrEqual(1e-5));
    expect(batcher.stats()).toMatchObject({ calls: 20, batches: 2, rows: 20 });
    await batcher.dispose();
  });
});
