/**
 * The label joiner: turns served rows and the clicks and conversions that come back into labeled
 * training rows. A row is a positive as soon as a click on it arrives within the attribution
 * window, and a negative when its window closes (by the injected clock) without one.
 */
import { systemClock, type Clock } from './clock.js';
import { CtrkitError, ensure } from './errors.js';
import { ExpiringSet } from './expiring-set.js';
import type { FeatureLayout } from './stages.js';
import { checkServedRow, type ServedRow } from './served-row.js';
import type { ClickEvent, ConversionEvent } from './types/events.js';

/** A served row with its label, as the joiner emits it.
 *
 * @example
 * ```ts
 * import type { JoinedRow } from '@ctrkit/core';
 * const delayMs = (j: JoinedRow) => j.labeledAt - j.row.servedAt;
 * ```
 */
export interface JoinedRow {
  /** The row exactly as it was served (the joiner never touches its arrays). */
  readonly row: ServedRow;
  /** 1 when clicked within the window, 0 when the window closed without a click. */
  readonly label: 0 | 1;
  /** When the label was decided, by the joiner's clock. */
  readonly labeledAt: number;
  /** The click that made it a positive. */
  readonly clickEventId?: string;
  /** The click's own time, for a positive. */
  readonly clickedAt?: number;
}

/** A conversion attributed to a clicked row.
 *
 * @example
 * ```ts
 * import type { JoinedConversion } from '@ctrkit/core';
 * const worth = (c: JoinedConversion) => c.conversion.value ?? 0;
 * ```
 */
export interface JoinedConversion {
  /** The row that was clicked. */
  readonly row: ServedRow;
  /** The click it follows. */
  readonly clickEventId: string;
  /** The conversion. */
  readonly conversion: ConversionEvent;
}

/** What became of one event given to the joiner.
 *
 * - `joined` — it labeled a row (click) or was attributed to a clicked row (conversion); for an
 *   impression, it is now waiting for its window.
 * - `duplicate` — its event id was seen before; dropped.
 * - `orphan` — no served row matches it (never logged, or forgotten long ago); counted, not guessed.
 * - `late` — its row's window had closed, or it happened after the window; counted.
 * - `repeat` — a second, distinct click (or a conversion without a click) on a row; counted.
 * - `early` — it happened before its row was served (clock skew); a label never comes from before
 *   the features it labels.
 * - `shed` — an impression refused because the joiner is at `maxPending`.
 * - `collision` — an impression whose (request, ad) is already waiting under another event id.
 *
 * @example
 * ```ts
 * import type { JoinOutcome } from '@ctrkit/core';
 * const kept = (o: JoinOutcome) => o === 'joined';
 * ```
 */
export type JoinOutcome = 'joined' | 'duplicate' | 'orphan' | 'late' | 'repeat' | 'early' | 'shed' | 'collision';

/** Counters of a {@link LabelJoiner}.
 *
 * @example
 * ```ts
 * import type { LabelJoinerStats } from '@ctrkit/core';
 * const ctr = (s: LabelJoinerStats) => s.positives / Math.max(1, s.positives + s.negatives);
 * ```
 */
export interface LabelJoinerStats {
  /** Impressions waiting for their window now. */
  readonly pending: number;
  /** The most that ever waited at once. */
  readonly peakPending: number;
  /** Impressions accepted. */
  readonly impressions: number;
  /** Rows emitted as positives. */
  readonly positives: number;
  /** Rows emitted as negatives. */
  readonly negatives: number;
  /** Impressions refused at the cap (never labeled). */
  readonly shed: number;
  /** Impressions refused because their (request, ad) was already waiting. */
  readonly collisions: number;
  /** Events dropped as duplicates, by kind. */
  readonly duplicates: { readonly impression: number; readonly click: number; readonly conversion: number };
  /** Clicks and conversions with no served row. */
  readonly orphans: { readonly click: number; readonly conversion: number };
  /** Clicks and conversions after their row's window. */
  readonly late: { readonly click: number; readonly conversion: number };
  /** Clicks and conversions dated before their row was served. */
  readonly early: { readonly click: number; readonly conversion: number };
  /** Second clicks on a row, and conversions on a row that was not clicked. */
  readonly repeats: { readonly click: number; readonly conversion: number };
  /** Conversions attributed. */
  readonly conversions: number;
  /** Event ids forgotten early because the dedup memory was at its cap (a later copy would pass). */
  readonly dedupEvicted: number;
}

