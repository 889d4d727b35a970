/**
 * The ONNX model and manifest of a `fitModel` result: the calibrator, the training figures and
 * settings, the caller's config and an optional feature profile, ready for `saveModel`.
 */
import { profileFeatures, type FeatureLayout, type FeatureProfile } from '@ctrkit/core';
import { buildModel } from '../builders.js';
import { buildStackedEnsembleModel } from '../ensemble-builder.js';
import { createManifest, createStackedEnsembleManifest, parseManifest, type ModelManifest } from '../manifest.js';
import { clampedLogit, sigmoid } from '../runner/sigmoid.js';
import type { FitResult } from './fit.js';
import type { LabeledRows } from './rows.js';

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
  readonly profileRows?: LabeledRows;
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
 * import { exportModel, fitModel, type LabeledRows } from '@ctrkit/models';
 * declare const train: LabeledRows;
 * declare const valid: LabeledRows;
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

/**
 * One member of a stacked ensemble to export: its fit and its coefficient (from {@link fitStacker}).
 *
 * @example
 * ```ts
 * import type { ExportedStackMember, FitResult } from '@ctrkit/models';
 * declare const fm: FitResult;
 * const member: ExportedStackMember = { result: fm, coefficient: 0.6 };
 * ```
 */
export interface ExportedStackMember {
  /** The member's `fitModel` result (its weights; its own calibrator is not used). */
  readonly result: FitResult;
  /** Its logit's coefficient. */
  readonly coefficient: number;
}

/**
 * Builds the ONNX model and manifest of a stacked ensemble of {@link fitModel} results
 * (`buildStackedEnsembleModel`, `createStackedEnsembleManifest`): no calibrator after it (the
 * stacker was fitted on held-out rows), each member's training record and figures in
 * `config.members`, the caller's config and an optional feature profile as {@link exportModel} writes them.
 *
 * @param layout - The encoder's layout every member was trained on.
 * @param members - At least two members with their coefficients.
 * @param bias - The stacker's intercept.
 * @param options - Version, description, extra metrics and config, rows to profile.
 * @returns The model bytes and manifest.
 * @throws `CtrkitError` as the builders and `createStackedEnsembleManifest` do.
 * @example
 * ```ts
 * import { exportStackedEnsemble, fitModel, fitStacker, type LabeledRows } from '@ctrkit/models';
 * declare const train: LabeledRows;
 * declare const valid: LabeledRows;
 * const fits = (['fm', 'deepfm'] as const).map((model) => fitModel({ model, train, valid, refit: false }));
 * const stack = fitStacker(fits.map((f) => f.validPredictions as Float32Array), valid.labels);
 * const { model, manifest } = exportStackedEnsemble(train.batch.layout, fits.map((result, i) => ({ result, coefficient: stack.coefficients[i] as number })), stack.bias, { version: '1' });
 * ```
 */
export function exportStackedEnsemble(layout: FeatureLayout, members: readonly ExportedStackMember[], bias: number, options: ExportModelOptions): ExportedModel {
  const stacked = members.map((m) => ({ weights: m.result.weights, weight: m.coefficient }));
  const model = buildStackedEnsembleModel(layout, stacked, bias, options.description === undefined ? {} : { description: options.description });
  const base = createStackedEnsembleManifest(layout, stacked, bias, {
    version: options.version,
    ...(options.metrics === undefined ? {} : { metrics: { ...options.metrics } }),
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }),
  });
  let profile: FeatureProfile | undefined;
  if (options.profileRows !== undefined) profile = profileFeatures([options.profileRows.batch], predictStacked(members, bias, options.profileRows));
  const config = base.config ?? {};
  const described = (config.members as readonly Record<string, unknown>[]).map((entry, i) => {
    const result = (members[i] as ExportedStackMember).result;
    return { ...entry, training: { history: result.history, bestEpoch: result.bestEpoch, metrics: result.metrics } };
  });
  const manifest = parseManifest({
    ...base,
    config: { ...config, members: described, ...(options.config ?? {}), ...(profile === undefined ? {} : { featureProfile: profile }) },
  });
  return { model, manifest, profile };
}

/** @internal The ensemble's probabilities of `rows`, from its members' scorers: `sigmoid(bias + Σ cᵢ·logit(pᵢ))`. */
export function predictStacked(members: readonly ExportedStackMember[], bias: number, rows: LabeledRows): Float32Array {
  const out = new Float32Array(rows.labels.length);
  const logits = new Float64Array(out.length).fill(bias);
  for (const member of members) {
    const p = member.result.predict(rows);
    for (let i = 0; i < p.length; i++) logits[i] = (logits[i] as number) + member.coefficient * clampedLogit(p[i] as number);
  }
  for (let i = 0; i < out.length; i++) out[i] = sigmoid(logits[i] as number);
  return out;
}
