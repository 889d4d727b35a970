/**
 * Test fixtures: layouts, random batches built by hand from a layout (the FeatureBatch contract),
 * and naive float64 forward passes written independently of the ONNX graphs — nested loops
 * straight from the papers' formulas (FM by its explicit pairwise sum, low-rank DCN by forming
 * W = U·Vᵀ explicitly).
 */
import { createRandom, type FeatureBatch, type FeatureLayout, type Random } from '@ctrkit/core';
import type { DcnV2Weights, DeepFmWeights, DenseLayerWeights, DinWeights, FmWeights, LrWeights, ModelWeights } from '../src/index.js';

/** 4 categorical fields (one a bag of 3), 2 dense columns, 2 sequences (maxLength 5 attending to ad_category, and 3), stride 5. */
export function richLayout(fingerprint = 'spec-rich'): FeatureLayout {
  return {
    fingerprint,
    idSpace: 997,
    idWidth: 6,
    fields: [
      { name: 'user_country', kind: 'categorical', offset: 0, width: 1 },
      { name: 'ad_category', kind: 'categorical', offset: 1, width: 1 },
      { name: 'user_tags', kind: 'bag', offset: 2, width: 3 },
      { name: 'country_x_category', kind: 'cross', offset: 5, width: 1 },
    ],
    denseWidth: 2,
    denseNames: ['ad_ctr_7d', 'hour_sin'],
    sequences: [
      { name: 'history_category', maxLength: 5, sharesIdsWith: 'ad_category' },
      { name: 'history_site', maxLength: 3 },
    ],
  };
}

/** 3 width-1 fields, no dense columns, no sequences: the smallest layout a model must still load for. */
export function plainLayout(fingerprint = 'spec-plain'): FeatureLayout {
  return {
    fingerprint,
    idSpace: 64,
    idWidth: 3,
    fields: [
      { name: 'a', kind: 'categorical', offset: 0, width: 1 },
      { name: 'b', kind: 'categorical', offset: 1, width: 1 },
      { name: 'c', kind: 'categorical', offset: 2, width: 1 },
    ],
    denseWidth: 0,
    denseNames: [],
    sequences: [],
  };
}

/** `fields` width-1 categorical fields, `dense` dense columns, optional one attention sequence of length L. */
export function wideLayout(fields: number, dense: number, idSpace: number, sequenceLength = 0, fingerprint = 'spec-wide'): FeatureLayout {
  return {
    fingerprint,
    idSpace,
    idWidth: fields,
    fields: Array.from({ length: fields }, (_, i) => ({ name: `f${i}`, kind: 'categorical' as const, offset: i, width: 1 })),
    denseWidth: dense,
    denseNames: Array.from({ length: dense }, (_, i) => `d${i}`),
    sequences: sequenceLength > 0 ? [{ name: 'history', maxLength: sequenceLength, sharesIdsWith: 'f0' }] : [],
  };
}

/** A random batch following the contract: bag padding has value 0, sequences are left-padded with id 0. */
export function randomBatch(layout: FeatureLayout, rows: number, seed: number | string = 1): FeatureBatch {
  const random = createRandom(seed);
  const S = layout.sequences.length;
  const L = strideOf(layout);
  const ids = new Int32Array(rows * layout.idWidth);
  const values = new Float32Array(rows * layout.idWidth);
  for (let r = 0; r < rows; r++) {
    for (const field of layout.fields) {
      const filled = field.kind === 'bag' ? random.int(field.width + 1) : field.width;
      for (let c = 0; c < field.width; c++) {
        const k = r * layout.idWidth + field.offset + c;
        if (c < filled) {
          ids[k] = random.int(layout.idSpace);
          values[k] = random.next() < 0.8 ? 1 : Math.fround(random.uniform(0.2, 2));
        } else {
          ids[k] = 0;
          values[k] = 0;
        }
      }
    }
  }
  const dense = new Float32Array(rows * layout.denseWidth);
  for (let i = 0; i < dense.length; i++) dense[i] = Math.fround(random.normal());
  const sequenceIds = new Int32Array(rows * S * L);
  const sequenceLengths = new Int32Array(rows * S);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < S; s++) {
      const max = layout.sequences[s]!.maxLength;
      const length = r % 7 === 3 ? 0 : r % 7 === 4 ? max : random.int(max + 1);
      sequenceLengths[r * S + s] = length;
      for (let t = L - length; t < L; t++) sequenceIds[(r * S + s) * L + t] = random.int(layout.idSpace);
    }
  }
  return { layout, rows, ids, values, dense, sequenceIds, sequenceLengths };
}

