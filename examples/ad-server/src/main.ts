/**
 * Starts the ad server: `npm start -w @ctrkit/example-ad-server` (configuration from the
 * environment, see `config.ts`). Listens at once (`/healthz` answers, `/readyz` says 503), then
 * loads and warms the model (`/readyz` 200). SIGHUP reloads MODEL_DIR beside the serving model
 * and swaps it in; SIGTERM / SIGINT shut down gracefully.
 */
import { readConfig } from './config.js';
import { createAdServer } from './server.js';

let config;
try {
  config = readConfig();
} catch (error) {
  console.error(`ad-server: ${(error as Error).message}`);
  process.exit(2);
}
let server;
try {
  server = await createAdServer(config);
} catch (error) {
  console.error(`ad-server: cannot start: ${(error as Error).message}`);
  process.exit(2);
}
const log = server.app.log;
let url: string;
try {
  url = await server.listen();
} catch (error) {
  console.error(`ad-server: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  process.exit(2);
}
log.info({ url, redis: config.redisUrl ?? 'none (embedded store and ledger)', modelDir: config.modelDir }, 'listening');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  server
    .shutdown(signal)
    .then((report) => {
      log.info({ ...report }, 'bye');
      process.exit(report.problems.length === 0 ? 0 : 1);
    })
    .catch((error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => {
  log.info({ dir: config.modelDir }, 'SIGHUP: reloading the model');
  server.swapModel().catch(() => undefined); // refused swaps are logged; the serving model stays
});

try {
  await server.ready();
  // Tell a parent process (tests, the load test) the server is ready, when there is one.
  process.send?.({ type: 'ready', url });
} catch (error) {
  log.error({ err: (error as Error).message }, 'cannot load the model');
  await server.shutdown('model load failed').catch(() => undefined);
  process.exit(1);
}
