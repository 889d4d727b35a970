import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlattCalibrator, type FeatureLayout } from '@ctrkit/core';
import {
  buildDcnV2Model,
  buildLrModel,
  createBackendRegistry,
  createManifest,
  createNativeBackend,
  defaultBackendRegistry,
  initDcnV2Weights,
  initLrWeights,
  loadModelFromBytes,
  manifestToJSON,
  type ModelManifest,
} from '../src/index.js';
import { loadModel as loadModelInBrowser } from '../src/browser.js';
import { createOnnxNodeBackend, loadModel, saveModel } from '../src/node.js';
import { ctrkitRejectionOf } from '@ctrkit/test-support';
import { plainLayout, richLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff, probabilities, referenceLr } from './fixtures/reference-models.js';

const { onnx } = onnxProto;

const layout = richLayout();
const lrWeights = initLrWeights(layout, { seed: 'load', scale: 0.5 });
const lrBytes = buildLrModel(layout, lrWeights);
const lrManifest = createManifest(layout, lrWeights, { version: '7', metrics: { auc: 0.71 } });
const registry = createBackendRegistry();
registry.register(createOnnxNodeBackend({ providers: ['cpu'] }), 100);
registry.register(createNativeBackend(), 10);

describe('loading refuses what does not match, with E_MODEL_LOAD and a way to mend it', () => {
  it('a model trained on another feature spec (layout or fingerprint given)', async () => {
    const other: FeatureLayout = { ...layout, fingerprint: 'spec-other' };
    const e1 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: other, registry }));
    expect(e1.code).toBe('E_MODEL_LOAD');
    expect(e1.message).toMatch(/trained on feature spec spec-rich but the encoder uses spec spec-other/);
    const e2 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: { fingerprint: 'abc' }, registry }));
    expect(e2.message).toMatch(/trained on feature spec spec-rich but the encoder uses spec abc/);
  });

  it('a manifest whose shapes or id space differ from the encoder layout', async () => {
    const e1 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: { ...layout, idSpace: 4096 }, registry }));
    expect(e1.message).toMatch(/idSpace 997 but the encoder's layout has 4096/);
    const wider: FeatureLayout = { ...layout, idWidth: 7, fields: [...layout.fields, { name: 'extra', kind: 'categorical', offset: 6, width: 1 }] };
    const e2 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: wider, registry }));
    expect(e2.message).toMatch(/input "ids" \(ids\) has shape \[-1,6\] but the encoder's layout gives \[-1,7\]/);
  });

  it('a corrupt, truncated or empty model.onnx', async () => {
    const garbage = new Uint8Array(256).map((_, i) => (i * 97 + 13) & 0xff);
    for (const bytes of [garbage, lrBytes.subarray(0, Math.floor(lrBytes.length / 2)), new Uint8Array(0)]) {
      const e = await ctrkitRejectionOf(loadModelFromBytes({ model: bytes, manifest: lrManifest }, { expect: layout, registry }));
      expect(e.code).toBe('E_MODEL_LOAD');
      expect(e.message).toMatch(/model\.onnx (is not a valid ONNX model|is empty|holds no graph)/);
    }
  });

  it('a malformed model.json, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"format": "ctrkit.model", ', /not valid JSON/],
      [{ ...lrManifest, format: 'other' }, /format must be "ctrkit\.model"/],
      [{ ...lrManifest, formatVersion: 2 }, /formatVersion is 2; .*upgrade/],
      [{ ...lrManifest, fingerprint: '' }, /fingerprint must be a non-empty string/],
      [{ ...lrManifest, idSpace: -1 }, /idSpace must be an integer/],
      [{ ...lrManifest, inputs: [] }, /inputs must be a non-empty array/],
      [{ ...lrManifest, inputs: [{ ...lrManifest.inputs[0], source: 'idz' }] }, /inputs\[0\]\.source must be one of ids, values/],
      [{ ...lrManifest, inputs: [{ ...lrManifest.inputs[0], type: 'float32' }] }, /inputs\[0\]\.type must be int32 or int64 for source ids/],
      [{ ...lrManifest, inputs: [{ ...lrManifest.inputs[0], shape: [1, 6] }] }, /must start with -1/],
      [{ ...lrManifest, output: { name: 'probability', kind: 'odds' } }, /output\.kind must be "logit" or "probability"/],
      [{ ...lrManifest, calibration: { kind: 'platt', a: 'x', b: 0, input: 'logit' } }, /calibration is invalid/],
      [{ ...lrManifest, metrics: { auc: 'high' } }, /metrics\.auc must be a finite number/],
    ];
    for (const [manifest, message] of cases) {
      const e = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest }, { expect: layout, registry }));
      expect(e.code).toBe('E_MODEL_LOAD');
      expect(e.message).toMatch(message);
    }
  });

  it('a manifest that does not describe the graph', async () => {
    const rename = (manifest: ModelManifest, from: string, to: string): ModelManifest => ({
      ...manifest,
      inputs: manifest.inputs.map((input) => (input.name === from ? { ...input, name: to } : input)),
    });
    const e1 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: rename(lrManifest, 'ids', 'feat_ids') }, { expect: layout, registry }));
    expect(e1.message).toMatch(/feeds input "feat_ids" but model\.onnx has no such input \(it has ids, values, dense\)/);
    const withoutDense = { ...lrManifest, inputs: lrManifest.inputs.filter((input) => input.source !== 'dense') };
    const e2 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: withoutDense }, { expect: { fingerprint: 'spec-rich' }, registry }));
    expect(e2.message).toMatch(/model\.onnx needs input "dense" .* but model\.json does not say which batch array feeds it/);
    const int64 = { ...lrManifest, inputs: lrManifest.inputs.map((input) => (input.source === 'ids' ? { ...input, type: 'int64' as const } : input)) };
    const e3 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: int64 }, { expect: layout, registry }));
    expect(e3.message).toMatch(/input "ids" is int32 but model\.json says int64/);
    const e4 = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: { ...lrManifest, output: { name: 'score', kind: 'logit' } } }, { expect: layout, registry }));
    expect(e4.message).toMatch(/reads output "score" but model\.onnx has outputs logit, probability/);
  });

  it('model.onnx and model.json from different exports', async () => {
    const other = { ...layout, fingerprint: 'spec-b' };
    const manifestB = createManifest(other, lrWeights, { version: '1' });
    const e = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: manifestB }, { expect: other, registry }));
    expect(e.message).toMatch(/built for feature spec spec-rich but model\.json says spec-b; the two files come from different exports/);
  });

  it('a graph the runtime refuses: E_MODEL_LOAD with the runtime’s reason, or the next backend takes it', async () => {
    // Decodes fine, declares the manifest's inputs, but uses an operator no runtime has.
    const model = onnx.ModelProto.decode(lrBytes);
    model.graph!.node![0]!.opType = 'NoSuchOperator';
    const broken = onnx.ModelProto.encode(model).finish();
    const e = await ctrkitRejectionOf(loadModelFromBytes({ model: broken, manifest: lrManifest }, { expect: layout, registry, backends: ['onnx-node'] }));
    expect(e.code).toBe('E_MODEL_LOAD');
    expect(e.message).toMatch(/no backend could load lr model 7 — onnx-node:cpu: onnx-node:cpu refused model\.onnx: .*NoSuchOperator/);
    // The native backend reads an LR model's weights, not its graph, so it still serves — and says what it skipped.
    const loaded = await loadModelFromBytes({ model: broken, manifest: lrManifest }, { expect: layout, registry });
    expect(loaded.runner.info.backend).toBe('native');
    expect(loaded.skipped.join('\n')).toMatch(/onnx-node:cpu: .*NoSuchOperator/);
    await loaded.runner.dispose();
  });
});

