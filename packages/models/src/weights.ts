/**
 * The weight structures of the built-in architectures. Trainers fill them, the ONNX builders turn
 * them into models, and the native runner scores LR and FM straight from them.
 *
 * Conventions, shared by every structure:
 * - All arrays are `Float32Array`, row-major.
 * - A fully connected layer stores `weight` as `[outputs × inputs]` — the layout of PyTorch's
 *   `nn.Linear.weight` — so `y = W·x + b`, i.e. `y[o] = b[o] + Σ_i weight[o·inputs + i]·x[i]`.
 * - The model input `x0` of DCN-v2, DeepFM and DIN is, in this order: one `embeddingDim` block per field
 *   of the layout (the `values`-weighted sum of its ids' embeddings; a bag sums its columns), one
 *   block per behaviour sequence (pooled), then the `denseWidth` dense columns. Its width is
 *   {@link modelInputWidth}.
 */
import { createRandom, CtrkitError, type FeatureLayout, type Random } from '@ctrkit/core';

/** A fully connected layer: `y = W·x + b` with `W` stored `[outputs × inputs]` (PyTorch `nn.Linear` order).
 *
 * @example
 * ```ts
 * import type { DenseLayerWeights } from '@ctrkit/models';
 * const layer: DenseLayerWeights = { inputs: 2, outputs: 1, weight: new Float32Array([0.5, -0.5]), bias: new Float32Array([0.1]) };
 * ```
 */
export interface DenseLayerWeights {
  /** Width of the layer's input. */
  readonly inputs: number;
  /** Width of the layer's output. */
  readonly outputs: number;
  /** `[outputs × inputs]` row-major. */
  readonly weight: Float32Array;
  /** `[outputs]`. */
  readonly bias: Float32Array;
}

/**
 * Logistic regression over hashed ids and dense columns:
 * `logit = bias + Σ_c values[c]·ids[idOf(c)] + Σ_d dense[d]·denseWeights[d]`.
 * Behaviour sequences are not used.
 *
 * @example
 * ```ts
 * import type { LrWeights } from '@ctrkit/models';
 * const weights: LrWeights = { kind: 'lr', idSpace: 4, denseWidth: 1, bias: -2, ids: new Float32Array(4), dense: new Float32Array(1) };
 * ```
 */
export interface LrWeights {
  /** Architecture tag. */
  readonly kind: 'lr';
  /** Size of the id space the table covers (the layout's `idSpace`). */
  readonly idSpace: number;
  /** Dense columns (the layout's `denseWidth`). */
  readonly denseWidth: number;
  /** The intercept. */
  readonly bias: number;
  /** `[idSpace]` weight of each id. */
  readonly ids: Float32Array;
  /** `[denseWidth]` weight of each dense column. */
  readonly dense: Float32Array;
}

/**
 * Factorisation machine (Rendle 2010) over the ids (feature value = the id's `values` entry) and
 * the dense columns (feature value = the column's value):
 * `logit = bias + Σ_i w_i·x_i + ½ Σ_f [(Σ_i v_if·x_i)² − Σ_i v_if²·x_i²]`. Sequences are not used.
 *
 * @example
 * ```ts
 * import type { FmWeights } from '@ctrkit/models';
 * const weights: FmWeights = {
 *   kind: 'fm', idSpace: 4, denseWidth: 0, dim: 2, bias: 0,
 *   ids: new Float32Array(4), dense: new Float32Array(0),
 *   idFactors: new Float32Array(8), denseFactors: new Float32Array(0),
 * };
 * ```
 */
