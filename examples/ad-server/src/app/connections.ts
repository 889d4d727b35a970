/**
 * Connections and the state behind them: the optional Redis client and its health, the feature
 * store, the budget ledger and the settlement registry — in memory without `REDIS_URL`, in Redis
 * (shared by every process of the prefix) with it.
 *
 * @internal
 */
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Clock, FeatureStore } from '@ctrkit/core';
import { createMemoryFeatureStore } from '@ctrkit/features';
import { createRedisFeatureStore } from '@ctrkit/features/redis';
import { createMemoryLedger, type BudgetLedger } from '@ctrkit/pacing';
import { createRedisLedger, type RedisLedger } from '@ctrkit/pacing/redis';
import type { ServerConfig } from '../config.js';
import { createMemorySettlementRegistry, createRedisSettlementRegistry, type SettlementRegistry } from '../settlement.js';
import type { World } from '../world.js';

/** What {@link createConnections} needs. */
export interface ConnectionsDeps {
  readonly config: ServerConfig;
  readonly world: World;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
}

/** The Redis client (when configured) and the stores built on it or in memory. */
export interface Connections {
  /** The client, undefined in embedded mode. */
  readonly redis: Redis | undefined;
  /** True in embedded mode; with Redis, whether it is connected and answered the last ping. */
  redisUp(): boolean;
  readonly store: FeatureStore;
  /** The embedded store (for its sizes in `/metrics`), undefined on Redis. */
  readonly memoryStore: ReturnType<typeof createMemoryFeatureStore> | undefined;
  readonly ledger: BudgetLedger;
  /** The Redis ledger (stats, lease bound), undefined in embedded mode. */
  readonly redisLedger: RedisLedger | undefined;
  /** Where each (auction, imp) bid on stands: per process in memory, fleet-wide in Redis. */
  readonly settlement: SettlementRegistry;
  /** Stops the ping timer. */
  stop(): void;
  /** Quits Redis (at most a second), then disconnects; nothing in embedded mode. */
  closeRedis(): Promise<void>;
}

/** A Redis client that fails fast and knows whether the server answers (pinged every second). */
function connectRedis(url: string, clock: Clock, log: FastifyBaseLogger): { client: Redis; up(): boolean; stop(): void } {
  let pingOk = false;
  let lastRedisError = 0;
  const client = new Redis(url, {
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
  const pingTimer = setInterval(() => void ping(), 1_000);
  pingTimer.unref();
  return { client, up: () => client.status === 'ready' && pingOk, stop: () => clearInterval(pingTimer) };
}

/**
 * Connects Redis (when `REDIS_URL` is set; the connection is made in the background) and builds
 * the feature store, the ledger and the settlement registry on it, or in memory.
 *
 * @param deps - Configuration, catalog, clock, logger.
 * @returns The connections.
 */
export function createConnections(deps: ConnectionsDeps): Connections {
  const { config, world, clock, log } = deps;
  const connected = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, clock, log);
  const redis = connected?.client;
  const redisUp = (): boolean => connected === undefined || connected.up();

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

  return {
    redis,
    redisUp,
    store,
    memoryStore,
    ledger,
    redisLedger,
    settlement,
    stop: () => connected?.stop(),
    async closeRedis() {
      if (redis === undefined) return;
      await Promise.race([redis.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
      redis.disconnect();
    },
  };
}
