/**
 * Counters for frequency caps: the {@link CounterSource} a host passes, and the reader that
 * answers one counter for one candidate from it.
 */
import { CtrkitError } from '@ctrkit/core';
import type { StoreLookup } from '@ctrkit/core';

/**
 * Counters for the request's candidates: core's `StoreLookup` (one row per candidate, as the
 * features package's store returns it) or a function `(counter, candidateIndex) => value`.
 * A function's `undefined` or NaN counts as 0 (nothing counted yet); a lookup without a column a
 * cap reads rejects that cap's candidates (`frequency_cap`: it cannot be verified).
 *
 * @example
 * ```ts
 * import type { CounterSource } from '@ctrkit/auction';
 * const impressions = new Map([['ad-1', 2]]);
 * const adIds = ['ad-1', 'ad-2'];
 * const counters: CounterSource = (counter, row) =>
 *   counter === 'user_ad.imp_count.24h' ? impressions.get(adIds[row] ?? '') : undefined;
 * ```
 */
export type CounterSource = StoreLookup | ((counter: string, candidateIndex: number) => number | undefined);

/** @internal What a reader answers for a counter the lookup has no column for. */
export const MISSING = Number.NEGATIVE_INFINITY;

/** @internal Reads one counter for one candidate (or {@link MISSING}); a lookup's column indices are resolved once per request. */
export interface CounterReader {
  read(counter: string, row: number): number;
  readonly degraded: boolean;
}

/** @internal A reader over `source` for a request of `rows` candidates (0 for every counter without a source). */
export function counterReader(source: CounterSource | undefined, rows: number): CounterReader {
  if (source === undefined) return { read: () => 0, degraded: false };
  if (typeof source === 'function') {
    return {
      read(counter, row) {
        const value = source(counter, row);
        return value === undefined || Number.isNaN(value) ? 0 : value;
      },
      degraded: false,
    };
  }
  const width = source.names.length;
  if (source.rows !== rows || source.values.length < rows * width) {
    throw new CtrkitError(
      'E_INPUT',
      `counters have ${source.rows} rows (${source.values.length} values for ${width} names) but the request has ${rows} candidates; look counters up for exactly the request's candidates`,
    );
  }
  const columns = new Map<string, number>();
  source.names.forEach((name, i) => columns.set(name, i));
  return {
    read(counter, row) {
      const column = columns.get(counter);
      if (column === undefined) return MISSING;
      const value = source.values[row * width + column] as number;
      return Number.isNaN(value) ? 0 : value;
    },
    degraded: source.degraded,
  };
}
