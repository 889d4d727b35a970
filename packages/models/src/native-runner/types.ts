/**
 * The native runner: pure TypeScript LR and FM scoring straight from weights, for hosts that want
 * no native module and for online training, where fresh weights are swapped in between calls.
 */
import type { FeatureBatch, FeatureLayout, ModelRunner } from '@ctrkit/core';
import type { FmWeights, LrWeights } from '../weights.js';

/** Weights the native runner scores.
 *
 * @example
 * ```ts
 * import { initLrWeights, type NativeWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights: NativeWeights = initLrWeights(layout);
 * ```
 */
export type NativeWeights = LrWeights | FmWeights;

/** Options for {@link createNativeRunner}.
 *
 * @example
 * ```ts
 * import { initFmWeights, type NativeRunnerOptions } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const options: NativeRunnerOptions = { layout, weights: initFmWeights(layout), version: 'online-1' };
 * ```
 */
export interface NativeRunnerOptions {
  /** The layout batches follow. */
  readonly layout: FeatureLayout;
  /** Initial weights. */
  readonly weights: NativeWeights;
  /** Version reported in `info` (default `native`). */
  readonly version?: string;
}

/** Options for {@link NativeRunner.updateWeights}.
 *
 * @example
 * ```ts
 * import type { UpdateWeightsOptions } from '@ctrkit/models';
 * const options: UpdateWeightsOptions = { checkValues: false, version: 'ftrl-42' };
 * ```
 */
export interface UpdateWeightsOptions {
  /** Scan every weight for NaN/Infinity (default true; O(idSpace)). Shapes are always checked. */
  readonly checkValues?: boolean;
  /** New version reported in `info`. */
  readonly version?: string;
}

/**
 * A `ModelRunner` over LR or FM weights, with synchronous scoring and atomic weight swaps.
 *
 * @example
 * ```ts
 * import { createNativeRunner, initLrWeights } from '@ctrkit/models';
 * import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const batch: FeatureBatch;
 * const runner = createNativeRunner({ layout, weights: initLrWeights(layout) });
 * const p = runner.predictSync(batch);
 * runner.updateWeights(initLrWeights(layout, { seed: 2 }), { version: 'ftrl-2' });
 * ```
 */
export interface NativeRunner extends ModelRunner {
  /** The weights now in use. */
  readonly weights: NativeWeights;
  /**
   * Swaps in new weights of the same architecture and layout. Atomic between calls: a call sees
   * either the old weights or the new ones, never a mix. The runner keeps a reference (no copy):
   * hand it a fresh object rather than mutating the one in use if calls may be running.
   */
  updateWeights(weights: NativeWeights, options?: UpdateWeightsOptions): void;
  /** Probabilities, synchronously; same contract as `predict`. */
  predictSync(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /** Logits, synchronously (what an online trainer differentiates). */
  logitsSync(batch: FeatureBatch, out?: Float32Array): Float32Array;
}
