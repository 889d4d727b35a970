/**
 * The array type every metric and calibrator takes.
 */

/** Labels (0/1), scores or weights: any array-like of numbers, typed arrays included.
 *
 * @example
 * ```ts
 * import type { Numbers } from '@ctrkit/core';
 * const labels: Numbers = new Uint8Array([0, 1]);
 * ```
 */
export type Numbers = ArrayLike<number>;
