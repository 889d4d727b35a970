/**
 * How `ctrkit train` prints a figure: the pass table, the progress notes and `--model auto`'s
 * lines all use four decimals.
 */

/**
 * A figure with four decimals, or `–` when absent or not finite.
 *
 * @param value - The figure.
 * @returns Its text.
 * @internal
 */
export function format4(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(4);
}
