/**
 * A mini-batch trainer for DCN-v2 (Wang et al., "DCN V2", WWW 2021; parallel structure, as the
 * ONNX builder writes it): Adam on the dense layers, lazy (sparse) Adam on the embedding rows a
 * batch touches, gradients derived by hand on float64 typed arrays.
 *
 * Forward, per row (d0 = modelInputWidth):
 *   x0 = [Σ_c values_c·E[id_c] per field, mean of E over each sequence's real items, dense]
 *   x_{l+1} = x0 ⊙ u_l + x_l,   u_l = W_l·x_l + b_l   (low rank: W_l = U_l·V_lᵀ)
 *   h_{k+1} = ReLU(A_k·h_k + a_k),  h_0 = x0
 *   logit = w_out·[x_L, h_K] + b_out,   loss = log(1 + e^logit) − y·logit
 *
 * Backward (g_v = ∂loss/∂v, δ = p − y over the batch size):
 *   g_out = δ·[x_L, h_K];  g_{x_L} = δ·w_out[:d0];  g_{h_K} = δ·w_out[d0:]
 *   deep:  g_pre = g_h ⊙ [h > 0];  g_A += g_pre·h_inᵀ;  g_{h_in} = A_kᵀ·g_pre (into g_{x0} at k = 0)
 *   cross: g_u = g_{x_{l+1}} ⊙ x0;  g_{x0} += g_{x_{l+1}} ⊙ u_l;  g_W += g_u·x_lᵀ;
 *          g_{x_l} = g_{x_{l+1}} + W_lᵀ·g_u   (low rank: t = V_lᵀx_l, g_U += g_u·tᵀ,
 *          g_t = U_lᵀ·g_u, g_V += x_l·g_tᵀ, g_{x_l} += V_l·g_t);  g_{x0} += g_{x_0} at the end
 *   embeddings: g_E[id_c] += values_c·g_{x0}[field block];  sequence items: g_block / length
 *
 * The test suite checks every gradient against central finite differences.
 */
import { createRandom, CtrkitError, type FeatureBatch, type FeatureLayout, type Random } from '@ctrkit/core';
import { BatchChecker, expectationFromLayout, sequenceStride } from '../batch-check.js';
import { outputFor } from '../runner-util.js';
import { checkWeights, initDcnV2Weights, modelInputWidth, type CrossLayerWeights, type DcnV2Weights, type DenseLayerWeights } from '../weights.js';
import { gemmNNAccumulate, gemmNT, gemmTNAccumulate } from './dense-kernels.js';
import { checkLabels, type LabelledRows } from './rows.js';
import { logistic } from './sparse-row.js';

/** Options of {@link createDcnV2Trainer}: the architecture (as `initDcnV2Weights` takes it) and Adam.
 *
 * @example
 * ```ts
 * import type { DcnV2TrainerOptions } from '@ctrkit/models';
 * const options: DcnV2TrainerOptions = { embeddingDim: 8, crossLayers: 2, lowRank: 32, deep: [128, 64], learningRate: 1e-3, batchSize: 256, seed: 1 };
 * ```
 */
export interface DcnV2TrainerOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Cross layers (default 3). */
  readonly crossLayers?: number;
  /** Rank of low-rank cross layers; omit for full rank. */
  readonly lowRank?: number;
  /** Deep tower widths (default `[256, 128]`). */
  readonly deep?: readonly number[];
  /** Standard deviation of the initial embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Adam learning rate (default 1e-3). */
  readonly learningRate?: number;
  /** Adam learning rate of the embedding table (default: `learningRate`). Rare ids get a full-size Adam step each time they appear; a lower rate here curbs their memorising. */
  readonly embeddingLearningRate?: number;
  /** Adam β₁ (default 0.9). */
  readonly beta1?: number;
  /** Adam β₂ (default 0.999). */
  readonly beta2?: number;
  /** Adam ε (default 1e-8). */
  readonly epsilon?: number;
  /** Rows per mini-batch (default 256). */
  readonly batchSize?: number;
  /** L2 strength on cross, deep and output weights (not biases; default 0). */
  readonly l2?: number;
  /** L2 strength on the embedding rows a batch touches (default 0). */
  readonly embeddingL2?: number;
  /**
   * A frequency-aware L2 prior on the embeddings (DIN's mini-batch aware regulariser, Zhou et al.
   * 2018; default 0): over one pass every id's row is penalised `frequencyL2 / 2 · ‖E_j‖²` once,
   * however often it appears — spread over the batches that touch it in proportion to its
   * occurrences — against a data term summed over rows. So a rare id's row is held near zero
   * unless its few rows insist, while a frequent id's row is free. In the units of one row's log
   * loss (a Gaussian prior of variance 1 / frequencyL2 per entry). `trainEpoch` counts the ids
   * of its rows for it; `step` alone applies no such prior.
   */
  readonly frequencyL2?: number;
  /** Learning rates of pass k (from 0; `trainEpoch` calls) are multiplied by `epochDecay^k` (default 1: constant). */
  readonly epochDecay?: number;
  /** Seed of the initial weights and of the shuffling (default 0). */
  readonly seed?: number | string;
  /** Weights to start from instead of a seeded initialisation (copied; must fit the layout). */
  readonly initial?: DcnV2Weights;
}

