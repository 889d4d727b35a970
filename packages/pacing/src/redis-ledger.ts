import { createHash, randomBytes } from 'node:crypto';
import { CtrkitError, systemClock, toCtrkitError, type Clock } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import type { Cluster, Redis } from 'ioredis';
import { compileBudgets, dayIndex, type CompiledCampaign, type LedgerBudgets } from './budget.js';
import { ExpiryQueue } from './expiry-queue.js';
import type { BudgetLedger, BudgetSnapshot, Refusal, Reservation, ReserveResult } from './ledger.js';
import { checkAmount, fromMicros, toMicros } from './money.js';
import { HOLD_SCRIPT, SETTLE_SCRIPT, SNAPSHOT_SCRIPT } from './redis-scripts.js';

/** Generation of reservations that hold nothing (maxPrice 0) or live in Redis as their own hold (direct mode). */
const FREE = -2;
const DIRECT = -1;
const OPEN = 0;
const COMMITTED = 1;
const RELEASED = 2;
const EXPIRED = 3;
/** SETTLE late modes. */
const LATE_NONE = 0;
const LATE_FIT = 1;
const LATE_FORCE = 2;

/**
 * Lease settings of a {@link createRedisLedger} ledger.
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
 * Options for {@link createRedisLedger}.
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
   * spent. With one acknowledgement required, a write no replica has counts as a timeout: the
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

type ScriptName = 'hold' | 'settle' | 'snapshot';
const SCRIPTS: Record<ScriptName, { source: string; sha: string }> = {
  hold: { source: HOLD_SCRIPT, sha: createHash('sha1').update(HOLD_SCRIPT).digest('hex') },
  settle: { source: SETTLE_SCRIPT, sha: createHash('sha1').update(SETTLE_SCRIPT).digest('hex') },
  snapshot: { source: SNAPSHOT_SCRIPT, sha: createHash('sha1').update(SNAPSHOT_SCRIPT).digest('hex') },
};

class TimeoutError extends Error {}

/** The script ran on the master, but fewer replicas than `replicaAcks` have it yet. */
class ReplicaLagError extends TimeoutError {}

/** Per-campaign state: its keys, lines and (with leases) its local lease. */
class CampaignLease {
  generation = 0;
  holdId = '';
  /** Micros Redis holds for us under `holdId` (our belief). */
  held = 0;
  /** Free to carve into reservations. */
  available = 0;
  /** In open local reservations. */
  outstanding = 0;
  /** Committed locally, not yet sent. */
  unflushed = 0;
  /** Spent + released in the settle in flight or awaiting retry (still part of `held`). */
  inflight = 0;
  /** No reservation may outlive this (ledger clock ms). */
  deadline = Number.NEGATIVE_INFINITY;
  seq = 0;
  pending: { holdId: string; seq: number; spent: number; release: number; close: boolean } | null = null;
  /** Spend of reservations whose lease was lost, to record with `force`. */
  orphan = 0;
  orphanPending: { id: string; spent: number } | null = null;
  lastReserveAt = Number.NEGATIVE_INFINITY;
  /** What Redis said was left after our last HOLD (micros): leases only prefetch while the budget is plentiful. */
  lastRemaining = Number.POSITIVE_INFINITY;
  tail: Promise<unknown> = Promise.resolve();
  busy = 0;
  refill: Promise<Refusal | null> | null = null;

  constructor(
    readonly campaign: CompiledCampaign,
    readonly keys: readonly string[],
    readonly cap: number,
  ) {}

