/**
 * A mini-batch trainer for DeepFM (Guo et al., "DeepFM: A Factorization-Machine based Neural
 * Network for CTR Prediction", IJCAI 2017), as `buildDeepFmModel` writes it: Adam on the dense
 * tensors, lazy (sparse) Adam on the embedding rows and linear weights a batch touches,
 * gradients derived by hand on float64 typed arrays. The `x0` gather, the embedding scatter,
 * lazy Adam and the regularizers (`embedding-table.ts`), the step and pass loop
 * (`mini-batch-trainer.ts`) and the tower (`relu-tower.ts`) are DCN-v2's.
 *
 * Forward, per row (e_j: the embedding blocks of x0, one per field and per sequence; J = F + S):
 *   x0 = [e_1 … e_J, dense]                      (as DCN-v2 builds it)
 *   linear = bias + Σ_c values_c·w[id_c] + Σ_d dense_d·w_d
 *   fm = ½(‖s‖² − Σ_j ‖e_j‖²),  s = Σ_j e_j      (= Σ_{i<j} ⟨e_i, e_j⟩)
 *   h_{k+1} = ReLU(A_k·h_k + a_k),  h_0 = x0;  deep = w_out·h_K + b_out
 *   logit = linear + fm + deep,  loss = log(1 + e^logit) − y·logit
 *
 * Backward (δ = (p − y) / batch rows):
 *   g_bias = δ;  g_{w_d} = δ·dense_d;  g_{w[id_c]} += δ·values_c
 *   fm:   g_{e_j} += δ·(s − e_j)
 *   deep: g_{w_out} = δ·h_K;  g_{h_K} = δ·w_out, then the tower down to g_{x0}
 *   embeddings: g_E[id_c] += values_c·g_{x0}[field block];  sequence items: g_block / length
 *
 * The test suite checks every gradient against central finite differences.
 */
import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
import { checkWeights, initDeepFmWeights, type DeepFmWeights, type LrWeights } from '../weights.js';
import { param, type Param } from './adam.js';
import { checkTrainerLayout, embeddingTrainerSettings, type EmbeddingTrainer, type EmbeddingTrainerDefaults, type EmbeddingTrainerOptions, type EmbeddingTrainerSettings } from './embedding-trainer.js';
import { deepFmFromLinear } from './linear-warm-start.js';
import { MiniBatchTrainer } from './mini-batch-trainer.js';
import { layerParams, layerWeights, ReluTower, type LayerParams } from './relu-tower.js';
import { rowOf } from './rows.js';

/** Options of {@link createDeepFmTrainer}: the architecture (as `initDeepFmWeights` takes it), Adam and the regularizers.
 *
 * @example
 * ```ts
 * import type { DeepFmTrainerOptions } from '@ctrkit/models';
 * const options: DeepFmTrainerOptions = { embeddingDim: 8, deep: [128, 64], learningRate: 2e-3, frequencyL2: 10, batchSize: 256, seed: 1 };
 * ```
 */
export interface DeepFmTrainerOptions extends EmbeddingTrainerOptions {
  /** Embedding dimension D, the FM's factor dimension (default 8). */
  readonly embeddingDim?: number;
  /** MLP widths (default `[128, 64]`; empty: the MLP is one linear layer over `x0`). */
  readonly deep?: readonly number[];
  /** Adam learning rate of the MLP, the dense-column weights and the bias (default 2e-3: chosen on generated logs of 50k and 200k rows). */
  readonly learningRate?: number;
  /**
   * The frequency-aware L2 prior, as {@link EmbeddingTrainerOptions.frequencyL2} describes it
   * (default 10): over one pass every id's embedding row and linear weight are penalized
   * `frequencyL2 / 2 · (‖E_j‖² + w_j²)` once, however often the id appears, in the units of one
   * row's log loss. On the linear weights it is the per-coordinate L2 of FTRL-Proximal (`l2`
   * there, on the summed loss).
   */
  readonly frequencyL2?: number;
  /** Weights to start from instead of a seeded initialization (copied; must fit the layout). */
  readonly initial?: DeepFmWeights;
  /**
   * A trained LR of the same layout to start from (ignored with `initial`): the linear part is the
   * LR's and the MLP starts silent, so the model scores as the LR does but for the small FM term of
   * the seeded embeddings (see `linear-warm-start.ts`; `fitModel` trains that LR first by default).
   */
  readonly warmStart?: LrWeights;
}

