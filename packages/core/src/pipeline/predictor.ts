/**
 * The prediction half of the request path, {@link createPredictor}: store lookup → encode →
 * predict → calibrate, each within its budget, degrading rather than missing the auction.
 */
import type { Calibrator } from '../calibration/calibrator.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { CtrkitError, describeError, ensure, isCtrkitError } from '../errors.js';
import type { PipelineMetrics } from '../monitor/pipeline-metrics.js';
import type { FeatureBatch, FeatureEncoder, FeatureStore, ModelRunner, StoreLookup } from '../stages.js';
import { defaultScheduler, type TimerScheduler } from '../timer-scheduler.js';
import type { AdRequest } from '../types/request.js';
import { createBatchPool } from './batch-pool.js';
import { TIMED_OUT, within } from './deadline.js';
import { DEFAULT_STAGE_BUDGETS, type Degradation, type PredictionResult, type PredictionStage, type StageBudgets } from './prediction.js';
import { createUserCounterCache } from './user-counter-cache.js';

/** Options for {@link createPredictor}.
 *
 * @example
 * ```ts
 * import type { PredictorOptions } from '@ctrkit/core';
 * const partial: Partial<PredictorOptions> = { deadlineMs: 8, userCacheTtlMs: 1_000, defaultPctr: 0 };
 * ```
 */
export interface PredictorOptions {
  /** Turns the request and its lookup into a batch. */
  readonly encoder: FeatureEncoder;
  /** Real-time counters; without a store, store fields are missing. */
  readonly store?: FeatureStore;
  /** The model. */
  readonly runner: ModelRunner;
  /** Used when the model throws, runs late or returns NaN. */
  readonly fallback?: ModelRunner;
  /** Applied after the model (identity when absent). */
  readonly calibrator?: Calibrator;
  /** Per-stage budgets (defaults {@link DEFAULT_STAGE_BUDGETS}). */
  readonly budgets?: Partial<StageBudgets>;
  /** Deadline of the whole prediction in ms (default: the sum of the budgets). */
  readonly deadlineMs?: number;
  /** Reuse a user's store counters for this long without asking the store again (default 0: always ask). */
  readonly userCacheTtlMs?: number;
  /**
   * Users whose last good counters are kept (default 256; least recently stored evicted first):
   * reused within `userCacheTtlMs`, and as stale counters when the store fails.
   */
  readonly userCacheSize?: number;
  /** Score given when no model could answer (default 0: such candidates do not win CPC/CPA auctions). */
  readonly defaultPctr?: number;
  /** Records stage latencies, errors and degradations. */
  readonly metrics?: PipelineMetrics;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
  /** Timers for deadlines (default the global `setTimeout`). */
  readonly scheduler?: TimerScheduler;
  /**
   * Hand each request's encoded batch to the caller in {@link PredictionResult.batch} (default
   * false). The batch is then a fresh allocation per request instead of a pooled one, which is the
   * price of keeping the served bits for training.
   */
  readonly keepBatch?: boolean;
}

/**
 * The prediction half of the request path: store lookup → encode → predict → calibrate, each
 * within its budget, degrading rather than missing the auction.
 *
 * @example
 * ```ts
 * import { createPredictor, type AdRequest, type FeatureEncoder, type ModelRunner } from '@ctrkit/core';
 * declare const encoder: FeatureEncoder;
 * declare const runner: ModelRunner;
 * declare const request: AdRequest;
 * const predictor = createPredictor({ encoder, runner });
 * const { pCtr, degraded } = await predictor.predict(request);
 * ```
 */
export interface Predictor {
  /** Scores every candidate of a request. Never rejects for a stage failure; rejects with `E_INPUT` for a request without candidates. */
  predict(request: AdRequest): Promise<PredictionResult>;
}

