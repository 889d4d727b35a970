/**
 * The online trainer: a model that keeps learning from labeled served rows while it serves, and
 * hands out frozen snapshots of itself for a hot swap. `@ctrkit/models` implements it with
 * FTRL-Proximal LR and a factorization machine; a scheduler (the models package's online
 * refresher) decides when a snapshot is good enough to serve.
 */
import { CtrkitError } from './errors.js';
import type { JoinedRow } from './label-joiner.js';
import { servedRowsToBatch } from './served-row.js';
import type { FeatureBatch, FeatureLayout, ModelRunner } from './stages.js';

/**
 * A model that learns from rows as they come and can freeze a copy of itself to serve.
 *
 * @example
 * ```ts
 * import type { FeatureBatch, OnlineTrainer } from '@ctrkit/core';
 * declare const trainer: OnlineTrainer;
 * declare const batch: FeatureBatch;
 * declare const clicks: Float32Array;
 * const progressive = trainer.update(batch, clicks); // scored before each row was learned
 * const frozen = trainer.snapshot(`online-${trainer.rowsSeen}`);
 * const scores = await frozen.predict(batch);
 * ```
 */
export interface OnlineTrainer {
  /** The layout of the batches it learns from and scores. */
  readonly layout: FeatureLayout;
  /** Rows learned from so far. */
  readonly rowsSeen: number;
  /**
   * Learns from rows in order, one at a time.
   *
   * @param batch - Encoded rows of the trainer's layout.
   * @param labels - One 0/1 label per row.
   * @param out - Optional buffer for the predictions.
   * @returns Each row's prediction from *before* it was learned (progressive validation).
   * @throws `CtrkitError` `E_INPUT` on a batch of another layout or a label other than 0/1.
   */
  update(batch: FeatureBatch, labels: ArrayLike<number>, out?: Float32Array): Float32Array;
  /**
   * Scores with the current weights, learning nothing.
   *
   * @param batch - Encoded rows.
   * @param out - Optional buffer.
   * @returns Click probabilities.
   * @throws `CtrkitError` `E_INPUT` on a bad batch or `out`.
   */
  predict(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /**
   * A frozen copy of the current weights as a {@link ModelRunner} whose `info.version` is
   * `version`; later updates do not touch it. Its predictions equal {@link OnlineTrainer.predict}
   * at the moment of the snapshot (to float32 rounding of the weights).
   *
   * @param version - The version the runner reports.
   * @returns A runner owning its copy of the weights.
   * @throws `CtrkitError` `E_INPUT` on an empty version.
   */
  snapshot(version: string): ModelRunner;
}

/**
 * The counters of an online-learning loop (a scheduler that snapshots an {@link OnlineTrainer}
 * and swaps the snapshot in when it is not worse), as monitoring reads them — what
 * `@ctrkit/core/prometheus` exposes. The models package's online refresher reports these and more.
 *
 * @example
 * ```ts
 * import type { OnlineLearningCounters } from '@ctrkit/core';
 * const refusalRate = (c: OnlineLearningCounters) => c.refusals / Math.max(1, c.swaps + c.refusals);
 * ```
 */
export interface OnlineLearningCounters {
  /** Labeled rows given to the loop. */
  readonly rowsAdded: number;
  /** Rows the trainer has learned from (those that left the hold-out window). */
  readonly rowsLearned: number;
  /** Rows in the hold-out window now (joined, not yet learned). */
  readonly windowRows: number;
  /** Candidates that took over serving. */
  readonly swaps: number;
  /** Candidates refused, all reasons together. */
  readonly refusals: number;
  /** Refusals by reason (a closed set of short names, fit for a metric label). */
  readonly refusalsByReason: Readonly<Record<string, number>>;
  /** Returns to the version kept before the last swap. */
  readonly rollbacks: number;
  /** The version serving now. */
  readonly servingVersion: string;
  /** Log loss of the last candidate and of the serving model on the window, when a decision scored both. */
  readonly lastLogLoss: { readonly candidate: number; readonly serving: number } | undefined;
}

/** Joined rows packed as a batch with their labels, as {@link OnlineTrainer.update} takes them.
 *
 * @example
 * ```ts
 * import type { LabeledBatch } from '@ctrkit/core';
 * const ctr = (b: LabeledBatch) => b.labels.reduce((s, y) => s + y, 0) / Math.max(1, b.batch.rows);
 * ```
 */
export interface LabeledBatch {
  /** The rows, in the order given. */
  readonly batch: FeatureBatch;
  /** One 0/1 label per row. */
  readonly labels: Float32Array;
}

/**
 * Packs labeled rows from the label joiner into a batch and its labels, for an online trainer.
 *
 * @param layout - The layout the rows were encoded with.
 * @param joined - Rows as the joiner emitted them.
 * @returns A new batch of `joined.length` rows and a label per row.
 * @throws {@link CtrkitError} `E_INPUT` when a row does not follow the layout (see
 *   `checkServedRow`) or a label is not 0 or 1.
 * @remarks One allocation per array for the whole batch, through `servedRowsToBatch`.
 * @example
 * ```ts
 * import { joinedRowsToBatch, type FeatureLayout, type JoinedRow, type OnlineTrainer } from '@ctrkit/core';
 * function learn(trainer: OnlineTrainer, layout: FeatureLayout, joined: JoinedRow[]) {
 *   const { batch, labels } = joinedRowsToBatch(layout, joined);
 *   return trainer.update(batch, labels);
 * }
 * ```
 */
export function joinedRowsToBatch(layout: FeatureLayout, joined: readonly JoinedRow[]): LabeledBatch {
  if (!Array.isArray(joined)) throw new CtrkitError('E_INPUT', 'joinedRowsToBatch: pass an array of joined rows (what the label joiner emits)');
  const labels = new Float32Array(joined.length);
  const rows = new Array<JoinedRow['row']>(joined.length);
  for (let i = 0; i < joined.length; i++) {
    const j = joined[i] as JoinedRow;
    if (typeof j !== 'object' || j === null || (j.label !== 0 && j.label !== 1)) {
      throw new CtrkitError('E_INPUT', `joinedRowsToBatch: joined[${i}] must carry a label of 0 or 1, got ${String((j as { label?: unknown } | null)?.label)}`);
    }
    labels[i] = j.label;
    rows[i] = j.row;
  }
  return { batch: servedRowsToBatch(layout, rows), labels };
}
