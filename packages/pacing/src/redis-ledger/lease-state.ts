/**
 * The Redis ledger's local state: a reservation's states, each campaign's lease (what Redis holds
 * for this process and how much of it is carved, committed or in flight) and the reservations.
 */
import type { CompiledCampaign } from '../budget.js';
import type { Refusal, Reservation } from '../ledger.js';
import { fromMicros } from '../money.js';

/** @internal Generation of reservations that hold nothing (maxPrice 0) or live in Redis as their own hold (direct mode). */
export const FREE = -2;
/** @internal See {@link FREE}. */
export const DIRECT = -1;
/** @internal Reservation states. */
export const OPEN = 0;
/** @internal See {@link OPEN}. */
export const COMMITTED = 1;
/** @internal See {@link OPEN}. */
export const RELEASED = 2;
/** @internal See {@link OPEN}. */
export const EXPIRED = 3;
/** @internal SETTLE late modes: a late spend is refused, fitted if the budget allows, or forced. */
export const LATE_NONE = 0;
/** @internal See {@link LATE_NONE}. */
export const LATE_FIT = 1;
/** @internal See {@link LATE_NONE}. */
export const LATE_FORCE = 2;

/** @internal Per-campaign state: its keys, lines and (with leases) its local lease. */
export class CampaignLease {
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

  /** Serializes Redis work on this lease: one op in flight at a time. */
  run<T>(op: () => Promise<T>): Promise<T> {
    this.busy++;
    const next = this.tail.then(op, op).finally(() => {
      this.busy--;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** @internal A reservation of the Redis ledger: carved from a lease, or (direct mode) a hold of its own in Redis. */
export class RedisReservation implements Reservation {
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

/** @internal The refusal of a reservation when Redis cannot be trusted to record it. */
export function unavailable(campaignId: string, why: string): Refusal {
  return { ok: false, campaignId, reason: 'unavailable', remaining: undefined, detail: `campaign ${campaignId}: ${why}; not bidding rather than spending blind` };
}
