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
 * The `x0` gather, the embedding scatter and lazy Adam (`embedding-table.ts`), the step and pass
 * loop (`mini-batch-trainer.ts`) are shared with DeepFM, as is the deep tower (`relu-tower.ts`).
 * The test suite checks every gradient against central finite differences.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { checkWeights, initDcnV2Weights, type CrossLayerWeights, type DcnV2Weights, type LrWeights } from '../weights.js';
import { param, type Param } from './adam.js';
import { checkTrainerLayout, embeddingTrainerSettings, type EmbeddingTrainer, type EmbeddingTrainerDefaults, type EmbeddingTrainerOptions, type EmbeddingTrainerSettings } from './embedding-trainer.js';
import { dcnV2FromLinear } from './linear-warm-start.js';
import { MiniBatchTrainer } from './mini-batch-trainer.js';
import { layerParams, layerWeights, ReluTower, type LayerParams } from './relu-tower.js';

/** Options of {@link createDcnV2Trainer}: the architecture (as `initDcnV2Weights` takes it), Adam and the regularizers.
 *
 * @example
 * ```ts
 * import type { DcnV2TrainerOptions } from '@ctrkit/models';
 * const options: DcnV2TrainerOptions = { embeddingDim: 8, crossLayers: 2, lowRank: 32, deep: [128, 64], learningRate: 1e-3, batchSize: 256, seed: 1 };
 * ```
 */
export interface DcnV2TrainerOptions extends EmbeddingTrainerOptions {
  /** Embedding dimension D (default 16). */
  readonly embeddingDim?: number;
  /** Cross layers (default 3). */
  readonly crossLayers?: number;
  /** Rank of low-rank cross layers; omit for full rank. */
  readonly lowRank?: number;
  /** Deep tower widths (default `[256, 128]`). */
  readonly deep?: readonly number[];
  /** Adam learning rate (default 1e-3). */
  readonly learningRate?: number;
  /** The frequency-aware L2 prior on the embeddings, as {@link EmbeddingTrainerOptions.frequencyL2} describes it (default 0: off). */
  readonly frequencyL2?: number;
  /** Weights to start from instead of a seeded initialization (copied; must fit the layout). */
  readonly initial?: DcnV2Weights;
  /**
   * A trained LR of the same layout to start from (ignored with `initial`): the seeded weights are
   * set so that the model scores exactly as the LR does, and training goes on from there (see
   * `linear-warm-start.ts`; `fitModel` trains that LR first by default).
   */
  readonly warmStart?: LrWeights;
}

/** {@link DcnV2TrainerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import type { DcnV2TrainerSettings } from '@ctrkit/models';
 * const describe = (s: DcnV2TrainerSettings) => `D=${s.embeddingDim} lr=${s.learningRate} batch=${s.batchSize}`;
 * ```
 */
export interface DcnV2TrainerSettings extends EmbeddingTrainerSettings {
  /** Cross layers. */
  readonly crossLayers: number;
  /** Rank of low-rank cross layers, or undefined for full rank. */
  readonly lowRank: number | undefined;
}

/**
 * Trains {@link DcnV2Weights} by mini-batch Adam.
 *
 * @example
 * ```ts
 * import { createDcnV2Trainer, type LabeledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabeledRows;
 * const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, lowRank: 32, deep: [128, 64], seed: 1 });
 * for (let epoch = 0; epoch < 3; epoch++) console.log(trainer.trainEpoch(train));
 * const weights = trainer.weights();
 * ```
 */
export interface DcnV2Trainer extends EmbeddingTrainer<DcnV2TrainerSettings, DcnV2Weights> {}

/** The defaults of {@link DcnV2TrainerOptions} that are DCN-v2's own. */
const DCNV2_DEFAULTS: EmbeddingTrainerDefaults = { embeddingDim: 16, deep: [256, 128], learningRate: 1e-3, frequencyL2: 0 };

interface CrossParams {
  readonly kind: 'full' | 'low-rank';
  readonly rank: number;
  readonly w: Param | undefined;
  readonly u: Param | undefined;
  readonly v: Param | undefined;
  readonly bias: Param;
}

