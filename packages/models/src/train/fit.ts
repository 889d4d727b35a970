/**
 * Training end to end on rows held in memory: optional negative downsampling, passes over the
 * training rows with early stopping on a validation slice, a calibrator chosen on that slice,
 * and the ONNX model with its manifest. The trainers themselves (FTRL, FM, DCN-v2, DeepFM) stay usable
 * on their own for online learning.
 */
import {
  auc,
  createDownsamplingCorrection,
  CtrkitError,
  logLoss,
  profileFeatures,
  type Calibrator,
  type FeatureLayout,
  type FeatureProfile,
} from '@ctrkit/core';
import { buildModel } from '../builders.js';
import { createManifest, parseManifest, type ModelManifest } from '../manifest.js';
import { createNativeRunner } from '../native-runner-impl.js';
import type { DcnV2Weights, DeepFmWeights, FmWeights, LrWeights } from '../weights.js';
import { chooseCalibrator, type CalibratorChoice, type CalibratorKind } from './calibrate.js';
import { createDcnV2Trainer, type DcnV2TrainerOptions } from './dcnv2-trainer.js';
import { createDeepFmTrainer, type DeepFmTrainerOptions } from './deepfm-trainer.js';
import { createFmTrainer, type FmTrainer, type FmTrainerOptions } from './fm-trainer.js';
import { createFtrlTrainer, type FtrlOptions, type FtrlTrainer } from './ftrl.js';
import { createRowCollector, downsampleNegatives, sliceRows, type LabelledRows } from './rows.js';

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
  /** Pass number, from 1. */
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
   * `'auto'` lets the factors learn in every pass. A second pass lets factors memorise the pairs
   * they have seen (the "one-epoch phenomenon": Zhang et al., CIKM 2022) while the linear part
   * still gains from it.
   */
  readonly factorPasses?: number | 'auto';
}

/** Options of {@link fitModel}.
 *
 * @example
 * ```ts
 * import type { FitOptions, LabelledRows } from '@ctrkit/models';
 * declare const train: LabelledRows;
 * declare const valid: LabelledRows;
 * const options: FitOptions = { model: 'fm', train, valid, epochs: 5, patience: 1, fm: { dim: 8 }, seed: 1 };
 * ```
 */
export interface FitOptions {
  /** Which architecture to train. */
  readonly model: TrainableArchitecture;
  /** Training rows, learnt in order by LR and FM, shuffled per pass by DCN-v2 and DeepFM. */
  readonly train: LabelledRows;
  /** Held-out rows for early stopping and the calibrator (none: fixed passes, no calibrator). */
  readonly valid?: LabelledRows;
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

/** What {@link fitModel} returns.
 *
 * @example
 * ```ts
 * import type { FitResult } from '@ctrkit/models';
 * const summary = (r: FitResult) => `${r.weights.kind}: best pass ${r.bestEpoch}, valid AUC ${r.metrics.validAuc}`;
 * ```
 */
export interface FitResult {
  /** The weights of the best pass (the last one without validation rows). */
  readonly weights: TrainedWeights;
  /** Every pass run. */
  readonly history: readonly EpochRecord[];
  /** The pass whose weights were kept, from 1. */
  readonly bestEpoch: number;
  /** The calibrator choice, when one was fitted. */
  readonly calibration: CalibratorChoice | undefined;
  /** What serving applies after the model: the chosen calibrator, the downsampling correction alone, or nothing. */
  readonly calibrator: Calibrator | undefined;
  /** Rows the returned weights were trained on (after downsampling; training + validation rows with `refit`). */
  readonly trainRows: number;
  /** Figures for the manifest: `trainRows`, `epochs`, `bestEpoch`; with validation rows `validRows`, `validAuc`, `validLogLoss` (raw), `validLogLossCalibrated` (out of fold), `validLogLossFinal` (what serving gets: calibrated or raw, whichever was chosen) and `validBaseLogLoss` (predicting the training click rate for every row), measured on the model before any refit; `refitRows` after a refit. */
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * What the caller should be told: the final model's validation log loss is worse than the base
   * rate's (predicting the training click rate for every row), or there were no validation rows
   * to check it on. Empty when all is well.
   */
  readonly warnings: readonly string[];
  /**
   * Scores rows with the kept weights, before calibration (the ONNX model computes the same).
   *
   * @param rows - Rows of the training layout.
   * @returns Click probabilities.
   */
  predict(rows: LabelledRows): Float32Array;
}

const CHUNK = 4096;

interface Learner {
  pass(train: LabelledRows, report: (done: number) => void): number;
  predict(rows: LabelledRows): Float32Array;
  snapshot(): TrainedWeights;
  /** FM: keeps a copy of the trainer to step back to (auto factor freezing). */
  checkpoint?(): void;
  /** FM: steps back to the checkpoint and freezes the factors. */
  undoAndFreeze?(): void;
  /** FM: freezes the factors from now on. */
  freeze?(): void;
}

function learnerFor(options: FitOptions, layout: FeatureLayout): Learner {
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
    case 'dcnv2': {
      const trainer = createDcnV2Trainer(layout, { seed, ...(options.dcnv2 ?? {}) });
      return {
        pass: (train, report) => trainer.trainEpoch(train, (done) => report(done)),
        predict: (rows) => trainer.predict(rows.batch),
        snapshot: () => trainer.weights(),
      };
    }
    case 'deepfm': {
      const trainer = createDeepFmTrainer(layout, { seed, ...(options.deepfm ?? {}) });
      return {
        pass: (train, report) => trainer.trainEpoch(train, (done) => report(done)),
        predict: (rows) => trainer.predict(rows.batch),
        snapshot: () => trainer.weights(),
      };
    }
    default:
      throw new CtrkitError('E_CONFIG', `fitModel: model must be lr, fm, dcnv2 or deepfm, got ${JSON.stringify((options as { model?: unknown }).model)}`);
  }
}