export interface FmWeights {
  /** Architecture tag. */
  readonly kind: 'fm';
  /** Size of the id space. */
  readonly idSpace: number;
  /** Dense columns. */
  readonly denseWidth: number;
  /** Factor dimension k. */
  readonly dim: number;
  /** The intercept. */
  readonly bias: number;
  /** `[idSpace]` linear weight of each id. */
  readonly ids: Float32Array;
  /** `[denseWidth]` linear weight of each dense column. */
  readonly dense: Float32Array;
  /** `[idSpace × dim]` factor vector of each id. */
  readonly idFactors: Float32Array;
  /** `[denseWidth × dim]` factor vector of each dense column. */
  readonly denseFactors: Float32Array;
}

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
export interface DcnV2Weights {
  /** Architecture tag. */
  readonly kind: 'dcnv2';
  /** Size of the id space. */
  readonly idSpace: number;
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Width d0 of `x0` (see {@link modelInputWidth}). */
  readonly inputWidth: number;
  /** `[idSpace × embeddingDim]` shared embedding table. */
  readonly embedding: Float32Array;
  /** Cross layers, applied in order (may be empty). */
  readonly cross: readonly CrossLayerWeights[];
  /** Deep tower, ReLU after every layer (may be empty). */
  readonly deep: readonly DenseLayerWeights[];
  /** Final layer: inputs `d0 + last deep width`, one output (the logit). */
  readonly output: DenseLayerWeights;
}

/**
 * DeepFM (Guo et al., IJCAI 2017): a linear part, a factorisation-machine interaction term and a
 * ReLU MLP, the last two on one shared embedding table:
 * `logit = bias + Σ_c values[c]·ids[idOf(c)] + Σ_d dense[d]·denseWeights[d] + ½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²) + MLP(x0)`.
 * The `e_j` are the embedding blocks of `x0`: one per field (the `values`-weighted sum of its
 * ids' embeddings, so a bag is pooled before it interacts) and one per behaviour sequence
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
export interface DeepFmWeights {
  /** Architecture tag. */
  readonly kind: 'deepfm';
  /** Size of the id space. */
  readonly idSpace: number;
  /** Dense columns (the layout's `denseWidth`). */
  readonly denseWidth: number;
  /** Embedding dimension D (the FM's factor dimension k). */
  readonly embeddingDim: number;
  /** Width d0 of `x0` (see {@link modelInputWidth}). */
  readonly inputWidth: number;
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

/** How DIN pools one behaviour sequence: an attention unit against the candidate's field, or a masked mean.
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
 * Deep Interest Network (Zhou et al. 2018): each behaviour sequence is pooled by an activation
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
export interface DinWeights {
  /** Architecture tag. */
  readonly kind: 'din';
  /** Size of the id space. */
  readonly idSpace: number;
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Width d0 of `x0` (see {@link modelInputWidth}). */
  readonly inputWidth: number;
  /** `[idSpace × embeddingDim]` shared embedding table (fields and sequence items). */
  readonly embedding: Float32Array;
  /** One pooling per layout sequence, in order. */
  readonly pooling: readonly DinSequencePooling[];
  /** MLP over `x0`, ReLU after every layer. */
  readonly deep: readonly DenseLayerWeights[];
  /** Final layer: inputs = last deep width (or d0), one output (the logit). */
  readonly output: DenseLayerWeights;
}

/** Any built-in architecture's weights.
 *
 * @example
 * ```ts
 * import type { ModelWeights } from '@ctrkit/models';
 * const describe = (weights: ModelWeights) => `${weights.kind} over ${weights.idSpace} ids`;
 * ```
 */
export type ModelWeights = LrWeights | FmWeights | DcnV2Weights | DeepFmWeights | DinWeights;

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

/** Options for {@link initLrWeights} and {@link initFmWeights}.
 *
 * @example
 * ```ts
 * import type { LinearInitOptions } from '@ctrkit/models';
 * const options: LinearInitOptions = { seed: 'lr-1', scale: 0.05, biasScale: 0.1 };
 * ```
 */
export interface LinearInitOptions {
  /** Seed of the random source (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of the weights and factors (default 0.01; 0 gives zeros). */
  readonly scale?: number;
  /** Standard deviation of the bias (default 0). */
  readonly biasScale?: number;
}

