/**
 * IAB Content Taxonomy 1.0 (OpenRTB `cattax` 1, the default of `cat` and `bcat`): which codes
 * exist, and how a blocked code covers its subcategories.
 */

/**
 * Subcategories per tier-1 category of IAB Content Taxonomy 1.0 (index 1 = `IAB1`, … 26 =
 * `IAB26`): `IAB13` has `IAB13-1` to `IAB13-12`. From the OpenRTB 2.5 list 5.1.
 */
const SUBCATEGORIES = [0, 7, 23, 12, 11, 15, 9, 45, 18, 31, 9, 5, 3, 12, 8, 10, 7, 44, 6, 36, 27, 3, 4, 10, 0, 7, 4] as const;

const CODE = /^IAB([1-9]\d?)(?:-([1-9]\d?))?$/;

/** The OpenRTB `cattax` value of IAB Content Taxonomy 1.0. */
export const CATTAX_IAB_1_0 = 1;

/**
 * Whether `code` is an IAB Content Taxonomy 1.0 category: `IAB1` … `IAB26`, or one of their
 * subcategories (`IAB13-6`, Insurance). Case matters, as in OpenRTB.
 *
 * @param code - The code to check.
 * @returns True for a code the taxonomy defines.
 * @example
 * ```ts
 * import { isIabCategory } from '@ctrkit/auction';
 * console.log(isIabCategory('IAB13-6'), isIabCategory('IAB13-13'), isIabCategory('insurance')); // true false false
 * ```
 */
export function isIabCategory(code: string): boolean {
  const match = CODE.exec(code);
  if (match === null) return false;
  const tier1 = Number(match[1]);
  const count = SUBCATEGORIES[tier1];
  if (count === undefined) return false;
  return match[2] === undefined || Number(match[2]) <= count;
}

/**
 * Whether `code` or a parent of it is in `blocked`: IAB 1.0 writes a subcategory as its parent,
 * a dash and a number, so `IAB7` blocks `IAB7-39`. Codes without a dash (other taxonomies' ids)
 * match exactly.
 *
 * @internal
 */
export function categoryBlocked(code: string, blocked: ReadonlySet<string>): boolean {
  if (blocked.has(code)) return true;
  for (let i = code.indexOf('-'); i > 0; i = code.indexOf('-', i + 1)) {
    if (blocked.has(code.slice(0, i))) return true;
  }
  return false;
}