/**
 * What this host has: whether onnxruntime-node's CUDA provider library is installed (the README's
 * CUDA step puts it there) and, if so, whether a session can start on it (a GPU and its driver).
 * The tests below assert the behavior that follows from these facts, so they hold on a CPU-only
 * host and on one that followed the CUDA step alike.
 */
const cudaLibraryInstalled = (() => {
  const require = createRequire(import.meta.url);
  const directory = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(directory, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
})();
let cudaUsable = false;
beforeAll(async () => {
  if (!cudaLibraryInstalled) return;
  const only = createBackendRegistry();
  only.register(createOnnxNodeBackend({ providers: ['cuda'] }), 1);
  try {
    const probe = await loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: layout, registry: only });
    cudaUsable = probe.runner.info.provider === 'cuda';
    await probe.runner.dispose();
  } catch {
    cudaUsable = false;
  }
});
/** Why `onnx-node:cuda` was skipped on this host, as the loader says it. */
const cudaSkipReason = () => (cudaLibraryInstalled ? /onnx-node:cuda: / : /onnx-node:cuda: the CUDA execution provider is not installed .* npm rebuild onnxruntime-node/);

describe('backends', () => {
  it('falls through to the next backend and reports why the others were skipped', async () => {
    const dcnLayout = plainLayout();
    const weights = initDcnV2Weights(dcnLayout, { embeddingDim: 4, deep: [8] });
    const reverse = createBackendRegistry();
    reverse.register(createNativeBackend(), 100);
    reverse.register(createOnnxNodeBackend({ providers: ['cuda', 'cpu'] }), 10);
    const loaded = await loadModelFromBytes(
      { model: buildDcnV2Model(dcnLayout, weights), manifest: createManifest(dcnLayout, weights, { version: '1' }) },
      { expect: dcnLayout, registry: reverse },
    );
    expect(loaded.runner.info.backend).toBe('onnx-node');
    expect(loaded.runner.info.provider).toBe(cudaUsable ? 'cuda' : 'cpu');
    expect(loaded.skipped.join('\n')).toMatch(/native:js: native runs lr and fm models only, not dcnv2/);
    if (cudaUsable) expect(loaded.skipped.join('\n')).not.toMatch(/onnx-node:cuda/);
    else expect(loaded.skipped.join('\n')).toMatch(cudaSkipReason());
    await loaded.runner.dispose();
  });

  it('throws E_BACKEND_UNAVAILABLE listing every cause when nothing requested can run', async () => {
    const withCuda = createBackendRegistry();
    withCuda.register(createOnnxNodeBackend({ providers: ['cuda', 'cpu'] }), 100);
    withCuda.register(createNativeBackend(), 10);
    const wanted = { expect: layout, registry: withCuda, backends: ['onnx-node:cuda', 'onnx-web', 'onnx-node:tpu'] };
    if (cudaUsable) {
      // This host runs CUDA: the first backend asked for loads, so ask for the impossible ones only.
      const loaded = await loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, wanted);
      expect(loaded.runner.info.provider).toBe('cuda');
      await loaded.runner.dispose();
      wanted.backends = ['onnx-web', 'onnx-node:tpu'];
    }
    const e = await ctrkitRejectionOf(loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, wanted));
    expect(e.code).toBe('E_BACKEND_UNAVAILABLE');
    if (!cudaUsable) expect(e.message).toMatch(cudaSkipReason());
    expect(e.message).toMatch(/onnx-web: not registered \(registered: onnx-node, native\)/);
    expect(e.message).toMatch(/onnx-node:tpu: unknown provider/);
  });

  it('loads a model for the native backend and scores like onnx-node', async () => {
    const batch = randomBatch(layout, 16, 'native-vs-node');
    const onNative = await loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: layout, registry, backends: ['native'] });
    const onNode = await loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: layout, registry, backends: ['onnx-node'] });
    expect(maxAbsDiff(await onNative.runner.predict(batch), await onNode.runner.predict(batch))).toBeLessThanOrEqual(1e-6);
    await onNative.runner.dispose();
    await onNode.runner.dispose();
  });
});

