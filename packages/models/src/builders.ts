/**
 * ONNX builders (LR, FM, DCN-v2, DeepFM, DIN): turn a layout and weights into an opset-17 model that reads a `FeatureBatch`
 * directly (int32 ids into `Gather`, which onnxruntime accepts without a cast) and has two
 * outputs, `logit` and `probability`, each of shape `[batch]`.
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { checkLayout, sequenceStride } from './batch-check.js';
import { STANDARD_INPUT_NAMES } from './manifest.js';
import { GraphBuilder } from './onnx-graph-writer.js';
import { VERSION } from './version.js';
import {
  checkWeights,
  type DcnV2Weights,
  type DeepFmWeights,
  type DenseLayerWeights,
  type DinWeights,
  type FmWeights,
  type LrWeights,
  type ModelWeights,
} from './weights.js';

/** Options of every builder.
 *
 * @example
 * ```ts
 * import type { BuildOptions } from '@ctrkit/models';
 * const options: BuildOptions = { description: 'dcnv2 trained on 2026-01-01 logs' };
 * ```
 */
export interface BuildOptions {
  /** Stored as the model's doc string. */
  readonly description?: string;
}

const BATCH = 'batch';

function checkInputs(layout: FeatureLayout, weights: ModelWeights): void {
  checkLayout(layout);
  if (layout.idWidth === 0) {
    throw new CtrkitError('E_CONFIG', 'layout has no id columns; the built-in architectures need at least one categorical field');
  }
  checkWeights(layout, weights);
}

function finish(g: GraphBuilder, layout: FeatureLayout, kind: string, logit: string, options: BuildOptions): Uint8Array {
  g.output(logit, 'logit', 'float32', [BATCH]);
  g.output(g.op('Sigmoid', ['logit']), 'probability', 'float32', [BATCH]);
  return g.toBytes({
    docString: options.description ?? `ctrkit ${kind} model for feature spec ${layout.fingerprint}`,
    producerVersion: VERSION,
    metadata: { 'ctrkit.architecture': kind, 'ctrkit.fingerprint': layout.fingerprint, 'ctrkit.idSpace': String(layout.idSpace) },
  });
}

interface IdInputs {
  readonly ids: string;
  readonly values: string;
  readonly dense: string | undefined;
}

function idInputs(g: GraphBuilder, layout: FeatureLayout): IdInputs {
  const ids = g.input(STANDARD_INPUT_NAMES.ids, 'int32', [BATCH, layout.idWidth]);
  const values = g.input(STANDARD_INPUT_NAMES.values, 'float32', [BATCH, layout.idWidth]);
  const dense = layout.denseWidth > 0 ? g.input(STANDARD_INPUT_NAMES.dense, 'float32', [BATCH, layout.denseWidth]) : undefined;
  return { ids, values, dense };
}

/** `bias + Σ values·w[ids] + dense·wDense`, shape [batch]. */
function linearTerm(g: GraphBuilder, inputs: IdInputs, prefix: string, bias: number, ids: Float32Array, dense: Float32Array): string {
  const w = g.floats(`${prefix}.ids`, ids, [ids.length]);
  const gathered = g.op('Gather', [w, inputs.ids], { axis: 0 });
  let sum = g.op('ReduceSum', [g.op('Mul', [gathered, inputs.values]), g.int64s([1])], { keepdims: 0 });
  if (inputs.dense !== undefined) {
    const wd = g.floats(`${prefix}.dense`, dense, [dense.length]);
    sum = g.op('Add', [sum, g.op('MatMul', [inputs.dense, wd])]);
  }
  return g.op('Add', [sum, g.floats(`${prefix}.bias`, new Float32Array([bias]), [1])]);
}

/**
 * Builds a logistic-regression model: `logit = bias + Σ values·w[ids] + Σ dense·w_dense`.
 *
 * @param layout - The encoder's layout (the model reads its `ids`, `values` and `dense` arrays).
 * @param weights - LR weights for that layout.
 * @param options - Description.
 * @returns The ONNX model's bytes (save as `model.onnx`; write `model.json` with {@link createManifest}).
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights of the wrong shape or non-finite weights.
 * @example
 * ```ts
 * import { buildLrModel, initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes: Uint8Array = buildLrModel(layout, initLrWeights(layout, { seed: 1 }));
 * ```
 */
