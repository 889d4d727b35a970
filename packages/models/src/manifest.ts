/**
 * The model manifest, `model.json` beside `model.onnx`: what the model is, which feature spec it
 * was trained on, and which array of a `FeatureBatch` feeds each of its inputs. Any ONNX model
 * that comes with a valid manifest plugs in, whatever trained it.
 */
import { calibratorFromJSON, CtrkitError, type Calibrator, type CalibratorJSON, type FeatureLayout } from '@ctrkit/core';
import { checkLayout, sequenceStride } from './batch-check.js';
import type { ModelWeights } from './weights.js';

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

const SOURCES: readonly BatchSource[] = ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths'];
const SOURCE_TYPES: Readonly<Record<BatchSource, readonly InputType[]>> = {
  ids: ['int32', 'int64'],
  values: ['float32'],
  dense: ['float32'],
  sequenceIds: ['int32', 'int64'],
  sequenceLengths: ['int32', 'int64'],
};

/** @internal The input names ctrkit's builders give each batch array. */
export const STANDARD_INPUT_NAMES: Readonly<Record<BatchSource, string>> = {
  ids: 'ids',
  values: 'values',
  dense: 'dense',
  sequenceIds: 'sequence_ids',
  sequenceLengths: 'sequence_lengths',
};

const STANDARD_DESCRIPTIONS: Readonly<Record<BatchSource, string>> = {
  ids: 'hashed ids, row-major [rows × idWidth], in [0, idSpace)',
  values: 'weight of each id (1 present, 0 bag padding)',
  dense: 'normalised dense columns [rows × denseWidth]',
  sequenceIds: 'behaviour sequences [rows × S × L], left-padded with id 0',
  sequenceLengths: 'real items of each sequence [rows × S]',
};

/** @internal The shape a layout gives a batch array, batch dimension -1. */
export function layoutShape(layout: FeatureLayout, source: BatchSource): number[] {
  switch (source) {
    case 'ids':
    case 'values':
      return [-1, layout.idWidth];
    case 'dense':
      return [-1, layout.denseWidth];
    case 'sequenceIds':
      return [-1, layout.sequences.length, sequenceStride(layout)];
    case 'sequenceLengths':
      return [-1, layout.sequences.length];
  }
}

/** @internal The inputs a built-in architecture reads from a layout (unused arrays omitted). */
export function builtInInputs(layout: FeatureLayout, kind: ModelWeights['kind']): ManifestInput[] {
  const sources: BatchSource[] = ['ids', 'values'];
  if (layout.denseWidth > 0) sources.push('dense');
  if ((kind === 'dcnv2' || kind === 'deepfm' || kind === 'din') && layout.sequences.length > 0) sources.push('sequenceIds', 'sequenceLengths');
  return sources.map((source) => ({
    name: STANDARD_INPUT_NAMES[source],
    source,
    type: source === 'values' || source === 'dense' ? 'float32' : 'int32',
    shape: layoutShape(layout, source),
    description: STANDARD_DESCRIPTIONS[source],
  }));
}

/** Options for {@link createManifest}.
 *
 * @example
 * ```ts
 * import type { CreateManifestOptions } from '@ctrkit/models';
 * const options: CreateManifestOptions = { version: '2026-01-01.1', metrics: { auc: 0.79 } };
 * ```
 */
export interface CreateManifestOptions {
  /** Model version. */
  readonly version: string;
  /** Calibrator (fitted) or its JSON, applied after the model. */
  readonly calibration?: Calibrator | CalibratorJSON;
  /** Training and evaluation metrics. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Free text. */
  readonly description?: string;
  /** Export time (default: now, ISO-8601). */
  readonly createdAt?: string;
  /** Producer string (default `ctrkit`). */
  readonly producer?: string;
}