describe('manifest contents reach the caller', () => {
  it('returns the calibrator rebuilt from the manifest, identity when there is none', async () => {
    const platt = createPlattCalibrator().fit([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 1, 0, 1, 1]);
    const calibrated = createManifest(layout, lrWeights, { version: '8', calibration: platt });
    const loaded = await loadModelFromBytes({ model: lrBytes, manifest: manifestToJSON(calibrated) }, { expect: layout, registry });
    expect(loaded.calibrator.kind).toBe('platt');
    expect(loaded.calibrator.applyOne(0.4)).toBeCloseTo(platt.applyOne(0.4), 12);
    expect(loaded.manifest.version).toBe('8');
    const plain = await loadModelFromBytes({ model: lrBytes, manifest: lrManifest }, { expect: layout, registry });
    expect(plain.calibrator.kind).toBe('identity');
    expect(plain.manifest.metrics).toEqual({ auc: 0.71 });
    await Promise.all([loaded.runner.dispose(), plain.runner.dispose()]);
  });
});

describe('bring your own model', () => {
  it('runs a hand-written graph with other input names, int64 ids and a logit output of shape [batch, 1]', async () => {
    // What a PyTorch export looks like: int64 indices, its own names, a [batch, 1] logit.
    const own = plainLayout('spec-own');
    const table = new Float32Array(own.idSpace).map((_, i) => Math.sin(i) * 0.7);
    const T = onnx.TensorProto.DataType;
    const info = (name: string, type: number, dims: (number | string)[]) => ({
      name,
      type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        producerName: 'pytorch',
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'torch_jit',
          node: [
            { opType: 'Gather', input: ['emb.weight', 'feat_ids'], output: ['g'], attribute: [{ name: 'axis', i: 0, type: onnx.AttributeProto.AttributeType.INT }] },
            { opType: 'Mul', input: ['g', 'feat_vals'], output: ['m'] },
            { opType: 'ReduceSum', input: ['m', 'axes'], output: ['score'], attribute: [{ name: 'keepdims', i: 1, type: onnx.AttributeProto.AttributeType.INT }] },
          ],
          initializer: [
            { name: 'emb.weight', dataType: T.FLOAT, dims: [own.idSpace], rawData: new Uint8Array(table.buffer) },
            { name: 'axes', dataType: T.INT64, dims: [1], int64Data: [1] },
          ],
          input: [info('feat_ids', T.INT64, ['N', 3]), info('feat_vals', T.FLOAT, ['N', 3])],
          output: [info('score', T.FLOAT, ['N', 1])],
        },
      }),
    ).finish();
    const manifest = {
      format: 'ctrkit.model',
      formatVersion: 1,
      architecture: 'torch-lr',
      version: '2026.1',
      fingerprint: 'spec-own',
      idSpace: own.idSpace,
      inputs: [
        { name: 'feat_ids', source: 'ids', type: 'int64', shape: [-1, 3] },
        { name: 'feat_vals', source: 'values', type: 'float32', shape: [-1, 3] },
      ],
      output: { name: 'score', kind: 'logit' },
      producer: 'pytorch 2.4',
    };
    const loaded = await loadModelFromBytes({ model, manifest: JSON.stringify(manifest) }, { expect: own, registry });
    expect(loaded.runner.info).toMatchObject({ architecture: 'torch-lr', backend: 'onnx-node' });
    expect(loaded.skipped).toEqual([]);
    const batch = randomBatch(own, 33, 'byo');
    const expected = probabilities(referenceLr({ kind: 'lr', idSpace: own.idSpace, denseWidth: 0, bias: 0, ids: table, dense: new Float32Array(0) }, batch));
    expect(maxAbsDiff(await loaded.runner.predict(batch), expected)).toBeLessThanOrEqual(1e-6);
    // The native backend declines a model it did not write, so a native-only host hears why.
    const e = await ctrkitRejectionOf(loadModelFromBytes({ model, manifest }, { expect: own, registry, backends: ['native'] }));
    expect(e.message).toMatch(/native runs lr and fm models only, not torch-lr/);
    await loaded.runner.dispose();
  });

  it('refuses a graph that fixes the batch dimension', async () => {
    const model = onnx.ModelProto.decode(lrBytes);
    for (const input of model.graph!.input!) input.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    const e = await ctrkitRejectionOf(loadModelFromBytes({ model: onnx.ModelProto.encode(model).finish(), manifest: lrManifest }, { expect: layout, registry }));
    expect(e.message).toMatch(/fixes the batch dimension of input "ids" to 1; export it with a dynamic batch axis/);
  });
});