/** Options for {@link initFmWeights}.
 *
 * @example
 * ```ts
 * import type { FmInitOptions } from '@ctrkit/models';
 * const options: FmInitOptions = { dim: 8, seed: 3 };
 * ```
 */
export interface FmInitOptions extends LinearInitOptions {
  /** Factor dimension k (default 8). */
  readonly dim?: number;
}

/** Options for {@link initDcnV2Weights}.
 *
 * @example
 * ```ts
 * import type { DcnV2InitOptions } from '@ctrkit/models';
 * const options: DcnV2InitOptions = { embeddingDim: 16, crossLayers: 3, lowRank: 64, deep: [256, 128], seed: 1 };
 * ```
 */
export interface DcnV2InitOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Number of cross layers (default 3). */
  readonly crossLayers?: number;
  /** Rank of low-rank cross layers; omit for full rank. */
  readonly lowRank?: number;
  /** Deep tower widths (default `[256, 128]`). */
  readonly deep?: readonly number[];
  /** Seed (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Standard deviation of biases (default 0). */
  readonly biasScale?: number;
}

/** Options for {@link initDeepFmWeights}.
 *
 * @example
 * ```ts
 * import type { DeepFmInitOptions } from '@ctrkit/models';
 * const options: DeepFmInitOptions = { embeddingDim: 8, deep: [128, 64], seed: 1 };
 * ```
 */
export interface DeepFmInitOptions {
  /** Embedding dimension D (default 8). */
  readonly embeddingDim?: number;
  /** MLP widths (default `[128, 64]`). */
  readonly deep?: readonly number[];
  /** Seed (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of the embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Standard deviation of the linear weights (default 0: zeros, FTRL's and LR's starting point). */
  readonly linearScale?: number;
  /** Standard deviation of the biases (default 0). */
  readonly biasScale?: number;
}

/** Options for {@link initDinWeights}.
 *
 * @example
 * ```ts
 * import type { DinInitOptions } from '@ctrkit/models';
 * const options: DinInitOptions = { embeddingDim: 8, attention: [36], deep: [200, 80] };
 * ```
 */
export interface DinInitOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Hidden widths of the activation unit (default `[36]`). */
  readonly attention?: readonly number[];
  /** Deep MLP widths (default `[200, 80]`). */
  readonly deep?: readonly number[];
  /** Seed (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Standard deviation of biases (default 0). */
  readonly biasScale?: number;
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new CtrkitError('E_CONFIG', `${what} must be a positive integer, got ${value}`);
  return value;
}

function scaleOf(value: number | undefined, fallback: number, what: string): number {
  const scale = value ?? fallback;
  if (!Number.isFinite(scale) || scale < 0) throw new CtrkitError('E_CONFIG', `${what} must be a finite number ≥ 0, got ${scale}`);
  return scale;
}

function normals(random: Random, length: number, scale: number): Float32Array {
  const out = new Float32Array(length);
  if (scale === 0) return out;
  for (let i = 0; i < length; i++) out[i] = random.normal() * scale;
  return out;
}

/** Glorot-normal weight and `biasScale`-normal bias: keeps activations at unit scale through deep stacks. */
function denseLayer(random: Random, inputs: number, outputs: number, biasScale: number): DenseLayerWeights {
  return {
    inputs,
    outputs,
    weight: normals(random, inputs * outputs, Math.sqrt(2 / (inputs + outputs))),
    bias: normals(random, outputs, biasScale),
  };
}

function tower(random: Random, inputs: number, widths: readonly number[], biasScale: number, what: string): DenseLayerWeights[] {
  const layers: DenseLayerWeights[] = [];
  let width = inputs;
  widths.forEach((outputs, i) => {
    positiveInt(outputs, `${what}[${i}]`);
    layers.push(denseLayer(random, width, outputs, biasScale));
    width = outputs;
  });
  return layers;
}