/** {@link DcnV2TrainerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import type { DcnV2TrainerSettings } from '@ctrkit/models';
 * const describe = (s: DcnV2TrainerSettings) => `D=${s.embeddingDim} lr=${s.learningRate} batch=${s.batchSize}`;
 * ```
 */
export interface DcnV2TrainerSettings {
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Cross layers. */
  readonly crossLayers: number;
  /** Rank of low-rank cross layers, or undefined for full rank. */
  readonly lowRank: number | undefined;
  /** Deep tower widths. */
  readonly deep: readonly number[];
  /** Standard deviation of the initial embeddings. */
  readonly embeddingScale: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Adam learning rate of the embedding table. */
  readonly embeddingLearningRate: number;
  /** Adam β₁. */
  readonly beta1: number;
  /** Adam β₂. */
  readonly beta2: number;
  /** Adam ε. */
  readonly epsilon: number;
  /** Rows per mini-batch. */
  readonly batchSize: number;
  /** L2 on dense weights. */
  readonly l2: number;
  /** L2 on touched embedding rows. */
  readonly embeddingL2: number;
  /** Frequency-aware L2 prior on the embeddings. */
  readonly frequencyL2: number;
  /** Per-pass learning-rate decay. */
  readonly epochDecay: number;
  /** Seed. */
  readonly seed: number | string;
}

/**
 * Trains {@link DcnV2Weights} by mini-batch Adam.
 *
 * @example
 * ```ts
 * import { createDcnV2Trainer, type LabelledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabelledRows;
 * const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, lowRank: 32, deep: [128, 64], seed: 1 });
 * for (let epoch = 0; epoch < 3; epoch++) console.log(trainer.trainEpoch(train));
 * const weights = trainer.weights();
 * ```
 */
export interface DcnV2Trainer {
  /** The layout of the batches it learns from. */
  readonly layout: FeatureLayout;
  /** The hyper-parameters in use. */
  readonly settings: DcnV2TrainerSettings;
  /** Adam steps taken. */
  readonly steps: number;
  /**
   * One pass over `rows` in a seeded random order, one Adam step per mini-batch.
   *
   * @param rows - Training rows (the trainer's layout).
   * @param onProgress - Called after each mini-batch with the rows done so far and the total.
   * @returns The mean training log loss over the pass (each batch's loss before its step).
   * @throws `CtrkitError` `E_INPUT` on rows of another spec, bad ids, values or labels, or no rows;
   *   `E_CONFIG` when training diverges (a non-finite loss: lower the learning rate).
   */
  trainEpoch(rows: LabelledRows, onProgress?: (done: number, total: number) => void): number;
  /**
   * One Adam step on all of `rows` as one mini-batch.
   *
   * @param rows - The mini-batch.
   * @returns Its mean log loss before the step.
   * @throws `CtrkitError` as for `trainEpoch`.
   */
  step(rows: LabelledRows): number;
  /**
   * Scores a batch with the current weights.
   *
   * @param batch - Encoded rows.
   * @param out - Optional buffer.
   * @returns Click probabilities.
   * @throws `CtrkitError` `E_INPUT` on a batch of another spec or with bad ids or values.
   */
  predict(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /**
   * A float32 copy of the current weights, for `buildDcnV2Model` and the manifest.
   *
   * @returns The weights.
   */
  weights(): DcnV2Weights;
}

/** @internal A trainable tensor with its gradient and Adam moments. */
export interface Param {
  readonly name: string;
  readonly value: Float64Array;
  readonly grad: Float64Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
  /** Whether L2 applies (weights yes, biases no). */
  readonly decay: boolean;
}

interface CrossParams {
  readonly kind: 'full' | 'low-rank';
  readonly rank: number;
  readonly w: Param | undefined;
  readonly u: Param | undefined;
  readonly v: Param | undefined;
  readonly bias: Param;
}

interface LayerParams {
  readonly inputs: number;
  readonly outputs: number;
  readonly weight: Param;
  readonly bias: Param;
}

function param(name: string, source: Float32Array, decay: boolean): Param {
  const n = source.length;
  return { name, value: Float64Array.from(source), grad: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n), decay };
}

