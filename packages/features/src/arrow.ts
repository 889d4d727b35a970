/**
 * Apache Arrow interop: a `FeatureBatch` becomes an Arrow record batch whose `ids` column is
 * a `FixedSizeList<Int32>` over the very same memory (no copy), and back. Arrow IPC files of
 * encoded training logs carry the layout in their schema metadata, so a reader can check the
 * spec fingerprint before feeding a model.
 */
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  type RecordBatchFileReader,
  type RecordBatchStreamReader,
  Schema,
  Struct,
  Table,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';

/** Schema metadata key holding the layout as JSON.
 *
 * @example
 * ```ts
 * import { ARROW_LAYOUT_KEY, allocateBatch, batchToArrow, parseFeatureSpec } from '@ctrkit/features';
 * const spec = parseFeatureSpec({ version: 1, idSpace: 64, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * const table = batchToArrow(allocateBatch(spec.layout, 1));
 * console.log(JSON.parse(table.schema.metadata.get(ARROW_LAYOUT_KEY) ?? '{}').fingerprint === spec.fingerprint); // true
 * ```
 */
export const ARROW_LAYOUT_KEY = 'ctrkit.layout';

/** An encoded batch with its labels, as logged for training.
 *
 * @example
 * ```ts
 * import type { LabeledBatch } from '@ctrkit/features';
 * const positives = (b: LabeledBatch) => (b.labels ?? new Float32Array(0)).reduce((a, y) => a + y, 0);
 * ```
 */
export interface LabeledBatch {
  /** The features. */
  readonly batch: FeatureBatch;
  /** One label per row, when known. */
  readonly labels?: Float32Array;
}

function sequenceStride(layout: FeatureLayout): number {
  return layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
}

type Column = { name: string; data: Data<DataType> };

function listColumn(name: string, element: Int32 | Float32, width: number, rows: number, values: Int32Array | Float32Array): Column {
  const child = makeData({ type: element, length: rows * width, nullCount: 0, data: values } as never) as Data<DataType>;
  const type = new FixedSizeList(width, new Field('item', element, false));
  return { name, data: makeData({ type, length: rows, nullCount: 0, child } as never) as Data<DataType> };
}

function schemaOf(layout: FeatureLayout, columns: readonly Column[]): Schema {
  return new Schema(
    columns.map((c) => new Field(c.name, c.data.type, false)),
    new Map([[ARROW_LAYOUT_KEY, JSON.stringify(layout)]]),
  );
}

function recordBatchOf(batch: FeatureBatch, labels: Float32Array | undefined): RecordBatch {
  const { layout, rows } = batch;
  if (labels !== undefined && labels.length !== rows) {
    throw new CtrkitError('E_INPUT', `arrow: ${labels.length} labels for ${rows} rows; pass one label per row`);
  }
  const S = layout.sequences.length;
  const L = sequenceStride(layout);
  const expect = (what: string, array: ArrayLike<number>, n: number) => {
    if (array.length !== n) throw new CtrkitError('E_INPUT', `arrow: batch.${what} holds ${array.length} values, expected ${n} (rows × width)`);
  };
  expect('ids', batch.ids, rows * layout.idWidth);
  expect('values', batch.values, rows * layout.idWidth);
  expect('dense', batch.dense, rows * layout.denseWidth);
  expect('sequenceIds', batch.sequenceIds, rows * S * L);
  expect('sequenceLengths', batch.sequenceLengths, rows * S);
  const columns: Column[] = [];
  if (layout.idWidth > 0) {
    columns.push(listColumn('ids', new Int32(), layout.idWidth, rows, batch.ids));
    columns.push(listColumn('values', new Float32(), layout.idWidth, rows, batch.values));
  }
  if (layout.denseWidth > 0) columns.push(listColumn('dense', new Float32(), layout.denseWidth, rows, batch.dense));
  if (S > 0) {
    columns.push(listColumn('sequence_ids', new Int32(), S * L, rows, batch.sequenceIds));
    columns.push(listColumn('sequence_lengths', new Int32(), S, rows, batch.sequenceLengths));
  }
  if (labels !== undefined) columns.push({ name: 'label', data: makeData({ type: new Float32(), length: rows, nullCount: 0, data: labels }) as Data<DataType> });
  const schema = schemaOf(layout, columns);
  const struct = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: columns.map((c) => c.data) });
  return new RecordBatch(schema, struct);
}

/**
 * Wraps a batch as an Arrow table without copying: `ids` is a `FixedSizeList<Int32>[idWidth]`
 * over `batch.ids`, likewise `values`, `dense`, `sequence_ids`, `sequence_lengths`, plus a
 * `label` column when labels are given. The layout travels in the schema metadata.
 *
 * @param batch - The batch.
 * @param labels - Optional labels, one per row.
 * @returns A one-batch table sharing the batch's memory.
 * @throws `CtrkitError` `E_INPUT` when an array's length does not match rows × width, or labels do not match rows.
 * @example
 * ```ts
 * import { batchToArrow, createFeatureEncoder } from '@ctrkit/features';
 * const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' }] });
 * const batch = encoder.encode({
 *   requestId: 'r', user: { id: 'u' }, context: { timestamp: 0 },
 *   candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }],
 * });
 * const table = batchToArrow(batch, Float32Array.of(1));
 * console.log(table.numRows, table.schema.fields.map((f) => f.name)); // 1 ['ids', 'values', 'label']
 * ```
 */
