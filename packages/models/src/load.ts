/**
 * Loading a model: validate the manifest, check it against the encoder and against the ONNX
 * graph, then try the backends in order until one runs a warm-up batch. Platform entries read
 * the files (`@ctrkit/models/node`) or fetch them (`@ctrkit/models/browser`) and call this.
 */
import {
  calibratorFromJSON,
  CtrkitError,
  isCtrkitError,
  type Calibrator,
  type FeatureBatch,
  type FeatureLayout,
  type ModelRunner,
} from '@ctrkit/core';
import { defaultBackendRegistry } from './backend/registry.js';
import type { BackendRegistry } from './backend/types.js';
import { checkFingerprint, checkManifestAgainstLayout, parseManifest, type ModelManifest } from './manifest.js';
import { inspectOnnxModel, type OnnxModelInfo } from './onnx-graph-reader.js';

/** Options of every `loadModel`.
 *
 * @example
 * ```ts
 * import type { LoadModelOptions } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const options: LoadModelOptions = { expect: layout, backends: ['onnx-node:cuda', 'onnx-node:cpu', 'native'] };
 * ```
 */
export interface LoadModelOptions {
  /**
   * What the encoder produces: its full layout (fingerprint, id space and every input shape are
   * checked) or just the feature-spec fingerprint. A model trained on another spec is refused.
   */
  readonly expect: FeatureLayout | { readonly fingerprint: string };
  /** `backend` or `backend:provider` names to try, best first (default: every registered backend by priority). */
  readonly backends?: readonly string[];
  /** Registry to resolve backends from (default: the default registry). */
  readonly registry?: BackendRegistry;
  /** Threads inside one operator (default 1). */
  readonly intraOpThreads?: number;
  /** Threads across operators (default 1). */
  readonly interOpThreads?: number;
  /** Rows of the warm-up batch run before the runner is returned (default 2; 0 skips warm-up). */
  readonly warmupRows?: number;
  /**
   * Scan every id and value of every batch before running (default true), so a bad one is
   * refused with `E_INPUT` naming its row and column. Costs about 1–1.5 ns per value. Set false only
   * behind a trusted encoder: shapes, layouts and sequence lengths are still checked, an
   * out-of-range id then fails inside onnxruntime (`E_INFERENCE`) and a NaN input surfaces as a
   * non-probability output (`E_INFERENCE`). The native backend always scans.
   */
  readonly checkValues?: boolean;
}

/** A loaded model: the runner (probabilities before calibration), the manifest and the calibrator.
 *
 * @example
 * ```ts
 * import type { LoadedModel } from '@ctrkit/models';
 * import type { FeatureBatch } from '@ctrkit/core';
 * async function score(model: LoadedModel, batch: FeatureBatch) {
 *   const raw = await model.runner.predict(batch);
 *   return model.calibrator.apply(raw, raw);
 * }
 * ```
 */
export interface LoadedModel {
  /** Scores batches (probabilities before calibration). */
  readonly runner: ModelRunner;
  /** The parsed manifest. */
  readonly manifest: ModelManifest;
  /** The manifest's calibrator (identity when it has none), for the pipeline's calibration stage. */
  readonly calibrator: Calibrator;
  /** `backend:provider — reason` for every backend tried before the one that runs it. */
  readonly skipped: readonly string[];
}

/** The bytes of a model and its manifest, as a platform entry read them.
 *
 * @example
 * ```ts
 * import type { ModelFiles } from '@ctrkit/models';
 * declare const bytes: Uint8Array;
 * const files: ModelFiles = { model: bytes, manifest: '{"format":"ctrkit.model"}' };
 * ```
 */
export interface ModelFiles {
  /** `model.onnx`. */
  readonly model: Uint8Array;
  /** `model.json` as text or parsed. */
  readonly manifest: unknown;
}

function isLayout(value: LoadModelOptions['expect']): value is FeatureLayout {
  return typeof (value as FeatureLayout).idSpace === 'number' && Array.isArray((value as FeatureLayout).fields);
}

