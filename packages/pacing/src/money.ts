import { ensure } from '@ctrkit/core/internal';

/**
 * Ledgers keep money as integer millionths of the currency unit ("micros"), so that sums and
 * comparisons are exact: `spent + reserved ≤ limit` must never be broken by a rounding error.
 *
 * @internal
 */
export const MICROS_PER_UNIT = 1_000_000;

/**
 * The largest amount (in currency units) a budget, price or reservation may hold: 10⁹ units is
 * 10¹⁵ micros, so even thousands of them summed stay below 2⁵³ and exact in a double (and in
 * Redis's Lua numbers).
 *
 * @internal
 */
export const MAX_AMOUNT = 1e9;

/**
 * Converts an amount to micros, rounding to the nearest micro. Rounding is monotone, so a price
 * at or below a reserved maximum stays at or below it in micros.
 *
 * @internal
 */
export function toMicros(amount: number): number {
  return Math.round(amount * MICROS_PER_UNIT);
}

/** Converts micros back to currency units. @internal */
export function fromMicros(micros: number): number {
  return micros / MICROS_PER_UNIT;
}

/**
 * Checks that `amount` is a finite, non-negative money amount within {@link MAX_AMOUNT}.
 *
 * @internal
 */
export function checkAmount(amount: number, what: string, code: 'E_INPUT' | 'E_CONFIG' = 'E_INPUT'): void {
  ensure(
    typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 && amount <= MAX_AMOUNT,
    code,
    () => `${what} must be a finite amount between 0 and ${MAX_AMOUNT}, got ${String(amount)}`,
    { value: amount },
  );
}