/**
 * Creates a {@link Predictor}.
 *
 * Degradation rules — the result always holds one finite probability per candidate:
 * - lookup late or failing → the user's last good counters when cached, else the store's own
 *   degraded answer (its priors), else unknown counters (store fields go to their missing buckets);
 * - encode failing → every candidate gets `defaultPctr`;
 * - model failing, late, or returning NaN → the fallback model, then `defaultPctr`;
 * - calibration failing → the model's probabilities uncalibrated.
 * Candidates that repeat an ad id are scored once. Concurrent calls with the same `requestId`
 * share one computation.
 *
 * @param options - Stages, budgets, caches and instrumentation.
 * @returns The predictor.
 * @throws {@link CtrkitError} `E_CONFIG` on a non-positive budget or deadline, or a default score outside [0, 1].
 * @example
 * ```ts
 * import { createIsotonicCalibrator, createPredictor, type FeatureEncoder, type FeatureStore, type ModelRunner } from '@ctrkit/core';
 * declare const encoder: FeatureEncoder;
 * declare const store: FeatureStore;
 * declare const runner: ModelRunner;
 * const predictor = createPredictor({
 *   encoder, store, runner,
 *   calibrator: createIsotonicCalibrator().fit([0.1, 0.5, 0.9], [0, 1, 1]),
 *   budgets: { predict: 2 },
 *   userCacheTtlMs: 500,
 * });
 * ```
 */
