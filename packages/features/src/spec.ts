/**
 * The feature spec: a versioned JSON document that says how a request (or a log row) becomes
 * ids and dense values. Validated once, here, with errors that name the field and the fix; the
 * encoder never checks the spec again.
 */
import { CtrkitError, type FeatureLayout, type FieldSlot, type SequenceSlot } from '@ctrkit/core';
import { closestMatch } from '@ctrkit/core/internal';
import { murmur3 } from './hash.js';

/** Where a field's value comes from: the request's user, its context, each candidate, or the feature store's lookup.
 *
 * @example
 * ```ts
 * import type { FieldSource } from '@ctrkit/features';
 * const source: FieldSource = 'candidate';
 * ```
 */
export type FieldSource = 'user' | 'context' | 'candidate' | 'store';

/** How a numeric field becomes a bucket id.
 *
 * - `{ boundaries: [b0, b1, …] }` — bucket `i` is the number of boundaries ≤ x (so x < b0 is 0).
 * - `{ rule: 'criteo-log' }` — the Criteo rule `x > 2 ? ⌊ln(x)²⌋ : x`: token `⌊ln(x)²⌋` above 2,
 *   and `SP⌊x⌋` at or below 2 (the `SP` prefix keeps 1 and ⌊ln 3²⌋ = 1 apart, as in the
 *   challenge winners' code).
 *
 * @example
 * ```ts
 * import type { Bucketise } from '@ctrkit/features';
 * const byAge: Bucketise = { boundaries: [18, 25, 35, 45, 55, 65] };
 * const criteo: Bucketise = { rule: 'criteo-log' };
 * ```
 */
export type Bucketise = { readonly boundaries: readonly number[] } | { readonly rule: 'criteo-log' };

/** How a dense field is scaled.
 *
 * @example
 * ```ts
 * import type { Normalise } from '@ctrkit/features';
 * const z: Normalise = { method: 'standard', mean: 35, std: 12 };
 * ```
 */
export type Normalise =
  | { readonly method: 'none' }
  | { readonly method: 'standard'; readonly mean: number; readonly std: number }
  | { readonly method: 'minmax'; readonly min: number; readonly max: number }
  | { readonly method: 'log1p' };

/** Properties every field has.
 *
 * @example
 * ```ts
 * import type { FieldBase } from '@ctrkit/features';
 * const base: FieldBase = { name: 'user_country' };
 * ```
 */
export interface FieldBase {
  /** Unique name: letters, digits, `_ . : -`, starting with a letter or `_`. It is part of every hash key. */
  readonly name: string;
}

/** Properties of a field read from the request or a log row.
 *
 * @example
 * ```ts
 * import type { SourcedField } from '@ctrkit/features';
 * const sourced: SourcedField = { name: 'country', source: 'user', path: 'country' };
 * ```
 */
export interface SourcedField extends FieldBase {
  /** Which part of the request holds the value. */
  readonly source: FieldSource;
  /**
   * The property within the source (`country`, `attributes.segment`, …), or for `store` fields
   * the counter name (`ad.ctr.7d`). Context also offers `slotPosition` (the position of the
   * request's first slot: serve with the slot being filled, train with the slot shown), and `hourOfDay` and `dayOfWeek` (local time,
   * from `timestamp` and `timezoneOffsetMinutes`).
   */
  readonly path: string;
  /** The column of a log file that holds the value (default: the field's name). */
  readonly column?: string;
}

/** A single categorical value (string, number or boolean), hashed.
 *
 * @example
 * ```ts
 * import type { CategoricalFieldSpec } from '@ctrkit/features';
 * const field: CategoricalFieldSpec = { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' };
 * ```
 */
export interface CategoricalFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'categorical';
}

/** A number cut into buckets, each bucket an id.
 *
 * @example
 * ```ts
 * import type { NumericFieldSpec } from '@ctrkit/features';
 * const field: NumericFieldSpec = { name: 'I1', kind: 'numeric', source: 'context', path: 'attributes.I1', bucketise: { rule: 'criteo-log' } };
 * ```
 */
