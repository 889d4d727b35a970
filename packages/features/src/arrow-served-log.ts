/**
 * A served-row log kept as rolling Apache Arrow IPC files (Node only: it writes files).
 *
 * Each file is a ctrkit Arrow log (the `ids`, `values`, `dense`, `sequence_ids`,
 * `sequence_lengths` and optional `label` columns that `readArrowLogFile` and `batchFromArrow`
 * read, with the layout in the schema metadata) plus the served columns: `event_id`, `request_id`,
 * `imp_id`, `ad_id`, `model_version` (Utf8), `position` (Int32), `p_ctr` and `served_at`
 * (Float64). Offline training therefore reads the very bits that were scored.
 *
 * Durability: rows are held in an open buffer (struct-of-arrays, growing by doubling) until it
 * rolls — when it reaches `maxFileBytes`, when its first row is `maxFileAgeMs` old, or on
 * `flush` / `close`. A roll writes the whole file under a hidden temporary name
 * (`.<name>.tmp`), fsyncs it, renames it to `<prefix>-<time>-<pid>-<seq>.arrow` and fsyncs the
 * directory. Rename is atomic, so every `.arrow` file is complete and readable; a process killed
 * at any moment (SIGKILL included) loses at most its open buffer and the file it was writing
 * (left behind as a hidden `.tmp` that readers skip), never a closed file.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Struct,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';
import {
  CtrkitError,
  checkServedRow,
  servedRowOf,
  systemClock,
  type Clock,
  type FeatureLayout,
  type ServedLog,
  type ServedLogStats,
  type ServedRow,
} from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { ARROW_LAYOUT_KEY, batchFromArrow, type LabelledBatch } from './arrow.js';

/** Schema metadata key marking a served-row log file (value `'1'`).
 *
 * @example
 * ```ts
 * import { SERVED_LOG_KEY } from '@ctrkit/features/node';
 * console.log(SERVED_LOG_KEY); // ctrkit.served
 * ```
 */
export const SERVED_LOG_KEY = 'ctrkit.served';

/** Options for {@link createArrowServedLog}.
 *
 * @example
 * ```ts
 * import type { ArrowServedLogOptions } from '@ctrkit/features/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * const options = (layout: FeatureLayout): ArrowServedLogOptions => ({ dir: '/var/log/ctrkit/served', layout, maxFileAgeMs: 60_000 });
 * ```
 */
export interface ArrowServedLogOptions {
  /** The directory the files go to (created if absent). */
  readonly dir: string;
  /** The layout every row follows. */
  readonly layout: FeatureLayout;
  /** File name prefix (default `served`); letters, digits, `_` and `-`. */
  readonly prefix?: string;
  /** Roll when the open buffer holds about this many bytes (default 16 MiB). */
  readonly maxFileBytes?: number;
  /** Roll when the open buffer's first row is this old, by `clock` (default 60,000 ms). */
  readonly maxFileAgeMs?: number;
  /** Rows per Arrow record batch inside a file (default 8,192). */
  readonly batchRows?: number;
  /** Whether every row carries a label (joined rows; default false). */
  readonly labelled?: boolean;
  /** The time source for `maxFileAgeMs` and file names (default the system clock). */
  readonly clock?: Clock;
  /**
   * How often a timer checks the age rule when no rows arrive (default 1,000 ms; 0 turns the
   * timer off, leaving the check to `append` and `flush`). The timer never keeps the process alive.
   */
  readonly checkIntervalMs?: number;
  /** Whether to fsync each file and the directory before counting it closed (default true). */
  readonly fsync?: boolean;
  /**
   * Closed buffers waiting for the disk at most (default 4). When the disk falls this far behind,
   * a further roll drops its rows (counted in `dropped`) rather than let memory grow without bound.
   */
  readonly maxQueuedFiles?: number;
}

/** An Arrow served-row log: a {@link ServedLog} writing rolling files.
 *
 * @example
 * ```ts
 * import type { ArrowServedLog } from '@ctrkit/features/node';
 * const where = (log: ArrowServedLog) => log.dir;
 * ```
 */
export interface ArrowServedLog extends ServedLog {
  /** The directory written to. */
  readonly dir: string;
  /** Rows in the open buffer (lost if the process dies now). */
  readonly buffered: number;
  /** Closed buffers not yet written (their rows are lost too if the process dies now). */
  readonly queuedFiles: number;
}

const I32 = new Int32();
const F32 = new Float32();

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