function bothClasses(labels: Float32Array): boolean {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] as number;
  return positives > 0 && positives < labels.length;
}

/** Training rows below which `refit: 'auto'` refits. */
const REFIT_BELOW_ROWS = 1_000_000;

/**
 * @internal The rule `refit: 'auto'` follows: refit on training + validation rows when there are
 * fewer than {@link REFIT_BELOW_ROWS} training rows. On small logs the held-out share is data the
 * model cannot spare; on large ones another share adds little and a refit doubles the training time.
 */
function refitHelps(trainRows: number, validRows: number): boolean {
  return validRows > 0 && trainRows < REFIT_BELOW_ROWS;
}

/** Mean log loss of predicting `rate` for every row. */
function constantLogLoss(labels: Float32Array, rate: number): number {
  const p = Math.min(1 - 1e-15, Math.max(1e-15, rate));
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] as number;
  const n = labels.length;
  return -(positives * Math.log(p) + (n - positives) * Math.log(1 - p)) / n;
}

/**
 * Trains a model on rows in memory: LR by FTRL-Proximal, FM online (FTRL + AdaGrad), DCN-v2 and
 * DeepFM by mini-batch Adam. After every pass it scores the validation rows, keeps the weights of the
 * pass with the lowest validation log loss and stops after `patience` passes without
 * improvement; then it chooses the calibrator on the validation rows ({@link chooseCalibrator}:
 * Platt, isotonic or none), compares the result with the base rate (a warning when it is worse)
 * and, when asked, refits on training + validation rows for the chosen number of passes.
 *
 * @param options - Architecture, rows, passes, downsampling, calibration, hyper-parameters.
 * @returns The kept weights, the history of passes, the calibrator and the figures for the manifest.
 * @throws `CtrkitError` `E_INPUT` when there are no training rows, the rows hold bad ids, values or
 *   labels, or the validation rows differ in layout; `E_CONFIG` on invalid options or divergence.
 * @remarks Synchronous and CPU-bound; `onProgress` is the only way out while it runs.
 * @example
 * ```ts
 * import { fitModel, sliceRows, type LabelledRows } from '@ctrkit/models';
 * declare const rows: LabelledRows; // e.g. 10,000 encoded Criteo rows
 * const result = fitModel({ model: 'lr', train: sliceRows(rows, 0, 6400), valid: sliceRows(rows, 6400, 8000), epochs: 3, lr: { alpha: 0.05, l1: 1, l2: 1 } });
 * const test = result.predict(sliceRows(rows, 8000));
 * ```
 */
