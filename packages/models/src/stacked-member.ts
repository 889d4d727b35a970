/** One member of a stacked ensemble: its weights and its logit's coefficient. */
import type { ModelWeights } from './weights.js';

/**
 * One member of a stacked ensemble.
 *
 * @example
 * ```ts
 * import { initFmWeights, type StackedMember } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const member: StackedMember = { weights: initFmWeights(layout), weight: 0.6 };
 * ```
 */
export interface StackedMember {
  /** The member's weights (any built-in architecture). */
  readonly weights: ModelWeights;
  /** Its logit's coefficient in the ensemble's logit (finite; any sign, as a stacker fits it). */
  readonly weight: number;
}