export function batchToArrow(batch: FeatureBatch, labels?: Float32Array): Table {
  return new Table([recordBatchOf(batch, labels)]);
}

/** Reads the layout a table or record batch carries in its metadata. */
function layoutOf(schema: Schema): FeatureLayout {
  const text = schema.metadata.get(ARROW_LAYOUT_KEY);
  if (text === undefined) throw new CtrkitError('E_PARSE', `arrow: the schema has no '${ARROW_LAYOUT_KEY}' metadata; this is not a ctrkit feature log`);
  let layout: FeatureLayout;
  try {
    layout = JSON.parse(text) as FeatureLayout;
  } catch (error) {
    throw new CtrkitError('E_PARSE', `arrow: '${ARROW_LAYOUT_KEY}' metadata is not valid JSON; the file is damaged`, { cause: error });
  }
  if (typeof layout !== 'object' || layout === null || typeof layout.fingerprint !== 'string' || !Number.isInteger(layout.idWidth) || !Array.isArray(layout.sequences)) {
    throw new CtrkitError('E_PARSE', `arrow: '${ARROW_LAYOUT_KEY}' metadata lacks fingerprint, idWidth or sequences; the file is damaged`);
  }
  return layout;
}

function listValues<T extends Int32Array | Float32Array>(record: RecordBatch, name: string, width: number, kind: 'int32' | 'float32', rows: number): T {
  const child = record.getChild(name);
  if (child === null) throw new CtrkitError('E_PARSE', `arrow: the record batch has no '${name}' column, which its layout needs`);
  const data = child.data[0] as Data<DataType>;
  const type = data.type as unknown as { listSize?: number; children?: { type: DataType }[] };
  if (child.data.length !== 1 || !(data.type instanceof FixedSizeList) || type.listSize !== width) {
    throw new CtrkitError('E_PARSE', `arrow: column '${name}' must be a FixedSizeList of ${width}; the file does not match its layout`);
  }
  if (data.nullCount > 0) throw new CtrkitError('E_PARSE', `arrow: column '${name}' has ${data.nullCount} null rows; feature logs have none`);
  const inner = data.children[0] as Data<DataType>;
  const values = inner.values as unknown;
  const ok = kind === 'int32' ? values instanceof Int32Array : values instanceof Float32Array;
  if (!ok) throw new CtrkitError('E_PARSE', `arrow: column '${name}' must hold ${kind} values`);
  const start = (inner.offset + data.offset * width) | 0;
  return (values as T).subarray(start, start + rows * width) as T;
}

/**
 * Views an Arrow record batch (from {@link batchToArrow} or an IPC log) as a `FeatureBatch`,
 * without copying.
 *
 * @param record - A record batch (or a one-batch table) with the layout in its metadata.
 * @param expected - The layout the caller's encoder or model uses; the fingerprints must match.
 * @returns The batch and, when the log has them, its labels.
 * @throws `CtrkitError` `E_PARSE` when the metadata or a column is missing or malformed;
 *   `E_INPUT` when the fingerprint differs from `expected`'s.
 * @example
 * ```ts
 * import { batchFromArrow, batchToArrow, allocateBatch, parseFeatureSpec } from '@ctrkit/features';
 * const spec = parseFeatureSpec({ version: 1, idSpace: 64, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * const table = batchToArrow(allocateBatch(spec.layout, 2));
 * const { batch } = batchFromArrow(table, spec.layout);
 * console.log(batch.rows); // 2
 * ```
 */
export function batchFromArrow(record: RecordBatch | Table, expected?: FeatureLayout): LabeledBatch {
  let batch: RecordBatch;
  if (record instanceof Table) {
    if (record.batches.length !== 1) throw new CtrkitError('E_INPUT', `arrow: the table has ${record.batches.length} record batches; convert them one by one (table.batches)`);
    batch = record.batches[0] as RecordBatch;
  } else batch = record;
  const layout = layoutOf(batch.schema);
  if (expected !== undefined && expected.fingerprint !== layout.fingerprint) {
    throw new CtrkitError('E_INPUT', `arrow: the log was encoded with spec ${layout.fingerprint}, but the caller expects ${expected.fingerprint}; re-encode the log with the current spec`, {
      details: { logged: layout.fingerprint, expected: expected.fingerprint },
    });
  }
  const rows = batch.numRows;
  const S = layout.sequences.length;
  const L = sequenceStride(layout);
  const ids = layout.idWidth > 0 ? listValues<Int32Array>(batch, 'ids', layout.idWidth, 'int32', rows) : new Int32Array(0);
  const values = layout.idWidth > 0 ? listValues<Float32Array>(batch, 'values', layout.idWidth, 'float32', rows) : new Float32Array(0);
  const dense = layout.denseWidth > 0 ? listValues<Float32Array>(batch, 'dense', layout.denseWidth, 'float32', rows) : new Float32Array(0);
  const sequenceIds = S > 0 ? listValues<Int32Array>(batch, 'sequence_ids', S * L, 'int32', rows) : new Int32Array(0);
  const sequenceLengths = S > 0 ? listValues<Int32Array>(batch, 'sequence_lengths', S, 'int32', rows) : new Int32Array(0);
  const label = batch.getChild('label');
  let labels: Float32Array | undefined;
  if (label !== null) {
    const data = label.data[0] as Data<DataType>;
    if (!(data.values instanceof Float32Array)) throw new CtrkitError('E_PARSE', "arrow: column 'label' must hold float32 values");
    labels = data.values.subarray(data.offset, data.offset + rows);
  }
  const out: FeatureBatch = { layout, rows, ids, values, dense, sequenceIds, sequenceLengths };
  return labels === undefined ? { batch: out } : { batch: out, labels };
}

