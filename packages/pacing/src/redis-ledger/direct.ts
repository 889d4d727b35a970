/**
 * Direct mode (`lease: false`): every reservation is a hold of its own in Redis, made by one
 * HOLD script and settled by one SETTLE script — no budget held locally, so spend never exceeds a
 * budget line, at one round trip per reservation and per commit or release.
 */
import { toCtrkitError, type CtrkitError } from '@ctrkit/core';
import { budgetRefusal } from '../ledger-guards.js';
import type { ReserveResult } from '../ledger.js';
import { DIRECT, RedisReservation, unavailable, type CampaignLease } from './lease-state.js';
import type { RedisLedgerSettings } from './options.js';
import { lineArgs, TimeoutError, type ScriptRunner } from './script-runner.js';

/** @internal What direct mode works with. */
export interface DirectContext {
  readonly settings: RedisLedgerSettings;
  readonly run: ScriptRunner;
  readonly owner: symbol;
  nextReservationId(): string;
  /** Reservations not yet committed or released (the ledger's `close` releases them). */
  readonly openDirect: Set<RedisReservation>;
}

/** @internal Direct mode's two calls. */
export interface DirectMode {
  /** Holds `micros` in Redis for one reservation, or says why not. */
  reserve(lease: CampaignLease, micros: number): Promise<ReserveResult>;
  /** Settles a reservation's hold: `spent` micros committed (0: released), `late` the SETTLE late mode. */
  settle(reservation: RedisReservation, spent: number, late: number, what: string): Promise<string[]>;
}

/** A Redis failure as the `E_LEDGER` error a commit or release throws. */
const ledgerError = (what: string, error: unknown): CtrkitError =>
  toCtrkitError(error, 'E_LEDGER', `${what}: Redis did not record it (${error instanceof TimeoutError ? 'timeout' : 'error'}); retrying the same call is safe`);

/** @internal Direct mode over a context. */
export function createDirectMode(context: DirectContext): DirectMode {
  const { run, owner, openDirect, nextReservationId } = context;
  const { clock, resTtl } = context.settings;
  return {
    async reserve(lease, micros) {
      const id = nextReservationId();
      const sentAt = clock.now();
      let reply: string[];
      try {
        reply = await run('hold', lease.keys, [id, String(micros), String(micros), String(resTtl), '0', String(micros), ...lineArgs(lease.campaign, sentAt)]);
      } catch (error) {
        return unavailable(lease.campaign.id, error instanceof TimeoutError ? error.message : `Redis failed (${error instanceof Error ? error.message : String(error)})`);
      }
      if (reply[0] !== '1') return budgetRefusal(lease.campaign.id, Number(reply[1]), micros);
      const reservation = new RedisReservation(owner, id, lease.campaign.id, micros, sentAt + resTtl, lease, DIRECT);
      openDirect.add(reservation);
      return reservation;
    },
    async settle(reservation, spent, late, what) {
      try {
        return await run('settle', reservation.lease.keys, [reservation.id, '1', String(spent), '-1', '0', String(late), ...lineArgs(reservation.lease.campaign, clock.now())]);
      } catch (error) {
        throw ledgerError(what, error);
      }
    },
  };
}
