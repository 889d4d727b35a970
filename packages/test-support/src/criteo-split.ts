import { sharedDataFile } from './shared-data.js';

/**
 * The real Criteo sample the tests learn and score, and the split every test uses: the first
 * 8,000 rows (in time order) to train, the last 2,000 to test (the shared data's README quotes
 * AUC figures for this split).
 */
export const CRITEO_SPLIT = {
  /** The file under `../shared/data`. */
  file: 'criteo/train_10k.tsv',
  /** Rows in the file. */
  rows: 10_000,
  /** Rows 1–8,000 train. */
  trainRows: 8_000,
  /** Rows 8,001–10,000 test. */
  testRows: 2_000,
} as const;

/**
 * The Criteo sample's path, under the skip-or-fail rule of `needs` (see {@link sharedDataFile}).
 *
 * @param forWhat - Which tests read it (shown in the skip line).
 * @returns Its absolute path, or `undefined` when absent (the caller skips the tests that read it).
 * @throws Error when it is absent and `CI` is set.
 * @example
 * ```ts
 * import { CRITEO_SPLIT, criteoSampleFile } from '@ctrkit/test-support';
 * const file = criteoSampleFile('models: trainers learn the real Criteo sample');
 * if (file !== undefined) console.log(`train on the first ${CRITEO_SPLIT.trainRows} rows of ${file}`);
 * ```
 */
export function criteoSampleFile(forWhat: string): string | undefined {
  return sharedDataFile(CRITEO_SPLIT.file, forWhat);
}
