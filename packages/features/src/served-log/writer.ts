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
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatchFileWriter } from 'apache-arrow';
import { CtrkitError, checkServedRow, systemClock, type Clock, type FeatureLayout, type ServedLog, type ServedLogStats } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';
import { ioError } from '../arrow-file.js';
import { OpenBuffer, recordBatches, sequenceStride } from './buffer.js';

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
  readonly labeled?: boolean;
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
 * @param options - Directory, layout, roll sizes, labeled, clock.
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
    labeled = false,
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
        for (const record of recordBatches(layout, full, labeled, batchRows)) writer.write(record);
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
      if (labeled ? label !== 0 && label !== 1 : label !== undefined) {
        throw new CtrkitError(
          'E_INPUT',
          labeled
            ? `served row '${row.eventId}': this log is labeled; pass a label of 0 or 1, got ${label}`
            : `served row '${row.eventId}': this log holds unlabeled rows; create it with labeled: true to log labels`,
        );
      }
      const b = buffer;
      if (b.rows === 0) b.openedAt = clock.now();
      b.ids.push(row.ids);
      b.values.push(row.values);
      b.dense.push(row.dense);
      b.sequenceIds.push(row.sequenceIds);
      b.sequenceLengths.push(row.sequenceLengths);
      if (labeled) b.labels.pushOne(label as number);
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