/** One row of a batch as its own batch (fresh arrays). */
export function rowOf(batch: FeatureBatch, r: number): FeatureBatch {
  const { layout } = batch;
  const S = layout.sequences.length;
  const L = strideOf(layout);
  return {
    layout,
    rows: 1,
    ids: batch.ids.slice(r * layout.idWidth, (r + 1) * layout.idWidth),
    values: batch.values.slice(r * layout.idWidth, (r + 1) * layout.idWidth),
    dense: batch.dense.slice(r * layout.denseWidth, (r + 1) * layout.denseWidth),
    sequenceIds: batch.sequenceIds.slice(r * S * L, (r + 1) * S * L),
    sequenceLengths: batch.sequenceLengths.slice(r * S, (r + 1) * S),
  };
}

/** The sequence stride: the longest maxLength (what the features encoder pads every sequence to). */
export function strideOf(layout: FeatureLayout): number {
  return layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function probabilities(logits: Float64Array): Float64Array {
  return logits.map(sigmoid);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

// ------------------------------------------------------------------ naive forward passes (float64)

function at(array: ArrayLike<number>, i: number): number {
  const v = array[i];
  if (v === undefined) throw new Error(`index ${i} out of range`);
  return v;
}

export function referenceLr(w: LrWeights, batch: FeatureBatch): Float64Array {
  const { layout, rows } = batch;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let z = w.bias;
    for (let c = 0; c < layout.idWidth; c++) z += at(batch.values, r * layout.idWidth + c) * at(w.ids, at(batch.ids, r * layout.idWidth + c));
    for (let d = 0; d < layout.denseWidth; d++) z += at(batch.dense, r * layout.denseWidth + d) * at(w.dense, d);
    out[r] = z;
  }
  return out;
}

/** FM by its definition: bias + Σ wᵢxᵢ + Σ_{i<j} ⟨vᵢ, vⱼ⟩ xᵢxⱼ over the row's features. */
export function referenceFm(w: FmWeights, batch: FeatureBatch): Float64Array {
  const { layout, rows } = batch;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const features: { x: number; linear: number; factor: (f: number) => number }[] = [];
    for (let c = 0; c < layout.idWidth; c++) {
      const id = at(batch.ids, r * layout.idWidth + c);
      features.push({ x: at(batch.values, r * layout.idWidth + c), linear: at(w.ids, id), factor: (f) => at(w.idFactors, id * w.dim + f) });
    }
    for (let d = 0; d < layout.denseWidth; d++) {
      features.push({ x: at(batch.dense, r * layout.denseWidth + d), linear: at(w.dense, d), factor: (f) => at(w.denseFactors, d * w.dim + f) });
    }
    let z = w.bias;
    for (const feature of features) z += feature.x * feature.linear;
    for (let i = 0; i < features.length; i++) {
      for (let j = i + 1; j < features.length; j++) {
        let dot = 0;
        for (let f = 0; f < w.dim; f++) dot += (features[i]!.factor(f)) * (features[j]!.factor(f));
        z += dot * features[i]!.x * features[j]!.x;
      }
    }
    out[r] = z;
  }
  return out;
}

function embed(table: Float32Array, D: number, id: number): number[] {
  return Array.from({ length: D }, (_, k) => at(table, id * D + k));
}

function fieldVectors(layout: FeatureLayout, batch: FeatureBatch, r: number, table: Float32Array, D: number): number[][] {
  return layout.fields.map((field) => {
    const v = new Array<number>(D).fill(0);
    for (let c = field.offset; c < field.offset + field.width; c++) {
      const e = embed(table, D, at(batch.ids, r * layout.idWidth + c));
      const x = at(batch.values, r * layout.idWidth + c);
      for (let k = 0; k < D; k++) v[k]! += x * e[k]!;
    }
    return v;
  });
}