function configOf(weights: ModelWeights): Record<string, unknown> {
  switch (weights.kind) {
    case 'lr':
      return {};
    case 'fm':
      return { dim: weights.dim };
    case 'dcnv2':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        crossLayers: weights.cross.length,
        crossRanks: weights.cross.map((layer) => (layer.kind === 'full' ? 'full' : layer.rank)),
        deep: weights.deep.map((layer) => layer.outputs),
        structure: 'parallel',
      };
    case 'deepfm':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        deep: weights.deep.map((layer) => layer.outputs),
        interactions: 'fm over field embeddings',
      };
    case 'din':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        pooling: weights.pooling.map((p) => (p.kind === 'mean' ? 'mean' : p.layers.map((layer) => layer.outputs))),
        deep: weights.deep.map((layer) => layer.outputs),
      };
  }
}

/**
 * Writes the manifest of a model built by {@link buildLrModel}, {@link buildFmModel},
 * {@link buildDcnV2Model}, {@link buildDeepFmModel} or {@link buildDinModel} from the same layout and weights.
 *
 * @param layout - The layout the model was built for.
 * @param weights - The weights it was built from (only their kind and shapes are read).
 * @param options - Version, calibration, metrics, description.
 * @returns A manifest to save as `model.json` (see {@link manifestToJSON}).
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on an invalid calibrator.
 * @example
 * ```ts
 * import { buildLrModel, createManifest, initLrWeights, manifestToJSON } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initLrWeights(layout);
 * const onnx = buildLrModel(layout, weights);
 * const json = manifestToJSON(createManifest(layout, weights, { version: '1', metrics: { auc: 0.74 } }));
 * ```
 */
export function createManifest(layout: FeatureLayout, weights: ModelWeights, options: CreateManifestOptions): ModelManifest {
  checkLayout(layout);
  const calibration = options.calibration === undefined ? undefined : 'toJSON' in options.calibration ? options.calibration.toJSON() : options.calibration;
  if (calibration !== undefined) calibratorFromJSON(calibration);
  const manifest: ModelManifest = {
    format: 'ctrkit.model',
    formatVersion: 1,
    architecture: weights.kind,
    version: options.version,
    fingerprint: layout.fingerprint,
    idSpace: layout.idSpace,
    inputs: builtInInputs(layout, weights.kind),
    output: { name: 'probability', kind: 'probability' },
    ...(calibration === undefined ? {} : { calibration }),
    ...(options.metrics === undefined ? {} : { metrics: { ...options.metrics } }),
    config: configOf(weights),
    createdAt: options.createdAt ?? new Date().toISOString(),
    producer: options.producer ?? 'ctrkit',
    ...(options.description === undefined ? {} : { description: options.description }),
  };
  return parseManifest(manifest);
}

/**
 * Serialises a manifest as indented JSON for `model.json`.
 *
 * @param manifest - A manifest.
 * @returns Its JSON text.
 * @example
 * ```ts
 * import { manifestToJSON, type ModelManifest } from '@ctrkit/models';
 * declare const manifest: ModelManifest;
 * const text = manifestToJSON(manifest);
 * ```
 */