export interface NumericFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'numeric';
  /** How values become buckets. */
  readonly bucketise: Bucketise;
}

/** A number kept as a real value in the dense block, clipped then normalised.
 *
 * @example
 * ```ts
 * import type { DenseFieldSpec } from '@ctrkit/features';
 * const field: DenseFieldSpec = { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalise: { method: 'log1p' } };
 * ```
 */
export interface DenseFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'dense';
  /** Scaling (default none). */
  readonly normalise?: Normalise;
  /** Clip to [lo, hi] before normalising. */
  readonly clip?: readonly [number, number];
  /** The value written when the field is missing (default 0), after normalisation. */
  readonly missingValue?: number;
}

/** A multi-valued field (interests, keywords): up to `maxSize` ids, padded.
 *
 * @example
 * ```ts
 * import type { BagFieldSpec } from '@ctrkit/features';
 * const field: BagFieldSpec = { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 8, combiner: 'mean' };
 * ```
 */
export interface BagFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'bag';
  /** Columns the bag takes; longer bags keep their first `maxSize` values (counted as truncated). */
  readonly maxSize: number;
  /** Weight of each present id: 1 (`sum`, default) or 1/n (`mean`). Padding weighs 0. */
  readonly combiner?: 'sum' | 'mean';
  /** For arrays of behaviour events (`history`): which property is the value. */
  readonly item?: 'action' | 'item' | 'category' | 'brand';
}

/** A behaviour sequence (most recent last), fixed length, left-padded, with its real length as mask.
 *
 * @example
 * ```ts
 * import type { SequenceFieldSpec } from '@ctrkit/features';
 * const field: SequenceFieldSpec = {
 *   name: 'history_category', kind: 'sequence', source: 'user', path: 'history',
 *   item: 'category', maxLength: 20, sharesIdsWith: 'ad_category',
 * };
 * ```
 */
export interface SequenceFieldSpec extends SourcedField {
  /** Discriminant. */
  readonly kind: 'sequence';
  /** Items kept (the most recent). */
  readonly maxLength: number;
  /** For arrays of behaviour events (`history`): which property is the item. */
  readonly item?: 'action' | 'item' | 'category' | 'brand';
  /** A categorical field whose hash keys the items use, so a model can compare them (DIN attention). */
  readonly sharesIdsWith?: string;
}

/** A cross of two or three single-valued fields, hashed as one value.
 *
 * @example
 * ```ts
 * import type { CrossFieldSpec } from '@ctrkit/features';
 * const field: CrossFieldSpec = { name: 'user_x_category', kind: 'cross', of: ['user_id', 'ad_category'] };
 * ```
 */
export interface CrossFieldSpec extends FieldBase {
  /** Discriminant. */
  readonly kind: 'cross';
  /** The fields crossed (categorical or numeric), in key order. */
  readonly of: readonly [string, string] | readonly [string, string, string];
}

/** Any field of a spec.
 *
 * @example
 * ```ts
 * import type { FieldSpec } from '@ctrkit/features';
 * const fields: FieldSpec[] = [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }];
 * ```
 */
export type FieldSpec = CategoricalFieldSpec | NumericFieldSpec | DenseFieldSpec | BagFieldSpec | SequenceFieldSpec | CrossFieldSpec;

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

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
const SOURCES: readonly FieldSource[] = ['user', 'context', 'candidate', 'store'];
const KINDS = ['categorical', 'numeric', 'dense', 'bag', 'sequence', 'cross'] as const;