function checkLayoutBasics(layout: FeatureLayout): void {
  positiveInt(layout.idSpace, 'layout.idSpace');
  if (!Number.isInteger(layout.denseWidth) || layout.denseWidth < 0) {
    throw new CtrkitError('E_CONFIG', `layout.denseWidth must be an integer ≥ 0, got ${layout.denseWidth}`);
  }
}

/**
 * Creates logistic-regression weights for a layout, drawn from a seeded normal distribution.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Seed and scales.
 * @returns Fresh {@link LrWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a negative scale or an invalid layout.
 * @example
 * ```ts
 * import { initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initLrWeights(layout, { seed: 1, scale: 0 }); // all zeros: FTRL's starting point
 * ```
 */
export function initLrWeights(layout: FeatureLayout, options: LinearInitOptions = {}): LrWeights {
  checkLayoutBasics(layout);
  const random = createRandom(options.seed ?? 0);
  const scale = scaleOf(options.scale, 0.01, 'scale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  return {
    kind: 'lr',
    idSpace: layout.idSpace,
    denseWidth: layout.denseWidth,
    bias: biasScale === 0 ? 0 : Math.fround(random.normal() * biasScale),
    ids: normals(random, layout.idSpace, scale),
    dense: normals(random, layout.denseWidth, scale),
  };
}

/**
 * Creates factorisation-machine weights for a layout, drawn from a seeded normal distribution.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Factor dimension, seed and scales.
 * @returns Fresh {@link FmWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive `dim` or a negative scale.
 * @example
 * ```ts
 * import { initFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initFmWeights(layout, { dim: 8, seed: 'fm' });
 * ```
 */
export function initFmWeights(layout: FeatureLayout, options: FmInitOptions = {}): FmWeights {
  checkLayoutBasics(layout);
  const dim = positiveInt(options.dim ?? 8, 'dim');
  const random = createRandom(options.seed ?? 0);
  const scale = scaleOf(options.scale, 0.01, 'scale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  return {
    kind: 'fm',
    idSpace: layout.idSpace,
    denseWidth: layout.denseWidth,
    dim,
    bias: biasScale === 0 ? 0 : Math.fround(random.normal() * biasScale),
    ids: normals(random, layout.idSpace, scale),
    dense: normals(random, layout.denseWidth, scale),
    idFactors: normals(random, layout.idSpace * dim, scale),
    denseFactors: normals(random, layout.denseWidth * dim, scale),
  };
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
  const last = deep.length === 0 ? 0 : (deep[deep.length - 1] as DenseLayerWeights).outputs;
  return {
    kind: 'dcnv2',
    idSpace: layout.idSpace,
    embeddingDim,
    inputWidth: d0,
    embedding,
    cross,
    deep,
    output: denseLayer(random, d0 + last, 1, biasScale),
  };
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
  const last = deep.length === 0 ? d0 : (deep[deep.length - 1] as DenseLayerWeights).outputs;
  return {
    kind: 'deepfm',
    idSpace: layout.idSpace,
    denseWidth: layout.denseWidth,
    embeddingDim,
    inputWidth: d0,
    bias: biasScale === 0 ? 0 : Math.fround(random.normal() * biasScale),
    ids: normals(random, layout.idSpace, linearScale),
    dense: normals(random, layout.denseWidth, linearScale),
    embedding,
    deep,
    output: denseLayer(random, last, 1, biasScale),
  };
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
    const last = hidden.length === 0 ? 4 * embeddingDim : (hidden[hidden.length - 1] as DenseLayerWeights).outputs;
    return { kind: 'attention', layers: [...hidden, denseLayer(random, last, 1, biasScale)] };
  });
  const deep = tower(random, d0, options.deep ?? [200, 80], biasScale, 'deep');
  const last = deep.length === 0 ? d0 : (deep[deep.length - 1] as DenseLayerWeights).outputs;
  return { kind: 'din', idSpace: layout.idSpace, embeddingDim, inputWidth: d0, embedding, pooling, deep, output: denseLayer(random, last, 1, biasScale) };
}

