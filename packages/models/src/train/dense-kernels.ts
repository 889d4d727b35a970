/**
 * @internal Hand-written float64 matrix kernels for the mini-batch trainers. Every matrix is
 * row-major; a layer's weight is `[outputs × inputs]` (PyTorch order), so the three products of
 * a fully connected layer are:
 *
 * - forward   `Y = X·Wᵀ + b`   — {@link gemmNT};
 * - weights   `∂W += Gᵀ·X`     — {@link gemmTNAccumulate};
 * - inputs    `∂X += G·W`      — {@link gemmNNAccumulate}.
 *
 * All three run on one register-blocked kernel: two rows of A against four rows of W per pass,
 * eight independent dot products over contiguous memory (each value loaded once serves four or
 * two multiply-adds). The gradient products transpose their operands first (O(rows·width), small
 * beside the O(rows·N·K) product) so that they too become dot products of contiguous rows.
 * Measured on 256 × 624 × 624 in one run: 2.1 GMAC/s blocked against 0.7 GMAC/s for the plain
 * triple loop and 0.7–0.9 GMAC/s for row-axpy formulations of the gradient products.
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
  const N4 = N - (N & 3);
  let b = 0;
  for (; b + 1 < rows; b += 2) {
    const a0 = b * K;
    const a1 = a0 + K;
    const c0 = b * N;
    const c1 = c0 + N;
    let n = 0;
    for (; n < N4; n += 4) {
      const w0 = n * K;
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k] as number;
        const x1 = A[a1 + k] as number;
        const v0 = W[w0 + k] as number;
        const v1 = W[w1 + k] as number;
        const v2 = W[w2 + k] as number;
        const v3 = W[w3 + k] as number;
        s00 += x0 * v0;
        s01 += x0 * v1;
        s02 += x0 * v2;
        s03 += x0 * v3;
        s10 += x1 * v0;
        s11 += x1 * v1;
        s12 += x1 * v2;
        s13 += x1 * v3;
      }
      if (bias !== undefined) {
        const b0 = bias[n] as number;
        const b1 = bias[n + 1] as number;
        const b2 = bias[n + 2] as number;
        const b3 = bias[n + 3] as number;
        s00 += b0;
        s01 += b1;
        s02 += b2;
        s03 += b3;
        s10 += b0;
        s11 += b1;
        s12 += b2;
        s13 += b3;
      }
      if (accumulate) {
        C[c0 + n] = (C[c0 + n] as number) + s00;
        C[c0 + n + 1] = (C[c0 + n + 1] as number) + s01;
        C[c0 + n + 2] = (C[c0 + n + 2] as number) + s02;
        C[c0 + n + 3] = (C[c0 + n + 3] as number) + s03;
        C[c1 + n] = (C[c1 + n] as number) + s10;
        C[c1 + n + 1] = (C[c1 + n + 1] as number) + s11;
        C[c1 + n + 2] = (C[c1 + n + 2] as number) + s12;
        C[c1 + n + 3] = (C[c1 + n + 3] as number) + s13;
      } else {
        C[c0 + n] = s00;
        C[c0 + n + 1] = s01;
        C[c0 + n + 2] = s02;
        C[c0 + n + 3] = s03;
        C[c1 + n] = s10;
        C[c1 + n + 1] = s11;
        C[c1 + n + 2] = s12;
        C[c1 + n + 3] = s13;
      }
    }
    for (; n < N; n++) {
      const w = n * K;
      let s0 = bias === undefined ? 0 : (bias[n] as number);
      let s1 = s0;
      for (let k = 0; k < K; k++) {
        const v = W[w + k] as number;
        s0 += (A[a0 + k] as number) * v;
        s1 += (A[a1 + k] as number) * v;
      }
      C[c0 + n] = accumulate ? (C[c0 + n] as number) + s0 : s0;
      C[c1 + n] = accumulate ? (C[c1 + n] as number) + s1 : s1;
    }
  }
  for (; b < rows; b++) {
    const a = b * K;
    const c = b * N;
    for (let n = 0; n < N; n++) {
      const w = n * K;
      let s = bias === undefined ? 0 : (bias[n] as number);
      for (let k = 0; k < K; k++) s += (A[a + k] as number) * (W[w + k] as number);
      C[c + n] = accumulate ? (C[c + n] as number) + s : s;
    }
  }
}

/** dst[j·rows + i] = src[i·cols + j]: `[rows × cols]` → `[cols × rows]`. */
export function transpose(src: Float64Array, rows: number, cols: number, dst: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const s = i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[s + j] as number;
  }
}

/**
 * gW[n·K + k] += Σ_b G[b·N + n]·X[b·K + k]  (G `[rows × N]`, X `[rows × K]`, gW `[N × K]`).
 * `scratchG` and `scratchX` hold at least rows·N and rows·K values.
 */
export function gemmTNAccumulate(
  G: Float64Array,
  X: Float64Array,
  gW: Float64Array,
  rows: number,
  N: number,
  K: number,
  scratchG: Float64Array,
  scratchX: Float64Array,
): void {
  transpose(G, rows, N, scratchG);
  transpose(X, rows, K, scratchX);
  gemmNT(scratchG, scratchX, undefined, gW, N, rows, K, true);
}

/**
 * gX[b·K + k] += Σ_n G[b·N + n]·W[n·K + k]  (G `[rows × N]`, W `[N × K]`, gX `[rows × K]`).
 * `scratchW` holds at least N·K values.
 */
export function gemmNNAccumulate(G: Float64Array, W: Float64Array, gX: Float64Array, rows: number, N: number, K: number, scratchW: Float64Array): void {
  transpose(W, N, K, scratchW);
  gemmNT(G, scratchW, undefined, gX, rows, N, K, true);
}
