/**
 * The open buffer of a served-row log — the rows since the last roll, struct-of-arrays, growing
 * by doubling — and the Arrow record batches it becomes: a ctrkit Arrow log's columns (`ids`,
 * `values`, `dense`, `sequence_ids`, `sequence_lengths`, optional `label`) plus the served ones,
 * marked {@link SERVED_LOG_KEY}.
 *
 * @internal
 */
import { Field, FixedSizeList, Float32, Float64, Int32, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import type { FeatureLayout } from '@ctrkit/core';
import { ARROW_LAYOUT_KEY } from '../arrow.js';


/** Schema metadata key marking a served-row log file (value `'1'`).
 *
 * @example
 * ```ts
 * import { SERVED_LOG_KEY } from '@ctrkit/features/node';
 * console.log(SERVED_LOG_KEY); // ctrkit.served
 * ```
 */
export const SERVED_LOG_KEY = 'ctrkit.served';

const I32 = new Int32();
const F32 = new Float32();

/** A typed array that grows by doubling; `view` hands out subarrays of it. */
class Growable<T extends Int32Array | Float32Array | Float64Array> {
  array: T;
  length = 0;
  constructor(private readonly make: (n: number) => T, capacity: number) {
    this.array = make(capacity);
  }
  push(source: ArrayLike<number>): void {
    const need = this.length + source.length;
    if (need > this.array.length) {
      let size = this.array.length * 2 || 16;
      while (size < need) size *= 2;
      const next = this.make(size);
      next.set(this.array.subarray(0, this.length));
      this.array = next;
    }
    this.array.set(source, this.length);
    this.length = need;
  }
  pushOne(value: number): void {
    if (this.length === this.array.length) {
      const next = this.make(this.array.length * 2 || 16);
      next.set(this.array);
      this.array = next;
    }
    this.array[this.length++] = value;
  }
  view(start: number, end: number): T {
    return this.array.subarray(start, end) as T;
  }
}

/** @internal The open buffer: one struct-of-arrays for the rows since the last roll. */
export class OpenBuffer {
  readonly ids = new Growable((n) => new Int32Array(n), 1024);
  readonly values = new Growable((n) => new Float32Array(n), 1024);
  readonly dense = new Growable((n) => new Float32Array(n), 256);
  readonly sequenceIds = new Growable((n) => new Int32Array(n), 256);
  readonly sequenceLengths = new Growable((n) => new Int32Array(n), 64);
  readonly labels = new Growable((n) => new Float32Array(n), 64);
  readonly position = new Growable((n) => new Int32Array(n), 64);
  readonly pCtr = new Growable((n) => new Float64Array(n), 64);
  readonly servedAt = new Growable((n) => new Float64Array(n), 64);
  readonly eventId: string[] = [];
  readonly requestId: string[] = [];
  readonly impId: string[] = [];
  readonly adId: string[] = [];
  readonly modelVersion: string[] = [];
  rows = 0;
  bytes = 0;
  openedAt = 0;
}

function listData(element: Int32 | Float32, width: number, rows: number, values: Int32Array | Float32Array): Data<DataType> {
  const child = makeData({ type: element, length: rows * width, nullCount: 0, data: values } as never) as Data<DataType>;
  return makeData({ type: new FixedSizeList(width, new Field('item', element, false)), length: rows, nullCount: 0, child } as never) as Data<DataType>;
}


/** @internal The length of every row's sequence block: the longest `maxLength`. */
export function sequenceStride(layout: FeatureLayout): number {
  return layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
}

/** @internal The buffer's rows as record batches of at most `batchRows` rows. */
export function recordBatches(layout: FeatureLayout, b: OpenBuffer, labeled: boolean, batchRows: number): RecordBatch[] {
  const W = layout.idWidth;
  const D = layout.denseWidth;
  const S = layout.sequences.length;
  const SL = S * sequenceStride(layout);
  const metadata = new Map([
    [ARROW_LAYOUT_KEY, JSON.stringify(layout)],
    [SERVED_LOG_KEY, '1'],
  ]);
  const out: RecordBatch[] = [];
  for (let start = 0; start < b.rows; start += batchRows) {
    const end = Math.min(b.rows, start + batchRows);
    const n = end - start;
    const columns: { name: string; data: Data<DataType> }[] = [];
    if (W > 0) {
      columns.push({ name: 'ids', data: listData(I32, W, n, b.ids.view(start * W, end * W)) });
      columns.push({ name: 'values', data: listData(F32, W, n, b.values.view(start * W, end * W)) });
    }
    if (D > 0) columns.push({ name: 'dense', data: listData(F32, D, n, b.dense.view(start * D, end * D)) });
    if (S > 0) {
      columns.push({ name: 'sequence_ids', data: listData(I32, SL, n, b.sequenceIds.view(start * SL, end * SL)) });
      columns.push({ name: 'sequence_lengths', data: listData(I32, S, n, b.sequenceLengths.view(start * S, end * S)) });
    }
    if (labeled) columns.push({ name: 'label', data: makeData({ type: F32, length: n, nullCount: 0, data: b.labels.view(start, end) }) as Data<DataType> });
    for (const [name, strings] of [
      ['event_id', b.eventId],
      ['request_id', b.requestId],
      ['imp_id', b.impId],
      ['ad_id', b.adId],
      ['model_version', b.modelVersion],
    ] as const) {
      columns.push({ name, data: vectorFromArray(strings.slice(start, end), new Utf8()).data[0] as Data<DataType> });
    }
    columns.push({ name: 'position', data: makeData({ type: I32, length: n, nullCount: 0, data: b.position.view(start, end) }) as Data<DataType> });
    columns.push({ name: 'p_ctr', data: makeData({ type: new Float64(), length: n, nullCount: 0, data: b.pCtr.view(start, end) }) as Data<DataType> });
    columns.push({ name: 'served_at', data: makeData({ type: new Float64(), length: n, nullCount: 0, data: b.servedAt.view(start, end) }) as Data<DataType> });
    const schema = new Schema(
      columns.map((c) => new Field(c.name, c.data.type, false)),
      metadata,
    );
    const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: columns.map((c) => c.data) });
    out.push(new RecordBatch(schema, struct));
  }
  return out;
}