export function fitModel(options: FitOptions): FitResult {
  const { train: allTrain, valid, negativeRate, onProgress } = options;
  if (typeof allTrain !== 'object' || allTrain === null || typeof allTrain.batch !== 'object') {
    throw new CtrkitError('E_INPUT', 'fitModel: train must be LabelledRows { batch, labels }');
  }
  const layout = allTrain.batch.layout;
  if (allTrain.batch.rows === 0) throw new CtrkitError('E_INPUT', 'fitModel: the training set is empty; give it some rows');
  if (valid !== undefined && valid.batch.layout.fingerprint !== layout.fingerprint) {
    throw new CtrkitError('E_INPUT', `fitModel: validation rows use spec ${valid.batch.layout.fingerprint}, training rows ${layout.fingerprint}`);
  }
  const epochs = options.epochs ?? (options.model === 'dcnv2' || options.model === 'deepfm' ? 10 : 1);
  const patience = options.patience ?? 2;
  if (!Number.isInteger(epochs) || epochs < 1) throw new CtrkitError('E_CONFIG', `fitModel: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(patience) || patience < 1) throw new CtrkitError('E_CONFIG', `fitModel: patience must be a positive integer, got ${patience}`);
  const correction = negativeRate === undefined || negativeRate === 1 ? undefined : createDownsamplingCorrection(negativeRate);
  const train = correction === undefined ? allTrain : downsampleNegatives(allTrain, negativeRate as number, options.seed ?? 0);
  if (train.batch.rows === 0) throw new CtrkitError('E_INPUT', 'fitModel: no training rows are left after downsampling');
  const useValid = valid !== undefined && valid.batch.rows > 0;
  const factorPasses = options.model === 'fm' ? (options.fm?.factorPasses ?? 'auto') : Infinity;
  if (!(factorPasses === 'auto' || factorPasses === Infinity || (Number.isInteger(factorPasses) && factorPasses >= 1))) {
    throw new CtrkitError('E_CONFIG', `fitModel: fm.factorPasses must be a positive integer, Infinity or 'auto', got ${String(factorPasses)}`);
  }
  const autoFreeze = factorPasses === 'auto' && useValid;
  const learner = learnerFor(options, layout);
  const history: EpochRecord[] = [];
  /** `passes`: passes the kept weights learnt from (undone ones not counted); `factorPasses`: of those, with the factors learning. */
  let best: { epoch: number; loss: number; weights: TrainedWeights; predictions: Float32Array | undefined; passes: number; factorPasses: number } | undefined;
  let sinceBest = 0;
  let passes = 0;
  let frozenAfter = typeof factorPasses === 'number' ? factorPasses : Infinity;
  const total = train.batch.rows;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (passes >= frozenAfter) learner.freeze?.();
    if (autoFreeze && passes < frozenAfter) learner.checkpoint?.();
    const trainLogLoss = learner.pass(train, (done) => onProgress?.({ epoch, epochs, done, total }));
    passes++;
    if (!useValid) {
      history.push({ epoch, trainLogLoss });
      options.onEpoch?.({ epoch, trainLogLoss });
      continue;
    }
    const raw = learner.predict(valid);
    const predictions = correction === undefined ? raw : correction.apply(raw, new Float32Array(raw.length));
    const validLogLoss = logLoss(valid.labels, predictions);
    const validAuc = bothClasses(valid.labels) ? auc(valid.labels, predictions) : Number.NaN;
    const improved = best === undefined || validLogLoss < best.loss;
    if (!improved && autoFreeze && passes <= frozenAfter) {
      // The factors started to memorise: step back a pass (the checkpoint is the best state, since
      // every earlier pass improved) and go on with the linear part alone.
      learner.undoAndFreeze?.();
      passes--;
      frozenAfter = passes;
      history.push({ epoch, trainLogLoss, validLogLoss, validAuc, undone: true });
      options.onEpoch?.({ epoch, trainLogLoss, validLogLoss, validAuc, undone: true });
      continue;
    }
    history.push({ epoch, trainLogLoss, validLogLoss, validAuc });
    options.onEpoch?.({ epoch, trainLogLoss, validLogLoss, validAuc });
    if (improved) {
      best = { epoch, loss: validLogLoss, weights: learner.snapshot(), predictions: raw, passes, factorPasses: Math.min(passes, frozenAfter) };
      sinceBest = 0;
    } else if (++sinceBest >= patience) {
      break;
    }
  }
  if (best === undefined) best = { epoch: history.length, loss: Number.NaN, weights: learner.snapshot(), predictions: undefined, passes, factorPasses: Math.min(passes, frozenAfter) };
  const kept = best;
  let calibration: CalibratorChoice | undefined;
  const metrics: Record<string, number> = { trainRows: total, epochs: history.length, bestEpoch: kept.epoch };
  const warnings: string[] = [];
  if (useValid && kept.predictions !== undefined) {
    const record = history[kept.epoch - 1] as EpochRecord;
    metrics.validRows = valid.batch.rows;
    metrics.validLogLoss = record.validLogLoss as number;
    if (Number.isFinite(record.validAuc)) metrics.validAuc = record.validAuc as number;
    if ((options.calibrate ?? true) && bothClasses(valid.labels)) {
      const candidates = options.calibrators ?? ['platt', 'isotonic', 'none'];
      calibration = chooseCalibrator(kept.predictions, valid.labels, { candidates, ...(negativeRate === undefined ? {} : { negativeRate }) });
      metrics.validLogLossCalibrated = calibration.logLoss[calibration.kind];
    }
    // The base rate: the training rows' click rate (before downsampling) for every validation row.
    let clicks = 0;
    for (let i = 0; i < allTrain.labels.length; i++) clicks += allTrain.labels[i] as number;
    const base = constantLogLoss(valid.labels, clicks / allTrain.labels.length);
    const final = metrics.validLogLossCalibrated ?? metrics.validLogLoss;
    metrics.validBaseLogLoss = base;
    metrics.validLogLossFinal = final;
    if (!(final <= base)) {
      warnings.push(
        `the ${options.model} model's validation log loss (${final.toFixed(4)}${calibration === undefined ? '' : `, ${calibration.kind === 'none' ? 'uncalibrated' : `after ${calibration.kind} calibration`}`}) is worse than predicting the training click rate for every row (${base.toFixed(4)}): it is worse than no model; regularise more, lower the learning rate or train on more rows`,
      );
    }
  } else {
    warnings.push(`no validation rows: the ${options.model} model was not checked against the base rate (predicting the training click rate), nor early-stopped or calibrated`);
  }
  let weights = kept.weights;
  let trainRows = total;
  const refit = options.refit === 'auto' ? refitHelps(total, useValid ? valid.batch.rows : 0) : options.refit === true;
  if (refit && useValid) {
    const collector = createRowCollector(layout, allTrain.batch.rows + valid.batch.rows);
    collector.append(allTrain.batch, allTrain.labels);
    collector.append(valid.batch, valid.labels);
    const combined = correction === undefined ? collector.toRows() : downsampleNegatives(collector.toRows(), negativeRate as number, options.seed ?? 0);
    const fresh = learnerFor(options, layout);
    for (let epoch = 1; epoch <= kept.passes; epoch++) {
      if (epoch > kept.factorPasses) fresh.freeze?.();
      fresh.pass(combined, (done) => onProgress?.({ epoch, epochs: kept.passes, done, total: combined.batch.rows }));
    }
    weights = fresh.snapshot();
    trainRows = combined.batch.rows;
    metrics.refitRows = trainRows;
  }
  return {
    weights,
    history,
    bestEpoch: kept.epoch,
    calibration,
    calibrator: calibration === undefined || (calibration.kind === 'none' && correction === undefined) ? correction : calibration.calibrator,
    trainRows,
    metrics,
    warnings,
    predict: scorerOf(layout, weights),
  };
}

