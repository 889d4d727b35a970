/**
 * The learner's labeled output, exactly once across restarts.
 *
 * The stream joiner acks a row's deliveries only after its label is durable, so a learner killed
 * between a flush and its acks leaves rows that are on disk *and* come back from the stream. The
 * joiner's own duplicate memory died with the process; this log's does not: at start the learner
 * reads every event id in `<dir>/labeled` (the last `horizonMs` of labeled files, where every
 * row that may still be redelivered lies) and {@link createLabeledOutput} drops a row whose id is
 * among them (counted), acking its deliveries as usual. Files older than the horizon move to
 * `<dir>/archive` once the running learner has outlived the horizon itself — by then every row an
 * earlier run left unacked has been redelivered, labeled and acked — so the start-up read stays
 * bounded by the horizon, whatever the log's age. Both folders are served-row logs
 * (`readServedLog`) for offline training.
 *
 * Once a flush is durable, its rows go on to the trainer with the click time of each positive,
 * taken from the click delivery that decided it (the joiner labels synchronously inside it).
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { CtrkitError, type ClickEvent, type EventStream, type FeatureLayout, type ServedLog, type ServedLogStats, type ServedRow } from '@ctrkit/core';
import { createArrowServedLog, listServedLogFiles, readServedLog, type ArrowServedLog } from '@ctrkit/features/node';
import type { RefresherRows } from '@ctrkit/models';

/** File name prefix of the labeled log. */
export const LABELED_PREFIX = 'labeled';
/** `labeled-<15-digit ms>-<pid>-<tag>-<seq>.arrow`: the time the file's first row was appended. */
const FILE_TIME = new RegExp(`^${LABELED_PREFIX}-([0-9]{15})-`);

/** A labeled row made durable, for the trainer. */
export interface DurableRow {
  readonly row: ServedRow;
  readonly label: 0 | 1;
  /** The click's own timestamp for a positive, NaN otherwise. */
  readonly clickedAt: number;
}

/** What a start-up read found. */
export interface Recovery {
  /** Every row id in the active folder (a redelivered row among them is dropped). */
  readonly ids: Set<string>;
  /** The newest rows (at most `replayRows`), oldest first, as batches for the refresher. */
  readonly replay: readonly RefresherRows[];
  readonly replayRows: number;
  readonly files: number;
}

/**
 * Reads the active folder: the ids to dedup against and the rows to replay.
 *
 * @param dir - `<LEARNER_DIR>/labeled`.
 * @param layout - The layout the rows must follow.
 * @param replayRows - Rows to keep for replay, at most.
 * @returns What it found (empty when the folder is new).
 * @throws `CtrkitError` `E_PARSE` / `E_INPUT` on a damaged file or one of another spec.
 */
export async function recoverLabeledLog(dir: string, layout: FeatureLayout, replayRows: number): Promise<Recovery> {
  await mkdir(dir, { recursive: true });
  const ids = new Set<string>();
  const kept: RefresherRows[] = [];
  let keptRows = 0;
  for await (const item of readServedLog(dir, layout)) {
    for (const id of item.eventIds) ids.add(id);
    if (item.labels === undefined) throw new CtrkitError('E_PARSE', `labeled log '${item.file}' has no label column`);
    kept.push({ batch: item.batch, labels: item.labels });
    keptRows += item.batch.rows;
    // Whole record batches are kept; the oldest go once the rest cover replayRows.
    while (kept.length > 0 && keptRows - (kept[0] as RefresherRows).batch.rows >= replayRows) keptRows -= (kept.shift() as RefresherRows).batch.rows;
  }
  if (replayRows === 0) {
    kept.length = 0;
    keptRows = 0;
  }
  return { ids, replay: kept, replayRows: keptRows, files: (await listServedLogFiles(dir, LABELED_PREFIX)).length };
}

/**
 * Moves labeled files whose first row is older than `before` into the archive folder.
 *
 * @param dir - The active folder.
 * @param archiveDir - The archive folder (created when absent).
 * @param before - ms since the epoch.
 * @returns How many files moved.
 */
