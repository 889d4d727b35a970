/**
 * Forgetting for the online loop's FTRL-LR: after each batch the trainer learns, its
 * per-coordinate squared-gradient sums decay with a half-life in rows, so a coordinate seen all
 * day one learns again at a useful rate on day two instead of at the rate its day-one count left.
 */
import type { OnlineTrainer } from '@ctrkit/core';
import type { FtrlTrainer } from '@ctrkit/models';

/**
 * The trainer as the refresher sees it: learning goes to `trainer`, then its learning-rate memory
 * is scaled by 0.5^(rows / halfLifeRows) ({@link FtrlTrainer.forget}); weights never jump.
 *
 * @param trainer - The online FTRL-LR (it is updated in place; scoring it directly sees the same weights).
 * @param halfLifeRows - Rows over which the memory halves; `Infinity` returns `trainer` itself.
 * @returns An online trainer over `trainer`.
 * @throws `RangeError` when `halfLifeRows` is not a positive number.
 * @example
 * ```ts
 * import { createFtrlTrainer } from '@ctrkit/models';
 * import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
 * import { forgetting } from './forgetting.js';
 * const trainer = forgetting(createFtrlTrainer(createFeatureEncoder(adRequestSpec()).layout), 20_000);
 * ```
 */
export function forgetting(trainer: FtrlTrainer, halfLifeRows: number): OnlineTrainer {
  if (!(halfLifeRows > 0)) throw new RangeError(`forgetting: halfLifeRows must be > 0 (Infinity: none), got ${halfLifeRows}`);
  if (halfLifeRows === Number.POSITIVE_INFINITY) return trainer;
  return {
    get layout() {
      return trainer.layout;
    },
    get rowsSeen() {
      return trainer.rowsSeen;
    },
    update(batch, labels, out) {
      const predictions = trainer.update(batch, labels, out);
      if (batch.rows > 0) trainer.forget(0.5 ** (batch.rows / halfLifeRows));
      return predictions;
    },
    predict: (batch, out) => trainer.predict(batch, out),
    snapshot: (version) => trainer.snapshot(version),
  };
}