/** The open buffer: one struct-of-arrays for the rows since the last roll. */
class OpenBuffer {
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

function sequenceStride(layout: FeatureLayout): number {
  return layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
}

function recordBatches(layout: FeatureLayout, b: OpenBuffer, labelled: boolean, batchRows: number): RecordBatch[] {
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
    if (labelled) columns.push({ name: 'label', data: makeData({ type: F32, length: n, nullCount: 0, data: b.labels.view(start, end) }) as Data<DataType> });
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

function ioError(what: string, file: string, error: unknown): CtrkitError {
  return new CtrkitError('E_IO', `${what} '${file}': ${(error as Error).message}`, { cause: error, details: { path: file } });
}

async function writeDurably(dir: string, name: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const temp = path.join(dir, `.${name}.tmp`);
  const final = path.join(dir, name);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, final);
    if (fsync) {
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw ioError('served log: cannot write', final, error);
  }
}

/**
 * Creates a served-row log writing rolling Arrow IPC files into `dir`.
 *
 * @param options - Directory, layout, roll sizes, labelled, clock.
 * @returns The log. `append` is synchronous (it copies the row into the open buffer); files are
 *   written in the background, in order; `flush` rolls the open buffer and waits for every file.
 * @throws `CtrkitError` `E_CONFIG` when an option is out of range or the directory cannot be
 *   created; from `append`, `E_INPUT` for a row that does not follow the layout (nothing is
 *   buffered) and `E_STATE` after `close`; from `flush` / `close`, `E_IO` when a file could not be
 *   written since the last flush (its rows are counted in `failedRows`).
 * @remarks Crash safety: a killed process leaves only complete `.arrow` files (temp name, fsync,
 *   atomic rename, directory fsync) and loses at most the open buffer — at most `maxFileBytes` of
 *   rows, or `maxFileAgeMs` of traffic — plus the files queued for the disk (at most
 *   `maxQueuedFiles`; beyond, rows are dropped and counted, so memory stays bounded). `append`
 *   allocates nothing while the buffer has room (it doubles when full).
 * @example
 * ```ts
 * import { createFeatureEncoder } from '@ctrkit/features';
 * import { createArrowServedLog } from '@ctrkit/features/node';
 * const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' }] });
 * const log = createArrowServedLog({ dir: '/tmp/ctrkit-served', layout: encoder.layout, maxFileAgeMs: 30_000 });
 * void log.close();
 * ```
 */
export function createArrowServedLog(options: ArrowServedLogOptions): ArrowServedLog {
  const {
    dir,
    layout,
    prefix = 'served',
    maxFileBytes = 16 << 20,
    maxFileAgeMs = 60_000,
    batchRows = 8192,
    labelled = false,
    clock = systemClock,
    checkIntervalMs = 1_000,
    fsync = true,
    maxQueuedFiles = 4,
  } = options;
  ensure(typeof dir === 'string' && dir !== '', 'E_CONFIG', () => 'arrow served log: dir must be a non-empty path');
  ensure(/^[A-Za-z0-9_-]+$/.test(prefix), 'E_CONFIG', () => `arrow served log: prefix '${prefix}' may hold only letters, digits, '_' and '-'`);
  ensure(Number.isFinite(maxFileBytes) && maxFileBytes >= 1024, 'E_CONFIG', () => `arrow served log: maxFileBytes must be ≥ 1024, got ${maxFileBytes}`);
  ensure(Number.isFinite(maxFileAgeMs) && maxFileAgeMs > 0, 'E_CONFIG', () => `arrow served log: maxFileAgeMs must be > 0, got ${maxFileAgeMs}`);
  ensure(Number.isInteger(batchRows) && batchRows > 0, 'E_CONFIG', () => `arrow served log: batchRows must be a positive integer, got ${batchRows}`);
  ensure(Number.isInteger(maxQueuedFiles) && maxQueuedFiles > 0, 'E_CONFIG', () => `arrow served log: maxQueuedFiles must be a positive integer, got ${maxQueuedFiles}`);
  ensure(Number.isFinite(checkIntervalMs) && checkIntervalMs >= 0, 'E_CONFIG', () => `arrow served log: checkIntervalMs must be ≥ 0, got ${checkIntervalMs}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new CtrkitError('E_CONFIG', `arrow served log: cannot create '${dir}': ${(error as Error).message}`, { cause: error });
  }
  // Fixed bytes a row takes in the file: the typed columns plus position, p_ctr, served_at, label
  // and five string offsets; string bytes are added per row.
  const S = layout.sequences.length;
  const fixedRowBytes = 4 * (2 * layout.idWidth + layout.denseWidth + S * sequenceStride(layout) + S) + 4 + 8 + 8 + 4 + 20;
  // Unique per process and log, so several processes (and logs) can share one directory.
  const tag = `${process.pid}-${randomUUID().slice(0, 8)}`;
  let buffer = new OpenBuffer();
  let seq = 0;
  let closed = false;
  let appended = 0;
  let persisted = 0;
  let dropped = 0;
  let queued = 0;
  let failedRows = 0;
  let files = 0;
  let bytes = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: CtrkitError | undefined;

  const roll = () => {
    if (buffer.rows === 0) return;
    const full = buffer;
    buffer = new OpenBuffer();
    if (queued >= maxQueuedFiles) {
      dropped += full.rows;
      return;
    }
    queued++;
    const name = `${prefix}-${String(Math.floor(full.openedAt)).padStart(15, '0')}-${tag}-${String(seq++).padStart(6, '0')}.arrow`;
    chain = chain.then(async () => {
      try {
        const writer = new RecordBatchFileWriter();
        for (const record of recordBatches(layout, full, labelled, batchRows)) writer.write(record);
        writer.finish();
        const data = writer.toUint8Array(true);
        await writeDurably(dir, name, data, fsync);
        files++;
        bytes += data.byteLength;
        persisted += full.rows;
      } catch (error) {
        failedRows += full.rows;
        failure ??= error instanceof CtrkitError ? error : ioError('served log: cannot write', path.join(dir, name), error);
      } finally {
        queued--;
      }
    });
  };
  const rollIfDue = () => {
    if (buffer.rows > 0 && (buffer.bytes >= maxFileBytes || clock.now() - buffer.openedAt >= maxFileAgeMs)) roll();
  };
  const timer = checkIntervalMs > 0 ? setInterval(rollIfDue, checkIntervalMs) : undefined;
  timer?.unref?.();

  const settle = async () => {
    roll();
    await chain;
    if (failure !== undefined) {
      const error = failure;
      failure = undefined;
      throw error;
    }
  };

  return {
    dir,
    layout,
    get buffered() {
      return buffer.rows;
    },
    get queuedFiles() {
      return queued;
    },
    append(row, label) {
      if (closed) throw new CtrkitError('E_STATE', `arrow served log '${dir}' is closed; create another`);
      checkServedRow(layout, row);
      if (labelled ? label !== 0 && label !== 1 : label !== undefined) {
        throw new CtrkitError(
          'E_INPUT',
          labelled
            ? `served row '${row.eventId}': this log is labelled; pass a label of 0 or 1, got ${label}`
            : `served row '${row.eventId}': this log holds unlabelled rows; create it with labelled: true to log labels`,
        );
      }
      const b = buffer;
      if (b.rows === 0) b.openedAt = clock.now();
      b.ids.push(row.ids);
      b.values.push(row.values);
      b.dense.push(row.dense);
      b.sequenceIds.push(row.sequenceIds);
      b.sequenceLengths.push(row.sequenceLengths);
      if (labelled) b.labels.pushOne(label as number);
      b.position.pushOne(row.position);
      b.pCtr.pushOne(row.pCtr);
      b.servedAt.pushOne(row.servedAt);
      b.eventId.push(row.eventId);
      b.requestId.push(row.requestId);
      b.impId.push(row.impId);
      b.adId.push(row.adId);
      b.modelVersion.push(row.modelVersion);
      b.rows++;
      b.bytes += fixedRowBytes + row.eventId.length + row.requestId.length + row.impId.length + row.adId.length + row.modelVersion.length;
      appended++;
      rollIfDue();
    },
    flush: settle,
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await settle();
    },
    stats(): ServedLogStats {
      return { appended, dropped, persisted, failedRows, files, bytes };
    },
  };
}

/** One record batch of a served-row log, with its served columns.
 *
 * @example
 * ```ts
 * import type { ServedLogBatch } from '@ctrkit/features/node';
 * const ads = (b: ServedLogBatch) => b.adIds;
 * ```
 */
export interface ServedLogBatch extends LabelledBatch {
  /** The file it came from. */
  readonly file: string;
  /** Impression event ids, one per row. */
  readonly eventIds: readonly string[];
  /** Request ids. */
  readonly requestIds: readonly string[];
  /** Slot ids. */
  readonly impIds: readonly string[];
  /** Ad ids. */
  readonly adIds: readonly string[];
  /** Model versions. */
  readonly modelVersions: readonly string[];
  /** Positions. */
  readonly positions: Int32Array;
  /** Served pCTRs. */
  readonly pCtrs: Float64Array;
  /** Serving times, ms since the epoch. */
  readonly servedAt: Float64Array;
}

/**
 * The closed files of a served-row log directory, oldest first (by the time in their names),
 * leaving out hidden temporary files.
 *
 * @param dir - The directory.
 * @param prefix - Only files of this prefix (default every `*.arrow` file).
 * @returns Absolute paths.
 * @throws `CtrkitError` `E_IO` when the directory cannot be read.
 * @example
 * ```ts
 * import { listServedLogFiles } from '@ctrkit/features/node';
 * async function count(dir: string) { return (await listServedLogFiles(dir)).length; }
 * ```
 */
export async function listServedLogFiles(dir: string, prefix?: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw ioError('served log: cannot read directory', dir, error);
  }
  return names
    .filter((n) => !n.startsWith('.') && n.endsWith('.arrow') && (prefix === undefined || n.startsWith(`${prefix}-`)))
    .sort()
    .map((n) => path.join(dir, n));
}

function strings(record: RecordBatch, name: string, file: string): string[] {
  const column = record.getChild(name);
  if (column === null) throw new CtrkitError('E_PARSE', `served log '${file}': no '${name}' column; this is not a served-row log`);
  return column.toArray() as string[];
}

function numbers<T extends Int32Array | Float64Array>(record: RecordBatch, name: string, ctor: { new (n: number): T; name: string }, file: string): T {
  const column = record.getChild(name);
  const values = column?.data.length === 1 ? (column.data[0] as Data<DataType>).values : undefined;
  if (column === null || !(values instanceof (ctor as unknown as typeof Int32Array))) {
    throw new CtrkitError('E_PARSE', `served log '${file}': column '${name}' must hold ${ctor.name} values`);
  }
  const data = column.data[0] as Data<DataType>;
  return (values as T).subarray(data.offset, data.offset + record.numRows) as T;
}

async function* readArrowRecordBatches(file: string): AsyncGenerator<RecordBatch> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw ioError('served log: cannot open', file, error);
  }
  try {
    let reader: AsyncIterable<RecordBatch> & { open(): Promise<unknown> };
    try {
      reader = (await RecordBatchReader.from(handle)) as unknown as typeof reader;
      await reader.open();
    } catch (error) {
      throw new CtrkitError('E_PARSE', `'${file}' is not an Arrow IPC file (${(error as Error).message})`, { cause: error });
    }
    const iterator = reader[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw new CtrkitError('E_PARSE', `served log '${file}' is damaged (${(error as Error).message})`, { cause: error });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads every closed file of a served-row log directory, batch by batch (one record batch in
 * memory at a time), oldest file first.
 *
 * @param dir - The directory a {@link createArrowServedLog} wrote.
 * @param expected - The layout the caller uses; each batch's fingerprint must match.
 * @returns The batches with their served columns, lazily.
 * @throws `CtrkitError` `E_IO` when the directory or a file cannot be read; `E_PARSE` when a
 *   file is not a served-row log; `E_INPUT` on a fingerprint mismatch.
 * @example
 * ```ts
 * import { readServedLog } from '@ctrkit/features/node';
 * async function rows(dir: string) {
 *   let n = 0;
 *   for await (const b of readServedLog(dir)) n += b.batch.rows;
 *   return n;
 * }
 * ```
 */
export async function* readServedLog(dir: string, expected?: FeatureLayout): AsyncGenerator<ServedLogBatch> {
  for (const file of await listServedLogFiles(dir)) {
    for await (const record of readArrowRecordBatches(file)) {
      if (record.schema.metadata.get(SERVED_LOG_KEY) !== '1') throw new CtrkitError('E_PARSE', `'${file}' is a ctrkit Arrow log but not a served-row log (no '${SERVED_LOG_KEY}' metadata)`);
      const labelled = batchFromArrow(record, expected);
      yield {
        ...labelled,
        file,
        eventIds: strings(record, 'event_id', file),
        requestIds: strings(record, 'request_id', file),
        impIds: strings(record, 'imp_id', file),
        adIds: strings(record, 'ad_id', file),
        modelVersions: strings(record, 'model_version', file),
        positions: numbers(record, 'position', Int32Array, file),
        pCtrs: numbers(record, 'p_ctr', Float64Array, file),
        servedAt: numbers(record, 'served_at', Float64Array, file),
      };
    }
  }
}

/**
 * The rows of a served-log batch as {@link ServedRow}s (copies), for the label joiner or a trainer.
 *
 * @param item - A batch from {@link readServedLog}.
 * @returns One served row per batch row.
 * @remarks Allocates one row's arrays per row; training on whole batches needs none of this.
 * @example
 * ```ts
 * import { readServedLog, servedRowsOfBatch } from '@ctrkit/features/node';
 * async function firstRow(dir: string) {
 *   for await (const b of readServedLog(dir)) return servedRowsOfBatch(b)[0];
 *   return undefined;
 * }
 * ```
 */
export function servedRowsOfBatch(item: ServedLogBatch): ServedRow[] {
  const out: ServedRow[] = [];
  for (let r = 0; r < item.batch.rows; r++) {
    out.push(
      servedRowOf(item.batch, r, {
        eventId: item.eventIds[r] as string,
        requestId: item.requestIds[r] as string,
        impId: item.impIds[r] as string,
        adId: item.adIds[r] as string,
        modelVersion: item.modelVersions[r] as string,
        position: item.positions[r] as number,
        pCtr: item.pCtrs[r] as number,
        servedAt: item.servedAt[r] as number,
      }),
    );
  }
  return out;
}
