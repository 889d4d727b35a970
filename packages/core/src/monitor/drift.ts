import { CtrkitError, ensure } from '../errors.js';
import type { FeatureBatch } from '../stages.js';

/** The reference distribution of one encoded field: its most frequent ids and their shares.
 *
 * @example
 * ```ts
 * import type { FieldDistribution } from '@ctrkit/core';
 * const device: FieldDistribution = { field: 'user_device', ids: [11, 42], shares: [0.6, 0.35], otherShare: 0.05 };
 * ```
 */
export interface FieldDistribution {
  /** Field name. */
  readonly field: string;
  /** The most frequent ids, most frequent first. */
  readonly ids: readonly number[];
  /** Share of each id among the field's present values. */
  readonly shares: readonly number[];
  /** Share of every other id together. */
  readonly otherShare: number;
}

/**
 * What traffic looked like at training time: per-field id distributions and the score
 * distribution. Stored in a model manifest so that serving can measure drift against it.
 *
 * @example
 * ```ts
 * import type { FeatureProfile } from '@ctrkit/core';
 * const empty: FeatureProfile = { rows: 0, fields: [], scoreEdges: [], scoreShares: [] };
 * ```
 */
export interface FeatureProfile {
  /** Rows the profile was computed from. */
  readonly rows: number;
  /** One distribution per field of the layout. */
  readonly fields: readonly FieldDistribution[];
  /** Inner edges of the score bins (quantiles of the training scores), increasing. */
  readonly scoreEdges: readonly number[];
  /** Share of training scores in each bin (`scoreEdges.length + 1` bins). */
  readonly scoreShares: readonly number[];
}

/** Options for {@link profileFeatures}.
 *
 * @example
 * ```ts
 * import type { ProfileOptions } from '@ctrkit/core';
 * const options: ProfileOptions = { topK: 30, scoreBins: 20 };
 * ```
 */
export interface ProfileOptions {
  /** Ids kept per field (default 20); the rest pool into "other". */
  readonly topK?: number;
  /** Score bins (default 10, equal mass). */
  readonly scoreBins?: number;
}

/**
 * Population stability index between two distributions over the same bins:
 * Σ (actual − expected) · ln(actual / expected), shares floored at `epsilon`. Below 0.1 is
 * stable, 0.1–0.25 a moderate shift, above 0.25 a major one (the usual credit-scoring rule).
 *
 * @param expected - Reference shares per bin.
 * @param actual - Observed shares per bin.
 * @param epsilon - Floor for empty bins (default 1e-4).
 * @returns The PSI, ≥ 0.
 * @throws {@link CtrkitError} `E_INPUT` when the lengths differ or a share is negative or NaN.
 * @example
 * ```ts
 * import { populationStabilityIndex } from '@ctrkit/core';
 * console.log(populationStabilityIndex([0.5, 0.5], [0.5, 0.5])); // 0
 * console.log(populationStabilityIndex([0.5, 0.5], [0.9, 0.1]) > 0.25); // true
 * ```
 */
export function populationStabilityIndex(expected: ArrayLike<number>, actual: ArrayLike<number>, epsilon = 1e-4): number {
  ensure(expected.length === actual.length, 'E_INPUT', () => `PSI: ${expected.length} expected bins but ${actual.length} actual`);
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    ensure(e >= 0 && a >= 0, 'E_INPUT', () => `PSI: shares must be ≥ 0 (bin ${i}: ${e}, ${a})`);
    const ef = Math.max(e, epsilon);
    const af = Math.max(a, epsilon);
    psi += (af - ef) * Math.log(af / ef);
  }
  return psi;
}

function fieldColumns(batch: FeatureBatch): { name: string; offset: number; width: number }[] {
  return batch.layout.fields.map((f) => ({ name: f.name, offset: f.offset, width: f.width }));
}

/**
 * Computes a {@link FeatureProfile} from training batches (and optionally the model's scores on
 * them), to store in the model manifest.
 *
 * @param batches - Encoded training rows; all must share one layout.
 * @param scores - Optional model scores, one per row across all batches, in order.
 * @param options - Ids kept per field and score bins.
 * @returns The profile (JSON-serializable).
 * @throws {@link CtrkitError} `E_INPUT` when batches differ in layout or scores do not match the rows.
 * @example
 * ```ts
 * import { profileFeatures, type FeatureBatch } from '@ctrkit/core';
 * declare const training: FeatureBatch;
 * const profile = profileFeatures([training]);
 * ```
 */