export function manifestToJSON(manifest: ModelManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function fail(path: string, problem: string): never {
  throw new CtrkitError('E_MODEL_LOAD', `model.json: ${path} ${problem}`, { details: { path } });
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function optionalStr(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(path, `must be a string when present, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Parses and validates a manifest (the text of `model.json`, or its parsed object).
 *
 * @param json - JSON text or the parsed value.
 * @returns The manifest, with every field checked.
 * @throws `CtrkitError` `E_MODEL_LOAD` naming the first missing or malformed field and how to fix it.
 * @example
 * ```ts
 * import { parseManifest } from '@ctrkit/models';
 * const manifest = parseManifest(`{
 *   "format": "ctrkit.model", "formatVersion": 1, "architecture": "lr", "version": "1",
 *   "fingerprint": "abc", "idSpace": 16,
 *   "inputs": [{ "name": "ids", "source": "ids", "type": "int32", "shape": [-1, 2] }],
 *   "output": { "name": "logit", "kind": "logit" }
 * }`);
 * console.log(manifest.output.kind); // logit
 * ```
 */
export function parseManifest(json: unknown): ModelManifest {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CtrkitError('E_MODEL_LOAD', `model.json is not valid JSON (${(error as Error).message}); the file is corrupt or truncated`, { cause: error });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(root)', 'must be a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== 'ctrkit.model') fail('format', `must be "ctrkit.model", got ${JSON.stringify(m.format)}; is this a ctrkit model manifest?`);
  if (m.formatVersion !== 1) fail('formatVersion', `is ${JSON.stringify(m.formatVersion)}; this version of @ctrkit/models reads format 1 — upgrade @ctrkit/models`);
  const architecture = str(m.architecture, 'architecture');
  const version = str(m.version, 'version');
  const fingerprint = str(m.fingerprint, 'fingerprint');
  const idSpace = m.idSpace;
  if (typeof idSpace !== 'number' || !Number.isInteger(idSpace) || idSpace <= 0 || idSpace > 0x7fffffff) {
    fail('idSpace', `must be an integer in [1, 2^31) (the size of the model's id tables), got ${JSON.stringify(idSpace)}`);
  }
  if (!Array.isArray(m.inputs) || m.inputs.length === 0) fail('inputs', 'must be a non-empty array of { name, source, type, shape }');
  const names = new Set<string>();
  const sources = new Set<string>();
  const inputs: ManifestInput[] = m.inputs.map((raw: unknown, i: number) => {
    const path = `inputs[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(path, 'must be an object { name, source, type, shape }');
    const input = raw as Record<string, unknown>;
    const name = str(input.name, `${path}.name`);
    if (names.has(name)) fail(`${path}.name`, `repeats "${name}"; each graph input appears once`);
    names.add(name);
    const source = input.source;
    if (typeof source !== 'string' || !(SOURCES as readonly string[]).includes(source)) {
      fail(`${path}.source`, `must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
    }
    const batchSource = source as BatchSource;
    if (sources.has(batchSource)) fail(`${path}.source`, `repeats "${batchSource}"; feed each batch array to one input`);
    sources.add(batchSource);
    const type = input.type;
    if (typeof type !== 'string' || !(SOURCE_TYPES[batchSource] as readonly string[]).includes(type)) {
      fail(`${path}.type`, `must be ${SOURCE_TYPES[batchSource].join(' or ')} for source ${batchSource}, got ${JSON.stringify(type)}`);
    }
    const rank = batchSource === 'sequenceIds' ? 3 : 2;
    const shape = input.shape;
    if (!Array.isArray(shape) || shape.length !== rank || !shape.every((d) => Number.isInteger(d))) {
      fail(`${path}.shape`, `must be an array of ${rank} integers with -1 for the batch dimension (e.g. ${JSON.stringify(batchSource === 'sequenceIds' ? [-1, 1, 50] : [-1, 8])}), got ${JSON.stringify(shape)}`);
    }
    if (shape[0] !== -1) fail(`${path}.shape`, `must start with -1 (any batch size), got ${JSON.stringify(shape)}`);
    for (let d = 1; d < shape.length; d++) if ((shape[d] as number) < 0) fail(`${path}.shape`, `has a negative inner dimension: ${JSON.stringify(shape)}`);
    const description = optionalStr(input.description, `${path}.description`);
    return { name, source: batchSource, type: type as InputType, shape: shape as number[], ...(description === undefined ? {} : { description }) };
  });
  if (sources.has('sequenceIds') !== sources.has('sequenceLengths')) {
    fail('inputs', 'must feed sequenceIds and sequenceLengths together (a model cannot mask padding without lengths)');
  }
  const ids = inputs.find((input) => input.source === 'ids');
  const values = inputs.find((input) => input.source === 'values');
  if (ids && values && ids.shape[1] !== values.shape[1]) fail('inputs', `give ids ${JSON.stringify(ids.shape)} and values ${JSON.stringify(values.shape)} different widths; both are [-1, idWidth]`);
  const seqIds = inputs.find((input) => input.source === 'sequenceIds');
  const seqLengths = inputs.find((input) => input.source === 'sequenceLengths');
  if (seqIds && seqLengths && seqIds.shape[1] !== seqLengths.shape[1]) {
    fail('inputs', `give sequenceIds ${JSON.stringify(seqIds.shape)} and sequenceLengths ${JSON.stringify(seqLengths.shape)} different sequence counts`);
  }
  if (typeof m.output !== 'object' || m.output === null) fail('output', 'must be an object { name, kind }');
  const outputRaw = m.output as Record<string, unknown>;
  const outputName = str(outputRaw.name, 'output.name');
  if (outputRaw.kind !== 'logit' && outputRaw.kind !== 'probability') fail('output.kind', `must be "logit" or "probability", got ${JSON.stringify(outputRaw.kind)}`);
  let calibration: CalibratorJSON | undefined;
  if (m.calibration !== undefined) {
    try {
      calibration = calibratorFromJSON(m.calibration).toJSON();
    } catch (error) {
      throw new CtrkitError('E_MODEL_LOAD', `model.json: calibration is invalid: ${(error as Error).message}`, { cause: error, details: { path: 'calibration' } });
    }
  }
  let metrics: Record<string, number> | undefined;
  if (m.metrics !== undefined) {
    if (typeof m.metrics !== 'object' || m.metrics === null || Array.isArray(m.metrics)) fail('metrics', 'must be an object of numbers');
    metrics = {};
    for (const [key, metric] of Object.entries(m.metrics as Record<string, unknown>)) {
      if (typeof metric !== 'number' || !Number.isFinite(metric)) fail(`metrics.${key}`, `must be a finite number, got ${JSON.stringify(metric)}`);
      metrics[key] = metric;
    }
  }
  let config: Record<string, unknown> | undefined;
  if (m.config !== undefined) {
    if (typeof m.config !== 'object' || m.config === null || Array.isArray(m.config)) fail('config', 'must be an object');
    config = m.config as Record<string, unknown>;
  }
  const createdAt = optionalStr(m.createdAt, 'createdAt');
  const producer = optionalStr(m.producer, 'producer');
  const description = optionalStr(m.description, 'description');
  return {
    format: 'ctrkit.model',
    formatVersion: 1,
    architecture,
    version,
    fingerprint,
    idSpace,
    inputs,
    output: { name: outputName, kind: outputRaw.kind },
    ...(calibration === undefined ? {} : { calibration }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(config === undefined ? {} : { config }),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(producer === undefined ? {} : { producer }),
    ...(description === undefined ? {} : { description }),
  };
}

/**
 * Checks that a manifest fits an encoder's layout: same fingerprint, same id space, and every
 * input's shape equal to the one the layout gives its batch array.
 *
 * @param manifest - A parsed manifest.
 * @param layout - The encoder's layout.
 * @throws `CtrkitError` `E_MODEL_LOAD` saying what differs and how to mend it.
 * @example
 * ```ts
 * import { checkManifestAgainstLayout, type ModelManifest } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const manifest: ModelManifest;
 * declare const layout: FeatureLayout;
 * checkManifestAgainstLayout(manifest, layout);
 * ```
 */
export function checkManifestAgainstLayout(manifest: ModelManifest, layout: FeatureLayout): void {
  checkFingerprint(manifest, layout.fingerprint);
  if (manifest.idSpace !== layout.idSpace) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model.json says idSpace ${manifest.idSpace} but the encoder's layout has ${layout.idSpace}; the model's tables would not cover the encoder's ids — retrain or fix the manifest`,
    );
  }
  try {
    checkLayout(layout);
  } catch (error) {
    throw new CtrkitError('E_MODEL_LOAD', `the encoder's layout is inconsistent: ${(error as Error).message}`, { cause: error });
  }
  for (const input of manifest.inputs) {
    const expected = layoutShape(layout, input.source);
    if (expected.length !== input.shape.length || expected.some((d, i) => d !== input.shape[i])) {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.json input "${input.name}" (${input.source}) has shape ${JSON.stringify(input.shape)} but the encoder's layout gives ${JSON.stringify(expected)}; the model was built for another layout — retrain it or fix the manifest`,
        { details: { input: input.name, manifest: input.shape, layout: expected } },
      );
    }
  }
}

/** @internal Refuses a manifest trained on another feature spec. */
export function checkFingerprint(manifest: ModelManifest, fingerprint: string): void {
  if (manifest.fingerprint !== fingerprint) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model was trained on feature spec ${manifest.fingerprint} but the encoder uses spec ${fingerprint}; load the model trained on this spec, or the encoder's spec that matches the model`,
      { details: { model: manifest.fingerprint, encoder: fingerprint } },
    );
  }
}
