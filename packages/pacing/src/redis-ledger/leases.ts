/**
 * Leases: each process holds budget in Redis per campaign (a hold capped at `lease.amount`) and
 * serves reservations from it in memory; it settles spend and renews the hold every flush, tops it
 * up when it runs low, returns it when idle, and learns when Redis lost it.
 */
import { budgetRefusal } from '../ledger-guards.js';
import type { Refusal } from '../ledger.js';
import { fromMicros } from '../money.js';
import type { ExpiryQueue } from '../expiry-queue.js';
import { CampaignLease, EXPIRED, LATE_FORCE, RedisReservation, unavailable } from './lease-state.js';
import type { RedisLedgerSettings } from './options.js';
import { lineArgs, ReplicaLagError, TimeoutError, type ScriptRunner } from './script-runner.js';

/** @internal Counters the ledger reports in `stats()`. */
export interface LedgerCounters {
  refills: number;
  settles: number;
  lostLeases: number;
  lateSpend: number;
  redisErrors: number;
}

/** @internal What the lease engine works with. */
export interface LeaseContext {
  readonly settings: RedisLedgerSettings;
  readonly run: ScriptRunner;
  readonly counters: LedgerCounters;
  readonly leases: ReadonlyMap<string, CampaignLease>;
  readonly queue: ExpiryQueue<RedisReservation>;
  /** Marks the reservations of this ledger. */
  readonly owner: symbol;
  /** A fresh reservation id. */
  nextReservationId(): string;
}

/** @internal The lease operations the ledger calls. */
export interface LeaseEngine {
  /** Sends (or re-sends) one settle. Must run inside `lease.run`. Resolves false on a Redis failure. */
  settleNow(lease: CampaignLease, mode: { close: boolean; returnAvailable: boolean; renew: boolean }): Promise<boolean>;
  /** Records spend of reservations whose lease was lost. Must run inside `lease.run`. */
  flushOrphans(lease: CampaignLease): Promise<boolean>;
  /** Tops the lease up so that `needed` micros can be carved (0: prefetch); one refill at a time per lease. */
  refill(lease: CampaignLease, needed: number): Promise<Refusal | null>;
  /** A reservation the local clock expired: its amount returns to its lease. */
  expireLocal(reservation: RedisReservation): void;
  /** Carves a reservation of `micros` from the lease, prefetching when it runs low. */
  carve(lease: CampaignLease, micros: number, at: number): RedisReservation;
  /** One flush round over every lease (`force`: even busy ones). */
  tick(force?: boolean): Promise<unknown>;
}

/** @internal The lease engine over a context. */
export function createLeaseEngine(context: LeaseContext): LeaseEngine {
  const { run, counters, leases, queue, owner, nextReservationId } = context;
  const { clock, clientId, resTtl, idleMs, leaseTtl, safety } = context.settings;
  let orphanSerial = 0;

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
      reply = await run('settle', lease.keys, [
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
      await run('settle', lease.keys, [pending.id, '1', String(pending.spent), '0', '0', String(LATE_FORCE), ...lineArgs(lease.campaign, clock.now())]);
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
        reply = await run('hold', lease.keys, [
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
    const reservation = new RedisReservation(owner, nextReservationId(), lease.campaign.id, micros, at + resTtl, lease, lease.generation);
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

  return { settleNow, flushOrphans, refill, expireLocal, carve, tick };
}
