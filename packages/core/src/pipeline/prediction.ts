/**
 * What a prediction is made of and what it returns: the stages, their time budgets, the
 * degradations a stage can suffer, and the result handed to the ad selector.
 */
import type { FeatureBatch, StoreLookup } from '../stages.js';

/** The stages a prediction passes through, in order.
 *
 * @example
 * ```ts
 * import type { PredictionStage } from '@ctrkit/core';
 * const stage: PredictionStage = 'predict';
 * ```
 */
export type PredictionStage = 'lookup' | 'encode' | 'predict' | 'calibrate';

/** Time allowed to each stage, in milliseconds.
 *
 * @example
 * ```ts
 * import type { StageBudgets } from '@ctrkit/core';
 * const tight: StageBudgets = { lookup: 2, encode: 1, predict: 3, calibrate: 0.5 };
 * ```
 */
export type StageBudgets = Readonly<Record<PredictionStage, number>>;

/**
 * Default stage budgets, from the serving design this SDK follows: retrieval (store lookup)
 * 3 ms, features 2 ms, inference 4 ms, calibration 0.5 ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_STAGE_BUDGETS } from '@ctrkit/core';
 * console.log(DEFAULT_STAGE_BUDGETS.predict); // 4
 * ```
 */
export const DEFAULT_STAGE_BUDGETS: StageBudgets = Object.freeze({ lookup: 3, encode: 2, predict: 4, calibrate: 0.5 });

/** A stage that did not run as planned, and what the predictor did instead.
 *
 * @example
 * ```ts
 * import type { Degradation } from '@ctrkit/core';
 * const degradation: Degradation = { stage: 'lookup', reason: 'deadline', action: 'cached-features', detail: 'store answered after 3 ms' };
 * ```
 */
export interface Degradation {
  /** Which stage. */
  readonly stage: PredictionStage;
  /** Why: `deadline` (ran late), `error` (threw), `nan` (returned non-numbers), `skipped` (no time left). */
  readonly reason: 'deadline' | 'error' | 'nan' | 'skipped';
  /** What was used instead. */
  readonly action: 'cached-features' | 'empty-features' | 'fallback-model' | 'default-score' | 'uncalibrated';
  /** Human-readable detail (the error message, the time spent). */
  readonly detail: string;
}

/** What {@link Predictor.predict} returns.
 *
 * @example
 * ```ts
 * import type { PredictionResult } from '@ctrkit/core';
 * const best = (r: PredictionResult) => Math.max(...r.pCtr);
 * ```
 */
export interface PredictionResult {
  /** The request's id. */
  readonly requestId: string;
  /** Calibrated click probability per candidate, in request order; always finite, in [0, 1]. */
  readonly pCtr: Float32Array;
  /** The model's probability before calibration, per candidate. */
  readonly raw: Float32Array;
  /** Version of the model that produced the scores (`default` when none could). */
  readonly modelVersion: string;
  /** Stages that degraded; empty on the happy path. */
  readonly degraded: readonly Degradation[];
  /** Milliseconds spent per stage, and in total. */
  readonly timings: Readonly<Record<PredictionStage | 'total', number>>;
  /** The store's counters the scores were computed with (for frequency caps downstream). */
  readonly lookup?: StoreLookup;
  /**
   * The encoded rows the model scored, one per distinct ad in order of first appearance, owned by
   * the caller (only with `keepBatch`, and only when encoding succeeded): what a served-row log or
   * an online trainer needs, as `servedRowOf(result.batch, result.batchRows[i], …)` for candidate i.
   */
  readonly batch?: FeatureBatch;
  /** With `batch`: the row of `batch` that scored each candidate, in request order. */
  readonly batchRows?: Int32Array;
}
