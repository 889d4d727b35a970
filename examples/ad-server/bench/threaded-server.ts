/**
 * The ad server with inference in a worker thread (option b of issue 17, `thread-backend.ts`):
 * registers the threaded `onnx-node` backend, then starts `src/main.ts` as usual. Started by
 * `bench/workers.ts`; a bench variant, not a server mode.
 */
import { defaultBackendRegistry } from '@ctrkit/models';
import { createThreadedOnnxBackend } from './thread-backend.js';

defaultBackendRegistry.register(createThreadedOnnxBackend(), 100);
await import('../src/main.js');
