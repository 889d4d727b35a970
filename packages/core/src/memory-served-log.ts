/**
 * A bounded in-memory {@link ServedLog}: the last `capacity` rows, oldest evicted first (and
 * counted). For tests, demos and single-process loops.
 */
import { CtrkitError, ensure } from './errors.js';
import type { FeatureLayout } from './stages.js';
import type { ServedLog, ServedLogStats } from './served-log.js';
import { checkServedRow, servedRowScalarsOf, type ServedRow } from './served-row.js';

/** One row held by a memory log, with its label when the log is labeled.
 *
 * @example
 * ```ts
 * import type { LoggedRow } from '@ctrkit/core';
 * const positives = (rows: readonly LoggedRow[]) => rows.filter((r) => r.label === 1).length;
 * ```
 */
export interface LoggedRow {
  /** The row (a private copy). */
  readonly row: ServedRow;
  /** Its label, in a labeled log. */
  readonly label?: number;
}

/** Options for {@link createMemoryServedLog}.
 *
 * @example
 * ```ts
 * import type { MemoryServedLogOptions, FeatureLayout } from '@ctrkit/core';
 * const options = (layout: FeatureLayout): MemoryServedLogOptions => ({ layout, capacity: 10_000 });
 * ```
 */
export interface MemoryServedLogOptions {
  /** The layout every row follows. */
  readonly layout: FeatureLayout;
  /** Rows kept; older rows are evicted and counted as dropped (default 100,000). */
  readonly capacity?: number;
  /** Whether every row carries a label (default false). */
  readonly labeled?: boolean;
}

/** A memory log, readable in place.
 *
 * @example
 * ```ts
 * import type { MemoryServedLog } from '@ctrkit/core';
 * const count = (log: MemoryServedLog) => log.rows().length;
 * ```
 */
export interface MemoryServedLog extends ServedLog {
  /** The rows held, oldest first (a new array; the rows themselves are shared, do not mutate them). */
  rows(): LoggedRow[];
}

function copyRow(row: ServedRow): ServedRow {
  return {
    ...servedRowScalarsOf(row),
    ids: row.ids.slice(),
    values: row.values.slice(),
    dense: row.dense.slice(),
    sequenceIds: row.sequenceIds.slice(),
    sequenceLengths: row.sequenceLengths.slice(),
  };
}

/**
 * @internal Checks the label rule shared by every log: labeled logs need 0 or 1, unlabeled
 * logs take none.
 */
export function checkLabel(labeled: boolean, label: number | undefined, eventId: string): void {
  if (labeled) {
    if (label !== 0 && label !== 1) throw new CtrkitError('E_INPUT', `served row '${eventId}': this log is labeled; pass a label of 0 or 1, got ${label}`);
  } else if (label !== undefined) {
    throw new CtrkitError('E_INPUT', `served row '${eventId}': this log holds unlabeled rows; create it with labeled: true to log labels`);
  }
}

/**
 * Creates a bounded in-memory served-row log.
 *
 * @param options - Layout, capacity, labeled.
 * @returns The log.
 * @throws {@link CtrkitError} `E_CONFIG` when `capacity` is not a positive integer.
 * @remarks `append` copies the row's arrays (one row's worth) and is O(1); eviction is a ring buffer.
 * @example
 * ```ts
 * import { createMemoryServedLog, type FeatureLayout } from '@ctrkit/core';
 * const layout: FeatureLayout = { fingerprint: 'f', idSpace: 16, idWidth: 1, fields: [], denseWidth: 0, denseNames: [], sequences: [] };
 * const log = createMemoryServedLog({ layout, capacity: 2 });
 * log.append({
 *   eventId: 'e1', requestId: 'r', impId: '1', adId: 'a', position: 0, pCtr: 0.1, servedAt: 0, modelVersion: 'v1',
 *   fingerprint: 'f', ids: Int32Array.of(3), values: Float32Array.of(1), dense: new Float32Array(0),
 *   sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0),
 * });
 * console.log(log.rows().length); // 1
 * ```
 */
export function createMemoryServedLog(options: MemoryServedLogOptions): MemoryServedLog {
  const { layout, capacity = 100_000, labeled = false } = options;
  ensure(Number.isInteger(capacity) && capacity > 0, 'E_CONFIG', () => `memory served log: capacity must be a positive integer, got ${capacity}`);
  let ring: (LoggedRow | undefined)[] = new Array<LoggedRow | undefined>(Math.min(capacity, 1024));
  let head = 0;
  let size = 0;
  let appended = 0;
  let dropped = 0;
  let closed = false;
  const grow = () => {
    const next = new Array<LoggedRow | undefined>(Math.min(capacity, ring.length * 2));
    for (let i = 0; i < size; i++) next[i] = ring[(head + i) % ring.length];
    ring = next;
    head = 0;
  };
  return {
    layout,
    append(row, label) {
      if (closed) throw new CtrkitError('E_STATE', 'memory served log is closed; create another');
      checkServedRow(layout, row);
      checkLabel(labeled, label, row.eventId);
      const entry: LoggedRow = label === undefined ? { row: copyRow(row) } : { row: copyRow(row), label };
      appended++;
      if (size === ring.length && ring.length < capacity) grow();
      if (size === ring.length) {
        ring[head] = entry;
        head = (head + 1) % ring.length;
        dropped++;
        return;
      }
      ring[(head + size) % ring.length] = entry;
      size++;
    },
    async flush() {},
    async close() {
      closed = true;
    },
    stats(): ServedLogStats {
      return { appended, dropped, persisted: size, failedRows: 0, files: 0, bytes: 0 };
    },
    rows() {
      const out: LoggedRow[] = [];
      for (let i = 0; i < size; i++) out.push(ring[(head + i) % ring.length] as LoggedRow);
      return out;
    },
  };
}