function settingsOf(options: DcnV2TrainerOptions): DcnV2TrainerSettings {
  const shared = embeddingTrainerSettings('dcnv2', options, options.initial, DCNV2_DEFAULTS);
  const { crossLayers = options.initial?.cross.length ?? 3 } = options;
  const first = options.initial?.cross[0];
  const lowRank = options.lowRank ?? (first?.kind === 'low-rank' ? first.rank : undefined);
  if (!Number.isInteger(crossLayers) || crossLayers < 0) throw new CtrkitError('E_CONFIG', `dcnv2 trainer: crossLayers must be an integer ≥ 0, got ${crossLayers}`);
  if (lowRank !== undefined && !(Number.isInteger(lowRank) && lowRank > 0)) throw new CtrkitError('E_CONFIG', `dcnv2 trainer: lowRank must be a positive integer, got ${lowRank}`);
  return { ...shared, crossLayers, lowRank };
}

/**
 * @internal The implementation: the cross network, the deep tower and the output layer between
 * `x0` and the logit; the embeddings, Adam and the pass loop are {@link MiniBatchTrainer}'s.
 * Its extra methods serve the gradient checks.
 */
export class DcnV2TrainerImpl extends MiniBatchTrainer implements DcnV2Trainer {
  declare readonly settings: DcnV2TrainerSettings;
  readonly cross: readonly CrossParams[];
  readonly tower: ReluTower;
  readonly output: LayerParams;
  readonly params: readonly Param[];
  // Scratch of the cross network, sized for `capacity` rows.
  private xs: Float64Array[] = [];
  private us: Float64Array[] = [];
  private ts: Float64Array[] = [];
  private gx: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private gu: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private gt: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** Transposes for the gradient products: [rows × widest] twice, and the largest weight matrix. */
  private scratchG: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private scratchX: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private readonly scratchW: Float64Array;

  constructor(layout: FeatureLayout, settings: DcnV2TrainerSettings, initial: DcnV2Weights) {
    super(layout, settings, initial.embeddingDim, initial.embedding, undefined, 'dcnv2', 'dcnv2-shuffle');
    const k = this.kernels;
    this.cross = initial.cross.map((layer: CrossLayerWeights, l): CrossParams =>
      layer.kind === 'full'
        ? { kind: 'full', rank: 0, w: param(`cross[${l}].w`, layer.w, true, k), u: undefined, v: undefined, bias: param(`cross[${l}].bias`, layer.bias, false, k) }
        : {
            kind: 'low-rank',
            rank: layer.rank,
            w: undefined,
            u: param(`cross[${l}].u`, layer.u, true, k),
            v: param(`cross[${l}].v`, layer.v, true, k),
            bias: param(`cross[${l}].bias`, layer.bias, false, k),
          },
    );
    this.tower = new ReluTower(initial.deep, this.d0, 'deep', k);
    this.output = layerParams(initial.output, 'output', k);
    const params: Param[] = [];
    for (const c of this.cross) for (const p of [c.w, c.u, c.v, c.bias]) if (p !== undefined) params.push(p);
    params.push(...this.tower.params(), this.output.weight, this.output.bias);
    this.params = params;
    let largest = 0;
    for (const p of params) if (p.decay && p.value.length > largest) largest = p.value.length;
    this.scratchW = k.f64(largest);
  }

  protected allocate(B: number): void {
    const d0 = this.d0;
    const f64 = (length: number) => this.kernels.f64(length);
    this.xs = [this.x0, ...this.cross.map(() => f64(B * d0))];
    this.us = this.cross.map(() => f64(B * d0));
    this.ts = this.cross.map((c) => f64(B * c.rank));
    const widest = Math.max(1, ...this.cross.map((c) => c.rank));
    this.gx = f64(B * d0);
    this.gu = f64(B * d0);
    this.gt = f64(B * widest);
    this.scratchG = f64(B * Math.max(widest, d0));
    this.scratchX = f64(B * Math.max(widest, d0));
    this.tower.allocate(B);
  }

