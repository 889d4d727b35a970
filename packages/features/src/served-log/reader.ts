/**
 * Reading a served-row log back: the closed files of its directory, oldest first, batch by batch
 * with the served columns beside the encoded ones, and as served rows for the label joiner.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { CtrkitError, servedRowOf, type FeatureLayout, type ServedRow } from '@ctrkit/core';
import { ioError, readArrowRecords } from '../arrow-file.js';
import { batchFromArrow, type LabeledBatch } from '../arrow.js';
import { SERVED_LOG_KEY } from './buffer.js';

/** One record batch of a served-row log, with its served columns.
 *
 * @example
 * ```ts
 * import type { ServedLogBatch } from '@ctrkit/features/node';
 * const ads = (b: ServedLogBatch) => b.adIds;
 * ```
 */
export interface ServedLogBatch extends LabeledBatch {
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
    for await (const record of readArrowRecords(file, 'served log')) {
      if (record.schema.metadata.get(SERVED_LOG_KEY) !== '1') throw new CtrkitError('E_PARSE', `'${file}' is a ctrkit Arrow log but not a served-row log (no '${SERVED_LOG_KEY}' metadata)`);
      const labeled = batchFromArrow(record, expected);
      yield {
        ...labeled,
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