/** Scores rows with fixed weights: the native runner for LR and FM, a trainer's forward pass for DCN-v2 and DeepFM. */
function scorerOf(layout: FeatureLayout, weights: TrainedWeights): (rows: LabelledRows) => Float32Array {
  if (weights.kind === 'dcnv2') {
    const trainer = createDcnV2Trainer(layout, { initial: weights });
    return (rows) => trainer.predict(rows.batch);
  }
  if (weights.kind === 'deepfm') {
    const trainer = createDeepFmTrainer(layout, { initial: weights });
    return (rows) => trainer.predict(rows.batch);
  }
  const runner = createNativeRunner({ layout, weights });
  return (rows) => runner.predictSync(rows.batch);
}

/** Options of {@link exportModel}.
 *
 * @example
 * ```ts
 * import type { ExportModelOptions } from '@ctrkit/models';
 * const options: ExportModelOptions = { version: '2026-01-15.1', description: 'criteo lr' };
 * ```
 */
export interface ExportModelOptions {
  /** Model version. */
  readonly version: string;
  /** Free text for the manifest. */
  readonly description?: string;
  /** Further figures for the manifest's `metrics` (test AUC, …). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Further entries for the manifest's `config` (the feature spec's JSON, how the data was read, …). */
  readonly config?: Readonly<Record<string, unknown>>;
  /**
   * Training rows to profile for drift monitoring (`profileFeatures`, with the model's scores on
   * them): stored as `config.featureProfile`. Default: none.
   */
  readonly profileRows?: LabelledRows;
  /** Export time (default now). */
  readonly createdAt?: string;
}