  protected forwardRows(_batch: FeatureBatch, _indices: Int32Array | undefined, _start: number, rows: number): void {
    const d0 = this.d0;
    const x0 = this.x0;
    // Cross network.
    for (let l = 0; l < this.cross.length; l++) {
      const layer = this.cross[l] as CrossParams;
      const x = this.xs[l] as Float64Array;
      const u = this.us[l] as Float64Array;
      const next = this.xs[l + 1] as Float64Array;
      if (layer.kind === 'full') {
        this.kernels.nt(x, (layer.w as Param).value, layer.bias.value, u, rows, d0, d0, false);
      } else {
        const t = this.ts[l] as Float64Array;
        t.fill(0, 0, rows * layer.rank);
        this.kernels.nn(x, (layer.v as Param).value, t, rows, d0, layer.rank, this.scratchW); // t = x·V
        this.kernels.nt(t, (layer.u as Param).value, layer.bias.value, u, rows, layer.rank, d0, false); // u = t·Uᵀ + b
      }
      const n = rows * d0;
      for (let i = 0; i < n; i++) next[i] = (x0[i] as number) * (u[i] as number) + (x[i] as number);
    }
    this.tower.forward(x0, rows);
    // Output: w·[x_L, h_K] + b.
    const xL = this.xs[this.cross.length] as Float64Array;
    const w = this.output.weight.value;
    const bias = this.output.bias.value[0] as number;
    const hK = this.tower.top();
    const K = this.tower.outputs;
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

  protected backwardRows(_batch: FeatureBatch, _indices: Int32Array | undefined, _start: number, rows: number): void {
    const d0 = this.d0;
    const delta = this.delta;
    const x0 = this.x0;
    const xL = this.xs[this.cross.length] as Float64Array;
    const gx = this.gx;
    const gx0 = this.gx0;
    // Output layer.
    const w = this.output.weight.value;
    const gw = this.output.weight.grad;
    const K = this.tower.outputs;
    const hK = this.tower.top();
    const gTop = this.tower.topGradient();
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
          gTop[hb + i] = g * (w[d0 + i] as number);
        }
      }
    }
    this.output.bias.grad[0] = gBias;
    // Deep tower, top down, into ∂/∂x0.
    this.tower.backward(x0, rows, gx0);
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
        this.kernels.tn(gu, x, W.grad, rows, d0, d0, this.scratchG, this.scratchX);
        this.kernels.nn(gu, W.value, gx, rows, d0, d0, this.scratchW); // gx (= ∂/∂x_{l+1}, the residual) += gu·W
      } else {
        const U = layer.u as Param;
        const V = layer.v as Param;
        const r = layer.rank;
        const t = this.ts[l] as Float64Array;
        const gt = this.gt;
        this.kernels.tn(gu, t, U.grad, rows, d0, r, this.scratchG, this.scratchX); // ∂U += guᵀ·t
        gt.fill(0, 0, rows * r);
        this.kernels.nn(gu, U.value, gt, rows, d0, r, this.scratchW); // gt = gu·U
        this.kernels.tn(x, gt, V.grad, rows, d0, r, this.scratchG, this.scratchX); // ∂V += xᵀ·gt
        this.kernels.nt(gt, V.value, undefined, gx, rows, r, d0, true); // gx += gt·Vᵀ
      }
    }
    for (let i = 0; i < rows * d0; i++) gx0[i] = (gx0[i] as number) + (gx[i] as number);
  }

  weights(): DcnV2Weights {
    const f32 = (p: Param) => new Float32Array(p.value);
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
      deep: this.tower.layers.map(layerWeights),
      output: layerWeights(this.output),
    };
  }
}

/**
 * Creates a DCN-v2 trainer (parallel cross network and ReLU tower, as `buildDcnV2Model` writes
 * it), initialized by `initDcnV2Weights` with the same seed unless `initial` weights are given.
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
 * import { createDcnV2Trainer, buildDcnV2Model, type LabeledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabeledRows;
 * const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, crossLayers: 2, deep: [64, 32], learningRate: 2e-3, seed: 3 });
 * trainer.trainEpoch(train);
 * const onnx = buildDcnV2Model(layout, trainer.weights());
 * ```
 */
export function createDcnV2Trainer(layout: FeatureLayout, options: DcnV2TrainerOptions = {}): DcnV2Trainer {
  checkTrainerLayout(layout, 'createDcnV2Trainer');
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
    if (options.warmStart !== undefined) initial = dcnV2FromLinear(layout, options.warmStart, initial);
  } else {
    checkWeights(layout, initial);
  }
  return new DcnV2TrainerImpl(layout, settings, initial);
}