export function profileFeatures(batches: Iterable<FeatureBatch>, scores?: ArrayLike<number>, options: ProfileOptions = {}): FeatureProfile {
  const { topK = 20, scoreBins = 10 } = options;
  ensure(Number.isInteger(topK) && topK > 0, 'E_CONFIG', () => `topK must be a positive integer, got ${topK}`);
  ensure(Number.isInteger(scoreBins) && scoreBins > 1, 'E_CONFIG', () => `scoreBins must be an integer > 1, got ${scoreBins}`);
  let fingerprint: string | undefined;
  let columns: { name: string; offset: number; width: number }[] = [];
  let counts: Map<number, number>[] = [];
  let totals: number[] = [];
  let rows = 0;
  for (const batch of batches) {
    if (fingerprint === undefined) {
      fingerprint = batch.layout.fingerprint;
      columns = fieldColumns(batch);
      counts = columns.map(() => new Map());
      totals = columns.map(() => 0);
    } else if (batch.layout.fingerprint !== fingerprint) {
      throw new CtrkitError('E_INPUT', `profileFeatures: batches have different layouts (${fingerprint} vs ${batch.layout.fingerprint})`);
    }
    const width = batch.layout.idWidth;
    for (let r = 0; r < batch.rows; r++) {
      columns.forEach((column, f) => {
        const map = counts[f] as Map<number, number>;
        for (let c = 0; c < column.width; c++) {
          const cell = r * width + column.offset + c;
          if (batch.values[cell] === 0) continue;
          const id = batch.ids[cell] as number;
          map.set(id, (map.get(id) ?? 0) + 1);
          totals[f] = (totals[f] as number) + 1;
        }
      });
    }
    rows += batch.rows;
  }
  const fields = columns.map((column, f) => {
    const total = totals[f] as number;
    const top = [...(counts[f] as Map<number, number>).entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topK);
    const shares = top.map(([, n]) => (total === 0 ? 0 : n / total));
    const kept = shares.reduce((s, v) => s + v, 0);
    return { field: column.name, ids: top.map(([id]) => id), shares, otherShare: total === 0 ? 0 : Math.max(0, 1 - kept) };
  });
  let scoreEdges: number[] = [];
  let scoreShares: number[] = [];
  if (scores !== undefined) {
    ensure(scores.length === rows, 'E_INPUT', () => `profileFeatures: ${scores.length} scores for ${rows} rows`);
    const sorted = Float64Array.from(scores).sort();
    const edges = new Set<number>();
    for (let b = 1; b < scoreBins; b++) edges.add(sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / scoreBins))] as number);
    scoreEdges = [...edges].sort((a, b) => a - b);
    scoreShares = shareByEdges(scores, scoreEdges);
  }
  return { rows, fields, scoreEdges, scoreShares };
}

