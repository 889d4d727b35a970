/**
 * The ONNX runner and backend shared by onnx-node and onnx-web: both expose onnxruntime-common's
 * API, so each platform entry only supplies a small runtime adapter (how to load the module,
 * create a session and build a tensor). Internal.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { BatchChecker, sequenceStride, type BatchArrayName, type BatchExpectation } from './batch-check.js';
import type { Backend, BackendStatus, ModelSource, RunnerOptions } from './backend.js';
import type { InputType, ModelManifest } from './manifest.js';
import { PROBE_LOGIT, probeModel } from './probe-model.js';
import { Lifecycle, outputFor, sigmoid } from './runner-util.js';

/** @internal A tensor as onnxruntime-common shapes it. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

/** @internal An inference session as onnxruntime-common shapes it. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>, fetches: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** @internal What a platform supplies: session creation and tensor construction from its onnxruntime module. */
export interface OrtRuntime {
  createSession(bytes: Uint8Array, provider: string, options: RunnerOptions): Promise<OrtSessionLike>;
  tensor(type: InputType, data: Int32Array | BigInt64Array | Float32Array, dims: readonly number[]): OrtTensorLike;
}

/** @internal How to build an ONNX backend for one platform. */
export interface OrtBackendSpec {
  readonly name: string;
  readonly providers: readonly string[];
  /** Imports the runtime module (dynamically, so importing the entry loads nothing). */
  load(): Promise<OrtRuntime>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** @internal Creates a backend over an onnxruntime flavour. */
export function createOrtBackend(spec: OrtBackendSpec): Backend {
  let runtime: OrtRuntime | undefined;
  return {
    name: spec.name,
    providers: spec.providers,
    async init(): Promise<BackendStatus> {
      const loaded = await spec.load();
      const available: string[] = [];
      const unavailable: { provider: string; reason: string }[] = [];
      for (const provider of spec.providers) {
        try {
          const session = await loaded.createSession(probeModel(), provider, { provider });
          try {
            const result = await session.run({ ids: loaded.tensor('int32', new Int32Array([0]), [1, 1]), values: loaded.tensor('float32', new Float32Array([1]), [1, 1]) }, ['logit']);
            const logit = (result.logit?.data as Float32Array | undefined)?.[0];
            if (logit === undefined || Math.abs(logit - PROBE_LOGIT) > 1e-6) throw new Error(`probe model returned ${String(logit)} instead of ${PROBE_LOGIT}`);
          } finally {
            await session.release();
          }
          available.push(provider);
        } catch (error) {
          unavailable.push({ provider, reason: messageOf(error).split('\n')[0] as string });
        }
      }
      if (available.length === 0) {
        throw new CtrkitError('E_BACKEND_UNAVAILABLE', `${spec.name}: no execution provider works here (${unavailable.map((u) => `${u.provider}: ${u.reason}`).join('; ')})`);
      }
      runtime = loaded;
      return { available, unavailable };
    },
    async createRunner(model: ModelSource, options: RunnerOptions): Promise<ModelRunner> {
      if (runtime === undefined) throw new CtrkitError('E_STATE', `${spec.name} backend: init() must succeed before createRunner()`);
      let session: OrtSessionLike;
      try {
        session = await runtime.createSession(model.bytes, options.provider, options);
      } catch (error) {
        throw new CtrkitError('E_MODEL_LOAD', `${spec.name}:${options.provider} refused model.onnx: ${messageOf(error)}`, { cause: error });
      }
      return new OnnxRunner(spec.name, options.provider, runtime, session, model.manifest, options.checkValues !== false);
    },
  };
}

const DIMS_OF: Readonly<Record<BatchArrayName, (layout: FeatureLayout) => number[]>> = {
  ids: (layout) => [layout.idWidth],
  values: (layout) => [layout.idWidth],
  dense: (layout) => [layout.denseWidth],
  sequenceIds: (layout) => [layout.sequences.length, sequenceStride(layout)],
  sequenceLengths: (layout) => [layout.sequences.length],
};

/**
 * One model input fed from one batch array. The tensor is cached while the batch hands over the
 * same array object with the same row count: an encoder that reuses its output batch then costs
 * no tensor construction at all (the tensor wraps the array; onnxruntime reads it at run time).
 */
class FeedSlot {
  private lastArray: unknown = undefined;
  private lastRows = -1;
  private tensor: OrtTensorLike | undefined;

  constructor(
    readonly name: string,
    readonly source: BatchArrayName,
    private readonly type: InputType,
    private readonly runtime: OrtRuntime,
  ) {}

  tensorFor(batch: FeatureBatch): OrtTensorLike {
    const array = batch[this.source];
    const rows = batch.rows;
    if (this.type === 'int64') return this.widen(array as Int32Array, rows, batch.layout);
    if (array === this.lastArray && rows === this.lastRows && this.tensor !== undefined) return this.tensor;
    const tensor = this.runtime.tensor(this.type, array, [rows, ...DIMS_OF[this.source](batch.layout)]);
    this.lastArray = array;
    this.lastRows = rows;
    this.tensor = tensor;
    return tensor;
  }