/** Scalar and list properties of each source, for path checks (`attributes.<name>` is always allowed). */
const SCALAR_PATHS: Readonly<Record<Exclude<FieldSource, 'store'>, readonly string[]>> = {
  user: ['id', 'age', 'gender', 'country', 'region', 'city', 'device', 'os', 'language'],
  context: ['timestamp', 'publisherId', 'domain', 'pageCategory', 'connection', 'timezoneOffsetMinutes', 'hourOfDay', 'dayOfWeek', 'slotPosition'],
  candidate: ['adId', 'advertiserId', 'campaignId', 'format', 'category', 'bid', 'bidType', 'domain', 'creativeId', 'quality', 'pCvr'],
};
const LIST_PATHS: Readonly<Record<Exclude<FieldSource, 'store'>, readonly string[]>> = {
  user: ['interests', 'segments', 'history'],
  context: ['keywords'],
  candidate: [],
};
const ITEMS = ['action', 'item', 'category', 'brand'] as const;

const ALLOWED_KEYS: Readonly<Record<FieldSpec['kind'], readonly string[]>> = {
  categorical: ['name', 'kind', 'source', 'path', 'column'],
  numeric: ['name', 'kind', 'source', 'path', 'column', 'bucketise'],
  dense: ['name', 'kind', 'source', 'path', 'column', 'normalise', 'clip', 'missingValue'],
  bag: ['name', 'kind', 'source', 'path', 'column', 'maxSize', 'combiner', 'item'],
  sequence: ['name', 'kind', 'source', 'path', 'column', 'maxLength', 'item', 'sharesIdsWith'],
  cross: ['name', 'kind', 'of'],
};

function specError(message: string, details: Record<string, unknown> = {}): CtrkitError {
  return new CtrkitError('E_SPEC', `feature spec: ${message}`, { details });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function suggest(word: string, options: readonly string[]): string {
  const near = closestMatch(word, options);
  return near === undefined ? `one of ${options.map((o) => `'${o}'`).join(', ')}` : `'${near}'`;
}

function checkKeys(where: string, raw: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw specError(`${where} has an unknown property '${key}'; use ${suggest(key, allowed)} or remove it`, { property: key });
    }
  }
}

function finiteNumber(where: string, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw specError(`${where}.${what} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function integerIn(where: string, value: unknown, what: string, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw specError(`${where}.${what} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkPath(where: string, source: FieldSource, path: unknown, kind: FieldSpec['kind']): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw specError(`${where}.path must be a non-empty string naming the value within '${source}', got ${JSON.stringify(path)}`);
  }
  if (source === 'store') {
    if (kind !== 'numeric' && kind !== 'dense') {
      throw specError(`${where} reads the store, whose counters are numbers; use kind 'numeric' (bucketised) or 'dense'`);
    }
    return path;
  }
  const list = kind === 'bag' || kind === 'sequence';
  if (path.startsWith('attributes.')) {
    if (path.length === 'attributes.'.length) throw specError(`${where}.path 'attributes.' needs an attribute name after the dot`);
    return path;
  }
  const scalars = SCALAR_PATHS[source];
  const lists = LIST_PATHS[source];
  if (list && lists.includes(path)) return path;
  if (!list && scalars.includes(path)) return path;
  if (list && scalars.includes(path)) {
    throw specError(`${where}.path '${path}' holds a single value, but kind '${kind}' needs a list; use kind 'categorical' or a list path (${lists.join(', ') || 'attributes.<name>'})`);
  }
  if (!list && lists.includes(path)) {
    throw specError(`${where}.path '${path}' holds a list; use kind 'bag' or 'sequence' for it`);
  }
  const options = [...(list ? lists : scalars), 'attributes.<name>'];
  throw specError(`${where}.path '${path}' is not a property of '${source}'; use ${suggest(path, options)}`, { path });
}

