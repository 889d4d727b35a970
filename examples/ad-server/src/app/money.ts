/**
 * Money in the notices: CPM in integer micros; the charge of one impression is CPM micros ÷ 1000
 * in currency micros.
 *
 * @internal
 */

/** Micro-units per unit (currency or CPM). */
export const MICROS = 1_000_000;

/**
 * A decimal CPM as integer micros (the exchange's `${AUCTION_PRICE}`).
 *
 * @param text - The price as the exchange substituted it.
 * @returns Its micros, or undefined when it is not a CPM in [0, 10^6].
 */
export function cpmMicrosOf(text: string): number | undefined {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1e6) return undefined;
  return Math.round(value * MICROS);
}

/**
 * The charge of one impression at a CPM.
 *
 * @param cpmMicros - The CPM in micros.
 * @returns Currency micros.
 */
export const chargeMicrosOf = (cpmMicros: number): number => Math.round(cpmMicros / 1000);
