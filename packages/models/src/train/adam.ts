/**
 * @internal Dense trainable tensors and the Adam step the mini-batch trainers (DCN-v2, DeepFM)
 * share. Float64 master values, float64 moments: these tensors are small beside the embedding
 * table, whose moments are float32 (see `embedding-trainer.ts`).
 */

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

/** @internal A float64 copy of `source` with zero gradient and moments. */
export function param(name: string, source: Float32Array, decay: boolean): Param {
  const n = source.length;
  return { name, value: Float64Array.from(source), grad: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n), decay };
}

/**
 * @internal One Adam step on every tensor: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `value −= stepSize · m / (√v / root2 + ε)` with `stepSize = η / (1 − β₁ᵗ)` and
 * `root2 = √(1 − β₂ᵗ)` (the bias corrections, computed once per step by the caller).
 */
export function adamStep(params: readonly Param[], stepSize: number, beta1: number, beta2: number, epsilon: number, root2: number): void {
  for (const p of params) {
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
}