  /**
   * int64 inputs (common in PyTorch exports) get a fresh buffer per call — calls may overlap, and
   * onnxruntime-node reads inputs only when the run starts. Filled through an Int32 view (low word,
   * then the sign word; little-endian), so no BigInt is created per element.
   */
  private widen(ids: Int32Array, rows: number, layout: FeatureLayout): OrtTensorLike {
    const wide = new BigInt64Array(ids.length);
    const words = new Int32Array(wide.buffer);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i] as number;
      words[2 * i] = v;
      words[2 * i + 1] = v >> 31;
    }
    return this.runtime.tensor('int64', wide, [rows, ...DIMS_OF[this.source](layout)]);
  }
}

function expectationOf(manifest: ModelManifest, scanValues: boolean): BatchExpectation {
  const shape = (source: BatchArrayName) => manifest.inputs.find((input) => input.source === source)?.shape;
  const ids = shape('ids') ?? shape('values');
  const sequences = shape('sequenceIds');
  return {
    fingerprint: manifest.fingerprint,
    idSpace: manifest.idSpace,
    idWidth: ids?.[1],
    denseWidth: shape('dense')?.[1],
    sequenceCount: sequences?.[1] ?? shape('sequenceLengths')?.[1],
    sequenceLength: sequences?.[2],
    reads: new Set(manifest.inputs.map((input) => input.source)),
    scanValues,
  };
}

/** @internal A ModelRunner over one onnxruntime session. */
export class OnnxRunner implements ModelRunner {
  readonly info: ModelInfo;
  private readonly slots: FeedSlot[];
  private readonly fetches: readonly string[];
  private readonly outputName: string;
  private readonly isLogit: boolean;
  private readonly checker: BatchChecker;
  private readonly lifecycle: Lifecycle;

  constructor(
    backend: string,
    provider: string,
    runtime: OrtRuntime,
    private readonly session: OrtSessionLike,
    manifest: ModelManifest,
    checkValues: boolean,
  ) {
    this.info = Object.freeze({ architecture: manifest.architecture, version: manifest.version, backend, provider, fingerprint: manifest.fingerprint });
    this.slots = manifest.inputs.map((input) => new FeedSlot(input.name, input.source, input.type, runtime));
    this.outputName = manifest.output.name;
    this.fetches = Object.freeze([manifest.output.name]);
    this.isLogit = manifest.output.kind === 'logit';
    this.checker = new BatchChecker(expectationOf(manifest, checkValues));
    this.lifecycle = new Lifecycle(() => `${backend}:${provider} runner for ${manifest.architecture} ${manifest.version}`);
    for (const name of session.inputNames) {
      if (!this.slots.some((slot) => slot.name === name)) {
        throw new CtrkitError('E_MODEL_LOAD', `model.onnx needs input "${name}", which model.json does not feed; add it to the manifest's inputs`);
      }
    }
  }

  async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    this.lifecycle.enter();
    try {
      this.checker.check(batch);
      const rows = batch.rows;
      const target = outputFor(out, rows);
      if (rows === 0) return target;
      // A fresh feeds object per call: onnxruntime-node reads it later, after concurrent calls may have started.
      const feeds: Record<string, OrtTensorLike> = {};
      for (const slot of this.slots) feeds[slot.name] = slot.tensorFor(batch);
      let results: Record<string, OrtTensorLike>;
      try {
        results = await this.session.run(feeds, this.fetches);
      } catch (error) {
        throw new CtrkitError('E_INFERENCE', `${this.info.backend}:${this.info.provider} failed to run ${this.info.architecture} ${this.info.version}: ${messageOf(error)}`, {
          cause: error,
        });
      }
      const data = results[this.outputName]?.data;
      if (!(data instanceof Float32Array) || data.length !== rows) {
        throw new CtrkitError(
          'E_INFERENCE',
          `model output "${this.outputName}" should hold ${rows} float32 values (one per row) but holds ${data instanceof Float32Array ? data.length : typeof data}; export the model with output shape [batch] or [batch, 1]`,
        );
      }
      // Copying ≤ rows floats costs less than building a preallocated output tensor per call, and
      // onnxruntime-web 1.30 ignores preallocated CPU outputs in Node anyway.
      if (this.isLogit) for (let r = 0; r < rows; r++) target[r] = sigmoid(data[r] as number);
      else target.set(data);
      for (let r = 0; r < rows; r++) {
        const p = target[r] as number;
        if (!(p >= 0 && p <= 1)) {
          throw new CtrkitError('E_INFERENCE', `model produced ${p} for row ${r}, not a probability; check the manifest's output kind (logit or probability) and the model's weights`, {
            details: { row: r, value: p },
          });
        }
      }
      return target;
    } finally {
      this.lifecycle.exit();
    }
  }

  dispose(): Promise<void> {
    return this.lifecycle.dispose(() => this.session.release());
  }
}
