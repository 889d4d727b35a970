/**
 * The feature spec: a versioned JSON document that says how a request (or a log row) becomes
 * ids and dense values. Validated once, here, with errors that name the field and the fix; the
 * encoder never checks the spec again. The fields' types are in spec/field-spec.ts, the check of
 * one field in spec/check-field.ts.
 */
import { CtrkitError, type FeatureLayout, type FieldSlot, type SequenceSlot } from '@ctrkit/core';
import { murmur3 } from './hash.js';
import { checkField, checkKeys, integerIn, isRecord, specError, suggest } from './spec/check-field.js';
import type { FieldSpec } from './spec/field-spec.js';

/** The JSON document a spec is written as.
 *
 * @example
 * ```ts
 * import type { FeatureSpecJSON } from '@ctrkit/features';
 * const json: FeatureSpecJSON = {
 *   version: 1, name: 'demo', seed: 7, idSpace: 1 << 20,
 *   fields: [{ name: 'country', kind: 'categorical', source: 'user', path: 'country' }],
 * };
 * ```
 */
export interface FeatureSpecJSON {
  /** Spec format version; this package reads version 1. */
  readonly version: 1;
  /** A label for people; not part of the fingerprint. */
  readonly name?: string;
  /** The murmur3 seed, an unsigned 32-bit integer (default 0). */
  readonly seed?: number;
  /** Ids lie in [0, idSpace); 0 is padding, so hashed ids are `1 + h mod (idSpace − 1)`. */
  readonly idSpace: number;
  /** The fields, in column order. */
  readonly fields: readonly FieldSpec[];
}

/** A validated spec: defaults filled in, frozen, with its fingerprint and batch layout.
 *
 * @example
 * ```ts
 * import { parseFeatureSpec, type FeatureSpec } from '@ctrkit/features';
 * const spec: FeatureSpec = parseFeatureSpec({ version: 1, idSpace: 1024, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * console.log(spec.fingerprint.length); // 32
 * ```
 */
export interface FeatureSpec {
  /** Spec format version. */
  readonly version: 1;
  /** The label, or `''`. */
  readonly name: string;
  /** The murmur3 seed. */
  readonly seed: number;
  /** Size of the id space. */
  readonly idSpace: number;
  /** The fields with defaults filled in. */
  readonly fields: readonly FieldSpec[];
  /** 32 hex digits identifying everything that changes the encoded bits. */
  readonly fingerprint: string;
  /** The shape of every batch this spec produces. */
  readonly layout: FeatureLayout;
}

/** Specs that came out of {@link parseFeatureSpec}, so the encoder need not validate them again. */
const validated = new WeakSet<object>();