function checkBucketise(where: string, raw: unknown): Bucketise {
  if (!isRecord(raw)) {
    throw specError(`${where}.bucketise is required for kind 'numeric': give { "boundaries": [..] } or { "rule": "criteo-log" } (or use kind 'dense')`);
  }
  if ('rule' in raw) {
    checkKeys(`${where}.bucketise`, raw, ['rule']);
    if (raw.rule !== 'criteo-log') throw specError(`${where}.bucketise.rule must be 'criteo-log', got ${JSON.stringify(raw.rule)}`);
    return { rule: 'criteo-log' };
  }
  checkKeys(`${where}.bucketise`, raw, ['boundaries']);
  const boundaries = raw.boundaries;
  if (!Array.isArray(boundaries) || boundaries.length === 0 || boundaries.length > 4096) {
    throw specError(`${where}.bucketise.boundaries must be a list of 1 to 4096 increasing numbers`);
  }
  for (let i = 0; i < boundaries.length; i++) {
    const b = boundaries[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) throw specError(`${where}.bucketise.boundaries[${i}] must be a finite number, got ${JSON.stringify(b)}`);
    if (i > 0 && b <= (boundaries[i - 1] as number)) {
      throw specError(`${where}.bucketise.boundaries must be strictly increasing, but ${b} follows ${boundaries[i - 1]} at index ${i}; sort them and drop duplicates`);
    }
  }
  return { boundaries: Object.freeze([...(boundaries as number[])]) };
}

function checkNormalise(where: string, raw: unknown): Normalise {
  if (raw === undefined) return { method: 'none' };
  if (!isRecord(raw)) throw specError(`${where}.normalise must be an object such as { "method": "standard", "mean": 0, "std": 1 }`);
  switch (raw.method) {
    case 'none':
    case 'log1p':
      checkKeys(`${where}.normalise`, raw, ['method']);
      return { method: raw.method };
    case 'standard': {
      checkKeys(`${where}.normalise`, raw, ['method', 'mean', 'std']);
      const mean = finiteNumber(`${where}.normalise`, raw.mean, 'mean');
      const std = finiteNumber(`${where}.normalise`, raw.std, 'std');
      if (std <= 0) throw specError(`${where}.normalise.std must be positive, got ${std}`);
      return { method: 'standard', mean, std };
    }
    case 'minmax': {
      checkKeys(`${where}.normalise`, raw, ['method', 'min', 'max']);
      const min = finiteNumber(`${where}.normalise`, raw.min, 'min');
      const max = finiteNumber(`${where}.normalise`, raw.max, 'max');
      if (max <= min) throw specError(`${where}.normalise needs max > min, got min ${min}, max ${max}`);
      return { method: 'minmax', min, max };
    }
    default:
      throw specError(`${where}.normalise.method must be 'none', 'standard', 'minmax' or 'log1p', got ${JSON.stringify(raw.method)}`);
  }
}

function checkItem(where: string, raw: Record<string, unknown>, path: string): (typeof ITEMS)[number] | undefined {
  if (raw.item === undefined) {
    if (path === 'history') throw specError(`${where} reads 'history' (behaviour events); set item to one of ${ITEMS.join(', ')}`);
    return undefined;
  }
  if (!ITEMS.includes(raw.item as (typeof ITEMS)[number])) throw specError(`${where}.item must be one of ${ITEMS.join(', ')}, got ${JSON.stringify(raw.item)}`);
  if (path !== 'history' && !path.startsWith('attributes.')) throw specError(`${where}.item only applies to 'history'; remove it`);
  return raw.item as (typeof ITEMS)[number];
}

