/**
 * The checks and answers every budget ledger gives alike — the memory ledger and the Redis one —
 * in one place, so a caller sees the same codes, messages and details whichever it uses (the
 * ledger conformance suite pins them).
 *
 * @internal
 */
import { CtrkitError } from '@ctrkit/core';
import type { BudgetLine } from './budget.js';
import type { BudgetLineSnapshot, BudgetSnapshot, Refusal, Reservation } from './ledger.js';
import { checkAmount, fromMicros, toMicros } from './money.js';

/** `E_NOT_FOUND` for a campaign the ledger has no budget for. */
function unknownCampaign(campaignId: string): CtrkitError<'E_NOT_FOUND'> {
  return new CtrkitError('E_NOT_FOUND', `unknown campaign ${JSON.stringify(campaignId)}: it is not in the ledger's budgets; add it to budgets.campaigns`, { details: { campaignId } });
}

/** The entry of `campaignId` (its budget lines, its lease); `E_NOT_FOUND` when the ledger has no budget for it. */
export function campaignEntry<T>(entries: ReadonlyMap<string, T>, campaignId: string): T {
  const entry = entries.get(campaignId);
  if (entry === undefined) throw unknownCampaign(campaignId);
  return entry;
}

/** `reservation` as the ledger's own kind; `E_INPUT` when another ledger (or nobody) made it. */
export function ownReservation<R extends Reservation & { readonly owner: symbol }>(reservation: Reservation, kind: abstract new (...args: never[]) => R, owner: symbol, what: string): R {
  if (!(reservation instanceof kind) || reservation.owner !== owner) throw foreignReservation(what);
  return reservation;
}

/** Throws `E_STATE` when the ledger is closed. */
export function checkOpen(closed: boolean, what: string): void {
  if (closed) throw new CtrkitError('E_STATE', `${what}: the ledger is closed; create a new one`);
}

/** `E_INPUT` for a reservation another ledger (or nobody) made. */
function foreignReservation(what: string): CtrkitError<'E_INPUT'> {
  return new CtrkitError('E_INPUT', `${what}: this reservation was not made by this ledger; pass back the object its reserve() returned`);
}

/**
 * A commit's price in micros, checked: an amount (`checkAmount`), and not above what `reservation`
 * holds (`checkCommitPrice`).
 */
export function commitPriceMicros(reservation: { readonly id: string; readonly micros: number }, price: number): number {
  checkAmount(price, `commit(${reservation.id}): price`);
  const priceMicros = toMicros(price);
  checkCommitPrice(reservation.id, price, priceMicros, reservation.micros);
  return priceMicros;
}

/** Throws `E_INPUT` when a commit's price is above what was reserved. */
function checkCommitPrice(reservationId: string, price: number, priceMicros: number, reservedMicros: number): void {
  if (priceMicros > reservedMicros) {
    const reserved = fromMicros(reservedMicros);
    throw new CtrkitError('E_INPUT', `commit(${reservationId}): price ${price} exceeds the reserved maximum ${reserved}; reserve the full bid before bidding`, {
      details: { price, reserved },
    });
  }
}

/** `E_STATE` for a second commit of a reservation, or a commit after its release. */
export function alreadySettled(reservationId: string, committed: boolean): CtrkitError<'E_STATE'> {
  return new CtrkitError('E_STATE', `commit(${reservationId}): the reservation was already ${committed ? 'committed' : 'released'}; commit each won bid once`);
}

/** `E_STATE` for a release of a committed reservation. */
export function releaseAfterCommit(reservationId: string): CtrkitError<'E_STATE'> {
  return new CtrkitError('E_STATE', `release(${reservationId}): the reservation was committed (a won bid); its spend stays recorded`);
}

/** The refusal of a reservation the budget cannot cover. */
export function budgetRefusal(campaignId: string, availableMicros: number, askedMicros: number): Refusal {
  const remaining = fromMicros(Math.max(0, availableMicros));
  return {
    ok: false,
    campaignId,
    reason: 'budget',
    remaining,
    detail: `campaign ${campaignId}: ${fromMicros(askedMicros)} asked, ${remaining} left on its most restrictive budget`,
  };
}

/** `E_BUDGET` for a win notice after its reservation expired, when the budget no longer covers it. */
export function lateCommitRefused(reservationId: string, price: number, availableMicros: number): CtrkitError<'E_BUDGET'> {
  const remaining = fromMicros(Math.max(0, availableMicros));
  return new CtrkitError(
    'E_BUDGET',
    `commit(${reservationId}): the reservation expired before its win notice and the budget no longer covers ${price} (${remaining} left); nothing was recorded — raise reservationTtlMs above the exchange's win-notice delay`,
    { details: { reservation: reservationId, price, remaining } },
  );
}

/** The snapshot of one budget line from its spend and reservations (micros); `day` for a daily line. */
export function lineSnapshot(line: BudgetLine, spentMicros: number, reservedMicros: number, day: number): BudgetLineSnapshot {
  return {
    scope: line.scope,
    ownerId: line.ownerId,
    period: line.period,
    limit: fromMicros(line.limitMicros),
    spent: fromMicros(spentMicros),
    reserved: fromMicros(reservedMicros),
    remaining: fromMicros(Math.max(0, line.limitMicros - spentMicros - reservedMicros)),
    day: line.period === 'daily' ? day : undefined,
  };
}

/** A campaign's snapshot from its lines' snapshots: what is left is the least any line has left. */
export function campaignSnapshot(campaignId: string, lines: readonly BudgetLineSnapshot[]): BudgetSnapshot {
  return { campaignId, remaining: Math.min(...lines.map((line) => line.remaining)), lines };
}
