/**
 * Logistic regression's weights: an intercept and one weight per id and per dense column; the
 * options the LR and FM initializers share; the seeded initializer and the shape check.
 */
import { createRandom, type FeatureLayout } from '@ctrkit/core';
import { initLinearPart, scaleOf } from './init.js';
import { checkLayoutBasics, checkLinearPart } from './validation.js';

/**
 * Logistic regression over hashed ids and dense columns:
 * `logit = bias + Σ_c values[c]·ids[idOf(c)] + Σ_d dense[d]·denseWeights[d]`.
 * Behavior sequences are not used.
 *
 * @example
 * ```ts
 * import type { LrWeights } from '@ctrkit/models';
 * const weights: LrWeights = { kind: 'lr', idSpace: 4, denseWidth: 1, bias: -2, ids: new Float32Array(4), dense: new Float32Array(1) };
 * ```
 */
export interface LrWeights {
  /** Architecture tag. */
  readonly kind: 'lr';
  /** Size of the id space the table covers (the layout's `idSpace`). */
  readonly idSpace: number;
  /** Dense columns (the layout's `denseWidth`). */
  readonly denseWidth: number;
  /** The intercept. */
  readonly bias: number;
  /** `[idSpace]` weight of each id. */
  readonly ids: Float32Array;
  /** `[denseWidth]` weight of each dense column. */
  readonly dense: Float32Array;
}

/** Options for {@link initLrWeights} and {@link initFmWeights}.
 *
 * @example
 * ```ts
 * import type { LinearInitOptions } from '@ctrkit/models';
 * const options: LinearInitOptions = { seed: 'lr-1', scale: 0.05, biasScale: 0.1 };
 * ```
 */
export interface LinearInitOptions {
  /** Seed of the random source (default 0). */
  readonly seed?: number | string;
  /** Standard deviation of the weights and factors (default 0.01; 0 gives zeros). */
  readonly scale?: number;
  /** Standard deviation of the bias (default 0). */
  readonly biasScale?: number;
}

/**
 * Creates logistic-regression weights for a layout, drawn from a seeded normal distribution.
 *
 * @param layout - The feature layout the model will read.
 * @param options - Seed and scales.
 * @returns Fresh {@link LrWeights}.
 * @throws `CtrkitError` `E_CONFIG` on a negative scale or an invalid layout.
 * @example
 * ```ts
 * import { initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initLrWeights(layout, { seed: 1, scale: 0 }); // all zeros: FTRL's starting point
 * ```
 */
export function initLrWeights(layout: FeatureLayout, options: LinearInitOptions = {}): LrWeights {
  checkLayoutBasics(layout);
  const random = createRandom(options.seed ?? 0);
  const scale = scaleOf(options.scale, 0.01, 'scale');
  const biasScale = scaleOf(options.biasScale, 0, 'biasScale');
  return { kind: 'lr', ...initLinearPart(random, layout, scale, biasScale) };
}

/** @internal {@link LrWeights} fit the layout: the linear part's shapes, all finite. */
export function checkLrWeights(layout: FeatureLayout, weights: LrWeights): void {
  checkLinearPart(layout, weights);
}