// ---------------------------------------------------------------------------------------------
// Validation: run once when a model is built or weights are swapped in, never per row.

function checkArray(array: unknown, length: number, what: string, hint: string): void {
  if (!(array instanceof Float32Array)) {
    throw new CtrkitError('E_INPUT', `${what} must be a Float32Array of ${length} values (${hint}), got ${describe(array)}`);
  }
  if (array.length !== length) {
    throw new CtrkitError('E_INPUT', `${what} has ${array.length} values but must have ${length} (${hint})`, {
      details: { what, expected: length, actual: array.length },
    });
  }
  for (let i = 0; i < length; i++) {
    const v = array[i] as number;
    // v − v is 0 for finite v and NaN for ±Infinity and NaN: one subtraction, no call.
    if (v - v !== 0) {
      throw new CtrkitError('E_INPUT', `${what}[${i}] is ${v}; weights must be finite (a diverged trainer? lower its learning rate)`, {
        details: { what, index: i, value: v },
      });
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

function checkDense(layer: DenseLayerWeights | undefined, inputs: number, outputs: number | undefined, what: string): number {
  if (layer === undefined || typeof layer !== 'object') throw new CtrkitError('E_INPUT', `${what} is missing`);
  if (layer.inputs !== inputs) {
    throw new CtrkitError('E_INPUT', `${what} takes ${layer.inputs} inputs but receives ${inputs}; rebuild the weights for this layout`);
  }
  if (outputs !== undefined && layer.outputs !== outputs) {
    throw new CtrkitError('E_INPUT', `${what} must have ${outputs} output(s), has ${layer.outputs}`);
  }
  positiveInt(layer.outputs, `${what}.outputs`);
  checkArray(layer.weight, layer.outputs * inputs, `${what}.weight`, `[outputs ${layer.outputs} × inputs ${inputs}]`);
  checkArray(layer.bias, layer.outputs, `${what}.bias`, `[outputs ${layer.outputs}]`);
  return layer.outputs;
}

function checkTower(layers: readonly DenseLayerWeights[], inputs: number, what: string): number {
  if (!Array.isArray(layers)) throw new CtrkitError('E_INPUT', `${what} must be an array of layers`);
  let width = inputs;
  layers.forEach((layer, i) => {
    width = checkDense(layer, width, undefined, `${what}[${i}]`);
  });
  return width;
}

function checkScalar(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CtrkitError('E_INPUT', `${what} must be a finite number, got ${String(value)}`);
}

/**
 * Checks that weights fit a layout: every array present, of the stated shape, and finite.
 * Builders and the native runner call it; trainers may call it before exporting.
 *
 * @param layout - The layout the model will read.
 * @param weights - Weights of any built-in architecture.
 * @throws `CtrkitError` `E_INPUT` naming the first array of the wrong type or length, or the first non-finite value.
 * @example
 * ```ts
 * import { checkWeights, initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * checkWeights(layout, initLrWeights(layout));
 * ```
 */
export function checkWeights(layout: FeatureLayout, weights: ModelWeights): void {
  if (typeof weights !== 'object' || weights === null) throw new CtrkitError('E_INPUT', 'weights must be an object with a kind (lr, fm, dcnv2, deepfm, din)');
  checkLayoutBasics(layout);
  if (weights.idSpace !== layout.idSpace) {
    throw new CtrkitError(
      'E_INPUT',
      `${weights.kind} weights cover an id space of ${weights.idSpace} but the layout's is ${layout.idSpace}; weights and encoder come from different feature specs`,
      { details: { weights: weights.idSpace, layout: layout.idSpace } },
    );
  }
  switch (weights.kind) {
    case 'lr':
      checkScalar(weights.bias, 'lr.bias');
      if (weights.denseWidth !== layout.denseWidth) throw new CtrkitError('E_INPUT', `lr weights have ${weights.denseWidth} dense columns but the layout has ${layout.denseWidth}`);
      checkArray(weights.ids, layout.idSpace, 'lr.ids', '[idSpace]');
      checkArray(weights.dense, layout.denseWidth, 'lr.dense', '[denseWidth]');
      return;
    case 'fm':
      checkScalar(weights.bias, 'fm.bias');
      positiveInt(weights.dim, 'fm.dim');
      if (weights.denseWidth !== layout.denseWidth) throw new CtrkitError('E_INPUT', `fm weights have ${weights.denseWidth} dense columns but the layout has ${layout.denseWidth}`);
      checkArray(weights.ids, layout.idSpace, 'fm.ids', '[idSpace]');
      checkArray(weights.dense, layout.denseWidth, 'fm.dense', '[denseWidth]');
      checkArray(weights.idFactors, layout.idSpace * weights.dim, 'fm.idFactors', `[idSpace × dim ${weights.dim}]`);
      checkArray(weights.denseFactors, layout.denseWidth * weights.dim, 'fm.denseFactors', `[denseWidth × dim ${weights.dim}]`);
      return;
    case 'dcnv2': {
      positiveInt(weights.embeddingDim, 'dcnv2.embeddingDim');
      const d0 = modelInputWidth(layout, weights.embeddingDim);
      if (weights.inputWidth !== d0) throw new CtrkitError('E_INPUT', `dcnv2.inputWidth is ${weights.inputWidth} but this layout gives x0 a width of ${d0}`);
      checkArray(weights.embedding, layout.idSpace * weights.embeddingDim, 'dcnv2.embedding', `[idSpace × embeddingDim ${weights.embeddingDim}]`);
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
      return;
    }
    case 'deepfm': {
      checkScalar(weights.bias, 'deepfm.bias');
      positiveInt(weights.embeddingDim, 'deepfm.embeddingDim');
      if (weights.denseWidth !== layout.denseWidth) throw new CtrkitError('E_INPUT', `deepfm weights have ${weights.denseWidth} dense columns but the layout has ${layout.denseWidth}`);
      const d0 = modelInputWidth(layout, weights.embeddingDim);
      if (weights.inputWidth !== d0) throw new CtrkitError('E_INPUT', `deepfm.inputWidth is ${weights.inputWidth} but this layout gives x0 a width of ${d0}`);
      checkArray(weights.ids, layout.idSpace, 'deepfm.ids', '[idSpace]');
      checkArray(weights.dense, layout.denseWidth, 'deepfm.dense', '[denseWidth]');
      checkArray(weights.embedding, layout.idSpace * weights.embeddingDim, 'deepfm.embedding', `[idSpace × embeddingDim ${weights.embeddingDim}]`);
      const last = checkTower(weights.deep, d0, 'deepfm.deep');
      checkDense(weights.output, last, 1, 'deepfm.output');
      return;
    }
    case 'din': {
      positiveInt(weights.embeddingDim, 'din.embeddingDim');
      const D = weights.embeddingDim;
      const d0 = modelInputWidth(layout, D);
      if (weights.inputWidth !== d0) throw new CtrkitError('E_INPUT', `din.inputWidth is ${weights.inputWidth} but this layout gives x0 a width of ${d0}`);
      checkArray(weights.embedding, layout.idSpace * D, 'din.embedding', `[idSpace × embeddingDim ${D}]`);
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
      const last = checkTower(weights.deep, d0, 'din.deep');
      checkDense(weights.output, last, 1, 'din.output');
      return;
    }
    default:
      throw new CtrkitError('E_INPUT', `unknown weights kind "${String((weights as { kind?: unknown }).kind)}"; expected lr, fm, dcnv2, deepfm or din`);
  }
}