/** {@link DeepFmTrainerOptions} with every default filled in: the shared settings, DeepFM adding none.
 *
 * @example
 * ```ts
 * import type { DeepFmTrainerSettings } from '@ctrkit/models';
 * const describe = (s: DeepFmTrainerSettings) => `D=${s.embeddingDim} deep=${s.deep.join('-')} lr=${s.learningRate}`;
 * ```
 */
export interface DeepFmTrainerSettings extends EmbeddingTrainerSettings {}

/**
 * Trains {@link DeepFmWeights} by mini-batch Adam.
 *
 * @example
 * ```ts
 * import { createDeepFmTrainer, type LabeledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabeledRows;
 * const trainer = createDeepFmTrainer(layout, { embeddingDim: 8, deep: [64, 32], seed: 1 });
 * for (let epoch = 0; epoch < 2; epoch++) console.log(trainer.trainEpoch(train));
 * const weights = trainer.weights();
 * ```
 */
export interface DeepFmTrainer extends EmbeddingTrainer<DeepFmTrainerSettings, DeepFmWeights> {}

/** @internal The defaults of {@link DeepFmTrainerOptions} that are DeepFM's own. */
export const DEEPFM_DEFAULTS: EmbeddingTrainerDefaults = {
  embeddingDim: 8,
  deep: [128, 64],
  learningRate: 2e-3,
  frequencyL2: 10,
};

function settingsOf(options: DeepFmTrainerOptions): DeepFmTrainerSettings {
  return embeddingTrainerSettings('deepfm', options, options.initial, DEEPFM_DEFAULTS);
}

/**
 * @internal The implementation: the linear part, the FM term, the MLP and its output layer
 * between `x0` and the logit; the rest is {@link MiniBatchTrainer}'s. Its extra methods serve
 * the gradient checks.
 */
export class DeepFmTrainerImpl extends MiniBatchTrainer implements DeepFmTrainer {
  declare readonly settings: DeepFmTrainerSettings;
  readonly bias: Param;
  /** Linear weights of the dense columns. */
  readonly denseLinear: Param;
  readonly tower: ReluTower;
  readonly output: LayerParams;
  readonly params: readonly Param[];
  /** Embedding blocks in the FM term (fields and sequences). */
  private readonly blocks: number;
  /** `s = Σ_j e_j` of each row of the last forward pass, `[rows × D]`. */
  private sums = new Float64Array(0);

  constructor(layout: FeatureLayout, settings: DeepFmTrainerSettings, initial: DeepFmWeights) {
    super(layout, settings, initial.embeddingDim, initial.embedding, initial.ids, 'deepfm', 'deepfm-shuffle');
    this.bias = param('bias', Float32Array.of(initial.bias), false);
    this.denseLinear = param('dense', initial.dense, true);
    this.tower = new ReluTower(initial.deep, this.d0, 'deep', this.kernels);
    this.output = layerParams(initial.output, 'output', this.kernels);
    this.params = [this.bias, this.denseLinear, ...this.tower.params(), this.output.weight, this.output.bias];
    this.blocks = layout.fields.length + layout.sequences.length;
  }

  protected allocate(B: number): void {
    this.sums = new Float64Array(B * this.D);
    this.tower.allocate(B);
  }

