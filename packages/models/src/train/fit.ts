/**
 * Training end to end on rows held in memory: optional negative downsampling, passes over the
 * training rows with early stopping on a validation slice, a calibrator chosen on that slice,
 * and the figures for the manifest. The options are `fit-options.ts`, each architecture's
 * learner `learners.ts`, the ONNX model and manifest of a result `export-model.ts`. The trainers
 * themselves (FTRL, FM, DCN-v2, DeepFM) stay usable on their own for online learning.
 */
import { auc, createDownsamplingCorrection, CtrkitError, logLoss, type Calibrator } from '@ctrkit/core';
import { chooseCalibrator, type CalibratorChoice } from './calibrate.js';
import type { LrWeights } from '../weights.js';
import type { EpochRecord, FitOptions, TrainedWeights } from './fit-options.js';
import { learnerFor, scorerOf } from './learners.js';
import { clearlyBetter } from './paired-log-loss.js';
import { createRowCollector, downsampleNegatives, type LabeledRows } from './rows.js';

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
  /** The pass whose weights were kept, from 1; 0: the warm start (the LR), which no pass beat. */
  readonly bestEpoch: number;
  /** DeepFM by default, DCN-v2 with `warmStart: 'lr'`: the LR they started from — its passes and, with validation rows, its validation log loss and AUC (pass 0's). */
  readonly warmStart?: { readonly lrPasses: number; readonly validLogLoss?: number; readonly validAuc?: number };
  /**
   * FM with validation rows (`fm.linearFallback`, on by default): the LR of its linear settings
   * fitted beside it — its passes, validation log loss and AUC — and whether it was kept (`kept`:
   * the FM did not beat it by more than one standard error of the paired per-row log-loss
   * difference, so the returned FM is that LR, without factors).
   */
  readonly linearBaseline?: { readonly lrPasses: number; readonly validLogLoss: number; readonly validAuc: number; readonly kept: boolean };
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
   * With validation rows: the kept pass's raw scores of them (before calibration and before any
   * refit, so out of sample), what an ensemble's stacker is fitted on.
   */
  readonly validPredictions?: Float32Array;
  /**
   * Scores rows with the kept weights, before calibration (the ONNX model computes the same).
   *
   * @param rows - Rows of the training layout.
   * @returns Click probabilities.
   */
  predict(rows: LabeledRows): Float32Array;
}

function bothClasses(labels: Float32Array): boolean {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] as number;
  return positives > 0 && positives < labels.length;
}

/** Passes at most of the LR a warm start fits, with validation rows (early-stopped) and without. */
const WARM_START_LR_EPOCHS = 20;
const WARM_START_LR_EPOCHS_BLIND = 3;

/**
 * The LR a DCN-v2 or DeepFM warm start begins from: FTRL with the fit's `lr` options on the same
 * rows (downsampled alike), early-stopped on `valid` when given, no calibrator, no refit.
 */
function fitLinear(options: FitOptions, train: LabeledRows, valid: LabeledRows | undefined, epochs: number, patience: number, downsampled = false): { weights: TrainedWeights; passes: number } {
  const fit = fitModel({
    model: 'lr',
    train,
    ...(valid === undefined ? {} : { valid }),
    epochs,
    patience,
    calibrate: false,
    refit: false,
    ...(options.negativeRate === undefined || downsampled ? {} : { negativeRate: options.negativeRate }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.lr === undefined ? {} : { lr: options.lr }),
  });
  return { weights: fit.weights, passes: valid === undefined ? epochs : Math.max(1, fit.bestEpoch) };
}

