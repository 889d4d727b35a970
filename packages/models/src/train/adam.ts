/**
 * @internal Dense trainable tensors and the Adam step the mini-batch trainers (DCN-v2, DeepFM)
 * share. Float64 master values, float64 moments: these tensors are small beside the embedding
 * table, whose moments are float32 (see `embedding-table.ts`, whose lazy Adam uses the same
 * update, {@link adamUpdate}, on the rows a batch touched).
 */
import { SERIAL_KERNELS, type DenseKernels } from './kernel-threads.js';

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

/** @internal A float64 copy of `source` with zero gradient and moments; value and gradient are allocated by `kernels` (shared with its threads). */
export function param(name: string, source: Float32Array, decay: boolean, kernels: DenseKernels = SERIAL_KERNELS): Param {
  const n = source.length;
  return { name, value: kernels.copy(source), grad: kernels.f64(n), m: new Float64Array(n), v: new Float64Array(n), decay };
}

/**
 * @internal The Adam update of `length` entries: for each i, with `g = grad[gradAt + i]` and
 * `m`, `v`, `value` at `at + i`: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `value −= stepSize · m / (√v / root2 + ε)`, where `stepSize = η / (1 − β₁ᵗ)` and
 * `root2 = √(1 − β₂ᵗ)` are the bias corrections, computed once per step by the caller. The step
 * uses the float64 moments even where `m` and `v` store them in float32.
 */
export function adamUpdate(
  value: Float64Array,
  m: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  grad: Float64Array,
  at: number,
  gradAt: number,
  length: number,
  stepSize: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  root2: number,
): void {
  for (let i = 0; i < length; i++) {
    const g = grad[gradAt + i] as number;
    const mi = beta1 * (m[at + i] as number) + (1 - beta1) * g;
    const vi = beta2 * (v[at + i] as number) + (1 - beta2) * g * g;
    m[at + i] = mi;
    v[at + i] = vi;
    value[at + i] = (value[at + i] as number) - (stepSize * mi) / (Math.sqrt(vi) / root2 + epsilon);
  }
}

/** @internal One Adam step ({@link adamUpdate}) on every entry of every tensor. */
export function adamStep(params: readonly Param[], stepSize: number, beta1: number, beta2: number, epsilon: number, root2: number): void {
  for (const p of params) adamUpdate(p.value, p.m, p.v, p.grad, 0, 0, p.value.length, stepSize, beta1, beta2, epsilon, root2);
}
