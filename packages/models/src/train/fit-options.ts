/**
 * What `fitModel` takes and reports as it goes: the architectures it trains, its options (rows,
 * passes, downsampling, calibration, each trainer's hyper-parameters) and the progress and
 * per-pass records it calls back with.
 */
import type { DcnV2Weights, DeepFmWeights, FmWeights, LrWeights } from '../weights.js';
import type { CalibratorKind } from './calibrate.js';
import type { DcnV2TrainerOptions } from './dcnv2-trainer.js';
import type { DeepFmTrainerOptions } from './deepfm-trainer.js';
import type { FmTrainerOptions } from './fm-trainer.js';
import type { FtrlOptions } from './ftrl.js';
import type { LabeledRows } from './rows.js';

/** The architectures ctrkit trains itself.
 *
 * @example
 * ```ts
 * import type { TrainableArchitecture } from '@ctrkit/models';
 * const model: TrainableArchitecture = 'dcnv2';
 * ```
 */
export type TrainableArchitecture = 'lr' | 'fm' | 'dcnv2' | 'deepfm';

/** Weights {@link fitModel} returns.
 *
 * @example
 * ```ts
 * import type { TrainedWeights } from '@ctrkit/models';
 * const kind = (w: TrainedWeights) => w.kind;
 * ```
 */
export type TrainedWeights = LrWeights | FmWeights | DcnV2Weights | DeepFmWeights;

/** How far {@link fitModel} has got, reported after every chunk of rows.
 *
 * @example
 * ```ts
 * import type { FitProgress } from '@ctrkit/models';
 * const percent = (p: FitProgress) => (100 * ((p.epoch - 1) * p.total + p.done)) / (p.epochs * p.total);
 * ```
 */
export interface FitProgress {
  /** Current pass, from 1. */
  readonly epoch: number;
  /** Passes at most. */
  readonly epochs: number;
  /** Training rows done in this pass. */
  readonly done: number;
  /** Training rows per pass. */
  readonly total: number;
}

/** One pass of {@link fitModel}.
 *
 * @example
 * ```ts
 * import type { EpochRecord } from '@ctrkit/models';
 * const line = (e: EpochRecord) => `epoch ${e.epoch}: train ${e.trainLogLoss.toFixed(4)} valid ${e.validLogLoss?.toFixed(4)}`;
 * ```
 */
export interface EpochRecord {
  /** Pass number, from 1; 0 is the warm start (DCN-v2 and DeepFM started from the LR, before any pass). */
  readonly epoch: number;
  /** Mean training log loss: progressive (before each row's update) for LR and FM, mini-batch for DCN-v2 and DeepFM. */
  readonly trainLogLoss: number;
  /** Validation log loss after the pass (after the downsampling correction, before calibration). */
  readonly validLogLoss?: number;
  /** Validation AUC after the pass. */
  readonly validAuc?: number;
  /**
   * FM only: this pass made the validation log loss worse while the factors were learning, so it
   * was undone and the factors frozen; the passes after it train the linear part alone.
   */
  readonly undone?: boolean;
}

/**
 * FM hyper-parameters for {@link fitModel}: the trainer's, and how many passes the factors learn.
 *
 * @example
 * ```ts
 * import type { FmFitOptions } from '@ctrkit/models';
 * const fm: FmFitOptions = { dim: 8, factorPasses: 'auto' };
 * ```
 */
export interface FmFitOptions extends FmTrainerOptions {
  /**
   * Passes in which the factors learn; later passes train only the intercept and linear
   * weights (`FmTrainer.freezeFactors`). `'auto'` (the default): with validation rows, the
   * factors learn until a pass makes the validation log loss worse; that pass is undone (the
   * trainer steps back to its state before it, so one extra copy of the trainer is held) and
   * training goes on with the factors frozen, until early stopping. Without validation rows,
   * `'auto'` lets the factors learn in every pass. A second pass lets factors memorize the pairs
   * they have seen (the "one-epoch phenomenon": Zhang et al., CIKM 2022) while the linear part
   * still gains from it.
   */
  readonly factorPasses?: number | 'auto';
  /**
   * With validation rows (default true): an FTRL-LR with the FM's linear settings is fitted beside
   * it (early-stopped, at most 20 passes), and unless the FM beats it on the validation rows by
   * more than one standard error of the paired per-row log-loss difference (the one-standard-error
   * rule), the FM keeps that LR's linear part and drops its factors — it is the LR. So an FM is
   * never worse on validation than the LR, and swaps for it only where the rows can tell.
   */
  readonly linearFallback?: boolean;
}