/** Item embeddings of the real (right-aligned) items of sequence s in row r. */
function sequenceItems(layout: FeatureLayout, batch: FeatureBatch, r: number, s: number, table: Float32Array, D: number): number[][] {
  const S = layout.sequences.length;
  const L = strideOf(layout);
  const length = at(batch.sequenceLengths, r * S + s);
  const items: number[][] = [];
  for (let t = L - length; t < L; t++) items.push(embed(table, D, at(batch.sequenceIds, (r * S + s) * L + t)));
  return items;
}

function mean(items: number[][], D: number): number[] {
  const v = new Array<number>(D).fill(0);
  for (const item of items) for (let k = 0; k < D; k++) v[k]! += item[k]! / items.length;
  return v;
}

function linear(layer: DenseLayerWeights, x: number[]): number[] {
  const y: number[] = [];
  for (let o = 0; o < layer.outputs; o++) {
    let s = at(layer.bias, o);
    for (let i = 0; i < layer.inputs; i++) s += at(layer.weight, o * layer.inputs + i) * x[i]!;
    y.push(s);
  }
  return y;
}

const relu = (x: number[]) => x.map((v) => Math.max(0, v));

export function referenceDcnV2(layout: FeatureLayout, w: DcnV2Weights, batch: FeatureBatch): Float64Array {
  const D = w.embeddingDim;
  const d0 = w.inputWidth;
  const out = new Float64Array(batch.rows);
  // Full W matrices, formed explicitly (W = U·Vᵀ for low rank).
  const matrices = w.cross.map((layer) => {
    if (layer.kind === 'full') return (i: number, j: number) => at(layer.w, i * d0 + j);
    const W = new Float64Array(d0 * d0);
    for (let i = 0; i < d0; i++) for (let j = 0; j < d0; j++) for (let k = 0; k < layer.rank; k++) W[i * d0 + j]! += at(layer.u, i * layer.rank + k) * at(layer.v, j * layer.rank + k);
    return (i: number, j: number) => W[i * d0 + j]!;
  });
  for (let r = 0; r < batch.rows; r++) {
    const x0: number[] = [];
    for (const v of fieldVectors(layout, batch, r, w.embedding, D)) x0.push(...v);
    layout.sequences.forEach((_, s) => {
      const items = sequenceItems(layout, batch, r, s, w.embedding, D);
      x0.push(...(items.length === 0 ? new Array<number>(D).fill(0) : mean(items, D)));
    });
    for (let d = 0; d < layout.denseWidth; d++) x0.push(at(batch.dense, r * layout.denseWidth + d));
    let x = x0;
    w.cross.forEach((layer, l) => {
      const W = matrices[l]!;
      const next: number[] = [];
      for (let i = 0; i < d0; i++) {
        let s = at(layer.bias, i);
        for (let j = 0; j < d0; j++) s += W(i, j) * x[j]!;
        next.push(x0[i]! * s + x[i]!);
      }
      x = next;
    });
    let h = x0;
    for (const layer of w.deep) h = relu(linear(layer, h));
    const joined = w.deep.length === 0 ? x : [...x, ...h];
    out[r] = linear(w.output, joined)[0]!;
  }
  return out;
}

/** DeepFM with the FM term written as the explicit sum of pairwise dot products Σ_{i<j} ⟨e_i, e_j⟩ (not the ½ identity the model uses). */
export function referenceDeepFm(layout: FeatureLayout, w: DeepFmWeights, batch: FeatureBatch): Float64Array {
  const D = w.embeddingDim;
  const out = new Float64Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) {
    const blocks = fieldVectors(layout, batch, r, w.embedding, D);
    layout.sequences.forEach((_, s) => {
      const items = sequenceItems(layout, batch, r, s, w.embedding, D);
      blocks.push(items.length === 0 ? new Array<number>(D).fill(0) : mean(items, D));
    });
    let z = w.bias;
    for (let c = 0; c < layout.idWidth; c++) z += at(batch.values, r * layout.idWidth + c) * at(w.ids, at(batch.ids, r * layout.idWidth + c));
    for (let d = 0; d < layout.denseWidth; d++) z += at(batch.dense, r * layout.denseWidth + d) * at(w.dense, d);
    for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) for (let k = 0; k < D; k++) z += blocks[i]![k]! * blocks[j]![k]!;
    const x0 = blocks.flat();
    for (let d = 0; d < layout.denseWidth; d++) x0.push(at(batch.dense, r * layout.denseWidth + d));
    let h = x0;
    for (const layer of w.deep) h = relu(linear(layer, h));
    out[r] = z + linear(w.output, h)[0]!;
  }
  return out;
}

