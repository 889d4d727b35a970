/**
 * The ad server: an OpenRTB 2.6 bidder on ctrkit's request path, with the event path that
 * settles its budget and feeds its counters and monitors.
 *
 * Request path (`POST /openrtb2/bid`): Fastify checks the envelope → `createOpenRtbBidder`
 * validates the BidRequest, gates consent and maps it to an `AdRequest` around the catalog →
 * `predict`: the predictor (feature store lookup → encoder → DCN-v2 through a hot-swap runner,
 * calibrated by the serving version's own calibrator) → `pacing`: the campaign's pacer → bid
 * prices → before a bid leaves, its price for one impression is reserved in the ledger (memory,
 * or Redis shared by every process) → BidResponse with win (`burl`) and loss (`lurl`) notice URLs.
 *
 * Event path: the win notice (or the impression event) commits the clearing price, the loss
 * notice releases the hold, a hold whose notice never comes is released after `HOLD_TTL_MS`;
 * events are recorded in the feature store (counters for the next lookups), reported per
 * campaign and joined with the served pCTR by the quality monitor.
 *
 * Online learning (`ONLINE_LEARNING`, on by default): the encoded row of every bid that became an
 * impression waits in a label joiner for its click; an FTRL-LR learns from the joined rows and
 * replaces the serving model when it is not worse on the most recent of them (`online.ts`). With
 * `EVENT_STREAM=nats` the loop runs across the fleet instead: served rows, clicks and conversions
 * are published to NATS JetStream for the learner (`learner/`), whose versions every server takes
 * from its bucket and hot-swaps in (`app/fleet-stream.ts`).
 *
 * This file only wires the parts together; each concern lives apart, with its dependencies
 * passed in explicitly:
 * - `app/http.ts`: the Fastify instance, arrival times, error / not-found answers, latency histogram;
 * - `app/connections.ts`: Redis and its health, the feature store, the ledger, the settlement registry;
 * - `app/pacing.ts`, `app/monitors.ts`: pacers; monitors and the Prometheus registry;
 * - `app/model.ts`: loading, warm-up, hot swap, the online loop; `app/bidder.ts`: the bidder;
 * - `app/settling.ts`: holds, notice signatures, settling a win once, counting an impression;
 * - `routes/*.ts`: one Fastify plugin per route family (openrtb, notices, events, admin, health);
 * - `app/shutdown.ts`: graceful shutdown;
 * - `app/peers.ts`: with `WORKERS` > 1, the other workers — the holds of bids they made, their series.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '@ctrkit/core';
import type { SwapResult } from '@ctrkit/models';
import type { BudgetLedger } from '@ctrkit/pacing';
import { createBidding } from './app/bidder.js';
import { createConnections } from './app/connections.js';
import { connectFleetStream, streamAdminRoutes, type FleetStream } from './app/fleet-stream.js';
import { createHttp, registerHttpHandlers } from './app/http.js';
import { createLifecycle } from './app/lifecycle.js';
import { createModelHost } from './app/model.js';
import { createMonitors } from './app/monitors.js';
import { createPacing } from './app/pacing.js';
import { joinPeers } from './app/peers.js';
import { createSettling } from './app/settling.js';
import { createShutdown, type ShutdownReport } from './app/shutdown.js';
import type { ServerConfig } from './config.js';
import type { HoldBook } from './holds.js';
import { registerServerMetrics } from './metrics.js';
import type { OnlineLoop } from './online.js';
import { adminRoutes } from './routes/admin.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { noticeRoutes } from './routes/notices.js';
import { openRtbRoutes, type AdServerHooks } from './routes/openrtb.js';
import type { SettlementRegistry } from './settlement.js';
import { createNoticeSigner, randomNoticeKey, type NoticeSigner } from './signing.js';
import { createWorld, type World } from './world.js';

export type { AdServerHooks, BidStep } from './routes/openrtb.js';
export type { ShutdownReport } from './app/shutdown.js';

/** Options of {@link createAdServer} besides the configuration. */
export interface AdServerOptions {
  readonly hooks?: AdServerHooks;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
}

/** A running (or ready to run) ad server. */
export interface AdServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly world: World;
  readonly ledger: BudgetLedger;
  readonly holds: HoldBook;
  /** Where each (auction, imp) bid on stands (memory, or Redis with a shared ledger). */
  readonly settlement: SettlementRegistry;
  /** Signs and checks notice URLs. */
  readonly signer: NoticeSigner;
  /** Listens on the configured host and port; resolves to the base URL. */
  listen(): Promise<string>;
  /** Loads and warms the model in `MODEL_DIR` (once); `/readyz` answers 200 afterwards. */
  ready(): Promise<void>;
  /** Whether the model is loaded and warmed and the server is not shutting down. */
  isReady(): boolean;
  /** Loads a model (default `MODEL_DIR` again) beside the serving one, warms it, then swaps. */
  swapModel(dir?: string): Promise<SwapResult>;
  /** Graceful shutdown (idempotent). */
  shutdown(reason?: string): Promise<ShutdownReport>;
  /** The online-learning loop, once the first model is loaded (undefined when `ONLINE_LEARNING` is off). */
  online(): OnlineLoop | undefined;
  /** The fleet's event stream and model feed (`EVENT_STREAM=nats`), else undefined. */
  readonly fleetStream: FleetStream | undefined;
}

/**
 * Creates the server: stores, ledger, pacers, monitors, the bidder and the routes. Nothing
 * listens and no model is loaded until {@link AdServer.listen} and {@link AdServer.ready}.
 *
 * @param config - From `readConfig()`.
 * @param options - Hooks and clock.
 * @returns The server.
 */
