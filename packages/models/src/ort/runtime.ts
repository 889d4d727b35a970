/**
 * The onnxruntime adapter both platform entries share: load the runtime module a platform names,
 * then create sessions and build tensors through onnxruntime-common's API, which onnxruntime-node
 * and onnxruntime-web both expose. Internal.
 */
import { CtrkitError } from '@ctrkit/core';
import type { RunnerOptions } from '../backend/types.js';
import { messageOf } from '../error-message.js';
import type { InputType } from '../manifest.js';
import type { OrtModule, OrtPlatform, OrtRuntime, OrtSessionLike, OrtTensorLike } from './types.js';

/**
 * @internal Imports a platform's onnxruntime module, applies its global options and returns the
 * runtime the backend and its runners use.
 *
 * @throws `CtrkitError` `E_BACKEND_UNAVAILABLE` when the module cannot be loaded (not installed,
 * or its native binding or wasm missing), saying which other backends can run.
 */
export async function loadOrtRuntime<M extends OrtModule>(platform: OrtPlatform<M>): Promise<OrtRuntime> {
  let ort: M;
  try {
    // Loaded as CommonJS (the package's CJS build), the module's exports may sit under `default`.
    const module = (await platform.import()) as M & { readonly default?: M };
    ort = typeof module.InferenceSession?.create === 'function' ? module : (module.default as M);
  } catch (error) {
    throw new CtrkitError('E_BACKEND_UNAVAILABLE', `${platform.runtime} could not be loaded (${messageOf(error)}); install it, or use ${platform.otherwise}`, {
      cause: error,
    });
  }
  platform.configure?.(ort);
  return {
    async createSession(bytes: Uint8Array, provider: string, options: RunnerOptions): Promise<OrtSessionLike> {
      platform.checkProvider?.(provider);
      return ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all', ...platform.sessionOptions(provider, options) });
    },
    tensor(type: InputType, data: Int32Array | BigInt64Array | Float32Array, dims: readonly number[]): OrtTensorLike {
      return new ort.Tensor(type, data, dims);
    },
  };
}