/**
 * Writes encoded batches as one Arrow IPC file (in memory; see `@ctrkit/features/node` for a
 * streaming file writer). Every batch must share one layout.
 *
 * @param batches - The batches and their labels; either all have labels or none do.
 * @returns The IPC file's bytes.
 * @throws `CtrkitError` `E_INPUT` when the batches' layouts differ, labels are given for some
 *   batches only, or there are no batches.
 * @example
 * ```ts
 * import { allocateBatch, parseFeatureSpec, readArrowLog, writeArrowLog } from '@ctrkit/features';
 * const spec = parseFeatureSpec({ version: 1, idSpace: 64, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * const bytes = writeArrowLog([{ batch: allocateBatch(spec.layout, 3), labels: new Float32Array(3) }]);
 * for (const { batch } of readArrowLog(bytes, spec.layout)) console.log(batch.rows); // 3
 * ```
 */
export function writeArrowLog(batches: Iterable<LabeledBatch>): Uint8Array {
  const writer = new RecordBatchFileWriter();
  let first: { fingerprint: string; labeled: boolean } | undefined;
  for (const item of batches) first = writeLabeled(writer, item, first);
  if (first === undefined) throw new CtrkitError('E_INPUT', 'writeArrowLog: no batches to write');
  writer.finish();
  return writer.toUint8Array(true);
}

/**
 * @internal Appends one batch to an IPC writer, checking it matches the first one.
 */
export function writeLabeled(
  writer: RecordBatchFileWriter,
  item: LabeledBatch,
  first: { fingerprint: string; labeled: boolean } | undefined,
): { fingerprint: string; labeled: boolean } {
  const labeled = item.labels !== undefined;
  if (first !== undefined) {
    if (item.batch.layout.fingerprint !== first.fingerprint) {
      throw new CtrkitError('E_INPUT', `arrow log: a batch of spec ${item.batch.layout.fingerprint} follows batches of spec ${first.fingerprint}; one log holds one spec`);
    }
    if (labeled !== first.labeled) throw new CtrkitError('E_INPUT', 'arrow log: give labels for every batch or for none');
  }
  writer.write(recordBatchOf(item.batch, item.labels));
  return first ?? { fingerprint: item.batch.layout.fingerprint, labeled };
}

/**
 * Reads an Arrow IPC file of encoded batches (as written by {@link writeArrowLog}), one batch per
 * record batch, each a view into `bytes`.
 *
 * @param bytes - The file's bytes.
 * @param expected - The layout the caller uses; each record batch's fingerprint must match.
 * @returns The batches, lazily.
 * @throws `CtrkitError` `E_PARSE` when the bytes are not an Arrow IPC file or not a ctrkit log;
 *   `E_INPUT` on a fingerprint mismatch.
 * @example
 * ```ts
 * import { readArrowLog } from '@ctrkit/features';
 * const count = (bytes: Uint8Array) => [...readArrowLog(bytes)].reduce((n, b) => n + b.batch.rows, 0);
 * ```
 */
export function* readArrowLog(bytes: Uint8Array, expected?: FeatureLayout): Generator<LabeledBatch> {
  let reader: RecordBatchFileReader | RecordBatchStreamReader;
  try {
    reader = RecordBatchReader.from(bytes) as RecordBatchFileReader | RecordBatchStreamReader;
    reader.open();
  } catch (error) {
    throw new CtrkitError('E_PARSE', `readArrowLog: not an Arrow IPC file (${(error as Error).message})`, { cause: error });
  }
  if (reader.schema === undefined || reader.schema === null) throw new CtrkitError('E_PARSE', 'readArrowLog: not an Arrow IPC file (no schema)');
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = reader.next();
    } catch (error) {
      throw new CtrkitError('E_PARSE', `readArrowLog: the file is damaged (${(error as Error).message})`, { cause: error });
    }
    if (next.done) return;
    yield batchFromArrow(next.value, expected);
  }
}
