/**
 * What an online refresher decides and reports: why and when it decided, the two models' scores
 * on the window, and its counters.
 */
import { auc, logLoss, type OnlineLearningCounters } from '@ctrkit/core';

/** Why a refresh did what it did: `not-worse` is the one reason that swaps.
 *
 * - `not-worse` — the candidate's log loss passed the guard; it serves now.
 * - `worse` — the candidate's log loss exceeded the serving model's by more than the tolerance.
 * - `too-few-rows`, `too-few-positives` — the window is too small to judge; nothing was scored.
 * - `serving-changed` — someone else swapped the serving model while the candidate was judged.
 * - `failed` — scoring or the swap threw; the serving model stays (the message says why).
 *
 * @example
 * ```ts
 * import type { RefreshReason } from '@ctrkit/models';
 * const judged = (r: RefreshReason) => r === 'not-worse' || r === 'worse';
 * ```
 */
export type RefreshReason = 'not-worse' | 'worse' | 'too-few-rows' | 'too-few-positives' | 'serving-changed' | 'failed';

/** What set a refresh off: enough rows learned, enough time passed, or a call to `refresh()`.
 *
 * @example
 * ```ts
 * import type { RefreshTrigger } from '@ctrkit/models';
 * const scheduled = (t: RefreshTrigger) => t !== 'forced';
 * ```
 */
export type RefreshTrigger = 'rows' | 'time' | 'forced';

/** Log loss and AUC of one model on the window.
 *
 * @example
 * ```ts
 * import type { WindowScore } from '@ctrkit/models';
 * const describe = (s: WindowScore) => `log loss ${s.logLoss.toFixed(4)}, AUC ${s.auc.toFixed(3)}`;
 * ```
 */
export interface WindowScore {
  /** Mean log loss (nats). */
  readonly logLoss: number;
  /** ROC AUC; NaN when the window holds one class only. */
  readonly auc: number;
}

/** One decision of the refresher: swap or refusal, with the figures it rested on.
 *
 * @example
 * ```ts
 * import type { RefreshDecision } from '@ctrkit/models';
 * const gain = (d: RefreshDecision) => (d.serving && d.candidate ? d.serving.logLoss - d.candidate.logLoss : undefined);
 * ```
 */
export interface RefreshDecision {
  /** Whether the candidate now serves. */
  readonly swapped: boolean;
  /** Why. */
  readonly reason: RefreshReason;
  /** What set it off. */
  readonly trigger: RefreshTrigger;
  /** The one log line written for it. */
  readonly message: string;
  /** The candidate's version, when a snapshot was taken. */
  readonly candidateVersion: string | undefined;
  /** The version serving when the decision started. */
  readonly servingVersion: string;
  /** Window rows the models were judged on. */
  readonly rows: number;
  /** Clicks among them. */
  readonly positives: number;
  /** Rows the trainer had learned when the candidate was snapshotted. */
  readonly rowsLearned: number;
  /** The candidate's figures, when scored. */
  readonly candidate: WindowScore | undefined;
  /** The serving model's figures (calibrated, as served), when scored. */
  readonly serving: WindowScore | undefined;
  /** When the decision started, by the refresher's clock. */
  readonly at: number;
}

/** Counters of an {@link OnlineRefresher}.
 *
 * @example
 * ```ts
 * import type { OnlineRefresherStats } from '@ctrkit/models';
 * const summary = (s: OnlineRefresherStats) => `${s.swaps} swaps, ${s.refusals} refusals, serving ${s.servingVersion}`;
 * ```
 */
export interface OnlineRefresherStats extends OnlineLearningCounters {
  /** Decisions made (swaps + refusals). */
  readonly decisions: number;
  /** The last decision, if any. */
  readonly lastDecision: RefreshDecision | undefined;
  /** The version kept for rollback, if any. */
  readonly previousVersion: string | undefined;
}

/** @internal A figure to `digits` decimals, `n/a` when absent or NaN. */
export const fixed = (x: number | undefined, digits: number): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

/**
 * Log loss and AUC of scores on the window (AUC NaN unless both classes are present).
 *
 * @param labels - The window's labels.
 * @param scores - A model's scores of it.
 * @param positives - The clicks among the labels.
 * @returns The score.
 * @internal
 */
export function scoreOf(labels: Float32Array, scores: Float32Array, positives: number): WindowScore {
  const n = labels.length;
  return { logLoss: logLoss(labels, scores), auc: positives > 0 && positives < n ? auc(labels, scores) : Number.NaN };
}
