/**
 * The ONNX subgraphs ctrkit's builders share (builders.ts, ensemble-builder.ts): the standard
 * inputs, the linear term, field embeddings, sequence pooling, dense layers and the two outputs.
 *
 * @internal
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { checkLayout, sequenceStride } from './batch-check.js';
import { STANDARD_INPUT_NAMES } from './manifest.js';
import type { GraphBuilder } from './onnx-graph-writer.js';
import { VERSION } from './version.js';
import { checkWeights, type DenseLayerWeights, type ModelWeights } from './weights.js';

const BATCH = 'batch';

/** @internal Checks a layout and weights of it before a build. */
export function checkInputs(layout: FeatureLayout, weights: ModelWeights): void {
  checkLayout(layout);
  if (layout.idWidth === 0) {
    throw new CtrkitError('E_CONFIG', 'layout has no id columns; the built-in architectures need at least one categorical field');
  }
  checkWeights(layout, weights);
}

/** @internal Adds the `logit` and `probability` outputs and writes the model's bytes. */
export function finish(g: GraphBuilder, layout: FeatureLayout, kind: string, logit: string, options: { readonly description?: string }): Uint8Array {
  g.output(logit, 'logit', 'float32', [BATCH]);
  g.output(g.op('Sigmoid', ['logit']), 'probability', 'float32', [BATCH]);
  return g.toBytes({
    docString: options.description ?? `ctrkit ${kind} model for feature spec ${layout.fingerprint}`,
    producerVersion: VERSION,
    metadata: { 'ctrkit.architecture': kind, 'ctrkit.fingerprint': layout.fingerprint, 'ctrkit.idSpace': String(layout.idSpace) },
  });
}

/** @internal The id, value and dense inputs of a graph. */
export interface IdInputs {
  readonly ids: string;
  readonly values: string;
  readonly dense: string | undefined;
}

/** @internal Declares the id, value and dense inputs. */
export function idInputs(g: GraphBuilder, layout: FeatureLayout): IdInputs {
  const ids = g.input(STANDARD_INPUT_NAMES.ids, 'int32', [BATCH, layout.idWidth]);
  const values = g.input(STANDARD_INPUT_NAMES.values, 'float32', [BATCH, layout.idWidth]);
  const dense = layout.denseWidth > 0 ? g.input(STANDARD_INPUT_NAMES.dense, 'float32', [BATCH, layout.denseWidth]) : undefined;
  return { ids, values, dense };
}

/** `bias + Σ values·w[ids] + dense·wDense`, shape [batch]. */
export function linearTerm(g: GraphBuilder, inputs: IdInputs, prefix: string, bias: number, ids: Float32Array, dense: Float32Array): string {
  const w = g.floats(`${prefix}.ids`, ids, [ids.length]);
  const gathered = g.op('Gather', [w, inputs.ids], { axis: 0 });
  let sum = g.op('ReduceSum', [g.op('Mul', [gathered, inputs.values]), g.int64s([1])], { keepdims: 0 });
  if (inputs.dense !== undefined) {
    const wd = g.floats(`${prefix}.dense`, dense, [dense.length]);
    sum = g.op('Add', [sum, g.op('MatMul', [inputs.dense, wd])]);
  }
  return g.op('Add', [sum, g.floats(`${prefix}.bias`, new Float32Array([bias]), [1])]);
}

/** Field embeddings: `[batch, F, D]`, each field the `values`-weighted sum of its columns' embeddings. */
export function fieldEmbeddings(g: GraphBuilder, layout: FeatureLayout, inputs: IdInputs, table: string): string {
  const gathered = g.op('Gather', [table, inputs.ids], { axis: 0 });
  const weighted = g.op('Mul', [gathered, g.op('Unsqueeze', [inputs.values, g.int64s([2])])]);
  if (layout.fields.every((field) => field.width === 1)) return weighted;
  const blocks = layout.fields.map((field) => {
    const slice = g.op('Slice', [weighted, g.int64s([field.offset]), g.int64s([field.offset + field.width]), g.int64s([1])]);
    return field.width === 1 ? slice : g.op('ReduceSum', [slice, g.int64s([1])], { keepdims: 1 });
  });
  return g.op('Concat', blocks, { axis: 1 });
}

