import type { Parameters } from 'fast-check';

/**
 * Options for `fc.assert` shared by the pacing property suites: `CTRKIT_PROPERTY_RUNS` overrides
 * every property's run count (CI raises it), `CTRKIT_PROPERTY_SEED` replays one failing seed.
 * fast-check's failure message carries the seed and path; nothing here catches it.
 *
 * @param numRuns - The property's default run count, sized to its cost.
 * @param extra - Further parameters, e.g. `examples` that once failed.
 * @returns Parameters for `fc.assert`.
 */
export function propertyOptions<T>(numRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  const runs = Number(process.env.CTRKIT_PROPERTY_RUNS);
  const seed = Number(process.env.CTRKIT_PROPERTY_SEED);
  return {
    ...extra,
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : numRuns,
    ...(process.env.CTRKIT_PROPERTY_SEED !== undefined && Number.isInteger(seed) ? { seed } : {}),
  };
}
