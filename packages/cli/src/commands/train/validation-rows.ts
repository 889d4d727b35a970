/**
 * Where `ctrkit train`'s validation rows come from by default: the last share of the rows read,
 * in file order, up to a cap.
 */

/**
 * The default validation share: the last 20 % of the training rows, in file order.
 *
 * @internal
 */
export const DEFAULT_VALID_SHARE = 0.2;

/**
 * The default validation slice holds at most this many rows.
 *
 * @internal
 */
export const DEFAULT_VALID_CAP = 100_000;

/**
 * Rows carved off the end of `rows` for validation by `--valid-share` (at most {@link DEFAULT_VALID_CAP}).
 *
 * @param rows - Rows read.
 * @param share - `--valid-share`.
 * @returns Validation rows: 0 for a share of 0 or fewer than 2 rows, else at least 1 and at most `rows - 1`.
 * @internal
 */
export function validRowsOf(rows: number, share: number): number {
  if (share <= 0 || rows < 2) return 0;
  return Math.min(DEFAULT_VALID_CAP, Math.max(1, Math.round(rows * share)), rows - 1);
}