describe('@ctrkit/models/node files', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ctrkit-models-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('saves model.onnx + model.json and loads them back by directory or .onnx path, registering the Node backends lazily', async () => {
    const saved = await saveModel(join(directory, 'lr', '7'), { model: lrBytes, manifest: lrManifest });
    expect(JSON.parse(await readFile(saved.manifest, 'utf8'))).toMatchObject({ format: 'ctrkit.model', version: '7' });
    expect(defaultBackendRegistry.list()).toEqual([]);
    const byDirectory = await loadModel(join(directory, 'lr', '7'), { expect: layout });
    expect(defaultBackendRegistry.list().map((b) => b.name)).toEqual(['onnx-node', 'native']);
    const byPath = await loadModel(saved.model, { expect: layout, backends: ['native'] });
    const batch = randomBatch(layout, 9, 'files');
    const expected = probabilities(referenceLr(lrWeights, batch));
    expect(maxAbsDiff(await byDirectory.runner.predict(batch), expected)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(await byPath.runner.predict(batch), expected)).toBeLessThanOrEqual(1e-5);
    await Promise.all([byDirectory.runner.dispose(), byPath.runner.dispose()]);
  });

  it('reports a missing directory or manifest with E_IO', async () => {
    const e1 = await ctrkitRejectionOf(loadModel(join(directory, 'missing'), { expect: layout }));
    expect(e1.code).toBe('E_IO');
    await writeFile(join(directory, 'lonely.onnx'), lrBytes);
    const e2 = await ctrkitRejectionOf(loadModel(join(directory, 'lonely.onnx'), { expect: layout }));
    expect(e2.code).toBe('E_IO');
    expect(e2.message).toMatch(/cannot read model\.json at .*lonely\.json/);
  });
});

describe('@ctrkit/models/browser', () => {
  it('loads from bytes and a manifest object through onnx-web (in Node)', async () => {
    const web = createBackendRegistry();
    const { registerWebBackends } = await import('../src/browser.js');
    registerWebBackends(web, { providers: ['webgpu', 'wasm'] });
    const loaded = await loadModelInBrowser({ model: lrBytes, manifest: lrManifest }, { expect: layout, registry: web });
    expect(loaded.runner.info).toMatchObject({ backend: 'onnx-web', provider: 'wasm' });
    // webgpu has no adapter in Node: skipped with its reason, not a crash.
    expect(loaded.skipped.join('\n')).toMatch(/onnx-web:webgpu: /);
    const batch = randomBatch(layout, 5, 'web');
    expect(maxAbsDiff(await loaded.runner.predict(batch), probabilities(referenceLr(lrWeights, batch)))).toBeLessThanOrEqual(1e-5);
    await loaded.runner.dispose();
  });
});
