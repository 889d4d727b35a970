/**
 * Writing a manifest: the one ctrkit's builders' models come with, and its `model.json` text.
 */
import { calibratorFromJSON, type Calibrator, type CalibratorJSON, type FeatureLayout } from '@ctrkit/core';
import { checkLayout } from '../batch-check.js';
import type { StackedMember } from '../stacked-member.js';
import type { ModelWeights } from '../weights.js';
import { builtInInputs } from './inputs.js';
import { parseManifest } from './parse.js';
import type { ManifestInput, ModelManifest } from './types.js';

/** Options for {@link createManifest}.
 *
 * @example
 * ```ts
 * import type { CreateManifestOptions } from '@ctrkit/models';
 * const options: CreateManifestOptions = { version: '2026-01-01.1', metrics: { auc: 0.79 } };
 * ```
 */
export interface CreateManifestOptions {
  /** Model version. */
  readonly version: string;
  /** Calibrator (fitted) or its JSON, applied after the model. */
  readonly calibration?: Calibrator | CalibratorJSON;
  /** Training and evaluation metrics. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Free text. */
  readonly description?: string;
  /** Export time (default: now, ISO-8601). */
  readonly createdAt?: string;
  /** Producer string (default `ctrkit`). */
  readonly producer?: string;
}

function configOf(weights: ModelWeights): Record<string, unknown> {
  switch (weights.kind) {
    case 'lr':
      return {};
    case 'fm':
      return { dim: weights.dim };
    case 'dcnv2':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        crossLayers: weights.cross.length,
        crossRanks: weights.cross.map((layer) => (layer.kind === 'full' ? 'full' : layer.rank)),
        deep: weights.deep.map((layer) => layer.outputs),
        structure: 'parallel',
      };
    case 'deepfm':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        deep: weights.deep.map((layer) => layer.outputs),
        interactions: 'fm over field embeddings',
      };
    case 'din':
      return {
        embeddingDim: weights.embeddingDim,
        inputWidth: weights.inputWidth,
        pooling: weights.pooling.map((p) => (p.kind === 'mean' ? 'mean' : p.layers.map((layer) => layer.outputs))),
        deep: weights.deep.map((layer) => layer.outputs),
      };
  }
}

/**
 * Writes the manifest of a model built by {@link buildLrModel}, {@link buildFmModel},
 * {@link buildDcnV2Model}, {@link buildDeepFmModel} or {@link buildDinModel} from the same layout and weights.
 *
 * @param layout - The layout the model was built for.
 * @param weights - The weights it was built from (only their kind and shapes are read).
 * @param options - Version, calibration, metrics, description.
 * @returns A manifest to save as `model.json` (see {@link manifestToJSON}).
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on an invalid calibrator.
 * @example
 * ```ts
 * import { buildLrModel, createManifest, initLrWeights, manifestToJSON } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initLrWeights(layout);
 * const onnx = buildLrModel(layout, weights);
 * const json = manifestToJSON(createManifest(layout, weights, { version: '1', metrics: { auc: 0.74 } }));
 * ```
 */
export function createManifest(layout: FeatureLayout, weights: ModelWeights, options: CreateManifestOptions): ModelManifest {
  return manifestOf(layout, weights.kind, builtInInputs(layout, weights.kind), configOf(weights), options);
}

/**
 * Writes the manifest of a stacked ensemble built by {@link buildStackedEnsembleModel} from the
 * same layout, members and bias: architecture `ensemble`, the inputs any member reads, and in
 * `config` each member's architecture, coefficient and shape.
 *
 * @param layout - The layout the ensemble was built for.
 * @param members - Its members (only their kinds, shapes and coefficients are read).
 * @param bias - Its intercept.
 * @param options - Version, calibration, metrics, description.
 * @returns A manifest to save as `model.json`.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on an invalid calibrator.
 * @example
 * ```ts
 * import { createStackedEnsembleManifest, initFmWeights, initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const manifest = createStackedEnsembleManifest(layout, [{ weights: initLrWeights(layout), weight: 0.3 }, { weights: initFmWeights(layout), weight: 0.8 }], -0.1, { version: '1' });
 * ```
 */
export function createStackedEnsembleManifest(layout: FeatureLayout, members: readonly StackedMember[], bias: number, options: CreateManifestOptions): ModelManifest {
  const inputs = new Map<string, ManifestInput>();
  for (const member of members) for (const input of builtInInputs(layout, member.weights.kind)) inputs.set(input.name, input);
  const config = {
    combination: 'logit = bias + Σ coefficient × member logit',
    bias,
    members: members.map((member) => ({ architecture: member.weights.kind, coefficient: member.weight, ...configOf(member.weights) })),
  };
  return manifestOf(layout, 'ensemble', [...inputs.values()], config, options);
}

function manifestOf(layout: FeatureLayout, architecture: string, inputs: ManifestInput[], config: Record<string, unknown>, options: CreateManifestOptions): ModelManifest {
  checkLayout(layout);
  const calibration = options.calibration === undefined ? undefined : 'toJSON' in options.calibration ? options.calibration.toJSON() : options.calibration;
  if (calibration !== undefined) calibratorFromJSON(calibration);
  const manifest: ModelManifest = {
    format: 'ctrkit.model',
    formatVersion: 1,
    architecture,
    version: options.version,
    fingerprint: layout.fingerprint,
    idSpace: layout.idSpace,
    inputs,
    output: { name: 'probability', kind: 'probability' },
    ...(calibration === undefined ? {} : { calibration }),
    ...(options.metrics === undefined ? {} : { metrics: { ...options.metrics } }),
    config,
    createdAt: options.createdAt ?? new Date().toISOString(),
    producer: options.producer ?? 'ctrkit',
    ...(options.description === undefined ? {} : { description: options.description }),
  };
  return parseManifest(manifest);
}

/**
 * Serializes a manifest as indented JSON for `model.json`.
 *
 * @param manifest - A manifest.
 * @returns Its JSON text.
 * @example
 * ```ts
 * import { manifestToJSON, type ModelManifest } from '@ctrkit/models';
 * declare const manifest: ModelManifest;
 * const text = manifestToJSON(manifest);
 * ```
 */
export function manifestToJSON(manifest: ModelManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
