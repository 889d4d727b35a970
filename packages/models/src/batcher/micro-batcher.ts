/**
 * The micro-batcher itself: a bounded queue of validated calls, merged into preallocated buffers
 * of up to `maxBatchRows` rows and run on the wrapped runner (interfaces in ./types.ts).
 */
import { CtrkitError, toCtrkitError, type FeatureBatch, type FeatureLayout, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { BatchChecker, expectationFromLayout, sequenceStride } from '../batch-check.js';
import type { BatcherCallOptions, MicroBatcher, MicroBatcherOptions, MicroBatcherStats } from './types.js';
import { outputFor } from '../runner/output-buffer.js';
import { systemScheduler, type Scheduler } from '../scheduler.js';

interface Call {
  readonly batch: FeatureBatch;
  readonly out: Float32Array;
  readonly enqueuedAt: number;
  readonly resolve: (value: Float32Array) => void;
  readonly reject: (error: unknown) => void;
  timer: unknown;
  settled: boolean;
}

/** Preallocated merged arrays for one in-flight batch (`maxBatchRows` rows each). */
interface Buffers {
  readonly ids: Int32Array;
  readonly values: Float32Array;
  readonly dense: Float32Array;
  readonly sequenceIds: Int32Array;
  readonly sequenceLengths: Int32Array;
  readonly out: Float32Array;
}

function positive(value: number, what: string, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new CtrkitError('E_CONFIG', `${what} must be a ${allowZero ? 'finite number ≥ 0' : 'positive number'}, got ${value}`);
  }
  return value;
}

class Batcher implements MicroBatcher {
  private readonly maxBatchRows: number;
  private readonly maxWaitMs: number;
  private readonly maxQueueRows: number;
  private readonly maxInFlight: number;
  private readonly deadlineMs: number | undefined;
  private readonly scheduler: Scheduler;
  private queue: Call[] = [];
  private head = 0;
  private queuedRows = 0;
  private inFlight = 0;
  private waitTimer: unknown = undefined;
  private flushRequested = false;
  private layout: FeatureLayout | undefined;
  private checker: BatchChecker | undefined;
  private readonly free: Buffers[] = [];
  private disposed = false;
  private drained: (() => void) | undefined;
  private counters = { calls: 0, batches: 0, rows: 0, rejected: 0, timedOut: 0 };