  protected forwardRows(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    const { D, d0, denseBase, blocks, x0, sums } = this;
    const { idWidth, denseWidth } = this.layout;
    const linear = this.linear as Float64Array;
    const wd = this.denseLinear.value;
    const bias = this.bias.value[0] as number;
    const { ids, values } = batch;
    for (let b = 0; b < rows; b++) {
      const r = rowOf(indices, start, b);
      const xb = b * d0;
      let z = bias;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) z += (values[cb + c] as number) * (linear[ids[cb + c] as number] as number);
      for (let d = 0; d < denseWidth; d++) z += (x0[xb + denseBase + d] as number) * (wd[d] as number);
      // ½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²): O(J·D), not the O(J²·D) of the pairwise sum.
      const sb = b * D;
      sums.fill(0, sb, sb + D);
      let squares = 0;
      for (let j = 0; j < blocks; j++) {
        const o = xb + j * D;
        for (let k = 0; k < D; k++) {
          const e = x0[o + k] as number;
          sums[sb + k] = (sums[sb + k] as number) + e;
          squares += e * e;
        }
      }
      let sumSquared = 0;
      for (let k = 0; k < D; k++) sumSquared += (sums[sb + k] as number) ** 2;
      this.logits[b] = z + 0.5 * (sumSquared - squares);
    }
    const h = this.tower.forward(x0, rows);
    const width = this.tower.layers.length === 0 ? d0 : this.tower.outputs;
    const w = this.output.weight.value;
    const outBias = this.output.bias.value[0] as number;
    for (let b = 0; b < rows; b++) {
      let z = outBias;
      const hb = b * width;
      for (let i = 0; i < width; i++) z += (w[i] as number) * (h[hb + i] as number);
      this.logits[b] = (this.logits[b] as number) + z;
    }
  }

  protected backwardRows(_batch: FeatureBatch, _indices: Int32Array | undefined, _start: number, rows: number): void {
    const { D, d0, denseBase, blocks, x0, gx0, sums, delta } = this;
    const denseWidth = this.layout.denseWidth;
    const gwd = this.denseLinear.grad;
    const towered = this.tower.layers.length > 0;
    const h = towered ? (this.tower.top() as Float64Array) : x0;
    const width = towered ? this.tower.outputs : d0;
    const w = this.output.weight.value;
    const gw = this.output.weight.grad;
    const gTop = this.tower.topGradient();
    let gBias = 0;
    for (let b = 0; b < rows; b++) {
      const g = delta[b] as number;
      gBias += g;
      const xb = b * d0;
      for (let d = 0; d < denseWidth; d++) gwd[d] = (gwd[d] as number) + g * (x0[xb + denseBase + d] as number);
      const sb = b * D;
      for (let j = 0; j < blocks; j++) {
        const o = xb + j * D;
        for (let k = 0; k < D; k++) gx0[o + k] = (gx0[o + k] as number) + g * ((sums[sb + k] as number) - (x0[o + k] as number));
      }
      const hb = b * width;
      for (let i = 0; i < width; i++) {
        gw[i] = (gw[i] as number) + g * (h[hb + i] as number);
        if (towered) gTop[hb + i] = g * (w[i] as number);
        else gx0[xb + i] = (gx0[xb + i] as number) + g * (w[i] as number);
      }
    }
    this.bias.grad[0] = gBias;
    this.output.bias.grad[0] = gBias;
    if (towered) this.tower.backward(x0, rows, gx0);
  }

  weights(): DeepFmWeights {
    return {
      kind: 'deepfm',
      idSpace: this.layout.idSpace,
      denseWidth: this.layout.denseWidth,
      embeddingDim: this.D,
      inputWidth: this.d0,
      bias: Math.fround(this.bias.value[0] as number),
      ids: new Float32Array(this.linear as Float64Array),
      dense: new Float32Array(this.denseLinear.value),
      embedding: new Float32Array(this.embedding),
      deep: this.tower.layers.map(layerWeights),
      output: layerWeights(this.output),
    };
  }
}

/**
 * Creates a DeepFM trainer (linear part, FM term and ReLU MLP on shared embeddings, as
 * `buildDeepFmModel` writes it), initialized by `initDeepFmWeights` with the same seed unless
 * `initial` weights are given.
 *
 * @param layout - The encoder's layout.
 * @param options - Architecture, Adam hyper-parameters, batch size, regularizers, seed.
 * @returns The trainer.
 * @throws `CtrkitError` `E_CONFIG` on invalid options; `E_INPUT` when `initial` does not fit the layout.
 * @remarks Keeps float64 master weights (the embedding table is `idSpace × D` doubles, the
 *   linear weights `idSpace` more) and float32 Adam moments for both; scratch is sized once for
 *   `batchSize` rows, so a step allocates nothing. Cost per row ≈ 3 × (the MLP's Σ in·out +
 *   (F + S)·D for the FM term) multiply-adds: without cross layers, below DCN-v2 of the same
 *   tower. Same seed, same rows: same weights.
 * @example
 * ```ts
 * import { buildDeepFmModel, createDeepFmTrainer, type LabeledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabeledRows;
 * const trainer = createDeepFmTrainer(layout, { embeddingDim: 8, deep: [64, 32], learningRate: 2e-3, seed: 3 });
 * trainer.trainEpoch(train);
 * const onnx = buildDeepFmModel(layout, trainer.weights());
 * ```
 */
export function createDeepFmTrainer(layout: FeatureLayout, options: DeepFmTrainerOptions = {}): DeepFmTrainer {
  checkTrainerLayout(layout, 'createDeepFmTrainer');
  const settings = settingsOf(options);
  let initial = options.initial;
  if (initial === undefined) {
    initial = initDeepFmWeights(layout, { embeddingDim: settings.embeddingDim, deep: settings.deep, seed: settings.seed, embeddingScale: settings.embeddingScale });
    if (options.warmStart !== undefined) initial = deepFmFromLinear(layout, options.warmStart, initial);
  } else {
    checkWeights(layout, initial);
  }
  return new DeepFmTrainerImpl(layout, settings, initial);
}