export function buildLrModel(layout: FeatureLayout, weights: LrWeights, options: BuildOptions = {}): Uint8Array {
  checkInputs(layout, weights);
  const g = new GraphBuilder('ctrkit_lr');
  const inputs = idInputs(g, layout);
  return finish(g, layout, 'lr', linearTerm(g, inputs, 'lr', weights.bias, weights.ids, weights.dense), options);
}

/**
 * Builds a factorization-machine model (linear term plus pairwise factor interactions over ids
 * and dense columns).
 *
 * @param layout - The encoder's layout.
 * @param weights - FM weights for that layout.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights of the wrong shape or non-finite weights.
 * @example
 * ```ts
 * import { buildFmModel, initFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildFmModel(layout, initFmWeights(layout, { dim: 8 }));
 * ```
 */
export function buildFmModel(layout: FeatureLayout, weights: FmWeights, options: BuildOptions = {}): Uint8Array {
  checkInputs(layout, weights);
  const g = new GraphBuilder('ctrkit_fm');
  const inputs = idInputs(g, layout);
  const linear = linearTerm(g, inputs, 'fm', weights.bias, weights.ids, weights.dense);
  const k = weights.dim;
  const factors = g.floats('fm.id_factors', weights.idFactors, [weights.idSpace, k]);
  const xv = g.op('Mul', [g.op('Gather', [factors, inputs.ids], { axis: 0 }), g.op('Unsqueeze', [inputs.values, g.int64s([2])])]);
  let sum = g.op('ReduceSum', [xv, g.int64s([1])], { keepdims: 0 });
  let squares = g.op('ReduceSum', [g.op('Mul', [xv, xv]), g.int64s([1])], { keepdims: 0 });
  if (inputs.dense !== undefined) {
    const denseFactors = g.floats('fm.dense_factors', weights.denseFactors, [weights.denseWidth, k]);
    const squared = new Float32Array(weights.denseFactors.length);
    for (let i = 0; i < squared.length; i++) squared[i] = (weights.denseFactors[i] as number) ** 2;
    const denseFactorsSq = g.floats('fm.dense_factors_sq', squared, [weights.denseWidth, k]);
    sum = g.op('Add', [sum, g.op('MatMul', [inputs.dense, denseFactors])]);
    squares = g.op('Add', [squares, g.op('MatMul', [g.op('Mul', [inputs.dense, inputs.dense]), denseFactorsSq])]);
  }
  const pairs = g.op('ReduceSum', [g.op('Sub', [g.op('Mul', [sum, sum]), squares]), g.int64s([1])], { keepdims: 0 });
  const logit = g.op('Add', [linear, g.op('Mul', [pairs, g.floatConst([0.5], [])])]);
  return finish(g, layout, 'fm', logit, options);
}

/** Field embeddings: `[batch, F, D]`, each field the `values`-weighted sum of its columns' embeddings. */
function fieldEmbeddings(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, table: string): string {
  const gathered = g.op('Gather', [table, inputs.ids], { axis: 0 });
  const weighted = g.op('Mul', [gathered, g.op('Unsqueeze', [inputs.values, g.int64s([2])])]);
  if (layout.fields.every((field) => field.width === 1)) return weighted;
  const blocks = layout.fields.map((field) => {
    const slice = g.op('Slice', [weighted, g.int64s([field.offset]), g.int64s([field.offset + field.width]), g.int64s([1])]);
    return field.width === 1 ? slice : g.op('ReduceSum', [slice, g.int64s([1])], { keepdims: 1 });
  });
  return g.op('Concat', blocks, { axis: 1 });
}

interface SequenceInputs {
  /** `[batch, S, L, D]` item embeddings. */
  readonly keys: string;
  /** `[batch, S, L]` 1 for real items, 0 for padding. */
  readonly mask: string;
  /** `[batch, S, 1]` lengths as float. */
  readonly lengths: string;
}