export async function createAdServer(config: ServerConfig, options: AdServerOptions = {}): Promise<AdServer> {
  const clock = options.clock ?? systemClock;
  const hooks = options.hooks ?? {};
  const world = createWorld({ budgetScale: config.budgetScale });
  const { app, receivedAt } = createHttp(config, clock);
  const log = app.log;

  if (config.noticeKey === undefined) {
    log.warn('NOTICE_KEY is unset: notices are signed with a random key drawn at start; notices of bids sent before a restart, or by other processes, will be refused. Set NOTICE_KEY (openssl rand -hex 32) for a fleet.');
  }
  const signer = createNoticeSigner({
    current: config.noticeKey ?? randomNoticeKey(),
    ...(config.noticeKeyPrevious === undefined ? {} : { previous: config.noticeKeyPrevious, previousUntil: config.noticeKeyPreviousUntil ?? Date.now() + config.noticeWindowMs }),
  });

  const connections = createConnections({ config, world, clock, log });
  const { redis, redisUp, store, ledger, redisLedger, settlement } = connections;
  const pacing = createPacing({ config, world, clock, redisLedger, redisUp });
  // The online loop and the holds are made below; the gauges and series read them only when scraped.
  const monitors = createMonitors({ config, world, clock, redis, online: () => model.online() });
  const lifecycle = createLifecycle();
  // EVENT_STREAM=nats: served rows, clicks and conversions go to the learner; its versions come back through the feed.
  const fleetStream = config.eventStream === undefined ? undefined : await connectFleetStream({ config: config.eventStream, registry: monitors.registry, log, name: `ad-server ${process.pid}` });
  const feedback = () => fleetStream?.publisher ?? model.online();
  const metrics = registerServerMetrics(monitors.registry, {
    openHolds: () => settling.holds.size(),
    redisUp: () => (redis === undefined ? undefined : redisUp() ? 1 : 0),
    modelReady: () => (model.predictor() !== undefined ? 1 : 0),
    modelVersion: () => model.version() ?? 'none',
    ledgerStats: () => (redisLedger === undefined ? undefined : { ...redisLedger.stats() }),
    storeStats: () => (connections.memoryStore === undefined ? undefined : { ...connections.memoryStore.stats() }),
    pacerMultipliers: () => pacing.multipliers(),
  });
  const { quality, report } = monitors;
  // WORKERS > 1: the other workers of the cluster, which hold the bids of the notices they did not get.
  const peers = joinPeers({ app, holds: () => settling.holds, registry: monitors.registry, log });
  const settling = createSettling({ config, world, clock, log, ledger, settlement, signer, store, pacing, metrics, quality, report, peers, online: feedback });
  const { holds } = settling;
  const model = createModelHost({ config, world, clock, log, store, pipeline: monitors.pipeline, drift: monitors.drift, metrics, lifecycle, redis: redis !== undefined });
  const bidding = createBidding({ config, world, clock, store, pacing, predictor: () => model.predictor(), beforePredict: hooks.beforePredict });

  let boundPort = config.port;
  let stopping: Promise<ShutdownReport> | undefined;
  const baseUrl = (): string => config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${boundPort}`;

  // Routes: one encapsulated plugin per family, each given exactly what it reads and moves.
  registerHttpHandlers(app, metrics);
  await app.register(healthRoutes, { lifecycle, model: { loaded: () => model.predictor() !== undefined, version: () => model.version() }, usesRedis: redis !== undefined, redisUp, openHolds: () => holds.size(), registry: monitors.registry, metricsText: peers === undefined ? undefined : () => peers.metrics() });
  await app.register(openRtbRoutes, { config, world, clock, log, hooks, lifecycle, model, redisUp, bidding, pacing, ledger, settling, settlement, signer, metrics, receivedAt, baseUrl });
  await app.register(noticeRoutes, { settling, settlement, metrics, peers });
  await app.register(eventRoutes, { config, world, clock, store, settling, metrics, quality, report, online: feedback });
  if (fleetStream !== undefined) await app.register(streamAdminRoutes, { adminToken: config.adminToken, feed: () => fleetStream.feed() });
  await app.register(adminRoutes, { adminToken: config.adminToken, world, clock, model, ledger, redisLedger, holds, pacing, reporter: monitors.reporter, fleetReporter: monitors.fleetReporter, store });

  const shutdown = createShutdown({
    app,
    config,
    lifecycle,
    holds,
    timers: [pacing.stop, connections.stop, monitors.stop],
    online: () => model.online(),
    fleetReporter: monitors.fleetReporter,
    ledger,
    store,
    model,
    closeRedis: connections.closeRedis,
  });

  return {
    app,
    config,
    world,
    ledger,
    holds,
    settlement,
    signer,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      const port = app.server.address();
      if (port !== null && typeof port === 'object') boundPort = port.port;
      return config.publicUrl ?? address;
    },
    async ready() {
      await model.ready();
      const serving = model.serving();
      if (fleetStream !== undefined && serving !== undefined) await fleetStream.startFeed(serving);
    },
    isReady: () => model.predictor() !== undefined && lifecycle.phase === 'serving' && redisUp(),
    swapModel: (dir) => model.swapModel(dir),
    shutdown: fleetStream === undefined
      ? shutdown
      : (reason) =>
          (stopping ??= (async () => {
            // No model swaps while draining; events of the grace period are still published, and waited for at the end.
            await fleetStream.stopFeed();
            const result = await shutdown(reason);
            await fleetStream.close(config.eventStream?.publishDeadlineMs ?? 0);
            return result;
          })()),
    online: () => model.online(),
    fleetStream,
  };
}
