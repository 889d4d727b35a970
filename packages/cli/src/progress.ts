import type { Clock } from '@ctrkit/core';
import type { TextSink } from './io.js';

/**
 * Progress of a long step, drawn on stderr.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ctrkit/core';
 * import { createProgress } from '@ctrkit/cli';
 * const progress = createProgress({ label: 'replaying', total: 1_000, unit: 'auctions', stream: process.stderr, clock: systemClock });
 * progress.update(500);
 * progress.finish();
 * ```
 */
export interface Progress {
  /**
   * Reports how much is done (redraws at most ten times a second on a terminal).
   *
   * @param done - Units done so far.
   */
  update(done: number): void;
  /**
   * Prints the final line (rate and elapsed time).
   *
   * @param done - Units done in all (default: the total).
   */
  finish(done?: number): void;
}

/**
 * Options for {@link createProgress}.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ctrkit/core';
 * import type { ProgressOptions } from '@ctrkit/cli';
 * const options: ProgressOptions = { label: 'reading', total: 0, unit: 'lines', stream: process.stderr, clock: systemClock, enabled: true };
 * ```
 */
export interface ProgressOptions {
  /** What is being done ("replaying"). */
  readonly label: string;
  /** Units in all (0 when unknown: no bar, no ETA). */
  readonly total: number;
  /** Name of a unit ("auctions", "rows"). */
  readonly unit: string;
  /** Where to draw (stderr). */
  readonly stream: TextSink;
  /** Time source for rates and ETAs. */
  readonly clock: Clock;
  /** `false` draws nothing (`--quiet`). Default `true`. */
  readonly enabled?: boolean;
  /** On a non-terminal, print a plain line at most this often (default 2,000 ms). */
  readonly plainEveryMs?: number;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * Creates a progress reporter: on a terminal, one line redrawn in place with a bar, the
 * percentage, units per second and the ETA; elsewhere (a pipe, a CI log), a plain line every
 * couple of seconds, so logs stay readable.
 *
 * @param options - Label, total, unit, stream, clock.
 * @returns The reporter.
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import { createProgress } from '@ctrkit/cli';
 * let text = '';
 * const clock = createManualClock(0);
 * const progress = createProgress({ label: 'replaying', total: 100, unit: 'auctions', stream: { write: (t) => (text += t), isTTY: false }, clock });
 * clock.advance(3_000);
 * progress.update(50);
 * console.log(text); // replaying: 50/100 auctions (50.0 %), 17 auctions/s, ETA 0:03
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const { label, total, unit, stream, clock } = options;
  const enabled = options.enabled ?? true;
  const tty = stream.isTTY === true;
  const plainEvery = options.plainEveryMs ?? 2_000;
  const started = clock.now();
  let lastDraw = tty ? Number.NEGATIVE_INFINITY : started;
  let drawnWidth = 0;
  let finished = false;

  const describe = (done: number, now: number): string => {
    const elapsed = now - started;
    const rate = elapsed > 0 ? (done / elapsed) * 1000 : Number.NaN;
    if (total > 0) {
      const share = Math.min(1, done / total);
      const eta = rate > 0 ? ((total - done) / rate) * 1000 : Number.NaN;
      return `${formatCount(done)}/${formatCount(total)} ${unit} (${(100 * share).toFixed(1)} %), ${formatRate(rate)} ${unit}/s, ETA ${formatDuration(eta)}`;
    }
    return `${formatCount(done)} ${unit}, ${formatRate(rate)} ${unit}/s`;
  };

  return {
    update(done: number): void {
      if (!enabled || finished) return;
      const now = clock.now();
      if (tty) {
        if (now - lastDraw < 100) return;
        lastDraw = now;
        const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 70));
        const filled = total > 0 ? Math.round(Math.min(1, done / total) * width) : 0;
        const bar = total > 0 ? `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` : '';
        const line = `${label} ${bar}${describe(done, now)}`;
        stream.write(`\r${line}${' '.repeat(Math.max(0, drawnWidth - line.length))}`);
        drawnWidth = line.length;
      } else if (now - lastDraw >= plainEvery) {
        lastDraw = now;
        stream.write(`${label}: ${describe(done, now)}\n`);
      }
    },
    finish(done: number = total): void {
      if (!enabled || finished) return;
      finished = true;
      const now = clock.now();
      const elapsed = now - started;
      const rate = elapsed > 0 ? `, ${formatRate((done / elapsed) * 1000)} ${unit}/s` : '';
      const line = `${label}: ${formatCount(done)} ${unit} in ${(elapsed / 1000).toFixed(1)} s${rate}`;
      stream.write(tty ? `\r${line}${' '.repeat(Math.max(0, drawnWidth - line.length))}\n` : `${line}\n`);
    },
  };
}
