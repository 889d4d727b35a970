/**
 * The predictor's pool of feature batches: a request takes one large enough and gives it back
 * once the model has answered, so serving allocates batches only while the pool fills.
 */
import type { FeatureBatch, FeatureLayout } from '../stages.js';

/**
 * Reusable batches of one layout.
 *
 * @internal
 */
export interface BatchPool {
  /** A pooled batch of at least `rows` rows, or a new one (of at least 64). */
  acquire(rows: number): FeatureBatch;
  /** Returns a batch no one reads any more (the pool keeps 8 at most). */
  giveBack(batch: FeatureBatch): void;
}

/**
 * Creates a pool for `layout`.
 *
 * @param layout - The encoder's layout.
 * @returns The pool, empty.
 * @internal
 */
export function createBatchPool(layout: FeatureLayout): BatchPool {
  const pool: FeatureBatch[] = [];
  const stride = layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
  return {
    acquire(rows) {
      for (let i = pool.length - 1; i >= 0; i--) {
        const batch = pool[i] as FeatureBatch;
        if (batch.rows >= rows) {
          pool.splice(i, 1);
          return batch;
        }
      }
      const capacity = Math.max(rows, 64);
      const S = layout.sequences.length;
      return {
        layout,
        rows: capacity,
        ids: new Int32Array(capacity * layout.idWidth),
        values: new Float32Array(capacity * layout.idWidth),
        dense: new Float32Array(capacity * layout.denseWidth),
        sequenceIds: new Int32Array(capacity * S * stride),
        sequenceLengths: new Int32Array(capacity * S),
      };
    },
    giveBack(batch) {
      if (pool.length < 8) pool.push(batch);
    },
  };
}
