/**
 * The fully connected layer every deep architecture stores (DCN-v2's tower and output, DeepFM's
 * MLP, DIN's activation units and MLP), in PyTorch's `nn.Linear` order.
 */

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
