/**
 * `@ctrkit/models` — turns a `FeatureBatch` into click probabilities the same way on a server and
 * in a browser: the backend registry, the model manifest, ONNX builders for LR / FM / DCN-v2 /
 * DeepFM / DIN, the native (pure TypeScript) LR/FM runner, the micro-batcher, ensembles, A/B routing, a
 * fallback runner and hot swap. Loads neither onnxruntime-node nor onnxruntime-web: those come
 * with the platform entries `@ctrkit/models/node` and `@ctrkit/models/browser`.
 *
 * @packageDocumentation
 */
export { createBackendRegistry, defaultBackendRegistry, registerBackend, resolveBackend } from './backend/registry.js';
export type {
  Backend,
  BackendCandidate,
  BackendRegistry,
  BackendResolution,
  BackendStatus,
  ModelSource,
  RegisteredBackend,
  RunnerOptions,
} from './backend/types.js';
export { checkManifestAgainstLayout, createManifest, createStackedEnsembleManifest, manifestToJSON, parseManifest } from './manifest.js';
export type { BatchSource, CreateManifestOptions, InputType, ManifestInput, ManifestOutput, ModelManifest } from './manifest.js';
export { buildDcnV2Model, buildDeepFmModel, buildDinModel, buildFmModel, buildLrModel, buildModel } from './builders.js';
export type { BuildOptions } from './builders.js';
export { buildStackedEnsembleModel } from './ensemble-builder.js';
export type { StackedMember } from './stacked-member.js';
export { checkWeights, initDcnV2Weights, initDeepFmWeights, initDinWeights, initFmWeights, initLrWeights, modelInputWidth } from './weights.js';
export type {
  CrossLayerWeights,
  DcnV2InitOptions,
  DcnV2Weights,
  DeepFmInitOptions,
  DeepFmWeights,
  DenseLayerWeights,
  DinInitOptions,
  DinSequencePooling,
  DinWeights,
  EmbeddingInitOptions,
  EmbeddingModelWeights,
  FmInitOptions,
  FmWeights,
  LinearInitOptions,
  LrWeights,
  ModelWeights,
} from './weights.js';
export { createNativeBackend } from './native-runner/backend.js';
export { createNativeRunner } from './native-runner/runner.js';
export type { NativeRunner, NativeRunnerOptions, NativeWeights, UpdateWeightsOptions } from './native-runner/types.js';
export { loadModelFromBytes } from './load.js';
export type { LoadedModel, LoadModelOptions, ModelFiles } from './load.js';
export { createManualScheduler, systemScheduler } from './scheduler.js';
export type { ManualScheduler, Scheduler } from './scheduler.js';
export { createMicroBatcher } from './batcher/micro-batcher.js';
export type { BatcherCallOptions, MicroBatcher, MicroBatcherOptions, MicroBatcherStats } from './batcher/types.js';
export { createEnsemble } from './ensemble.js';
export type { EnsembleMember, EnsembleOptions } from './ensemble.js';
export { createAbRouter } from './routing.js';
export type { AbArm, AbRouter, AbRouterOptions } from './routing.js';
export { createFallbackRunner } from './fallback.js';
export type { FallbackOptions, FallbackReason, FallbackRunner, FallbackStats } from './fallback.js';
export { createHotSwapRunner } from './hot-swap.js';
export type { HotSwapRunner, ModelVersion, SwapOptions, SwapResult, SwapSource } from './hot-swap.js';
export { createRowCollector, downsampleNegatives, sliceRows, takeRows } from './train/rows.js';
export type { LabeledRows, RowCollector } from './train/rows.js';
export { createFtrlTrainer } from './train/ftrl.js';
export type { FtrlOptions, FtrlSettings, FtrlTrainer } from './train/ftrl.js';
export { createFmTrainer } from './train/fm-trainer.js';
export type { FmTrainer, FmTrainerOptions, FmTrainerSettings } from './train/fm-trainer.js';
export { createDcnV2Trainer } from './train/dcnv2-trainer.js';
export type { DcnV2Trainer, DcnV2TrainerOptions, DcnV2TrainerSettings } from './train/dcnv2-trainer.js';
export { createDeepFmTrainer } from './train/deepfm-trainer.js';
export type { DeepFmTrainer, DeepFmTrainerOptions, DeepFmTrainerSettings } from './train/deepfm-trainer.js';
export type { EmbeddingTrainer, EmbeddingTrainerOptions, EmbeddingTrainerSettings } from './train/embedding-trainer.js';
export { chooseCalibrator } from './train/calibrate.js';
export type { CalibratorChoice, CalibratorChoiceOptions, CalibratorKind } from './train/calibrate.js';
export { fitModel } from './train/fit.js';
export type { FitResult } from './train/fit.js';
export type { EpochRecord, FitOptions, FitProgress, FmFitOptions, TrainableArchitecture, TrainedWeights } from './train/fit-options.js';
export { exportModel, exportStackedEnsemble } from './train/export-model.js';
export type { ExportedModel, ExportedStackMember, ExportModelOptions } from './train/export-model.js';
export { fitStacker } from './train/stacker.js';
export type { StackerFit, StackerOptions } from './train/stacker.js';
export { explainLinearModel } from './explain-linear.js';
export type { LinearExplanation } from './explain-linear.js';
export { createOnlineRefresher } from './online-refresher.js';
export type {
  OnlineRefresher,
  OnlineRefresherOptions,
  OnlineRefresherStats,
  RefreshDecision,
  RefreshGuard,
  RefreshReason,
  RefreshTrigger,
  RefresherRows,
  WindowScore,
} from './online-refresher.js';