export function createPredictor(options: PredictorOptions): Predictor {
  const budgets: StageBudgets = { ...DEFAULT_STAGE_BUDGETS, ...options.budgets };
  for (const [stage, ms] of Object.entries(budgets)) {
    ensure(Number.isFinite(ms) && ms > 0, 'E_CONFIG', () => `budget for ${stage} must be a positive number of ms, got ${ms}`);
  }
  const deadlineMs = options.deadlineMs ?? budgets.lookup + budgets.encode + budgets.predict + budgets.calibrate;
  ensure(Number.isFinite(deadlineMs) && deadlineMs > 0, 'E_CONFIG', () => `deadlineMs must be positive, got ${deadlineMs}`);
  const defaultPctr = options.defaultPctr ?? 0;
  ensure(defaultPctr >= 0 && defaultPctr <= 1, 'E_CONFIG', () => `defaultPctr must be in [0, 1], got ${defaultPctr}`);
  const { encoder, store, runner, fallback, calibrator, metrics } = options;
  const clock = options.clock ?? systemClock;
  const scheduler = options.scheduler ?? defaultScheduler;
  const cacheTtl = options.userCacheTtlMs ?? 0;
  const keepBatch = options.keepBatch === true;
  const userCache = createUserCounterCache(options.userCacheSize ?? 256);
  // Batches are reused across requests: a request takes one from the pool and gives it back once
  // the model has answered (never when the model was abandoned mid-call, as it may still read it).
  const pool = createBatchPool(encoder.layout);
  const inFlight = new Map<string, Promise<PredictionResult>>();

  /** Counters for a store that never answered: NaN everywhere, so store fields go to their missing buckets. */
  const unknownLookup = (rows: number, reason: string): StoreLookup => ({
    names: store?.names ?? [],
    rows,
    values: new Float32Array(rows * (store?.names.length ?? 0)).fill(Number.NaN),
    degraded: true,
    reason,
  });

  async function run(request: AdRequest): Promise<PredictionResult> {
    const started = clock.now();
    const deadline = started + deadlineMs;
    const remaining = (budget: number): number => Math.min(budget, deadline - clock.now());
    const degraded: Degradation[] = [];
    const timings: Record<PredictionStage | 'total', number> = { lookup: 0, encode: 0, predict: 0, calibrate: 0, total: 0 };
    const degrade = (d: Degradation): void => {
      degraded.push(d);
      metrics?.recordDegradation(d.stage, d.reason);
    };

    // Score each distinct ad once: duplicates in the request share their row.
    let unique: AdRequest = request;
    let rowOf: Int32Array | undefined;
    {
      const seen = new Map<string, number>();
      const map = new Int32Array(request.candidates.length);
      request.candidates.forEach((candidate, i) => {
        const existing = seen.get(candidate.adId);
        if (existing === undefined) {
          seen.set(candidate.adId, seen.size);
          map[i] = seen.size - 1;
        } else map[i] = existing;
      });
      if (seen.size < request.candidates.length) {
        rowOf = map;
        const firsts = [...seen.keys()].map((adId) => request.candidates.find((c) => c.adId === adId)!);
        unique = { ...request, candidates: firsts };
      }
    }
    const rows = unique.candidates.length;

    // 1. Store lookup.
    let lookup: StoreLookup | undefined;
    if (store !== undefined) {
      const t0 = clock.now();
      const cached = cacheTtl > 0 ? userCache.lookup(unique, t0, cacheTtl) : undefined;
      if (cached?.complete === true) {
        lookup = cached.lookup;
      } else {
        const budget = remaining(budgets.lookup);
        let failure: { reason: 'deadline' | 'error'; detail: string } | undefined;
        let storeFallback: StoreLookup | undefined;
        try {
          // The store degrades by itself when it can (its empty answer carries priors, e.g. a
          // smoothed CTR for an unseen ad); our own timer covers a store that never answers.
          const answer = await within(store.lookup(unique.user, unique.candidates, unique.context.timestamp, { deadlineMs: budget, degradeOnError: true }), budget, scheduler);
          if (answer === TIMED_OUT) {
            failure = { reason: 'deadline', detail: `store did not answer within ${budget.toFixed(2)} ms` };
          } else if (answer.degraded) {
            storeFallback = answer;
            const reason = answer.reason ?? 'store degraded';
            failure = { reason: /deadline|timed? ?out|within/i.test(reason) ? 'deadline' : 'error', detail: reason };
          } else {
            lookup = answer;
            userCache.remember(unique.user.id, unique, answer, clock.now());
          }
        } catch (error) {
          const late = isCtrkitError(error) && error.code === 'E_TIMEOUT';
          failure = { reason: late ? 'deadline' : 'error', detail: describeError(error) };
        }
        if (failure !== undefined) {
          const stale = userCache.lookup(unique, clock.now(), Number.POSITIVE_INFINITY);
          lookup = stale?.lookup ?? storeFallback ?? unknownLookup(rows, failure.detail);
          metrics?.recordError('lookup', failure.reason === 'deadline' ? 'E_TIMEOUT' : 'E_STORE');
          degrade({ stage: 'lookup', reason: failure.reason, action: stale ? 'cached-features' : 'empty-features', detail: failure.detail });
        }
      }
      timings.lookup = clock.now() - t0;
      metrics?.recordStage('lookup', timings.lookup);
    }

    // 2. Encode.
    const raw = new Float32Array(rows);
    let batch: FeatureBatch | undefined;
    let scratch: FeatureBatch | undefined;
    let abandoned = false;
    let modelVersion = 'default';
    {
      const t0 = clock.now();
      try {
        // A kept batch leaves with the result, so it cannot come from (or go back to) the pool.
        if (keepBatch) batch = encoder.encode(unique, lookup);
        else {
          scratch = pool.acquire(rows);
          batch = encoder.encode(unique, lookup, scratch);
        }
      } catch (error) {
        metrics?.recordError('encode', isCtrkitError(error) ? error.code : 'unknown');
        degrade({ stage: 'encode', reason: 'error', action: 'default-score', detail: describeError(error) });
      }
      timings.encode = clock.now() - t0;
      metrics?.recordStage('encode', timings.encode);
    }

    // 3. Predict, with the fallback model when the primary fails.
    if (batch !== undefined) {
      const t0 = clock.now();
      const attempt = async (model: ModelRunner, label: 'primary' | 'fallback'): Promise<boolean> => {
        const budget = label === 'primary' ? remaining(budgets.predict) : deadline - clock.now();
        if (!(budget > 0)) {
          degrade({ stage: 'predict', reason: 'skipped', action: label === 'primary' && fallback ? 'fallback-model' : 'default-score', detail: `no time left for the ${label} model` });
          return false;
        }
        try {
          const out = await within(model.predict(batch as FeatureBatch, new Float32Array(rows)), budget, scheduler);
          if (out === TIMED_OUT) {
            abandoned = true;
            metrics?.recordError('predict', 'E_TIMEOUT');
            degrade({ stage: 'predict', reason: 'deadline', action: label === 'primary' && fallback ? 'fallback-model' : 'default-score', detail: `${label} model (${model.info.version}) ran past ${budget.toFixed(2)} ms` });
            return false;
          }
          let bad = 0;
          for (let i = 0; i < rows; i++) {
            const p = out[i] as number;
            if (!(p >= 0 && p <= 1)) bad++;
          }
          if (bad > 0) {
            metrics?.recordError('predict', 'nan');
            degrade({ stage: 'predict', reason: 'nan', action: label === 'primary' && fallback ? 'fallback-model' : 'default-score', detail: `${label} model (${model.info.version}) returned ${bad} of ${rows} scores outside [0, 1]` });
            return false;
          }
          raw.set(out.subarray(0, rows));
          modelVersion = model.info.version;
          return true;
        } catch (error) {
          metrics?.recordError('predict', isCtrkitError(error) ? error.code : 'unknown');
          degrade({ stage: 'predict', reason: 'error', action: label === 'primary' && fallback ? 'fallback-model' : 'default-score', detail: describeError(error) });
          return false;
        }
      };
      const ok = (await attempt(runner, 'primary')) || (fallback !== undefined && (await attempt(fallback, 'fallback')));
      if (!ok) raw.fill(defaultPctr);
      if (!abandoned && scratch !== undefined) pool.giveBack(scratch);
      timings.predict = clock.now() - t0;
      metrics?.recordStage('predict', timings.predict);
    } else {
      raw.fill(defaultPctr);
    }

    // 4. Calibrate (only real model scores; a default score is already a probability).
    let pCtr = raw;
    if (calibrator !== undefined && modelVersion !== 'default') {
      const t0 = clock.now();
      try {
        const calibrated = calibrator.apply(raw, new Float32Array(rows));
        for (let i = 0; i < rows; i++) {
          const p = calibrated[i] as number;
          if (!(p >= 0 && p <= 1)) throw new Error(`calibrator returned ${p} for row ${i}`);
        }
        pCtr = calibrated;
      } catch (error) {
        metrics?.recordError('calibrate', isCtrkitError(error) ? error.code : 'unknown');
        degrade({ stage: 'calibrate', reason: 'error', action: 'uncalibrated', detail: describeError(error) });
      }
      timings.calibrate = clock.now() - t0;
      metrics?.recordStage('calibrate', timings.calibrate);
    }

    const fanOut = (values: Float32Array): Float32Array => (rowOf === undefined ? values : Float32Array.from(rowOf, (r) => values[r] as number));
    timings.total = clock.now() - started;
    metrics?.recordRequest(timings.total, request.candidates.length);
    const kept = keepBatch && batch !== undefined ? { batch, batchRows: rowOf ?? Int32Array.from(request.candidates, (_, i) => i) } : {};
    const result = { requestId: request.requestId, pCtr: fanOut(pCtr), raw: fanOut(raw), modelVersion, degraded, timings, ...kept };
    // The lookup is per distinct ad; it is passed on only when it lines up with the request's candidates.
    return lookup !== undefined && rowOf === undefined ? { ...result, lookup } : result;
  }

  return {
    predict(request) {
      if (!request || !Array.isArray(request.candidates) || request.candidates.length === 0 || typeof request.user?.id !== 'string') {
        return Promise.reject(new CtrkitError('E_INPUT', 'predict: the request needs a user with an id and at least one candidate'));
      }
      const existing = inFlight.get(request.requestId);
      if (existing !== undefined) return existing;
      const promise = run(request).finally(() => inFlight.delete(request.requestId));
      inFlight.set(request.requestId, promise);
      return promise;
    },
  };
}