function settingsOf(options: DcnV2TrainerOptions): DcnV2TrainerSettings {
  const {
    embeddingDim = options.initial?.embeddingDim ?? 16,
    crossLayers = options.initial?.cross.length ?? 3,
    deep = options.initial?.deep.map((layer) => layer.outputs) ?? [256, 128],
    embeddingScale = 0.01,
    learningRate = 1e-3,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    batchSize = 256,
    l2 = 0,
    embeddingL2 = 0,
    frequencyL2 = 0,
    epochDecay = 1,
    seed = 0,
  } = options;
  const first = options.initial?.cross[0];
  const lowRank = options.lowRank ?? (first?.kind === 'low-rank' ? first.rank : undefined);
  const positiveInt = (value: number, name: string) => {
    if (!Number.isInteger(value) || value <= 0) throw new CtrkitError('E_CONFIG', `dcnv2 trainer: ${name} must be a positive integer, got ${value}`);
  };
  const finite = (value: number, name: string, low: number, high: number, openLow: boolean) => {
    if (!Number.isFinite(value) || value < low || value > high || (openLow && value === low)) {
      throw new CtrkitError('E_CONFIG', `dcnv2 trainer: ${name} must be in ${openLow ? '(' : '['}${low}, ${high}], got ${value}`);
    }
  };
  positiveInt(embeddingDim, 'embeddingDim');
  if (!Number.isInteger(crossLayers) || crossLayers < 0) throw new CtrkitError('E_CONFIG', `dcnv2 trainer: crossLayers must be an integer ≥ 0, got ${crossLayers}`);
  if (lowRank !== undefined) positiveInt(lowRank, 'lowRank');
  deep.forEach((width, i) => positiveInt(width, `deep[${i}]`));
  positiveInt(batchSize, 'batchSize');
  finite(learningRate, 'learningRate', 0, 10, true);
  const embeddingLearningRate = options.embeddingLearningRate ?? learningRate;
  finite(embeddingLearningRate, 'embeddingLearningRate', 0, 10, true);
  finite(beta1, 'beta1', 0, 0.999999, false);
  finite(beta2, 'beta2', 0, 0.999999999, false);
  finite(epsilon, 'epsilon', 0, 1, true);
  finite(l2, 'l2', 0, 1e6, false);
  finite(embeddingL2, 'embeddingL2', 0, 1e6, false);
  finite(frequencyL2, 'frequencyL2', 0, 1e9, false);
  finite(epochDecay, 'epochDecay', 0, 1, true);
  finite(embeddingScale, 'embeddingScale', 0, 1e3, false);
  return { embeddingDim, crossLayers, lowRank, deep: [...deep], embeddingScale, learningRate, embeddingLearningRate, beta1, beta2, epsilon, batchSize, l2, embeddingL2, frequencyL2, epochDecay, seed };
}

/** @internal The implementation; its extra methods serve the gradient checks. */
export class DcnV2TrainerImpl implements DcnV2Trainer {
  steps = 0;
  readonly D: number;
  readonly d0: number;
  /** Master embedding table `[idSpace × D]`, float64. */
  readonly embedding: Float64Array;
  private readonly embeddingM: Float32Array;
  private readonly embeddingV: Float32Array;
  readonly cross: readonly CrossParams[];
  readonly deep: readonly LayerParams[];
  readonly output: LayerParams;
  /** Every dense tensor, for Adam and the gradient checks. */
  readonly params: readonly Param[];
  private readonly random: Random;
  private readonly checker: BatchChecker;
  // Layout facts, resolved once.
  private readonly idWidth: number;
  private readonly denseWidth: number;
  private readonly S: number;
  private readonly L: number;
  private readonly columnBlock: Int32Array;
  private readonly deepOut: number;
  // Scratch, sized for `capacity` rows.
  private capacity = 0;
  private xs: Float64Array[] = [];
  private us: Float64Array[] = [];
  private ts: Float64Array[] = [];
  private hs: Float64Array[] = [];
  private logits = new Float64Array(0);
  private gx = new Float64Array(0);
  private gx0 = new Float64Array(0);
  private gu = new Float64Array(0);
  private gt = new Float64Array(0);
  private gA = new Float64Array(0);
  private gB = new Float64Array(0);
  private delta = new Float64Array(0);
  /** Transposes for the gradient products: [rows × widest] twice, and the largest weight matrix. */
  private scratchG = new Float64Array(0);
  private scratchX = new Float64Array(0);
  private readonly scratchW: Float64Array;
  // Sparse embedding gradient: the distinct ids of a batch and their gradient rows.
  private readonly marks: Int32Array;
  private readonly slots: Int32Array;
  private stamp = 0;
  private touched = new Int32Array(0);
  private touchedCount = 0;
  private gE = new Float64Array(0);
  /** Occurrences of each touched id in the batch (for the frequency-aware prior). */
  private touchedOccurrences = new Int32Array(0);
  /** Occurrences of every id over the rows of the current pass (frequency-aware prior only). */
  private counts: Int32Array | undefined;
  private passes = 0;
  private rate = 1;
  private order = new Int32Array(0);