/** @internal Whether a value is a spec returned by `parseFeatureSpec`. */
export function isValidatedSpec(value: unknown): value is FeatureSpec {
  return typeof value === 'object' && value !== null && validated.has(value);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function fingerprintOf(body: unknown): string {
  const text = canonical(body);
  let hex = '';
  for (const seed of [0x9747b28c, 0x5bd1e995, 0x1b873593, 0xcc9e2d51]) hex += murmur3(text, seed).toString(16).padStart(8, '0');
  return hex;
}

/**
 * Validates a spec and fills in its defaults, fingerprint and batch layout.
 *
 * @param input - The spec as JSON text or as a parsed object.
 * @returns A frozen {@link FeatureSpec}.
 * @throws `CtrkitError` `E_SPEC` naming the field, what is wrong with it and how to mend it
 *   (unknown property, bad path, unsorted boundaries, unknown cross component, …).
 * @example
 * ```ts
 * import { parseFeatureSpec } from '@ctrkit/features';
 * const spec = parseFeatureSpec({
 *   version: 1, seed: 1, idSpace: 1 << 18,
 *   fields: [
 *     { name: 'country', kind: 'categorical', source: 'user', path: 'country' },
 *     { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
 *     { name: 'country_x_category', kind: 'cross', of: ['country', 'ad_category'] },
 *   ],
 * });
 * console.log(spec.layout.idWidth); // 3
 * ```
 */
export function parseFeatureSpec(input: string | FeatureSpecJSON | Readonly<Record<string, unknown>>): FeatureSpec {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new CtrkitError('E_SPEC', `feature spec: not valid JSON (${(error as Error).message}); check the file`, { cause: error });
    }
  }
  if (!isRecord(raw)) throw specError('must be an object with version, idSpace and fields');
  checkKeys('the spec', raw, ['version', 'name', 'seed', 'idSpace', 'fields']);
  if (raw.version !== 1) {
    throw specError(`version must be 1 (the format this package reads), got ${JSON.stringify(raw.version)}; a newer spec needs a newer @ctrkit/features`);
  }
  const name = raw.name === undefined ? '' : raw.name;
  if (typeof name !== 'string') throw specError(`name must be a string, got ${JSON.stringify(raw.name)}`);
  const seed = raw.seed === undefined ? 0 : integerIn('the spec', raw.seed, 'seed', 0, 0xffffffff);
  const idSpace = integerIn('the spec', raw.idSpace, 'idSpace', 2, 0x7fffffff);
  if (!Array.isArray(raw.fields) || raw.fields.length === 0) throw specError('fields must be a non-empty list');
  const fields = raw.fields.map(checkField);

  const byName = new Map<string, FieldSpec>();
  for (const [i, field] of fields.entries()) {
    if (byName.has(field.name)) throw specError(`fields[${i}] reuses the name '${field.name}'; every field needs its own name (it is part of the hash key)`);
    byName.set(field.name, field);
  }
  for (const [i, field] of fields.entries()) {
    if (field.kind === 'cross') {
      for (const part of field.of) {
        const target = byName.get(part);
        if (target === undefined) {
          throw specError(`fields[${i}] ('${field.name}') crosses '${part}', which is not a field; use ${suggest(part, [...byName.keys()])}`);
        }
        if (target.kind !== 'categorical' && target.kind !== 'numeric') {
          throw specError(`fields[${i}] ('${field.name}') crosses '${part}' of kind '${target.kind}'; only categorical and numeric fields can be crossed`);
        }
      }
    }
    if (field.kind === 'sequence' && field.sharesIdsWith !== undefined) {
      const target = byName.get(field.sharesIdsWith);
      if (target === undefined || target.kind !== 'categorical') {
        throw specError(`fields[${i}] ('${field.name}').sharesIdsWith must name a categorical field, got '${field.sharesIdsWith}'`);
      }
    }
  }

  const slots: FieldSlot[] = [];
  const denseNames: string[] = [];
  const sequences: SequenceSlot[] = [];
  let offset = 0;
  for (const field of fields) {
    switch (field.kind) {
      case 'categorical':
      case 'cross':
        slots.push(Object.freeze({ name: field.name, kind: field.kind, offset, width: 1 }));
        offset += 1;
        break;
      case 'numeric':
        slots.push(Object.freeze({ name: field.name, kind: field.source === 'store' ? 'store' : 'bucketized', offset, width: 1 }));
        offset += 1;
        break;
      case 'bag':
        slots.push(Object.freeze({ name: field.name, kind: 'bag', offset, width: field.maxSize }));
        offset += field.maxSize;
        break;
      case 'dense':
        denseNames.push(field.name);
        break;
      case 'sequence':
        sequences.push(Object.freeze({ name: field.name, maxLength: field.maxLength, ...(field.sharesIdsWith ? { sharesIdsWith: field.sharesIdsWith } : {}) }));
        break;
    }
  }
  const frozenFields = Object.freeze(fields);
  const fingerprint = fingerprintOf({ version: 1, seed, idSpace, fields: frozenFields });
  const layout: FeatureLayout = Object.freeze({
    fingerprint,
    idSpace,
    idWidth: offset,
    fields: Object.freeze(slots),
    denseWidth: denseNames.length,
    denseNames: Object.freeze(denseNames),
    sequences: Object.freeze(sequences),
  });
  const spec: FeatureSpec = Object.freeze({ version: 1, name, seed, idSpace, fields: frozenFields, fingerprint, layout });
  validated.add(spec);
  return spec;
}

/**
 * Renders a spec back to its JSON form (defaults filled in), for saving beside a model.
 *
 * @param spec - A validated spec.
 * @returns JSON text that {@link parseFeatureSpec} turns into a spec with the same fingerprint.
 * @example
 * ```ts
 * import { parseFeatureSpec, featureSpecToJSON } from '@ctrkit/features';
 * const spec = parseFeatureSpec({ version: 1, idSpace: 64, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * console.log(parseFeatureSpec(featureSpecToJSON(spec)).fingerprint === spec.fingerprint); // true
 * ```
 */
export function featureSpecToJSON(spec: FeatureSpec): string {
  return JSON.stringify({ version: spec.version, ...(spec.name ? { name: spec.name } : {}), seed: spec.seed, idSpace: spec.idSpace, fields: spec.fields }, null, 2);
}
