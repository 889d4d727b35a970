import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ensure } from '../errors.js';
import type { EvaluationSummary } from '../metrics/evaluate.js';
import { createWindowedEvaluator } from '../streaming-metrics.js';

/** Options for {@link createQualityMonitor}.
 *
 * @example
 * ```ts
 * import type { QualityMonitorOptions } from '@ctrkit/core';
 * const options: QualityMonitorOptions = { attributionWindowMs: 1_800_000, windowRows: 50_000 };
 * ```
 */
export interface QualityMonitorOptions {
  /** A click later than this after its impression does not count (default 30 minutes). */
  readonly attributionWindowMs?: number;
  /** Labeled rows kept for the rolling figures (default 100,000). */
  readonly windowRows?: number;
  /** Impressions awaiting their label, at most (default 1,000,000); beyond it the oldest are labeled 0 early. */
  readonly maxPending?: number;
  /** Time source. */
  readonly clock?: Clock;
}

/**
 * Joins served predictions with the clicks that follow, and keeps rolling AUC, log loss and
 * calibration over the labeled rows. An impression becomes a negative once its attribution
 * window has passed without a click.
 *
 * @example
 * ```ts
 * import { createManualClock, createQualityMonitor } from '@ctrkit/core';
 * const clock = createManualClock(0);
 * const quality = createQualityMonitor({ clock, attributionWindowMs: 60_000 });
 * quality.impression('r1:a', 0.2);
 * quality.click('r1:a');
 * console.log(quality.snapshot().rows); // 1
 * ```
 */
export interface QualityMonitor {
  /** Records a served prediction, keyed by something the click will carry (e.g. `requestId:adId`). */
  impression(key: string, pCtr: number): void;
  /** Records a click; returns false when no pending impression matches (unknown or too late). */
  click(key: string): boolean;
  /** Rolling figures over labeled rows (expiring overdue impressions first). */
  snapshot(): EvaluationSummary;
  /** Impressions still waiting for a label. */
  pending(): number;
  /** Clicks that matched no pending impression. */
  unmatchedClicks(): number;
}

/**
 * Creates a {@link QualityMonitor}.
 *
 * @param options - Attribution window, rolling window size, pending bound, clock.
 * @returns The monitor.
 * @throws {@link CtrkitError} `E_CONFIG` on non-positive sizes; `impression` throws `E_INPUT` on a probability outside [0, 1].
 * @example
 * ```ts
 * import { createQualityMonitor } from '@ctrkit/core';
 * const quality = createQualityMonitor({ attributionWindowMs: 600_000 });
 * ```
 */
export function createQualityMonitor(options: QualityMonitorOptions = {}): QualityMonitor {
  const { attributionWindowMs = 1_800_000, windowRows = 100_000, maxPending = 1_000_000, clock = systemClock } = options;
  ensure(attributionWindowMs > 0 && maxPending > 0, 'E_CONFIG', () => 'attributionWindowMs and maxPending must be positive');
  const window = createWindowedEvaluator({ maxRows: windowRows, clock });
  // Insertion-ordered map: the first entries are the oldest, so expiry walks from the front.
  const pendingMap = new Map<string, { p: number; t: number }>();
  let unmatched = 0;
  const expire = (): void => {
    const cutoff = clock.now() - attributionWindowMs;
    for (const [key, entry] of pendingMap) {
      if (entry.t > cutoff && pendingMap.size <= maxPending) break;
      pendingMap.delete(key);
      window.add(0, entry.p);
    }
  };
  return {
    impression(key, pCtr) {
      ensure(pCtr >= 0 && pCtr <= 1, 'E_INPUT', () => `pCtr must be in [0, 1], got ${pCtr}`);
      pendingMap.set(key, { p: pCtr, t: clock.now() });
      // Label overdue impressions as they age out, so memory stays bounded by the attribution
      // window's traffic even when nobody reads the figures; amortized O(1) per impression.
      expire();
    },
    click(key) {
      const entry = pendingMap.get(key);
      if (entry === undefined || clock.now() - entry.t > attributionWindowMs) {
        unmatched++;
        return false;
      }
      pendingMap.delete(key);
      window.add(1, entry.p);
      return true;
    },
    snapshot() {
      expire();
      return window.snapshot();
    },
    pending: () => pendingMap.size,
    unmatchedClicks: () => unmatched,
  };
}
