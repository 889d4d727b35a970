/**
 * Column-major chunks of log rows, as the readers produce them and the encoder consumes them.
 */

/** A column of text cells; `''` is a missing value.
 *
 * @example
 * ```ts
 * import type { StringColumn } from '@ctrkit/features';
 * const column: StringColumn = { name: 'C1', type: 'string', data: ['68fd1e64', ''] };
 * ```
 */
export interface StringColumn {
  /** Column name (`C1`, `site_id`, …). */
  readonly name: string;
  /** Discriminant. */
  readonly type: 'string';
  /** One cell per row; `''` when the cell was empty. */
  readonly data: readonly string[];
}

/** A column of numbers; `NaN` is a missing value.
 *
 * @example
 * ```ts
 * import type { NumberColumn } from '@ctrkit/features';
 * const column: NumberColumn = { name: 'I1', type: 'number', data: Float64Array.of(1, Number.NaN) };
 * ```
 */
export interface NumberColumn {
  /** Column name. */
  readonly name: string;
  /** Discriminant. */
  readonly type: 'number';
  /** One value per row; `NaN` when the cell was empty. */
  readonly data: Float64Array;
}

/** Any column of a {@link LogChunk}.
 *
 * @example
 * ```ts
 * import type { LogColumn } from '@ctrkit/features';
 * const names = (columns: readonly LogColumn[]) => columns.map((c) => c.name);
 * ```
 */
export type LogColumn = StringColumn | NumberColumn;

/** Variable-length `index:value` pairs per row (libsvm without a field map), CSR layout.
 *
 * @example
 * ```ts
 * import type { SparseRows } from '@ctrkit/features';
 * const sparse: SparseRows = { name: 'features', offsets: Int32Array.of(0, 2), indices: Int32Array.of(3, 9), values: Float32Array.of(1, 1) };
 * ```
 */
export interface SparseRows {
  /** The name a spec's bag field uses as `column` to read these pairs. */
  readonly name: string;
  /** `rows + 1` offsets into `indices` / `values`. */
  readonly offsets: Int32Array;
  /** Feature indices. */
  readonly indices: Int32Array;
  /** Their values. */
  readonly values: Float32Array;
}

/** A block of parsed log rows: labels, source line numbers, and one array per column.
 *
 * @example
 * ```ts
 * import type { LogChunk } from '@ctrkit/features';
 * const positives = (chunk: LogChunk) => chunk.labels.reduce((a, b) => a + b, 0);
 * ```
 */
export interface LogChunk {
  /** Rows in this chunk. */
  readonly rows: number;
  /** One label per row (0 or 1); `NaN` when the log has no label column. */
  readonly labels: Float32Array;
  /** The 1-based line each row came from, for error messages. */
  readonly lines: Float64Array;
  /** The columns, in file order (ignored columns left out). */
  readonly columns: readonly LogColumn[];
  /** Sparse pairs, for libsvm files read without a field map. */
  readonly sparse?: SparseRows;
}