/** @internal Sequence inputs of a graph, gathered from one embedding table. */
export interface SequenceInputs {
  /** `[batch, S, L, D]` item embeddings. */
  readonly keys: string;
  /** `[batch, S, L]` 1 for real items, 0 for padding. */
  readonly mask: string;
  /** `[batch, S, 1]` lengths as float. */
  readonly lengths: string;
}

/** The sequence inputs declared in each graph: every member of an ensemble reads the same two. */
const declaredSequences = new WeakMap<GraphBuilder, { readonly ids: string; readonly lengths: string }>();

export function sequenceInputs(g: GraphBuilder, layout: FeatureLayout, table: string): SequenceInputs {
  const S = layout.sequences.length;
  const L = sequenceStride(layout);
  let declared = declaredSequences.get(g);
  if (declared === undefined) {
    declared = { ids: g.input(STANDARD_INPUT_NAMES.sequenceIds, 'int32', [BATCH, S, L]), lengths: g.input(STANDARD_INPUT_NAMES.sequenceLengths, 'int32', [BATCH, S]) };
    declaredSequences.set(g, declared);
  }
  const { ids, lengths: lengthsInt } = declared;
  const keys = g.op('Gather', [table, ids], { axis: 0 });
  const lengths = g.op('Unsqueeze', [g.op('Cast', [lengthsInt], { to: 1 }), g.int64s([2])]);
  // Sequences are left-padded: item t is real when t ≥ L − length, i.e. t + length ≥ L.
  const positions = g.floatConst(Array.from({ length: L }, (_, t) => t), [L]);
  const real = g.op('GreaterOrEqual', [g.op('Add', [positions, lengths]), g.floatConst([L], [])]);
  return { keys, mask: g.op('Cast', [real], { to: 1 }), lengths };
}

/** Masked mean of every sequence: `[batch, S, D]` (zeros for an empty sequence). */
export function meanPooled(g: GraphBuilder, sequences: SequenceInputs): string {
  const weights = g.op('Div', [sequences.mask, g.op('Max', [sequences.lengths, g.floatConst([1], [])])]);
  const pooled = g.op('MatMul', [g.op('Unsqueeze', [weights, g.int64s([2])]), sequences.keys]);
  return g.op('Squeeze', [pooled, g.int64s([2])]);
}

/** `x0 = [fields (F·D), sequences (S·D), dense]`, shape `[batch, d0]`. */
export function concatX0(g: GraphBuilder, blocks: readonly string[], width: number, dense: string | undefined): string {
  const joined = blocks.length === 1 ? (blocks[0] as string) : g.op('Concat', blocks, { axis: 1 });
  const flat = g.op('Reshape', [joined, g.int64s([-1, width])]);
  return dense === undefined ? flat : g.op('Concat', [flat, dense], { axis: 1 });
}

/** `y = x·Wᵀ + b` for a 2-D x, W stored `[outputs × inputs]`. */
export function gemm(g: GraphBuilder, x: string, layer: DenseLayerWeights, name: string): string {
  const w = g.floats(`${name}.weight`, layer.weight, [layer.outputs, layer.inputs]);
  const b = g.floats(`${name}.bias`, layer.bias, [layer.outputs]);
  return g.op('Gemm', [x, w, b], { transB: 1 });
}

/** `data` (`rows × columns`, row-major) transposed. */
export function transpose(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c] as number;
  return out;
}

/** ReLU tower over a 2-D x; returns x itself for an empty tower. */
export function tower(g: GraphBuilder, x: string, layers: readonly DenseLayerWeights[], name: string): string {
  let h = x;
  layers.forEach((layer, i) => {
    h = g.op('Relu', [gemm(g, h, layer, `${name}.${i}`)]);
  });
  return h;
}

/** The logit `[batch]` of a last linear layer over a 2-D x. */
export function logitOf(g: GraphBuilder, x: string, output: DenseLayerWeights, name: string): string {
  return g.op('Squeeze', [gemm(g, x, output, name), g.int64s([1])]);
}