  constructor(
    readonly layout: FeatureLayout,
    readonly settings: DcnV2TrainerSettings,
    initial: DcnV2Weights,
  ) {
    const D = initial.embeddingDim;
    this.D = D;
    this.d0 = modelInputWidth(layout, D);
    this.embedding = Float64Array.from(initial.embedding);
    this.embeddingM = new Float32Array(this.embedding.length);
    this.embeddingV = new Float32Array(this.embedding.length);
    this.cross = initial.cross.map((layer: CrossLayerWeights, l): CrossParams =>
      layer.kind === 'full'
        ? { kind: 'full', rank: 0, w: param(`cross[${l}].w`, layer.w, true), u: undefined, v: undefined, bias: param(`cross[${l}].bias`, layer.bias, false) }
        : {
            kind: 'low-rank',
            rank: layer.rank,
            w: undefined,
            u: param(`cross[${l}].u`, layer.u, true),
            v: param(`cross[${l}].v`, layer.v, true),
            bias: param(`cross[${l}].bias`, layer.bias, false),
          },
    );
    const layerOf = (layer: DenseLayerWeights, name: string): LayerParams => ({
      inputs: layer.inputs,
      outputs: layer.outputs,
      weight: param(`${name}.weight`, layer.weight, true),
      bias: param(`${name}.bias`, layer.bias, false),
    });
    this.deep = initial.deep.map((layer, k) => layerOf(layer, `deep[${k}]`));
    this.output = layerOf(initial.output, 'output');
    const params: Param[] = [];
    for (const c of this.cross) for (const p of [c.w, c.u, c.v, c.bias]) if (p !== undefined) params.push(p);
    for (const layer of this.deep) params.push(layer.weight, layer.bias);
    params.push(this.output.weight, this.output.bias);
    this.params = params;
    this.random = createRandom(settings.seed).fork('dcnv2-shuffle');
    this.checker = new BatchChecker(expectationFromLayout(layout, ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths']));
    this.idWidth = layout.idWidth;
    this.denseWidth = layout.denseWidth;
    this.S = layout.sequences.length;
    this.L = sequenceStride(layout);
    this.columnBlock = new Int32Array(layout.idWidth);
    layout.fields.forEach((field, f) => {
      for (let c = field.offset; c < field.offset + field.width; c++) this.columnBlock[c] = f * D;
    });
    this.deepOut = this.deep.length === 0 ? 0 : (this.deep[this.deep.length - 1] as LayerParams).outputs;
    this.marks = new Int32Array(layout.idSpace);
    this.slots = new Int32Array(layout.idSpace);
    let largest = 0;
    for (const p of params) if (p.decay && p.value.length > largest) largest = p.value.length;
    this.scratchW = new Float64Array(largest);
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const B = Math.max(rows, this.settings.batchSize);
    const d0 = this.d0;
    this.xs = Array.from({ length: this.cross.length + 1 }, () => new Float64Array(B * d0));
    this.us = this.cross.map(() => new Float64Array(B * d0));
    this.ts = this.cross.map((c) => new Float64Array(B * c.rank));
    this.hs = this.deep.map((layer) => new Float64Array(B * layer.outputs));
    const widest = Math.max(1, ...this.deep.map((layer) => layer.outputs), ...this.cross.map((c) => c.rank));
    this.logits = new Float64Array(B);
    this.delta = new Float64Array(B);
    this.gx = new Float64Array(B * d0);
    this.gx0 = new Float64Array(B * d0);
    this.gu = new Float64Array(B * d0);
    this.gt = new Float64Array(B * widest);
    this.gA = new Float64Array(B * widest);
    this.gB = new Float64Array(B * Math.max(widest, d0));
    this.scratchG = new Float64Array(B * Math.max(widest, d0));
    this.scratchX = new Float64Array(B * Math.max(widest, d0));
    const perRow = this.idWidth + this.S * this.L;
    this.touched = new Int32Array(B * perRow);
    this.touchedOccurrences = new Int32Array(B * perRow);
    this.gE = new Float64Array(B * perRow * this.D);
    this.capacity = B;
  }

  /** Row index of batch position b: `indices[start + b]`, or `start + b` without indices. */
  private static rowOf(indices: Int32Array | undefined, start: number, b: number): number {
    return indices === undefined ? start + b : (indices[start + b] as number);
  }

  /** Forward pass over `rows` rows; leaves activations in the scratch and logits in `logits`. */
  forward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    this.ensureCapacity(rows);
    const { D, d0, idWidth, denseWidth, S, L, columnBlock, embedding } = this;
    const x0 = this.xs[0] as Float64Array;
    const { ids, values, dense, sequenceIds, sequenceLengths } = batch;
    const sequenceBase = this.layout.fields.length * D;
    const denseBase = sequenceBase + S * D;
    x0.fill(0, 0, rows * d0);
    for (let b = 0; b < rows; b++) {
      const r = DcnV2TrainerImpl.rowOf(indices, start, b);
      const xb = b * d0;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) {
        const value = values[cb + c] as number;
        if (value === 0) continue;
        const e = (ids[cb + c] as number) * D;
        const o = xb + (columnBlock[c] as number);
        for (let k = 0; k < D; k++) x0[o + k] = (x0[o + k] as number) + value * (embedding[e + k] as number);
      }
      for (let s = 0; s < S; s++) {
        const length = sequenceLengths[r * S + s] as number;
        if (length === 0) continue;
        const inverse = 1 / length;
        const o = xb + sequenceBase + s * D;
        const items = (r * S + s) * L;
        for (let t = L - length; t < L; t++) {
          const e = (sequenceIds[items + t] as number) * D;
          for (let k = 0; k < D; k++) x0[o + k] = (x0[o + k] as number) + inverse * (embedding[e + k] as number);
        }
      }
      for (let d = 0; d < denseWidth; d++) x0[xb + denseBase + d] = dense[r * denseWidth + d] as number;
    }
    // Cross network.
    for (let l = 0; l < this.cross.length; l++) {
      const layer = this.cross[l] as CrossParams;
      const x = this.xs[l] as Float64Array;
      const u = this.us[l] as Float64Array;
      const next = this.xs[l + 1] as Float64Array;
      if (layer.kind === 'full') {
        gemmNT(x, (layer.w as Param).value, layer.bias.value, u, rows, d0, d0, false);
      } else {
        const t = this.ts[l] as Float64Array;
        t.fill(0, 0, rows * layer.rank);
        gemmNNAccumulate(x, (layer.v as Param).value, t, rows, d0, layer.rank, this.scratchW); // t = x·V
        gemmNT(t, (layer.u as Param).value, layer.bias.value, u, rows, layer.rank, d0, false); // u = t·Uᵀ + b
      }
      const n = rows * d0;
      for (let i = 0; i < n; i++) next[i] = (x0[i] as number) * (u[i] as number) + (x[i] as number);
    }
    // Deep tower.
    let input = x0;
    let inputWidth = d0;
    for (let k = 0; k < this.deep.length; k++) {
      const layer = this.deep[k] as LayerParams;
      const h = this.hs[k] as Float64Array;
      gemmNT(input, layer.weight.value, layer.bias.value, h, rows, inputWidth, layer.outputs, false);
      const n = rows * layer.outputs;
      for (let i = 0; i < n; i++) if ((h[i] as number) < 0) h[i] = 0;
      input = h;
      inputWidth = layer.outputs;
    }
    // Output: w·[x_L, h_K] + b.
    const xL = this.xs[this.cross.length] as Float64Array;
    const w = this.output.weight.value;
    const bias = this.output.bias.value[0] as number;
    const hK = this.deep.length === 0 ? undefined : (this.hs[this.deep.length - 1] as Float64Array);
    const K = this.deepOut;
    for (let b = 0; b < rows; b++) {
      let z = bias;
      const xb = b * d0;
      for (let i = 0; i < d0; i++) z += (w[i] as number) * (xL[xb + i] as number);
      if (hK !== undefined) {
        const hb = b * K;
        for (let i = 0; i < K; i++) z += (w[d0 + i] as number) * (hK[hb + i] as number);
      }
      this.logits[b] = z;
    }
  }

