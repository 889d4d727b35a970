import { describe, expect, it } from 'vitest';
import { codeThrownBy } from '@ctrkit/test-support';
import { createDcnV2Trainer, createDeepFmTrainer, type DcnV2Weights, type DeepFmWeights } from '../src/index.js';
import { gemmNT } from '../src/train/dense-kernels.js';
import { createDenseKernels, SERIAL_KERNELS } from '../src/train/kernel-threads.js';
import { wideLayout } from './fixtures/layouts.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** Every float of two weight objects, in order. */
function floats(weights: DcnV2Weights | DeepFmWeights): number[] {
  const out: number[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Float32Array) out.push(...value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(weights);
  return out;
}

describe('dense products on more than one thread', () => {
  it('share a product out with the helper and give bit-for-bit the one-thread result (odd row counts too)', () => {
    const kernels = createDenseKernels(2, 'test') as ReturnType<typeof createDenseKernels> & { handedOff: number; helperParts: number };
    try {
      for (const [rows, K, N] of [[256, 144, 128], [255, 32, 144], [7, 5, 3]] as const) {
        const fill = (a: Float64Array, seed: number) => a.forEach((_, i) => (a[i] = Math.sin(seed * 31 + i * 0.37)));
        const A = kernels.f64(rows * K);
        const W = kernels.f64(N * K);
        const bias = kernels.f64(N);
        fill(A, 1);
        fill(W, 2);
        fill(bias, 3);
        expect(A.buffer).toBeInstanceOf(SharedArrayBuffer);
        const C = kernels.f64(rows * N).fill(0.5);
        const expected = new Float64Array(rows * N).fill(0.5);
        const before = kernels.handedOff;
        kernels.nt(A, W, bias, C, rows, K, N, true);
        gemmNT(A, W, bias, expected, rows, K, N, true);
        expect(Array.from(C)).toEqual(Array.from(expected));
        // The tiny product stays on the calling thread; the others are shared out.
        expect(kernels.handedOff - before).toBe(rows * K * N >= 65_536 ? 1 : 0);
      }
      // The helper does take parts (it may wake late for any one product, so give it a few).
      const A0 = kernels.f64(256 * 144).fill(0.25);
      const W0 = kernels.f64(128 * 144).fill(0.5);
      const C0 = kernels.f64(256 * 128);
      const deadline = Date.now() + 3_000;
      const parts = kernels.helperParts;
      do kernels.nt(A0, W0, undefined, C0, 256, 144, 128, false);
      while (kernels.helperParts === parts && Date.now() < deadline);
      expect(kernels.helperParts).toBeGreaterThan(parts);
      expect(C0.every((v) => v === 18)).toBe(true);
      // An array outside the shared chunks: the product runs on the calling thread, still right.
      const A = new Float64Array(256 * 64).fill(1);
      const W = kernels.f64(64 * 64).fill(2);
      const C = kernels.f64(256 * 64);
      const before = kernels.handedOff;
      kernels.nt(A, W, undefined, C, 256, 64, 64, false);
      expect(kernels.handedOff).toBe(before);
      expect(C[0]).toBe(128);
    } finally {
      kernels.close();
    }
  });

  it('DCN-v2 and DeepFM train to the same weights, bit for bit, on 1 and on 3 threads', () => {
    const layout = wideLayout(8, 2, 4096, 0, 'spec-threads');
    const { rows } = syntheticRows(layout, 1500, { seed: 'threads', interaction: 1 });
    const dcn = (threads: number) => {
      const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, crossLayers: 2, lowRank: 16, deep: [64, 32], batchSize: 128, seed: 5, threads });
      const losses = [trainer.trainEpoch(rows), trainer.trainEpoch(rows)];
      const weights = trainer.weights();
      trainer.close();
      return { losses, weights: floats(weights) };
    };
    const deepfm = (threads: number) => {
      const trainer = createDeepFmTrainer(layout, { embeddingDim: 8, deep: [64, 32], batchSize: 128, seed: 5, threads });
      const losses = [trainer.trainEpoch(rows)];
      const weights = trainer.weights();
      trainer.close();
      return { losses, weights: floats(weights) };
    };
    const one = dcn(1);
    const three = dcn(3);
    expect(three.losses).toEqual(one.losses);
    expect(three.weights).toEqual(one.weights);
    expect(deepfm(2)).toEqual(deepfm(1));
  });

  it('a closed trainer goes on, on the calling thread alone, with the same numbers', () => {
    const layout = wideLayout(6, 0, 2048, 0, 'spec-closed');
    const { rows } = syntheticRows(layout, 600, { seed: 'closed' });
    const run = (threads: number, closeAfterFirst: boolean) => {
      const trainer = createDcnV2Trainer(layout, { embeddingDim: 8, lowRank: 8, deep: [64], batchSize: 200, seed: 2, threads });
      trainer.trainEpoch(rows);
      if (closeAfterFirst) trainer.close();
      trainer.trainEpoch(rows);
      return floats(trainer.weights());
    };
    expect(run(2, true)).toEqual(run(1, false));
  });

  it('refuses a thread count that is not a whole number in [1, 64]', () => {
    const layout = wideLayout(4, 0, 64);
    for (const threads of [0, 1.5, 65]) expect(codeThrownBy(() => createDcnV2Trainer(layout, { threads }))).toBe('E_CONFIG');
    expect(createDenseKernels(1, 'test')).toBe(SERIAL_KERNELS);
  });
});
