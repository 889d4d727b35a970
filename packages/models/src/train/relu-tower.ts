/**
 * @internal The ReLU deep tower of the mini-batch trainers (DCN-v2's deep network, DeepFM's MLP):
 * `h_{k+1} = ReLU(A_k·h_k + a_k)`, `h_0` = the input, on the blocked kernels of
 * `dense-kernels.ts`. Backward, with `g` = ∂loss/∂h_K given by the caller:
 *   g_pre = g_h ⊙ [h > 0];  g_A += g_preᵀ·h_in;  g_a += Σ_rows g_pre;  g_{h_in} = g_pre·A_k
 * (accumulated into the caller's input gradient at k = 0).
 */
import type { DenseLayerWeights } from '../weights.js';
import { param, type Param } from './adam.js';
import { SERIAL_KERNELS, type DenseKernels } from './kernel-threads.js';

/** @internal A fully connected layer's tensors. */
export interface LayerParams {
  readonly inputs: number;
  readonly outputs: number;
  readonly weight: Param;
  readonly bias: Param;
}

/** @internal Float64 tensors of a layer, named `${name}.weight` and `${name}.bias` (the bias is not decayed). */
export function layerParams(layer: DenseLayerWeights, name: string, kernels: DenseKernels = SERIAL_KERNELS): LayerParams {
  return { inputs: layer.inputs, outputs: layer.outputs, weight: param(`${name}.weight`, layer.weight, true, kernels), bias: param(`${name}.bias`, layer.bias, false, kernels) };
}

/** @internal A float32 copy of a layer's current values. */
export function layerWeights(layer: LayerParams): DenseLayerWeights {
  return { inputs: layer.inputs, outputs: layer.outputs, weight: new Float32Array(layer.weight.value), bias: new Float32Array(layer.bias.value) };
}

/** @internal A ReLU tower with its activations and gradient scratch, sized for a number of rows. */
export class ReluTower {
  readonly layers: readonly LayerParams[];
  /** Width of the top activation (0 for an empty tower). */
  readonly outputs: number;
  private readonly inputWidth: number;
  private capacity = 0;
  private hs: Float64Array[] = [];
  /** ∂/∂h_k of the layer being differentiated, and of the one below; swapped layer by layer. */
  private gA: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private gB: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private scratchG: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private scratchX: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private readonly scratchW: Float64Array;

  constructor(
    weights: readonly DenseLayerWeights[],
    inputWidth: number,
    name: string,
    private readonly kernels: DenseKernels = SERIAL_KERNELS,
  ) {
    this.layers = weights.map((layer, k) => layerParams(layer, `${name}[${k}]`, kernels));
    this.inputWidth = inputWidth;
    this.outputs = this.layers.length === 0 ? 0 : (this.layers[this.layers.length - 1] as LayerParams).outputs;
    let largest = 0;
    for (const layer of this.layers) largest = Math.max(largest, layer.weight.value.length);
    this.scratchW = kernels.f64(largest);
  }

  /** Weights and biases, bottom layer first. */
  params(): Param[] {
    return this.layers.flatMap((layer) => [layer.weight, layer.bias]);
  }

  /** Sizes the activations and scratch for `rows` rows (no-op when they fit). */
  allocate(rows: number): void {
    if (rows <= this.capacity) return;
    const widest = Math.max(1, ...this.layers.map((layer) => layer.outputs));
    const f64 = (length: number) => this.kernels.f64(length);
    this.hs = this.layers.map((layer) => f64(rows * layer.outputs));
    this.gA = f64(rows * widest);
    this.gB = f64(rows * widest);
    this.scratchG = f64(rows * Math.max(widest, this.inputWidth));
    this.scratchX = f64(rows * Math.max(widest, this.inputWidth));
    this.capacity = rows;
  }

  /** The top activation `[rows × outputs]` of the last forward pass (undefined for an empty tower). */
  top(): Float64Array | undefined {
    return this.layers.length === 0 ? undefined : (this.hs[this.layers.length - 1] as Float64Array);
  }

  /** Where the caller writes ∂loss/∂h_K (`[rows × outputs]`) before {@link backward}. */
  topGradient(): Float64Array {
    return this.gA;
  }

  /** Forward over `rows` rows of `input` (`[rows × inputWidth]`); returns the top activation, or `input` itself for an empty tower. */
  forward(input: Float64Array, rows: number): Float64Array {
    let h = input;
    let width = this.inputWidth;
    for (let k = 0; k < this.layers.length; k++) {
      const layer = this.layers[k] as LayerParams;
      const out = this.hs[k] as Float64Array;
      this.kernels.nt(h, layer.weight.value, layer.bias.value, out, rows, width, layer.outputs, false);
      const n = rows * layer.outputs;
      for (let i = 0; i < n; i++) if ((out[i] as number) < 0) out[i] = 0;
      h = out;
      width = layer.outputs;
    }
    return h;
  }

  /**
   * Backward after {@link forward} on the same `input`, with ∂loss/∂h_K in {@link topGradient}:
   * adds to every layer's `grad` and accumulates ∂loss/∂input into `gInput`. Clobbers the top gradient.
   */
  backward(input: Float64Array, rows: number, gInput: Float64Array): void {
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const layer = this.layers[k] as LayerParams;
      const h = this.hs[k] as Float64Array;
      const outputs = layer.outputs;
      const n = rows * outputs;
      const gPre = this.gA;
      for (let i = 0; i < n; i++) if ((h[i] as number) <= 0) gPre[i] = 0;
      const below = k === 0 ? input : (this.hs[k - 1] as Float64Array);
      this.kernels.tn(gPre, below, layer.weight.grad, rows, outputs, layer.inputs, this.scratchG, this.scratchX);
      const gb = layer.bias.grad;
      for (let b = 0; b < rows; b++) for (let o = 0; o < outputs; o++) gb[o] = (gb[o] as number) + (gPre[b * outputs + o] as number);
      if (k === 0) {
        this.kernels.nn(gPre, layer.weight.value, gInput, rows, outputs, layer.inputs, this.scratchW);
      } else {
        const gIn = this.gB;
        gIn.fill(0, 0, rows * layer.inputs);
        this.kernels.nn(gPre, layer.weight.value, gIn, rows, outputs, layer.inputs, this.scratchW);
        this.gB = this.gA;
        this.gA = gIn;
      }
    }
  }
}
