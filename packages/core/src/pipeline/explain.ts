import { ensure } from '../errors.js';
import type { FeatureBatch, ModelRunner } from '../stages.js';
import type { AdRequest } from '../types/request.js';

/** How much one field moved a candidate's score, in logit units (positive raises the pCTR).
 *
 * @example
 * ```ts
 * import type { FeatureContribution } from '@ctrkit/core';
 * const c: FeatureContribution = { field: 'user_device', contribution: 0.31 };
 * ```
 */
export interface FeatureContribution {
  /** Field name (a layout field, a sequence, or `dense:<name>`). */
  readonly field: string;
  /** Change in logit the field is responsible for. */
  readonly contribution: number;
}

/** Why a candidate scored as it did.
 *
 * @example
 * ```ts
 * import type { Explanation } from '@ctrkit/core';
 * const top = (e: Explanation) => e.summary[0];
 * ```
 */
export interface Explanation {
  /** The candidate's ad id. */
  readonly adId: string;
  /** The model's logit for the candidate. */
  readonly logit: number;
  /** Every field's contribution, largest magnitude first. */
  readonly contributions: readonly FeatureContribution[];
  /** Plain-language phrases for the top factors that raised the score ("evening on mobile"). */
  readonly summary: readonly string[];
}

/**
 * Turns a field (and the request it was computed from) into a phrase, or `undefined` to skip it.
 *
 * @example
 * ```ts
 * import type { FactorDescriber } from '@ctrkit/core';
 * const describe: FactorDescriber = (field, request) => (field === 'user_device' ? `on ${request.user.device ?? 'an unknown device'}` : undefined);
 * ```
 */
export type FactorDescriber = (field: string, request: AdRequest, candidateIndex: number) => string | undefined;

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
};

/**
 * Model-agnostic attribution by occlusion: each field in turn is replaced by its missing bucket
 * (sequences emptied, dense columns set to 0) and the candidate is re-scored; the field's
 * contribution is the drop in logit. All variants go to the model in one batch.
 *
 * @param runner - The model.
 * @param batch - The encoded request.
 * @param row - The candidate's row.
 * @param missingIds - Each field's missing-bucket id (the features encoder's `missingIds()`).
 * @returns Contributions, largest magnitude first.
 * @throws {@link CtrkitError} `E_INPUT` when `row` is outside the batch; the runner's own errors propagate.
 * @remarks One model call on `1 + fields + sequences + dense` rows.
 * @example
 * ```ts
 * import { explainByOcclusion, type FeatureBatch, type ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * declare const batch: FeatureBatch;
 * declare const missingIds: ReadonlyMap<string, number>;
 * const contributions = await explainByOcclusion(runner, batch, 0, missingIds);
 * ```
 */
export async function explainByOcclusion(
  runner: ModelRunner,
  batch: FeatureBatch,
  row: number,
  missingIds: ReadonlyMap<string, number>,
): Promise<FeatureContribution[]> {
  ensure(Number.isInteger(row) && row >= 0 && row < batch.rows, 'E_INPUT', () => `row ${row} is outside the batch of ${batch.rows}`);
  const { layout } = batch;
  const W = layout.idWidth;
  const D = layout.denseWidth;
  const S = layout.sequences.length;
  const L = S === 0 ? 0 : batch.sequenceIds.length / Math.max(1, batch.rows * S);
  const variants: { field: string; apply: (k: number) => void }[] = [];
  for (const field of layout.fields) {
    const missing = missingIds.get(field.name);
    variants.push({
      field: field.name,
      apply: (k) => {
        for (let c = 0; c < field.width; c++) {
          ids[k * W + field.offset + c] = c === 0 && missing !== undefined ? missing : 0;
          values[k * W + field.offset + c] = c === 0 && missing !== undefined ? 1 : 0;
        }
      },
    });
  }
  layout.sequences.forEach((sequence, s) => {
    variants.push({
      field: sequence.name,
      apply: (k) => {
        sequenceIds.fill(0, (k * S + s) * L, (k * S + s + 1) * L);
        sequenceLengths[k * S + s] = 0;
      },
    });
  });
  layout.denseNames.forEach((name, d) => {
    variants.push({ field: `dense:${name}`, apply: (k) => void (dense[k * D + d] = 0) });
  });
  const rows = 1 + variants.length;
  const ids = new Int32Array(rows * W);
  const values = new Float32Array(rows * W);
  const dense = new Float32Array(rows * D);
  const sequenceIds = new Int32Array(rows * S * L);
  const sequenceLengths = new Int32Array(rows * S);
  for (let k = 0; k < rows; k++) {
    ids.set(batch.ids.subarray(row * W, (row + 1) * W), k * W);
    values.set(batch.values.subarray(row * W, (row + 1) * W), k * W);
    dense.set(batch.dense.subarray(row * D, (row + 1) * D), k * D);
    sequenceIds.set(batch.sequenceIds.subarray(row * S * L, (row + 1) * S * L), k * S * L);
    sequenceLengths.set(batch.sequenceLengths.subarray(row * S, (row + 1) * S), k * S);
  }
  variants.forEach((variant, v) => variant.apply(v + 1));
  const scores = await runner.predict({ layout, rows, ids, values, dense, sequenceIds, sequenceLengths }, new Float32Array(rows));
  const base = logit(scores[0] as number);
  return variants
    .map((variant, v) => ({ field: variant.field, contribution: base - logit(scores[v + 1] as number) }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.field < b.field ? -1 : 1));
}

/**
 * Picks the fields that raised a candidate's score most and phrases them.
 *
 * @param contributions - Field contributions (any order).
 * @param request - The request they were computed for.
 * @param candidateIndex - Which candidate.
 * @param describe - Phrases a field, or skips it.
 * @param top - How many phrases at most (default 3).
 * @returns Distinct phrases, strongest first.
 * @example
 * ```ts
 * import { summarizeFactors, type AdRequest } from '@ctrkit/core';
 * declare const request: AdRequest;
 * const summary = summarizeFactors([{ field: 'user_device', contribution: 0.4 }], request, 0, () => 'on mobile');
 * ```
 */
export function summarizeFactors(
  contributions: readonly FeatureContribution[],
  request: AdRequest,
  candidateIndex: number,
  describe: FactorDescriber,
  top = 3,
): string[] {
  const phrases: string[] = [];
  const ordered = [...contributions].filter((c) => c.contribution > 0).sort((a, b) => b.contribution - a.contribution);
  for (const { field } of ordered) {
    if (phrases.length >= top) break;
    const phrase = describe(field, request, candidateIndex);
    if (phrase !== undefined && phrase !== '' && !phrases.includes(phrase)) phrases.push(phrase);
  }
  return phrases;
}
