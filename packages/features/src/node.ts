/**
 * `@ctrkit/features/node` — file helpers for Node: open a log file for the readers (with its size
 * for progress), and write or read Arrow IPC files of encoded training logs without holding them
 * in memory.
 *
 * @packageDocumentation
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { RecordBatchFileWriter } from 'apache-arrow';
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { ioError, readArrowRecords } from './arrow-file.js';
import { batchFromArrow, writeLabeled, type LabeledBatch } from './arrow.js';

/** A file opened for a reader: its byte stream and size.
 *
 * @example
 * ```ts
 * import type { LogFile } from '@ctrkit/features/node';
 * const describe = (file: LogFile) => `${file.path}: ${file.totalBytes} bytes`;
 * ```
 */
export interface LogFile {
  /** The path given. */
  readonly path: string;
  /** The file's bytes, streamed in 1 MiB pieces. */
  readonly source: AsyncIterable<Uint8Array>;
  /** Its size, for `ReaderOptions.totalBytes`. */
  readonly totalBytes: number;
}

/**
 * Opens a log file for `readCriteo`, `readCsv` or `readLibsvm`.
 *
 * @param path - The file.
 * @returns Its stream and size (pass `totalBytes` to the reader for progress fractions).
 * @throws `CtrkitError` `E_IO` when the file does not exist or cannot be read.
 * @example
 * ```ts
 * import { readCriteo } from '@ctrkit/features';
 * import { openLogFile } from '@ctrkit/features/node';
 * async function rows(path: string) {
 *   const file = openLogFile(path);
 *   const reader = readCriteo(file.source, { totalBytes: file.totalBytes });
 *   for await (const chunk of reader) void chunk;
 *   return reader.stats.rows;
 * }
 * ```
 */
export function openLogFile(path: string): LogFile {
  let totalBytes: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    totalBytes = stat.size;
  } catch (error) {
    throw ioError('cannot open log', path, error);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const source: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const piece of stream) yield piece as Uint8Array;
      } catch (error) {
        throw ioError('cannot read log', path, error);
      }
    },
  };
  return { path, source, totalBytes };
}

/** What an Arrow log writer has written.
 *
 * @example
 * ```ts
 * import type { ArrowLogSummary } from '@ctrkit/features/node';
 * const print = (s: ArrowLogSummary) => console.log(`${s.rows} rows in ${s.batches} batches`);
 * ```
 */
export interface ArrowLogSummary {
  /** Rows written. */
  readonly rows: number;
  /** Record batches written. */
  readonly batches: number;
  /** The file's size. */
  readonly bytes: number;
}

/** Appends encoded batches to an Arrow IPC file.
 *
 * @example
 * ```ts
 * import type { ArrowLogWriter, } from '@ctrkit/features/node';
 * import type { LabeledBatch } from '@ctrkit/features';
 * async function save(writer: ArrowLogWriter, items: LabeledBatch[]) {
 *   for (const item of items) writer.write(item);
 *   return writer.close();
 * }
 * ```
 */
export interface ArrowLogWriter {
  /** Appends one batch (its memory is serialized before this returns, so it may be reused). */
  write(item: LabeledBatch): void;
  /** Finishes the file (footer) and closes it. */
  close(): Promise<ArrowLogSummary>;
}

/**
 * Creates an Arrow IPC file writer for encoded batches; every batch must share one spec.
 *
 * @param path - The file to create (overwritten if it exists).
 * @returns The writer.
 * @throws `CtrkitError` `E_INPUT` (from `write`) on a batch of another spec or inconsistent labels;
 *   `E_IO` (from `close`) when the file cannot be written.
 * @example
 * ```ts
 * import { createFeatureEncoder, criteoSpec, readCriteo } from '@ctrkit/features';
 * import { createArrowLogWriter, openLogFile } from '@ctrkit/features/node';
 * async function encodeLog(input: string, output: string) {
 *   const encoder = createFeatureEncoder(criteoSpec());
 *   const writer = createArrowLogWriter(output);
 *   for await (const chunk of readCriteo(openLogFile(input).source)) writer.write({ batch: encoder.encodeChunk(chunk), labels: chunk.labels });
 *   return writer.close();
 * }
 * ```
 */
export function createArrowLogWriter(path: string): ArrowLogWriter {
  const writer = new RecordBatchFileWriter();
  const sink = createWriteStream(path);
  const done = pipeline(writer.toNodeStream(), sink).catch((error: unknown) => {
    throw ioError('cannot write Arrow log', path, error);
  });
  // Keep an early failure (bad directory) from surfacing as an unhandled rejection before close().
  done.catch(() => undefined);
  let first: { fingerprint: string; labeled: boolean } | undefined;
  let rows = 0;
  let batches = 0;
  let closed = false;
  return {
    write(item) {
      if (closed) throw new CtrkitError('E_STATE', `Arrow log '${path}' is closed; create another writer`);
      first = writeLabeled(writer, item, first);
      rows += item.batch.rows;
      batches++;
    },
    async close() {
      if (closed) throw new CtrkitError('E_STATE', `Arrow log '${path}' is already closed`);
      closed = true;
      writer.finish();
      await done;
      return { rows, batches, bytes: statSync(path).size };
    },
  };
}

/**
 * Reads an Arrow IPC log file batch by batch (random access, so memory stays at one batch).
 *
 * @param path - The file.
 * @param expected - The layout the caller uses; each batch's fingerprint must match.
 * @returns The batches, lazily.
 * @throws `CtrkitError` `E_IO` when the file cannot be opened; `E_PARSE` when it is not a ctrkit
 *   Arrow log; `E_INPUT` on a fingerprint mismatch.
 * @example
 * ```ts
 * import { readArrowLogFile } from '@ctrkit/features/node';
 * async function countRows(path: string) {
 *   let rows = 0;
 *   for await (const { batch } of readArrowLogFile(path)) rows += batch.rows;
 *   return rows;
 * }
 * ```
 */
export async function* readArrowLogFile(path: string, expected?: FeatureLayout): AsyncGenerator<LabeledBatch> {
  for await (const record of readArrowRecords(path, 'Arrow log')) yield batchFromArrow(record, expected);
}
export { SERVED_LOG_KEY } from './served-log/buffer.js';
export { createArrowServedLog } from './served-log/writer.js';
export type { ArrowServedLog, ArrowServedLogOptions } from './served-log/writer.js';
export { listServedLogFiles, readServedLog, servedRowsOfBatch } from './served-log/reader.js';
export type { ServedLogBatch } from './served-log/reader.js';