/** `model.onnx` bytes and the manifest of a trained model.
 *
 * @example
 * ```ts
 * import type { ExportedModel } from '@ctrkit/models';
 * const sizes = (m: ExportedModel) => `${m.model.byteLength} bytes, ${m.manifest.architecture}`;
 * ```
 */
export interface ExportedModel {
  /** The ONNX model. */
  readonly model: Uint8Array;
  /** Its manifest, with calibration, metrics and config. */
  readonly manifest: ModelManifest;
  /** The feature profile stored in the manifest, when `profileRows` were given. */
  readonly profile: FeatureProfile | undefined;
}

/**
 * Builds the ONNX model and manifest of a {@link fitModel} result: the calibrator (with any
 * downsampling correction) and the training figures go into the manifest; the training settings,
 * the caller's config and an optional feature profile into its `config`.
 *
 * @param layout - The encoder's layout.
 * @param result - What `fitModel` returned.
 * @param options - Version, description, extra metrics and config, rows to profile.
 * @returns The model bytes and manifest (pass both to `saveModel` from `@ctrkit/models/node`).
 * @throws `CtrkitError` as the builders and `createManifest` do.
 * @example
 * ```ts
 * import { exportModel, fitModel, type LabelledRows } from '@ctrkit/models';
 * declare const train: LabelledRows;
 * declare const valid: LabelledRows;
 * const result = fitModel({ model: 'fm', train, valid });
 * const { model, manifest } = exportModel(train.batch.layout, result, { version: '1', profileRows: train });
 * ```
 */
export function exportModel(layout: FeatureLayout, result: FitResult, options: ExportModelOptions): ExportedModel {
  const model = buildModel(layout, result.weights, options.description === undefined ? {} : { description: options.description });
  const base = createManifest(layout, result.weights, {
    version: options.version,
    ...(result.calibrator === undefined ? {} : { calibration: result.calibrator }),
    metrics: { ...result.metrics, ...(options.metrics ?? {}) },
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }),
  });
  let profile: FeatureProfile | undefined;
  if (options.profileRows !== undefined) profile = profileFeatures([options.profileRows.batch], result.predict(options.profileRows));
  const manifest = parseManifest({
    ...base,
    config: {
      ...(base.config ?? {}),
      training: {
        history: result.history,
        bestEpoch: result.bestEpoch,
        ...(result.calibration === undefined ? {} : { calibrator: result.calibration.kind, calibrationLogLoss: result.calibration.logLoss }),
      },
      ...(options.config ?? {}),
      ...(profile === undefined ? {} : { featureProfile: profile }),
    },
  });
  return { model, manifest, profile };
}
