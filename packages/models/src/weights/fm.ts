/**
 * Factorization-machine weights (a linear part and a factor vector per id and per dense column),
 * their init options, the seeded initializer and the shape check.
 */
import { createRandom, type FeatureLayout } from '@ctrkit/core';
import { initLinearPart, normals, scaleOf } from './init.js';
import type { LinearInitOptions } from './lr.js';
import { checkArray, checkLayoutBasics, checkLinearPart, positiveInt } from './validation.js';

/**
 * Factorization machine (Rendle 2010) over the ids (feature value = the id's `values` entry) and
 * the dense columns (feature value = the column's value):
 * `logit = bias + Σ_i w_i·x_i + ½ Σ_f [(Σ_i v_if·x_i)² − Σ_i v_if²·x_i²]`. Sequences are not used.
 *
 * @example
 * ```ts
 * import type { FmWeights } from '@ctrkit/models';
 * const weights: FmWeights = {
 *   kind: 'fm', idSpace: 4, denseWidth: 0, dim: 2, bias: 0,
 *   ids: new Float32Array(4), dense: new Float32Array(0),
 *   idFactors: new Float32Array(8), denseFactors: new Float32Array(0),
 * };
 * ```
 */
export interface FmWeights {
  /** Architecture tag. */
  readonly kind: 'fm';
  /** Size of the id space. */
  readonly idSpace: number;
  /** Dense columns. */
  readonly denseWidth: number;
  /** Factor dimension k. */
  readonly dim: number;
  /** The intercept. */
  readonly bias: number;
  /** `[idSpace]` linear weight of each id. */
  readonly ids: Float32Array;
  /** `[denseWidth]` linear weight of each dense column. */
  readonly dense: Float32Array;
  /** `[idSpace × dim]` factor vector of each id. */
  readonly idFactors: Float32Array;
  /** `[denseWidth × dim]` factor vector of each dense column. */
  readonly denseFactors: Float32Array;
}

/** Options for {@link initFmWeights}.
 *
 * @example
 * ```ts
 * import type { FmInitOptions } from '@ctrkit/models';
 * const options: FmInitOptions = { dim: 8, seed: 3 };
 * ```
 */
export interface FmInitOptions extends LinearInitOptions {
  /** Factor dimension k (default 8). */
  readonly dim?: number;
}

/**
 * Creates factorization-machine weights for a layout, drawn from a seeded normal distribution.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Factor dimension, seed and scales.
 * @returns Fresh {@link FmWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive `dim` or a negative scale.
 * @example
 * ```ts
 * import { initFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initFmWeights(layout, { dim: 8, seed: 'fm' });
 * ```
 */
export function initFmWeights(layout: FeatureLayout, options: FmInitOptions = {}): FmWeights {
  checkLayoutBasics(layout);
  const dim = positiveInt(options.dim ?? 8, 'dim');
  const random = createRandom(options.seed ?? 0);
  const scale = scaleOf(options.scale, 0.01, 'scale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  return {
    kind: 'fm',
    ...initLinearPart(random, layout, scale, biasScale),
    dim,
    idFactors: normals(random, layout.idSpace * dim, scale),
    denseFactors: normals(random, layout.denseWidth * dim, scale),
  };
}

/** @internal {@link FmWeights} fit the layout: the linear part, a positive `dim`, factors of `[idSpace × dim]` and `[denseWidth × dim]`, all finite. */
export function checkFmWeights(layout: FeatureLayout, weights: FmWeights): void {
  checkLinearPart(layout, weights);
  positiveInt(weights.dim, 'fm.dim');
  checkArray(weights.idFactors, layout.idSpace * weights.dim, 'fm.idFactors', `[idSpace × dim ${weights.dim}]`);
  checkArray(weights.denseFactors, layout.denseWidth * weights.dim, 'fm.denseFactors', `[denseWidth × dim ${weights.dim}]`);
}
