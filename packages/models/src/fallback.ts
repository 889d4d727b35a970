/** A fallback model, used when the primary fails or misses its deadline. */
import { CtrkitError, isCtrkitError, type FeatureBatch, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { Lifecycle } from './runner/lifecycle.js';
import { outputFor } from './runner/output-buffer.js';
import { systemScheduler, type Scheduler } from './scheduler.js';

/** Why a call went to the fallback.
 *
 * @example
 * ```ts
 * import type { FallbackReason } from '@ctrkit/models';
 * const reason: FallbackReason = 'timeout';
 * ```
 */
export type FallbackReason = 'error' | 'timeout';

/** Options for {@link createFallbackRunner}.
 *
 * @example
 * ```ts
 * import type { FallbackOptions } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const dcn: ModelRunner;
 * declare const lr: ModelRunner;
 * const options: FallbackOptions = { primary: dcn, fallback: lr, deadlineMs: 5, onFallback: (reason) => console.warn(reason) };
 * ```
 */
export interface FallbackOptions {
  /** The model normally used. */
  readonly primary: ModelRunner;
  /** The model used when the primary errors or is late (usually cheap: LR on the native backend). */
  readonly fallback: ModelRunner;
  /** The primary's deadline in ms (default: none, only errors fall back). */
  readonly deadlineMs?: number;
  /** Timers and clock (default: the system scheduler). */
  readonly scheduler?: Scheduler;
  /** Told about every fallback (for metrics and logs). */
  readonly onFallback?: (reason: FallbackReason, error: unknown) => void;
}

/** Counters of a {@link FallbackRunner}.
 *
 * @example
 * ```ts
 * import type { FallbackStats } from '@ctrkit/models';
 * const rate = (s: FallbackStats) => (s.errors + s.timeouts) / Math.max(1, s.calls);
 * ```
 */
export interface FallbackStats {
  /** Calls made. */
  readonly calls: number;
  /** Calls the primary answered in time. */
  readonly primary: number;
  /** Calls that fell back because the primary failed. */
  readonly errors: number;
  /** Calls that fell back because the primary was late. */
  readonly timeouts: number;
}

/** A runner that answers from the fallback when the primary fails or is late.
 *
 * @example
 * ```ts
 * import type { FallbackRunner } from '@ctrkit/models';
 * const report = (runner: FallbackRunner) => console.log(runner.stats().timeouts);
 * ```
 */
export interface FallbackRunner extends ModelRunner {
  /** Counters since creation. */
  stats(): FallbackStats;
}

class Fallback implements FallbackRunner {
  private readonly scheduler: Scheduler;
  private readonly deadlineMs: number | undefined;
  private readonly lifecycle = new Lifecycle(() => 'fallback runner');
  private counters = { calls: 0, primary: 0, errors: 0, timeouts: 0 };

  constructor(private readonly options: FallbackOptions) {
    if (options.deadlineMs !== undefined && !(Number.isFinite(options.deadlineMs) && options.deadlineMs > 0)) {
      throw new CtrkitError('E_CONFIG', `deadlineMs must be a positive number, got ${options.deadlineMs}`);
    }
    if (options.primary.info.fingerprint !== options.fallback.info.fingerprint) {
      throw new CtrkitError(
        'E_CONFIG',
        `primary and fallback were trained on different feature specs (${options.primary.info.fingerprint} and ${options.fallback.info.fingerprint}); both must read the same batch`,
      );
    }
    this.deadlineMs = options.deadlineMs;
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  get info(): ModelInfo {
    return this.options.primary.info;
  }

  stats(): FallbackStats {
    return { ...this.counters };
  }

  async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    this.lifecycle.enter();
    try {
      this.counters.calls++;
      const rows = batch?.rows;
      const target = outputFor(out, Number.isInteger(rows) && rows >= 0 ? rows : 0);
      // The primary writes into its own buffer: if it finishes after the deadline, it must not
      // overwrite the fallback's answer the caller already has.
      const scratch = new Float32Array(target.length);
      const outcome = await this.race(this.options.primary.predict(batch, scratch));
      if (outcome.ok) {
        this.counters.primary++;
        target.set(scratch);
        return target;
      }
      if (isCtrkitError(outcome.error) && outcome.error.code === 'E_INPUT') throw outcome.error; // bad input fails the fallback too
      if (outcome.reason === 'timeout') this.counters.timeouts++;
      else this.counters.errors++;
      this.options.onFallback?.(outcome.reason, outcome.error);
      try {
        return await this.options.fallback.predict(batch, target);
      } catch (error) {
        throw new CtrkitError(
          'E_INFERENCE',
          `primary ${outcome.reason === 'timeout' ? 'missed its deadline' : 'failed'} (${(outcome.error as Error)?.message ?? String(outcome.error)}) and the fallback failed too: ${(error as Error)?.message ?? String(error)}`,
          { cause: error },
        );
      }
    } finally {
      this.lifecycle.exit();
    }
  }

  private race(primary: Promise<Float32Array>): Promise<{ ok: true } | { ok: false; reason: FallbackReason; error: unknown }> {
    return new Promise((resolve) => {
      let done = false;
      let timer: unknown;
      if (this.deadlineMs !== undefined) {
        const deadlineMs = this.deadlineMs;
        timer = this.scheduler.setTimeout(() => {
          if (done) return;
          done = true;
          resolve({ ok: false, reason: 'timeout', error: new CtrkitError('E_TIMEOUT', `primary model missed its ${deadlineMs} ms deadline`) });
        }, deadlineMs);
      }
      primary.then(
        () => {
          if (done) return;
          done = true;
          if (timer !== undefined) this.scheduler.clearTimeout(timer);
          resolve({ ok: true });
        },
        (error: unknown) => {
          // A late failure is observed here too, so it never becomes an unhandled rejection.
          if (done) return;
          done = true;
          if (timer !== undefined) this.scheduler.clearTimeout(timer);
          resolve({ ok: false, reason: 'error', error });
        },
      );
    });
  }

  dispose(): Promise<void> {
    return this.lifecycle.dispose(async () => {
      await Promise.all([this.options.primary.dispose(), this.options.fallback.dispose()]);
    });
  }
}

/**
 * Creates a {@link FallbackRunner}: the primary answers unless it throws or misses `deadlineMs`;
 * then the fallback answers. Bad input (`E_INPUT`) is not retried on the fallback — it would fail
 * there too — and is rethrown.
 *
 * @param options - Primary, fallback, deadline, scheduler, listener.
 * @returns The runner; disposing it disposes both models.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive deadline or models of different feature specs.
 * @remarks Allocates one `rows` scratch array per call for the primary's answer.
 * @example
 * ```ts
 * import { createFallbackRunner } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const dcn: ModelRunner;
 * declare const lr: ModelRunner;
 * const runner = createFallbackRunner({ primary: dcn, fallback: lr, deadlineMs: 5 });
 * ```
 */
export function createFallbackRunner(options: FallbackOptions): FallbackRunner {
  return new Fallback(options);
}