export async function archiveLabeledFiles(dir: string, archiveDir: string, before: number): Promise<number> {
  let moved = 0;
  for (const file of await listServedLogFiles(dir, LABELED_PREFIX)) {
    const match = FILE_TIME.exec(path.basename(file));
    if (match === null || Number(match[1]) >= before) continue;
    if (moved === 0) await mkdir(archiveDir, { recursive: true });
    await rename(file, path.join(archiveDir, path.basename(file)));
    moved++;
  }
  return moved;
}

/** The output log the stream joiner writes to. */
export interface LabeledOutput extends ServedLog {
  /** Rows dropped because an earlier run had made them durable. */
  readonly redelivered: number;
  /** The Arrow log underneath. */
  readonly log: ArrowServedLog;
}

/** What {@link createLabeledOutput} needs. */
export interface LabeledOutputOptions {
  readonly dir: string;
  readonly layout: FeatureLayout;
  /** Ids made durable by earlier runs (from {@link recoverLabeledLog}). */
  readonly durableIds: ReadonlySet<string>;
  /** The click being handled now, if any (see {@link watchDeliveries}). */
  readonly currentClick: () => ClickEvent | undefined;
  /** Receives each flush's rows once they are durable. */
  readonly onDurable: (rows: readonly DurableRow[]) => void;
  /** Called when a flush fails: the learner must stop, or the joiner would ack what was never written. */
  readonly onFailure: (error: unknown) => void;
  /** Tests only: SIGKILL this process right after the n-th non-empty durable flush, before its acks. */
  readonly killAfterFlush?: number;
}

/**
 * Creates the output: an Arrow served log (labeled) behind the restart dedup.
 *
 * @param options - Folder, layout, durable ids, click source, sinks.
 * @returns The output.
 */
export function createLabeledOutput(options: LabeledOutputOptions): LabeledOutput {
  const { layout, durableIds, currentClick, onDurable, onFailure } = options;
  // Rolled by the joiner's flushes; no timer of its own.
  const log = createArrowServedLog({ dir: options.dir, layout, labeled: true, prefix: LABELED_PREFIX, checkIntervalMs: 0, maxFileAgeMs: 3_600_000 });
  let pending: DurableRow[] = [];
  let redelivered = 0;
  let flushes = 0;
  return {
    layout,
    log,
    get redelivered() {
      return redelivered;
    },
    append(row, label) {
      if (durableIds.has(row.eventId)) {
        redelivered++;
        return;
      }
      log.append(row, label);
      let clickedAt = Number.NaN;
      if (label === 1) {
        const click = currentClick();
        if (click !== undefined && click.requestId === row.requestId && click.adId === row.adId) clickedAt = click.timestamp;
      }
      pending.push({ row, label: label as 0 | 1, clickedAt });
    },
    async flush() {
      const batch = pending;
      pending = [];
      try {
        await log.flush();
      } catch (error) {
        onFailure(error);
        throw error;
      }
      if (batch.length === 0) return;
      if (options.killAfterFlush !== undefined && ++flushes === options.killAfterFlush) process.kill(process.pid, 'SIGKILL');
      onDurable(batch);
    },
    close: () => log.close(),
    stats: (): ServedLogStats => log.stats(),
  };
}

/**
 * Wraps a stream so that, while a click delivery is being handled, {@link createLabeledOutput}
 * can see the click (the joiner labels its row synchronously inside the handler), so that each
 * served row's time is seen before the joiner sees the row (the event-time clock), and so that
 * deliveries are counted.
 *
 * @param stream - The event stream.
 * @param onServed - Called with each served row's `servedAt`, before the joiner gets it.
 * @returns The wrapped stream, the current click and the delivery count.
 */
export function watchDeliveries(stream: EventStream, onServed: (servedAt: number) => void): { stream: EventStream; currentClick: () => ClickEvent | undefined; deliveries: () => number } {
  let current: ClickEvent | undefined;
  let deliveries = 0;
  return {
    currentClick: () => current,
    deliveries: () => deliveries,
    stream: {
      publish: (event) => stream.publish(event),
      close: () => stream.close(),
      subscribe: (subscribe) =>
        stream.subscribe({
          ...subscribe,
          handler(delivery) {
            deliveries++;
            const event = delivery.event;
            current = event.topic === 'click' ? event.event : undefined;
            if (event.topic === 'served') onServed(event.row.servedAt);
            try {
              return subscribe.handler(delivery);
            } finally {
              current = undefined;
            }
          },
        }),
    },
  };
}
