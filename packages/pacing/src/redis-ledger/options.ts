/**
 * The options, stats and interface of the Redis ledger (`createRedisLedger`), and the
 * settings they resolve to, checked once.
 */
import { systemClock, type Clock } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import type { Cluster, Redis } from 'ioredis';
import type { LedgerBudgets } from '../budget.js';
import type { BudgetLedger } from '../ledger.js';
import { checkAmount } from '../money.js';

/**
 * Lease settings of a `createRedisLedger` ledger.
 *
 * @example
 * ```ts
 * import type { LeaseOptions } from '@ctrkit/pacing/redis';
 * const lease: LeaseOptions = { amount: 5, ttlMs: 30_000, flushIntervalMs: 100 };
 * ```
 */
export interface LeaseOptions {
  /**
   * The most budget one process may hold per campaign, in currency units — and so the most a
   * process can overspend if it dies or loses Redis for longer than `ttlMs`. Default: 1 % of the
   * campaign's tightest budget line. Reservations larger than this are rejected.
   */
  readonly amount?: number;
  /**
   * How long Redis keeps a lease that is not renewed (default 150 s). Must be at least
   * 2 × (reservationTtlMs + flushIntervalMs + safety margin), so that live leases are renewed
   * long before open reservations could outlive them.
   */
  readonly ttlMs?: number;
  /** How often local spend is settled to Redis and leases renewed (default 200 ms). */
  readonly flushIntervalMs?: number;
  /** Unused lease budget returns to Redis after this long without a reservation (default 2 s). */
  readonly idleMs?: number;
}

/**
 * Options for `createRedisLedger`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisLedgerOptions } from '@ctrkit/pacing/redis';
 * const options: RedisLedgerOptions = {
 *   redis: new Redis({ lazyConnect: true }),
 *   budgets: { campaigns: [{ id: 'c', dailyBudget: 100 }] },
 *   keyPrefix: 'shop:budget:',
 *   lease: { amount: 1 },
 * };
 * ```
 */
export interface RedisLedgerOptions {
  /** An ioredis client (or Cluster) the host owns; the ledger never closes it. */
  readonly redis: Redis | Cluster;
  /** The budgets; every process sharing the keys must use the same ones. */
  readonly budgets: LedgerBudgets;
  /** Prefix of every key (default `ctrkit:budget:`; no braces). */
  readonly keyPrefix?: string;
  /**
   * Time source for reservation expiry and day boundaries (default the system clock). It must run
   * at real-time speed: leases expire on the Redis server's clock.
   */
  readonly clock?: Clock;
  /** How long a reservation holds its amount (default 60 s). */
  readonly reservationTtlMs?: number;
  /**
   * Local leases (default on): reserve and commit are served in process from a lease of budget
   * held in Redis, settled every `flushIntervalMs`. `false`: every call is one Redis round trip
   * (no overspend at all, but a round trip per bid).
   */
  readonly lease?: LeaseOptions | false;
  /** Longest wait for Redis before a reservation is refused as `unavailable` (default 500 ms). */
  readonly commandTimeoutMs?: number;
  /** This process's id in hold names (default 12 random hex characters). */
  readonly clientId?: string;
  /**
   * Replicas that must have a write before the ledger counts it done (Redis `WAIT`, sent in one
   * pipeline with each script, so it reaches the node that ran it). Redis replicates
   * asynchronously: a master that is killed, or frozen past the cluster's node timeout and then
   * answers the commands queued meanwhile before it learns it was demoted, loses writes it
   * acknowledged — lease grants and settled spend — so the ledger would record less than was
   * spent. With one acknowledgment required, a write no replica has counts as a timeout: the
   * lease is not used, the settle is sent again (settles are idempotent), and no acknowledged
   * write is lost to a failover. The price: a master whose replica is down refuses writes until
   * one is back (reservations are refused as `unavailable`: no bid, no spend).
   * Default 0: in the failover tests, 1 made recorded spend exact through a kill and a freeze of
   * the master, but a freeze right after a kill left the shard refusing writes (replica not back
   * in sync) until the bidders gave up — safe for money, not yet for delivery.
   */
  readonly replicaAcks?: number;
}

/**
 * Counters of a Redis ledger, for monitoring.
 *
 * @example
 * ```ts
 * import type { RedisLedgerStats } from '@ctrkit/pacing/redis';
 * const healthy = (stats: RedisLedgerStats) => stats.lostLeases === 0 && stats.redisErrors === 0;
 * ```
 */
export interface RedisLedgerStats {
  /** Budget this process holds in Redis leases now, in currency units. */
  readonly held: number;
  /** Spend committed locally and not yet settled to Redis. */
  readonly unflushed: number;
  /** Lease refills sent to Redis. */
  readonly refills: number;
  /** Settles sent to Redis (spend flushes, renewals, returns). */
  readonly settles: number;
  /** Leases found expired in Redis while this process still used them (a stall or partition longer than the lease TTL). */
  readonly lostLeases: number;
  /** Spend recorded after its lease was lost: counted within the overspend bound. */
  readonly lateSpend: number;
  /** Redis calls that failed or timed out. */
  readonly redisErrors: number;
}

