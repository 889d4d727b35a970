/**
 * The Fastify instance and what applies to every route: its settings (body limits, strict
 * schemas, timeouts, connection cap, no per-request log line), the arrival time of each request,
 * the error and not-found answers, and the latency histogram.
 *
 * @internal
 */
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Clock } from '@ctrkit/core';
import type { ServerConfig } from '../config.js';
import type { ServerMetrics } from '../metrics.js';

/** The instance and when each of its requests arrived. */
export interface Http {
  readonly app: FastifyInstance;
  /** When a request arrived (its first byte was parsed into headers): the bid deadline counts from here. */
  receivedAt(request: FastifyRequest): number | undefined;
}

/**
 * Creates the Fastify instance with the server's settings and an `onRequest` hook that notes
 * each request's arrival.
 *
 * @param config - Log level, body limits, timeouts, connection cap.
 * @param clock - Arrival times come from it.
 * @returns The instance; nothing listens yet.
 */
export function createHttp(
  config: Pick<ServerConfig, 'logLevel' | 'bidBodyLimit' | 'eventsBodyLimit' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'keepAliveTimeoutMs' | 'maxRequestsPerSocket' | 'maxConnections'>,
  clock: Clock,
): Http {
  const app = Fastify({
    logger: { level: config.logLevel },
    // No line per request: at thousands of requests a second the log would cost more than the
    // bid. No-bids are logged (rate-limited) and everything is counted in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: Math.max(config.bidBodyLimit, config.eventsBodyLimit),
    // Types are checked, never coerced ("5" is not a number), and nothing is silently removed.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // A slow or silent client cannot keep a socket: the whole request must arrive in
    // requestTimeout, an idle socket goes after connectionTimeout, keep-alive waits keepAliveTimeout.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxRequestsPerSocket: config.maxRequestsPerSocket,
  });
  app.server.maxConnections = config.maxConnections;
  const arrivals = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request) => {
    arrivals.set(request, clock.now());
  });
  return { app, receivedAt: (request) => arrivals.get(request) };
}

/**
 * Sets the answers every route shares: errors as `{ error, reason }` (a 5xx never says more than
 * "internal error"; an invalid bid request is counted as a no-bid), 404 as `not_found`, and each
 * response's latency in `adserver_http_request_duration_seconds`. Call it before the route
 * plugins are registered: they inherit it.
 *
 * @param app - The root instance.
 * @param metrics - The server's counters.
 */
export function registerHttpHandlers(app: FastifyInstance, metrics: Pick<ServerMetrics, 'bidRequests' | 'noBids' | 'httpDuration'>): void {
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: 'internal', reason: 'internal error' });
    }
    const cls = error.validation !== undefined ? 'invalid' : (error.code ?? 'bad_request');
    if (request.routeOptions.url === '/openrtb2/bid') {
      metrics.bidRequests.inc({ outcome: 'invalid' });
      metrics.noBids.inc({ reason: 'invalid' });
    }
    return reply.code(status).send({ error: cls, reason: error.message });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', reason: `${request.method} ${request.url.split('?')[0]} is not an endpoint of this server` }));
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe({ route: request.routeOptions.url ?? 'none', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
