/**
 * The ad server: an OpenRTB 2.6 bidder on ctrkit's request path, with the event path that
 * settles its budget and feeds its counters and monitors.
 *
 * Request path (`POST /openrtb2/bid`): Fastify checks the envelope → `createOpenRtbBidder`
 * validates the BidRequest, gates consent and maps it to an `AdRequest` around the catalogue →
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
 * replaces the serving model when it is not worse on the most recent of them (`online.ts`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createOpenRtbBidder, NO_BID_REASONS, type BidderOutcome, type PacingDecision } from '@ctrkit/auction';
import {
  createCampaignReporter,
  createDriftMonitor,
  createLabelJoiner,
  createPipelineMetrics,
  createPredictor,
  createQualityMonitor,
  CtrkitError,
  isCtrkitError,
  servedRowOf,
  systemClock,
  type AdCandidate,
  type AdEvent,
  type CampaignReport,
  type AdRequest,
  type Clock,
  type DriftMonitor,
  type FeatureBatch,
  type FeatureEncoder,
  type FeatureProfile,
  type FeatureStore,
  type ModelRunner,
  type OnlineLearningCounters,
  type Predictor,
} from '@ctrkit/core';
import { registerCtrkitMetrics } from '@ctrkit/core/prometheus';
import { adRequestSpec, createFeatureEncoder, createMemoryFeatureStore, type FeatureSpecJSON } from '@ctrkit/features';
import { createRedisFeatureStore } from '@ctrkit/features/redis';
import { createHotSwapRunner, type HotSwapRunner, type LoadedModel, type SwapResult } from '@ctrkit/models';
import { loadModel } from '@ctrkit/models/node';
import {
  createDualController,
  createEvenPlan,
  createMemoryLedger,
  createPacer,
  createPacingStage,
  createPidController,
  createThrottleController,
  createUnpacedController,
  type BudgetLedger,
  type PacingController,
  type Reservation,
} from '@ctrkit/pacing';
import { createRedisCampaignReporter, createRedisLedger, type RedisLedger } from '@ctrkit/pacing/redis';
import type { ServerConfig } from './config.js';
import { createHoldBook, type Hold, type HoldBook, type HoldOutcome } from './holds.js';
import { createMemorySettlementRegistry, createRedisSettlementRegistry, type SettlementRegistry, type SettlementState } from './settlement.js';
import { createNoticeSigner, randomNoticeKey, type NoticeSigner, type SignedFields } from './signing.js';
import { classifyNoBid, registerServerMetrics, type NoBidClass } from './metrics.js';
import { bidRequestSchema, countersQuerySchema, eventBatchSchema, noticeQuerySchema, reportQuerySchema } from './schemas.js';
import { createWorld, type World } from './world.js';
import { createOnlineLoop, type OnlineLoop } from './online.js';

type BidResponse = BidderOutcome['response'];
type Bid = NonNullable<BidResponse['seatbid']>[number]['bid'][number];

/** Test and instrumentation hooks; none is needed in production. */
export interface AdServerHooks {
  /** Runs before each prediction (a test holds an auction open with it). */
  readonly beforePredict?: (request: AdRequest) => void | Promise<void>;
  /**
   * Runs at each step of a bid request after budget was first reserved; a test throws from it
   * to check that every reservation of the request is released before the answer.
   */
  readonly afterReserve?: (step: BidStep, requestId: string) => void | Promise<void>;
}

/** The steps of a bid request after its first reservation (see {@link AdServerHooks.afterReserve}). */
export type BidStep = 'reserved' | 'rebid' | 'rereserved' | 'claimed' | 'respond';

/** Options of {@link createAdServer} besides the configuration. */
export interface AdServerOptions {
  readonly hooks?: AdServerHooks;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
}

/** What shutdown did. */
export interface ShutdownReport {
  /** Holds committed by notices that arrived during the grace period. */
  readonly settledDuringGrace: number;
  /** Holds released because no notice came before the server closed. */
  readonly released: number;
  /** Problems closing the ledger, store or Redis (empty when all went well). */
  readonly problems: readonly string[];
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
}

/** Money in the notices: CPM in integer micros; the charge of one impression is CPM micros ÷ 1000 in currency micros. */
const MICROS = 1_000_000;
/** A decimal CPM as integer micros (the exchange's `${AUCTION_PRICE}`), or undefined when it is not one. */
function cpmMicrosOf(text: string): number | undefined {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1e6) return undefined;
  return Math.round(value * MICROS);
}
const chargeMicrosOf = (cpmMicros: number): number => Math.round(cpmMicros / 1000);

const REFUSED: PacingDecision = Object.freeze({ admit: false, multiplier: 0 });
/** An impression event more than this far ahead of the server's clock is refused (the store's own limit). */
const MAX_FUTURE_MS = 86_400_000;
/** Events older than this are refused: they would only move decayed counters by nothing. */
const MAX_AGE_MS = 30 * 86_400_000;
/**
 * Impressions already counted from a win notice are remembered this long, so that the host's
 * impression event for the same ad is not counted twice (it follows the billing notice within
 * seconds); at most `COUNTED_CAPACITY` of them, oldest forgotten first.
 */
const COUNTED_MS = 120_000;
const COUNTED_CAPACITY = 100_000;

function describe(error: unknown): string {
  if (isCtrkitError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** A header value: printable ASCII, at most 300 characters. */
function headerText(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 300 ? `${ascii.slice(0, 297)}...` : ascii;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The feature spec a model was trained on, from its manifest's `config.spec` (ctrkit's ad-request spec when absent). */
async function specOf(dir: string): Promise<FeatureSpecJSON> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'model.json'), 'utf8');
  } catch (error) {
    throw new CtrkitError('E_MODEL_LOAD', `cannot read ${path.join(dir, 'model.json')}: ${(error as Error).message}; train a model first (npm run model -w @ctrkit/example-ad-server) or set MODEL_DIR`, { cause: error });
  }
  const manifest = JSON.parse(text) as { config?: { spec?: FeatureSpecJSON } };
  return manifest.config?.spec ?? adRequestSpec();
}

function controllerFor(mode: ServerConfig['pacing']): PacingController {
  if (mode === 'dual') return createDualController();
  if (mode === 'pid') return createPidController();
  if (mode === 'throttle') return createThrottleController();
  return createUnpacedController();
}