  /** Mean log loss of the last forward pass against `labels`; leaves δ = (p − y) / rows in `delta`. */
  private lossAndDelta(labels: Float32Array, indices: Int32Array | undefined, start: number, rows: number): number {
    let loss = 0;
    for (let b = 0; b < rows; b++) {
      const z = this.logits[b] as number;
      const y = labels[DcnV2TrainerImpl.rowOf(indices, start, b)] as number;
      // log(1 + e^z) − y·z, stable for large |z|.
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y * z;
      this.delta[b] = (logistic(z) - y) / rows;
    }
    return loss / rows;
  }

  /** Backward pass after `forward` and `lossAndDelta`: fills every `grad` and the sparse embedding gradient. */
  backward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    const { D, d0, idWidth, S, L, columnBlock } = this;
    for (const p of this.params) p.grad.fill(0);
    const delta = this.delta;
    const x0 = this.xs[0] as Float64Array;
    const xL = this.xs[this.cross.length] as Float64Array;
    const gx = this.gx;
    const gx0 = this.gx0;
    gx0.fill(0, 0, rows * d0);
    // Output layer.
    const w = this.output.weight.value;
    const gw = this.output.weight.grad;
    const K = this.deepOut;
    const hK = this.deep.length === 0 ? undefined : (this.hs[this.deep.length - 1] as Float64Array);
    let gBias = 0;
    for (let b = 0; b < rows; b++) {
      const g = delta[b] as number;
      gBias += g;
      const xb = b * d0;
      for (let i = 0; i < d0; i++) {
        gw[i] = (gw[i] as number) + g * (xL[xb + i] as number);
        gx[xb + i] = g * (w[i] as number);
      }
      if (hK !== undefined) {
        const hb = b * K;
        for (let i = 0; i < K; i++) {
          gw[d0 + i] = (gw[d0 + i] as number) + g * (hK[hb + i] as number);
          this.gA[hb + i] = g * (w[d0 + i] as number);
        }
      }
    }
    this.output.bias.grad[0] = gBias;
    // Deep tower, top down: gA holds ∂/∂h_k (post-ReLU), gB receives ∂/∂h_{k−1}.
    for (let k = this.deep.length - 1; k >= 0; k--) {
      const layer = this.deep[k] as LayerParams;
      const h = this.hs[k] as Float64Array;
      const outputs = layer.outputs;
      const n = rows * outputs;
      const gPre = this.gA;
      for (let i = 0; i < n; i++) if ((h[i] as number) <= 0) gPre[i] = 0;
      const input = k === 0 ? x0 : (this.hs[k - 1] as Float64Array);
      gemmTNAccumulate(gPre, input, layer.weight.grad, rows, outputs, layer.inputs, this.scratchG, this.scratchX);
      const gb = layer.bias.grad;
      for (let b = 0; b < rows; b++) for (let o = 0; o < outputs; o++) gb[o] = (gb[o] as number) + (gPre[b * outputs + o] as number);
      if (k === 0) {
        gemmNNAccumulate(gPre, layer.weight.value, gx0, rows, outputs, layer.inputs, this.scratchW);
      } else {
        const gIn = this.gB;
        gIn.fill(0, 0, rows * layer.inputs);
        gemmNNAccumulate(gPre, layer.weight.value, gIn, rows, outputs, layer.inputs, this.scratchW);
        this.gB = this.gA;
        this.gA = gIn;
      }
    }
    // Cross network, last layer first: gx holds ∂/∂x_{l+1} and becomes ∂/∂x_l.
    const gu = this.gu;
    for (let l = this.cross.length - 1; l >= 0; l--) {
      const layer = this.cross[l] as CrossParams;
      const x = this.xs[l] as Float64Array;
      const u = this.us[l] as Float64Array;
      const n = rows * d0;
      for (let i = 0; i < n; i++) {
        const g = gx[i] as number;
        gu[i] = g * (x0[i] as number);
        gx0[i] = (gx0[i] as number) + g * (u[i] as number);
      }
      const gb = layer.bias.grad;
      for (let b = 0; b < rows; b++) for (let i = 0; i < d0; i++) gb[i] = (gb[i] as number) + (gu[b * d0 + i] as number);
      if (layer.kind === 'full') {
        const W = layer.w as Param;
        gemmTNAccumulate(gu, x, W.grad, rows, d0, d0, this.scratchG, this.scratchX);
        gemmNNAccumulate(gu, W.value, gx, rows, d0, d0, this.scratchW); // gx (= ∂/∂x_{l+1}, the residual) += gu·W
      } else {
        const U = layer.u as Param;
        const V = layer.v as Param;
        const r = layer.rank;
        const t = this.ts[l] as Float64Array;
        const gt = this.gt;
        gemmTNAccumulate(gu, t, U.grad, rows, d0, r, this.scratchG, this.scratchX); // ∂U += guᵀ·t
        gt.fill(0, 0, rows * r);
        gemmNNAccumulate(gu, U.value, gt, rows, d0, r, this.scratchW); // gt = gu·U
        gemmTNAccumulate(x, gt, V.grad, rows, d0, r, this.scratchG, this.scratchX); // ∂V += xᵀ·gt
        gemmNT(gt, V.value, undefined, gx, rows, r, d0, true); // gx += gt·Vᵀ
      }
    }
    for (let i = 0; i < rows * d0; i++) gx0[i] = (gx0[i] as number) + (gx[i] as number);
    // Embeddings: scatter ∂/∂x0 back to the ids of each row.
    if (this.stamp === 0x7fffffff) {
      this.marks.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    let count = 0;
    const { marks, slots, touched, touchedOccurrences, gE } = this;
    const { ids, values, sequenceIds, sequenceLengths } = batch;
    const sequenceBase = this.layout.fields.length * D;
    const slotOf = (id: number): number => {
      if (marks[id] === stamp) {
        const slot = slots[id] as number;
        touchedOccurrences[slot] = (touchedOccurrences[slot] as number) + 1;
        return slot * D;
      }
      marks[id] = stamp;
      slots[id] = count;
      touched[count] = id;
      touchedOccurrences[count] = 1;
      gE.fill(0, count * D, (count + 1) * D);
      return count++ * D;
    };
    for (let b = 0; b < rows; b++) {
      const r = DcnV2TrainerImpl.rowOf(indices, start, b);
      const xb = b * d0;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) {
        const value = values[cb + c] as number;
        if (value === 0) continue;
        const o = slotOf(ids[cb + c] as number);
        const g = xb + (columnBlock[c] as number);
        for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + value * (gx0[g + k] as number);
      }
      for (let s = 0; s < S; s++) {
        const length = sequenceLengths[r * S + s] as number;
        if (length === 0) continue;
        const inverse = 1 / length;
        const g = xb + sequenceBase + s * D;
        const items = (r * S + s) * L;
        for (let t = L - length; t < L; t++) {
          const o = slotOf(sequenceIds[items + t] as number);
          for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + inverse * (gx0[g + k] as number);
        }
      }
    }
    this.touchedCount = count;
    // L2 terms.
    const { l2, embeddingL2 } = this.settings;
    if (l2 > 0) {
      for (const p of this.params) {
        if (!p.decay) continue;
        for (let i = 0; i < p.value.length; i++) p.grad[i] = (p.grad[i] as number) + l2 * (p.value[i] as number);
      }
    }
    if (embeddingL2 > 0) {
      const E = this.embedding;
      for (let j = 0; j < count; j++) {
        const e = (touched[j] as number) * D;
        for (let k = 0; k < D; k++) gE[j * D + k] = (gE[j * D + k] as number) + embeddingL2 * (E[e + k] as number);
      }
    }
    const { frequencyL2 } = this.settings;
    const counts = this.counts;
    if (frequencyL2 > 0 && counts !== undefined) {
      // This batch's share of each id's once-a-pass penalty, on the mean-over-rows scale of the loss.
      const E = this.embedding;
      const scale = frequencyL2 / rows;
      for (let j = 0; j < count; j++) {
        const id = touched[j] as number;
        const n = Math.max(counts[id] as number, touchedOccurrences[j] as number);
        const strength = (scale * (touchedOccurrences[j] as number)) / n;
        const e = id * D;
        for (let k = 0; k < D; k++) gE[j * D + k] = (gE[j * D + k] as number) + strength * (E[e + k] as number);
      }
    }
  }

  /** Counts every id's occurrences over `rows` (ids with a non-zero value, and sequence items). */
  private countIds(rows: LabelledRows): Int32Array {
    const counts = this.counts ?? new Int32Array(this.layout.idSpace);
    counts.fill(0);
    const { ids, values, sequenceIds, sequenceLengths } = rows.batch;
    const n = rows.batch.rows;
    for (let i = 0; i < n * this.idWidth; i++) if ((values[i] as number) !== 0) counts[ids[i] as number] = (counts[ids[i] as number] as number) + 1;
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < this.S; s++) {
        const length = sequenceLengths[r * this.S + s] as number;
        const items = (r * this.S + s) * this.L;
        for (let t = this.L - length; t < this.L; t++) counts[sequenceIds[items + t] as number] = (counts[sequenceIds[items + t] as number] as number) + 1;
      }
    }
    this.counts = counts;
    return counts;
  }

  /** @internal The objective the gradients differentiate: mean log loss plus the L2 terms. */
  objective(rows: LabelledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    let value = this.lossAndDelta(rows.labels, undefined, 0, n);
    const { l2, embeddingL2 } = this.settings;
    if (l2 > 0) for (const p of this.params) if (p.decay) for (let i = 0; i < p.value.length; i++) value += 0.5 * l2 * (p.value[i] as number) ** 2;
    if (embeddingL2 > 0) {
      // Every distinct id the rows touch, once.
      const seen = new Set<number>();
      const { batch } = rows;
      for (let i = 0; i < n * this.idWidth; i++) if ((batch.values[i] as number) !== 0) seen.add(batch.ids[i] as number);
      for (let r = 0; r < n; r++) {
        for (let s = 0; s < this.S; s++) {
          const length = batch.sequenceLengths[r * this.S + s] as number;
          for (let t = this.L - length; t < this.L; t++) seen.add(batch.sequenceIds[(r * this.S + s) * this.L + t] as number);
        }
      }
      for (const id of seen) for (let k = 0; k < this.D; k++) value += 0.5 * embeddingL2 * (this.embedding[id * this.D + k] as number) ** 2;
    }
    const counts = this.counts;
    if (this.settings.frequencyL2 > 0 && counts !== undefined) {
      // (frequencyL2 / 2n) Σ_j (occurrences in these rows / occurrences in the pass) ‖E_j‖².
      const here = new Map<number, number>();
      const { batch } = rows;
      const add = (id: number) => here.set(id, (here.get(id) ?? 0) + 1);
      for (let i = 0; i < n * this.idWidth; i++) if ((batch.values[i] as number) !== 0) add(batch.ids[i] as number);
      for (let r = 0; r < n; r++) {
        for (let s = 0; s < this.S; s++) {
          const length = batch.sequenceLengths[r * this.S + s] as number;
          for (let t = this.L - length; t < this.L; t++) add(batch.sequenceIds[(r * this.S + s) * this.L + t] as number);
        }
      }
      for (const [id, c] of here) {
        const strength = (0.5 * this.settings.frequencyL2 * c) / (n * Math.max(counts[id] as number, c));
        for (let k = 0; k < this.D; k++) value += strength * (this.embedding[id * this.D + k] as number) ** 2;
      }
    }
    return value;
  }

  /** @internal Counts ids over `rows` as `trainEpoch` does, so `objective` and `computeGradients` include the frequency-aware prior. */
  countPass(rows: LabelledRows): void {
    this.countIds(rows);
  }

  /** @internal Computes every gradient of `objective` on `rows` without stepping; returns the mean log loss. */
  computeGradients(rows: LabelledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    const loss = this.lossAndDelta(rows.labels, undefined, 0, n);
    this.backward(rows.batch, undefined, 0, n);
    return loss;
  }

  /** @internal The gradient of embedding entry (id, k) after `computeGradients` (0 when the id was not touched). */
  embeddingGradient(id: number, k: number): number {
    if (this.marks[id] !== this.stamp) return 0;
    return this.gE[(this.slots[id] as number) * this.D + k] as number;
  }

  private adam(): void {
    this.steps++;
    const { beta1, beta2, epsilon } = this.settings;
    const learningRate = this.settings.learningRate * this.rate;
    const embeddingLearningRate = this.settings.embeddingLearningRate * this.rate;
    const t = this.steps;
    const correction1 = 1 - Math.pow(beta1, t);
    const root2 = Math.sqrt(1 - Math.pow(beta2, t));
    let stepSize = learningRate / correction1;
    for (const p of this.params) {
      const { value, grad, m, v } = p;
      for (let i = 0; i < value.length; i++) {
        const g = grad[i] as number;
        const mi = beta1 * (m[i] as number) + (1 - beta1) * g;
        const vi = beta2 * (v[i] as number) + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        value[i] = (value[i] as number) - (stepSize * mi) / (Math.sqrt(vi) / root2 + epsilon);
      }
    }
    // Lazy Adam on the embedding rows this batch touched: the others keep their moments.
    stepSize = embeddingLearningRate / correction1;
    const { touched, gE, embedding, embeddingM, embeddingV, D } = this;
    for (let j = 0; j < this.touchedCount; j++) {
      const e = (touched[j] as number) * D;
      for (let k = 0; k < D; k++) {
        const g = gE[j * D + k] as number;
        const mi = beta1 * (embeddingM[e + k] as number) + (1 - beta1) * g;
        const vi = beta2 * (embeddingV[e + k] as number) + (1 - beta2) * g * g;
        embeddingM[e + k] = mi;
        embeddingV[e + k] = vi;
        embedding[e + k] = (embedding[e + k] as number) - (stepSize * mi) / (Math.sqrt(vi) / root2 + epsilon);
      }
    }
  }

  private checkRows(rows: LabelledRows, what: string): void {
    if (typeof rows !== 'object' || rows === null || typeof rows.batch !== 'object' || !(rows.labels instanceof Float32Array)) {
      throw new CtrkitError('E_INPUT', `${what}: pass LabelledRows { batch, labels }`);
    }
    this.checker.check(rows.batch);
    if (rows.labels.length !== rows.batch.rows) throw new CtrkitError('E_INPUT', `${what}: ${rows.labels.length} labels for ${rows.batch.rows} rows`);
    checkLabels(rows.labels, 0, rows.batch.rows, what);
  }

  private stepOn(rows: LabelledRows, indices: Int32Array | undefined, start: number, count: number): number {
    this.forward(rows.batch, indices, start, count);
    const loss = this.lossAndDelta(rows.labels, indices, start, count);
    if (loss - loss !== 0) {
      throw new CtrkitError('E_CONFIG', `dcnv2 trainer: the loss became ${loss} at step ${this.steps + 1}; training diverged — lower the learning rate`);
    }
    this.backward(rows.batch, indices, start, count);
    this.adam();
    return loss;
  }

  trainEpoch(rows: LabelledRows, onProgress?: (done: number, total: number) => void): number {
    this.checkRows(rows, 'dcnv2.trainEpoch');
    const n = rows.batch.rows;
    if (n === 0) throw new CtrkitError('E_INPUT', 'dcnv2.trainEpoch: no rows to train on');
    if (this.settings.frequencyL2 > 0) this.countIds(rows);
    this.rate = Math.pow(this.settings.epochDecay, this.passes);
    this.passes++;
    if (this.order.length < n) this.order = new Int32Array(n);
    const order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const swap = order[i] as number;
      order[i] = order[j] as number;
      order[j] = swap;
    }
    const B = this.settings.batchSize;
    let total = 0;
    for (let start = 0; start < n; start += B) {
      const count = Math.min(B, n - start);
      total += this.stepOn(rows, order, start, count) * count;
      onProgress?.(start + count, n);
    }
    return total / n;
  }

  step(rows: LabelledRows): number {
    this.checkRows(rows, 'dcnv2.step');
    if (rows.batch.rows === 0) throw new CtrkitError('E_INPUT', 'dcnv2.step: the mini-batch has no rows');
    return this.stepOn(rows, undefined, 0, rows.batch.rows);
  }

  predict(batch: FeatureBatch, out?: Float32Array): Float32Array {
    this.checker.check(batch);
    const predictions = outputFor(out, batch.rows);
    const B = Math.max(this.capacity, this.settings.batchSize);
    for (let start = 0; start < batch.rows; start += B) {
      const count = Math.min(B, batch.rows - start);
      this.forward(batch, undefined, start, count);
      for (let b = 0; b < count; b++) predictions[start + b] = logistic(this.logits[b] as number);
    }
    return predictions;
  }

  weights(): DcnV2Weights {
    const f32 = (p: Param) => new Float32Array(p.value);
    const layer = (l: LayerParams): DenseLayerWeights => ({ inputs: l.inputs, outputs: l.outputs, weight: f32(l.weight), bias: f32(l.bias) });
    return {
      kind: 'dcnv2',
      idSpace: this.layout.idSpace,
      embeddingDim: this.D,
      inputWidth: this.d0,
      embedding: new Float32Array(this.embedding),
      cross: this.cross.map((c): CrossLayerWeights =>
        c.kind === 'full'
          ? { kind: 'full', w: f32(c.w as Param), bias: f32(c.bias) }
          : { kind: 'low-rank', rank: c.rank, u: f32(c.u as Param), v: f32(c.v as Param), bias: f32(c.bias) },
      ),
      deep: this.deep.map(layer),
      output: layer(this.output),
    };
  }

}

