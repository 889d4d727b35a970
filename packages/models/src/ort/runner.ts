/**
 * The ModelRunner over one onnxruntime session, for either platform: each batch array is fed as
 * a tensor (cached while the encoder reuses its arrays), the one output is read back as
 * probabilities. Internal.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { BatchChecker, sequenceStride, type BatchArrayName, type BatchExpectation } from '../batch-check.js';
import { messageOf } from '../error-message.js';
import type { InputType, ModelManifest } from '../manifest.js';
import { Lifecycle } from '../runner/lifecycle.js';
import { outputFor } from '../runner/output-buffer.js';
import { sigmoid } from '../runner/sigmoid.js';
import type { OrtRuntime, OrtSessionLike, OrtTensorLike } from './types.js';

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
