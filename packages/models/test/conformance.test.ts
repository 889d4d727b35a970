/**
 * One conformance suite, run against every backend that can run here: onnx-node (cpu),
 * onnx-web (wasm, in Node, wasm files from the package's own dist folder) and native (LR/FM).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isCtrkitError, type FeatureBatch, type FeatureLayout, type ModelRunner } from '@ctrkit/core';
import {
  buildModel,
  createBackendRegistry,
  createManifest,
  createNativeBackend,
  initDcnV2Weights,
  initDeepFmWeights,
  initDinWeights,
  initFmWeights,
  initLrWeights,
  loadModelFromBytes,
  manifestToJSON,
  type Backend,
  type ModelWeights,
} from '../src/index.js';
import { createOnnxWebBackend } from '../src/browser.js';
import { createOnnxNodeBackend } from '../src/node.js';
import { plainLayout, richLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff, probabilities, referenceLogits } from './fixtures/reference-models.js';

const wasmDirectory = pathToFileURL(`${dirname(createRequire(import.meta.url).resolve('onnxruntime-web'))}/`).href;

interface BackendCase {
  readonly name: string;
  readonly backend: Backend;
  readonly provider: string;
  readonly architectures: readonly ModelWeights['kind'][];
}

const cases: BackendCase[] = [
  { name: 'onnx-node', backend: createOnnxNodeBackend({ providers: ['cpu'] }), provider: 'cpu', architectures: ['lr', 'fm', 'dcnv2', 'deepfm', 'din'] },
  { name: 'onnx-web', backend: createOnnxWebBackend({ providers: ['wasm'], wasmPaths: wasmDirectory }), provider: 'wasm', architectures: ['lr', 'fm', 'dcnv2', 'deepfm', 'din'] },
  { name: 'native', backend: createNativeBackend(), provider: 'js', architectures: ['lr', 'fm'] },
];

function weightsFor(kind: ModelWeights['kind'], layout: FeatureLayout): ModelWeights {
  switch (kind) {
    case 'lr':
      return initLrWeights(layout, { seed: 'c-lr', scale: 0.5, biasScale: 0.3 });
    case 'fm':
      return initFmWeights(layout, { seed: 'c-fm', dim: 4, scale: 0.3, biasScale: 0.3 });
    case 'dcnv2':
      return initDcnV2Weights(layout, { seed: 'c-dcn', embeddingDim: 4, crossLayers: 2, deep: [16, 8], embeddingScale: 0.5, biasScale: 0.1 });
    case 'deepfm':
      return initDeepFmWeights(layout, { seed: 'c-deepfm', embeddingDim: 4, deep: [16, 8], embeddingScale: 0.5, linearScale: 0.3, biasScale: 0.1 });
    case 'din':
      return initDinWeights(layout, { seed: 'c-din', embeddingDim: 4, attention: [8], deep: [16], embeddingScale: 0.5, biasScale: 0.1 });
  }
}

async function expectCode(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(isCtrkitError(error), `expected ${code} ${String(message)}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  expect((error as Error).message).toMatch(message);
}

const opened: ModelRunner[] = [];
afterAll(async () => {
  await Promise.all(opened.map((runner) => runner.dispose()));
});

describe.each(cases)('conformance: $name', ({ name, backend, provider, architectures }) => {
  const registry = createBackendRegistry();
  registry.register(backend, 1);

  async function load(kind: ModelWeights['kind'], layout: FeatureLayout, version = '1') {
    const weights = weightsFor(kind, layout);
    const model = buildModel(layout, weights);
    const manifest = manifestToJSON(createManifest(layout, weights, { version }));
    const loaded = await loadModelFromBytes({ model, manifest }, { expect: layout, registry, backends: [name] });
    opened.push(loaded.runner);
    return { ...loaded, weights };
  }

  describe.each([
    ['rich', richLayout()],
    ['plain', plainLayout()],
  ])('%s layout', (_label, layout) => {
    it.each(architectures)('%s: scores match the naive forward pass (max abs error ≤ 1e-5)', async (kind) => {
      const { runner, weights, manifest } = await load(kind, layout);
      expect(runner.info).toEqual({ architecture: kind, version: '1', backend: name, provider, fingerprint: layout.fingerprint });
      expect(manifest.architecture).toBe(kind);
      for (const rows of [1, 7, 64]) {
        const batch = randomBatch(layout, rows, `conf-${kind}-${rows}`);
        const expected = probabilities(referenceLogits(layout, weights, batch));
        const got = await runner.predict(batch);
        expect(got).toBeInstanceOf(Float32Array);
        expect(got.length).toBe(rows);
        expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-5);
      }
    });
  });

  const layout = richLayout();
  const kind = architectures.includes('din') ? 'din' : 'fm';

  it('writes into out: the same array when it fits, a view of its head when longer, E_INPUT when shorter', async () => {
    const { runner } = await load(kind, layout);
    const batch = randomBatch(layout, 5, 'out');
    const fresh = await runner.predict(batch);
    const exact = new Float32Array(5);
    expect(await runner.predict(batch, exact)).toBe(exact);
    expect(Array.from(exact)).toEqual(Array.from(fresh));
    const longer = new Float32Array(8).fill(-1);
    const view = await runner.predict(batch, longer);
    expect(view.length).toBe(5);
    expect(view.buffer).toBe(longer.buffer);
    expect(Array.from(longer.subarray(5))).toEqual([-1, -1, -1]);
    await expectCode(runner.predict(batch, new Float32Array(3)), 'E_INPUT', /out holds 3 values but the batch has 5 rows/);
    expect((await runner.predict(randomBatch(layout, 0))).length).toBe(0);
  });

  it('sees new contents when an encoder refills the same arrays between calls', async () => {
    const { runner, weights } = await load(kind, layout);
    const a = randomBatch(layout, 6, 'refill-a');
    const b = randomBatch(layout, 6, 'refill-b');
    const reused: FeatureBatch = { ...a, ids: a.ids.slice(), values: a.values.slice(), dense: a.dense.slice(), sequenceIds: a.sequenceIds.slice(), sequenceLengths: a.sequenceLengths.slice() };
    const first = (await runner.predict(reused)).slice();
    reused.ids.set(b.ids);
    reused.values.set(b.values);
    reused.dense.set(b.dense);
    reused.sequenceIds.set(b.sequenceIds);
    reused.sequenceLengths.set(b.sequenceLengths);
    const second = await runner.predict(reused);
    expect(maxAbsDiff(first, probabilities(referenceLogits(layout, weights, a)))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(second, probabilities(referenceLogits(layout, weights, b)))).toBeLessThanOrEqual(1e-5);
  });

  it('gives each of many concurrent calls its own answer', async () => {
    const { runner } = await load(kind, layout);
    const batches = Array.from({ length: 12 }, (_, i) => randomBatch(layout, 1 + (i % 5), `concurrent-${i}`));
    const sequential: Float32Array[] = [];
    for (const batch of batches) sequential.push(await runner.predict(batch));
    const concurrent = await Promise.all(batches.map((batch) => runner.predict(batch)));
    concurrent.forEach((result, i) => expect(Array.from(result)).toEqual(Array.from(sequential[i]!)));
  });

  it('rejects bad batches with E_INPUT saying what is wrong, and keeps serving', async () => {
    const { runner } = await load(kind, layout);
    const good = randomBatch(layout, 4, 'bad');
    const mutate = (patch: (b: { -readonly [K in keyof FeatureBatch]: FeatureBatch[K] }) => void): FeatureBatch => {
      const copy = { ...good, ids: good.ids.slice(), values: good.values.slice(), dense: good.dense.slice(), sequenceIds: good.sequenceIds.slice(), sequenceLengths: good.sequenceLengths.slice() };
      patch(copy);
      return copy;
    };
    await expectCode(runner.predict(mutate((b) => (b.values[3] = Number.NaN))), 'E_INPUT', /batch\.values\[row 0, column 3\] is NaN/);
    await expectCode(runner.predict(mutate((b) => (b.dense[5] = Number.POSITIVE_INFINITY))), 'E_INPUT', /batch\.dense\[row 2, column 1\] is Infinity/);
    await expectCode(runner.predict(mutate((b) => (b.ids[7] = layout.idSpace))), 'E_INPUT', /batch\.ids\[row 1, column 1\] is 997, outside the model's id space \[0, 997\)/);
    await expectCode(runner.predict(mutate((b) => (b.ids[0] = -3))), 'E_INPUT', /is -3, outside/);
    await expectCode(runner.predict(mutate((b) => (b.ids = b.ids.subarray(1)))), 'E_INPUT', /batch\.ids holds 23 values but rows × width is 24/);
    await expectCode(runner.predict(mutate((b) => (b.layout = { ...layout, fingerprint: 'other-spec' }))), 'E_INPUT', /encoded with feature spec other-spec but the model expects spec spec-rich/);
    await expectCode(runner.predict(mutate((b) => (b.layout = { ...layout, denseWidth: 3 }))), 'E_INPUT', /denseWidth is 3 in the batch but 2 in the model/);
    if (kind === 'din') {
      await expectCode(runner.predict(mutate((b) => (b.sequenceLengths[1] = 4))), 'E_INPUT', /sequenceLengths\[row 0, sequence 1\] is 4, outside \[0, 3\]/);
      await expectCode(runner.predict(mutate((b) => (b.sequenceIds[2] = 5000))), 'E_INPUT', /batch\.sequenceIds\[row 0, column 2\] is 5000/);
    }
    await expectCode(runner.predict(undefined as unknown as FeatureBatch), 'E_INPUT', /needs a FeatureBatch/);
    expect((await runner.predict(good)).length).toBe(4);
  });

  // The native backend always scans (it has no runtime underneath to refuse a bad id).
  if (name !== 'native') {
    it('with checkValues off, still refuses bad input — from the runtime, as E_INFERENCE — and never crashes', async () => {
      const weights = weightsFor(kind, layout);
      const model = buildModel(layout, weights);
      const manifest = createManifest(layout, weights, { version: 'unchecked' });
      const { runner } = await loadModelFromBytes({ model, manifest }, { expect: layout, registry, backends: [name], checkValues: false });
      opened.push(runner);
      const good = randomBatch(layout, 4, 'unchecked');
      expect(maxAbsDiff(await runner.predict(good), probabilities(referenceLogits(layout, weights, good)))).toBeLessThanOrEqual(1e-5);
      const outOfRange = { ...good, ids: good.ids.map((id, i) => (i === 2 ? layout.idSpace + 5 : id)) };
      await expectCode(runner.predict(outOfRange), 'E_INFERENCE', /failed to run .*(out of|outside|bounds|range)/i);
      const nan = { ...good, dense: good.dense.map((v, i) => (i === 0 ? Number.NaN : v)) };
      await expectCode(runner.predict(nan), 'E_INFERENCE', /model produced NaN for row 0, not a probability/);
      await expectCode(runner.predict({ ...good, values: good.values.subarray(1) }), 'E_INPUT', /batch\.values holds 23 values/);
      expect((await runner.predict(good)).length).toBe(4);
    });
  }

  it('finishes calls in flight on dispose, then refuses with E_STATE', async () => {
    const { runner } = await load(kind, layout);
    const batch = randomBatch(layout, 3, 'dispose');
    const inflight = runner.predict(batch);
    const disposed = runner.dispose();
    expect((await inflight).length).toBe(3);
    await disposed;
    await expectCode(runner.predict(batch), 'E_STATE', /was disposed/);
    await runner.dispose(); // idempotent
  });
});