/** Options for {@link createLabelJoiner}.
 *
 * @example
 * ```ts
 * import { createManualClock, type LabelJoinerOptions } from '@ctrkit/core';
 * const options: LabelJoinerOptions = { windowMs: 15 * 60_000, clock: createManualClock(0), onLabel: (j) => console.log(j.label) };
 * ```
 */
export interface LabelJoinerOptions {
  /** The attribution window: a click counts when it happens within this long after serving. */
  readonly windowMs: number;
  /**
   * How long past the window a row still waits for a click that happened in the window but
   * traveled slowly (default 10,000 ms). A row is closed at `servedAt + windowMs + allowedLatenessMs`.
   */
  readonly allowedLatenessMs?: number;
  /** Receives every labeled row, synchronously, in the order labels are decided. */
  readonly onLabel: (joined: JoinedRow) => void;
  /** Receives every attributed conversion. */
  readonly onConversion?: (joined: JoinedConversion) => void;
  /** The time source that closes windows (default the system clock). */
  readonly clock?: Clock;
  /**
   * Hard cap on waiting impressions (default 1,000,000); beyond it impressions are shed and
   * counted. Memory is about window × impression rate rows, never more than this.
   */
  readonly maxPending?: number;
  /** Event ids remembered for dedup, per kind (default `maxPending`); each is kept for window + lateness, twice over. */
  readonly dedupCapacity?: number;
  /** When given, every impression is checked against this layout ({@link checkServedRow}). */
  readonly layout?: FeatureLayout;
}

/**
 * Joins served rows to the clicks and conversions that come back.
 *
 * @example
 * ```ts
 * import type { LabelJoiner, ServedRow, ClickEvent } from '@ctrkit/core';
 * function feed(joiner: LabelJoiner, rows: ServedRow[], clicks: ClickEvent[]) {
 *   for (const row of rows) joiner.impression(row);
 *   for (const click of clicks) joiner.click(click);
 *   joiner.advance();
 * }
 * ```
 */
export interface LabelJoiner {
  /**
   * A served row starts waiting for its click. The joiner keeps the row object as given: pass rows
   * that own their arrays (from `servedRowOf`, a stream, or a log reader), and do not mutate them.
   * @throws `CtrkitError` `E_INPUT` when the row lacks ids or time, or fails the layout check; the
   *   joiner is left as it was.
   */
  impression(row: ServedRow): JoinOutcome;
  /**
   * A click labels its row (same `requestId` and `adId`) a positive, when it happened within the window.
   * @throws `CtrkitError` `E_INPUT` when the event lacks ids or time; the joiner is left as it was.
   */
  click(event: ClickEvent): JoinOutcome;
  /**
   * A conversion is attributed to its row when that row was clicked and is still within its window.
   * @throws `CtrkitError` `E_INPUT` when the event lacks ids or time; the joiner is left as it was.
   */
  conversion(event: ConversionEvent): JoinOutcome;
  /** Closes every window that is due by the clock, emitting negatives; returns how many rows closed. */
  advance(): number;
  /** Counters. */
  stats(): LabelJoinerStats;
}

interface Entry {
  readonly key: string;
  readonly row: ServedRow;
  readonly closeAt: number;
  clickEventId: string | undefined;
}

