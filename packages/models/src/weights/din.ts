/**
 * DIN's weights (shared embeddings, an attention unit or a masked mean per behavior sequence, the
 * MLP), their init options, the seeded initializer and the shape check.
 */
import { createRandom, CtrkitError, type FeatureLayout } from '@ctrkit/core';
import type { DenseLayerWeights } from './dense-layer.js';
import { denseLayer, normals, scaleOf, topWidth, tower } from './init.js';
import { modelInputWidth, type EmbeddingInitOptions, type EmbeddingModelWeights } from './model-input.js';
import { checkEmbeddingPart, checkLayoutBasics, checkMlp, checkTower, positiveInt } from './validation.js';

/** How DIN pools one behavior sequence: an attention unit against the candidate's field, or a masked mean.
 *
 * @example
 * ```ts
 * import type { DinSequencePooling } from '@ctrkit/models';
 * const pooling: DinSequencePooling = { kind: 'mean' };
 * ```
 */
export type DinSequencePooling =
  | {
      /** Attention pooling (needs the sequence's `sharesIdsWith`). */
      readonly kind: 'attention';
      /** Activation-unit MLP over `[k, q, k−q, k⊙q]` (first layer: `4·D` inputs; last: one output, no activation; ReLU between). */
      readonly layers: readonly DenseLayerWeights[];
    }
  | {
      /** Mean of the real items (for sequences without `sharesIdsWith`). */
      readonly kind: 'mean';
    };

/**
 * Deep Interest Network (Zhou et al. 2018): each behavior sequence is pooled by an activation
 * unit scoring every item k against the query q (the embedding of the field named by the
 * sequence's `sharesIdsWith`), masked by the sequence's length, as the weighted sum `Σ a_t·k_t`
 * (no softmax, as in the paper). The pooled vectors join the field embeddings and dense columns
 * in `x0`, which a ReLU MLP turns into the logit.
 *
 * @example
 * ```ts
 * import { initDinWeights, type DinWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights: DinWeights = initDinWeights(layout, { embeddingDim: 8, attention: [36], deep: [200, 80], seed: 1 });
 * ```
 */
export interface DinWeights extends EmbeddingModelWeights {
  /** Architecture tag. */
  readonly kind: 'din';
  /** One pooling per layout sequence, in order. */
  readonly pooling: readonly DinSequencePooling[];
  /** MLP over `x0`, ReLU after every layer. */
  readonly deep: readonly DenseLayerWeights[];
  /** Final layer: inputs = last deep width (or d0), one output (the logit). */
  readonly output: DenseLayerWeights;
}

/** Options for {@link initDinWeights}.
 *
 * @example
 * ```ts
 * import type { DinInitOptions } from '@ctrkit/models';
 * const options: DinInitOptions = { embeddingDim: 8, attention: [36], deep: [200, 80] };
 * ```
 */
export interface DinInitOptions extends EmbeddingInitOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Hidden widths of the activation unit (default `[36]`). */
  readonly attention?: readonly number[];
  /** Deep MLP widths (default `[200, 80]`). */
  readonly deep?: readonly number[];
}

/**
 * Creates DIN weights for a layout: an attention unit for every sequence that names
 * `sharesIdsWith`, masked-mean pooling for the others, and a ReLU MLP.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Embedding dimension, activation-unit and MLP widths, seed, scales.
 * @returns Fresh {@link DinWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive width, or a `sharesIdsWith` that names no field.
 * @example
 * ```ts
 * import { initDinWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initDinWeights(layout, { embeddingDim: 16, attention: [36], deep: [200, 80] });
 * ```
 */
export function initDinWeights(layout: FeatureLayout, options: DinInitOptions = {}): DinWeights {
  checkLayoutBasics(layout);
  const embeddingDim = positiveInt(options.embeddingDim ?? 16, 'embeddingDim');
  const random = createRandom(options.seed ?? 0);
  const embeddingScale = scaleOf(options.embeddingScale, 0.01, 'embeddingScale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  const d0 = modelInputWidth(layout, embeddingDim);
  const embedding = normals(random, layout.idSpace * embeddingDim, embeddingScale);
  const attention = options.attention ?? [36];
  const pooling: DinSequencePooling[] = layout.sequences.map((sequence) => {
    if (sequence.sharesIdsWith === undefined) return { kind: 'mean' };
    if (!layout.fields.some((field) => field.name === sequence.sharesIdsWith)) {
      throw new CtrkitError(
        'E_CONFIG',
        `sequence "${sequence.name}" shares ids with "${sequence.sharesIdsWith}", which is not a field of the layout; name an existing categorical field or drop sharesIdsWith`,
      );
    }
    const hidden = tower(random, 4 * embeddingDim, attention, biasScale, 'attention');
    return { kind: 'attention', layers: [...hidden, denseLayer(random, topWidth(hidden, 4 * embeddingDim), 1, biasScale)] };
  });
  const deep = tower(random, d0, options.deep ?? [200, 80], biasScale, 'deep');
  return { kind: 'din', idSpace: layout.idSpace, embeddingDim, inputWidth: d0, embedding, pooling, deep, output: denseLayer(random, topWidth(deep, d0), 1, biasScale) };
}

/** @internal {@link DinWeights} fit the layout: the embedding part, one pooling per sequence (attention only where it names a field to attend from, ending in one score) and the MLP, all finite. */
export function checkDinWeights(layout: FeatureLayout, weights: DinWeights): void {
  const D = weights.embeddingDim;
  const d0 = checkEmbeddingPart(layout, weights);
  if (!Array.isArray(weights.pooling) || weights.pooling.length !== layout.sequences.length) {
    throw new CtrkitError('E_INPUT', `din.pooling must hold one entry per layout sequence (${layout.sequences.length})`);
  }
  weights.pooling.forEach((pooling, s) => {
    const sequence = layout.sequences[s];
    if (pooling.kind === 'mean') return;
    if (pooling.kind !== 'attention') throw new CtrkitError('E_INPUT', `din.pooling[${s}].kind must be "attention" or "mean"`);
    if (sequence?.sharesIdsWith === undefined || !layout.fields.some((f) => f.name === sequence.sharesIdsWith)) {
      throw new CtrkitError(
        'E_INPUT',
        `din.pooling[${s}] is attention but sequence "${sequence?.name}" names no field in sharesIdsWith to attend from; use { kind: 'mean' } or set sharesIdsWith`,
      );
    }
    const width = checkTower(pooling.layers, 4 * D, `din.pooling[${s}].layers`);
    if (pooling.layers.length === 0 || width !== 1) throw new CtrkitError('E_INPUT', `din.pooling[${s}].layers must end in a layer with one output (the attention score)`);
  });
  checkMlp(weights.deep, weights.output, d0, 'din');
}