/**
 * Creates a DCN-v2 trainer (parallel cross network and ReLU tower, as `buildDcnV2Model` writes
 * it), initialised by `initDcnV2Weights` with the same seed unless `initial` weights are given.
 *
 * @param layout - The encoder's layout.
 * @param options - Architecture, Adam hyper-parameters, batch size, L2, seed.
 * @returns The trainer.
 * @throws `CtrkitError` `E_CONFIG` on invalid options; `E_INPUT` when `initial` does not fit the layout.
 * @remarks Keeps float64 master weights (the embedding table is `idSpace × D` doubles) and float32
 *   Adam moments for the embeddings; scratch is sized once for `batchSize` rows, so a step
 *   allocates nothing. Cost per row ≈ 3 × (cross: L·d0² full or 2·L·d0·r low rank; tower: Σ in·out)
 *   multiply-adds. Same seed, same rows: same weights.
 * @example
 * ```ts
 * import { createDcnV2Trainer, buildDcnV2Model, type LabelledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabelledRows;
 * const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, crossLayers: 2, deep: [64, 32], learningRate: 2e-3, seed: 3 });
 * trainer.trainEpoch(train);
 * const onnx = buildDcnV2Model(layout, trainer.weights());
 * ```
 */
export function createDcnV2Trainer(layout: FeatureLayout, options: DcnV2TrainerOptions = {}): DcnV2Trainer {
  if (typeof layout !== 'object' || layout === null || !Number.isInteger(layout.idSpace) || layout.idSpace <= 0) {
    throw new CtrkitError('E_CONFIG', 'createDcnV2Trainer: pass the encoder\'s FeatureLayout');
  }
  const settings = settingsOf(options);
  let initial = options.initial;
  if (initial === undefined) {
    initial = initDcnV2Weights(layout, {
      embeddingDim: settings.embeddingDim,
      crossLayers: settings.crossLayers,
      ...(settings.lowRank === undefined ? {} : { lowRank: settings.lowRank }),
      deep: settings.deep,
      seed: settings.seed,
      embeddingScale: settings.embeddingScale,
    });
  } else {
    checkWeights(layout, initial);
  }
  return new DcnV2TrainerImpl(layout, settings, initial);
}
