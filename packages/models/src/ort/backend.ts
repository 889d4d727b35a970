/**
 * The ONNX backend both platform entries share (`onnx-node`, `onnx-web`): initializing it loads
 * the platform's runtime and probes each provider with a one-node model; a runner is an
 * `OnnxRunner` over one session. Internal.
 */
import { CtrkitError, type ModelRunner } from '@ctrkit/core';
import type { Backend, BackendStatus, ModelSource, RunnerOptions } from '../backend/types.js';
import { messageOf } from '../error-message.js';
import { PROBE_LOGIT, probeModel } from './probe-model.js';
import { OnnxRunner } from './runner.js';
import { loadOrtRuntime } from './runtime.js';
import type { OrtModule, OrtPlatform, OrtRuntime, OrtSessionLike } from './types.js';

/** @internal Creates the backend over one platform's onnxruntime (its runtime loads on `init`). */
export function createOrtBackend<M extends OrtModule>(platform: OrtPlatform<M>): Backend {
  let runtime: OrtRuntime | undefined;
  return {
    name: platform.name,
    providers: platform.providers,
    async init(): Promise<BackendStatus> {
      const loaded = await loadOrtRuntime(platform);
      const available: string[] = [];
      const unavailable: { provider: string; reason: string }[] = [];
      for (const provider of platform.providers) {
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
        throw new CtrkitError('E_BACKEND_UNAVAILABLE', `${platform.name}: no execution provider works here (${unavailable.map((u) => `${u.provider}: ${u.reason}`).join('; ')})`);
      }
      runtime = loaded;
      return { available, unavailable };
    },
    async createRunner(model: ModelSource, options: RunnerOptions): Promise<ModelRunner> {
      if (runtime === undefined) throw new CtrkitError('E_STATE', `${platform.name} backend: init() must succeed before createRunner()`);
      let session: OrtSessionLike;
      try {
        session = await runtime.createSession(model.bytes, options.provider, options);
      } catch (error) {
        throw new CtrkitError('E_MODEL_LOAD', `${platform.name}:${options.provider} refused model.onnx: ${messageOf(error)}`, { cause: error });
      }
      return new OnnxRunner(platform.name, options.provider, runtime, session, model.manifest, options.checkValues !== false);
    },
  };
}
