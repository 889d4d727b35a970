/**
 * ONNX builders (LR, FM, DCN-v2, DeepFM, DIN): turn a layout and weights into an opset-17 model that reads a `FeatureBatch`
 * directly (int32 ids into `Gather`, which onnxruntime accepts without a cast) and has two
 * outputs, `logit` and `probability`, each of shape `[batch]`.
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { GraphBuilder } from './onnx-graph-writer.js';
import { checkInputs, concatX0, fieldEmbeddings, finish, idInputs, linearTerm, logitOf, meanPooled, sequenceInputs, tower, transpose, type IdInputs } from './onnx-subgraphs.js';
import {
  type DcnV2Weights,
  type DeepFmWeights,
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
  return finish(g, layout, 'lr', lrLogit(g, layout, idInputs(g, layout), weights, 'lr'), options);
}

function lrLogit(g: GraphBuilder, _layout: FeatureLayout, inputs: IdInputs, weights: LrWeights, prefix: string): string {
  return linearTerm(g, inputs, prefix, weights.bias, weights.ids, weights.dense);
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
  return finish(g, layout, 'fm', fmLogit(g, layout, idInputs(g, layout), weights, 'fm'), options);
}

function fmLogit(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, weights: FmWeights, prefix: string): string {
  const linear = linearTerm(g, inputs, prefix, weights.bias, weights.ids, weights.dense);
  const k = weights.dim;
  const factors = g.floats(`${prefix}.id_factors`, weights.idFactors, [weights.idSpace, k]);
  const xv = g.op('Mul', [g.op('Gather', [factors, inputs.ids], { axis: 0 }), g.op('Unsqueeze', [inputs.values, g.int64s([2])])]);
  let sum = g.op('ReduceSum', [xv, g.int64s([1])], { keepdims: 0 });
  let squares = g.op('ReduceSum', [g.op('Mul', [xv, xv]), g.int64s([1])], { keepdims: 0 });
  if (inputs.dense !== undefined) {
    const denseFactors = g.floats(`${prefix}.dense_factors`, weights.denseFactors, [weights.denseWidth, k]);
    const squared = new Float32Array(weights.denseFactors.length);
    for (let i = 0; i < squared.length; i++) squared[i] = (weights.denseFactors[i] as number) ** 2;
    const denseFactorsSq = g.floats(`${prefix}.dense_factors_sq`, squared, [weights.denseWidth, k]);
    sum = g.op('Add', [sum, g.op('MatMul', [inputs.dense, denseFactors])]);
    squares = g.op('Add', [squares, g.op('MatMul', [g.op('Mul', [inputs.dense, inputs.dense]), denseFactorsSq])]);
  }
  const pairs = g.op('ReduceSum', [g.op('Sub', [g.op('Mul', [sum, sum]), squares]), g.int64s([1])], { keepdims: 0 });
  const logit = g.op('Add', [linear, g.op('Mul', [pairs, g.floatConst([0.5], [])])]);
  return logit;
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
  return finish(g, layout, 'dcnv2', dcnv2Logit(g, layout, idInputs(g, layout), weights, 'dcnv2'), options);
}

function dcnv2Logit(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, weights: DcnV2Weights, prefix: string): string {
  const D = weights.embeddingDim;
  const table = g.floats(`${prefix}.embedding`, weights.embedding, [weights.idSpace, D]);
  const blocks = [fieldEmbeddings(g, layout, inputs, table)];
  if (layout.sequences.length > 0) blocks.push(meanPooled(g, sequenceInputs(g, layout, table)));
  const x0 = concatX0(g, blocks, (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const d0 = weights.inputWidth;
  let xl = x0;
  weights.cross.forEach((layer, l) => {
    const name = `${prefix}.cross.${l}`;
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
  const joined = weights.deep.length === 0 ? xl : g.op('Concat', [xl, tower(g, x0, weights.deep, `${prefix}.deep`)], { axis: 1 });
  return logitOf(g, joined, weights.output, `${prefix}.output`);
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
  return finish(g, layout, 'deepfm', deepfmLogit(g, layout, idInputs(g, layout), weights, 'deepfm'), options);
}

function deepfmLogit(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, weights: DeepFmWeights, prefix: string): string {
  const D = weights.embeddingDim;
  const linear = linearTerm(g, inputs, prefix, weights.bias, weights.ids, weights.dense);
  const table = g.floats(`${prefix}.embedding`, weights.embedding, [weights.idSpace, D]);
  let blocks = fieldEmbeddings(g, layout, inputs, table); // [batch, F, D]
  if (layout.sequences.length > 0) blocks = g.op('Concat', [blocks, meanPooled(g, sequenceInputs(g, layout, table))], { axis: 1 }); // [batch, F + S, D]
  // ½(‖Σ_j e_j‖² − Σ_j ‖e_j‖²): the pairwise dot products in O((F + S)·D) instead of O((F + S)²·D).
  const sum = g.op('ReduceSum', [blocks, g.int64s([1])], { keepdims: 0 }); // [batch, D]
  const sumSquared = g.op('ReduceSum', [g.op('Mul', [sum, sum]), g.int64s([1])], { keepdims: 0 });
  const squares = g.op('ReduceSum', [g.op('Mul', [blocks, blocks]), g.int64s([1, 2])], { keepdims: 0 });
  const fm = g.op('Mul', [g.op('Sub', [sumSquared, squares]), g.floatConst([0.5], [])]);
  const x0 = concatX0(g, [blocks], (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const deep = logitOf(g, tower(g, x0, weights.deep, `${prefix}.deep`), weights.output, `${prefix}.output`);
  return g.op('Add', [g.op('Add', [linear, fm]), deep]);
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
  return finish(g, layout, 'din', dinLogit(g, layout, idInputs(g, layout), weights, 'din'), options);
}

function dinLogit(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, weights: DinWeights, prefix: string): string {
  const D = weights.embeddingDim;
  const table = g.floats(`${prefix}.embedding`, weights.embedding, [weights.idSpace, D]);
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
        const w = g.floats(`${prefix}.attention.${s}.${i}.weight_t`, transpose(layer.weight, layer.outputs, layer.inputs), [layer.inputs, layer.outputs]);
        const b = g.floats(`${prefix}.attention.${s}.${i}.bias`, layer.bias, [layer.outputs]);
        h = g.op('Add', [g.op('MatMul', [h, w]), b]);
        if (i < pooling.layers.length - 1) h = g.op('Relu', [h]);
      });
      const scores = g.op('Mul', [g.op('Squeeze', [h, g.int64s([2])]), g.op('Gather', [sequences.mask, index], { axis: 1 })]); // [batch, L]
      blocks.push(g.op('MatMul', [g.op('Unsqueeze', [scores, g.int64s([1])]), keys])); // [batch, 1, D]
    });
  }
  const x0 = concatX0(g, blocks, (layout.fields.length + layout.sequences.length) * D, inputs.dense);
  const h = tower(g, x0, weights.deep, `${prefix}.deep`);
  return logitOf(g, h, weights.output, `${prefix}.output`);
}

/**
 * @internal The logit of any built-in architecture added to `g` (its initializers named under
 * `prefix`), dispatching on `weights.kind`: what an ensemble combines.
 */
export function logitOfWeights(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, weights: ModelWeights, prefix: string): string {
  switch (weights.kind) {
    case 'lr':
      return lrLogit(g, layout, inputs, weights, prefix);
    case 'fm':
      return fmLogit(g, layout, inputs, weights, prefix);
    case 'dcnv2':
      return dcnv2Logit(g, layout, inputs, weights, prefix);
    case 'deepfm':
      return deepfmLogit(g, layout, inputs, weights, prefix);
    case 'din':
      return dinLogit(g, layout, inputs, weights, prefix);
    default:
      throw new CtrkitError('E_INPUT', `unknown weights kind "${String((weights as { kind?: unknown }).kind)}"; expected lr, fm, dcnv2, deepfm or din`);
  }
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
