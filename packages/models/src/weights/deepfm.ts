/**
 * DeepFM's weights (a linear part, shared embeddings for the FM term and the MLP, the MLP), their
 * init options, the seeded initializer and the shape check.
 */
import { createRandom, type FeatureLayout } from '@ctrkit/core';
import type { DenseLayerWeights } from './dense-layer.js';
import { denseLayer, initLinearPart, normals, scaleOf, topWidth, tower } from './init.js';
import { modelInputWidth, type EmbeddingInitOptions, type EmbeddingModelWeights } from './model-input.js';
import { checkEmbeddingPart, checkLayoutBasics, checkLinearPart, checkMlp, positiveInt } from './validation.js';

/**
 * DeepFM (Guo et al., IJCAI 2017): a linear part, a factorization-machine interaction term and a
 * ReLU MLP, the last two on one shared embedding table:
 * `logit = bias + Σ_c values[c]·ids[idOf(c)] + Σ_d dense[d]·denseWeights[d] + ½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²) + MLP(x0)`.
 * The `e_j` are the embedding blocks of `x0`: one per field (the `values`-weighted sum of its
 * ids' embeddings, so a bag is pooled before it interacts) and one per behavior sequence
 * (mean-pooled), so the FM term is the sum of the pairwise dot products `⟨e_i, e_j⟩`, i < j. As in
 * DCN-v2, dense columns enter the MLP through `x0`; they also have linear weights, and no factors.
 *
 * @example
 * ```ts
 * import { initDeepFmWeights, type DeepFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights: DeepFmWeights = initDeepFmWeights(layout, { embeddingDim: 8, deep: [128, 64], seed: 7 });
 * ```
 */
export interface DeepFmWeights extends EmbeddingModelWeights {
  /** Architecture tag. */
  readonly kind: 'deepfm';
  /** Dense columns (the layout's `denseWidth`). */
  readonly denseWidth: number;
  /** Embedding dimension D (the FM's factor dimension k). */
  readonly embeddingDim: number;
  /** The intercept of the linear part. */
  readonly bias: number;
  /** `[idSpace]` linear weight of each id. */
  readonly ids: Float32Array;
  /** `[denseWidth]` linear weight of each dense column. */
  readonly dense: Float32Array;
  /** `[idSpace × embeddingDim]` shared embedding table (the FM's factors and the MLP's input). */
  readonly embedding: Float32Array;
  /** MLP over `x0`, ReLU after every layer (may be empty). */
  readonly deep: readonly DenseLayerWeights[];
  /** Final MLP layer: inputs = last deep width (or d0), one output. */
  readonly output: DenseLayerWeights;
}

/** Options for {@link initDeepFmWeights}.
 *
 * @example
 * ```ts
 * import type { DeepFmInitOptions } from '@ctrkit/models';
 * const options: DeepFmInitOptions = { embeddingDim: 8, deep: [128, 64], seed: 1 };
 * ```
 */
export interface DeepFmInitOptions extends EmbeddingInitOptions {
  /** Embedding dimension D (default 8). */
  readonly embeddingDim?: number;
  /** MLP widths (default `[128, 64]`). */
  readonly deep?: readonly number[];
  /** Standard deviation of the linear weights (default 0: zeros, FTRL's and LR's starting point). */
  readonly linearScale?: number;
}

/**
 * Creates DeepFM weights for a layout: normal embeddings, zero (or `linearScale`-normal) linear
 * weights, a Glorot-normal MLP.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Embedding dimension, MLP widths, seed, scales.
 * @returns Fresh {@link DeepFmWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive dimension or width, a negative scale or an invalid layout.
 * @example
 * ```ts
 * import { initDeepFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initDeepFmWeights(layout, { embeddingDim: 8, deep: [64, 32], seed: 'deepfm' });
 * ```
 */
export function initDeepFmWeights(layout: FeatureLayout, options: DeepFmInitOptions = {}): DeepFmWeights {
  checkLayoutBasics(layout);
  const embeddingDim = positiveInt(options.embeddingDim ?? 8, 'embeddingDim');
  const random = createRandom(options.seed ?? 0);
  const embeddingScale = scaleOf(options.embeddingScale, 0.01, 'embeddingScale');
  const linearScale = scaleOf(options.linearScale, 0, 'linearScale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  const d0 = modelInputWidth(layout, embeddingDim);
  const embedding = normals(random, layout.idSpace * embeddingDim, embeddingScale);
  const deep = tower(random, d0, options.deep ?? [128, 64], biasScale, 'deep');
  return {
    kind: 'deepfm',
    ...initLinearPart(random, layout, linearScale, biasScale),
    embeddingDim,
    inputWidth: d0,
    embedding,
    deep,
    output: denseLayer(random, topWidth(deep, d0), 1, biasScale),
  };
}

/** @internal {@link DeepFmWeights} fit the layout: the linear part, the embedding part and the MLP over `x0`, all finite. */
export function checkDeepFmWeights(layout: FeatureLayout, weights: DeepFmWeights): void {
  checkLinearPart(layout, weights);
  const d0 = checkEmbeddingPart(layout, weights);
  checkMlp(weights.deep, weights.output, d0, 'deepfm');
}
