/**
 * `@ctrkit/core` — the shared types, errors, clock and random source of ctrkit, plus its
 * metrics (AUC, log loss, normalized entropy, calibration) and calibrators (Platt, isotonic,
 * negative-downsampling correction). No heavy dependency; runs in Node and browsers.
 *
 * @packageDocumentation
 */
export * from './types/request.js';
export * from './types/events.js';
export * from './types/auction.js';
export type {
  FeatureBatch,
  FeatureEncoder,
  FeatureLayout,
  FeatureStore,
  FieldSlot,
  LookupOptions,
  ModelInfo,
  ModelRunner,
  SequenceSlot,
  StoreLookup,
} from './stages.js';
export { CtrkitError, ERROR_CODES, isCtrkitError, toCtrkitError } from './errors.js';
export type { BudgetErrorDetails, CtrkitErrorOptions, ErrorCode, ErrorDetails, ErrorDetailsOf, InputErrorDetails, IoErrorDetails } from './errors.js';
export { createManualClock, systemClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';
export { createRandom, restoreRandom, seedFromString } from './random.js';
export type { Random, RandomState } from './random.js';
export type { Numbers } from './metrics/numbers.js';
export { auc, precisionRecallAtK, rocCurve } from './metrics/ranking.js';
export type { RocCurve, TopKResult } from './metrics/ranking.js';
export { logLoss, normalizedEntropy } from './metrics/log-loss.js';
export type { LogLossOptions } from './metrics/log-loss.js';
export { calibrationRatio, expectedCalibrationError, fieldRelativeCalibrationError, reliabilityBins } from './metrics/calibration-error.js';
export type { BinStrategy, CalibrationBinOptions, ReliabilityBin } from './metrics/calibration-error.js';
export { evaluate } from './metrics/evaluate.js';
export type { EvaluationSummary } from './metrics/evaluate.js';
export { createWindowedEvaluator } from './streaming-metrics.js';
export type { WindowedEvaluator, WindowedEvaluatorOptions } from './streaming-metrics.js';
export type { Calibrator, CalibratorJSON } from './calibration/calibrator.js';
export { createPlattCalibrator } from './calibration/platt.js';
export type { PlattOptions } from './calibration/platt.js';
export { createIsotonicCalibrator, isotonicRegression } from './calibration/isotonic.js';
export { createDownsamplingCorrection } from './calibration/downsampling.js';
export { createIdentityCalibrator } from './calibration/identity.js';
export { chainCalibrators } from './calibration/chain.js';
export { calibratorFromJSON } from './calibration/from-json.js';
export { createLatencyHistogram } from './histogram.js';
export type { LatencyHistogram, LatencyHistogramOptions } from './histogram.js';
export { createDriftMonitor, populationStabilityIndex, profileFeatures } from './monitor/drift.js';
export type { DriftEntry, DriftMonitor, FeatureProfile, FieldDistribution, ProfileOptions } from './monitor/drift.js';
export { campaignFiguresOf, createCampaignReporter } from './monitor/reporting.js';
export type { CampaignFigures, CampaignReport, CampaignReporter, CampaignReporterOptions } from './monitor/reporting.js';
export { createQualityMonitor } from './monitor/quality.js';
export type { QualityMonitor, QualityMonitorOptions } from './monitor/quality.js';
export { createPipelineMetrics } from './monitor/pipeline-metrics.js';
export type { LabeledCount, PipelineMetrics, PipelineSnapshot, StageLatency } from './monitor/pipeline-metrics.js';
export { DEFAULT_ALARM_THRESHOLDS, evaluateAlarms } from './monitor/alarms.js';
export type { Alarm, AlarmName, AlarmThresholds } from './monitor/alarms.js';
export { DEFAULT_STAGE_BUDGETS } from './pipeline/prediction.js';
export type { Degradation, PredictionResult, PredictionStage, StageBudgets } from './pipeline/prediction.js';
export type { TimerScheduler } from './timer-scheduler.js';
export { createPredictor } from './pipeline/predictor.js';
export type { Predictor, PredictorOptions } from './pipeline/predictor.js';
export { createAdSelector } from './pipeline/ad-selector.js';
export { createExplorer } from './pipeline/exploration.js';
export type { ExplorationDecision, ExplorationMethod, ExplorationOptions, Explorer } from './pipeline/exploration.js';
export type { AdSelector, AdSelectorOptions, HeldWinner, Selection, SelectionDegradation } from './pipeline/ad-selector.js';
export type { AuctionStage, AuctionStageInputs, BudgetHold, BudgetRefusal, PacingDecision, PacingStage, SpendLedger } from './pipeline/selector-stages.js';
export { explainByOcclusion, summarizeFactors } from './pipeline/explain.js';
export type { Explanation, FactorDescriber, FeatureContribution } from './pipeline/explain.js';
export { checkServedRow, servedRowOf, servedRowsToBatch } from './served-row.js';
export type { ServedRow, ServedRowInfo } from './served-row.js';
export type { ServedLog, ServedLogStats } from './served-log.js';
export { createMemoryServedLog } from './memory-served-log.js';
export type { LoggedRow, MemoryServedLog, MemoryServedLogOptions } from './memory-served-log.js';
export { createLabelJoiner } from './label-joiner.js';
export type { JoinOutcome, JoinedConversion, JoinedRow, LabelJoiner, LabelJoinerOptions, LabelJoinerStats } from './label-joiner.js';
export { STREAM_TOPICS, streamEventId } from './event-stream.js';
export type { EventStream, PublishResult, StreamDelivery, StreamEvent, StreamSubscription, StreamTopic, SubscribeOptions } from './event-stream.js';
export { decodeStreamEvent, encodeStreamEvent } from './stream-codec.js';
export { createMemoryEventStream } from './memory-event-stream.js';
export type { MemoryEventStreamOptions } from './memory-event-stream.js';
export { createStreamJoiner } from './stream-joiner.js';
export type { StreamJoiner, StreamJoinerOptions } from './stream-joiner.js';
export { joinedRowsToBatch } from './online-trainer.js';
export type { LabeledBatch, OnlineLearningCounters, OnlineTrainer } from './online-trainer.js';
