/**
 * The micro-batcher: many concurrent small `predict` calls become few large ones, which is where
 * onnxruntime is efficient (per-call overhead dominates below a few dozen rows).
 */
import type { FeatureBatch, ModelRunner } from '@ctrkit/core';
import type { Scheduler } from '../scheduler.js';

/** Options for {@link createMicroBatcher}.
 *
 * @example
 * ```ts
 * import type { MicroBatcherOptions } from '@ctrkit/models';
 * const options: MicroBatcherOptions = { maxBatchRows: 128, maxWaitMs: 1, maxQueueRows: 4096, deadlineMs: 20 };
 * ```
 */
export interface MicroBatcherOptions {
  /** Rows in one merged batch (default 128). A single call with more rows runs alone. */
  readonly maxBatchRows?: number;
  /** Longest a call waits for company before its batch runs (default 2 ms; 0 runs as soon as a slot is free). */
  readonly maxWaitMs?: number;
  /** Rows allowed to wait; a call that would exceed it is rejected at once with `E_QUEUE_FULL` (default 8192). */
  readonly maxQueueRows?: number;
  /** Merged batches running at once (default 1; onnxruntime-node runs one session call at a time anyway). */
  readonly maxInFlight?: number;
  /** Default per-call deadline in ms, from the call until its result (default: none). */
  readonly deadlineMs?: number;
  /** Timers and clock (default: the system scheduler). */
  readonly scheduler?: Scheduler;
}

/** Options of one {@link MicroBatcher.predict} call.
 *
 * @example
 * ```ts
 * import type { BatcherCallOptions } from '@ctrkit/models';
 * const options: BatcherCallOptions = { deadlineMs: 5 };
 * ```
 */
export interface BatcherCallOptions {
  /** Reject with `E_TIMEOUT` when no result has arrived this many ms after the call. */
  readonly deadlineMs?: number;
}

/** Counters of a {@link MicroBatcher}.
 *
 * @example
 * ```ts
 * import type { MicroBatcherStats } from '@ctrkit/models';
 * const meanRows = (s: MicroBatcherStats) => s.rows / Math.max(1, s.batches);
 * ```
 */
export interface MicroBatcherStats {
  /** Calls accepted. */
  readonly calls: number;
  /** Merged batches run. */
  readonly batches: number;
  /** Rows run. */
  readonly rows: number;
  /** Calls refused because the queue was full. */
  readonly rejected: number;
  /** Calls that missed their deadline. */
  readonly timedOut: number;
  /** Rows waiting now. */
  readonly queuedRows: number;
  /** Merged batches running now. */
  readonly inFlight: number;
}

/**
 * A `ModelRunner` that coalesces concurrent calls into merged batches for the runner it
 * wraps, up to `maxBatchRows` rows or `maxWaitMs` of waiting, with a bounded queue and per-call
 * deadlines. Each call is validated on its own before it joins a batch, so one caller's bad row
 * never fails the others.
 *
 * @example
 * ```ts
 * import { createMicroBatcher } from '@ctrkit/models';
 * import type { FeatureBatch, ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * declare const oneRow: FeatureBatch;
 * const batcher = createMicroBatcher(runner, { maxBatchRows: 64, maxWaitMs: 1 });
 * const [p] = await batcher.predict(oneRow, undefined, { deadlineMs: 10 });
 * ```
 */
export interface MicroBatcher extends ModelRunner {
  /** Queues the batch's rows; resolves with their probabilities once their merged batch has run. */
  predict(batch: FeatureBatch, out?: Float32Array, options?: BatcherCallOptions): Promise<Float32Array>;
  /** Runs whatever is queued now, without waiting for `maxWaitMs`. */
  flush(): void;
  /** Counters since creation. */
  stats(): MicroBatcherStats;
}