function checkField(raw: unknown, index: number): FieldSpec {
  let where = `fields[${index}]`;
  if (!isRecord(raw)) throw specError(`${where} must be an object with name, kind and source`);
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
    throw specError(`${where}.name must match ${String(NAME)} (letters, digits, _ . : -), got ${JSON.stringify(raw.name)}`);
  }
  const name = raw.name;
  where = `fields[${index}] ('${name}')`;
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw specError(`${where}.kind must be ${suggest(String(kind), KINDS)}, got ${JSON.stringify(kind)}`);
  }
  const k = kind as FieldSpec['kind'];
  checkKeys(where, raw, ALLOWED_KEYS[k]);
  if (k === 'cross') {
    const of = raw.of;
    if (!Array.isArray(of) || of.length < 2 || of.length > 3 || !of.every((f) => typeof f === 'string')) {
      throw specError(`${where}.of must list two or three field names, got ${JSON.stringify(of)}`);
    }
    if (new Set(of).size !== of.length) throw specError(`${where}.of names a field twice; list distinct fields`);
    return Object.freeze({ name, kind: 'cross', of: Object.freeze([...of]) as unknown as CrossFieldSpec['of'] });
  }
  const source = raw.source as FieldSource;
  if (!SOURCES.includes(source)) throw specError(`${where}.source must be ${suggest(String(source), SOURCES)}, got ${JSON.stringify(raw.source)}`);
  const path = checkPath(where, source, raw.path, k);
  let column = name;
  if (raw.column !== undefined) {
    if (typeof raw.column !== 'string' || raw.column.length === 0) throw specError(`${where}.column must be a non-empty string naming a log column`);
    column = raw.column;
  }
  const base = { name, source, path, column };
  switch (k) {
    case 'categorical':
      if (source === 'store') throw specError(`${where} reads the store, whose counters are numbers; use kind 'numeric' or 'dense'`);
      return Object.freeze({ ...base, kind: 'categorical' });
    case 'numeric':
      return Object.freeze({ ...base, kind: 'numeric', bucketise: Object.freeze(checkBucketise(where, raw.bucketise)) });
    case 'dense': {
      const normalise = Object.freeze(checkNormalise(where, raw.normalise));
      let clip: readonly [number, number] | undefined;
      if (raw.clip !== undefined) {
        if (!Array.isArray(raw.clip) || raw.clip.length !== 2) throw specError(`${where}.clip must be [lo, hi]`);
        const lo = finiteNumber(where, raw.clip[0], 'clip[0]');
        const hi = finiteNumber(where, raw.clip[1], 'clip[1]');
        if (hi <= lo) throw specError(`${where}.clip needs lo < hi, got [${lo}, ${hi}]`);
        clip = Object.freeze([lo, hi] as const);
      }
      const missingValue = raw.missingValue === undefined ? 0 : finiteNumber(where, raw.missingValue, 'missingValue');
      return Object.freeze({ ...base, kind: 'dense', normalise, ...(clip ? { clip } : {}), missingValue });
    }
    case 'bag': {
      if (source === 'store') throw specError(`${where} reads the store, which has no lists; use kind 'numeric' or 'dense'`);
      const maxSize = integerIn(where, raw.maxSize, 'maxSize', 1, 1024);
      const combiner = raw.combiner ?? 'sum';
      if (combiner !== 'sum' && combiner !== 'mean') throw specError(`${where}.combiner must be 'sum' or 'mean', got ${JSON.stringify(raw.combiner)}`);
      const item = checkItem(where, raw, path);
      return Object.freeze({ ...base, kind: 'bag', maxSize, combiner, ...(item ? { item } : {}) });
    }
    case 'sequence': {
      if (source === 'store') throw specError(`${where} reads the store, which has no sequences`);
      const maxLength = integerIn(where, raw.maxLength, 'maxLength', 1, 4096);
      const item = checkItem(where, raw, path);
      let sharesIdsWith: string | undefined;
      if (raw.sharesIdsWith !== undefined) {
        if (typeof raw.sharesIdsWith !== 'string') throw specError(`${where}.sharesIdsWith must name a categorical field`);
        sharesIdsWith = raw.sharesIdsWith;
      }
      return Object.freeze({ ...base, kind: 'sequence', maxLength, ...(item ? { item } : {}), ...(sharesIdsWith ? { sharesIdsWith } : {}) });
    }
  }
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
        slots.push(Object.freeze({ name: field.name, kind: field.source === 'store' ? 'store' : 'bucketised', offset, width: 1 }));
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
