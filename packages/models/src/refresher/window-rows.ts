/**
 * The rows an online refresher holds: labeled rows as it takes them, checked against the
 * trainer's layout, and copied into fixed column buffers (the hold-out ring, the staging batch,
 * the judged window).
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';

/** Labeled rows as {@link OnlineRefresher.add} takes them, when not straight from the joiner.
 *
 * @example
 * ```ts
 * import type { FeatureBatch } from '@ctrkit/core';
 * import type { RefresherRows } from '@ctrkit/models';
 * declare const batch: FeatureBatch;
 * const rows: RefresherRows = { batch, labels: new Float32Array(batch.rows) };
 * ```
 */
export interface RefresherRows {
  /** Encoded rows of the trainer's layout. */
  readonly batch: FeatureBatch;
  /** One 0/1 label per row. */
  readonly labels: ArrayLike<number>;
}

/** Sequence ids per row of a sequence: the longest maxLength. */
function sequenceStride(layout: FeatureLayout): number {
  let max = 0;
  for (const s of layout.sequences) if (s.maxLength > max) max = s.maxLength;
  return max;
}

/**
 * Columns of `rows` rows of one layout: what the window ring, the staging batch and the judged
 * batch hold.
 *
 * @internal
 */
export class Rows {
  readonly ids: Int32Array;
  readonly values: Float32Array;
  readonly dense: Float32Array;
  readonly sequenceIds: Int32Array;
  readonly sequenceLengths: Int32Array;
  readonly labels: Float32Array;

  constructor(
    readonly layout: FeatureLayout,
    readonly capacity: number,
  ) {
    const { idWidth, denseWidth, sequences } = layout;
    this.ids = new Int32Array(capacity * idWidth);
    this.values = new Float32Array(capacity * idWidth);
    this.dense = new Float32Array(capacity * denseWidth);
    this.sequenceIds = new Int32Array(capacity * sequences.length * sequenceStride(layout));
    this.sequenceLengths = new Int32Array(capacity * sequences.length);
    this.labels = new Float32Array(capacity);
  }

  /** Copies row `from` of `source` (columns of a batch) into row `to`. */
  copyIn(source: Columns, from: number, label: number, to: number): void {
    const W = this.layout.idWidth;
    const D = this.layout.denseWidth;
    const S = this.layout.sequences.length;
    const SL = S * sequenceStride(this.layout);
    this.ids.set(source.ids.subarray(from * W, from * W + W), to * W);
    this.values.set(source.values.subarray(from * W, from * W + W), to * W);
    if (D > 0) this.dense.set(source.dense.subarray(from * D, from * D + D), to * D);
    if (SL > 0) this.sequenceIds.set(source.sequenceIds.subarray(from * SL, from * SL + SL), to * SL);
    if (S > 0) this.sequenceLengths.set(source.sequenceLengths.subarray(from * S, from * S + S), to * S);
    this.labels[to] = label;
  }

  /** The first `rows` rows as a batch (views, no copy). */
  batch(rows: number): FeatureBatch {
    const { idWidth, denseWidth, sequences } = this.layout;
    const S = sequences.length;
    const SL = S * sequenceStride(this.layout);
    return {
      layout: this.layout,
      rows,
      ids: this.ids.subarray(0, rows * idWidth),
      values: this.values.subarray(0, rows * idWidth),
      dense: this.dense.subarray(0, rows * denseWidth),
      sequenceIds: this.sequenceIds.subarray(0, rows * SL),
      sequenceLengths: this.sequenceLengths.subarray(0, rows * S),
    };
  }
}

/** The arrays of a batch that rows are copied from. */
type Columns = Pick<FeatureBatch, 'ids' | 'values' | 'dense' | 'sequenceIds' | 'sequenceLengths'>;

/**
 * Checks a batch against the trainer's layout fully, so nothing the window keeps can fail the
 * trainer later.
 *
 * @param layout - The trainer's layout.
 * @param rows - The rows and labels.
 * @throws `CtrkitError` `E_INPUT` naming the first thing that is wrong.
 * @internal
 */
export function checkRows(layout: FeatureLayout, rows: RefresherRows): void {
  const fail = (what: string): never => {
    throw new CtrkitError('E_INPUT', `online refresher: ${what}`);
  };
  const { batch, labels } = rows;
  if (typeof batch !== 'object' || batch === null || typeof batch.layout !== 'object' || batch.layout === null) fail('pass joined rows or { batch, labels }');
  const other = batch.layout;
  if (other.fingerprint !== layout.fingerprint || other.idWidth !== layout.idWidth || other.denseWidth !== layout.denseWidth || other.idSpace !== layout.idSpace) {
    fail(`the rows were encoded with spec ${other.fingerprint} but the trainer learns ${layout.fingerprint}; feed rows of the serving encoder`);
  }
  const n = batch.rows;
  if (!Number.isInteger(n) || n < 0) fail(`batch.rows must be an integer ≥ 0, got ${String(n)}`);
  const S = layout.sequences.length;
  const SL = S * sequenceStride(layout);
  const want = (name: string, array: unknown, ctor: Int32ArrayConstructor | Float32ArrayConstructor, width: number) => {
    if (!(array instanceof ctor) || array.length < n * width) fail(`batch.${name} must be a ${ctor.name} of rows × ${width} values`);
  };
  want('ids', batch.ids, Int32Array, layout.idWidth);
  want('values', batch.values, Float32Array, layout.idWidth);
  want('dense', batch.dense, Float32Array, layout.denseWidth);
  want('sequenceIds', batch.sequenceIds, Int32Array, SL);
  want('sequenceLengths', batch.sequenceLengths, Int32Array, S);
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number' || labels.length < n) fail(`give one label per row (${n} rows)`);
  for (let r = 0; r < n; r++) {
    const y = labels[r];
    if (y !== 0 && y !== 1) fail(`label of row ${r} is ${String(y)}; labels must be 0 or 1`);
  }
  const { idSpace } = layout;
  const ids = batch.ids;
  for (let i = 0, end = n * layout.idWidth; i < end; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= idSpace) fail(`id ${id} of row ${Math.floor(i / layout.idWidth)} lies outside [0, ${idSpace})`);
    if (!Number.isFinite(batch.values[i] as number)) fail(`values of row ${Math.floor(i / layout.idWidth)} are not finite`);
  }
  for (let i = 0, end = n * layout.denseWidth; i < end; i++) {
    if (!Number.isFinite(batch.dense[i] as number)) fail(`dense values of row ${Math.floor(i / layout.denseWidth)} are not finite`);
  }
}
