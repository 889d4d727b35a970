/**
 * Price rounding and unit conversion. Prices travel in the unit their bid names (per mille for
 * CPM, per click for CPC, per action for CPA); `priceCpm` restates a price as an expected cost per
 * thousand impressions.
 */
import { CtrkitError } from '@ctrkit/core';
import type { BidType } from '@ctrkit/core';

/** Decimal places prices are rounded to unless configured otherwise (1e-6 currency units).
 *
 * @example
 * ```ts
 * import { DEFAULT_PRICE_DECIMALS } from '@ctrkit/auction';
 * console.log(DEFAULT_PRICE_DECIMALS); // 6
 * ```
 */
export const DEFAULT_PRICE_DECIMALS = 6;

/**
 * Rounds an auction price by the package's one rule: round half up to `decimals` places
 * (`Math.round(price × 10^decimals) / 10^decimals`), then clamp into `[reserve, bid]` using the
 * exact reserve and bid. The result is therefore a multiple of `10^-decimals`, or exactly the
 * reserve, or exactly the bid — never above the bid, never below the reserve.
 *
 * @param price - The mechanism's price, in bid units.
 * @param reserve - The least the winner may pay, in the same units (0 when none).
 * @param bid - The winner's bid, in the same units; must be ≥ `reserve`.
 * @param decimals - Decimal places, an integer in [0, 12] (default 6).
 * @returns The charged price.
 * @throws `CtrkitError` `E_INPUT` when a value is not finite, `reserve` is
 * negative or above `bid`, or `decimals` is out of range.
 * @remarks Allocates nothing; the auction calls it once per winner.
 * @example
 * ```ts
 * import { roundPrice } from '@ctrkit/auction';
 * console.log(roundPrice(0.12345678, 0, 1)); // 0.123457
 * console.log(roundPrice(0.2, 0.25, 1)); // 0.25 (never below the reserve)
 * console.log(roundPrice(1.0000004, 0, 1)); // 1 (never above the bid)
 * ```
 */
export function roundPrice(price: number, reserve: number, bid: number, decimals = DEFAULT_PRICE_DECIMALS): number {
  if (!Number.isFinite(price) || !Number.isFinite(reserve) || !Number.isFinite(bid)) {
    throw new CtrkitError('E_INPUT', `roundPrice needs finite numbers, got price ${price}, reserve ${reserve}, bid ${bid}`);
  }
  if (reserve < 0 || reserve > bid) {
    throw new CtrkitError('E_INPUT', `roundPrice needs 0 ≤ reserve ≤ bid, got reserve ${reserve} and bid ${bid}; drop bids below the reserve before pricing`);
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 12) {
    throw new CtrkitError('E_INPUT', `decimals must be an integer in [0, 12], got ${decimals}`);
  }
  return clampRounded(price, reserve, bid, 10 ** decimals);
}

/** @internal The rounding rule without argument checks, for the auction's inner loop. */
export function clampRounded(price: number, reserve: number, bid: number, scale: number): number {
  const rounded = Math.round(price * scale) / scale;
  if (rounded < reserve) return reserve;
  if (rounded > bid) return bid;
  return rounded;
}

/**
 * Billable events per thousand impressions for a bid type: 1 for CPM (the bid is already per
 * mille), 1000 × pCTR for CPC, 1000 × pCTR × pCVR for CPA. A price in bid units times this factor
 * is an expected cost per mille.
 *
 * @param bidType - What the bid pays for.
 * @param pCtr - Click probability in [0, 1].
 * @param pCvr - Conversion probability given a click in [0, 1] (CPA only; default 0).
 * @returns The factor (0 when the event can never happen).
 * @example
 * ```ts
 * import { eventsPerMille } from '@ctrkit/auction';
 * console.log(eventsPerMille('CPC', 0.02)); // 20
 * console.log(2 * eventsPerMille('CPC', 0.02)); // a 2.00 CPC at 2% CTR is a 40.00 eCPM
 * ```
 */
export function eventsPerMille(bidType: BidType, pCtr: number, pCvr = 0): number {
  if (bidType === 'CPM') return 1;
  if (bidType === 'CPC') return 1000 * pCtr;
  return 1000 * pCtr * pCvr;
}
