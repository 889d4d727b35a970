/**
 * @internal The trainers as `fitModel` drives them, one architecture each: LR and FM learn the
 * rows in order, a chunk at a time (FM can also step back a pass and freeze its factors); DCN-v2
 * and DeepFM make one shuffled mini-batch pass a call. And the scorer of fixed weights that
 * `FitResult.predict` is.
 */
import { CtrkitError, logLoss, type FeatureLayout } from '@ctrkit/core';
import { createNativeRunner } from '../native-runner/runner.js';
import type { DcnV2Weights, DeepFmWeights, LrWeights } from '../weights.js';
import { createDcnV2Trainer } from './dcnv2-trainer.js';
import { createDeepFmTrainer } from './deepfm-trainer.js';
import type { EmbeddingTrainer, EmbeddingTrainerSettings } from './embedding-trainer.js';
import type { FitOptions, TrainedWeights } from './fit-options.js';
import { createFmTrainer, type FmTrainer } from './fm-trainer.js';
import { createFtrlTrainer, type FtrlTrainer } from './ftrl.js';
import { sliceRows, type LabeledRows } from './rows.js';

/** Rows LR and FM learn from per call of `update`, between progress reports. */
const CHUNK = 4096;

/** @internal One architecture's trainer as `fitModel` drives it: a pass at a time. */
export interface Learner {
  pass(train: LabeledRows, report: (done: number) => void): number;
  predict(rows: LabeledRows): Float32Array;
  snapshot(): TrainedWeights;
  /** FM: keeps a copy of the trainer to step back to (auto factor freezing). */
  checkpoint?(): void;
  /** FM: steps back to the checkpoint and freezes the factors. */
  undoAndFreeze?(): void;
  /** FM: freezes the factors from now on. */
  freeze?(): void;
  /** DCN-v2, DeepFM: stops the trainer's helper threads (when it has them). */
  close?(): void;
}

/** @internal A fresh learner of `options.model`, seeded by `options.seed` unless its own options say otherwise; DCN-v2 and DeepFM start from `linear` when given. */
export function learnerFor(options: FitOptions, layout: FeatureLayout, linear?: LrWeights): Learner {
  const seed = options.seed ?? 0;
  switch (options.model) {
    case 'lr':
    case 'fm': {
      let fm = options.model === 'fm' ? createFmTrainer(layout, { seed, ...(options.fm ?? {}) }) : undefined;
      let trainer: FtrlTrainer | FmTrainer = fm ?? createFtrlTrainer(layout, options.lr ?? {});
      let saved: FmTrainer | undefined;
      return {
        checkpoint() {
          saved = fm?.clone();
        },
        undoAndFreeze() {
          if (saved === undefined) throw new CtrkitError('E_STATE', 'fitModel: no checkpoint to step back to');
          fm = trainer = saved;
          saved = undefined;
          fm.freezeFactors();
        },
        freeze() {
          fm?.freezeFactors();
        },
        pass(train, report) {
          const n = train.batch.rows;
          let loss = 0;
          for (let start = 0; start < n; start += CHUNK) {
            const part = sliceRows(train, start, Math.min(n, start + CHUNK));
            const p = trainer.update(part.batch, part.labels);
            loss += logLoss(part.labels, p) * part.batch.rows;
            report(start + part.batch.rows);
          }
          return loss / n;
        },
        predict: (rows) => trainer.predict(rows.batch),
        snapshot: () => trainer.weights(),
      };
    }
    case 'dcnv2':
      return miniBatchLearner(createDcnV2Trainer(layout, { seed, ...(options.dcnv2 ?? {}), ...(linear === undefined ? {} : { warmStart: linear }) }));
    case 'deepfm':
      return miniBatchLearner(createDeepFmTrainer(layout, { seed, ...(options.deepfm ?? {}), ...(linear === undefined ? {} : { warmStart: linear }) }));
    default:
      throw new CtrkitError('E_CONFIG', `fitModel: model must be lr, fm, dcnv2 or deepfm, got ${JSON.stringify((options as { model?: unknown }).model)}`);
  }
}

/** A mini-batch trainer as `fitModel` drives it: one shuffled pass a call. */
function miniBatchLearner(trainer: EmbeddingTrainer<EmbeddingTrainerSettings, DcnV2Weights | DeepFmWeights>): Learner {
  return {
    pass: (train, report) => trainer.trainEpoch(train, (done) => report(done)),
    predict: (rows) => trainer.predict(rows.batch),
    snapshot: () => trainer.weights(),
    close: () => trainer.close(),
  };
}

/** @internal Scores rows with fixed weights: the native runner for LR and FM, a trainer's forward pass for DCN-v2 and DeepFM. */
export function scorerOf(layout: FeatureLayout, weights: TrainedWeights): (rows: LabeledRows) => Float32Array {
  if (weights.kind === 'dcnv2' || weights.kind === 'deepfm') {
    const trainer = weights.kind === 'dcnv2' ? createDcnV2Trainer(layout, { initial: weights }) : createDeepFmTrainer(layout, { initial: weights });
    return (rows) => trainer.predict(rows.batch);
  }
  const runner = createNativeRunner({ layout, weights });
  return (rows) => runner.predictSync(rows.batch);
}