function checkEvent(kind: string, event: { eventId?: unknown; requestId?: unknown; adId?: unknown; timestamp?: unknown }): void {
  const ok =
    typeof event === 'object' &&
    event !== null &&
    typeof event.eventId === 'string' &&
    event.eventId !== '' &&
    typeof event.requestId === 'string' &&
    typeof event.adId === 'string' &&
    typeof event.timestamp === 'number' &&
    Number.isFinite(event.timestamp);
  if (!ok) {
    throw new CtrkitError('E_INPUT', `label joiner: a ${kind} needs a non-empty eventId, requestId and adId strings and a finite timestamp`, {
      details: { eventId: typeof event === 'object' && event !== null ? event.eventId : undefined },
    });
  }
}

const keyOf = (requestId: string, adId: string) => `${requestId}\u0001${adId}`;

/**
 * Creates a label joiner.
 *
 * Point-in-time correctness: a row's features are the ones it was served with (the joiner adds
 * only a label beside them, in {@link JoinedRow}), and only a click dated at or after `servedAt`
 * labels it, so no label is ever decided by information from before the features it labels, and
 * no label flows back into them.
 *
 * @param options - Window, lateness, sinks, clock, caps.
 * @returns The joiner.
 * @throws {@link CtrkitError} `E_CONFIG` when a window or cap is out of range.
 * @remarks Each event costs a few Map operations and allocates one small entry (impressions) or
 *   nothing but the emitted label; memory is bounded by `maxPending` rows plus `dedupCapacity`
 *   ids per kind plus `maxPending` closed keys (remembered to tell late events from orphans).
 * @example
 * ```ts
 * import { createLabelJoiner, createManualClock, type JoinedRow } from '@ctrkit/core';
 * const clock = createManualClock(0);
 * const labeled: JoinedRow[] = [];
 * const joiner = createLabelJoiner({ windowMs: 60_000, allowedLatenessMs: 0, clock, onLabel: (j) => labeled.push(j) });
 * clock.advance(60_000);
 * joiner.advance();
 * console.log(labeled.length, joiner.stats().pending); // 0 0
 * ```
 */
