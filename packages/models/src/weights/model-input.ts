/**
 * The model input `x0` that DCN-v2, DeepFM and DIN build from a batch — one `embeddingDim` block
 * per field and per behavior sequence, then the dense columns — its width, what every model over
 * it holds, and the init options every such model takes.
 */
import type { FeatureLayout } from '@ctrkit/core';

/**
 * Width of the `x0` vector that DCN-v2, DeepFM and DIN build from a batch: one `embeddingDim` block per
 * field and per sequence, plus the dense columns.
 *
 * @param layout - The feature layout.
 * @param embeddingDim - Embedding dimension D.
 * @returns `(fields + sequences) × D + denseWidth`.
 * @example
 * ```ts
 * import { modelInputWidth } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const d0 = modelInputWidth(layout, 16);
 * ```
 */
export function modelInputWidth(layout: FeatureLayout, embeddingDim: number): number {
  return (layout.fields.length + layout.sequences.length) * embeddingDim + layout.denseWidth;
}

/** What every model over `x0` holds (`DcnV2Weights`, `DeepFmWeights` and `DinWeights` extend it): the shared embedding table and the width of `x0` it makes.
 *
 * @example
 * ```ts
 * import type { EmbeddingModelWeights } from '@ctrkit/models';
 * const rowOf = (weights: EmbeddingModelWeights, id: number) => weights.embedding.subarray(id * weights.embeddingDim, (id + 1) * weights.embeddingDim);
 * ```
 */
export interface EmbeddingModelWeights {
  /** Size of the id space. */
  readonly idSpace: number;
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Width d0 of `x0` (see {@link modelInputWidth}). */
  readonly inputWidth: number;
  /** `[idSpace × embeddingDim]` shared embedding table, read by the fields and the sequence items. */
  readonly embedding: Float32Array;
}

/** Init options every model over `x0` takes (`DcnV2InitOptions`, `DeepFmInitOptions` and `DinInitOptions` extend it and state their defaults).
 *
 * @example
 * ```ts
 * import type { EmbeddingInitOptions } from '@ctrkit/models';
 * const options: EmbeddingInitOptions = { embeddingDim: 8, deep: [64, 32], seed: 1, embeddingScale: 0.02 };
 * ```
 */
export interface EmbeddingInitOptions {
  /** Embedding dimension D (default: the architecture's). */
  readonly embeddingDim?: number;
  /** Widths of the ReLU tower over `x0` (default: the architecture's). */
  readonly deep?: readonly number[];
  /** Seed (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of the embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Standard deviation of the biases (default 0). */
  readonly biasScale?: number;
}
