/**
 * @internal Gathers one row of a batch as a sparse vector of distinct coordinates, for the online
 * trainers. Ids come first (coordinate = id), then dense columns (coordinate = idSpace + d). Two
 * columns of a row that hash to the same id are one coordinate whose value is their sum, so
 * per-coordinate statistics (FTRL's n, AdaGrad's sums) see the row's true gradient once.
 *
 * Duplicates are found with a stamp per id (the row counter that last touched it) instead of a
 * set: one typed-array read per column, nothing allocated per row.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';

/** @internal */
export class SparseRow {
  /** Distinct coordinates of the row. */
  readonly coords: Int32Array;
  /** Σ value of each coordinate's columns. */
  readonly xs: Float64Array;
  /** Σ value² of each coordinate's columns (what FM's self-interaction term needs). */
  readonly squares: Float64Array;
  /** Coordinates gathered for the current row. */
  count = 0;
  private readonly marks: Int32Array;
  private readonly slots: Int32Array;
  private stamp = 0;
  private readonly idSpace: number;
  private readonly idWidth: number;
  private readonly denseWidth: number;

  constructor(layout: FeatureLayout) {
    this.idSpace = layout.idSpace;
    this.idWidth = layout.idWidth;
    this.denseWidth = layout.denseWidth;
    const width = layout.idWidth + layout.denseWidth;
    this.coords = new Int32Array(width);
    this.xs = new Float64Array(width);
    this.squares = new Float64Array(width);
    this.marks = new Int32Array(layout.idSpace);
    this.slots = new Int32Array(layout.idSpace);
  }

  /**
   * Gathers row `r`; returns the number of coordinates.
   *
   * @throws `CtrkitError` `E_INPUT` on an id outside `[0, idSpace)` or a non-finite value.
   */
  gather(batch: FeatureBatch, r: number): number {
    if (this.stamp === 0x7fffffff) {
      this.marks.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const { ids, values, dense } = batch;
    const { coords, xs, squares, marks, slots, idSpace, idWidth, denseWidth } = this;
    let k = 0;
    const base = r * idWidth;
    for (let c = 0; c < idWidth; c++) {
      const v = values[base + c] as number;
      if (v === 0) continue;
      const id = ids[base + c] as number;
      if (id >>> 0 >= idSpace || v - v !== 0) this.fail(batch, r, c, id, v);
      if (marks[id] === stamp) {
        const s = slots[id] as number;
        xs[s] = (xs[s] as number) + v;
        squares[s] = (squares[s] as number) + v * v;
      } else {
        marks[id] = stamp;
        slots[id] = k;
        coords[k] = id;
        xs[k] = v;
        squares[k] = v * v;
        k++;
      }
    }
    const denseBase = r * denseWidth;
    for (let d = 0; d < denseWidth; d++) {
      const v = dense[denseBase + d] as number;
      if (v === 0) continue;
      if (v - v !== 0) {
        throw new CtrkitError('E_INPUT', `batch.dense[row ${r}, column ${d}] is ${v}; training needs finite values`, { details: { row: r, column: d, value: v } });
      }
      coords[k] = idSpace + d;
      xs[k] = v;
      squares[k] = v * v;
      k++;
    }
    this.count = k;
    return k;
  }

  private fail(batch: FeatureBatch, r: number, c: number, id: number, v: number): never {
    if (v - v !== 0) {
      throw new CtrkitError('E_INPUT', `batch.values[row ${r}, column ${c}] is ${v}; training needs finite values`, { details: { row: r, column: c, value: v } });
    }
    throw new CtrkitError('E_INPUT', `batch.ids[row ${r}, column ${c}] is ${id}, outside [0, ${batch.layout.idSpace}); encode with the trainer's feature spec`, {
      details: { row: r, column: c, id },
    });
  }
}

/** @internal Throws `E_INPUT` unless the batch has the trainer's layout and arrays of the right length. */
export function checkBatchShape(layout: FeatureLayout, batch: FeatureBatch, what: string): void {
  if (typeof batch !== 'object' || batch === null || typeof batch.layout !== 'object' || batch.layout === null) {
    throw new CtrkitError('E_INPUT', `${what}: pass a FeatureBatch (layout, rows, ids, values, dense, …)`);
  }
  const other = batch.layout;
  if (other !== layout && (other.fingerprint !== layout.fingerprint || other.idSpace !== layout.idSpace || other.idWidth !== layout.idWidth || other.denseWidth !== layout.denseWidth)) {
    throw new CtrkitError(
      'E_INPUT',
      `${what}: the batch was encoded with spec ${other.fingerprint} but the trainer's is ${layout.fingerprint}; encode with the trainer's feature spec`,
      { details: { batch: other.fingerprint, trainer: layout.fingerprint } },
    );
  }
  const rows = batch.rows;
  if (!Number.isInteger(rows) || rows < 0) throw new CtrkitError('E_INPUT', `${what}: batch.rows must be an integer ≥ 0, got ${String(rows)}`);
  if (!(batch.ids instanceof Int32Array) || batch.ids.length < rows * layout.idWidth) throw new CtrkitError('E_INPUT', `${what}: batch.ids must be an Int32Array of rows × idWidth values`);
  if (!(batch.values instanceof Float32Array) || batch.values.length < rows * layout.idWidth) throw new CtrkitError('E_INPUT', `${what}: batch.values must be a Float32Array of rows × idWidth values`);
  if (!(batch.dense instanceof Float32Array) || batch.dense.length < rows * layout.denseWidth) throw new CtrkitError('E_INPUT', `${what}: batch.dense must be a Float32Array of rows × denseWidth values`);
}

/** @internal The logistic function, stable for large |x|. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
