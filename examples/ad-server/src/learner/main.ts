/**
 * Starts the learner: `npm run learner -w @ctrkit/example-ad-server` (configuration from the
 * environment, see `config.ts` here and the servers' `config.ts`). `GET /healthz`, `GET /stats`
 * (JSON counters) and `GET /metrics` (Prometheus) answer on `LEARNER_PORT`. SIGTERM / SIGINT stop
 * it gracefully (labeled rows flushed and acked); a SIGKILL loses nothing either: the stream
 * redelivers what was not durable, and the labeled log drops what was.
 */
import Fastify from 'fastify';
import { registerCtrkitMetrics } from '@ctrkit/core/prometheus';
import { Gauge, Registry } from 'prom-client';
import { readLearnerConfig, type LearnerConfig } from './config.js';
import { startLearner, type Learner } from './learner.js';

let config: LearnerConfig;
try {
  config = readLearnerConfig();
} catch (error) {
  console.error(`learner: ${(error as Error).message}`);
  process.exit(2);
}
const app = Fastify({ logger: { level: config.logLevel } });
const log = app.log;
let learner: Learner;
try {
  learner = await startLearner(config, log, () => process.exit(1));
} catch (error) {
  console.error(`learner: cannot start: ${(error as Error).message}`);
  process.exit(2);
}
const registry = registerCtrkitMetrics({ joiner: { stats: () => learner.joinerStats() }, onlineLearning: { stats: () => learner.refresherStats() } }, new Registry());
const gauge = (name: string, help: string, read: () => number) =>
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
gauge('learner_published_seq', 'seq of the newest version published', () => learner.stats().published.seq);
gauge('learner_published_watermark_ms', 'Watermark (click time) of the newest version published (NaN: none)', () => learner.stats().published.watermark ?? Number.NaN);
gauge('learner_publish_failures', 'Publishes of a version that failed (retried)', () => learner.stats().published.failures);
gauge('learner_redelivered_rows', 'Labeled rows dropped because an earlier run had made them durable', () => learner.stats().output.redelivered);
gauge('learner_deliveries', 'Stream deliveries handed to the joiner, redeliveries included', () => learner.stats().deliveries);

app.get('/healthz', async () => ({ ok: true }));
app.get('/stats', async () => learner.stats());
app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
let url: string;
try {
  url = await app.listen({ host: config.host, port: config.port });
} catch (error) {
  console.error(`learner: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  process.exit(2);
}
log.info({ url }, 'learner listening');
process.send?.({ type: 'ready', url });

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'learner: stopping');
  learner
    .stop()
    .then(() => app.close())
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      log.error({ err: (error as Error).message }, 'learner: stop failed');
      process.exit(1);
    });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
