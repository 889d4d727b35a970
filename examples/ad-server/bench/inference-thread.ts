/**
 * The thread of the `threads` variant of `bench/workers.ts` (see `thread-backend.ts`): one
 * onnxruntime-node session of the model it is given, scoring the batches the server's event loop
 * posts to it, one at a time, off that loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
import { parseManifest } from '@ctrkit/models';
import { createOnnxNodeBackend } from '@ctrkit/models/node';
import type { BatchMessage, ThreadInit } from './thread-backend.js';

const init = workerData as ThreadInit;
const port = parentPort;
if (port === null) throw new Error('inference-thread.ts runs as a worker thread');
const backend = createOnnxNodeBackend({ providers: ['cpu'] });
try {
  await backend.init();
  const layout = init.layout as FeatureLayout | undefined;
  const runner = await backend.createRunner({ bytes: init.bytes, manifest: parseManifest(JSON.parse(init.manifest)), ...(layout === undefined ? {} : { layout }) }, init.options);
  port.on('message', (message: BatchMessage | 'dispose') => {
    if (message === 'dispose') {
      void runner.dispose().then(() => port.close());
      return;
    }
    const batch: FeatureBatch = { layout: message.layout, rows: message.rows, ids: message.ids, values: message.values, dense: message.dense, sequenceIds: message.sequenceIds, sequenceLengths: message.sequenceLengths };
    // A fresh output per batch: its buffer is transferred back (a runner's own output buffer is reused).
    runner.predict(batch, new Float32Array(message.rows)).then(
      (scores) => port.postMessage({ id: message.id, scores }, [scores.buffer as ArrayBuffer]),
      (error: unknown) => port.postMessage({ id: message.id, error: (error as Error).message }),
    );
  });
  port.postMessage({ ready: true, info: { ...runner.info } });
} catch (error) {
  port.postMessage({ ready: false, error: (error as Error).message });
}