/** Options of {@link fitModel}.
 *
 * @example
 * ```ts
 * import type { FitOptions, LabeledRows } from '@ctrkit/models';
 * declare const train: LabeledRows;
 * declare const valid: LabeledRows;
 * const options: FitOptions = { model: 'fm', train, valid, epochs: 5, patience: 1, fm: { dim: 8 }, seed: 1 };
 * ```
 */
export interface FitOptions {
  /** Which architecture to train. */
  readonly model: TrainableArchitecture;
  /** Training rows, learned in order by LR and FM, shuffled per pass by DCN-v2 and DeepFM. */
  readonly train: LabeledRows;
  /** Held-out rows for early stopping and the calibrator (none: fixed passes, no calibrator). */
  readonly valid?: LabeledRows;
  /** Passes over the training rows at most (default 1 for LR and FM, 10 for DCN-v2 and DeepFM). */
  readonly epochs?: number;
  /** Stop after this many passes without a better validation log loss (default 2); the best pass's weights are returned. */
  readonly patience?: number;
  /** Keep this fraction of the training negatives (all positives); the correction is part of the calibrator. */
  readonly negativeRate?: number;
  /** Fit a calibrator on the validation rows (default true when there are any). */
  readonly calibrate?: boolean;
  /**
   * The calibrators to choose from by out-of-fold validation log loss (default
   * `['platt', 'isotonic', 'none']`: with `none` the raw scores are kept when no fitted
   * calibrator beats them).
   */
  readonly calibrators?: readonly CalibratorKind[];
  /**
   * After early stopping has chosen the number of passes (and the calibrator has been chosen),
   * train afresh on the training and validation rows together for that many passes. The
   * calibrator fitted to the first model is kept: the usual protocol when rows are few, at the
   * price of a calibrator fitted to a slightly different model. `'auto'` refits when
   * there are fewer than 1,000,000 training rows (where the held-out share is data the model cannot spare; above it, a refit doubles the training time for little); default false.
   */
  readonly refit?: boolean | 'auto';
  /**
   * DCN-v2 and DeepFM: `'lr'` (DeepFM's default) first fits an FTRL-LR on the same rows (the `lr`
   * options, early-stopped on the validation rows, at most 20 passes; 3 without validation rows),
   * starts the model from it (it scores as the LR does, see `DcnV2TrainerOptions.warmStart`), and
   * scores that start on the validation rows as pass 0, which early stopping keeps when no pass
   * beats it — so the model is never worse on the validation rows than the LR. A refit refits the
   * LR too. `'none'` (DCN-v2's default): a seeded start. On generated logs (synthetic:200000:3,
   * validation AUC) the LR start took DeepFM from 0.8078 to 0.8247 and DCN-v2 from 0.7954 to
   * 0.7903: DCN-v2 keeps its first pass either way, and from a converged LR that pass overfits more.
   */
  readonly warmStart?: 'lr' | 'none';
  /** Seed of the initial weights, shuffling and downsampling (default 0; per-model options may override). */
  readonly seed?: number | string;
  /** FTRL-Proximal hyper-parameters (model `lr`). */
  readonly lr?: FtrlOptions;
  /** FM hyper-parameters (model `fm`). */
  readonly fm?: FmFitOptions;
  /** DCN-v2 hyper-parameters (model `dcnv2`). */
  readonly dcnv2?: DcnV2TrainerOptions;
  /** DeepFM hyper-parameters (model `deepfm`). */
  readonly deepfm?: DeepFmTrainerOptions;
  /** Called as training proceeds (synchronously, from the training loop). */
  readonly onProgress?: (progress: FitProgress) => void;
  /** Called after every pass with its figures (not during a refit). */
  readonly onEpoch?: (record: EpochRecord) => void;
}
