import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createIsotonicCalibrator,
  createManualClock,
  createPipelineMetrics,
  createPredictor,
  CtrkitError,
  type AdCandidate,
  type AdRequest,
  type FeatureBatch,
  type FeatureEncoder,
  type FeatureLayout,
  type FeatureStore,
  type LookupOptions,
  type ModelRunner,
  type StoreLookup,
} from '../src/index.js';

const layout: FeatureLayout = {
  fingerprint: 'fp',
  idSpace: 1 << 10,
  idWidth: 1,
  fields: [{ name: 'ad', kind: 'categorical', offset: 0, width: 1 }],
  denseWidth: 1,
  denseNames: ['ad.clicks'],
  sequences: [],
};

/** Encodes each candidate's numeric suffix as its id and the store's first counter as dense. */
const encoder: FeatureEncoder = {
  layout,
  encode(request: AdRequest, lookup?: StoreLookup): FeatureBatch {
    const rows = request.candidates.length;
    const ids = new Int32Array(rows);
    const dense = new Float32Array(rows);
    request.candidates.forEach((c, r) => {
      ids[r] = Number(c.adId.slice(3));
      dense[r] = lookup && lookup.names.length > 0 ? (lookup.values[r * lookup.names.length] as number) : -1;
    });
    return { layout, rows, ids, values: new Float32Array(rows).fill(1), dense, sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0) };
  },
};

function runner(version: string, score: (batch: FeatureBatch, row: number) => number, behavior: 'ok' | 'throw' | 'hang' = 'ok'): ModelRunner & { calls: number } {
  const model = {
    calls: 0,
    info: { architecture: 'test', version, backend: 'native', provider: 'cpu', fingerprint: 'fp' },
    predict(batch: FeatureBatch, out = new Float32Array(batch.rows)) {
      model.calls++;
      if (behavior === 'throw') return Promise.reject(new CtrkitError('E_INFERENCE', 'session exploded'));
      if (behavior === 'hang') return new Promise<Float32Array>(() => undefined);
      for (let r = 0; r < batch.rows; r++) out[r] = score(batch, r);
      return Promise.resolve(out);
    },
    dispose: () => Promise.resolve(),
  };
  return model;
}

