/**
 * Starts the ad server: `npm start -w @ctrkit/example-ad-server` (configuration from the
 * environment, see `config.ts`). Listens at once (`/healthz` answers, `/readyz` says 503), then
 * loads and warms the model (`/readyz` 200). SIGHUP reloads MODEL_DIR beside the serving model
 * and swaps it in; SIGTERM / SIGINT shut down gracefully.
 *
 * With `WORKERS` > 1 this process becomes a node:cluster primary that forks that many servers on
 * the one port (`workers.ts`), and each of them runs this file again as a worker (`serve.ts`).
 */
import cluster from 'node:cluster';
import { readConfig, type ServerConfig } from './config.js';

let config: ServerConfig;
try {
  config = readConfig();
} catch (error) {
  console.error(`ad-server: ${(error as Error).message}`);
  process.exit(2);
}
if (config.workers > 1 && cluster.isPrimary) {
  // The primary loads no model and no server: only what forking and relaying need.
  const { runPrimary } = await import('./workers.js');
  runPrimary(config);
} else {
  const { serve } = await import('./serve.js');
  await serve(config);
}
