/**
 * @internal The checks every architecture's weights go through, run once when a model is built or
 * weights are swapped in, never per row: arrays present, of the stated length and finite; dense
 * layers and towers that fit together; and the two parts several architectures share — the
 * linear part (LR, FM, DeepFM) and the embedding part (DCN-v2, DeepFM, DIN).
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import type { DenseLayerWeights } from './dense-layer.js';
import { modelInputWidth, type EmbeddingModelWeights } from './model-input.js';

/** @internal `value` when it is a positive integer (`E_CONFIG` naming `what` otherwise). */
export function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new CtrkitError('E_CONFIG', `${what} must be a positive integer, got ${value}`);
  return value;
}

/** @internal The layout facts every architecture relies on: a positive id space, a dense width ≥ 0. */
export function checkLayoutBasics(layout: FeatureLayout): void {
  positiveInt(layout.idSpace, 'layout.idSpace');
  if (!Number.isInteger(layout.denseWidth) || layout.denseWidth < 0) {
    throw new CtrkitError('E_CONFIG', `layout.denseWidth must be an integer ≥ 0, got ${layout.denseWidth}`);
  }
}

/** @internal A `Float32Array` of `length` finite values (`E_INPUT` naming `what` and the expected shape `hint` otherwise). */
export function checkArray(array: unknown, length: number, what: string, hint: string): void {
  if (!(array instanceof Float32Array)) {
    throw new CtrkitError('E_INPUT', `${what} must be a Float32Array of ${length} values (${hint}), got ${describe(array)}`);
  }
  if (array.length !== length) {
    throw new CtrkitError('E_INPUT', `${what} has ${array.length} values but must have ${length} (${hint})`, {
      details: { what, expected: length, actual: array.length },
    });
  }
  for (let i = 0; i < length; i++) {
    const v = array[i] as number;
    // v − v is 0 for finite v and NaN for ±Infinity and NaN: one subtraction, no call.
    if (v - v !== 0) {
      throw new CtrkitError('E_INPUT', `${what}[${i}] is ${v}; weights must be finite (a diverged trainer? lower its learning rate)`, {
        details: { what, index: i, value: v },
      });
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** @internal A layer of `inputs` inputs (and `outputs` outputs, when given) with arrays of its shape; returns its width. */
export function checkDense(layer: DenseLayerWeights | undefined, inputs: number, outputs: number | undefined, what: string): number {
  if (layer === undefined || typeof layer !== 'object') throw new CtrkitError('E_INPUT', `${what} is missing`);
  if (layer.inputs !== inputs) {
    throw new CtrkitError('E_INPUT', `${what} takes ${layer.inputs} inputs but receives ${inputs}; rebuild the weights for this layout`);
  }
  if (outputs !== undefined && layer.outputs !== outputs) {
    throw new CtrkitError('E_INPUT', `${what} must have ${outputs} output(s), has ${layer.outputs}`);
  }
  positiveInt(layer.outputs, `${what}.outputs`);
  checkArray(layer.weight, layer.outputs * inputs, `${what}.weight`, `[outputs ${layer.outputs} × inputs ${inputs}]`);
  checkArray(layer.bias, layer.outputs, `${what}.bias`, `[outputs ${layer.outputs}]`);
  return layer.outputs;
}

/** @internal Layers each taking the width of the one below, the first `inputs`; returns the top width. */
export function checkTower(layers: readonly DenseLayerWeights[], inputs: number, what: string): number {
  if (!Array.isArray(layers)) throw new CtrkitError('E_INPUT', `${what} must be an array of layers`);
  let width = inputs;
  layers.forEach((layer, i) => {
    width = checkDense(layer, width, undefined, `${what}[${i}]`);
  });
  return width;
}

/** @internal A tower over `x0` of width `d0` and its one-output final layer over the tower's top (or `x0`): DeepFM's and DIN's MLP. */
export function checkMlp(deep: readonly DenseLayerWeights[], output: DenseLayerWeights, d0: number, kind: string): void {
  const last = checkTower(deep, d0, `${kind}.deep`);
  checkDense(output, last, 1, `${kind}.output`);
}

function checkScalar(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CtrkitError('E_INPUT', `${what} must be a finite number, got ${String(value)}`);
}

/** @internal What a linear part holds: an intercept and a weight per id and per dense column. */
export interface LinearPart {
  readonly kind: string;
  readonly denseWidth: number;
  readonly bias: number;
  readonly ids: Float32Array;
  readonly dense: Float32Array;
}

/** @internal The linear part of LR, FM and DeepFM: a finite intercept, the layout's dense width, `[idSpace]` and `[denseWidth]` weights. */
export function checkLinearPart(layout: FeatureLayout, weights: LinearPart): void {
  const { kind } = weights;
  checkScalar(weights.bias, `${kind}.bias`);
  if (weights.denseWidth !== layout.denseWidth) throw new CtrkitError('E_INPUT', `${kind} weights have ${weights.denseWidth} dense columns but the layout has ${layout.denseWidth}`);
  checkArray(weights.ids, layout.idSpace, `${kind}.ids`, '[idSpace]');
  checkArray(weights.dense, layout.denseWidth, `${kind}.dense`, '[denseWidth]');
}

/**
 * @internal The embedding part of DCN-v2, DeepFM and DIN: a positive D, the `x0` width this layout
 * gives, an `[idSpace × D]` table. Returns that width, d0.
 */
export function checkEmbeddingPart(layout: FeatureLayout, weights: EmbeddingModelWeights & { readonly kind: string }): number {
  const { kind } = weights;
  positiveInt(weights.embeddingDim, `${kind}.embeddingDim`);
  const d0 = modelInputWidth(layout, weights.embeddingDim);
  if (weights.inputWidth !== d0) throw new CtrkitError('E_INPUT', `${kind}.inputWidth is ${weights.inputWidth} but this layout gives x0 a width of ${d0}`);
  checkArray(weights.embedding, layout.idSpace * weights.embeddingDim, `${kind}.embedding`, `[idSpace × embeddingDim ${weights.embeddingDim}]`);
  return d0;
}
