/**
 * DCN-v2's weights (shared embeddings, cross layers full or low rank, a ReLU tower and the output
 * layer over both), their init options, the seeded initializer and the shape check.
 */
import { createRandom, CtrkitError, type FeatureLayout } from '@ctrkit/core';
import type { DenseLayerWeights } from './dense-layer.js';
import { denseLayer, normals, scaleOf, topWidth, tower } from './init.js';
import { modelInputWidth, type EmbeddingInitOptions, type EmbeddingModelWeights } from './model-input.js';
import { checkArray, checkDense, checkEmbeddingPart, checkLayoutBasics, checkTower, positiveInt } from './validation.js';

/**
 * One DCN-v2 cross layer, `x_{l+1} = x0 ⊙ (W·x_l + b) + x_l` (Wang et al. 2021). Full rank
 * stores `W` as `[d0 × d0]` (`W[i·d0 + j]` multiplies `x_l[j]` into output i); low rank stores
 * the paper's `W = U·Vᵀ` as `u` and `v`, each `[d0 × rank]`.
 *
 * @example
 * ```ts
 * import type { CrossLayerWeights } from '@ctrkit/models';
 * const d0 = 4, rank = 2;
 * const layer: CrossLayerWeights = { kind: 'low-rank', rank, u: new Float32Array(d0 * rank), v: new Float32Array(d0 * rank), bias: new Float32Array(d0) };
 * ```
 */
export type CrossLayerWeights =
  | {
      /** Full-rank layer. */
      readonly kind: 'full';
      /** `[d0 × d0]`. */
      readonly w: Float32Array;
      /** `[d0]`. */
      readonly bias: Float32Array;
    }
  | {
      /** Low-rank layer, `W = U·Vᵀ`. */
      readonly kind: 'low-rank';
      /** The rank r. */
      readonly rank: number;
      /** `[d0 × rank]`. */
      readonly u: Float32Array;
      /** `[d0 × rank]`. */
      readonly v: Float32Array;
      /** `[d0]`. */
      readonly bias: Float32Array;
    };

/**
 * DCN-v2, parallel structure: the cross network and a ReLU deep tower both read `x0`; their
 * outputs are concatenated (`[x_L, h]`) and a final linear layer gives the logit. Sequences enter
 * `x0` mean-pooled over their real items.
 *
 * @example
 * ```ts
 * import { initDcnV2Weights, type DcnV2Weights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights: DcnV2Weights = initDcnV2Weights(layout, { embeddingDim: 16, crossLayers: 3, deep: [256, 128], seed: 7 });
 * ```
 */
export interface DcnV2Weights extends EmbeddingModelWeights {
  /** Architecture tag. */
  readonly kind: 'dcnv2';
  /** Cross layers, applied in order (may be empty). */
  readonly cross: readonly CrossLayerWeights[];
  /** Deep tower, ReLU after every layer (may be empty). */
  readonly deep: readonly DenseLayerWeights[];
  /** Final layer: inputs `d0 + last deep width`, one output (the logit). */
  readonly output: DenseLayerWeights;
}

/** Options for {@link initDcnV2Weights}.
 *
 * @example
 * ```ts
 * import type { DcnV2InitOptions } from '@ctrkit/models';
 * const options: DcnV2InitOptions = { embeddingDim: 16, crossLayers: 3, lowRank: 64, deep: [256, 128], seed: 1 };
 * ```
 */
export interface DcnV2InitOptions extends EmbeddingInitOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Number of cross layers (default 3). */
  readonly crossLayers?: number;
  /** Rank of low-rank cross layers; omit for full rank. */
  readonly lowRank?: number;
  /** Deep tower widths (default `[256, 128]`). */
  readonly deep?: readonly number[];
}

/**
 * Creates DCN-v2 weights for a layout: normal embeddings, Glorot-normal cross and deep layers.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Embedding dimension, cross layers (full or low rank), deep widths, seed, scales.
 * @returns Fresh {@link DcnV2Weights}.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive dimension, rank or width.
 * @example
 * ```ts
 * import { initDcnV2Weights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const lowRank = initDcnV2Weights(layout, { crossLayers: 3, lowRank: 32, deep: [256, 128] });
 * ```
 */
export function initDcnV2Weights(layout: FeatureLayout, options: DcnV2InitOptions = {}): DcnV2Weights {
  checkLayoutBasics(layout);
  const embeddingDim = positiveInt(options.embeddingDim ?? 16, 'embeddingDim');
  const crossLayers = options.crossLayers ?? 3;
  if (!Number.isInteger(crossLayers) || crossLayers < 0) throw new CtrkitError('E_CONFIG', `crossLayers must be an integer ≥ 0, got ${crossLayers}`);
  const rank = options.lowRank === undefined ? undefined : positiveInt(options.lowRank, 'lowRank');
  const random = createRandom(options.seed ?? 0);
  const embeddingScale = scaleOf(options.embeddingScale, 0.01, 'embeddingScale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  const d0 = modelInputWidth(layout, embeddingDim);
  const embedding = normals(random, layout.idSpace * embeddingDim, embeddingScale);
  const cross: CrossLayerWeights[] = [];
  for (let l = 0; l < crossLayers; l++) {
    if (rank === undefined) {
      cross.push({ kind: 'full', w: normals(random, d0 * d0, Math.sqrt(1 / d0)), bias: normals(random, d0, biasScale) });
    } else {
      // W = U·Vᵀ has entries of variance rank·σ_u²·σ_v²; σ = (1/(d0·rank))^¼ keeps W·x at the scale of x.
      const sigma = Math.pow(1 / (d0 * rank), 0.25);
      cross.push({ kind: 'low-rank', rank, u: normals(random, d0 * rank, sigma), v: normals(random, d0 * rank, sigma), bias: normals(random, d0, biasScale) });
    }
  }
  const deep = tower(random, d0, options.deep ?? [256, 128], biasScale, 'deep');
  return {
    kind: 'dcnv2',
    idSpace: layout.idSpace,
    embeddingDim,
    inputWidth: d0,
    embedding,
    cross,
    deep,
    output: denseLayer(random, d0 + topWidth(deep, 0), 1, biasScale),
  };
}

/** @internal {@link DcnV2Weights} fit the layout: the embedding part, every cross layer `[d0 × d0]` or `[d0 × rank]` twice, the tower and an output over `[x_L, h]`, all finite. */
export function checkDcnV2Weights(layout: FeatureLayout, weights: DcnV2Weights): void {
  const d0 = checkEmbeddingPart(layout, weights);
  weights.cross.forEach((layer, l) => {
    if (layer.kind === 'full') {
      checkArray(layer.w, d0 * d0, `dcnv2.cross[${l}].w`, `[d0 ${d0} × d0 ${d0}]`);
    } else if (layer.kind === 'low-rank') {
      positiveInt(layer.rank, `dcnv2.cross[${l}].rank`);
      checkArray(layer.u, d0 * layer.rank, `dcnv2.cross[${l}].u`, `[d0 ${d0} × rank ${layer.rank}]`);
      checkArray(layer.v, d0 * layer.rank, `dcnv2.cross[${l}].v`, `[d0 ${d0} × rank ${layer.rank}]`);
    } else {
      throw new CtrkitError('E_INPUT', `dcnv2.cross[${l}].kind must be "full" or "low-rank"`);
    }
    checkArray(layer.bias, d0, `dcnv2.cross[${l}].bias`, `[d0 ${d0}]`);
  });
  const last = checkTower(weights.deep, d0, 'dcnv2.deep');
  checkDense(weights.output, d0 + (weights.deep.length === 0 ? 0 : last), 1, 'dcnv2.output');
}