/** A drift monitor whose profile follows the serving model (each version brings its own). */
function createDriftHolder(): DriftMonitor & { use(profile: FeatureProfile | undefined): void } {
  let current: DriftMonitor | undefined;
  return {
    use(profile) {
      current = profile === undefined ? undefined : createDriftMonitor(profile);
    },
    observe: (batch, scores) => current?.observe(batch, scores),
    report: () => current?.report() ?? [],
    reset: () => current?.reset(),
  };
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
  const log = app.log;
  /** When each request arrived (its first byte was parsed into headers): the bid deadline counts from here. */
  const receivedAt = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request) => {
    receivedAt.set(request, clock.now());
  });

  // ---- Notice signing -----------------------------------------------------------------------
  if (config.noticeKey === undefined) {
    log.warn('NOTICE_KEY is unset: notices are signed with a random key drawn at start; notices of bids sent before a restart, or by other processes, will be refused. Set NOTICE_KEY (openssl rand -hex 32) for a fleet.');
  }
  const signer = createNoticeSigner({
    current: config.noticeKey ?? randomNoticeKey(),
    ...(config.noticeKeyPrevious === undefined ? {} : { previous: config.noticeKeyPrevious, previousUntil: config.noticeKeyPreviousUntil ?? Date.now() + config.noticeWindowMs }),
  });

  // ---- Redis (optional) ---------------------------------------------------------------------
  let redis: Redis | undefined;
  let pingOk = false;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let lastRedisError = 0;
  if (config.redisUrl !== undefined) {
    const client = new Redis(config.redisUrl, {
      lazyConnect: true,
      // Fail fast while disconnected: a lookup degrades and a reservation is refused at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(100 * times, 1_000),
    });
    client.on('error', (error: Error) => {
      if (clock.now() - lastRedisError > 5_000) log.warn({ err: error.message }, 'redis error (not bidding while it lasts)');
      lastRedisError = clock.now();
    });
    client.on('close', () => {
      pingOk = false;
    });
    client.on('ready', () => {
      pingOk = true;
      log.info('redis ready');
    });
    redis = client;
    client.connect().catch((error: Error) => log.warn({ err: error.message }, 'redis: first connection failed; retrying'));
    const ping = async (): Promise<void> => {
      if (client.status !== 'ready') {
        pingOk = false;
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([client.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ping timeout')), 500)))]);
        pingOk = true;
      } catch {
        pingOk = false;
      } finally {
        clearTimeout(timer);
      }
    };
    pingTimer = setInterval(() => void ping(), 1_000);
    pingTimer.unref();
  }
  const redisUp = (): boolean => redis === undefined || (redis.status === 'ready' && pingOk);

  // ---- Feature store, ledger, pacers --------------------------------------------------------
  // Serving looks up at "now": a key needs its unfolded recent events only for a minute (not the
  // default hour, up to 128 a key), which keeps the memory store's size flat under load.
  // FREQUENCY_CAP: the stores also keep exact impression counts in the cap's window.
  const cap = config.frequencyCap;
  const frequency = cap === undefined ? {} : { frequency: { windows: [{ name: cap.window, ms: cap.windowMs }], limit: cap.max } };
  const memoryStore = redis === undefined ? createMemoryFeatureStore({ maxUsers: 200_000, horizonMs: 60_000, pendingCapacity: 32, ...frequency }) : undefined;
  const store: FeatureStore =
    memoryStore ?? createRedisFeatureStore({ redis: redis as Redis, prefix: `${config.redisPrefix}fs:`, lookupDeadlineMs: config.stageBudgets.lookup, ...frequency });
  const ledgerBudgets = { campaigns: world.budgets };
  // The ledger keeps a reservation longer than the server waits for its notice, so it is always
  // the server that settles it (a late win notice still finds it).
  const reservationTtlMs = config.holdTtlMs + 30_000;
  const maxCharge = config.maxBidCpm / 1000;
  let redisLedger: RedisLedger | undefined;
  const ledger: BudgetLedger =
    redis === undefined
      ? createMemoryLedger({ budgets: ledgerBudgets, reservationTtlMs, clock })
      : (redisLedger = createRedisLedger({
          redis,
          budgets: ledgerBudgets,
          keyPrefix: `${config.redisPrefix}budget:`,
          reservationTtlMs,
          // A lease must hold at least one maximal bid; by default 1% of the smallest budget, or one such bid.
          lease: { amount: config.leaseAmount ?? Math.max(maxCharge, Math.min(...world.budgets.map((b) => b.dailyBudget ?? Infinity)) / 100) },
        }));
  // Settlement is idempotent where the ledger is: per process in memory, fleet-wide (and across
  // restarts) in Redis beside the shared ledger.
  const settlement: SettlementRegistry =
    redis === undefined
      ? createMemorySettlementRegistry({ clock, windowMs: config.noticeWindowMs, capacity: config.settlementCapacity })
      : createRedisSettlementRegistry({ redis, prefix: config.redisPrefix, windowMs: config.noticeWindowMs });
  const pacers = new Map(world.budgets.map((b) => [b.id, createPacer({ controller: controllerFor(config.pacing), plan: createEvenPlan(), dailyBudget: b.dailyBudget as number, clock })]));
  const pacing = createPacingStage(pacers);
  /** Campaigns the ledger refused for budget, until when (a refusal is re-checked after that). */
  const exhaustedUntil = new Map<string, number>();
  let syncTimer: ReturnType<typeof setInterval> | undefined;
  if (redisLedger !== undefined) {
    // Every process spends the same budgets: steer each pacer on the fleet's total.
    const shared = redisLedger;
    syncTimer = setInterval(() => {
      if (!redisUp()) return;
      void Promise.all(
        world.budgets.map(async (b) => {
          const daily = (await shared.snapshot(b.id)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
          if (daily !== undefined) pacers.get(b.id)?.syncSpend(daily.spent);
        }),
      ).catch(() => undefined);
    }, 5_000);
    syncTimer.unref();
  }

  // ---- Monitors and metrics -----------------------------------------------------------------
  const pipeline = createPipelineMetrics(clock);
  const quality = createQualityMonitor({ clock, attributionWindowMs: config.attributionWindowMs });
  // Label sets bounded by the catalogue: events are checked against it, and the reporter is capped at its size.
  const reporter = createCampaignReporter({ clock, bucketMs: 60_000, horizonMs: 86_400_000, maxEntities: Math.max(1, world.budgets.length) });
  // With Redis, the same figures for the whole fleet: every process adds its counts to shared
  // buckets (flushed each second), so GET /admin/report answers for all servers of the prefix.
  const catalogueEntities = world.budgets.length + new Set(world.catalogue.map((c) => c.advertiserId)).size;
  const fleetReporter =
    redis === undefined
      ? undefined
      : createRedisCampaignReporter({ redis, keyPrefix: `${config.redisPrefix}report:`, clock, bucketMs: 60_000, horizonMs: 86_400_000, maxEntitiesPerBucket: Math.max(2, catalogueEntities), maxPendingEntities: Math.max(2, 2 * catalogueEntities) });
  const report = (event: AdEvent): void => {
    reporter.record(event);
    fleetReporter?.record(event);
  };
  const drift = createDriftHolder();
  // The online loop starts with the first model; until then its series read zero.
  let online: OnlineLoop | undefined;
  const idle: OnlineLearningCounters = { rowsAdded: 0, rowsLearnt: 0, windowRows: 0, swaps: 0, refusals: 0, refusalsByReason: {}, rollbacks: 0, servingVersion: 'none', lastLogLoss: undefined };
  const idleJoiner = createLabelJoiner({ windowMs: config.attributionWindowMs, clock, onLabel: () => undefined });
  const onlineSources = config.online.enabled
    ? { joiner: { stats: () => online?.joinerStats() ?? idleJoiner.stats() }, onlineLearning: { stats: () => online?.stats() ?? idle } }
    : {};
  const registry = registerCtrkitMetrics({ pipeline, quality, drift, reporter, ...onlineSources }, new Registry());
  // The quality monitor labels overdue impressions (no click within the window) only when it is
  // read; read it every 30 s so its pending impressions stay bounded even when nobody scrapes.
  const qualityTimer = setInterval(() => quality.snapshot(), 30_000);
  qualityTimer.unref();

  // ---- Model --------------------------------------------------------------------------------
  const state: {
    phase: 'starting' | 'serving' | 'draining' | 'closed';
    encoder?: FeatureEncoder;
    hot?: HotSwapRunner;
    predictor?: Predictor;
    warmBatch?: FeatureBatch;
    readying?: Promise<void>;
    shutdown?: Promise<ShutdownReport>;
  } = { phase: 'starting' };
  let activeBids = 0;

  const metrics = registerServerMetrics(registry, {
    openHolds: () => holds.size(),
    redisUp: () => (redis === undefined ? undefined : redisUp() ? 1 : 0),
    modelReady: () => (state.predictor !== undefined ? 1 : 0),
    modelVersion: () => state.hot?.info.version ?? 'none',
    ledgerStats: () => (redisLedger === undefined ? undefined : { ...redisLedger.stats() }),
    storeStats: () => (memoryStore === undefined ? undefined : { ...memoryStore.stats() }),
    pacerMultipliers: () => new Map([...pacers].map(([id, pacer]) => [id, pacer.multiplier()])),
  });

  // ---- Holds --------------------------------------------------------------------------------
  /** requestId + adId of impressions counted from a win notice, with when (insertion order is time order). */
  const counted = new Map<string, number>();
  /** Holds released for want of a notice, by (auction, imp), for a late win's reporting; bounded like the registry. */
  const expiredHolds = new Map<string, Hold>();
  const pairKey = (auction: string, imp: string): string => `${auction}\u001f${imp}`;
  const rememberExpired = (hold: Hold): void => {
    expiredHolds.set(pairKey(hold.requestId, hold.impId), hold);
    const cutoff = clock.now() - config.noticeWindowMs;
    for (const [key, old] of expiredHolds) {
      if (expiredHolds.size <= config.settlementCapacity && old.createdAt > cutoff) break;
      expiredHolds.delete(key);
    }
  };
  const holds: HoldBook = createHoldBook({
    ledger,
    clock,
    ttlMs: config.holdTtlMs,
    onSettled(hold: Hold, outcome: HoldOutcome, amount: number, error?: unknown) {
      metrics.holdsSettled.inc({ outcome });
      if (outcome === 'released-expired') {
        // Its budget goes back now; a win notice within the notice window still commits it.
        rememberExpired(hold);
        settlement.transition(hold.requestId, hold.impId, ['open'], 'expired').catch((e: unknown) => log.warn({ requestId: hold.requestId, err: describe(e) }, 'settlement registry: could not mark an expired hold'));
      }
      if (outcome === 'committed') {
        metrics.spend.inc(amount);
        pacing.recordSpend(hold.campaignId, amount);
      }
      if (error !== undefined && outcome === 'commit-failed') log.warn({ requestId: hold.requestId, adId: hold.adId, err: describe(error) }, 'commit refused by the ledger');
    },
  });
  holds.start();

  const loadVersion = async (dir: string): Promise<LoadedModel> => {
    if (state.encoder === undefined) throw new CtrkitError('E_STATE', 'no encoder: the first model has not loaded');
    return loadModel(dir, { expect: state.encoder.layout, backends: ['onnx-node'], intraOpThreads: config.modelThreads });
  };

  /** A banner request with every display creative, to warm the model on the shape it serves (a request scores the creatives of its formats: 100 each). */
  const warmRequest = (): AdRequest => ({
    requestId: 'warm-up',
    user: world.generator.userProfile('u-0'),
    context: { timestamp: clock.now(), publisherId: world.generator.publishers[1]?.id ?? 'pub', slots: [{ id: '1', format: 'display', position: 0 }] },
    candidates: world.catalogue.filter((c) => c.format === 'display'),
  });

  async function loadFirstModel(): Promise<void> {
    const spec = await specOf(config.modelDir);
    const encoder = createFeatureEncoder(spec);
    state.encoder = encoder;
    const loaded = await loadVersion(config.modelDir);
    const hot = createHotSwapRunner(loaded);
    state.hot = hot;
    drift.use(loaded.manifest.config?.featureProfile as FeatureProfile | undefined);
    let served = 0;
    // Each call scores with the version active when it starts, calibrated by that version's own
    // calibrator; one batch in ten goes to the drift monitor.
    const runner: ModelRunner = {
      get info() {
        return hot.info;
      },
      async predict(batch, out) {
        const scores = await hot.predictCalibrated(batch, out);
        if (++served % 10 === 0) drift.observe(batch, scores);
        return scores;
      },
      dispose: () => hot.dispose(),
    };
    // With online learning the predictor hands back each request's encoded rows: a winning bid's row is kept for training.
    const predictor = createPredictor({ encoder, store, runner, metrics: pipeline, budgets: config.stageBudgets, clock, keepBatch: config.online.enabled });
    // Warm up: JIT, onnxruntime's arenas at the served batch size, the store's scripts.
    const warm = warmRequest();
    state.warmBatch = encoder.encode(warm);
    for (let i = 0; i < 20; i++) await predictor.predict({ ...warm, requestId: `warm-up-${i}` });
    pipeline.reset();
    if (config.online.enabled) {
      online = createOnlineLoop({
        config: config.online,
        layout: encoder.layout,
        target: hot,
        windowMs: config.attributionWindowMs,
        clock,
        log: (line) => log.info({ serving: hot.info.version }, line),
        warn: (line) => log.warn(line),
      });
    }
    state.predictor = predictor;
    if (state.phase === 'starting') state.phase = 'serving';
    log.info({ model: hot.info.version, dir: config.modelDir, candidates: world.catalogue.length, redis: redis !== undefined }, 'model loaded and warmed');
  }

  // ---- Bidder -------------------------------------------------------------------------------
  interface Scored {
    /** The candidates scored, in the order of `pCtr` (searched only for the few ads that bid). */
    readonly candidates: readonly AdCandidate[];
    readonly pCtr: Float32Array;
    readonly version: string;
    /** The user id the request was scored for (events of its bids carry it). */
    readonly userId: string;
    /** The encoded rows scored (online learning only) and each candidate's row among them. */
    readonly batch: FeatureBatch | undefined;
    readonly batchRows: Int32Array | undefined;
  }
  /** The predictions of requests in flight, by BidRequest id (ids in flight are unique). */
  const scored = new Map<string, Scored>();
  let predictions = 0;
  const bidder = createOpenRtbBidder({
    catalogue: world.catalogue,
    async predict(request) {
      await hooks.beforePredict?.(request);
      const predictor = state.predictor;
      if (predictor === undefined) throw new CtrkitError('E_STATE', 'the model is not loaded');
      // A private id: the predictor shares one computation between calls with the same id.
      const result = await predictor.predict({ ...request, requestId: `${request.requestId}#${++predictions}` });
      scored.set(request.requestId, { candidates: request.candidates, pCtr: result.pCtr, version: result.modelVersion, userId: request.user.id, batch: result.batch, batchRows: result.batchRows });
      return result.pCtr;
    },
    pacing(campaignId) {
      const until = exhaustedUntil.get(campaignId);
      if (until !== undefined) {
        if (until > clock.now()) return REFUSED;
        exhaustedUntil.delete(campaignId);
      }
      return pacing.decide(campaignId);
    },
    maxBidCpm: config.maxBidCpm,
    // At most cap.max impressions per user per campaign in the window: counts of the creatives of the request's formats, read before scoring (a lookup that fails or runs late rejects them).
    ...(cap === undefined
      ? {}
      : {
          counters: (request: AdRequest) => store.lookup(request.user, request.candidates, clock.now(), { deadlineMs: config.stageBudgets.lookup, degradeOnError: true }),
          filter: { frequencyCaps: [{ counter: `user_campaign.imp_count.${cap.window}`, max: cap.max }], counterNames: store.names },
        }),
    seat: 'ctrkit',
    // TCF v2.2 for this vendor: purposes 1, 3, 4 need consent (the TCF allows no legitimate interest for 3 and 4) and so does the vendor.
    consent: config.tcfVendorId === undefined ? {} : { vendorId: config.tcfVendorId },
  });

  const baseUrl = (): string => config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${boundPort}`;
  let boundPort = config.port;

  /** Reserves each bid's price for one impression; drops the bids the ledger refuses. */
  async function holdBids(requestId: string, outcome: BidderOutcome): Promise<{ held: Map<string, Hold>; budget: number; unavailable: number; detail: string }> {
    const bids = outcome.response.seatbid?.flatMap((seat) => seat.bid) ?? [];
    const entry = scored.get(requestId);
    const userId = entry?.userId ?? '';
    const held = new Map<string, Hold>();
    let budget = 0;
    let unavailable = 0;
    let detail = '';
    await Promise.all(
      bids.map(async (bid) => {
        const creative = world.creativeById.get(bid.adid ?? '');
        if (creative === undefined) return;
        let answer: Reservation | { ok: false; reason: string; detail: string };
        try {
          answer = await ledger.reserve(creative.campaignId, bid.price / 1000);
        } catch (error) {
          answer = { ok: false, reason: 'unavailable', detail: describe(error) };
        }
        if (!answer.ok) {
          metrics.reservations.inc({ result: answer.reason === 'budget' ? 'budget' : 'unavailable' });
          if (answer.reason === 'budget') {
            budget++;
            exhaustedUntil.set(creative.campaignId, clock.now() + 2_000);
          } else unavailable++;
          detail = answer.detail;
          return;
        }
        metrics.reservations.inc({ result: 'ok' });
        const i = entry === undefined ? -1 : entry.candidates.findIndex((c) => c.adId === creative.adId);
        const pCtr = i < 0 ? Number.NaN : (entry?.pCtr[i] ?? Number.NaN);
        const row = i < 0 || entry?.batch === undefined || entry.batchRows === undefined ? undefined : (entry.batchRows[i] as number);
        const createdAt = clock.now();
        // The row exactly as scored, copied now: the next request encodes into fresh arrays, but the hold outlives this one.
        const servedRow =
          row === undefined || !(pCtr >= 0 && pCtr <= 1)
            ? undefined
            : servedRowOf(entry?.batch as FeatureBatch, row, {
                eventId: `${requestId}:${bid.impid}`,
                requestId,
                impId: bid.impid,
                adId: creative.adId,
                position: 0, // one bid per slot: each is the top of its own
                pCtr,
                servedAt: createdAt,
                modelVersion: entry?.version ?? 'unknown',
              });
        held.set(bid.id, {
          requestId,
          impId: bid.impid,
          adId: creative.adId,
          campaignId: creative.campaignId,
          advertiserId: creative.advertiserId,
          category: creative.category,
          userId,
          priceCpm: bid.price,
          pCtr,
          modelVersion: entry?.version ?? 'unknown',
          reservation: answer,
          createdAt,
          ...(servedRow === undefined ? {} : { servedRow }),
        });
      }),
    );
    holds.add([...held.values()]);
    return { held, budget, unavailable, detail };
  }

  // Rate-limited no-bid log lines: one per class and second at info level, each at debug.
  const lastNoBidLog = new Map<NoBidClass, { at: number; suppressed: number }>();
  function noBid(reply: FastifyReply, status: 204 | 400 | 503, cls: NoBidClass, reason: string, nbr: number | undefined, requestId: string | undefined, extra: Record<string, unknown> = {}) {
    metrics.bidRequests.inc({ outcome: status === 204 ? 'nobid' : status === 400 ? 'invalid' : 'unavailable' });
    metrics.noBids.inc({ reason: cls });
    log.debug({ requestId, nbr, class: cls, reason }, 'no bid');
    const seen = lastNoBidLog.get(cls);
    const now = clock.now();
    if (seen === undefined || now - seen.at >= 1_000) {
      log.info({ requestId, nbr, class: cls, reason, suppressed: seen?.suppressed ?? 0 }, 'no bid');
      lastNoBidLog.set(cls, { at: now, suppressed: 0 });
    } else seen.suppressed++;
    reply.header('x-ctrkit-nbr', String(nbr ?? 0)).header('x-ctrkit-reason', headerText(`${cls}: ${reason}`));
    if (status === 204) return reply.code(204).send();
    return reply.code(status).send({ error: cls, reason, ...(nbr === undefined ? {} : { nbr }), ...extra });
  }

  /** Request ids being answered now. */
  const inFlight = new Set<string>();
  /** A lone UTF-16 surrogate (paired ones are matched as whole code points under `u`). */
  const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

  /** What a hold's notice URLs and settlement token sign. */
  const fieldsOf = (hold: Hold): SignedFields => ({
    auction: hold.requestId,
    imp: hold.impId,
    campaign: hold.campaignId,
    creative: hold.adId,
    bidMicros: Math.round(hold.priceCpm * MICROS),
    expiresAt: Math.floor(hold.createdAt + config.noticeWindowMs),
  });

  /** Counts the consent decision of a valid request; its debug form for `ext.ctrkit.consent`. */
  const countConsent = (outcome: BidderOutcome): Record<string, unknown> | undefined => {
    const evaluation = outcome.consent;
    if (evaluation === undefined) return undefined;
    const { signals, findings } = evaluation;
    const decision = signals.coppa ? 'coppa' : signals.personalisedAds ? (signals.gdprApplies ? 'personalised' : 'no_gdpr') : 'contextual';
    metrics.consent.inc({ outcome: decision, finding: findings[0]?.code ?? 'none' });
    return { decision, vendorId: config.tcfVendorId ?? null, gdprApplies: signals.gdprApplies, personalisedAds: signals.personalisedAds, findings };
  };
  const wantsDebug = (body: { test?: unknown; ext?: unknown }): boolean =>
    body.test === 1 || (typeof body.ext === 'object' && body.ext !== null && (body.ext as { ctrkit?: { debug?: unknown } }).ctrkit?.debug === true);

  async function bid(request: FastifyRequest, reply: FastifyReply) {
    const body = request.body as { id: string; imp: { id: string }[]; tmax?: number; test?: unknown; ext?: unknown };
    // Ids travel into notice URLs and headers: refuse what cannot be encoded there, before any budget moves.
    if (LONE_SURROGATE.test(body.id) || body.imp.some((imp) => LONE_SURROGATE.test(imp.id))) {
      return noBid(reply, 400, 'invalid', 'id and imp[].id must be well-formed Unicode (a lone UTF-16 surrogate is not)', 2, undefined);
    }
    if (state.phase === 'draining' || state.phase === 'closed') return noBid(reply, 503, 'draining', 'the server is shutting down', undefined, body.id);
    if (state.predictor === undefined) return noBid(reply, 503, 'not_ready', 'the model is not loaded yet', undefined, body.id);
    if (!redisUp()) return noBid(reply, 204, 'redis_unavailable', 'Redis is unreachable: not bidding rather than spending blind', 1, body.id);
    if (inFlight.has(body.id)) return noBid(reply, 204, 'duplicate', `request ${body.id} is already being answered`, undefined, body.id);
    // tmax within [TMAX_MIN_MS, TMAX_MAX_MS]: above is cut to the top (2^31 ms and Infinity included), below cannot be met.
    let input: unknown = body;
    if (body.tmax !== undefined) {
      if (body.tmax < config.tmaxMinMs) return noBid(reply, 204, 'deadline', `tmax ${body.tmax} ms is below TMAX_MIN_MS (${config.tmaxMinMs} ms): no bid could arrive in time`, NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME, body.id);
      if (body.tmax > config.tmaxMaxMs) input = { ...body, tmax: config.tmaxMaxMs };
    }
    const arrival = receivedAt.get(request);
    const handleOptions = arrival === undefined ? {} : { receivedAt: arrival };
    inFlight.add(body.id);
    activeBids++;
    /** Every hold this request made, and the (auction, imp) pairs it claimed: all go back if it fails. */
    const mine: Hold[] = [];
    const claimed: Hold[] = [];
    try {
      let outcome = await bidder.handle(input, handleOptions);
      let consent = countConsent(outcome);
      if (!outcome.bid) {
        if (outcome.nbr === 2) return noBid(reply, 400, 'invalid', outcome.reason ?? 'invalid BidRequest', 2, body.id, { issues: outcome.issues });
        return noBid(reply, 204, classifyNoBid(outcome), outcome.reason ?? 'no bid', outcome.nbr, body.id);
      }
      let holding = await holdBids(body.id, outcome);
      mine.push(...holding.held.values());
      await hooks.afterReserve?.('reserved', body.id);
      if (holding.budget > 0) {
        // Campaigns out of budget are now refused by pacing: bid again without them, so each
        // impression goes to the best campaign that can still pay. No third round.
        await Promise.all([...holding.held.values()].map((h) => holds.release(h, 'released-unused')));
        scored.delete(body.id);
        const again = await bidder.handle(input, handleOptions);
        await hooks.afterReserve?.('rebid', body.id);
        if (!again.bid) return noBid(reply, 204, 'budget', `${holding.detail}; ${again.reason ?? 'no other bid'}`, again.nbr, body.id);
        outcome = again;
        consent = countConsent(outcome) ?? consent;
        holding = await holdBids(body.id, outcome);
        mine.push(...holding.held.values());
        await hooks.afterReserve?.('rereserved', body.id);
      }
      if (holding.held.size === 0) {
        const cls: NoBidClass = holding.budget > 0 ? 'budget' : 'ledger_unavailable';
        return noBid(reply, 204, cls, holding.detail, cls === 'ledger_unavailable' ? 1 : undefined, body.id);
      }
      // Each (auction, imp) is bid on once in the notice window: a reused request id (a replay,
      // an exchange retry) bids only on pairs never bid on, so no win can be charged twice.
      const fresh = new Map<string, Hold>();
      const claims = await Promise.allSettled(
        [...holding.held].map(async ([bidId, hold]) => {
          const previous = await settlement.transition(hold.requestId, hold.impId, ['none'], 'open');
          if (previous === 'none') {
            claimed.push(hold);
            fresh.set(bidId, hold);
          } else await holds.release(hold, 'released-unused');
        }),
      );
      const failedClaim = claims.find((c): c is PromiseRejectedResult => c.status === 'rejected');
      if (failedClaim !== undefined) throw failedClaim.reason;
      await hooks.afterReserve?.('claimed', body.id);
      if (fresh.size === 0) return noBid(reply, 204, 'duplicate', `request ${body.id}: every impression was bid on before under this id`, undefined, body.id);
      const base = baseUrl();
      const response: BidResponse = {
        ...outcome.response,
        seatbid: (outcome.response.seatbid ?? [])
          .map((seat) => ({
            ...seat,
            bid: seat.bid
              .filter((b) => fresh.has(b.id))
              .map((b): Bid => {
                const hold = fresh.get(b.id) as Hold;
                const f = fieldsOf(hold);
                const sig = signer.sign(f);
                const query = `id=${encodeURIComponent(f.auction)}&imp=${encodeURIComponent(f.imp)}&cmp=${encodeURIComponent(f.campaign)}&crid=${encodeURIComponent(f.creative)}&bid=${f.bidMicros}&exp=${f.expiresAt}&sig=${sig}`;
                return {
                  ...b,
                  burl: `${base}/openrtb2/win?${query}&price=\${AUCTION_PRICE}`,
                  lurl: `${base}/openrtb2/loss?${query}&reason=\${AUCTION_LOSS}`,
                  // `token` authorises the host's impression event to settle this bid (POST /events).
                  ext: { ctrkit: { pctr: Math.round(hold.pCtr * 1e6) / 1e6, model: hold.modelVersion, token: `${f.bidMicros}.${f.expiresAt}.${sig}.${f.imp}` } },
                };
              }),
          }))
          .filter((seat) => seat.bid.length > 0),
        ...(consent !== undefined && wantsDebug(body) ? { ext: { ...(outcome.response.ext ?? {}), ctrkit: { consent } } } : {}),
      };
      await hooks.afterReserve?.('respond', body.id);
      metrics.bidRequests.inc({ outcome: 'bid' });
      metrics.bids.inc(fresh.size);
      return reply.code(200).header('x-ctrkit-model', state.hot?.info.version ?? '').send(response);
    } catch (error) {
      // No budget without a bid: everything this request held goes back before it is answered.
      await Promise.all(mine.map((h) => holds.release(h, 'released-unused')));
      await Promise.allSettled(claimed.map((h) => settlement.transition(h.requestId, h.impId, ['open'], 'released')));
      request.log.error({ requestId: body.id, err: describe(error) }, 'bid failed after reserving; every reservation released');
      return noBid(reply, 204, 'technical', `internal error: ${describe(error)}`, NO_BID_REASONS.TECHNICAL_ERROR, body.id);
    } finally {
      scored.delete(body.id);
      inFlight.delete(body.id);
      activeBids--;
    }
  }

  // ---- Event path ---------------------------------------------------------------------------
  const rememberCounted = (key: string): void => {
    const now = clock.now();
    counted.set(key, now);
    for (const [oldest, at] of counted) {
      if (counted.size <= COUNTED_CAPACITY && now - at <= COUNTED_MS) break;
      counted.delete(oldest);
    }
  };
  const keyOf = (requestId: string, adId: string): string => `${requestId}:${adId}`;

  /** Why a notice (or an event's token) is refused. */
  type NoticeRefusal = 'unsigned' | 'malformed' | 'bad_signature' | 'expired' | 'price_above_bid' | 'unknown_creative';
  const REFUSAL_STATUS: Record<NoticeRefusal, number> = { unsigned: 403, malformed: 400, bad_signature: 403, expired: 410, price_above_bid: 400, unknown_creative: 403 };

  /** Checks what a notice claims against its signature and the catalogue. */
  function checkSigned(
    parts: { auction: string; imp: string; campaign?: string; creative?: string; bid?: string; exp?: string; sig?: string },
    graceMs = 0,
  ): { ok: true; fields: SignedFields } | { ok: false; refusal: NoticeRefusal; reason: string } {
    const { campaign, creative, bid, exp, sig } = parts;
    if (campaign === undefined || creative === undefined || bid === undefined || exp === undefined || sig === undefined) return { ok: false, refusal: 'unsigned', reason: 'the notice carries no signature (cmp, crid, bid, exp and sig are required)' };
    if (!/^[0-9]{1,15}$/.test(bid) || !/^[0-9]{1,15}$/.test(exp)) return { ok: false, refusal: 'malformed', reason: 'bid and exp must be integers' };
    const fields: SignedFields = { auction: parts.auction, imp: parts.imp, campaign, creative, bidMicros: Number(bid), expiresAt: Number(exp) };
    // A click may come up to the attribution window after the notice window: `graceMs` checks the signature as of then.
    const verdict = signer.verify(fields, sig, clock.now() - graceMs);
    if (verdict === 'expired') return { ok: false, refusal: 'expired', reason: `the notice window (${config.noticeWindowMs} ms after the bid) ended at ${fields.expiresAt}` };
    if (verdict !== 'ok') return { ok: false, refusal: verdict, reason: verdict === 'malformed' ? 'the signature is malformed' : 'the signature does not match what the notice settles' };
    const known = world.creativeById.get(creative);
    if (known === undefined || known.campaignId !== campaign) return { ok: false, refusal: 'unknown_creative', reason: `creative ${creative} of campaign ${campaign} is not in the catalogue` };
    return { ok: true, fields };
  }

  const refuseNotice = (reply: FastifyReply, kind: 'win' | 'loss', refusal: NoticeRefusal, reason: string) => {
    metrics.notices.inc({ kind, result: refusal });
    return reply.code(REFUSAL_STATUS[refusal]).header('x-ctrkit-settled', 'refused').header('x-ctrkit-reason', headerText(`${refusal}: ${reason}`)).send({ error: refusal, reason });
  };

  /** What settling a win did. */
  type WinResult = { result: 'committed' | 'committed_late' | 'unrecorded_late'; chargeMicros: number; hold: Hold | undefined } | { result: 'duplicate' | 'released' | 'unknown'; chargeMicros: 0; hold: undefined };

  /**
   * Settles a genuine win once: the registry moves the pair to `committed`, then its open hold
   * commits the charge — or, when the hold expired (or belongs to another process or an earlier
   * run), a fresh reservation of exactly the charge is committed at once.
   */
  async function settleWin(fields: SignedFields, chargeMicros: number): Promise<WinResult> {
    const previous: SettlementState = await settlement.transition(fields.auction, fields.imp, ['open', 'expired'], 'committed');
    if (previous === 'committed') return { result: 'duplicate', chargeMicros: 0, hold: undefined };
    if (previous === 'released') return { result: 'released', chargeMicros: 0, hold: undefined };
    if (previous === 'none') return { result: 'unknown', chargeMicros: 0, hold: undefined };
    const amount = chargeMicros / MICROS;
    const hold = holds.byImp(fields.auction, fields.imp);
    if (previous === 'open' && hold !== undefined && hold.adId === fields.creative) {
      const committed = await holds.commit(hold, amount);
      if (committed !== undefined) return { result: 'committed', chargeMicros: Math.round(committed * MICROS), hold };
    }
    const late = expiredHolds.get(pairKey(fields.auction, fields.imp));
    let answer: Reservation | { ok: false; reason: string; detail: string };
    try {
      answer = await ledger.reserve(fields.campaign, amount);
      if (answer.ok) await ledger.commit(answer, amount);
    } catch (error) {
      // Not recorded: let the exchange retry the notice.
      await settlement.transition(fields.auction, fields.imp, ['committed'], previous).catch(() => undefined);
      throw error;
    }
    expiredHolds.delete(pairKey(fields.auction, fields.imp));
    if (!answer.ok) {
      metrics.spendUnrecorded.inc(amount);
      log.warn({ requestId: fields.auction, imp: fields.imp, campaign: fields.campaign, amount, detail: answer.detail }, 'late win: the budget no longer covers it; spent at the exchange but not in the ledger');
      return { result: 'unrecorded_late', chargeMicros, hold: late };
    }
    metrics.holdsSettled.inc({ outcome: 'committed-late' });
    metrics.spend.inc(amount);
    pacing.recordSpend(fields.campaign, amount);
    return { result: 'committed_late', chargeMicros, hold: late };
  }

  /** Counts a settled impression everywhere an impression counts (reporter, quality, store). */
  async function countImpression(fields: SignedFields, hold: Hold | undefined, chargeMicros: number, from: AdEvent | undefined): Promise<void> {
    const creative = world.creativeById.get(fields.creative);
    if (creative === undefined) return;
    const key = keyOf(fields.auction, fields.creative);
    const event: AdEvent = from === undefined
      ? {
          type: 'impression',
          eventId: `${fields.auction}:${fields.imp}:win`,
          requestId: fields.auction,
          timestamp: clock.now(),
          userId: hold?.userId ?? '',
          adId: creative.adId,
          campaignId: creative.campaignId,
          advertiserId: creative.advertiserId,
          category: creative.category,
          format: creative.format,
          cost: chargeMicros / MICROS,
        }
      : { ...from, cost: chargeMicros / MICROS };
    report(event);
    if (hold !== undefined && Number.isFinite(hold.pCtr)) quality.impression(key, hold.pCtr);
    if (hold?.servedRow !== undefined) online?.served(hold.servedRow);
    rememberCounted(key);
    if (from !== undefined || event.userId === '') return; // the event path records it itself; no user: nothing to count for
    try {
      await store.record(event);
    } catch (error) {
      log.warn({ requestId: fields.auction, err: describe(error) }, 'win notice: the impression could not be recorded in the feature store');
    }
  }

  type NoticeQuery = { id: string; imp: string; cmp?: string; crid?: string; bid?: string; exp?: string; sig?: string; price?: string };
  const signedParts = (q: NoticeQuery) => ({
    auction: q.id,
    imp: q.imp,
    ...(q.cmp === undefined ? {} : { campaign: q.cmp }),
    ...(q.crid === undefined ? {} : { creative: q.crid }),
    ...(q.bid === undefined ? {} : { bid: q.bid }),
    ...(q.exp === undefined ? {} : { exp: q.exp }),
    ...(q.sig === undefined ? {} : { sig: q.sig }),
  });

  /** The win (billing) notice: checks its signature, commits the clearing price once and counts the impression. */
  async function win(request: FastifyRequest, reply: FastifyReply) {
    const query = request.query as NoticeQuery;
    const checked = checkSigned(signedParts(query));
    if (!checked.ok) return refuseNotice(reply, 'win', checked.refusal, checked.reason);
    const { fields } = checked;
    const priceMicros = query.price === undefined ? fields.bidMicros : cpmMicrosOf(query.price);
    if (priceMicros === undefined) return refuseNotice(reply, 'win', 'malformed', `price ${query.price ?? ''} is not a CPM`);
    if (priceMicros > fields.bidMicros) return refuseNotice(reply, 'win', 'price_above_bid', `the clearing price ${query.price ?? ''} CPM is above the bid ${fields.bidMicros / MICROS} CPM`);
    let settled: WinResult;
    try {
      settled = await settleWin(fields, chargeMicrosOf(priceMicros));
    } catch (error) {
      metrics.notices.inc({ kind: 'win', result: 'unavailable' });
      return reply.code(503).header('retry-after', '1').header('x-ctrkit-settled', 'unavailable').send({ error: 'unavailable', reason: describe(error) });
    }
    metrics.notices.inc({ kind: 'win', result: settled.result });
    if (settled.result === 'committed' || settled.result === 'committed_late' || settled.result === 'unrecorded_late') await countImpression(fields, settled.hold, settled.chargeMicros, undefined);
    const header = settled.result === 'committed_late' ? 'committed' : settled.result === 'unrecorded_late' ? 'unrecorded' : settled.result;
    return reply.code(204).header('x-ctrkit-settled', header).send();
  }

  /** The loss notice: checks its signature and releases the hold once. */
  async function loss(request: FastifyRequest, reply: FastifyReply) {
    const query = request.query as NoticeQuery;
    const checked = checkSigned(signedParts(query));
    if (!checked.ok) return refuseNotice(reply, 'loss', checked.refusal, checked.reason);
    const { fields } = checked;
    let previous: SettlementState;
    try {
      previous = await settlement.transition(fields.auction, fields.imp, ['open', 'expired'], 'released');
    } catch (error) {
      metrics.notices.inc({ kind: 'loss', result: 'unavailable' });
      return reply.code(503).header('retry-after', '1').header('x-ctrkit-settled', 'unavailable').send({ error: 'unavailable', reason: describe(error) });
    }
    if (previous === 'open') {
      const hold = holds.byImp(fields.auction, fields.imp);
      if (hold !== undefined) await holds.release(hold, 'released-loss');
    }
    expiredHolds.delete(pairKey(fields.auction, fields.imp));
    const result = previous === 'open' || previous === 'expired' ? 'released' : previous === 'released' ? 'duplicate' : previous === 'committed' ? 'already_committed' : 'unknown';
    metrics.notices.inc({ kind: 'loss', result });
    return reply.code(204).header('x-ctrkit-settled', result).send();
  }

  /** An event's settlement token (`ext.ctrkit.token` of its bid): `<bid micros>.<expiry>.<signature>.<imp id>`. */
  const parseToken = (token: string): { bid: string; exp: string; sig: string; imp: string } | undefined => {
    const match = /^([0-9]{1,15})\.([0-9]{1,15})\.([A-Za-z0-9_-]{22})\.(.+)$/s.exec(token);
    return match === null ? undefined : { bid: match[1] as string, exp: match[2] as string, sig: match[3] as string, imp: match[4] as string };
  };

  async function events(request: FastifyRequest, reply: FastifyReply) {
    const batch = (request.body as { events: (AdEvent & { token?: string })[] }).events;
    const now = clock.now();
    const refuseBatch = (result: string, error: string, reason: string, status = 400) => {
      for (const e of batch) metrics.events.inc({ type: e.type, result });
      return reply.code(status).send({ error, reason });
    };
    for (let i = 0; i < batch.length; i++) {
      const t = (batch[i] as AdEvent).timestamp;
      if (t > now + MAX_FUTURE_MS || t < now - MAX_AGE_MS) {
        return refuseBatch('invalid', 'invalid_events', `events[${i}].timestamp ${t} is ${t > now ? 'more than a day ahead of' : 'more than 30 days before'} the server's clock (${now}); nothing was recorded`);
      }
    }
    // Only the catalogue's ids: an outsider's ids would key reporter rings and metric series.
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as AdEvent;
      const creative = world.creativeById.get(e.adId);
      if (creative === undefined || creative.campaignId !== e.campaignId || creative.advertiserId !== e.advertiserId || creative.category !== e.category) {
        return refuseBatch('unknown_id', 'unknown_ids', `events[${i}]: ad ${JSON.stringify(e.adId)} of campaign ${JSON.stringify(e.campaignId)} and advertiser ${JSON.stringify(e.advertiserId)} (category ${JSON.stringify(e.category)}) is not in the catalogue; nothing was recorded`);
      }
    }
    // An event counts only with its bid's signed token (an impression settles money only so);
    // clicks and conversions may follow for the attribution window after the notice window.
    const signed: (SignedFields | undefined)[] = [];
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as AdEvent & { token?: string };
      if (e.token === undefined) {
        if (config.eventsRequireToken) return refuseBatch('unsigned', 'unsigned', `events[${i}] carries no token (the bid's ext.ctrkit.token); nothing was recorded`, 403);
        signed.push(undefined);
        continue;
      }
      const token = parseToken(e.token);
      const grace = e.type === 'impression' ? 0 : config.attributionWindowMs;
      const checked = token === undefined ? ({ ok: false, refusal: 'malformed', reason: 'the token is not <bid>.<exp>.<sig>.<imp>' } as const) : checkSigned({ auction: e.requestId, imp: token.imp, campaign: e.campaignId, creative: e.adId, bid: token.bid, exp: token.exp, sig: token.sig }, grace);
      if (!checked.ok) return refuseBatch(checked.refusal, checked.refusal, `events[${i}]: ${checked.reason}; nothing was recorded`, REFUSAL_STATUS[checked.refusal]);
      if (e.cost !== undefined && Math.round(e.cost * MICROS) * 1000 > checked.fields.bidMicros) return refuseBatch('price_above_bid', 'price_above_bid', `events[${i}]: cost ${e.cost} is above the bid; nothing was recorded`);
      signed.push(checked.fields);
    }
    let settled = 0;
    let spendMicros = 0;
    const toStore: { index: number; event: AdEvent }[] = [];
    for (let index = 0; index < batch.length; index++) {
      const { token: _token, ...event } = batch[index] as AdEvent & { token?: string };
      const key = keyOf(event.requestId, event.adId);
      const fields = signed[index];
      if (event.type === 'impression') {
        if (fields !== undefined) {
          const charge = event.cost === undefined ? chargeMicrosOf(fields.bidMicros) : Math.round(event.cost * MICROS);
          let result: WinResult;
          try {
            result = await settleWin(fields, charge);
          } catch (error) {
            return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', reason: `events[${index}]: ${describe(error)}; sending the batch again is safe` });
          }
          if (result.result === 'committed' || result.result === 'committed_late' || result.result === 'unrecorded_late') {
            settled++;
            spendMicros += result.chargeMicros;
            await countImpression(fields, result.hold, result.chargeMicros, event);
            toStore.push({ index, event });
            continue;
          }
        }
        if (counted.has(key)) {
          // Counted already from its win notice (or an earlier copy of this event).
          metrics.events.inc({ type: event.type, result: 'duplicate' });
          continue;
        }
        report({ ...event, cost: 0 });
      } else {
        report(event);
        if (event.type === 'click') {
          quality.click(key);
          online?.click(event);
        }
      }
      toStore.push({ index, event });
    }
    const failed: { index: number; eventId: string; reason: string }[] = [];
    // Sent together: one connection, in order, pipelined by ioredis.
    await Promise.all(
      toStore.map(async ({ index, event }) => {
        try {
          await store.record(event);
          metrics.events.inc({ type: event.type, result: 'recorded' });
        } catch (error) {
          metrics.events.inc({ type: event.type, result: 'store_failed' });
          failed.push({ index, eventId: event.eventId, reason: describe(error) });
        }
      }),
    );
    failed.sort((a, b) => a.index - b.index);
    const body = { received: batch.length, recorded: toStore.length - failed.length, settled, spend: spendMicros / MICROS, failed };
    if (failed.length > 0) return reply.code(503).header('retry-after', '1').send({ ...body, reason: 'some events could not be recorded in the feature store; sending them again is safe' });
    return reply.code(200).send(body);
  }

  // ---- Admin --------------------------------------------------------------------------------
  const tokenHash = config.adminToken === undefined ? undefined : sha256(config.adminToken);
  const authorised = (request: FastifyRequest): boolean => {
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    return tokenHash !== undefined && match !== null && timingSafeEqual(sha256(match[1] as string), tokenHash);
  };
  const adminGuard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!authorised(request)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', reason: config.adminToken === undefined ? 'the admin endpoints are disabled: set ADMIN_TOKEN' : 'a valid bearer token is required' });
    }
  };

  async function swapModel(dir?: string): Promise<SwapResult> {
    const hot = state.hot;
    if (hot === undefined || state.predictor === undefined) throw new CtrkitError('E_STATE', 'the first model has not loaded yet');
    const target = dir === undefined ? config.modelDir : path.resolve(config.modelRoot, dir);
    if (target !== config.modelRoot && !target.startsWith(config.modelRoot + path.sep)) {
      throw new CtrkitError('E_INPUT', `model directory ${target} is outside MODEL_ROOT (${config.modelRoot})`);
    }
    try {
      const result = await hot.swap(() => loadVersion(target), state.warmBatch === undefined ? {} : { warmup: state.warmBatch });
      drift.use(hot.active.manifest?.config?.featureProfile as FeatureProfile | undefined);
      metrics.modelSwaps.inc({ result: 'ok' });
      log.info({ previous: result.previous.version, current: result.current.version, dir: target }, 'model swapped');
      return result;
    } catch (error) {
      metrics.modelSwaps.inc({ result: 'refused' });
      log.warn({ dir: target, err: describe(error) }, 'model swap refused; the serving model stays');
      throw error;
    }
  }

  // ---- Routes -------------------------------------------------------------------------------
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

  app.get('/healthz', async () => ({ status: 'ok', phase: state.phase }));
  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    if (state.predictor === undefined) problems.push('model not loaded');
    if (state.phase === 'draining' || state.phase === 'closed') problems.push('shutting down');
    if (!redisUp()) problems.push('redis unreachable');
    if (problems.length > 0) return reply.code(503).send({ ready: false, problems, model: state.hot?.info.version ?? null });
    return { ready: true, model: state.hot?.info.version, redis: redis === undefined ? 'none' : 'up', openHolds: holds.size() };
  });
  app.get('/metrics', async (_request, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
  app.post('/openrtb2/bid', { bodyLimit: config.bidBodyLimit, schema: { body: bidRequestSchema } }, bid);
  app.get('/openrtb2/win', { schema: { querystring: noticeQuerySchema } }, win);
  app.get('/openrtb2/loss', { schema: { querystring: noticeQuerySchema } }, loss);
  app.post('/events', { bodyLimit: config.eventsBodyLimit, schema: { body: eventBatchSchema(config.maxEventsPerBatch) } }, events);
  app.post('/admin/model', { onRequest: adminGuard, bodyLimit: 4096 }, async (request, reply) => {
    const body = request.body as unknown;
    let dir: string | undefined;
    if (body !== undefined && body !== null && body !== '') {
      const ok = typeof body === 'object' && !Array.isArray(body) && Object.keys(body).every((k) => k === 'dir') && ((body as { dir?: unknown }).dir === undefined || typeof (body as { dir?: unknown }).dir === 'string');
      if (!ok) return reply.code(400).send({ error: 'invalid', reason: 'the body must be empty or { "dir": "<directory below MODEL_ROOT>" }' });
      dir = (body as { dir?: string }).dir;
    }
    try {
      const result = await swapModel(dir);
      return { previous: result.previous.version, current: result.current.version };
    } catch (error) {
      const status = isCtrkitError(error) && error.code === 'E_STATE' ? 503 : isCtrkitError(error) && error.code === 'E_INPUT' ? 400 : 409;
      return reply.code(status).send({ error: 'swap_refused', reason: describe(error), serving: state.hot?.info.version ?? null });
    }
  });
  app.get('/admin/budgets', { onRequest: adminGuard }, async (_request, reply) => {
    try {
      const campaigns = await Promise.all(
        world.budgets.map(async (b) => {
          const snapshot = await ledger.snapshot(b.id);
          const daily = snapshot.lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
          return { id: b.id, limit: daily?.limit, spent: daily?.spent, reserved: daily?.reserved, remaining: snapshot.remaining, multiplier: pacers.get(b.id)?.multiplier() };
        }),
      );
      const overspendBound = redisLedger === undefined ? 0 : redisLedger.overspendBound(world.budgets[0]?.id ?? '');
      return { openHolds: holds.size(), overspendBoundPerProcess: overspendBound, ledger: redisLedger?.stats() ?? null, campaigns };
    } catch (error) {
      return reply.code(503).send({ error: 'ledger_unavailable', reason: describe(error) });
    }
  });
  app.get('/admin/report', { onRequest: adminGuard, schema: { querystring: reportQuerySchema } }, async (request, reply) => {
    const windowMs = Number((request.query as { windowMs?: string }).windowMs ?? 3_600_000);
    if (!(windowMs >= 60_000 && windowMs <= 86_400_000)) return reply.code(400).send({ error: 'invalid', reason: `windowMs must be between 60000 (a minute) and 86400000 (a day), got ${windowMs}` });
    // NaN ratios (no impressions, no clicks) as null.
    const json = (scope: 'fleet' | 'process', figures: CampaignReport) => JSON.parse(JSON.stringify({ scope, ...figures }, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value))) as unknown;
    if (fleetReporter === undefined) return json('process', reporter.report(windowMs));
    try {
      return json('fleet', await fleetReporter.report(windowMs));
    } catch (error) {
      return reply.code(503).send({ error: 'report_unavailable', reason: describe(error) });
    }
  });
  app.get('/admin/counters', { onRequest: adminGuard, schema: { querystring: countersQuerySchema } }, async (request, reply) => {
    const { user, ad } = request.query as { user: string; ad: string };
    const creative = world.creativeById.get(ad);
    if (creative === undefined) return reply.code(404).send({ error: 'not_found', reason: `ad ${ad} is not in the catalogue` });
    try {
      const lookup = await store.lookup({ id: user }, [creative], clock.now(), { deadlineMs: 1_000 });
      return { user, ad, degraded: lookup.degraded, counters: Object.fromEntries(lookup.names.map((name, i) => [name, lookup.values[i]])) };
    } catch (error) {
      return reply.code(503).send({ error: 'store_unavailable', reason: describe(error) });
    }
  });

  // ---- Lifecycle ----------------------------------------------------------------------------
  const waitFor = async (done: () => boolean, ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (!done()) {
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  };

  async function shutdown(reason = 'shutdown'): Promise<ShutdownReport> {
    if (state.shutdown !== undefined) return state.shutdown;
    state.shutdown = (async () => {
      state.phase = 'draining';
      log.info({ reason, openHolds: holds.size(), activeBids }, 'shutting down: no new bids');
      const problems: string[] = [];
      // 1. Auctions already running finish (their bids are held).
      if (!(await waitFor(() => activeBids === 0, 10_000))) problems.push(`${activeBids} bid requests still running after 10 s`);
      // 2. Win and loss notices of the bids already sent may still come.
      const before = holds.size();
      await waitFor(() => holds.size() === 0, config.shutdownGraceMs);
      const settledDuringGrace = before - holds.size();
      // 3. Stop accepting anything; requests in flight finish.
      state.phase = 'closed';
      await app.close();
      // 4. Every reservation still open goes back to the budget.
      holds.stop();
      const released = await holds.releaseAll();
      if (syncTimer !== undefined) clearInterval(syncTimer);
      if (pingTimer !== undefined) clearInterval(pingTimer);
      clearInterval(qualityTimer);
      await online?.close();
      try {
        await fleetReporter?.close(); // the last second of counts
      } catch (error) {
        problems.push(`reporter: ${describe(error)}`);
      }
      try {
        await ledger.close(); // the Redis ledger settles its spend and returns its leases
      } catch (error) {
        problems.push(`ledger: ${describe(error)}`);
      }
      try {
        await store.close();
      } catch (error) {
        problems.push(`store: ${describe(error)}`);
      }
      try {
        await state.hot?.dispose();
      } catch (error) {
        problems.push(`model: ${describe(error)}`);
      }
      if (redis !== undefined) {
        const client = redis;
        await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
        client.disconnect();
      }
      log.info({ settledDuringGrace, released, problems }, 'shut down');
      return { settledDuringGrace, released, problems };
    })();
    return state.shutdown;
  }

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
    ready() {
      state.readying ??= loadFirstModel();
      return state.readying;
    },
    isReady: () => state.predictor !== undefined && state.phase === 'serving' && redisUp(),
    swapModel,
    shutdown,
    online: () => online,
  };
}
