/**
 * The budget ledger: the one place that decides whether money may be committed to a bid.
 */

/**
 * Budget set aside for one bid, returned by {@link BudgetLedger.reserve}. Pass the same object
 * back to `commit` (on a win) or `release` (on a loss or timeout). If neither comes before
 * `expiresAt`, the reservation expires and its amount returns to the budget.
 *
 * @example
 * ```ts
 * import { createMemoryLedger, type Reservation } from '@ctrkit/pacing';
 * const ledger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c', dailyBudget: 10 }] } });
 * const result = await ledger.reserve('c', 0.05);
 * if (result.ok) {
 *   const reservation: Reservation = result;
 *   await ledger.commit(reservation, 0.03);
 * }
 * ```
 */
export interface Reservation {
  /** Discriminant: the reservation was granted. */
  readonly ok: true;
  /** Unique id of the reservation within its ledger. */
  readonly id: string;
  /** The campaign whose budget it holds. */
  readonly campaignId: string;
  /** The amount held (the bid's maximum price), in currency units, rounded to a millionth. */
  readonly amount: number;
  /** When it expires, in the ledger clock's milliseconds. */
  readonly expiresAt: number;
}

/**
 * Why a reservation was refused:
 * - `budget` — a budget line (campaign or advertiser, daily or lifetime) cannot cover the amount;
 * - `unavailable` — the ledger cannot answer safely (Redis unreachable or slow, or the local
 *   lease expired and could not be renewed). The caller must not bid: spending blind could overspend.
 *
 * @example
 * ```ts
 * import type { RefusalReason } from '@ctrkit/pacing';
 * const reason: RefusalReason = 'budget';
 * ```
 */
export type RefusalReason = 'budget' | 'unavailable';

/**
 * A refused reservation: do not bid.
 *
 * @example
 * ```ts
 * import type { Refusal } from '@ctrkit/pacing';
 * const log = (refusal: Refusal) => console.log(refusal.reason, refusal.detail);
 * ```
 */
export interface Refusal {
  /** Discriminant: nothing was reserved. */
  readonly ok: false;
  /** The campaign asked for. */
  readonly campaignId: string;
  /** Why. */
  readonly reason: RefusalReason;
  /** What the most restrictive budget line had left, when known. */
  readonly remaining: number | undefined;
  /** A sentence for logs. */
  readonly detail: string;
}

/**
 * What {@link BudgetLedger.reserve} resolves to: a {@link Reservation} or a {@link Refusal}
 * (check `ok`). Refusals are data, not errors, because an exhausted budget is the normal end of
 * a campaign's day.
 *
 * @example
 * ```ts
 * import type { ReserveResult } from '@ctrkit/pacing';
 * const shouldBid = (result: ReserveResult) => result.ok;
 * ```
 */
export type ReserveResult = Reservation | Refusal;

/**
 * One budget line as a ledger sees it now.
 *
 * @example
 * ```ts
 * import type { BudgetLineSnapshot } from '@ctrkit/pacing';
 * const left = (line: BudgetLineSnapshot) => `${line.scope} ${line.ownerId} ${line.period}: ${line.remaining}`;
 * ```
 */
export interface BudgetLineSnapshot {
  /** Whose budget: the campaign's or its advertiser's. */
  readonly scope: 'campaign' | 'advertiser';
  /** The campaign or advertiser id. */
  readonly ownerId: string;
  /** Daily (resets at local midnight) or lifetime. */
  readonly period: 'daily' | 'lifetime';
  /** The limit. */
  readonly limit: number;
  /** Committed spend (today, for a daily line). */
  readonly spent: number;
  /** Held by open reservations and leases. */
  readonly reserved: number;
  /** `limit − spent − reserved`, never below 0. */
  readonly remaining: number;
  /** The local day the daily figures belong to (undefined for lifetime lines). */
  readonly day: number | undefined;
}

/**
 * The state of every budget line binding a campaign.
 *
 * @example
 * ```ts
 * import type { BudgetSnapshot } from '@ctrkit/pacing';
 * const canBid = (snapshot: BudgetSnapshot, price: number) => snapshot.remaining >= price;
 * ```
 */
export interface BudgetSnapshot {
  /** The campaign. */
  readonly campaignId: string;
  /** The least any line has left: what a new reservation could get at most. */
  readonly remaining: number;
  /** Its lines, campaign lines first. */
  readonly lines: readonly BudgetLineSnapshot[];
}

/**
 * Budget accounting for bidding: `reserve` before a bid goes out, `commit` the price paid on a
 * win, `release` on a loss or timeout. A ledger never lets committed plus reserved money exceed
 * any budget line (daily and lifetime, campaign and advertiser); the Redis ledger with leases
 * states its one exception precisely (a process that loses its lease).
 *
 * @example
 * ```ts
 * import { createMemoryLedger } from '@ctrkit/pacing';
 * const ledger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c', dailyBudget: 1 }] } });
 * const reservation = await ledger.reserve('c', 0.2);
 * if (reservation.ok) {
 *   const won = true;
 *   if (won) await ledger.commit(reservation, 0.12);
 *   else await ledger.release(reservation);
 * }
 * console.log((await ledger.snapshot('c')).remaining); // 0.88
 * ```
 */
export interface BudgetLedger {
  /**
   * Holds `maxPrice` of the campaign's budget for one bid.
   *
   * @param campaignId - A campaign from the ledger's budgets.
   * @param maxPrice - The most the bid can cost (for a second-price auction: the bid), ≥ 0.
   * @returns A reservation, or a refusal saying why (budget exhausted, ledger unavailable).
   * @throws CtrkitError `E_NOT_FOUND` for an unknown campaign, `E_INPUT` for a non-finite or
   * negative price, `E_STATE` after `close`.
   */
  reserve(campaignId: string, maxPrice: number): Promise<ReserveResult>;
  /**
   * Records the price paid for a won bid and frees the rest of its reservation.
   *
   * @param reservation - What `reserve` returned.
   * @param price - The price paid, between 0 and the reservation's amount.
   * @returns When the spend is recorded.
   * @throws CtrkitError `E_INPUT` for a foreign reservation or a bad or too-high price (nothing
   * changes), `E_STATE` if already committed or released, `E_BUDGET` when the reservation had
   * expired and the budget can no longer cover the price, `E_LEDGER` when the ledger could not
   * record it (retrying the same call is safe).
   */
  commit(reservation: Reservation, price: number): Promise<void>;
  /**
   * Returns a reservation's amount to the budget (a lost auction or a timeout). Releasing an
   * expired or already released reservation does nothing.
   *
   * @param reservation - What `reserve` returned.
   * @returns When the amount is back.
   * @throws CtrkitError `E_INPUT` for a foreign reservation, `E_STATE` if it was committed,
   * `E_LEDGER` when the ledger could not be reached (the reservation then expires on its own).
   */
  release(reservation: Reservation): Promise<void>;
  /**
   * Reports every budget line of a campaign.
   *
   * @param campaignId - A campaign from the ledger's budgets.
   * @returns Limits, spend, reservations and what remains.
   * @throws CtrkitError `E_NOT_FOUND` for an unknown campaign, `E_LEDGER` when the ledger cannot be read.
   */
  snapshot(campaignId: string): Promise<BudgetSnapshot>;
  /**
   * Stops the ledger: settles and returns local leases, stops timers. Later calls throw `E_STATE`.
   *
   * @returns When everything is settled.
   */
  close(): Promise<void>;
}
