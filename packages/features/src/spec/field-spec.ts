/**
 * The fields of a feature spec: where each value comes from ({@link FieldSource}) and what each
 * kind of field makes of it ({@link FieldSpec}).
 */


/** Where a field's value comes from: the request's user, its context, each candidate, or the feature store's lookup.
 *
 * @example
 * ```ts
 * import type { FieldSource } from '@ctrkit/features';
 * const source: FieldSource = 'candidate';
 * ```
 */
export type FieldSource = 'user' | 'context' | 'candidate' | 'store';

/** How a numeric field becomes a bucket id.
 *
 * - `{ boundaries: [b0, b1, …] }` — bucket `i` is the number of boundaries ≤ x (so x < b0 is 0).
 * - `{ rule: 'criteo-log' }` — the Criteo rule `x > 2 ? ⌊ln(x)²⌋ : x`: token `⌊ln(x)²⌋` above 2,
 *   and `SP⌊x⌋` at or below 2 (the `SP` prefix keeps 1 and ⌊ln 3²⌋ = 1 apart, as in the
 *   challenge winners' code).
 *
 * @example
 * ```ts
 * import type { Bucketize } from '@ctrkit/features';
 * const byAge: Bucketize = { boundaries: [18, 25, 35, 45, 55, 65] };
 * const criteo: Bucketize = { rule: 'criteo-log' };
 * ```
 */
export type Bucketize = { readonly boundaries: readonly number[] } | { readonly rule: 'criteo-log' };

/** How a dense field is scaled.
 *
 * @example
 * ```ts
 * import type { Normalize } from '@ctrkit/features';
 * const z: Normalize = { method: 'standard', mean: 35, std: 12 };
 * ```
 */
export type Normalize =
  | { readonly method: 'none' }
  | { readonly method: 'standard'; readonly mean: number; readonly std: number }
  | { readonly method: 'minmax'; readonly min: number; readonly max: number }
  | { readonly method: 'log1p' };

/** Properties every field has.
 *
 * @example
 * ```ts
 * import type { FieldBase } from '@ctrkit/features';
 * const base: FieldBase = { name: 'user_country' };
 * ```
 */
export interface FieldBase {
  /** Unique name: letters, digits, `_ . : -`, starting with a letter or `_`. It is part of every hash key. */
  readonly name: string;
}

/** Properties of a field read from the request or a log row.
 *
 * @example
 * ```ts
 * import type { SourcedField } from '@ctrkit/features';
 * const sourced: SourcedField = { name: 'country', source: 'user', path: 'country' };
 * ```
 */
export interface SourcedField extends FieldBase {
  /** Which part of the request holds the value. */
  readonly source: FieldSource;
  /**
   * The property within the source (`country`, `attributes.segment`, …), or for `store` fields
   * the counter name (`ad.ctr.7d`). Context also offers `slotPosition` (the position of the
   * request's first slot: serve with the slot being filled, train with the slot shown), and `hourOfDay` and `dayOfWeek` (local time,
   * from `timestamp` and `timezoneOffsetMinutes`).
   */
  readonly path: string;
  /** The column of a log file that holds the value (default: the field's name). */
  readonly column?: string;
}

/** A single categorical value (string, number or boolean), hashed.
 *
 * @example
 * ```ts
 * import type { CategoricalFieldSpec } from '@ctrkit/features';
 * const field: CategoricalFieldSpec = { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' };
 * ```
 */
export interface CategoricalFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'categorical';
}

/** A number cut into buckets, each bucket an id.
 *
 * @example
 * ```ts
 * import type { NumericFieldSpec } from '@ctrkit/features';
 * const field: NumericFieldSpec = { name: 'I1', kind: 'numeric', source: 'context', path: 'attributes.I1', bucketize: { rule: 'criteo-log' } };
 * ```
 */
export interface NumericFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'numeric';
  /** How values become buckets. */
  readonly bucketize: Bucketize;
}

/** A number kept as a real value in the dense block, clipped then normalized.
 *
 * @example
 * ```ts
 * import type { DenseFieldSpec } from '@ctrkit/features';
 * const field: DenseFieldSpec = { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } };
 * ```
 */
export interface DenseFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'dense';
  /** Scaling (default none). */
  readonly normalize?: Normalize;
  /** Clip to [lo, hi] before normalizing. */
  readonly clip?: readonly [number, number];
  /** The value written when the field is missing (default 0), after normalization. */
  readonly missingValue?: number;
}

/** A multi-valued field (interests, keywords): up to `maxSize` ids, padded.
 *
 * @example
 * ```ts
 * import type { BagFieldSpec } from '@ctrkit/features';
 * const field: BagFieldSpec = { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 8, combiner: 'mean' };
 * ```
 */
export interface BagFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'bag';
  /** Columns the bag takes; longer bags keep their first `maxSize` values (counted as truncated). */
  readonly maxSize: number;
  /** Weight of each present id: 1 (`sum`, default) or 1/n (`mean`). Padding weighs 0. */
  readonly combiner?: 'sum' | 'mean';
  /** For arrays of behavior events (`history`): which property is the value. */
  readonly item?: 'action' | 'item' | 'category' | 'brand';
}

/** A behavior sequence (most recent last), fixed length, left-padded, with its real length as mask.
 *
 * @example
 * ```ts
 * import type { SequenceFieldSpec } from '@ctrkit/features';
 * const field: SequenceFieldSpec = {
 *   name: 'history_category', kind: 'sequence', source: 'user', path: 'history',
 *   item: 'category', maxLength: 20, sharesIdsWith: 'ad_category',
 * };
 * ```
 */
export interface SequenceFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'sequence';
  /** Items kept (the most recent). */
  readonly maxLength: number;
  /** For arrays of behavior events (`history`): which property is the item. */
  readonly item?: 'action' | 'item' | 'category' | 'brand';
  /** A categorical field whose hash keys the items use, so a model can compare them (DIN attention). */
  readonly sharesIdsWith?: string;
}

/** A cross of two or three single-valued fields, hashed as one value.
 *
 * @example
 * ```ts
 * import type { CrossFieldSpec } from '@ctrkit/features';
 * const field: CrossFieldSpec = { name: 'user_x_category', kind: 'cross', of: ['user_id', 'ad_category'] };
 * ```
 */
export interface CrossFieldSpec extends FieldBase {
  /** Discriminant. */
  readonly kind: 'cross';
  /** The fields crossed (categorical or numeric), in key order. */
  readonly of: readonly [string, string] | readonly [string, string, string];
}

/** Any field of a spec.
 *
 * @example
 * ```ts
 * import type { FieldSpec } from '@ctrkit/features';
 * const fields: FieldSpec[] = [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }];
 * ```
 */
export type FieldSpec = CategoricalFieldSpec | NumericFieldSpec | DenseFieldSpec | BagFieldSpec | SequenceFieldSpec | CrossFieldSpec;