export function createLabelJoiner(options: LabelJoinerOptions): LabelJoiner {
  const { windowMs, allowedLatenessMs = 10_000, onLabel, onConversion, clock = systemClock, maxPending = 1_000_000, layout } = options;
  const dedupCapacity = options.dedupCapacity ?? maxPending;
  ensure(Number.isFinite(windowMs) && windowMs > 0, 'E_CONFIG', () => `label joiner: windowMs must be > 0, got ${windowMs}`);
  ensure(Number.isFinite(allowedLatenessMs) && allowedLatenessMs >= 0, 'E_CONFIG', () => `label joiner: allowedLatenessMs must be ≥ 0, got ${allowedLatenessMs}`);
  ensure(Number.isInteger(maxPending) && maxPending > 0, 'E_CONFIG', () => `label joiner: maxPending must be a positive integer, got ${maxPending}`);
  ensure(Number.isInteger(dedupCapacity) && dedupCapacity > 0, 'E_CONFIG', () => `label joiner: dedupCapacity must be a positive integer, got ${dedupCapacity}`);
  ensure(typeof onLabel === 'function', 'E_CONFIG', () => 'label joiner: onLabel must be a function');
  const horizon = windowMs + allowedLatenessMs;
  const pending = new Map<string, Entry>();
  let queue: Entry[] = [];
  let head = 0;
  const closed = new ExpiringSet(maxPending);
  const seen = { impression: new ExpiringSet(dedupCapacity), click: new ExpiringSet(dedupCapacity), conversion: new ExpiringSet(dedupCapacity) };
  const s = {
    peakPending: 0,
    impressions: 0,
    positives: 0,
    negatives: 0,
    shed: 0,
    collisions: 0,
    duplicates: { impression: 0, click: 0, conversion: 0 },
    orphans: { click: 0, conversion: 0 },
    late: { click: 0, conversion: 0 },
    early: { click: 0, conversion: 0 },
    repeats: { click: 0, conversion: 0 },
    conversions: 0,
  };

  const advance = (): number => {
    const now = clock.now();
    let count = 0;
    while (head < queue.length) {
      const entry = queue[head] as Entry;
      if (entry.closeAt > now) break;
      queue[head++] = undefined as never;
      pending.delete(entry.key);
      closed.add(entry.key, entry.closeAt + horizon);
      count++;
      if (entry.clickEventId === undefined) {
        s.negatives++;
        onLabel({ row: entry.row, label: 0, labeledAt: now });
      }
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    closed.expire(now);
    seen.impression.expire(now);
    seen.click.expire(now);
    seen.conversion.expire(now);
    return count;
  };

  return {
    impression(row) {
      if (layout !== undefined) checkServedRow(layout, row);
      else {
        const ok = typeof row === 'object' && row !== null && typeof row.eventId === 'string' && row.eventId !== '' && typeof row.requestId === 'string' && typeof row.adId === 'string' && Number.isFinite(row.servedAt);
        if (!ok) throw new CtrkitError('E_INPUT', 'label joiner: a served row needs non-empty eventId, requestId and adId strings and a finite servedAt');
      }
      advance();
      if (seen.impression.has(row.eventId)) {
        s.duplicates.impression++;
        return 'duplicate';
      }
      const key = keyOf(row.requestId, row.adId);
      if (pending.has(key)) {
        s.collisions++;
        return 'collision';
      }
      if (pending.size >= maxPending) {
        s.shed++;
        return 'shed';
      }
      const entry: Entry = { key, row, closeAt: row.servedAt + horizon, clickEventId: undefined };
      pending.set(key, entry);
      queue.push(entry);
      seen.impression.add(row.eventId, clock.now() + 2 * horizon);
      s.impressions++;
      if (pending.size > s.peakPending) s.peakPending = pending.size;
      return 'joined';
    },
    click(event) {
      checkEvent('click', event);
      advance();
      if (seen.click.has(event.eventId)) {
        s.duplicates.click++;
        return 'duplicate';
      }
      seen.click.add(event.eventId, clock.now() + 2 * horizon);
      const key = keyOf(event.requestId, event.adId);
      const entry = pending.get(key);
      if (entry === undefined) {
        if (closed.has(key)) {
          s.late.click++;
          return 'late';
        }
        s.orphans.click++;
        return 'orphan';
      }
      const delay = event.timestamp - entry.row.servedAt;
      if (delay < 0) {
        s.early.click++;
        return 'early';
      }
      if (delay > windowMs) {
        s.late.click++;
        return 'late';
      }
      if (entry.clickEventId !== undefined) {
        s.repeats.click++;
        return 'repeat';
      }
      entry.clickEventId = event.eventId;
      s.positives++;
      onLabel({ row: entry.row, label: 1, labeledAt: clock.now(), clickEventId: event.eventId, clickedAt: event.timestamp });
      return 'joined';
    },
    conversion(event) {
      checkEvent('conversion', event);
      advance();
      if (seen.conversion.has(event.eventId)) {
        s.duplicates.conversion++;
        return 'duplicate';
      }
      seen.conversion.add(event.eventId, clock.now() + 2 * horizon);
      const key = keyOf(event.requestId, event.adId);
      const entry = pending.get(key);
      if (entry === undefined) {
        if (closed.has(key)) {
          s.late.conversion++;
          return 'late';
        }
        s.orphans.conversion++;
        return 'orphan';
      }
      if (event.timestamp < entry.row.servedAt) {
        s.early.conversion++;
        return 'early';
      }
      if (event.timestamp - entry.row.servedAt > windowMs) {
        s.late.conversion++;
        return 'late';
      }
      if (entry.clickEventId === undefined) {
        s.repeats.conversion++;
        return 'repeat';
      }
      s.conversions++;
      onConversion?.({ row: entry.row, clickEventId: entry.clickEventId, conversion: event });
      return 'joined';
    },
    advance,
    stats() {
      return {
        ...s,
        pending: pending.size,
        duplicates: { ...s.duplicates },
        orphans: { ...s.orphans },
        late: { ...s.late },
        early: { ...s.early },
        repeats: { ...s.repeats },
        dedupEvicted: seen.impression.evicted + seen.click.evicted + seen.conversion.evicted,
      };
    },
  };
}
