/**
 * The models day one gives day two: FTRL-LR and DCN-v2 trained and calibrated on the log, DCN-v2
 * exported to ONNX and loaded (twice: one session serves, one stays frozen), the online FTRL-LR
 * that goes on learning, and which of the two is the frozen baseline.
 */
import { evaluate, type FeatureBatch, type FeatureLayout, type ModelRunner } from '@ctrkit/core';
import {
  createFmTrainer,
  createFtrlTrainer,
  createNativeRunner,
  exportModel,
  fitModel,
  loadModelFromBytes,
  sliceRows,
  type FitResult,
  type FmTrainer,
  type FtrlOptions,
  type FtrlTrainer,
  type LabeledRows,
  type LoadedModel,
} from '@ctrkit/models';
import { registerNodeBackends } from '@ctrkit/models/node';
import { LOOP, type LoopSettings } from './demo-settings.js';
import type { DayOneLog } from './day-one-log.js';
import type { ModelQuality } from './scenario-report.js';

/** What day one trained, loaded and measured. */
export interface DayOneModels {
  readonly lr: FitResult;
  readonly dcn: FitResult;
  /** FTRL-LR as a native runner (uncalibrated): the serving fallback. */
  readonly lrRunner: ReturnType<typeof createNativeRunner>;
  /** DCN-v2 on onnxruntime, the serving model until the loop swaps. */
  readonly loaded: LoadedModel;
  /** A second session of the same DCN-v2 bytes: the frozen model, never disposed by a swap. */
  readonly frozenDcn: LoadedModel;
  /** The online learner, having learned day one in time order. */
  readonly trainer: FtrlTrainer | FmTrainer;
  /** Held-out quality: Bayes, FTRL-LR, DCN-v2 (calibrated). */
  readonly quality: readonly ModelQuality[];
  readonly testLabels: Uint8Array;
  /** DCN-v2's calibrated scores on the held-out rows. */
  readonly dcnTest: Float32Array;
  /** Whether DCN-v2 is the frozen model (the better on the held-out log), else FTRL-LR. */
  readonly frozenIsDcn: boolean;
  /** The frozen model's calibrated scores. */
  frozenScores(batch: FeatureBatch): Promise<ArrayLike<number>>;
}

function predictAll(runner: { predictSync(b: FeatureBatch, out?: Float32Array): Float32Array }, rows: LabeledRows): Float32Array {
  return runner.predictSync(rows.batch, new Float32Array(rows.batch.rows));
}

/**
 * Trains, exports and scores day one's models.
 *
 * @param options - The log, its layout, the seed, DCN-v2's passes, progress, and the phase clock.
 * @returns The models.
 */
export async function trainDayOneModels(options: {
  readonly layout: FeatureLayout;
  readonly log: DayOneLog;
  readonly seed: string | number;
  readonly dcnEpochs: number;
  /** The online FTRL-LR's hyper-parameters (default the loop's, {@link LOOP}). */
  readonly onlineFtrl?: FtrlOptions;
  /** The online learner and its FM settings (default the loop's, {@link LOOP}). */
  readonly learner?: Pick<LoopSettings, 'learner' | 'fm'>;
  /** What of day one the online FTRL-LR learns (default the loop's, {@link LOOP}). */
  readonly warmStart?: LoopSettings['warmStart'];
  readonly onProgress: (phase: string, done: number, total: number) => void;
  /** Marks the end of a timed phase. */
  readonly phase: (name: string) => void;
}): Promise<DayOneModels> {
  const { layout, log, seed, dcnEpochs, onProgress, phase } = options;
  const { train, valid, trainAll, test } = log;
  // Train FTRL-LR and DCN-v2, each calibrated on held-out rows.
  const lr = fitModel({ model: 'lr', train, valid, epochs: 2, calibrate: true, seed, onProgress: (p) => onProgress('training FTRL-LR', p.done + (p.epoch - 1) * p.total, p.total * p.epochs) });
  phase('train-lr');
  const dcn: FitResult = fitModel({
    model: 'dcnv2',
    train,
    valid,
    epochs: dcnEpochs,
    patience: 1,
    calibrate: true,
    seed,
    dcnv2: { embeddingDim: 8, crossLayers: 2, lowRank: 16, deep: [64, 32] },
    onProgress: (p) => onProgress('training DCN-v2', p.done + (p.epoch - 1) * p.total, p.total * p.epochs),
  });
  phase('train-dcn');

  // The online learner: FTRL-LR over day one in time order (training then validation rows), one
  // pass, as it would have learned had it been running; on day two it goes on from there.
  const learner = options.learner ?? LOOP;
  const trainer = learner.learner === 'fm' ? createFmTrainer(layout, { seed, ...learner.fm }) : createFtrlTrainer(layout, options.onlineFtrl ?? LOOP.ftrl);
  const dayOne = (options.warmStart ?? LOOP.warmStart) === 'whole-log' ? log.all : trainAll;
  trainer.update(dayOne.batch, dayOne.labels);
  phase('train-online');

  const lrRunner = createNativeRunner({ layout, weights: lr.weights as Parameters<typeof createNativeRunner>[0]['weights'] });
  registerNodeBackends();
  const exported = exportModel(layout, dcn, { version: 'dcnv2-day1', profileRows: sliceRows(train, 0, Math.min(20_000, train.batch.rows)) });
  const loaded = await loadModelFromBytes({ model: exported.model, manifest: exported.manifest }, { expect: layout, backends: ['onnx-node'], intraOpThreads: 1 });
  const dcnRunner: ModelRunner = loaded.runner;
  // A second session of the same bytes for the frozen model: the hot swap disposes the serving
  // session once the loop replaces it, and the frozen model must go on scoring (and explaining).
  const frozenDcn = await loadModelFromBytes({ model: exported.model, manifest: exported.manifest }, { expect: layout, backends: ['onnx-node'], intraOpThreads: 1 });

  const testLabels = Uint8Array.from(test.labels);
  const lrTest = lr.calibrator ? lr.calibrator.apply(predictAll(lrRunner, test)) : predictAll(lrRunner, test);
  const dcnRaw = await dcnRunner.predict(test.batch, new Float32Array(test.batch.rows));
  const dcnTest = loaded.calibrator.apply(dcnRaw);
  const testTruth = log.truth.subarray(log.truth.length - log.testRows);
  const quality: ModelQuality[] = [
    { model: 'Bayes optimum (true pCTR)', ...evaluate(testLabels, testTruth) },
    { model: 'FTRL-LR', ...evaluate(testLabels, lrTest) },
    { model: 'DCN-v2', ...evaluate(testLabels, dcnTest) },
  ];
  phase('evaluate');
  // The frozen model is the better day-one model on the held-out log.
  const frozenIsDcn = (quality[2] as ModelQuality).logloss <= (quality[1] as ModelQuality).logloss;
  return {
    lr,
    dcn,
    lrRunner,
    loaded,
    frozenDcn,
    trainer,
    quality,
    testLabels,
    dcnTest,
    frozenIsDcn,
    async frozenScores(batch) {
      if (frozenIsDcn) return frozenDcn.calibrator.apply(await frozenDcn.runner.predict(batch, new Float32Array(batch.rows)));
      const raw = lrRunner.predictSync(batch, new Float32Array(batch.rows));
      return lr.calibrator ? lr.calibrator.apply(raw) : raw;
    },
  };
}