export function referenceDin(layout: FeatureLayout, w: DinWeights, batch: FeatureBatch): Float64Array {
  const D = w.embeddingDim;
  const out = new Float64Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) {
    const fields = fieldVectors(layout, batch, r, w.embedding, D);
    const x0: number[] = fields.flat();
    layout.sequences.forEach((sequence, s) => {
      const items = sequenceItems(layout, batch, r, s, w.embedding, D);
      const pooling = w.pooling[s]!;
      if (pooling.kind === 'mean') {
        x0.push(...(items.length === 0 ? new Array<number>(D).fill(0) : mean(items, D)));
        return;
      }
      const q = fields[layout.fields.findIndex((f) => f.name === sequence.sharesIdsWith)]!;
      const pooled = new Array<number>(D).fill(0);
      for (const k of items) {
        let h = [...k, ...q, ...k.map((v, i) => v - q[i]!), ...k.map((v, i) => v * q[i]!)];
        pooling.layers.forEach((layer, i) => {
          h = linear(layer, h);
          if (i < pooling.layers.length - 1) h = relu(h);
        });
        const a = h[0]!;
        for (let i = 0; i < D; i++) pooled[i]! += a * k[i]!;
      }
      x0.push(...pooled);
    });
    for (let d = 0; d < layout.denseWidth; d++) x0.push(at(batch.dense, r * layout.denseWidth + d));
    let h = x0;
    for (const layer of w.deep) h = relu(linear(layer, h));
    out[r] = linear(w.output, h)[0]!;
  }
  return out;
}

export function referenceLogits(layout: FeatureLayout, weights: ModelWeights, batch: FeatureBatch): Float64Array {
  switch (weights.kind) {
    case 'lr':
      return referenceLr(weights, batch);
    case 'fm':
      return referenceFm(weights, batch);
    case 'dcnv2':
      return referenceDcnV2(layout, weights, batch);
    case 'deepfm':
      return referenceDeepFm(layout, weights, batch);
    case 'din':
      return referenceDin(layout, weights, batch);
  }
}

export function seeded(seed: string): Random {
  return createRandom(seed);
}

/** Structural view of onnxruntime-node and onnxruntime-web for tests that run sessions directly. */
export interface OrtLike {
  InferenceSession: { create(bytes: Uint8Array, options?: object): Promise<{ inputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>; release(): Promise<void> }> };
  Tensor: new (type: 'int32' | 'float32', data: Int32Array | Float32Array, dims: readonly number[]) => unknown;
}

/** Runs a model built by ctrkit directly on a session (no runner), returning both outputs. */
export async function runSession(ort: OrtLike, bytes: Uint8Array, batch: FeatureBatch): Promise<{ logit: Float32Array; probability: Float32Array; inputs: readonly string[] }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const { layout, rows } = batch;
    const all: Record<string, unknown> = {
      ids: new ort.Tensor('int32', batch.ids, [rows, layout.idWidth]),
      values: new ort.Tensor('float32', batch.values, [rows, layout.idWidth]),
      dense: new ort.Tensor('float32', batch.dense, [rows, layout.denseWidth]),
      sequence_ids: new ort.Tensor('int32', batch.sequenceIds, [rows, layout.sequences.length, strideOf(layout)]),
      sequence_lengths: new ort.Tensor('int32', batch.sequenceLengths, [rows, layout.sequences.length]),
    };
    const feeds: Record<string, unknown> = {};
    for (const name of session.inputNames) feeds[name] = all[name];
    const result = await session.run(feeds);
    return { logit: result.logit!.data as Float32Array, probability: result.probability!.data as Float32Array, inputs: session.inputNames };
  } finally {
    await session.release();
  }
}