type StoreMode = 'ok' | 'throw' | 'hang' | 'degraded';
function store(behavior: StoreMode = 'ok'): FeatureStore & { lookups: number; mode: StoreMode } {
  const s = {
    lookups: 0,
    mode: behavior,
    names: ['ad.clicks'],
    record: () => Promise.resolve(),
    lookup(_user: unknown, candidates: readonly AdCandidate[], _now: number, options?: LookupOptions): Promise<StoreLookup> {
      s.lookups++;
      if (s.mode === 'throw') return Promise.reject(new CtrkitError('E_STORE', 'redis down'));
      if (s.mode === 'degraded') {
        expect(options?.degradeOnError).toBe(true);
        return Promise.resolve({ names: ['ad.clicks'], rows: candidates.length, values: new Float32Array(candidates.length).fill(7), degraded: true, reason: 'E_STORE: connection refused' });
      }
      if (s.mode === 'hang') return new Promise<StoreLookup>(() => undefined);
      return Promise.resolve({ names: ['ad.clicks'], rows: candidates.length, values: Float32Array.from(candidates, (_, i) => 10 + i), degraded: false });
    },
    forgetUser: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return s;
}

const candidate = (adId: string): AdCandidate => ({ adId, advertiserId: 'x', campaignId: 'c', format: 'display', category: 'k', bid: 1, bidType: 'CPC' });
const request = (id: string, ads = ['ad-1', 'ad-2', 'ad-3']): AdRequest => ({
  requestId: id,
  user: { id: 'u-1' },
  context: { timestamp: 1_000 },
  candidates: ads.map(candidate),
});

const byId = (batch: FeatureBatch, r: number) => (batch.ids[r] as number) / 10;

describe('predictor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs every stage and calibrates on the happy path', async () => {
    const calibrator = createIsotonicCalibrator().fit([0.1, 0.2, 0.3], [0, 0, 1]);
    const metrics = createPipelineMetrics();
    const predictor = createPredictor({ encoder, store: store(), runner: runner('v1', byId), calibrator, metrics });
    const result = await predictor.predict(request('r1'));
    expect(result.degraded).toEqual([]);
    expect(Array.from(result.raw)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(Array.from(result.pCtr)).toEqual(Array.from(calibrator.apply(result.raw)));
    expect(result.modelVersion).toBe('v1');
    expect(metrics.snapshot().stages.map((s) => s.stage)).toEqual(['lookup', 'encode', 'predict', 'calibrate', 'total']);
  });

  it('a throwing model falls back to the fallback model, labeled and counted', async () => {
    const metrics = createPipelineMetrics();
    const predictor = createPredictor({ encoder, runner: runner('v1', byId, 'throw'), fallback: runner('v0', () => 0.05), metrics });
    const result = await predictor.predict(request('r2'));
    expect(Array.from(result.pCtr)).toEqual([0.05, 0.05, 0.05].map(Math.fround));
    expect(result.modelVersion).toBe('v0');
    expect(result.degraded).toEqual([expect.objectContaining({ stage: 'predict', reason: 'error', action: 'fallback-model' })]);
    expect(metrics.snapshot().errors).toEqual([{ stage: 'predict', label: 'E_INFERENCE', count: 1 }]);
    expect(metrics.snapshot().degradations).toEqual([{ stage: 'predict', label: 'error', count: 1 }]);
  });

  it('a model that hangs past its budget gives way to the fallback before the deadline', async () => {
    const predictor = createPredictor({ encoder, runner: runner('v1', byId, 'hang'), fallback: runner('v0', () => 0.02), budgets: { predict: 4 }, deadlineMs: 9 });
    const pending = predictor.predict(request('r3'));
    await vi.advanceTimersByTimeAsync(4);
    const result = await pending;
    expect(result.degraded[0]).toMatchObject({ stage: 'predict', reason: 'deadline', action: 'fallback-model' });
    expect(result.pCtr[0]).toBeCloseTo(0.02, 6);
  });

  it('a model returning NaN degrades to the default score when there is no fallback', async () => {
    const metrics = createPipelineMetrics();
    const predictor = createPredictor({ encoder, runner: runner('v1', () => Number.NaN), defaultPctr: 0.001, metrics });
    const result = await predictor.predict(request('r4'));
    expect(Array.from(result.pCtr)).toEqual([0.001, 0.001, 0.001].map(Math.fround));
    expect(result.modelVersion).toBe('default');
    expect(result.degraded).toEqual([expect.objectContaining({ stage: 'predict', reason: 'nan', action: 'default-score' })]);
    expect(metrics.snapshot().errors).toEqual([{ stage: 'predict', label: 'nan', count: 1 }]);
  });

  it('a failing store gives empty counters, then cached ones once a lookup has succeeded', async () => {
    const s = store('throw');
    const predictor = createPredictor({ encoder, store: s, runner: runner('v1', (b, r) => Math.min(1, Math.max(0, (b.dense[r] as number) / 100))) });
    const first = await predictor.predict(request('r5'));
    expect(first.degraded[0]).toMatchObject({ stage: 'lookup', reason: 'error', action: 'empty-features' });
    s.mode = 'ok';
    await predictor.predict(request('r6'));
    s.mode = 'throw';
    const third = await predictor.predict(request('r7'));
    expect(third.degraded[0]).toMatchObject({ stage: 'lookup', action: 'cached-features' });
    expect(Array.from(third.raw)).toEqual([0.1, 0.11, 0.12].map(Math.fround));
  });

  it("uses the store's own degraded answer (its priors) when it has no cached counters", async () => {
    const predictor = createPredictor({ encoder, store: store('degraded'), runner: runner('v1', (b, r) => (b.dense[r] as number) / 100) });
    const result = await predictor.predict(request('r10'));
    expect(result.degraded[0]).toMatchObject({ stage: 'lookup', reason: 'error', action: 'empty-features', detail: 'E_STORE: connection refused' });
    expect(result.raw[0]).toBeCloseTo(0.07, 6);
  });

  it('a store that hangs is abandoned at its budget', async () => {
    const predictor = createPredictor({ encoder, store: store('hang'), runner: runner('v1', byId), budgets: { lookup: 3 } });
    const pending = predictor.predict(request('r8'));
    await vi.advanceTimersByTimeAsync(3);
    const result = await pending;
    expect(result.degraded[0]).toMatchObject({ stage: 'lookup', reason: 'deadline', action: 'empty-features' });
    expect(result.pCtr[0]).toBeCloseTo(0.1, 6);
    expect(result.lookup?.values.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('keeps each cached user\'s own counters when entries are evicted and recycled', async () => {
    // A store that answers per user (and reuses one output buffer, as a host passing `out` would).
    const shared = new Float32Array(8);
    let mode: 'ok' | 'throw' = 'ok';
    const perUser: FeatureStore = {
      names: ['ad.clicks'],
      record: () => Promise.resolve(),
      lookup(user: { id: string }, candidates: readonly AdCandidate[]) {
        if (mode === 'throw') return Promise.reject(new CtrkitError('E_STORE', 'redis down'));
        const base = Number(user.id.slice(2)) * 10;
        candidates.forEach((_, i) => (shared[i] = base + i));
        return Promise.resolve({ names: ['ad.clicks'], rows: candidates.length, values: shared.subarray(0, candidates.length), degraded: false });
      },
      forgetUser: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const predictor = createPredictor({ encoder, store: perUser, runner: runner('v1', (b, r) => (b.dense[r] as number) / 100), userCacheSize: 2 });
    const as = (userId: string, id: string, ads?: string[]): AdRequest => ({ ...request(id, ads), user: { id: userId } });
    await predictor.predict(as('u-1', 'a'));
    await predictor.predict(as('u-2', 'b', ['ad-1', 'ad-2']));
    await predictor.predict(as('u-3', 'c', ['ad-4', 'ad-5', 'ad-6', 'ad-7'])); // evicts u-1; its entry is reused
    mode = 'throw';
    const u2 = await predictor.predict(as('u-2', 'd', ['ad-2', 'ad-1']));
    expect(u2.degraded[0]).toMatchObject({ action: 'cached-features' });
    expect(Array.from(u2.raw)).toEqual([0.21, 0.2].map(Math.fround));
    const u3 = await predictor.predict(as('u-3', 'e', ['ad-7', 'ad-4']));
    expect(Array.from(u3.raw)).toEqual([0.33, 0.3].map(Math.fround));
    const u1 = await predictor.predict(as('u-1', 'f'));
    expect(u1.degraded[0]).toMatchObject({ action: 'empty-features' });
  });

  it('reuses a user\'s counters within the cache TTL instead of asking the store', async () => {
    const clock = createManualClock(0);
    const s = store();
    const predictor = createPredictor({ encoder, store: s, runner: runner('v1', byId), userCacheTtlMs: 1_000, clock });
    await predictor.predict(request('a'));
    clock.advance(500);
    await predictor.predict(request('b'));
    expect(s.lookups).toBe(1);
    await predictor.predict(request('c', ['ad-1', 'ad-9'])); // ad-9 never looked up
    expect(s.lookups).toBe(2);
    clock.advance(2_000);
    await predictor.predict(request('d'));
    expect(s.lookups).toBe(3);
  });

  it('scores a repeated ad once and shares concurrent calls with the same request id', async () => {
    const model = runner('v1', byId);
    const predictor = createPredictor({ encoder, runner: model });
    const result = await predictor.predict(request('dup', ['ad-1', 'ad-2', 'ad-1']));
    expect(Array.from(result.pCtr)).toEqual([0.1, 0.2, 0.1].map(Math.fround));
    const [a, b] = await Promise.all([predictor.predict(request('same')), predictor.predict(request('same'))]);
    expect(a).toBe(b);
    expect(model.calls).toBe(2);
  });

  it('hands the scored batch to the caller with keepBatch: its own per request, one row per distinct ad, mapped to the candidates', async () => {
    const seen: FeatureBatch[] = [];
    const model = runner('v1', (batch, r) => {
      if (r === 0) seen.push(batch);
      return byId(batch, r);
    });
    const predictor = createPredictor({ encoder, store: store(), runner: model, keepBatch: true });
    const first = await predictor.predict(request('k1', ['ad-1', 'ad-2', 'ad-1']));
    expect(first.batch).toBe(seen[0]); // exactly the bits the model scored
    expect(first.batch!.rows).toBe(2);
    expect(Array.from(first.batchRows!)).toEqual([0, 1, 0]);
    expect(Array.from(first.batch!.ids.subarray(0, 2))).toEqual([1, 2]);
    const second = await predictor.predict(request('k2', ['ad-3']));
    expect(second.batch).not.toBe(first.batch); // not recycled: the first is still the caller's
    expect(Array.from(first.batch!.ids.subarray(0, 2))).toEqual([1, 2]);
    expect(Array.from(second.batchRows!)).toEqual([0]);
    const plain = await createPredictor({ encoder, runner: model }).predict(request('k3', ['ad-1']));
    expect(plain.batch).toBeUndefined();
    expect(plain.batchRows).toBeUndefined();
  });

  it('an encoder that throws degrades every candidate to the default score', async () => {
    const broken: FeatureEncoder = { layout, encode: () => { throw new CtrkitError('E_INPUT', 'user.age must be a number'); } };
    const predictor = createPredictor({ encoder: broken, runner: runner('v1', byId) });
    const result = await predictor.predict(request('r9'));
    expect(Array.from(result.pCtr)).toEqual([0, 0, 0]);
    expect(result.degraded[0]).toMatchObject({ stage: 'encode', reason: 'error', detail: expect.stringContaining('user.age') });
  });

  it('rejects a request without candidates and bad options', async () => {
    const predictor = createPredictor({ encoder, runner: runner('v1', byId) });
    await expect(predictor.predict({ ...request('x'), candidates: [] })).rejects.toMatchObject({ code: 'E_INPUT' });
    expect(() => createPredictor({ encoder, runner: runner('v1', byId), budgets: { predict: 0 } })).toThrow(/budget for predict/);
    expect(() => createPredictor({ encoder, runner: runner('v1', byId), defaultPctr: 2 })).toThrow(/defaultPctr/);
  });
});
