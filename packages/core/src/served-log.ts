/**
 * The served-row log: every ad shown, as the model saw it, kept so that offline training and the
 * label joiner read the same bits that were served. Implementations: in memory (bounded, for tests
 * and demos: {@link createMemoryServedLog}) and rolling Apache Arrow IPC files
 * (`createArrowServedLog` in `@ctrkit/features/node`).
 */
import type { FeatureLayout } from './stages.js';
import type { ServedRow } from './served-row.js';

/** What a served-row log has done since it was created.
 *
 * @example
 * ```ts
 * import type { ServedLogStats } from '@ctrkit/core';
 * const lost = (s: ServedLogStats) => s.dropped + s.failedRows;
 * ```
 */
export interface ServedLogStats {
  /** Rows accepted by `append`. */
  readonly appended: number;
  /** Rows accepted but then evicted to respect a bound (memory log), never written. */
  readonly dropped: number;
  /** Rows that reached durable storage (closed files); for the memory log, the rows it holds. */
  readonly persisted: number;
  /** Rows lost because writing their file failed. */
  readonly failedRows: number;
  /** Files closed (renamed to their final name); 0 for the memory log. */
  readonly files: number;
  /** Bytes in closed files; 0 for the memory log. */
  readonly bytes: number;
}

/**
 * Where served rows go. `append` is synchronous and cheap, so serving never waits on a disk;
 * durability comes from `flush` and `close`, or from the implementation's own roll policy.
 *
 * @example
 * ```ts
 * import { createMemoryServedLog, type ServedLog, type ServedRow } from '@ctrkit/core';
 * async function keep(log: ServedLog, rows: ServedRow[]) {
 *   for (const row of rows) log.append(row);
 *   await log.flush();
 * }
 * ```
 */
export interface ServedLog {
  /** The layout every row must follow (one log holds one spec). */
  readonly layout: FeatureLayout;
  /**
   * Adds one row; its arrays are copied or serialized before this returns, so the caller may reuse
   * them.
   *
   * @param row - The row as served.
   * @param label - Its label (0 or 1) when the log holds joined rows; a log is either labeled or
   *   not, fixed when it is created.
   * @throws `CtrkitError` `E_INPUT` when the row does not follow the layout or the label rule;
   *   `E_STATE` after `close`.
   */
  append(row: ServedRow, label?: number): void;
  /** Makes every row appended so far durable (for files: closes the open file). */
  flush(): Promise<void>;
  /** Flushes and refuses further rows. */
  close(): Promise<void>;
  /** Counters. */
  stats(): ServedLogStats;
}