  constructor(
    private readonly runner: ModelRunner,
    options: MicroBatcherOptions,
  ) {
    this.maxBatchRows = Math.floor(positive(options.maxBatchRows ?? 128, 'maxBatchRows'));
    this.maxWaitMs = positive(options.maxWaitMs ?? 2, 'maxWaitMs', true);
    this.maxQueueRows = Math.floor(positive(options.maxQueueRows ?? 8192, 'maxQueueRows'));
    this.maxInFlight = Math.floor(positive(options.maxInFlight ?? 1, 'maxInFlight'));
    this.deadlineMs = options.deadlineMs === undefined ? undefined : positive(options.deadlineMs, 'deadlineMs');
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  get info(): ModelInfo {
    return this.runner.info;
  }

  stats(): MicroBatcherStats {
    return { ...this.counters, queuedRows: this.queuedRows, inFlight: this.inFlight };
  }

  predict(batch: FeatureBatch, out?: Float32Array, options: BatcherCallOptions = {}): Promise<Float32Array> {
    try {
      if (this.disposed) throw new CtrkitError('E_STATE', 'micro-batcher was disposed; create a new one');
      this.admit(batch);
      const rows = batch.rows;
      const target = outputFor(out, rows);
      if (rows === 0) return Promise.resolve(target);
      if (this.queuedRows + rows > this.maxQueueRows) {
        this.counters.rejected++;
        throw new CtrkitError(
          'E_QUEUE_FULL',
          `micro-batcher queue is full (${this.queuedRows} rows waiting, limit ${this.maxQueueRows}); shed load or raise maxQueueRows`,
          { details: { queuedRows: this.queuedRows, maxQueueRows: this.maxQueueRows } },
        );
      }
      const deadlineMs = options.deadlineMs === undefined ? this.deadlineMs : positive(options.deadlineMs, 'deadlineMs');
      return new Promise<Float32Array>((resolve, reject) => {
        const call: Call = { batch, out: target, enqueuedAt: this.scheduler.clock.now(), resolve, reject, timer: undefined, settled: false };
        if (deadlineMs !== undefined) call.timer = this.scheduler.setTimeout(() => this.expire(call, deadlineMs), deadlineMs);
        this.queue.push(call);
        this.queuedRows += rows;
        this.counters.calls++;
        this.pump();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Each call is checked alone, so a bad row is rejected before it can fail a merged batch. */
  private admit(batch: FeatureBatch): void {
    if (this.checker === undefined) {
      if (typeof batch !== 'object' || batch === null || typeof batch.layout !== 'object' || batch.layout === null) {
        throw new CtrkitError('E_INPUT', 'predict needs a FeatureBatch');
      }
      // The model's spec decides; a first caller with the wrong spec must not set the layout for everyone.
      if (batch.layout.fingerprint !== this.runner.info.fingerprint) {
        throw new CtrkitError(
          'E_INPUT',
          `batch was encoded with feature spec ${batch.layout.fingerprint} but the model expects spec ${this.runner.info.fingerprint}; encode with the model's spec`,
        );
      }
      sequenceStride(batch.layout);
      this.layout = batch.layout;
      this.checker = new BatchChecker(expectationFromLayout(batch.layout, ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths']));
    }
    this.checker.check(batch);
  }

  private expire(call: Call, deadlineMs: number): void {
    if (call.settled) return;
    call.settled = true;
    this.counters.timedOut++;
    if (this.isQueued(call)) this.queuedRows -= call.batch.rows;
    call.reject(new CtrkitError('E_TIMEOUT', `prediction missed its ${deadlineMs} ms deadline; the model is overloaded or maxWaitMs is too long for this deadline`, { details: { deadlineMs } }));
  }

  private isQueued(call: Call): boolean {
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i] === call) return true;
    return false;
  }

  flush(): void {
    this.flushRequested = true;
    this.pump();
  }

  private nextCall(): Call | undefined {
    while (this.head < this.queue.length) {
      const call = this.queue[this.head] as Call;
      if (!call.settled) return call;
      this.head++;
    }
    return undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const first = this.nextCall();
      if (first === undefined) {
        this.flushRequested = false;
        this.queue = [];
        this.head = 0;
        break;
      }
      const waited = this.scheduler.clock.now() - first.enqueuedAt;
      if (!(this.flushRequested || this.disposed || this.queuedRows >= this.maxBatchRows || waited >= this.maxWaitMs)) {
        if (this.waitTimer === undefined) {
          this.waitTimer = this.scheduler.setTimeout(() => {
            this.waitTimer = undefined;
            this.pump();
          }, this.maxWaitMs - waited);
        }
        return;
      }
      this.dispatch(first);
    }
    if (this.inFlight === 0 && this.nextCall() === undefined && this.drained !== undefined) this.drained();
  }

  private dispatch(first: Call): void {
    if (this.waitTimer !== undefined) {
      this.scheduler.clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
    }
    if (first.batch.rows > this.maxBatchRows) {
      // Too big to merge: it is a batch already, so it runs alone without a copy.
      this.head++;
      this.queuedRows -= first.batch.rows;
      this.run([first], first.batch, first.out, undefined);
      return;
    }
    const calls: Call[] = [];
    let rows = 0;
    while (this.head < this.queue.length) {
      const call = this.queue[this.head] as Call;
      if (call.settled) {
        this.head++;
        continue;
      }
      if (rows + call.batch.rows > this.maxBatchRows) break;
      calls.push(call);
      rows += call.batch.rows;
      this.head++;
    }
    this.queuedRows -= rows;
    if (this.nextCall() === undefined) this.flushRequested = false;
    this.compact();
    if (calls.length === 1) {
      const only = calls[0] as Call;
      this.run(calls, only.batch, only.out, undefined);
      return;
    }
    const buffers = this.free.pop() ?? this.allocate();
    const merged = this.merge(calls, rows, buffers);
    this.run(calls, merged, buffers.out.subarray(0, rows), buffers);
  }

  private allocate(): Buffers {
    const layout = this.layout as FeatureLayout;
    const n = this.maxBatchRows;
    const S = layout.sequences.length;
    const L = sequenceStride(layout);
    return {
      ids: new Int32Array(n * layout.idWidth),
      values: new Float32Array(n * layout.idWidth),
      dense: new Float32Array(n * layout.denseWidth),
      sequenceIds: new Int32Array(n * S * L),
      sequenceLengths: new Int32Array(n * S),
      out: new Float32Array(n),
    };
  }

  private merge(calls: readonly Call[], rows: number, buffers: Buffers): FeatureBatch {
    const layout = this.layout as FeatureLayout;
    const idWidth = layout.idWidth;
    const denseWidth = layout.denseWidth;
    const S = layout.sequences.length;
    const SL = S * sequenceStride(layout);
    let row = 0;
    for (const call of calls) {
      const b = call.batch;
      buffers.ids.set(b.ids, row * idWidth);
      buffers.values.set(b.values, row * idWidth);
      if (denseWidth > 0) buffers.dense.set(b.dense, row * denseWidth);
      if (S > 0) {
        buffers.sequenceIds.set(b.sequenceIds, row * SL);
        buffers.sequenceLengths.set(b.sequenceLengths, row * S);
      }
      row += b.rows;
    }
    return {
      layout,
      rows,
      ids: buffers.ids.subarray(0, rows * idWidth),
      values: buffers.values.subarray(0, rows * idWidth),
      dense: buffers.dense.subarray(0, rows * denseWidth),
      sequenceIds: buffers.sequenceIds.subarray(0, rows * SL),
      sequenceLengths: buffers.sequenceLengths.subarray(0, rows * S),
    };
  }

  private run(calls: readonly Call[], batch: FeatureBatch, out: Float32Array, buffers: Buffers | undefined): void {
    this.inFlight++;
    this.counters.batches++;
    this.counters.rows += batch.rows;
    let promise: Promise<Float32Array>;
    try {
      promise = this.runner.predict(batch, out);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (result) => {
        let row = 0;
        for (const call of calls) {
          const rows = call.batch.rows;
          if (!call.settled) {
            if (result !== call.out) call.out.set(result.subarray(row, row + rows));
            this.settle(call);
            call.resolve(call.out);
          }
          row += rows;
        }
      },
      (error: unknown) => {
        const failure = toCtrkitError(error, 'E_INFERENCE', 'model failed on a merged batch');
        for (const call of calls) {
          if (call.settled) continue;
          this.settle(call);
          call.reject(failure);
        }
      },
    ).finally(() => {
      if (buffers !== undefined) this.free.push(buffers);
      this.inFlight--;
      this.pump();
    });
  }

  private settle(call: Call): void {
    call.settled = true;
    if (call.timer !== undefined) this.scheduler.clearTimeout(call.timer);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Calls already accepted still run; then the wrapped runner is released.
    await new Promise<void>((resolve) => {
      this.drained = resolve;
      this.pump();
    });
    await this.runner.dispose();
  }
}

/**
 * Wraps a runner in a {@link MicroBatcher}.
 *
 * @param runner - The runner merged batches go to (the batcher disposes it on `dispose`).
 * @param options - Batch size, wait, queue bound, in-flight batches, default deadline, scheduler.
 * @returns The batcher.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive size, bound or deadline.
 * @remarks Allocates its merged buffers once per in-flight batch; per call it allocates only the
 * call record and its promise. Calls are rejected with `E_QUEUE_FULL` at once when the queue is
 * full, with `E_TIMEOUT` when their deadline passes, and with `E_INPUT` when their batch is invalid.
 * @example
 * ```ts
 * import { createManualScheduler, createMicroBatcher } from '@ctrkit/models';
 * import type { FeatureBatch, ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * declare const rows: FeatureBatch[];
 * const scheduler = createManualScheduler();
 * const batcher = createMicroBatcher(runner, { maxBatchRows: 32, maxWaitMs: 2, scheduler });
 * const pending = rows.map((row) => batcher.predict(row));
 * await scheduler.advance(2); // the wait elapses: one merged batch runs
 * const results = await Promise.all(pending);
 * ```
 */
export function createMicroBatcher(runner: ModelRunner, options: MicroBatcherOptions = {}): MicroBatcher {
  if (typeof runner !== 'object' || runner === null || typeof runner.predict !== 'function') {
    throw new CtrkitError('E_CONFIG', 'createMicroBatcher needs a ModelRunner');
  }
  return new Batcher(runner, options);
}
