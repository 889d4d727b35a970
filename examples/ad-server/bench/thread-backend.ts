/**
 * Option (b) of issue 17, measured by `bench/workers.ts` and not chosen (see the README's
 * "Every core"): inference in a `worker_threads` thread instead of on the server's event loop.
 *
 * A backend registered under the name the server asks for, `onnx-node` (`loadModel` keeps a
 * backend already registered under that name), whose runner posts each batch to a thread of its
 * own (`inference-thread.ts`) that runs the real onnxruntime-node session and posts the scores
 * back. The arrays are copied to compact buffers and transferred; one thread per model version,
 * ended when its runner is disposed (a hot swap disposes the old one).
 */
import { Worker } from 'node:worker_threads';
import { CtrkitError, type FeatureBatch, type FeatureLayout, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { manifestToJSON, type Backend, type RunnerOptions } from '@ctrkit/models';

/** What the thread is started with. */
export interface ThreadInit {
  readonly bytes: Uint8Array;
  /** `model.json` as text (`manifestToJSON`). */
  readonly manifest: string;
  readonly layout: FeatureLayout | undefined;
  readonly options: RunnerOptions;
}

/** One batch, posted to the thread. */
export interface BatchMessage {
  readonly id: number;
  readonly layout: FeatureLayout;
  readonly rows: number;
  readonly ids: Int32Array;
  readonly values: Float32Array;
  readonly dense: Float32Array;
  readonly sequenceIds: Int32Array;
  readonly sequenceLengths: Int32Array;
}

type Reply = { id: number; scores: Float32Array } | { id: number; error: string };

/**
 * The `onnx-node` backend whose runners score in a worker thread.
 *
 * @returns The backend (register it before the server loads its model).
 */
export function createThreadedOnnxBackend(): Backend {
  return {
    name: 'onnx-node',
    providers: ['cpu'],
    init: async () => ({ available: ['cpu'], unavailable: [] }),
    async createRunner(model, options): Promise<ModelRunner> {
      const init: ThreadInit = { bytes: model.bytes.slice(), manifest: manifestToJSON(model.manifest), layout: model.layout, options };
      // A worker thread does not inherit the parent's `--import tsx`: it registers tsx itself, then loads the .ts entry.
      const entry = new URL('./inference-thread.ts', import.meta.url).href;
      const thread = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: init });
      const info = await new Promise<ModelInfo>((resolve, reject) => {
        thread.once('message', (message: { ready: boolean; info?: ModelInfo; error?: string }) => (message.ready ? resolve(message.info as ModelInfo) : reject(new CtrkitError('E_MODEL_LOAD', `inference thread: ${message.error}`))));
        thread.once('error', reject);
      });
      let next = 0;
      const pending = new Map<number, { resolve: (scores: Float32Array) => void; reject: (error: Error) => void }>();
      thread.on('message', (reply: Reply) => {
        const waiting = pending.get(reply.id);
        pending.delete(reply.id);
        if ('error' in reply) waiting?.reject(new CtrkitError('E_INFERENCE', reply.error));
        else waiting?.resolve(reply.scores);
      });
      let disposed = false;
      return {
        info: { ...info, backend: 'onnx-node (thread)' },
        predict(batch: FeatureBatch, out?: Float32Array) {
          if (disposed) return Promise.reject(new CtrkitError('E_STATE', 'the runner was disposed'));
          const id = next++;
          // Compact copies (the batch's arrays are views over the encoder's larger buffers), transferred.
          const message: BatchMessage = { id, layout: batch.layout, rows: batch.rows, ids: batch.ids.slice(), values: batch.values.slice(), dense: batch.dense.slice(), sequenceIds: batch.sequenceIds.slice(), sequenceLengths: batch.sequenceLengths.slice() };
          return new Promise<Float32Array>((resolve, reject) => {
            pending.set(id, {
              resolve: (scores) => {
                if (out === undefined) return resolve(scores);
                out.set(scores.subarray(0, batch.rows));
                resolve(out);
              },
              reject,
            });
            thread.postMessage(message, [message.ids.buffer, message.values.buffer, message.dense.buffer, message.sequenceIds.buffer, message.sequenceLengths.buffer] as ArrayBuffer[]);
          });
        },
        async dispose() {
          if (disposed) return;
          disposed = true;
          thread.postMessage('dispose');
          await new Promise((resolve) => thread.once('exit', resolve));
        },
      };
    },
  };
}
