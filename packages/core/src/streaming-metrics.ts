import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { CtrkitError, ensure } from './errors.js';
import { evaluate, type EvaluationSummary } from './metrics/evaluate.js';

/** Options for {@link createWindowedEvaluator}.
 *
 * @example
 * ```ts
 * import type { WindowedEvaluatorOptions } from '@ctrkit/core';
 * const options: WindowedEvaluatorOptions = { maxRows: 100_000, windowMs: 3_600_000 };
 * ```
 */
export interface WindowedEvaluatorOptions {
  /** Keep at most this many most recent rows (default 100,000). */
  readonly maxRows?: number;
  /** Also drop rows older than this many milliseconds (default: no time limit). */
  readonly windowMs?: number;
  /** Time source for rows added without a timestamp and for expiry. */
  readonly clock?: Clock;
}

/**
 * Metrics over a sliding window of labeled predictions, for monitoring a model as clicks arrive.
 *
 * @example
 * ```ts
 * import { createWindowedEvaluator } from '@ctrkit/core';
 * const window = createWindowedEvaluator({ maxRows: 1_000 });
 * window.add(0, 0.1);
 * window.add(1, 0.8);
 * console.log(window.snapshot().auc); // 1
 * ```
 */
export interface WindowedEvaluator {
  /** Adds one labeled prediction. */
  add(label: number, probability: number, timestamp?: number): void;
  /** Rows currently in the window (after expiry). */
  size(): number;
  /** Metrics over the rows in the window; all NaN but `rows` when it is empty. */
  snapshot(): EvaluationSummary;
  /** Empties the window. */
  reset(): void;
}

/**
 * Creates a {@link WindowedEvaluator}: a ring buffer of the last `maxRows` rows (and, with
 * `windowMs`, only those younger than the window), summarized on demand.
 *
 * @param options - Window size and clock.
 * @returns An evaluator.
 * @throws {@link CtrkitError} `E_CONFIG` on a non-positive window; `add` throws `E_INPUT` on a
 * label other than 0/1 or a probability outside [0, 1].
 * @remarks `add` is O(1) and allocates nothing; `snapshot` is O(n) in the window size.
 * @example
 * ```ts
 * import { createManualClock, createWindowedEvaluator } from '@ctrkit/core';
 * const clock = createManualClock(0);
 * const window = createWindowedEvaluator({ windowMs: 60_000, clock });
 * window.add(1, 0.9);
 * clock.advance(120_000);
 * console.log(window.size()); // 0
 * ```
 */
export function createWindowedEvaluator(options: WindowedEvaluatorOptions = {}): WindowedEvaluator {
  const { maxRows = 100_000, windowMs, clock = systemClock } = options;
  ensure(Number.isInteger(maxRows) && maxRows > 0, 'E_CONFIG', () => `maxRows must be a positive integer, got ${maxRows}`);
  ensure(
    windowMs === undefined || (Number.isFinite(windowMs) && windowMs > 0),
    'E_CONFIG',
    () => `windowMs must be positive, got ${windowMs}`,
  );
  const labels = new Uint8Array(maxRows);
  const probabilities = new Float64Array(maxRows);
  const times = new Float64Array(maxRows);
  let head = 0; // index of the oldest row
  let count = 0;

  const expire = (): void => {
    if (windowMs === undefined) return;
    const cutoff = clock.now() - windowMs;
    while (count > 0 && (times[head] as number) < cutoff) {
      head = (head + 1) % maxRows;
      count--;
    }
  };

  return {
    add(label, probability, timestamp) {
      if (label !== 0 && label !== 1) throw new CtrkitError('E_INPUT', `label must be 0 or 1, got ${label}`);
      if (!(probability >= 0 && probability <= 1)) {
        throw new CtrkitError('E_INPUT', `probability must be in [0, 1], got ${probability}`);
      }
      const slot = (head + count) % maxRows;
      labels[slot] = label;
      probabilities[slot] = probability;
      times[slot] = timestamp ?? clock.now();
      if (count < maxRows) count++;
      else head = (head + 1) % maxRows;
    },
    size() {
      expire();
      return count;
    },
    snapshot() {
      expire();
      if (count === 0) {
        return { rows: 0, auc: Number.NaN, logloss: Number.NaN, ne: Number.NaN, calibration: Number.NaN, ece: Number.NaN };
      }
      const y = new Uint8Array(count);
      const p = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const slot = (head + i) % maxRows;
        y[i] = labels[slot] as number;
        p[i] = probabilities[slot] as number;
      }
      return evaluate(y, p);
    },
    reset() {
      head = 0;
      count = 0;
    },
  };
}