function sequenceInputs(g: GraphBuilder, layout: FeatureLayout, table: string): SequenceInputs {
  const S = layout.sequences.length;
  const L = sequenceStride(layout);
  const ids = g.input(STANDARD_INPUT_NAMES.sequenceIds, 'int32', [BATCH, S, L]);
  const lengthsInt = g.input(STANDARD_INPUT_NAMES.sequenceLengths, 'int32', [BATCH, S]);
  const keys = g.op('Gather', [table, ids], { axis: 0 });
  const lengths = g.op('Unsqueeze', [g.op('Cast', [lengthsInt], { to: 1 }), g.int64s([2])]);
  // Sequences are left-padded: item t is real when t ≥ L − length, i.e. t + length ≥ L.
  const positions = g.floatConst(Array.from({ length: L }, (_, t) => t), [L]);
  const real = g.op('GreaterOrEqual', [g.op('Add', [positions, lengths]), g.floatConst([L], [])]);
  return { keys, mask: g.op('Cast', [real], { to: 1 }), lengths };
}

/** Masked mean of every sequence: `[batch, S, D]` (zeros for an empty sequence). */
function meanPooled(g: GraphBuilder, sequences: SequenceInputs): string {
  const weights = g.op('Div', [sequences.mask, g.op('Max', [sequences.lengths, g.floatConst([1], [])])]);
  const pooled = g.op('MatMul', [g.op('Unsqueeze', [weights, g.int64s([2])]), sequences.keys]);
  return g.op('Squeeze', [pooled, g.int64s([2])]);
}

/** `x0 = [fields (F·D), sequences (S·D), dense]`, shape `[batch, d0]`. */
function concatX0(g: GraphBuilder, blocks: readonly string[], width: number, dense: string | undefined): string {
  const joined = blocks.length === 1 ? (blocks[0] as string) : g.op('Concat', blocks, { axis: 1 });
  const flat = g.op('Reshape', [joined, g.int64s([-1, width])]);
  return dense === undefined ? flat : g.op('Concat', [flat, dense], { axis: 1 });
}

/** `y = x·Wᵀ + b` for a 2-D x, W stored `[outputs × inputs]`. */
function gemm(g: GraphBuilder, x: string, layer: DenseLayerWeights, name: string): string {
  const w = g.floats(`${name}.weight`, layer.weight, [layer.outputs, layer.inputs]);
  const b = g.floats(`${name}.bias`, layer.bias, [layer.outputs]);
  return g.op('Gemm', [x, w, b], { transB: 1 });
}

function transpose(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c] as number;
  return out;
}

/** ReLU tower over a 2-D x; returns x itself for an empty tower. */
function tower(g: GraphBuilder, x: string, layers: readonly DenseLayerWeights[], name: string): string {
  let h = x;
  layers.forEach((layer, i) => {
    h = g.op('Relu', [gemm(g, h, layer, `${name}.${i}`)]);
  });
  return h;
}

function logitOf(g: GraphBuilder, x: string, output: DenseLayerWeights, name: string): string {
  return g.op('Squeeze', [gemm(g, x, output, name), g.int64s([1])]);
}

/**
 * Builds a DCN-v2 model (Wang et al. 2021, parallel structure): `x0` from field embeddings,
 * mean-pooled sequences and dense columns; cross layers `x_{l+1} = x0 ⊙ (W_l·x_l + b_l) + x_l`
 * (full rank, or low rank with `W = U·Vᵀ`); a ReLU deep tower beside them; a final linear layer
 * over `[x_L, h]`.
 *
 * @param layout - The encoder's layout.
 * @param weights - DCN-v2 weights for that layout.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights of the wrong shape or non-finite weights.
 * @example
 * ```ts
 * import { buildDcnV2Model, initDcnV2Weights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildDcnV2Model(layout, initDcnV2Weights(layout, { embeddingDim: 16, crossLayers: 3, deep: [256, 128] }));
 * ```
 */
