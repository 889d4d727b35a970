/**
 * Encoded training rows held in memory: a `FeatureBatch` with one label per row. Readers hand out
 * chunks; a {@link RowCollector} appends them into buffers that grow by doubling, and every slice
 * is a `subarray` view, so splitting rows into train / validation / test copies nothing.
 */
import { createRandom, CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { BatchChecker, expectationFromLayout, sequenceStride } from '../batch-check.js';

/** Encoded rows and their 0/1 labels: what the trainers learn from and are judged on.
 *
 * @example
 * ```ts
 * import type { LabeledRows } from '@ctrkit/models';
 * const ctr = (rows: LabeledRows) => rows.labels.reduce((a, y) => a + y, 0) / rows.batch.rows;
 * ```
 */
export interface LabeledRows {
  /** The encoded features, one row per example. */
  readonly batch: FeatureBatch;
  /** `batch.rows` labels, each 0 or 1. */
  readonly labels: Float32Array;
}

/** Accumulates encoded chunks into one growing set of rows.
 *
 * @example
 * ```ts
 * import { createRowCollector, type RowCollector } from '@ctrkit/models';
 * import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const chunk: FeatureBatch;
 * const collector: RowCollector = createRowCollector(layout);
 * collector.append(chunk, new Float32Array(chunk.rows));
 * ```
 */
export interface RowCollector {
  /** The layout every appended batch must follow. */
  readonly layout: FeatureLayout;
  /** Rows held so far. */
  readonly rows: number;
  /**
   * Copies rows `[start, end)` of a batch and their labels in.
   *
   * @param batch - Encoded rows of the collector's layout.
   * @param labels - One 0/1 label per batch row.
   * @param start - First row to copy (default 0).
   * @param end - One past the last row to copy (default `batch.rows`).
   * @throws `CtrkitError` `E_INPUT` on a batch of another layout, a bad range, an id outside
   *   `[0, idSpace)`, a non-finite value, or a label other than 0 or 1.
   */
  append(batch: FeatureBatch, labels: ArrayLike<number>, start?: number, end?: number): void;
  /**
   * Views of every row appended so far (no copy; appending more may move the buffers, so take
   * the view after the last append).
   *
   * @returns The rows.
   */
  toRows(): LabeledRows;
}

class Collector implements RowCollector {
  rows = 0;
  private capacity: number;
  private ids: Int32Array;
  private values: Float32Array;
  private dense: Float32Array;
  private sequenceIds: Int32Array;
  private sequenceLengths: Int32Array;
  private labels: Float32Array;
  private readonly sl: number;
  private readonly checker: BatchChecker;

  constructor(
    readonly layout: FeatureLayout,
    initial: number,
  ) {
    this.capacity = Math.max(1, initial);
    this.sl = layout.sequences.length * sequenceStride(layout);
    this.checker = new BatchChecker(expectationFromLayout(layout, ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths']));
    this.ids = new Int32Array(this.capacity * layout.idWidth);
    this.values = new Float32Array(this.capacity * layout.idWidth);
    this.dense = new Float32Array(this.capacity * layout.denseWidth);
    this.sequenceIds = new Int32Array(this.capacity * this.sl);
    this.sequenceLengths = new Int32Array(this.capacity * layout.sequences.length);
    this.labels = new Float32Array(this.capacity);
  }

  private grow(needed: number): void {
    if (needed <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const { idWidth, denseWidth, sequences } = this.layout;
    const grow = <T extends Int32Array | Float32Array>(array: T, width: number): T => {
      const next = new (array.constructor as new (n: number) => T)(capacity * width);
      next.set(array);
      return next;
    };
    this.ids = grow(this.ids, idWidth);
    this.values = grow(this.values, idWidth);
    this.dense = grow(this.dense, denseWidth);
    this.sequenceIds = grow(this.sequenceIds, this.sl);
    this.sequenceLengths = grow(this.sequenceLengths, sequences.length);
    this.labels = grow(this.labels, 1);
    this.capacity = capacity;
  }

  append(batch: FeatureBatch, labels: ArrayLike<number>, start = 0, end?: number): void {
    this.checker.check(batch);
    const stop = end ?? batch.rows;
    if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > batch.rows || start > stop) {
      throw new CtrkitError('E_INPUT', `append: rows [${start}, ${stop}) are not within the batch's ${batch.rows} rows`);
    }
    if (labels.length < batch.rows) throw new CtrkitError('E_INPUT', `append: ${labels.length} labels for a batch of ${batch.rows} rows`);
    checkLabels(labels, start, stop, 'append');
    const count = stop - start;
    this.grow(this.rows + count);
    const { idWidth, denseWidth, sequences } = this.layout;
    const S = sequences.length;
    const at = this.rows;
    this.ids.set(batch.ids.subarray(start * idWidth, stop * idWidth), at * idWidth);
    this.values.set(batch.values.subarray(start * idWidth, stop * idWidth), at * idWidth);
    this.dense.set(batch.dense.subarray(start * denseWidth, stop * denseWidth), at * denseWidth);
    this.sequenceIds.set(batch.sequenceIds.subarray(start * this.sl, stop * this.sl), at * this.sl);
    this.sequenceLengths.set(batch.sequenceLengths.subarray(start * S, stop * S), at * S);
    for (let r = start; r < stop; r++) this.labels[at + r - start] = labels[r] as number;
    this.rows += count;
  }

  toRows(): LabeledRows {
    return viewRows(this.layout, this.ids, this.values, this.dense, this.sequenceIds, this.sequenceLengths, this.labels, 0, this.rows);
  }
}

function viewRows(
  layout: FeatureLayout,
  ids: Int32Array,
  values: Float32Array,
  dense: Float32Array,
  sequenceIds: Int32Array,
  sequenceLengths: Int32Array,
  labels: Float32Array,
  start: number,
  end: number,
): LabeledRows {
  const { idWidth, denseWidth, sequences } = layout;
  const S = sequences.length;
  const sl = S * sequenceStride(layout);
  return {
    batch: {
      layout,
      rows: end - start,
      ids: ids.subarray(start * idWidth, end * idWidth),
      values: values.subarray(start * idWidth, end * idWidth),
      dense: dense.subarray(start * denseWidth, end * denseWidth),
      sequenceIds: sequenceIds.subarray(start * sl, end * sl),
      sequenceLengths: sequenceLengths.subarray(start * S, end * S),
    },
    labels: labels.subarray(start, end),
  };
}

/** @internal Throws `E_INPUT` at the first label in `[start, end)` that is not 0 or 1. */
export function checkLabels(labels: ArrayLike<number>, start: number, end: number, what: string): void {
  for (let r = start; r < end; r++) {
    const y = labels[r];
    if (y !== 0 && y !== 1) {
      throw new CtrkitError('E_INPUT', `${what}: label of row ${r} is ${String(y)}; labels must be 0 or 1`, { details: { row: r, label: y } });
    }
  }
}

/**
 * @internal The row a mini-batch position reads: `indices[start + b]` (a shuffled pass), or
 * `start + b` without indices.
 */
export function rowOf(indices: Int32Array | undefined, start: number, b: number): number {
  return indices === undefined ? start + b : (indices[start + b] as number);
}

/**
 * Creates a {@link RowCollector}: an in-memory buffer of encoded rows that grows by doubling.
 *
 * @param layout - The layout of every batch to append (the encoder's `layout`).
 * @param initialRows - Rows to allocate up front (default 4,096).
 * @returns An empty collector.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout or a negative `initialRows`.
 * @remarks Holds `rows × (8·idWidth + 4·denseWidth + …)` bytes; growth copies each buffer once per doubling.
 * @example
 * ```ts
 * import { createFeatureEncoder, criteoSpec, readCriteo } from '@ctrkit/features';
 * import { createRowCollector } from '@ctrkit/models';
 * async function load(text: string) {
 *   const encoder = createFeatureEncoder(criteoSpec());
 *   const collector = createRowCollector(encoder.layout);
 *   for await (const chunk of readCriteo(text)) collector.append(encoder.encodeChunk(chunk), chunk.labels);
 *   return collector.toRows();
 * }
 * ```
 */
export function createRowCollector(layout: FeatureLayout, initialRows = 4096): RowCollector {
  if (!Number.isInteger(initialRows) || initialRows < 0) throw new CtrkitError('E_CONFIG', `initialRows must be an integer ≥ 0, got ${initialRows}`);
  return new Collector(layout, initialRows);
}

/**
 * A view of rows `[start, end)` of a set of rows (no copy).
 *
 * @param rows - The rows.
 * @param start - First row.
 * @param end - One past the last row (default: all rows).
 * @returns The slice, sharing memory with `rows`.
 * @throws `CtrkitError` `E_INPUT` when the range is not within the rows.
 * @example
 * ```ts
 * import { sliceRows, type LabeledRows } from '@ctrkit/models';
 * declare const all: LabeledRows;
 * const train = sliceRows(all, 0, 8000);
 * const test = sliceRows(all, 8000);
 * ```
 */
export function sliceRows(rows: LabeledRows, start: number, end?: number): LabeledRows {
  const { batch, labels } = rows;
  const stop = end ?? batch.rows;
  if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > batch.rows || start > stop) {
    throw new CtrkitError('E_INPUT', `sliceRows: [${start}, ${stop}) is not within ${batch.rows} rows`);
  }
  return viewRows(batch.layout, batch.ids, batch.values, batch.dense, batch.sequenceIds, batch.sequenceLengths, labels, start, stop);
}

/**
 * Copies the rows whose indices are given, in that order, into a new set of rows.
 *
 * @param rows - The source rows.
 * @param indices - Row indices to take (any order, repeats allowed).
 * @returns A new set of rows owning its memory.
 * @throws `CtrkitError` `E_INPUT` on an index outside the rows.
 * @example
 * ```ts
 * import { takeRows, type LabeledRows } from '@ctrkit/models';
 * declare const rows: LabeledRows;
 * const firstAndLast = takeRows(rows, Int32Array.of(0, rows.batch.rows - 1));
 * ```
 */
export function takeRows(rows: LabeledRows, indices: ArrayLike<number>): LabeledRows {
  const { batch } = rows;
  const { layout } = batch;
  const { idWidth, denseWidth, sequences } = layout;
  const S = sequences.length;
  const sl = S * sequenceStride(layout);
  const n = indices.length;
  const out = {
    ids: new Int32Array(n * idWidth),
    values: new Float32Array(n * idWidth),
    dense: new Float32Array(n * denseWidth),
    sequenceIds: new Int32Array(n * sl),
    sequenceLengths: new Int32Array(n * S),
    labels: new Float32Array(n),
  };
  for (let k = 0; k < n; k++) {
    const r = indices[k] as number;
    if (!Number.isInteger(r) || r < 0 || r >= batch.rows) throw new CtrkitError('E_INPUT', `takeRows: index ${r} is not a row (0…${batch.rows - 1})`);
    out.ids.set(batch.ids.subarray(r * idWidth, (r + 1) * idWidth), k * idWidth);
    out.values.set(batch.values.subarray(r * idWidth, (r + 1) * idWidth), k * idWidth);
    out.dense.set(batch.dense.subarray(r * denseWidth, (r + 1) * denseWidth), k * denseWidth);
    out.sequenceIds.set(batch.sequenceIds.subarray(r * sl, (r + 1) * sl), k * sl);
    out.sequenceLengths.set(batch.sequenceLengths.subarray(r * S, (r + 1) * S), k * S);
    out.labels[k] = rows.labels[r] as number;
  }
  return viewRows(layout, out.ids, out.values, out.dense, out.sequenceIds, out.sequenceLengths, out.labels, 0, n);
}

/**
 * Negative downsampling: keeps every positive row and each negative row with probability
 * `negativeRate` (seeded, so the same seed keeps the same rows), preserving row order. A model
 * trained on the result over-predicts; `createDownsamplingCorrection(negativeRate)` from
 * `@ctrkit/core` undoes it, and the trainers record that correction in the manifest.
 *
 * @param rows - The rows to sample.
 * @param negativeRate - Fraction of negatives to keep, in (0, 1].
 * @param seed - Seed of the sampling (default 0).
 * @returns The kept rows (a copy).
 * @throws `CtrkitError` `E_CONFIG` when the rate is not in (0, 1].
 * @example
 * ```ts
 * import { downsampleNegatives, type LabeledRows } from '@ctrkit/models';
 * declare const rows: LabeledRows;
 * const smaller = downsampleNegatives(rows, 0.25, 'epoch-1');
 * ```
 */
export function downsampleNegatives(rows: LabeledRows, negativeRate: number, seed: number | string = 0): LabeledRows {
  if (!(negativeRate > 0 && negativeRate <= 1)) throw new CtrkitError('E_CONFIG', `negativeRate must be in (0, 1], got ${negativeRate}`);
  const random = createRandom(seed).fork('downsample');
  const n = rows.batch.rows;
  const kept = new Int32Array(n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    // Draw for every row, positive or not, so the kept negatives do not depend on where positives fall.
    const keep = random.next() < negativeRate;
    if (rows.labels[r] === 1 || keep) kept[count++] = r;
  }
  return takeRows(rows, kept.subarray(0, count));
}
