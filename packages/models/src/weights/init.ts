/**
 * @internal The seeded draws every `init*Weights` function makes: checked scales, normal arrays,
 * Glorot-normal layers and towers, the linear part.
 */
import { CtrkitError, type FeatureLayout, type Random } from '@ctrkit/core';
import type { DenseLayerWeights } from './dense-layer.js';
import { positiveInt } from './validation.js';

/** @internal A scale option, or its default: finite and ≥ 0 (`E_CONFIG` otherwise). */
export function scaleOf(value: number | undefined, fallback: number, what: string): number {
  const scale = value ?? fallback;
  if (!Number.isFinite(scale) || scale < 0) throw new CtrkitError('E_CONFIG', `${what} must be a finite number ≥ 0, got ${scale}`);
  return scale;
}

/** @internal `length` draws of N(0, scale²) in float32 (zeros, drawing nothing, at scale 0). */
export function normals(random: Random, length: number, scale: number): Float32Array {
  const out = new Float32Array(length);
  if (scale === 0) return out;
  for (let i = 0; i < length; i++) out[i] = random.normal() * scale;
  return out;
}

/** @internal A Glorot-normal weight and a `biasScale`-normal bias: keeps activations at unit scale through deep stacks. */
export function denseLayer(random: Random, inputs: number, outputs: number, biasScale: number): DenseLayerWeights {
  return {
    inputs,
    outputs,
    weight: normals(random, inputs * outputs, Math.sqrt(2 / (inputs + outputs))),
    bias: normals(random, outputs, biasScale),
  };
}

/** @internal Layers of the given widths over `inputs` (each width checked positive, named `${what}[i]`). */
export function tower(random: Random, inputs: number, widths: readonly number[], biasScale: number, what: string): DenseLayerWeights[] {
  const layers: DenseLayerWeights[] = [];
  let width = inputs;
  widths.forEach((outputs, i) => {
    positiveInt(outputs, `${what}[${i}]`);
    layers.push(denseLayer(random, width, outputs, biasScale));
    width = outputs;
  });
  return layers;
}

/** @internal Width of a tower's top layer, or `whenEmpty` for a tower without layers. */
export function topWidth(layers: readonly DenseLayerWeights[], whenEmpty: number): number {
  return layers.length === 0 ? whenEmpty : (layers[layers.length - 1] as DenseLayerWeights).outputs;
}

/** The intercept: 0, drawing nothing, at scale 0; else one N(0, biasScale²) draw in float32. */
function initialBias(random: Random, biasScale: number): number {
  return biasScale === 0 ? 0 : Math.fround(random.normal() * biasScale);
}

/** @internal The linear part LR, FM and DeepFM start from: an intercept, then `[idSpace]` and `[denseWidth]` normal weights, drawn in that order. */
export function initLinearPart(
  random: Random,
  layout: FeatureLayout,
  scale: number,
  biasScale: number,
): { idSpace: number; denseWidth: number; bias: number; ids: Float32Array; dense: Float32Array } {
  return {
    idSpace: layout.idSpace,
    denseWidth: layout.denseWidth,
    bias: initialBias(random, biasScale),
    ids: normals(random, layout.idSpace, scale),
    dense: normals(random, layout.denseWidth, scale),
  };
}