/** @internal Checks that the graph's inputs and output are the ones the manifest describes. */
export function checkGraphAgainstManifest(graph: OnnxModelInfo, manifest: ModelManifest): void {
  const graphFingerprint = graph.metadata['ctrkit.fingerprint'];
  if (graphFingerprint !== undefined && graphFingerprint !== manifest.fingerprint) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model.onnx was built for feature spec ${graphFingerprint} but model.json says ${manifest.fingerprint}; the two files come from different exports — copy them together`,
    );
  }
  for (const input of manifest.inputs) {
    const node = graph.inputs.find((i) => i.name === input.name);
    if (node === undefined) {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.json feeds input "${input.name}" but model.onnx has no such input (it has ${graph.inputs.map((i) => i.name).join(', ') || 'none'}); fix the names in model.json`,
      );
    }
    if (input.type !== node.type) {
      throw new CtrkitError('E_MODEL_LOAD', `model.onnx input "${input.name}" is ${node.type} but model.json says ${input.type}; fix the manifest's type (or cast in the model)`);
    }
    if (node.dims.length !== input.shape.length) {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.onnx input "${input.name}" has rank ${node.dims.length} (${JSON.stringify(node.dims)}) but model.json gives shape ${JSON.stringify(input.shape)}`,
      );
    }
    const batchDim = node.dims[0];
    if (typeof batchDim === 'number') {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.onnx fixes the batch dimension of input "${input.name}" to ${batchDim}; export it with a dynamic batch axis (PyTorch: dynamic_axes={'${input.name}': {0: 'batch'}})`,
      );
    }
    for (let d = 1; d < node.dims.length; d++) {
      const dim = node.dims[d];
      if (typeof dim === 'number' && dim !== input.shape[d]) {
        throw new CtrkitError(
          'E_MODEL_LOAD',
          `model.onnx input "${input.name}" has shape ${JSON.stringify(node.dims)} but model.json says ${JSON.stringify(input.shape)} (dimension ${d} differs); the manifest does not describe this model`,
        );
      }
    }
  }
  for (const node of graph.inputs) {
    if (!manifest.inputs.some((input) => input.name === node.name)) {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.onnx needs input "${node.name}" (${node.type} ${JSON.stringify(node.dims)}) but model.json does not say which batch array feeds it; add it to the manifest's inputs`,
      );
    }
  }
  const output = graph.outputs.find((o) => o.name === manifest.output.name);
  if (output === undefined) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model.json reads output "${manifest.output.name}" but model.onnx has outputs ${graph.outputs.map((o) => o.name).join(', ')}; fix output.name`,
    );
  }
  if (output.type !== 'float32') throw new CtrkitError('E_MODEL_LOAD', `model.onnx output "${output.name}" is ${output.type}; the runner reads float32`);
  if (output.dims.length > 2 || (output.dims.length === 2 && typeof output.dims[1] === 'number' && output.dims[1] !== 1)) {
    throw new CtrkitError('E_MODEL_LOAD', `model.onnx output "${output.name}" has shape ${JSON.stringify(output.dims)}; it must be [batch] or [batch, 1] (one score per row)`);
  }
}

/** A small valid batch in the manifest's shapes: ids 0, values 1, dense 0, full sequences. */
function warmupBatch(manifest: ModelManifest, rows: number): FeatureBatch {
  const shape = (source: string) => manifest.inputs.find((input) => input.source === source)?.shape;
  const idWidth = shape('ids')?.[1] ?? shape('values')?.[1] ?? 0;
  const denseWidth = shape('dense')?.[1] ?? 0;
  const S = shape('sequenceIds')?.[1] ?? 0;
  const L = shape('sequenceIds')?.[2] ?? 0;
  const layout: FeatureLayout = {
    fingerprint: manifest.fingerprint,
    idSpace: manifest.idSpace,
    idWidth,
    fields: [],
    denseWidth,
    denseNames: [],
    sequences: Array.from({ length: S }, (_, s) => ({ name: `warmup_${s}`, maxLength: L })),
  };
  return {
    layout,
    rows,
    ids: new Int32Array(rows * idWidth),
    values: new Float32Array(rows * idWidth).fill(1),
    dense: new Float32Array(rows * denseWidth),
    sequenceIds: new Int32Array(rows * S * L),
    sequenceLengths: new Int32Array(rows * S).fill(L),
  };
}

/**
 * Loads a model from its bytes and manifest: refuses a manifest for another feature spec or one
 * that does not describe the graph, then tries the backends in order (each initialized once)
 * until one creates a session and runs a warm-up batch.
 *
 * @param files - `model.onnx` bytes and `model.json` (text or parsed).
 * @param options - Expected layout or fingerprint, backend preferences, threads, warm-up.
 * @returns The runner, the manifest and the calibrator.
 * @throws `CtrkitError` `E_MODEL_LOAD` for a corrupt or mismatched model or manifest (or one every backend refused);
 * `E_BACKEND_UNAVAILABLE` listing every cause when no requested backend can run here.
 * @example
 * ```ts
 * import { loadModelFromBytes } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const bytes: Uint8Array;
 * declare const manifestText: string;
 * const { runner, calibrator } = await loadModelFromBytes({ model: bytes, manifest: manifestText }, { expect: layout, backends: ['native'] });
 * ```
 */
export async function loadModelFromBytes(files: ModelFiles, options: LoadModelOptions): Promise<LoadedModel> {
  if (typeof options !== 'object' || options === null || typeof options.expect !== 'object' || options.expect === null) {
    throw new CtrkitError('E_CONFIG', 'loadModel needs options.expect: the encoder\'s FeatureLayout (encoder.layout) or { fingerprint }');
  }
  const manifest = parseManifest(files.manifest);
  const expect = options.expect;
  const layout = isLayout(expect) ? expect : undefined;
  if (layout !== undefined) checkManifestAgainstLayout(manifest, layout);
  else checkFingerprint(manifest, expect.fingerprint);
  checkGraphAgainstManifest(inspectOnnxModel(files.model), manifest);
  let calibrator: Calibrator;
  try {
    calibrator = calibratorFromJSON(manifest.calibration ?? { kind: 'identity' });
  } catch (error) {
    throw new CtrkitError('E_MODEL_LOAD', `model.json: calibration is invalid: ${(error as Error).message}`, { cause: error });
  }
  const warmupRows = options.warmupRows ?? 2;
  if (!Number.isInteger(warmupRows) || warmupRows < 0) throw new CtrkitError('E_CONFIG', `warmupRows must be an integer ≥ 0, got ${warmupRows}`);
  const registry = options.registry ?? defaultBackendRegistry;
  const { candidates, skipped: unavailable } = await registry.resolve(options.backends);
  const skipped = [...unavailable];
  let modelRefused = false;
  for (const { backend, provider } of candidates) {
    let runner: ModelRunner | undefined;
    try {
      runner = await backend.createRunner(
        { bytes: files.model, manifest, ...(layout === undefined ? {} : { layout }) },
        {
          provider,
          ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
          ...(options.interOpThreads === undefined ? {} : { interOpThreads: options.interOpThreads }),
          ...(options.checkValues === undefined ? {} : { checkValues: options.checkValues }),
        },
      );
      if (warmupRows > 0) {
        try {
          await runner.predict(warmupBatch(manifest, warmupRows));
        } catch (error) {
          throw new CtrkitError('E_MODEL_LOAD', `warm-up batch failed: ${(error as Error).message}`, { cause: error });
        }
      }
      return { runner, manifest, calibrator, skipped };
    } catch (error) {
      if (runner !== undefined) await runner.dispose().catch(() => undefined);
      const code = isCtrkitError(error) ? error.code : 'E_MODEL_LOAD';
      if (code !== 'E_BACKEND_UNAVAILABLE') modelRefused = true;
      skipped.push(`${backend.name}:${provider}: ${(error as Error).message ?? String(error)}`);
    }
  }
  throw new CtrkitError(
    modelRefused ? 'E_MODEL_LOAD' : 'E_BACKEND_UNAVAILABLE',
    modelRefused
      ? `no backend could load ${manifest.architecture} model ${manifest.version} — ${skipped.join('; ')}`
      : `no backend can run ${manifest.architecture} model ${manifest.version} here — ${skipped.join('; ')}`,
    { details: { skipped } },
  );
}
