/**
 * @internal Hand-written float64 matrix kernels for the mini-batch trainers. Every matrix is
 * row-major; a layer's weight is `[outputs × inputs]` (PyTorch order), so the three products of
 * a fully connected layer are:
 *
 * - forward   `Y = X·Wᵀ + b`      — {@link gemmNT}: a dot product of two contiguous rows per output;
 * - weights   `∂W += Gᵀ·X`        — {@link gemmTNAccumulate}: one axpy of a row of X per non-zero g;
 * - inputs    `∂X += G·W`         — {@link gemmNNAccumulate}: one axpy of a row of W per non-zero g.
 *
 * Inner loops run over contiguous memory, unrolled by four (V8 keeps four independent
 * accumulators in registers: about 1.6× a plain loop on 256-wide rows). The gradient kernels
 * skip zero entries of G, which ReLU makes common.
 */

/** C[b·N + n] (= or +=) bias[n] + Σ_k A[b·K + k]·W[n·K + k] for b < rows. */
export function gemmNT(
  A: Float64Array,
  W: Float64Array,
  bias: Float64Array | undefined,
  C: Float64Array,
  rows: number,
  K: number,
  N: number,
  accumulate: boolean,
): void {
  const K4 = K - (K & 3);
  for (let b = 0; b < rows; b++) {
    const a = b * K;
    const c = b * N;
    for (let n = 0; n < N; n++) {
      const w = n * K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k < K4; k += 4) {
        s0 += (A[a + k] as number) * (W[w + k] as number);
        s1 += (A[a + k + 1] as number) * (W[w + k + 1] as number);
        s2 += (A[a + k + 2] as number) * (W[w + k + 2] as number);
        s3 += (A[a + k + 3] as number) * (W[w + k + 3] as number);
      }
      for (; k < K; k++) s0 += (A[a + k] as number) * (W[w + k] as number);
      const s = s0 + s1 + s2 + s3 + (bias === undefined ? 0 : (bias[n] as number));
      C[c + n] = accumulate ? (C[c + n] as number) + s : s;
    }
  }
}

/** gW[n·K + k] += Σ_b G[b·N + n]·X[b·K + k]. */
export function gemmTNAccumulate(G: Float64Array, X: Float64Array, gW: Float64Array, rows: number, N: number, K: number): void {
  const K4 = K - (K & 3);
  for (let b = 0; b < rows; b++) {
    const x = b * K;
    const gRow = b * N;
    for (let n = 0; n < N; n++) {
      const g = G[gRow + n] as number;
      if (g === 0) continue;
      const w = n * K;
      let k = 0;
      for (; k < K4; k += 4) {
        gW[w + k] = (gW[w + k] as number) + g * (X[x + k] as number);
        gW[w + k + 1] = (gW[w + k + 1] as number) + g * (X[x + k + 1] as number);
        gW[w + k + 2] = (gW[w + k + 2] as number) + g * (X[x + k + 2] as number);
        gW[w + k + 3] = (gW[w + k + 3] as number) + g * (X[x + k + 3] as number);
      }
      for (; k < K; k++) gW[w + k] = (gW[w + k] as number) + g * (X[x + k] as number);
    }
  }
}

/** gX[b·K + k] += Σ_n G[b·N + n]·W[n·K + k]. */
export function gemmNNAccumulate(G: Float64Array, W: Float64Array, gX: Float64Array, rows: number, N: number, K: number): void {
  const K4 = K - (K & 3);
  for (let b = 0; b < rows; b++) {
    const x = b * K;
    const gRow = b * N;
    for (let n = 0; n < N; n++) {
      const g = G[gRow + n] as number;
      if (g === 0) continue;
      const w = n * K;
      let k = 0;
      for (; k < K4; k += 4) {
        gX[x + k] = (gX[x + k] as number) + g * (W[w + k] as number);
        gX[x + k + 1] = (gX[x + k + 1] as number) + g * (W[w + k + 1] as number);
        gX[x + k + 2] = (gX[x + k + 2] as number) + g * (W[w + k + 2] as number);
        gX[x + k + 3] = (gX[x + k + 3] as number) + g * (W[w + k + 3] as number);
      }
      for (; k < K; k++) gX[x + k] = (gX[x + k] as number) + g * (W[w + k] as number);
    }
  }
}
