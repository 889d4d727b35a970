/**
 * The model manifest's shape, `model.json` beside `model.onnx`: what the model is, which feature
 * spec it was trained on, and which array of a `FeatureBatch` feeds each of its inputs.
 */
import type { CalibratorJSON } from '@ctrkit/core';

/** The array of a `FeatureBatch` that feeds a model input.
 *
 * @example
 * ```ts
 * import type { BatchSource } from '@ctrkit/models';
 * const source: BatchSource = 'sequenceIds';
 * ```
 */
export type BatchSource = 'ids' | 'values' | 'dense' | 'sequenceIds' | 'sequenceLengths';

/** Element types a manifest input may declare (`int64` ids are converted on the fly, at a cost).
 *
 * @example
 * ```ts
 * import type { InputType } from '@ctrkit/models';
 * const type: InputType = 'int32';
 * ```
 */
export type InputType = 'int32' | 'int64' | 'float32';

/** One model input: its tensor name in the ONNX graph, the batch array that feeds it, its type and shape.
 *
 * @example
 * ```ts
 * import type { ManifestInput } from '@ctrkit/models';
 * const input: ManifestInput = { name: 'ids', source: 'ids', type: 'int32', shape: [-1, 39] };
 * ```
 */
export interface ManifestInput {
  /** Input name in the ONNX graph. */
  readonly name: string;
  /** The batch array fed to it. */
  readonly source: BatchSource;
  /** Element type the graph declares. */
  readonly type: InputType;
  /**
   * Shape with -1 for the batch dimension: `[-1, idWidth]` for ids and values,
   * `[-1, denseWidth]` for dense, `[-1, S, L]` for sequenceIds, `[-1, S]` for sequenceLengths.
   */
  readonly shape: readonly number[];
  /** Free text for people reading the manifest. */
  readonly description?: string;
}

/** The model output the runner reads, and whether it is a logit (the runner applies the sigmoid) or a probability.
 *
 * @example
 * ```ts
 * import type { ManifestOutput } from '@ctrkit/models';
 * const output: ManifestOutput = { name: 'probability', kind: 'probability' };
 * ```
 */
export interface ManifestOutput {
  /** Output name in the ONNX graph; shape `[-1]` or `[-1, 1]`. */
  readonly name: string;
  /** `logit` or `probability`. */
  readonly kind: 'logit' | 'probability';
}

/**
 * The contents of `model.json`. See the package README for a worked example and for how to write
 * one for a model trained in PyTorch or TensorFlow.
 *
 * @example
 * ```ts
 * import type { ModelManifest } from '@ctrkit/models';
 * const manifest: ModelManifest = {
 *   format: 'ctrkit.model', formatVersion: 1,
 *   architecture: 'lr', version: '1', fingerprint: 'abc123', idSpace: 1024,
 *   inputs: [
 *     { name: 'ids', source: 'ids', type: 'int32', shape: [-1, 2] },
 *     { name: 'values', source: 'values', type: 'float32', shape: [-1, 2] },
 *   ],
 *   output: { name: 'probability', kind: 'probability' },
 * };
 * ```
 */
export interface ModelManifest {
  /** Always `ctrkit.model`. */
  readonly format: 'ctrkit.model';
  /** Manifest format version (1). */
  readonly formatVersion: 1;
  /** Architecture name: lr, fm, dcnv2, deepfm, din, or any name of your own. */
  readonly architecture: string;
  /** Model version (any string; shown in `ModelInfo`). */
  readonly version: string;
  /** Fingerprint of the feature spec the model was trained on. */
  readonly fingerprint: string;
  /** Size of the id space the model's tables cover. */
  readonly idSpace: number;
  /** Every graph input, with the batch array that feeds it. */
  readonly inputs: readonly ManifestInput[];
  /** The output to read. */
  readonly output: ManifestOutput;
  /** A core calibrator's JSON, applied after the model (identity when absent). */
  readonly calibration?: CalibratorJSON;
  /** Training and evaluation metrics (auc, logLoss, …). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Architecture hyper-parameters (embedding dim, cross layers, …), for people and tools. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** ISO-8601 time of export. */
  readonly createdAt?: string;
  /** What wrote the model (`ctrkit 0.1.0`, `pytorch 2.4`, …). */
  readonly producer?: string;
  /** Free text. */
  readonly description?: string;
}
