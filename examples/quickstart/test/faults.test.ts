/**
 * Faults on real parts (features encoder, memory store, a trained FTRL-LR, GSP, dual pacing,
 * memory ledger): a model that throws, one that hangs past its deadline, one that returns NaN,
 * and a store that fails — each request still gets a valid, labeled, counted result.
 */
import {
  createAdSelector,
  createPipelineMetrics,
  createPredictor,
  CtrkitError,
  type FeatureBatch,
  type FeatureStore,
  type ModelRunner,
} from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { createAuction } from '@ctrkit/auction';
import { adRequestSpec, allocateBatch, createFeatureEncoder, createMemoryFeatureStore } from '@ctrkit/features';
import { createNativeRunner, createRowCollector, fitModel } from '@ctrkit/models';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const generator = createTrafficGenerator({ seed: 'faults', users: 500 });
const encoder = createFeatureEncoder(adRequestSpec({ idSpace: 1 << 16 }));
let good: ModelRunner;

beforeAll(async () => {
  const store = createMemoryFeatureStore();
  const collector = createRowCollector(encoder.layout);
  const one = allocateBatch(encoder.layout, 1);
  for (const row of generator.impressions({ count: 5_000, stream: 'train' })) {
    const lookup = await store.lookup(row.request.user, row.request.candidates, row.request.context.timestamp);
    collector.append(encoder.encode(row.request, lookup, one), Float32Array.of(row.clicked ? 1 : 0));
  }
  const { weights } = fitModel({ model: 'lr', train: collector.toRows(), epochs: 1 });
  good = createNativeRunner({ layout: encoder.layout, weights: weights as Parameters<typeof createNativeRunner>[0]['weights'], version: 'lr-good' });
});

afterEach(() => vi.useRealTimers());

function broken(kind: 'throw' | 'hang' | 'nan'): ModelRunner {
  return {
    info: { ...good.info, version: `broken-${kind}` },
    predict(batch: FeatureBatch, out = new Float32Array(batch.rows)) {
      if (kind === 'throw') return Promise.reject(new CtrkitError('E_INFERENCE', 'onnxruntime: invalid input'));
      if (kind === 'hang') return new Promise<Float32Array>(() => undefined);
      return Promise.resolve(out.fill(Number.NaN));
    },
    dispose: () => Promise.resolve(),
  };
}

const requests = () => [...generator.requests({ count: 3, stream: 'serve', timeRange: [0.5, 0.6] })].map((r) => r.request);

describe('faults on real parts', () => {
  for (const kind of ['throw', 'nan'] as const) {
    it(`a model that ${kind === 'throw' ? 'throws' : 'returns NaN'} falls back to the good model, counted`, async () => {
      const metrics = createPipelineMetrics();
      const predictor = createPredictor({ encoder, store: createMemoryFeatureStore(), runner: broken(kind), fallback: good, metrics });
      const selector = createAdSelector({ predictor, auction: createAuction({ pricing: 'gsp' }), metrics });
      for (const request of requests()) {
        const selection = await selector.select(request);
        expect(selection.prediction.modelVersion).toBe('lr-good');
        expect(selection.prediction.pCtr.every((p) => p > 0 && p < 1)).toBe(true);
        expect(selection.winners.length).toBeGreaterThan(0);
        expect(selection.degraded[0]).toMatchObject({ stage: 'predict', reason: kind === 'throw' ? 'error' : 'nan', action: 'fallback-model' });
      }
      expect(metrics.snapshot().degradations).toEqual([{ stage: 'predict', label: kind === 'throw' ? 'error' : 'nan', count: 3 }]);
      expect(metrics.snapshot().errors[0]).toMatchObject({ stage: 'predict', label: kind === 'throw' ? 'E_INFERENCE' : 'nan', count: 3 });
    });
  }

  it('a model that hangs is abandoned at its budget and the fallback answers within the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const metrics = createPipelineMetrics();
    const predictor = createPredictor({ encoder, runner: broken('hang'), fallback: good, budgets: { predict: 4 }, deadlineMs: 10, metrics });
    const [request] = requests();
    const pending = predictor.predict(request!);
    await vi.advanceTimersByTimeAsync(4);
    const result = await pending;
    expect(result.modelVersion).toBe('lr-good');
    expect(result.degraded[0]).toMatchObject({ stage: 'predict', reason: 'deadline', action: 'fallback-model' });
    expect(metrics.snapshot().errors).toEqual([{ stage: 'predict', label: 'E_TIMEOUT', count: 1 }]);
  });

  it('without a fallback, a failing model means no CPC/CPA bid rather than a made-up score', async () => {
    const predictor = createPredictor({ encoder, runner: broken('throw') });
    const selector = createAdSelector({ predictor, auction: createAuction({ pricing: 'gsp' }) });
    const [request] = requests();
    const selection = await selector.select(request!);
    expect(selection.prediction.modelVersion).toBe('default');
    expect(selection.winners.every((w) => w.bidType === 'CPM')).toBe(true);
  });

  it('a store that fails gives the store-less features, and the request is still scored', async () => {
    const failing: FeatureStore = {
      names: createMemoryFeatureStore().names,
      record: () => Promise.resolve(),
      lookup: () => Promise.reject(new CtrkitError('E_STORE', 'ECONNREFUSED 127.0.0.1:6379')),
      forgetUser: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const metrics = createPipelineMetrics();
    const predictor = createPredictor({ encoder, store: failing, runner: good, metrics });
    const [request] = requests();
    const result = await predictor.predict(request!);
    expect(result.modelVersion).toBe('lr-good');
    expect(result.degraded[0]).toMatchObject({ stage: 'lookup', reason: 'error', action: 'empty-features' });
    expect(metrics.snapshot().errors).toEqual([{ stage: 'lookup', label: 'E_STORE', count: 1 }]);
  });
});