function binOf(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value >= (edges[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function shareByEdges(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const bin = binOf(edges, values[i] as number);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts.map((n) => (values.length === 0 ? 0 : n / values.length));
}

/** Drift of one field, or of the predictions.
 *
 * @example
 * ```ts
 * import type { DriftEntry } from '@ctrkit/core';
 * const entry: DriftEntry = { field: 'user_device', psi: 0.02, observations: 1_000 };
 * ```
 */
export interface DriftEntry {
  /** Field name (`prediction` for the score distribution). */
  readonly field: string;
  /** Population stability index against the profile. */
  readonly psi: number;
  /** Values observed since the last reset. */
  readonly observations: number;
}

/**
 * Measures, at serving time, how far traffic has moved from a {@link FeatureProfile}.
 *
 * @example
 * ```ts
 * import { createDriftMonitor, type FeatureBatch, type FeatureProfile } from '@ctrkit/core';
 * declare const profile: FeatureProfile;
 * declare const batch: FeatureBatch;
 * const drift = createDriftMonitor(profile);
 * drift.observe(batch, new Float32Array(batch.rows));
 * console.log(drift.report());
 * ```
 */
export interface DriftMonitor {
  /** Counts the ids of a served batch and, optionally, its scores. */
  observe(batch: FeatureBatch, scores?: ArrayLike<number>): void;
  /** PSI per field, then `prediction` when the profile has score bins. */
  report(): DriftEntry[];
  /** Starts a new observation period. */
  reset(): void;
}

/**
 * Creates a {@link DriftMonitor} for a profile.
 *
 * @param profile - The training-time profile (from the model manifest).
 * @returns A monitor; `observe` costs one map lookup per id column per row.
 * @throws {@link CtrkitError} `E_INPUT` when a profile field's ids and shares differ in length.
 * @example
 * ```ts
 * import { createDriftMonitor } from '@ctrkit/core';
 * const drift = createDriftMonitor({ rows: 10, fields: [], scoreEdges: [0.5], scoreShares: [0.5, 0.5] });
 * drift.reset();
 * ```
 */
export function createDriftMonitor(profile: FeatureProfile): DriftMonitor {
  for (const field of profile.fields) {
    ensure(field.ids.length === field.shares.length, 'E_INPUT', () => `profile field ${field.field}: ids and shares differ in length`);
  }
  const indexes = profile.fields.map((field) => new Map(field.ids.map((id, i) => [id, i])));
  const counts = profile.fields.map((field) => new Float64Array(field.ids.length + 1));
  const totals = new Float64Array(profile.fields.length);
  const scoreCounts = new Float64Array(profile.scoreEdges.length + 1);
  let scoreTotal = 0;
  let columnsFor: { offset: number; width: number }[] | undefined;
  let fingerprint: string | undefined;

  return {
    observe(batch, scores) {
      if (fingerprint !== batch.layout.fingerprint) {
        fingerprint = batch.layout.fingerprint;
        const byName = new Map(batch.layout.fields.map((f) => [f.name, f]));
        columnsFor = profile.fields.map((field) => {
          const slot = byName.get(field.field);
          return slot === undefined ? { offset: 0, width: 0 } : { offset: slot.offset, width: slot.width };
        });
      }
      const columns = columnsFor as { offset: number; width: number }[];
      const width = batch.layout.idWidth;
      for (let f = 0; f < columns.length; f++) {
        const { offset, width: span } = columns[f] as { offset: number; width: number };
        const index = indexes[f] as Map<number, number>;
        const count = counts[f] as Float64Array;
        const other = count.length - 1;
        for (let r = 0; r < batch.rows; r++) {
          for (let c = 0; c < span; c++) {
            const cell = r * width + offset + c;
            if (batch.values[cell] === 0) continue;
            const bin = index.get(batch.ids[cell] as number) ?? other;
            count[bin] = (count[bin] as number) + 1;
            totals[f] = (totals[f] as number) + 1;
          }
        }
      }
      if (scores !== undefined && profile.scoreEdges.length > 0) {
        for (let i = 0; i < scores.length; i++) {
          const s = scores[i] as number;
          if (s !== s) continue;
          const bin = binOf(profile.scoreEdges, s);
          scoreCounts[bin] = (scoreCounts[bin] as number) + 1;
          scoreTotal++;
        }
      }
    },
    report() {
      const entries: DriftEntry[] = profile.fields.map((field, f) => {
        const total = totals[f] as number;
        const count = counts[f] as Float64Array;
        const actual = Array.from(count, (n) => (total === 0 ? 0 : n / total));
        return {
          field: field.field,
          psi: total === 0 ? 0 : populationStabilityIndex([...field.shares, field.otherShare], actual),
          observations: total,
        };
      });
      if (profile.scoreEdges.length > 0) {
        const actual = Array.from(scoreCounts, (n) => (scoreTotal === 0 ? 0 : n / scoreTotal));
        entries.push({
          field: 'prediction',
          psi: scoreTotal === 0 ? 0 : populationStabilityIndex(profile.scoreShares, actual),
          observations: scoreTotal,
        });
      }
      return entries;
    },
    reset() {
      counts.forEach((c) => c.fill(0));
      totals.fill(0);
      scoreCounts.fill(0);
      scoreTotal = 0;
    },
  };
}
