import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { createLatencyHistogram, type LatencyHistogram } from '../histogram.js';

/** Latency figures of one stage.
 *
 * @example
 * ```ts
 * import type { StageLatency } from '@ctrkit/core';
 * const slow = (s: StageLatency) => s.p99Ms > 4;
 * ```
 */
export interface StageLatency {
  /** Stage name. */
  readonly stage: string;
  /** Calls recorded. */
  readonly count: number;
  /** Median, ms. */
  readonly p50Ms: number;
  /** 95th percentile, ms. */
  readonly p95Ms: number;
  /** 99th percentile, ms. */
  readonly p99Ms: number;
  /** Mean, ms. */
  readonly meanMs: number;
}

/** A labeled count (errors by stage and code, degradations by stage and reason).
 *
 * @example
 * ```ts
 * import type { LabeledCount } from '@ctrkit/core';
 * const count: LabeledCount = { stage: 'predict', label: 'E_TIMEOUT', count: 3 };
 * ```
 */
export interface LabeledCount {
  /** Stage name. */
  readonly stage: string;
  /** Error code or degradation reason. */
  readonly label: string;
  /** Occurrences. */
  readonly count: number;
}

/** What {@link PipelineMetrics.snapshot} returns.
 *
 * @example
 * ```ts
 * import type { PipelineSnapshot } from '@ctrkit/core';
 * const rate = (s: PipelineSnapshot) => s.requestsPerSecond;
 * ```
 */
export interface PipelineSnapshot {
  /** Per-stage latency, in first-recorded order; `total` is the whole request. */
  readonly stages: readonly StageLatency[];
  /** Requests completed. */
  readonly requests: number;
  /** Candidates scored. */
  readonly rows: number;
  /** Requests per second since creation or the last reset. */
  readonly requestsPerSecond: number;
  /** Errors by stage and code. */
  readonly errors: readonly LabeledCount[];
  /** Degradations by stage and reason. */
  readonly degradations: readonly LabeledCount[];
}

/**
 * Counters and latency histograms of a request pipeline. Recording is O(1) and allocation-free
 * once a stage or label has been seen.
 *
 * @example
 * ```ts
 * import { createPipelineMetrics } from '@ctrkit/core';
 * const metrics = createPipelineMetrics();
 * metrics.recordStage('predict', 0.8);
 * metrics.recordRequest(1.2, 100);
 * console.log(metrics.snapshot().stages.map((s) => s.stage)); // ['predict', 'total']
 * ```
 */
export interface PipelineMetrics {
  /** Records how long a stage took. */
  recordStage(stage: string, ms: number): void;
  /** Records a completed request (its total time) and how many candidates it scored. */
  recordRequest(ms: number, rows: number): void;
  /** Counts an error in a stage. */
  recordError(stage: string, code: string): void;
  /** Counts a degradation in a stage. */
  recordDegradation(stage: string, reason: string): void;
  /** Current figures. */
  snapshot(): PipelineSnapshot;
  /** Starts afresh. */
  reset(): void;
}

/**
 * Creates {@link PipelineMetrics}.
 *
 * @param clock - Time source for throughput (default the system clock).
 * @returns Empty metrics.
 * @example
 * ```ts
 * import { createManualClock, createPipelineMetrics } from '@ctrkit/core';
 * const metrics = createPipelineMetrics(createManualClock(0));
 * ```
 */
export function createPipelineMetrics(clock: Clock = systemClock): PipelineMetrics {
  const histograms = new Map<string, LatencyHistogram>();
  const errors = new Map<string, number>();
  const degradations = new Map<string, number>();
  let requests = 0;
  let rows = 0;
  let since = clock.now();
  const histogramOf = (stage: string): LatencyHistogram => {
    let histogram = histograms.get(stage);
    if (histogram === undefined) {
      histogram = createLatencyHistogram();
      histograms.set(stage, histogram);
    }
    return histogram;
  };
  const bump = (map: Map<string, number>, stage: string, label: string): void => {
    const key = `${stage}\u0000${label}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  const list = (map: Map<string, number>): LabeledCount[] =>
    [...map.entries()].map(([key, count]) => {
      const [stage = '', label = ''] = key.split('\u0000');
      return { stage, label, count };
    });
  return {
    recordStage(stage, ms) {
      histogramOf(stage).record(ms);
    },
    recordRequest(ms, scored) {
      histogramOf('total').record(ms);
      requests++;
      rows += scored;
    },
    recordError(stage, code) {
      bump(errors, stage, code);
    },
    recordDegradation(stage, reason) {
      bump(degradations, stage, reason);
    },
    snapshot() {
      const elapsedS = Math.max(1e-9, (clock.now() - since) / 1000);
      return {
        stages: [...histograms.entries()].map(([stage, h]) => ({
          stage,
          count: h.count(),
          p50Ms: h.percentile(0.5),
          p95Ms: h.percentile(0.95),
          p99Ms: h.percentile(0.99),
          meanMs: h.mean(),
        })),
        requests,
        rows,
        requestsPerSecond: requests / elapsedS,
        errors: list(errors),
        degradations: list(degradations),
      };
    },
    reset() {
      histograms.forEach((h) => h.reset());
      errors.clear();
      degradations.clear();
      requests = 0;
      rows = 0;
      since = clock.now();
    },
  };
}
