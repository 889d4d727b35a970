/**
 * `GET /healthz` (the process runs), `GET /readyz` (the model is loaded and warmed, Redis — when
 * used — answers, and the server is not shutting down) and `GET /metrics` (Prometheus text; with
 * `WORKERS` > 1, every worker's series, each labeled `worker`).
 *
 * @internal
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { isStopping, type Lifecycle } from '../app/lifecycle.js';

/** What the health routes need. */
export interface HealthRouteDeps {
  readonly lifecycle: Pick<Lifecycle, 'phase'>;
  /** Whether the first model is loaded and warmed, and which version serves. */
  readonly model: { readonly loaded: () => boolean; readonly version: () => string | undefined };
  /** Whether the server uses Redis at all (`/readyz` says `none` otherwise). */
  readonly usesRedis: boolean;
  readonly redisUp: () => boolean;
  readonly openHolds: () => number;
  readonly registry: Registry;
  /** Every worker's series (`WORKERS` > 1, `app/peers.ts`); undefined: this registry's alone. */
  readonly metricsText?: (() => Promise<string>) | undefined;
}

/**
 * Registers `/healthz`, `/readyz` and `/metrics`.
 *
 * @param app - The instance (encapsulated: the routes only).
 * @param deps - What readiness is made of, and the registry.
 */
export const healthRoutes: FastifyPluginAsync<HealthRouteDeps> = async (app, deps) => {
  const { lifecycle, model, registry } = deps;
  app.get('/healthz', async () => ({ status: 'ok', phase: lifecycle.phase }));
  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    if (!model.loaded()) problems.push('model not loaded');
    if (isStopping(lifecycle)) problems.push('shutting down');
    if (!deps.redisUp()) problems.push('redis unreachable');
    if (problems.length > 0) return reply.code(503).send({ ready: false, problems, model: model.version() ?? null });
    return { ready: true, model: model.version(), redis: deps.usesRedis ? 'up' : 'none', openHolds: deps.openHolds() };
  });
  const metricsText = deps.metricsText ?? (() => registry.metrics());
  app.get('/metrics', async (_request, reply) => reply.header('content-type', registry.contentType).send(await metricsText()));
};