/** An FM that is the LR `lr`: its linear part, every factor 0 (the shapes of `fm`, an FM's weights). */
function fmOfLinear(lr: LrWeights, fm: TrainedWeights): TrainedWeights {
  if (fm.kind !== 'fm') throw new CtrkitError('E_STATE', 'fitModel: the linear fallback needs FM weights');
  return { ...fm, bias: lr.bias, ids: lr.ids.slice(), dense: lr.dense.slice(), idFactors: new Float32Array(fm.idFactors.length), denseFactors: new Float32Array(fm.denseFactors.length) };
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
 * import { fitModel, sliceRows, type LabeledRows } from '@ctrkit/models';
 * declare const rows: LabeledRows; // e.g. 10,000 encoded Criteo rows
 * const result = fitModel({ model: 'lr', train: sliceRows(rows, 0, 6400), valid: sliceRows(rows, 6400, 8000), epochs: 3, lr: { alpha: 0.05, l1: 1, l2: 1 } });
 * const test = result.predict(sliceRows(rows, 8000));
 * ```
 */
export function fitModel(options: FitOptions): FitResult {
  const { train: allTrain, valid, negativeRate, onProgress } = options;
  if (typeof allTrain !== 'object' || allTrain === null || typeof allTrain.batch !== 'object') {
    throw new CtrkitError('E_INPUT', 'fitModel: train must be LabeledRows { batch, labels }');
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
  const warm = (options.model === 'dcnv2' || options.model === 'deepfm') && (options.warmStart ?? (options.model === 'deepfm' ? 'lr' : 'none')) === 'lr';
  if (!(options.warmStart === undefined || options.warmStart === 'lr' || options.warmStart === 'none')) {
    throw new CtrkitError('E_CONFIG', `fitModel: warmStart must be 'lr' or 'none', got ${JSON.stringify(options.warmStart)}`);
  }
  const linearPasses = useValid ? WARM_START_LR_EPOCHS : WARM_START_LR_EPOCHS_BLIND;
  const linear = warm ? fitLinear(options, allTrain, useValid ? valid : undefined, linearPasses, patience) : undefined;
  const learner = learnerFor(options, layout, linear?.weights as LrWeights | undefined);
  const history: EpochRecord[] = [];
  /** `passes`: passes the kept weights learned from (undone ones not counted); `factorPasses`: of those, with the factors learning. */
  let best: { epoch: number; loss: number; weights: TrainedWeights; predictions: Float32Array | undefined; passes: number; factorPasses: number } | undefined;
  let sinceBest = 0;
  let passes = 0;
  let frozenAfter = typeof factorPasses === 'number' ? factorPasses : Infinity;
  const total = train.batch.rows;
  let start: EpochRecord | undefined;
  /** Pass 0's validation probabilities (after the downsampling correction), while pass 0 is the best. */
  let startPredictions: Float32Array | undefined;
  if (linear !== undefined && useValid) {
    // Pass 0: the LR the model starts from, a point early stopping may keep.
    const raw = learner.predict(valid);
    const predictions = correction === undefined ? raw : correction.apply(raw, new Float32Array(raw.length));
    const validLogLoss = logLoss(valid.labels, predictions);
    const validAuc = bothClasses(valid.labels) ? auc(valid.labels, predictions) : Number.NaN;
    start = { epoch: 0, trainLogLoss: Number.NaN, validLogLoss, validAuc };
    startPredictions = predictions;
    options.onEpoch?.(start);
    best = { epoch: 0, loss: validLogLoss, weights: learner.snapshot(), predictions: raw, passes: 0, factorPasses: 0 };
  }
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
    // The LR start is given up only for a pass that beats it by more than the validation rows' noise.
    const improved = best === undefined || (best.epoch === 0 && startPredictions !== undefined ? clearlyBetter(valid.labels, startPredictions, predictions) : validLogLoss < best.loss);
    if (!improved && autoFreeze && passes <= frozenAfter) {
      // The factors started to memorize: step back a pass (the checkpoint is the best state, since
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
  learner.close?.();
  if (best === undefined) best = { epoch: history.length, loss: Number.NaN, weights: learner.snapshot(), predictions: undefined, passes, factorPasses: Math.min(passes, frozenAfter) };
  // FM beside its LR: unless the FM beats an LR of its linear settings by more than one standard
  // error on the validation rows, it gives up its factors and is that LR.
  let baseline: { lr: { weights: TrainedWeights; passes: number }; validLogLoss: number; validAuc: number; kept: boolean } | undefined;
  let baselineRecord: EpochRecord | undefined;
  if (options.model === 'fm' && useValid && best.predictions !== undefined && (options.fm?.linearFallback ?? true)) {
    const lrOptions: FitOptions = { ...options, ...(options.fm?.linear === undefined ? {} : { lr: options.fm.linear }) };
    const lr = fitLinear(lrOptions, allTrain, valid, WARM_START_LR_EPOCHS, patience);
    const raw = scorerOf(layout, lr.weights)(valid);
    const lrPredictions = correction === undefined ? raw : correction.apply(raw, new Float32Array(raw.length));
    const fmPredictions = correction === undefined ? best.predictions : correction.apply(best.predictions, new Float32Array(best.predictions.length));
    const keptLinear = !clearlyBetter(valid.labels, lrPredictions, fmPredictions);
    const validLogLoss = logLoss(valid.labels, lrPredictions);
    const validAuc = bothClasses(valid.labels) ? auc(valid.labels, lrPredictions) : Number.NaN;
    baseline = { lr: { ...lr, weights: fmOfLinear(lr.weights as LrWeights, best.weights) }, validLogLoss, validAuc, kept: keptLinear };
    if (keptLinear) {
      baselineRecord = { epoch: lr.passes, trainLogLoss: Number.NaN, validLogLoss, validAuc };
      best = { epoch: lr.passes, loss: validLogLoss, weights: baseline.lr.weights, predictions: raw, passes: lr.passes, factorPasses: 0 };
    }
  }
  const kept = best;
  let calibration: CalibratorChoice | undefined;
  const metrics: Record<string, number> = { trainRows: total, epochs: history.length, bestEpoch: kept.epoch };
  const warnings: string[] = [];
  if (useValid && kept.predictions !== undefined) {
    const record = (baselineRecord ?? (kept.epoch === 0 ? start : history[kept.epoch - 1])) as EpochRecord;
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
        `the ${options.model} model's validation log loss (${final.toFixed(4)}${calibration === undefined ? '' : `, ${calibration.kind === 'none' ? 'uncalibrated' : `after ${calibration.kind} calibration`}`}) is worse than predicting the training click rate for every row (${base.toFixed(4)}): it is worse than no model; regularize more, lower the learning rate or train on more rows`,
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
    if (baseline?.kept === true) {
      // The FM that is its LR: the LR refitted, as an FM without factors.
      const lrOptions: FitOptions = { ...options, ...(options.fm?.linear === undefined ? {} : { lr: options.fm.linear }) };
      weights = fmOfLinear(fitLinear(lrOptions, combined, undefined, baseline.lr.passes, patience, true).weights as LrWeights, kept.weights);
    } else {
      // The LR a warm start refits on the same rows, for the passes early stopping chose for it.
      const refitLinear = linear === undefined ? undefined : fitLinear(options, combined, undefined, linear.passes, patience, true);
      const fresh = learnerFor(options, layout, refitLinear?.weights as LrWeights | undefined);
      for (let epoch = 1; epoch <= kept.passes; epoch++) {
        if (epoch > kept.factorPasses) fresh.freeze?.();
        fresh.pass(combined, (done) => onProgress?.({ epoch, epochs: kept.passes, done, total: combined.batch.rows }));
      }
      weights = fresh.snapshot();
      fresh.close?.();
    }
    trainRows = combined.batch.rows;
    metrics.refitRows = trainRows;
  }
  return {
    weights,
    history,
    bestEpoch: kept.epoch,
    ...(baseline === undefined ? {} : { linearBaseline: { lrPasses: baseline.lr.passes, validLogLoss: baseline.validLogLoss, validAuc: baseline.validAuc, kept: baseline.kept } }),
    ...(linear === undefined ? {} : { warmStart: { lrPasses: linear.passes, ...(start === undefined ? {} : { validLogLoss: start.validLogLoss as number, validAuc: start.validAuc as number }) } }),
    calibration,
    calibrator: calibration === undefined || (calibration.kind === 'none' && correction === undefined) ? correction : calibration.calibrator,
    trainRows,
    metrics,
    warnings,
    ...(useValid && kept.predictions !== undefined ? { validPredictions: kept.predictions } : {}),
    predict: scorerOf(layout, weights),
  };
}
