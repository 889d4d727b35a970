/**
 * `createRedisLedger`: the budget ledger shared through Redis — the lease engine (leases.ts) in
 * the default mode, a hold per reservation in direct mode (direct.ts), the scripts through the
 * script runner (script-runner.ts), and the checks every ledger shares (../ledger-guards.ts).
 */
import { randomBytes } from 'node:crypto';
import { CtrkitError, toCtrkitError } from '@ctrkit/core';
import { compileBudgets, dayIndex } from '../budget.js';
import { ExpiryQueue } from '../expiry-queue.js';
import { alreadySettled, campaignEntry, campaignSnapshot, checkOpen, commitPriceMicros, lateCommitRefused, lineSnapshot, ownReservation, releaseAfterCommit } from '../ledger-guards.js';
import type { BudgetLedger, BudgetSnapshot, Refusal, Reservation, ReserveResult } from '../ledger.js';
import { checkAmount, fromMicros, toMicros } from '../money.js';
import { createDirectMode } from './direct.js';
import { CampaignLease, COMMITTED, EXPIRED, FREE, LATE_FIT, LATE_NONE, OPEN, RedisReservation, RELEASED, unavailable } from './lease-state.js';
import { createLeaseEngine, type LedgerCounters } from './leases.js';
import { resolveSettings, type RedisLedger, type RedisLedgerOptions, type RedisLedgerStats } from './options.js';
import { createScriptRunner, lineArgs } from './script-runner.js';

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
  const settings = resolveSettings(options, () => randomBytes(6).toString('hex'));
  const { redis, clock, prefix, resTtl, clientId, leasing, leaseTtl, flushMs } = settings;
  const compiled = compileBudgets(options.budgets);
  const leases = new Map<string, CampaignLease>();
  for (const campaign of compiled.values()) {
    const tag = `${prefix}{${campaign.group}}`;
    const cap = settings.leaseAmount !== undefined ? toMicros(settings.leaseAmount) : Math.max(1, Math.floor(campaign.tightestMicros / 100));
    leases.set(campaign.id, new CampaignLease(campaign, [`${tag}:lines`, `${tag}:holds`, `${tag}:exp`, `${tag}:done`], cap));
  }
  const owner = Symbol('redis-ledger');
  const queue = new ExpiryQueue<RedisReservation>();
  let serial = 0;
  const nextReservationId = (): string => `${clientId}:r${++serial}`;
  let closed = false;
  /** Direct-mode reservations not yet committed or released, released by `close`. */
  const openDirect = new Set<RedisReservation>();
  const counters: LedgerCounters = { refills: 0, settles: 0, lostLeases: 0, lateSpend: 0, redisErrors: 0 };
  const run = createScriptRunner(redis, settings.timeoutMs, settings.replicaAcks, () => {
    counters.redisErrors++;
  });
  const engine = createLeaseEngine({ settings, run, counters, leases, queue, owner, nextReservationId });
  const direct = createDirectMode({ settings, run, owner, nextReservationId, openDirect });

  let timer: ReturnType<typeof setInterval> | undefined;
  if (leasing) {
    timer = setInterval(() => {
      engine.tick().catch(() => undefined);
    }, flushMs);
    timer.unref?.();
  }

  return {
    async reserve(campaignId: string, maxPrice: number): Promise<ReserveResult> {
      checkOpen(closed, 'reserve');
      const lease = campaignEntry(leases, campaignId);
      checkAmount(maxPrice, `reserve(${campaignId}): maxPrice`);
      const micros = toMicros(maxPrice);
      if (micros === 0) {
        // Nothing to hold: granted locally, as by the memory ledger, whatever Redis says.
        return new RedisReservation(owner, nextReservationId(), campaignId, 0, clock.now() + resTtl, lease, FREE);
      }
      if (!leasing) return direct.reserve(lease, micros);
      if (micros > lease.cap) {
        throw new CtrkitError('E_INPUT', `reserve(${campaignId}): maxPrice ${maxPrice} exceeds the lease amount ${fromMicros(lease.cap)}; raise lease.amount above your largest bid`, {
          details: { maxPrice, leaseAmount: fromMicros(lease.cap) },
        });
      }
      let at = clock.now();
      if (at >= queue.nextExpiry) queue.expire(at, engine.expireLocal);
      lease.lastReserveAt = at;
      if (lease.holdId !== '' && lease.available >= micros && at + resTtl <= lease.deadline) return engine.carve(lease, micros, at);
      let refusal: Refusal | null = null;
      for (let attempt = 0; attempt < 3; attempt++) {
        refusal = await engine.refill(lease, micros);
        at = clock.now();
        if (lease.holdId !== '' && lease.available >= micros && at + resTtl <= lease.deadline) return engine.carve(lease, micros, at);
        if (refusal !== null) return refusal;
      }
      return refusal ?? unavailable(campaignId, 'the lease could not be topped up');
    },

    async commit(given: Reservation, price: number): Promise<void> {
      checkOpen(closed, 'commit');
      const reservation = ownReservation(given, RedisReservation, owner, 'commit');
      const priceMicros = commitPriceMicros(reservation, price);
      if (reservation.state === COMMITTED || reservation.state === RELEASED) {
        throw alreadySettled(reservation.id, reservation.state === COMMITTED);
      }
      if (reservation.generation === FREE) {
        reservation.state = COMMITTED;
        return;
      }
      if (!leasing) {
        const reply = await direct.settle(reservation, priceMicros, LATE_FIT, `commit(${reservation.id})`);
        openDirect.delete(reservation);
        if (reply[0] === '-3') {
          reservation.state = EXPIRED;
          throw lateCommitRefused(reservation.id, price, Number(reply[1]));
        }
        reservation.state = COMMITTED;
        return;
      }
      const at = clock.now();
      if (at >= queue.nextExpiry) queue.expire(at, engine.expireLocal);
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
            lease.run(() => engine.settleNow(lease, { close: false, returnAvailable: false, renew: false })).catch(() => undefined);
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
      const reply = await direct.settle(reservation, priceMicros, LATE_FIT, `commit(${reservation.id})`);
      if (reply[0] === '-3') throw lateCommitRefused(reservation.id, price, Number(reply[1]));
      reservation.state = COMMITTED;
    },

    async release(given: Reservation): Promise<void> {
      checkOpen(closed, 'release');
      const reservation = ownReservation(given, RedisReservation, owner, 'release');
      if (reservation.state === COMMITTED) {
        throw releaseAfterCommit(reservation.id);
      }
      if (reservation.state !== OPEN) return;
      if (reservation.generation === FREE) {
        reservation.state = RELEASED;
        return;
      }
      if (!leasing) {
        await direct.settle(reservation, 0, LATE_NONE, `release(${reservation.id})`);
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
      checkOpen(closed, 'snapshot');
      const lease = campaignEntry(leases, campaignId);
      const at = clock.now();
      let reply: string[];
      try {
        reply = await run('snapshot', lease.keys, lineArgs(lease.campaign, at));
      } catch (error) {
        throw toCtrkitError(error, 'E_LEDGER', `snapshot(${campaignId}): Redis could not be read`);
      }
      return campaignSnapshot(
        campaignId,
        lease.campaign.lines.map((line, i) => lineSnapshot(line, Number(reply[2 * i]), Number(reply[2 * i + 1]), dayIndex(at, line.timezoneOffsetMinutes))),
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      const failures: string[] = [];
      for (const reservation of openDirect) {
        try {
          await direct.settle(reservation, 0, LATE_NONE, `close: release(${reservation.id})`);
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
            if (!(await engine.settleNow(lease, { close: true, returnAvailable: true, renew: false }))) return false;
            if (!resent && lease.unflushed === 0) break;
          }
          return engine.flushOrphans(lease);
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
      return leasing ? fromMicros(campaignEntry(leases, campaignId).cap) : 0;
    },

    async flush(): Promise<void> {
      checkOpen(closed, 'flush');
      await engine.tick(true);
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
