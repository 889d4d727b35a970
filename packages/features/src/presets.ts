/**
 * Ready-made specs for well-known logs, so training scripts and servers agree on them.
 */
import { CtrkitError } from '@ctrkit/core';
import { CRITEO_CATEGORICAL_COLUMNS, CRITEO_INTEGER_COLUMNS } from './readers.js';
import type { FeatureSpecJSON, FieldSpec } from './spec.js';

/** Options for {@link criteoSpec}.
 *
 * @example
 * ```ts
 * import type { CriteoSpecOptions } from '@ctrkit/features';
 * const options: CriteoSpecOptions = { idSpace: 1 << 20, crosses: [['C1', 'C2']] };
 * ```
 */
export interface CriteoSpecOptions {
  /** Size of the id space (default 2^20). */
  readonly idSpace?: number;
  /** The murmur3 seed (default 0). */
  readonly seed?: number;
  /** Crosses of two or three Criteo columns, named `A_x_B[_x_C]`. */
  readonly crosses?: readonly (readonly string[])[];
}

/**
 * The spec for Criteo logs: `I1`–`I13` bucketised by the Criteo log rule, `C1`–`C26` hashed,
 * plus optional crosses. In requests the values sit in `context.attributes` under the same names.
 *
 * @param options - Id space, seed and crosses.
 * @returns The spec's JSON form (pass it to `parseFeatureSpec` or `createFeatureEncoder`).
 * @throws `CtrkitError` `E_CONFIG` when a cross names something other than `I1`–`I13` / `C1`–`C26`.
 * @example
 * ```ts
 * import { createFeatureEncoder, criteoSpec } from '@ctrkit/features';
 * const encoder = createFeatureEncoder(criteoSpec({ crosses: [['C1', 'C2'], ['I1', 'C3']] }));
 * console.log(encoder.layout.idWidth); // 41
 * ```
 */
export function criteoSpec(options: CriteoSpecOptions = {}): FeatureSpecJSON {
  const known = new Set([...CRITEO_INTEGER_COLUMNS, ...CRITEO_CATEGORICAL_COLUMNS]);
  const fields: FieldSpec[] = [
    ...CRITEO_INTEGER_COLUMNS.map((name): FieldSpec => ({ name, kind: 'numeric', source: 'context', path: `attributes.${name}`, bucketise: { rule: 'criteo-log' } })),
    ...CRITEO_CATEGORICAL_COLUMNS.map((name): FieldSpec => ({ name, kind: 'categorical', source: 'context', path: `attributes.${name}` })),
  ];
  for (const cross of options.crosses ?? []) {
    for (const part of cross) {
      if (!known.has(part)) throw new CtrkitError('E_CONFIG', `criteoSpec: cross part '${part}' is not a Criteo column; use I1–I13 or C1–C26`);
    }
    fields.push({ name: cross.join('_x_'), kind: 'cross', of: cross as unknown as readonly [string, string] });
  }
  return { version: 1, name: 'criteo', seed: options.seed ?? 0, idSpace: options.idSpace ?? 1 << 20, fields };
}