export function buildDcnV2Model(layout: FeatureLayout, weights: DcnV2Weights, options: BuildOptions = {}): Uint8Array {
  checkInputs(layout, weights);
  const g = new GraphBuilder('ctrkit_dcnv2');
  const D = weights.embeddingDim;
  const inputs = idInputs(g, layout);
  const table = g.floats('dcnv2.embedding', weights.embedding, [weights.idSpace, D]);
  const blocks = [fieldEmbeddings(g, layout, inputs, table)];
  if (layout.sequences.length > 0) blocks.push(meanPooled(g, sequenceInputs(g, layout, table)));
  const x0 = concatX0(g, blocks, (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const d0 = weights.inputWidth;
  let xl = x0;
  weights.cross.forEach((layer, l) => {
    const name = `dcnv2.cross.${l}`;
    const b = g.floats(`${name}.bias`, layer.bias, [d0]);
    let mixed: string;
    if (layer.kind === 'full') {
      mixed = g.op('Gemm', [xl, g.floats(`${name}.w`, layer.w, [d0, d0]), b], { transB: 1 });
    } else {
      // Row form of W·x with W = U·Vᵀ: (x·V)·Uᵀ, so V [d0 × r] feeds MatMul and U [d0 × r] feeds Gemm with transB.
      const projected = g.op('MatMul', [xl, g.floats(`${name}.v`, layer.v, [d0, layer.rank])]);
      mixed = g.op('Gemm', [projected, g.floats(`${name}.u`, layer.u, [d0, layer.rank]), b], { transB: 1 });
    }
    xl = g.op('Add', [g.op('Mul', [x0, mixed]), xl]);
  });
  const joined = weights.deep.length === 0 ? xl : g.op('Concat', [xl, tower(g, x0, weights.deep, 'dcnv2.deep')], { axis: 1 });
  return finish(g, layout, 'dcnv2', logitOf(g, joined, weights.output, 'dcnv2.output'), options);
}

/**
 * Builds a DeepFM model (Guo et al., IJCAI 2017): the linear term of {@link buildLrModel}, plus
 * the FM interaction `½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²)` over the embedding blocks of `x0` (one per
 * field, a bag pooled by its `values`; one per mean-pooled sequence), plus a ReLU MLP over `x0`
 * (`[fields, sequences, dense]`, as DCN-v2 reads it) ending in one output.
 *
 * @param layout - The encoder's layout.
 * @param weights - DeepFM weights for that layout.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights of the wrong shape or non-finite weights.
 * @example
 * ```ts
 * import { buildDeepFmModel, initDeepFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildDeepFmModel(layout, initDeepFmWeights(layout, { embeddingDim: 8, deep: [128, 64] }));
 * ```
 */
export function buildDeepFmModel(layout: FeatureLayout, weights: DeepFmWeights, options: BuildOptions = {}): Uint8Array {
  checkInputs(layout, weights);
  const g = new GraphBuilder('ctrkit_deepfm');
  const D = weights.embeddingDim;
  const inputs = idInputs(g, layout);
  const linear = linearTerm(g, inputs, 'deepfm', weights.bias, weights.ids, weights.dense);
  const table = g.floats('deepfm.embedding', weights.embedding, [weights.idSpace, D]);
  let blocks = fieldEmbeddings(g, layout, inputs, table); // [batch, F, D]
  if (layout.sequences.length > 0) blocks = g.op('Concat', [blocks, meanPooled(g, sequenceInputs(g, layout, table))], { axis: 1 }); // [batch, F + S, D]
  // ½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²): the pairwise dot products in O((F + S)·D) instead of O((F + S)²·D).
  const sum = g.op('ReduceSum', [blocks, g.int64s([1])], { keepdims: 0 }); // [batch, D]
  const sumSquared = g.op('ReduceSum', [g.op('Mul', [sum, sum]), g.int64s([1])], { keepdims: 0 });
  const squares = g.op('ReduceSum', [g.op('Mul', [blocks, blocks]), g.int64s([1, 2])], { keepdims: 0 });
  const fm = g.op('Mul', [g.op('Sub', [sumSquared, squares]), g.floatConst([0.5], [])]);
  const x0 = concatX0(g, [blocks], (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const deep = logitOf(g, tower(g, x0, weights.deep, 'deepfm.deep'), weights.output, 'deepfm.output');
  return finish(g, layout, 'deepfm', g.op('Add', [g.op('Add', [linear, fm]), deep]), options);
}

/**
 * Builds a DIN model (Zhou et al. 2018): every sequence with `sharesIdsWith` is pooled by an
 * activation unit over `[k, q, k−q, k⊙q]` (q: the candidate's embedding in that field), masked
 * by length, as `Σ a_t·k_t`; other sequences are mean-pooled; a ReLU MLP over
 * `[fields, pooled sequences, dense]` gives the logit.
 *
 * @param layout - The encoder's layout.
 * @param weights - DIN weights for that layout.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights of the wrong shape or non-finite weights.
 * @example
 * ```ts
 * import { buildDinModel, initDinWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildDinModel(layout, initDinWeights(layout, { embeddingDim: 16 }));
 * ```
 */
export function buildDinModel(layout: FeatureLayout, weights: DinWeights, options: BuildOptions = {}): Uint8Array {
  checkInputs(layout, weights);
  const g = new GraphBuilder('ctrkit_din');
  const D = weights.embeddingDim;
  const inputs = idInputs(g, layout);
  const table = g.floats('din.embedding', weights.embedding, [weights.idSpace, D]);
  const fields = fieldEmbeddings(g, layout, inputs, table);
  const blocks = [fields];
  if (layout.sequences.length > 0) {
    const sequences = sequenceInputs(g, layout, table);
    const needsMean = weights.pooling.some((p) => p.kind === 'mean');
    const means = needsMean ? meanPooled(g, sequences) : undefined;
    layout.sequences.forEach((sequence, s) => {
      const pooling = weights.pooling[s];
      const index = g.int64s([s], []);
      if (pooling === undefined || pooling.kind === 'mean') {
        blocks.push(g.op('Unsqueeze', [g.op('Gather', [means as string, index], { axis: 1 }), g.int64s([1])]));
        return;
      }
      const f = layout.fields.findIndex((field) => field.name === sequence.sharesIdsWith);
      const query = g.op('Slice', [fields, g.int64s([f]), g.int64s([f + 1]), g.int64s([1])]); // [batch, 1, D]
      const keys = g.op('Gather', [sequences.keys, index], { axis: 1 }); // [batch, L, D]
      const queries = g.op('Expand', [query, g.op('Shape', [keys])]);
      let h = g.op('Concat', [keys, queries, g.op('Sub', [keys, queries]), g.op('Mul', [keys, queries])], { axis: 2 });
      pooling.layers.forEach((layer, i) => {
        // MatMul broadcasts over [batch, L, ·]; it wants the [inputs × outputs] orientation.
        const w = g.floats(`din.attention.${s}.${i}.weight_t`, transpose(layer.weight, layer.outputs, layer.inputs), [layer.inputs, layer.outputs]);
        const b = g.floats(`din.attention.${s}.${i}.bias`, layer.bias, [layer.outputs]);
        h = g.op('Add', [g.op('MatMul', [h, w]), b]);
        if (i < pooling.layers.length - 1) h = g.op('Relu', [h]);
      });
      const scores = g.op('Mul', [g.op('Squeeze', [h, g.int64s([2])]), g.op('Gather', [sequences.mask, index], { axis: 1 })]); // [batch, L]
      blocks.push(g.op('MatMul', [g.op('Unsqueeze', [scores, g.int64s([1])]), keys])); // [batch, 1, D]
    });
  }
  const x0 = concatX0(g, blocks, (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const h = tower(g, x0, weights.deep, 'din.deep');
  return finish(g, layout, 'din', logitOf(g, h, weights.output, 'din.output'), options);
}

/**
 * Builds the model for any built-in architecture, dispatching on `weights.kind`.
 *
 * @param layout - The encoder's layout.
 * @param weights - Weights of any built-in architecture.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` as the architecture's builder does.
 * @example
 * ```ts
 * import { buildModel, initFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildModel(layout, initFmWeights(layout));
 * ```
 */
export function buildModel(layout: FeatureLayout, weights: ModelWeights, options: BuildOptions = {}): Uint8Array {
  switch (weights.kind) {
    case 'lr':
      return buildLrModel(layout, weights, options);
    case 'fm':
      return buildFmModel(layout, weights, options);
    case 'dcnv2':
      return buildDcnV2Model(layout, weights, options);
    case 'deepfm':
      return buildDeepFmModel(layout, weights, options);
    case 'din':
      return buildDinModel(layout, weights, options);
    default:
      throw new CtrkitError('E_INPUT', `unknown weights kind "${String((weights as { kind?: unknown }).kind)}"; expected lr, fm, dcnv2, deepfm or din`);
  }
}
