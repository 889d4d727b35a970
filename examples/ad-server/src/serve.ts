/**
 * One serving process: the server built from the configuration, listening, the model loaded and
 * warmed, and the signals — SIGHUP reloads `MODEL_DIR` beside the serving model and swaps it in;
 * SIGTERM / SIGINT shut down gracefully. `main.ts` runs it alone (`WORKERS=1`) or in each cluster
 * worker (`workers.ts`).
 *
 * @internal
 */
import type { ServerConfig } from './config.js';
import { createAdServer } from './server.js';
import type { ReadyMessage } from './worker-messages.js';

/**
 * Serves until a signal shuts the server down, then exits the process (0 when the shutdown went
 * cleanly, 1 otherwise; 2 when it could not start or listen).
 *
 * @param config - The configuration, read and checked.
 */
export async function serve(config: ServerConfig): Promise<void> {
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
    // Tell a parent process (tests, the load test, the cluster primary) the server is ready, when there is one.
    process.send?.({ type: 'ready', url } satisfies ReadyMessage);
  } catch (error) {
    log.error({ err: (error as Error).message }, 'cannot load the model');
    await server.shutdown('model load failed').catch(() => undefined);
    process.exit(1);
  }
}
