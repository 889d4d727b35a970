import type { EvaluationSummary } from '../metrics/evaluate.js';
import type { DriftEntry } from './drift.js';

/** Alarm thresholds; omit a rule to disable it.
 *
 * @example
 * ```ts
 * import type { AlarmThresholds } from '@ctrkit/core';
 * const thresholds: AlarmThresholds = {
 *   calibration: { min: 0.8, max: 1.25, minRows: 5_000 },
 *   ctrBelowPredicted: { ratio: 0.8, minRows: 5_000 },
 *   featurePsi: 0.25,
 *   predictionPsi: 0.25,
 * };
 * ```
 */
export interface AlarmThresholds {
  /** Fire when the calibration ratio (mean prediction / mean label) leaves [min, max]. */
  readonly calibration?: { readonly min: number; readonly max: number; readonly minRows: number };
  /** Fire when actual CTR / predicted CTR falls below `ratio` (we bid on clicks that do not come). */
  readonly ctrBelowPredicted?: { readonly ratio: number; readonly minRows: number };
  /** Fire when any field's PSI exceeds this. */
  readonly featurePsi?: number;
  /** Fire when the prediction distribution's PSI exceeds this. */
  readonly predictionPsi?: number;
}

/** The default thresholds: calibration within [0.8, 1.25], actual CTR at least 80% of predicted, PSI below 0.25 — each judged once 5,000 labeled rows are in.
 *
 * @example
 * ```ts
 * import { DEFAULT_ALARM_THRESHOLDS } from '@ctrkit/core';
 * console.log(DEFAULT_ALARM_THRESHOLDS.featurePsi); // 0.25
 * ```
 */
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = Object.freeze({
  calibration: { min: 0.8, max: 1.25, minRows: 5_000 },
  ctrBelowPredicted: { ratio: 0.8, minRows: 5_000 },
  featurePsi: 0.25,
  predictionPsi: 0.25,
});

/** Names of the alarms.
 *
 * @example
 * ```ts
 * import type { AlarmName } from '@ctrkit/core';
 * const name: AlarmName = 'feature_drift';
 * ```
 */
export type AlarmName = 'calibration_drift' | 'ctr_below_predicted' | 'feature_drift' | 'prediction_drift';

/** One alarm's state.
 *
 * @example
 * ```ts
 * import type { Alarm } from '@ctrkit/core';
 * const page = (alarms: Alarm[]) => alarms.filter((a) => a.firing);
 * ```
 */
export interface Alarm {
  /** Which rule. */
  readonly name: AlarmName;
  /** Whether it fires now. */
  readonly firing: boolean;
  /** The measured value (NaN when there is not enough data to judge). */
  readonly value: number;
  /** The threshold it was compared with. */
  readonly threshold: number;
  /** What it is about (the field name for feature drift), and why. */
  readonly detail: string;
}

/**
 * Evaluates alarm rules on current quality and drift figures. Rules without enough data report
 * `firing: false` with a NaN value rather than guessing.
 *
 * @param inputs - Rolling quality figures and drift entries, whichever the host has.
 * @param thresholds - The rules (default {@link DEFAULT_ALARM_THRESHOLDS}).
 * @returns One alarm per configured rule (feature drift: one per field).
 * @example
 * ```ts
 * import { evaluateAlarms } from '@ctrkit/core';
 * const alarms = evaluateAlarms({ drift: [{ field: 'user_device', psi: 0.4, observations: 1_000 }] });
 * console.log(alarms.find((a) => a.name === 'feature_drift')?.firing); // true
 * ```
 */
export function evaluateAlarms(
  inputs: { readonly quality?: EvaluationSummary; readonly drift?: readonly DriftEntry[] },
  thresholds: AlarmThresholds = DEFAULT_ALARM_THRESHOLDS,
): Alarm[] {
  const alarms: Alarm[] = [];
  const quality = inputs.quality;
  if (thresholds.calibration) {
    const { min, max, minRows } = thresholds.calibration;
    const enough = quality !== undefined && quality.rows >= minRows && Number.isFinite(quality.calibration);
    const value = enough ? quality.calibration : Number.NaN;
    const low = enough && value < min;
    alarms.push({
      name: 'calibration_drift',
      firing: enough && (value < min || value > max),
      value,
      threshold: low ? min : max,
      detail: enough ? `calibration ratio ${value.toFixed(3)} over ${quality.rows} rows; allowed [${min}, ${max}]` : `fewer than ${minRows} labeled rows`,
    });
  }
  if (thresholds.ctrBelowPredicted) {
    const { ratio, minRows } = thresholds.ctrBelowPredicted;
    const enough = quality !== undefined && quality.rows >= minRows && quality.calibration > 0;
    const value = enough ? 1 / quality.calibration : Number.NaN;
    alarms.push({
      name: 'ctr_below_predicted',
      firing: enough && value < ratio,
      value,
      threshold: ratio,
      detail: enough ? `actual CTR is ${(value * 100).toFixed(1)}% of predicted` : `fewer than ${minRows} labeled rows`,
    });
  }
  for (const entry of inputs.drift ?? []) {
    const isPrediction = entry.field === 'prediction';
    const threshold = isPrediction ? thresholds.predictionPsi : thresholds.featurePsi;
    if (threshold === undefined) continue;
    alarms.push({
      name: isPrediction ? 'prediction_drift' : 'feature_drift',
      firing: entry.observations > 0 && entry.psi > threshold,
      value: entry.observations > 0 ? entry.psi : Number.NaN,
      threshold,
      detail: `${entry.field}: PSI ${entry.psi.toFixed(3)} over ${entry.observations} values`,
    });
  }
  return alarms;
}