  /** Serialises Redis work on this lease: one op in flight at a time. */
  run<T>(op: () => Promise<T>): Promise<T> {
    this.busy++;
    const next = this.tail.then(op, op).finally(() => {
      this.busy--;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

class RedisReservation implements Reservation {
  readonly ok = true as const;
  state = OPEN;

  constructor(
    readonly owner: symbol,
    readonly id: string,
    readonly campaignId: string,
    readonly micros: number,
    readonly expiresAt: number,
    readonly lease: CampaignLease,
    readonly generation: number,
  ) {}

  get amount(): number {
    return fromMicros(this.micros);
  }
}

/**
 * Creates a {@link BudgetLedger} shared by every process that uses the same Redis keys: atomic
 * Lua scripts, keys hash-tagged per budget group (a campaign, or an advertiser with its campaigns
 * when the advertiser has a budget) so each script runs on one Redis Cluster node.
 *
 * **Leases** (default): a process takes a lease — budget held for it in Redis — and serves
 * `reserve`, `commit` and `release` from it in memory; every `flushIntervalMs` it settles its spend
 * and renews the lease, and it returns unused budget after `idleMs` without bids. A lease that is
 * not renewed within `ttlMs` (the process died, stalled or lost Redis) expires in Redis and its
 * remaining amount returns to the budget; the process stops reserving from it before that.
 *
 * **Overspend bound.** Without leases, committed spend never exceeds any budget line. With
 * leases, spend exceeds a budget line only when a lease is lost — its process dies, stalls, or
 * cannot reach Redis for longer than `lease.ttlMs` — and by at most `lease.amount` per lost lease:
 * Redis never lets one hold exceed `lease.amount` (the cap is enforced inside the Lua script, so a
 * retried or timed-out call cannot grow it), and what a lost lease can have spent without Redis
 * knowing is part of that hold. While every process keeps its lease, spend never exceeds the
 * budget. Spend a process later reports for a lost lease is recorded (`stats().lateSpend`), so the
 * ledger's figures stay true even then.
 *
 * **Days**: a daily line's spend counts on the local day it reaches Redis — with leases up to
 * `flushIntervalMs` after the commit, so a win just before midnight may count on the next day
 * (never on neither, and never letting either day exceed its budget). Reservations and leases
 * open at midnight carry over to the new day.
 *
 * **Redis unreachable**: no new reservation beyond what the local lease still covers; then
 * `reserve` refuses with reason `unavailable` (do not bid). Spend committed meanwhile is settled
 * when Redis answers again.
 *
 * @param options - Client, budgets, key prefix, clock, TTLs, lease settings, timeout.
 * @returns The ledger (call `close()` at shutdown to return leases at once).
 * @throws CtrkitError `E_CONFIG` on invalid budgets, prefix, TTLs or lease settings.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisLedger } from '@ctrkit/pacing/redis';
 * const redis = new Redis();
 * const ledger = createRedisLedger({ redis, budgets: { campaigns: [{ id: 'c', dailyBudget: 50 }] }, lease: { amount: 0.5 } });
 * const reservation = await ledger.reserve('c', 0.01);
 * if (reservation.ok) await ledger.commit(reservation, 0.004);
 * await ledger.close();
 * redis.disconnect();
 * ```
 */
export function createRedisLedger(options: RedisLedgerOptions): RedisLedger {
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
  const clientId = options.clientId ?? randomBytes(6).toString('hex');
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

  const compiled = compileBudgets(options.budgets);
  const leases = new Map<string, CampaignLease>();
  for (const campaign of compiled.values()) {
    const tag = `${prefix}{${campaign.group}}`;
    const cap = leaseOptions.amount !== undefined ? toMicros(leaseOptions.amount) : Math.max(1, Math.floor(campaign.tightestMicros / 100));
    leases.set(campaign.id, new CampaignLease(campaign, [`${tag}:lines`, `${tag}:holds`, `${tag}:exp`, `${tag}:done`], cap));
  }
  const owner = Symbol('redis-ledger');
  const queue = new ExpiryQueue<RedisReservation>();
  let serial = 0;
  let orphanSerial = 0;
  let closed = false;
  /** Direct-mode reservations not yet committed or released, released by `close`. */
  const openDirect = new Set<RedisReservation>();
  const counters = { refills: 0, settles: 0, lostLeases: 0, lateSpend: 0, redisErrors: 0 };

  // ---- Redis calls -------------------------------------------------------------------------

  const lineArgs = (campaign: CompiledCampaign, now: number): string[] => {
    const args = [String(campaign.lines.length)];
    for (const line of campaign.lines) {
      args.push(line.key, String(line.limitMicros), line.period === 'daily' ? String(dayIndex(now, line.timezoneOffsetMinutes)) : '-1');
    }
    return args;
  };

  /** Re-reads a cluster's slot map (after a MOVED); resolves on a single Redis at once. */
  const refreshSlots = (): Promise<void> =>
    new Promise((resolve) => {
      const cluster = redis as { refreshSlotsCache?: (callback: (error?: Error | null) => void) => void };
      if (typeof cluster.refreshSlotsCache !== 'function') return resolve();
      // Errors surface when the pipeline is sent again; never wait longer than a short pause.
      const timer = setTimeout(resolve, 200);
      cluster.refreshSlotsCache(() => {
        clearTimeout(timer);
        setTimeout(resolve, 20);
      });
    });

  const evalScript = async (name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<string[]> => {
    const script = SCRIPTS[name];
    const client = redis as Redis;
    const call = (async () => {
      if (replicaAcks === 0) {
        try {
          return await client.evalsha(script.sha, keys.length, ...keys, ...args);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(script.source, keys.length, ...keys, ...args);
          throw error;
        }
      }
      // The script and WAIT in one pipeline: WAIT has no key, so it goes to the node that ran the script.
      const waitMs = String(Math.max(1, Math.floor(timeoutMs / 2)));
      const run = async (withSource: boolean) => {
        const pipeline = client.pipeline();
        if (withSource) pipeline.eval(script.source, keys.length, ...keys, ...args);
        else pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
        pipeline.call('WAIT', String(replicaAcks), waitMs);
        return (await pipeline.exec()) ?? [];
      };
      let results = await run(false);
      for (let attempt = 0; ; attempt++) {
        const first = results[0]?.[0];
        if (!(first instanceof Error)) break;
        if (first.message.startsWith('NOSCRIPT')) results = await run(true);
        else if (/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN) /.test(first.message) && attempt < 3) {
          // ioredis follows redirections for single commands but not for a pipeline whose keyless
          // commands succeeded: learn the new slot owner (a failover) and send it again.
          await refreshSlots();
          results = await run(false);
        } else break;
      }
      const [scriptError, reply] = results[0] ?? [new Error('Redis answered an empty pipeline'), undefined];
      if (scriptError) throw scriptError;
      const [waitError, acks] = results[1] ?? [new Error('Redis did not answer WAIT'), undefined];
      if (waitError) throw waitError;
      if (Number(acks) < replicaAcks) {
        throw new ReplicaLagError(`${Number(acks)} of ${replicaAcks} replica(s) acknowledged the write within ${waitMs} ms (is the master's replica down? set replicaAcks: 0 for a cluster without replicas, accepting that a failover can lose acknowledged writes)`);
      }
      return reply;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return (reply as unknown[]).map(String);
    } catch (error) {
      counters.redisErrors++;
      call.catch(() => undefined);
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  const unavailable = (campaignId: string, why: string): Refusal => ({ ok: false, campaignId, reason: 'unavailable', remaining: undefined, detail: `campaign ${campaignId}: ${why}; not bidding rather than spending blind` });
  const budgetRefusal = (campaignId: string, availableMicros: number, askedMicros: number): Refusal => ({
    ok: false,
    campaignId,
    reason: 'budget',
    remaining: fromMicros(Math.max(0, availableMicros)),
    detail: `campaign ${campaignId}: ${fromMicros(askedMicros)} asked, ${fromMicros(Math.max(0, availableMicros))} left on its most restrictive budget`,
  });

  // ---- Leases ------------------------------------------------------------------------------

  const loseLease = (lease: CampaignLease): void => {
    counters.lostLeases++;
    lease.generation++;
    lease.holdId = '';
    lease.held = 0;
    lease.available = 0;
    lease.outstanding = 0;
    lease.inflight = 0;
    lease.deadline = Number.NEGATIVE_INFINITY;
    lease.pending = null;
  };

  /** Adopts Redis's view of the hold amount after a successful call. */
  const heal = (lease: CampaignLease, redisAmount: number): void => {
    if (redisAmount > lease.held) {
      // An earlier HOLD that timed out did run: its grant is ours to use.
      lease.available += redisAmount - lease.held;
      lease.held = redisAmount;
    } else if (redisAmount < lease.held) {
      const missing = lease.held - redisAmount;
      lease.available = Math.max(0, lease.available - missing);
      lease.held = redisAmount;
    }
  };

  /** Sends (or re-sends) one settle. Must run inside `lease.run`. Returns false on a Redis failure. */
  const settleNow = async (lease: CampaignLease, mode: { close: boolean; returnAvailable: boolean; renew: boolean }): Promise<boolean> => {
    if (lease.pending === null) {
      if (lease.holdId === '') {
        // No hold to settle against (it was lost): spend committed meanwhile is real, record it late.
        if (lease.unflushed > 0) {
          lease.orphan += lease.unflushed;
          lease.unflushed = 0;
        }
        return true;
      }
      const release = mode.close ? -1 : mode.returnAvailable ? lease.available : 0;
      if (!mode.close && lease.unflushed === 0 && release === 0 && !mode.renew) return true;
      const spent = lease.unflushed;
      lease.unflushed = 0;
      if (release > 0) lease.available -= release;
      lease.inflight = spent + Math.max(0, release);
      lease.pending = { holdId: lease.holdId, seq: ++lease.seq, spent, release, close: mode.close };
    }
    const pending = lease.pending;
    const sentAt = clock.now();
    counters.settles++;
    let reply: string[];
    try {
      reply = await evalScript('settle', lease.keys, [
        pending.holdId,
        String(pending.seq),
        String(pending.spent),
        String(pending.release),
        pending.close ? '0' : String(leaseTtl),
        String(LATE_FORCE),
        ...lineArgs(lease.campaign, sentAt),
      ]);
    } catch {
      return false;
    }
    const status = Number(reply[0]);
    const amount = Number(reply[1]);
    lease.pending = null;
    if (pending.holdId !== lease.holdId) return true; // the lease was replaced meanwhile
    if (status === 1) {
      lease.held -= lease.inflight;
      lease.inflight = 0;
      if (!pending.close) lease.deadline = sentAt + leaseTtl - safety;
      heal(lease, amount);
      return true;
    }
    if (status === 2) {
      // Closed or emptied.
      lease.held -= lease.inflight;
      lease.inflight = 0;
      if (pending.close || lease.held <= 0) {
        lease.holdId = '';
        lease.deadline = Number.NEGATIVE_INFINITY;
        lease.available = 0;
        lease.held = 0;
      }
      return true;
    }
    if (status === -2) counters.lateSpend += fromMicros(pending.spent);
    if (status === -4 && pending.spent > 0) lease.orphan += pending.spent;
    // −1, −2, −4: the hold is gone (expired while we used it) or inconsistent: start afresh.
    if (status === -1 && pending.close) {
      lease.holdId = '';
      lease.held = 0;
      lease.available = 0;
      lease.inflight = 0;
      lease.deadline = Number.NEGATIVE_INFINITY;
      return true;
    }
    loseLease(lease);
    return true;
  };

  /** Records spend of reservations whose lease was lost. Must run inside `lease.run`. */
  const flushOrphans = async (lease: CampaignLease): Promise<boolean> => {
    if (lease.orphanPending === null) {
      if (lease.orphan === 0) return true;
      lease.orphanPending = { id: `${clientId}:late:${lease.campaign.id}:${++orphanSerial}`, spent: lease.orphan };
      lease.orphan = 0;
    }
    const pending = lease.orphanPending;
    try {
      await evalScript('settle', lease.keys, [pending.id, '1', String(pending.spent), '0', '0', String(LATE_FORCE), ...lineArgs(lease.campaign, clock.now())]);
    } catch {
      return false;
    }
    counters.lateSpend += fromMicros(pending.spent);
    lease.orphanPending = null;
    return true;
  };

  /**
   * Tops the lease up so that `needed` micros can be carved (0: prefetch), renewing it when it is
   * too close to expiry. Must run inside `lease.run`.
   */
  const refillNow = async (lease: CampaignLease, needed: number): Promise<Refusal | null> => {
    const id = lease.campaign.id;
    if (lease.pending !== null || (lease.unflushed > 0 && lease.held + Math.max(0, needed - lease.available) > lease.cap)) {
      if (!(await settleNow(lease, { close: false, returnAvailable: false, renew: false }))) return unavailable(id, 'Redis did not answer');
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const at = clock.now();
      const shortfall = Math.max(0, needed - lease.available);
      const room = lease.cap - lease.held;
      if (shortfall > room) {
        return unavailable(id, `its lease is full (${fromMicros(lease.outstanding)} in open reservations, ${fromMicros(lease.unflushed + lease.inflight)} unsettled); raise lease.amount above the budget in flight`);
      }
      const fresh = lease.holdId !== '' && at + resTtl <= lease.deadline;
      if (shortfall === 0 && lease.holdId !== '' && !fresh) {
        // Enough budget, but the lease is too close to expiry: renew it.
        if (!(await settleNow(lease, { close: false, returnAvailable: false, renew: true }))) return unavailable(id, 'Redis did not answer to renew the lease');
        continue;
      }
      if (needed > 0 && shortfall === 0 && fresh) return null;
      // Near the end of the budget a lease shrinks to the bid at hand, so that budget is not parked
      // in one process (or one campaign of a shared advertiser budget) while others are refused.
      const plenty = lease.lastRemaining >= 2 * lease.cap;
      if (needed === 0 && (room <= 0 || !plenty || lease.available * 4 >= lease.cap)) return null;
      const mustExist = lease.holdId !== '';
      if (!mustExist) {
        lease.generation++;
        lease.holdId = `${clientId}:${id}:${lease.generation}`;
        lease.held = 0;
        lease.available = 0;
        lease.outstanding = 0;
        lease.seq = 0;
      }
      counters.refills++;
      let reply: string[];
      try {
        reply = await evalScript('hold', lease.keys, [
          lease.holdId,
          String(plenty ? room : Math.max(1, shortfall)),
          String(Math.max(1, shortfall)),
          String(leaseTtl),
          mustExist ? '1' : '0',
          String(lease.cap),
          ...lineArgs(lease.campaign, at),
        ]);
      } catch (error) {
        // If that call did run, the new hold is never renewed and expires back to the budget —
        // unless we know it ran (only the replicas lag): then keep its id, so the retry adopts it
        // instead of parking another lease of budget until it expires.
        if (!mustExist && !(error instanceof ReplicaLagError)) lease.holdId = '';
        return unavailable(id, error instanceof TimeoutError ? error.message : `Redis failed (${error instanceof Error ? error.message : String(error)})`);
      }
      const status = Number(reply[0]);
      lease.lastRemaining = Number(status === 1 ? reply[3] : reply[1]);
      if (status === 1) {
        const grant = Number(reply[1]);
        lease.held += grant;
        lease.available += grant;
        lease.deadline = at + leaseTtl - safety;
        heal(lease, Number(reply[2]));
        return null;
      }
      if (status === 0) {
        if (!mustExist) lease.holdId = '';
        // The budget cannot cover the shortfall; what we still hold locally stays usable.
        return budgetRefusal(id, Number(reply[1]) + lease.available, needed);
      }
      if (status === -5) {
        heal(lease, Number(reply[2])); // an earlier call that timed out did run: adopt its grant
        continue;
      }
      loseLease(lease); // −1: our hold expired in Redis; take a new one
    }
    return unavailable(id, 'its lease could not be topped up');
  };

  const refill = (lease: CampaignLease, needed: number): Promise<Refusal | null> => {
    if (lease.refill !== null) return lease.refill;
    const promise = lease.run(() => refillNow(lease, needed)).finally(() => {
      lease.refill = null;
    });
    lease.refill = promise;
    return promise;
  };

  const expireLocal = (reservation: RedisReservation): void => {
    reservation.state = EXPIRED;
    const lease = reservation.lease;
    if (reservation.generation === lease.generation) {
      lease.outstanding -= reservation.micros;
      lease.available += reservation.micros;
    }
  };

  const carve = (lease: CampaignLease, micros: number, at: number): RedisReservation => {
    lease.available -= micros;
    lease.outstanding += micros;
    const reservation = new RedisReservation(owner, `${clientId}:r${++serial}`, lease.campaign.id, micros, at + resTtl, lease, lease.generation);
    queue.push(reservation);
    if (lease.available * 4 < lease.cap && lease.lastRemaining >= 2 * lease.cap && lease.refill === null && lease.busy === 0) {
      refill(lease, 0).catch(() => undefined); // prefetch, so the hot path rarely waits
    }
    return reservation;
  };

  const tick = (force = false): Promise<unknown> => {
    const at = clock.now();
    if (at >= queue.nextExpiry) queue.expire(at, expireLocal);
    const work: Promise<unknown>[] = [];
    for (const lease of leases.values()) {
      if (!force && lease.busy > 0) continue;
      const idle = at - lease.lastReserveAt >= idleMs && lease.available > 0;
      const renew = lease.holdId !== '' && lease.deadline - at < leaseTtl / 2;
      if (lease.pending !== null || lease.unflushed > 0 || idle || renew || force) {
        work.push(lease.run(() => settleNow(lease, { close: false, returnAvailable: idle, renew })));
      }
      if (lease.orphan > 0 || lease.orphanPending !== null) work.push(lease.run(() => flushOrphans(lease)));
    }
    return Promise.all(work);
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (leasing) {
    timer = setInterval(() => {
      tick().catch(() => undefined);
    }, flushMs);
    timer.unref?.();
  }

  // ---- The ledger --------------------------------------------------------------------------

  const leaseOf = (campaignId: string): CampaignLease => {
    const lease = leases.get(campaignId);
    if (lease === undefined) {
      throw new CtrkitError('E_NOT_FOUND', `unknown campaign ${JSON.stringify(campaignId)}: it is not in the ledger's budgets; add it to budgets.campaigns`, { details: { campaignId } });
    }
    return lease;
  };
  const checkOpen = (what: string): void => {
    if (closed) throw new CtrkitError('E_STATE', `${what}: the ledger is closed; create a new one`);
  };
  const ownReservation = (reservation: Reservation, what: string): RedisReservation => {
    if (!(reservation instanceof RedisReservation) || reservation.owner !== owner) {
      throw new CtrkitError('E_INPUT', `${what}: this reservation was not made by this ledger; pass back the object its reserve() returned`);
    }
    return reservation;
  };
  const ledgerError = (what: string, error: unknown): CtrkitError =>
    toCtrkitError(error, 'E_LEDGER', `${what}: Redis did not record it (${error instanceof TimeoutError ? 'timeout' : 'error'}); retrying the same call is safe`);

  const reserveDirect = async (lease: CampaignLease, micros: number): Promise<ReserveResult> => {
    const id = `${clientId}:r${++serial}`;
    const sentAt = clock.now();
    let reply: string[];
    try {
      reply = await evalScript('hold', lease.keys, [id, String(micros), String(micros), String(resTtl), '0', String(micros), ...lineArgs(lease.campaign, sentAt)]);
    } catch (error) {
      return unavailable(lease.campaign.id, error instanceof TimeoutError ? error.message : `Redis failed (${error instanceof Error ? error.message : String(error)})`);
    }
    if (reply[0] !== '1') return budgetRefusal(lease.campaign.id, Number(reply[1]), micros);
    const reservation = new RedisReservation(owner, id, lease.campaign.id, micros, sentAt + resTtl, lease, DIRECT);
    openDirect.add(reservation);
    return reservation;
  };

  const settleDirect = async (reservation: RedisReservation, spent: number, late: number, what: string): Promise<string[]> => {
    try {
      return await evalScript('settle', reservation.lease.keys, [reservation.id, '1', String(spent), '-1', '0', String(late), ...lineArgs(reservation.lease.campaign, clock.now())]);
    } catch (error) {
      throw ledgerError(what, error);
    }
  };

  const lateRefusal = (reservation: RedisReservation, price: number, availableMicros: number): CtrkitError =>
    new CtrkitError(
      'E_BUDGET',
      `commit(${reservation.id}): the reservation expired before its win notice and the budget no longer covers ${price} (${fromMicros(Math.max(0, availableMicros))} left); nothing was recorded — raise reservationTtlMs above the exchange's win-notice delay`,
      { details: { reservation: reservation.id, price, remaining: fromMicros(Math.max(0, availableMicros)) } },
    );

  return {
    async reserve(campaignId: string, maxPrice: number): Promise<ReserveResult> {
      checkOpen('reserve');
      const lease = leaseOf(campaignId);
      checkAmount(maxPrice, `reserve(${campaignId}): maxPrice`);
      const micros = toMicros(maxPrice);
      if (micros === 0) {
        // Nothing to hold: granted locally, as by the memory ledger, whatever Redis says.
        return new RedisReservation(owner, `${clientId}:r${++serial}`, campaignId, 0, clock.now() + resTtl, lease, FREE);
      }
      if (!leasing) return reserveDirect(lease, micros);
      if (micros > lease.cap) {
        throw new CtrkitError('E_INPUT', `reserve(${campaignId}): maxPrice ${maxPrice} exceeds the lease amount ${fromMicros(lease.cap)}; raise lease.amount above your largest bid`, {
          details: { maxPrice, leaseAmount: fromMicros(lease.cap) },
        });
      }
      let at = clock.now();
      if (at >= queue.nextExpiry) queue.expire(at, expireLocal);
      lease.lastReserveAt = at;
      if (lease.holdId !== '' && lease.available >= micros && at + resTtl <= lease.deadline) return carve(lease, micros, at);
      let refusal: Refusal | null = null;
      for (let attempt = 0; attempt < 3; attempt++) {
        refusal = await refill(lease, micros);
        at = clock.now();
        if (lease.holdId !== '' && lease.available >= micros && at + resTtl <= lease.deadline) return carve(lease, micros, at);
        if (refusal !== null) return refusal;
      }
      return refusal ?? unavailable(campaignId, 'the lease could not be topped up');
    },

    async commit(given: Reservation, price: number): Promise<void> {
      checkOpen('commit');
      const reservation = ownReservation(given, 'commit');
      checkAmount(price, `commit(${reservation.id}): price`);
      const priceMicros = toMicros(price);
      if (priceMicros > reservation.micros) {
        throw new CtrkitError('E_INPUT', `commit(${reservation.id}): price ${price} exceeds the reserved maximum ${reservation.amount}; reserve the full bid before bidding`, {
          details: { price, reserved: reservation.amount },
        });
      }
      if (reservation.state === COMMITTED || reservation.state === RELEASED) {
        throw new CtrkitError('E_STATE', `commit(${reservation.id}): the reservation was already ${reservation.state === COMMITTED ? 'committed' : 'released'}; commit each won bid once`);
      }
      if (reservation.generation === FREE) {
        reservation.state = COMMITTED;
        return;
      }
      if (!leasing) {
        const reply = await settleDirect(reservation, priceMicros, LATE_FIT, `commit(${reservation.id})`);
        openDirect.delete(reservation);
        if (reply[0] === '-3') {
          reservation.state = EXPIRED;
          throw lateRefusal(reservation, price, Number(reply[1]));
        }
        reservation.state = COMMITTED;
        return;
      }
      const at = clock.now();
      if (at >= queue.nextExpiry) queue.expire(at, expireLocal);
      const lease = reservation.lease;
      const sameLease = reservation.generation === lease.generation && lease.holdId !== '';
      if (reservation.state === OPEN) {
        reservation.state = COMMITTED;
        queue.noteClosed();
        if (sameLease) {
          lease.outstanding -= reservation.micros;
          lease.available += reservation.micros - priceMicros;
          lease.unflushed += priceMicros;
          if (lease.unflushed * 2 >= lease.cap && lease.busy === 0) {
            lease.run(() => settleNow(lease, { close: false, returnAvailable: false, renew: false })).catch(() => undefined);
          }
        } else {
          // Its lease expired in Redis while the auction ran: the spend is real, record it.
          lease.orphan += priceMicros;
        }
        return;
      }
      // Expired locally before its win notice: take the price from the current lease if it can…
      if (lease.holdId !== '' && lease.available >= priceMicros && at + resTtl <= lease.deadline) {
        lease.available -= priceMicros;
        lease.unflushed += priceMicros;
        reservation.state = COMMITTED;
        return;
      }
      // …or from the shared budget, only if it still fits.
      const reply = await settleDirect(reservation, priceMicros, LATE_FIT, `commit(${reservation.id})`);
      if (reply[0] === '-3') throw lateRefusal(reservation, price, Number(reply[1]));
      reservation.state = COMMITTED;
    },

    async release(given: Reservation): Promise<void> {
      checkOpen('release');
      const reservation = ownReservation(given, 'release');
      if (reservation.state === COMMITTED) {
        throw new CtrkitError('E_STATE', `release(${reservation.id}): the reservation was committed (a won bid); its spend stays recorded`);
      }
      if (reservation.state !== OPEN) return;
      if (reservation.generation === FREE) {
        reservation.state = RELEASED;
        return;
      }
      if (!leasing) {
        await settleDirect(reservation, 0, LATE_NONE, `release(${reservation.id})`);
        openDirect.delete(reservation);
        reservation.state = RELEASED;
        return;
      }
      reservation.state = RELEASED;
      queue.noteClosed();
      const lease = reservation.lease;
      if (reservation.generation === lease.generation) {
        lease.outstanding -= reservation.micros;
        lease.available += reservation.micros;
      }
    },

    async snapshot(campaignId: string): Promise<BudgetSnapshot> {
      checkOpen('snapshot');
      const lease = leaseOf(campaignId);
      const at = clock.now();
      let reply: string[];
      try {
        reply = await evalScript('snapshot', lease.keys, lineArgs(lease.campaign, at));
      } catch (error) {
        throw toCtrkitError(error, 'E_LEDGER', `snapshot(${campaignId}): Redis could not be read`);
      }
      const lines = lease.campaign.lines.map((line, i) => {
        const spent = Number(reply[2 * i]);
        const reserved = Number(reply[2 * i + 1]);
        return {
          scope: line.scope,
          ownerId: line.ownerId,
          period: line.period,
          limit: fromMicros(line.limitMicros),
          spent: fromMicros(spent),
          reserved: fromMicros(reserved),
          remaining: fromMicros(Math.max(0, line.limitMicros - spent - reserved)),
          day: line.period === 'daily' ? dayIndex(at, line.timezoneOffsetMinutes) : undefined,
        };
      });
      return { campaignId, remaining: Math.min(...lines.map((line) => line.remaining)), lines };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      const failures: string[] = [];
      for (const reservation of openDirect) {
        try {
          await settleDirect(reservation, 0, LATE_NONE, `close: release(${reservation.id})`);
          reservation.state = RELEASED;
        } catch {
          failures.push(reservation.campaignId);
        }
      }
      openDirect.clear();
      for (const lease of leases.values()) {
        const settled = await lease.run(async () => {
          // A settle left pending by a timeout is re-sent first; the close (with the spend
          // committed since) follows it, until nothing is pending and nothing is unflushed.
          for (let round = 0; round < 4; round++) {
            const resent = lease.pending !== null && !lease.pending.close;
            if (!(await settleNow(lease, { close: true, returnAvailable: true, renew: false }))) return false;
            if (!resent && lease.unflushed === 0) break;
          }
          return flushOrphans(lease);
        });
        if (!settled) failures.push(lease.campaign.id);
      }
      if (failures.length > 0) {
        const unique = [...new Set(failures)];
        throw new CtrkitError('E_LEDGER', `close: could not settle the leases or reservations of ${unique.join(', ')} (Redis unreachable); they return to the budget when they expire (${leasing ? leaseTtl : resTtl} ms), and unsettled spend is missing from the ledger`, {
          details: { campaigns: unique },
        });
      }
    },

    overspendBound(campaignId: string): number {
      return leasing ? fromMicros(leaseOf(campaignId).cap) : 0;
    },

    async flush(): Promise<void> {
      checkOpen('flush');
      await tick(true);
    },

    stats(): RedisLedgerStats {
      let held = 0;
      let unflushed = 0;
      for (const lease of leases.values()) {
        held += lease.held;
        unflushed += lease.unflushed + lease.inflight;
      }
      return { held: fromMicros(held), unflushed: fromMicros(unflushed), ...counters };
    },
  };
}