/**
 * A {@link BudgetLedger} shared through Redis.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisLedger, type RedisLedger } from '@ctrkit/pacing/redis';
 * const ledger: RedisLedger = createRedisLedger({ redis: new Redis(), budgets: { campaigns: [{ id: 'c', dailyBudget: 100 }] } });
 * console.log(ledger.overspendBound('c')); // 1: one process losing its lease can overspend at most this
 * await ledger.close();
 * ```
 */
export interface RedisLedger extends BudgetLedger {
  /**
   * The most one lost lease of this process can make the campaign overspend (the process dies,
   * stalls or loses Redis for longer than the lease TTL): its lease amount (0 without leases).
   *
   * @param campaignId - A campaign from the budgets.
   * @returns The bound, in currency units.
   * @throws CtrkitError `E_NOT_FOUND` for an unknown campaign.
   */
  overspendBound(campaignId: string): number;
  /**
   * Settles local spend to Redis now, instead of at the next flush tick.
   *
   * @returns When every lease has been settled (or its settle has failed and will be retried).
   */
  flush(): Promise<void>;
  /**
   * Counters for monitoring.
   *
   * @returns The current counters.
   */
  stats(): RedisLedgerStats;
}


/** @internal {@link RedisLedgerOptions} checked, with every default filled in. */
export interface RedisLedgerSettings {
  readonly redis: Redis | Cluster;
  readonly clock: Clock;
  readonly prefix: string;
  /** Reservation TTL, ms. */
  readonly resTtl: number;
  readonly timeoutMs: number;
  readonly replicaAcks: number;
  readonly clientId: string;
  /** False in direct mode. */
  readonly leasing: boolean;
  /** `lease.amount` in currency units, when given. */
  readonly leaseAmount: number | undefined;
  readonly flushMs: number;
  readonly idleMs: number;
  readonly leaseTtl: number;
  /** How long before a lease's Redis expiry this process stops using it, ms. */
  readonly safety: number;
}

/** @internal Checks the options once (`E_CONFIG` with what to mend) and fills in the defaults. */
export function resolveSettings(options: RedisLedgerOptions, newClientId: () => string): RedisLedgerSettings {
  const { redis } = options;
  ensure(typeof redis === 'object' && redis !== null && typeof (redis as Redis).evalsha === 'function', 'E_CONFIG', () => 'options.redis must be an ioredis client');
  const clock = options.clock ?? systemClock;
  const prefix = options.keyPrefix ?? 'ctrkit:budget:';
  ensure(typeof prefix === 'string' && !/[{}]/.test(prefix), 'E_CONFIG', () => `keyPrefix must be a string without braces (they would break hash tags), got ${JSON.stringify(prefix)}`);
  const resTtl = options.reservationTtlMs ?? 60_000;
  ensure(Number.isFinite(resTtl) && resTtl > 0, 'E_CONFIG', () => `reservationTtlMs must be positive, got ${String(resTtl)}`);
  const timeoutMs = options.commandTimeoutMs ?? 500;
  ensure(Number.isFinite(timeoutMs) && timeoutMs > 0, 'E_CONFIG', () => `commandTimeoutMs must be positive, got ${String(timeoutMs)}`);
  const replicaAcks = options.replicaAcks ?? 0;
  ensure(Number.isInteger(replicaAcks) && replicaAcks >= 0 && replicaAcks <= 16, 'E_CONFIG', () => `replicaAcks must be an integer in [0, 16], got ${String(options.replicaAcks)}`);
  const clientId = options.clientId ?? newClientId();
  ensure(typeof clientId === 'string' && /^[\w.-]{1,64}$/.test(clientId), 'E_CONFIG', () => `clientId must be 1–64 letters, digits, '.', '_' or '-', got ${JSON.stringify(clientId)}`);
  const leasing = options.lease !== false;
  const leaseOptions: LeaseOptions = options.lease === false ? {} : (options.lease ?? {});
  const flushMs = leaseOptions.flushIntervalMs ?? 200;
  ensure(Number.isFinite(flushMs) && flushMs >= 5, 'E_CONFIG', () => `lease.flushIntervalMs must be at least 5 ms, got ${String(flushMs)}`);
  const idleMs = leaseOptions.idleMs ?? 2_000;
  ensure(Number.isFinite(idleMs) && idleMs > 0, 'E_CONFIG', () => `lease.idleMs must be positive, got ${String(idleMs)}`);
  const leaseTtl = leaseOptions.ttlMs ?? Math.max(150_000, 2 * (resTtl + flushMs) + 10_000);
  const safety = Math.max(100, leaseTtl * 0.05);
  if (leasing) {
    ensure(
      Number.isFinite(leaseTtl) && leaseTtl >= 2 * (resTtl + flushMs + safety),
      'E_CONFIG',
      () => `lease.ttlMs (${leaseTtl}) must be at least 2 × (reservationTtlMs ${resTtl} + flushIntervalMs ${flushMs} + safety margin ${safety}) = ${2 * (resTtl + flushMs + safety)} ms, so leases are renewed before reservations could outlive them`,
    );
    if (leaseOptions.amount !== undefined) {
      checkAmount(leaseOptions.amount, 'lease.amount', 'E_CONFIG');
      ensure(leaseOptions.amount > 0, 'E_CONFIG', () => 'lease.amount must be positive');
    }
  }
  return { redis, clock, prefix, resTtl, timeoutMs, replicaAcks, clientId, leasing, leaseAmount: leaseOptions.amount, flushMs, idleMs, leaseTtl, safety };
}
