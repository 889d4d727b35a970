/**
 * The `native` backend: runs LR and FM models written by ctrkit's builders by reading their
 * weights out of `model.onnx` into a native runner, so a host without onnxruntime still serves them.
 */
import { CtrkitError } from '@ctrkit/core';
import type { BatchExpectation } from '../batch-check.js';
import type { Backend, BackendStatus, ModelSource, RunnerOptions } from '../backend/types.js';
import { findInitializer, inspectOnnxModel, readFloatInitializer } from '../onnx-graph-reader.js';
import { NativeRunnerImpl } from './runner.js';
import type { NativeRunner, NativeWeights } from './types.js';

/**
 * Creates the `native` backend: it runs LR and FM models written by ctrkit's builders by reading
 * their weights out of `model.onnx`, with no native module. Other architectures are skipped with
 * a reason, so a loader falls through to the next backend.
 *
 * @returns A backend to register (priority 10 by convention: the last resort).
 * @example
 * ```ts
 * import { createNativeBackend, registerBackend } from '@ctrkit/models';
 * registerBackend(createNativeBackend(), 10);
 * ```
 */
export function createNativeBackend(): Backend {
  return {
    name: 'native',
    providers: ['js'],
    init: async (): Promise<BackendStatus> => ({ available: ['js'], unavailable: [] }),
    async createRunner(model: ModelSource, _options: RunnerOptions): Promise<NativeRunner> {
      const { manifest } = model;
      if (manifest.architecture !== 'lr' && manifest.architecture !== 'fm') {
        throw new CtrkitError('E_BACKEND_UNAVAILABLE', `native runs lr and fm models only, not ${manifest.architecture}`);
      }
      const info = inspectOnnxModel(model.bytes);
      const producer = info.producerName;
      if (producer !== 'ctrkit') {
        throw new CtrkitError('E_BACKEND_UNAVAILABLE', `native runs models written by ctrkit's builders; this one was produced by ${producer || 'an unknown tool'}`);
      }
      const shapeOf = (source: string) => manifest.inputs.find((input) => input.source === source)?.shape;
      const idWidth = shapeOf('ids')?.[1];
      if (idWidth === undefined || shapeOf('values') === undefined) {
        throw new CtrkitError('E_BACKEND_UNAVAILABLE', 'native needs the model to read ids and values');
      }
      const denseWidth = shapeOf('dense')?.[1] ?? 0;
      const prefix = manifest.architecture;
      const idSpace = manifest.idSpace;
      const bias = (readFloatInitializer(info, `${prefix}.bias`, 1)[0] as number);
      const ids = readFloatInitializer(info, `${prefix}.ids`, idSpace);
      const dense = denseWidth > 0 ? readFloatInitializer(info, `${prefix}.dense`, denseWidth) : new Float32Array(0);
      let weights: NativeWeights;
      if (prefix === 'lr') {
        weights = { kind: 'lr', idSpace, denseWidth, bias, ids, dense };
      } else {
        const dim = findInitializer(info, 'fm.id_factors')?.dims[1] ?? 0;
        if (!(dim > 0)) throw new CtrkitError('E_MODEL_LOAD', 'model.onnx has no usable fm.id_factors initializer');
        weights = {
          kind: 'fm',
          idSpace,
          denseWidth,
          dim,
          bias,
          ids,
          dense,
          idFactors: readFloatInitializer(info, 'fm.id_factors', idSpace * dim),
          denseFactors: denseWidth > 0 ? readFloatInitializer(info, 'fm.dense_factors', denseWidth * dim) : new Float32Array(0),
        };
      }
      const expected: BatchExpectation = {
        fingerprint: manifest.fingerprint,
        idSpace,
        idWidth,
        denseWidth,
        sequenceCount: undefined,
        sequenceLength: undefined,
        reads: new Set(denseWidth > 0 ? ['ids', 'values', 'dense'] : ['ids', 'values']),
      };
      return new NativeRunnerImpl(expected, weights, manifest.version);
    },
  };
}
