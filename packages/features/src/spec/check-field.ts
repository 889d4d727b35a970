/**
 * Checking one field of a feature spec, and the helpers every spec check uses: each error names
 * the field, what is wrong and how to mend it (`E_SPEC`).
 *
 * @internal
 */
import { CtrkitError } from '@ctrkit/core';
import { closestMatch } from '@ctrkit/core/internal';
import type { Bucketize, CrossFieldSpec, FieldSource, FieldSpec, Normalize } from './field-spec.js';

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
  numeric: ['name', 'kind', 'source', 'path', 'column', 'bucketize'],
  dense: ['name', 'kind', 'source', 'path', 'column', 'normalize', 'clip', 'missingValue'],
  bag: ['name', 'kind', 'source', 'path', 'column', 'maxSize', 'combiner', 'item'],
  sequence: ['name', 'kind', 'source', 'path', 'column', 'maxLength', 'item', 'sharesIdsWith'],
  cross: ['name', 'kind', 'of'],
};

/** An `E_SPEC` error, its message prefixed `feature spec: `. */
export function specError(message: string, details: Record<string, unknown> = {}): CtrkitError {
  return new CtrkitError('E_SPEC', `feature spec: ${message}`, { details });
}

/** Whether a value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `'<nearest>'`, or the list of every option when none is near: for "use …" in a message. */
export function suggest(word: string, options: readonly string[]): string {
  const near = closestMatch(word, options);
  return near === undefined ? `one of ${options.map((o) => `'${o}'`).join(', ')}` : `'${near}'`;
}

/** Throws `E_SPEC` for a property of `raw` outside `allowed`, with the nearest allowed one. */
export function checkKeys(where: string, raw: Record<string, unknown>, allowed: readonly string[]): void {
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

/** `value` when it is an integer in [lo, hi]; throws `E_SPEC` naming `where.what` otherwise. */
export function integerIn(where: string, value: unknown, what: string, lo: number, hi: number): number {
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
      throw specError(`${where} reads the store, whose counters are numbers; use kind 'numeric' (bucketized) or 'dense'`);
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

function checkBucketize(where: string, raw: unknown): Bucketize {
  if (!isRecord(raw)) {
    throw specError(`${where}.bucketize is required for kind 'numeric': give { "boundaries": [..] } or { "rule": "criteo-log" } (or use kind 'dense')`);
  }
  if ('rule' in raw) {
    checkKeys(`${where}.bucketize`, raw, ['rule']);
    if (raw.rule !== 'criteo-log') throw specError(`${where}.bucketize.rule must be 'criteo-log', got ${JSON.stringify(raw.rule)}`);
    return { rule: 'criteo-log' };
  }
  checkKeys(`${where}.bucketize`, raw, ['boundaries']);
  const boundaries = raw.boundaries;
  if (!Array.isArray(boundaries) || boundaries.length === 0 || boundaries.length > 4096) {
    throw specError(`${where}.bucketize.boundaries must be a list of 1 to 4096 increasing numbers`);
  }
  for (let i = 0; i < boundaries.length; i++) {
    const b = boundaries[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) throw specError(`${where}.bucketize.boundaries[${i}] must be a finite number, got ${JSON.stringify(b)}`);
    if (i > 0 && b <= (boundaries[i - 1] as number)) {
      throw specError(`${where}.bucketize.boundaries must be strictly increasing, but ${b} follows ${boundaries[i - 1]} at index ${i}; sort them and drop duplicates`);
    }
  }
  return { boundaries: Object.freeze([...(boundaries as number[])]) };
}

function checkNormalize(where: string, raw: unknown): Normalize {
  if (raw === undefined) return { method: 'none' };
  if (!isRecord(raw)) throw specError(`${where}.normalize must be an object such as { "method": "standard", "mean": 0, "std": 1 }`);
  switch (raw.method) {
    case 'none':
    case 'log1p':
      checkKeys(`${where}.normalize`, raw, ['method']);
      return { method: raw.method };
    case 'standard': {
      checkKeys(`${where}.normalize`, raw, ['method', 'mean', 'std']);
      const mean = finiteNumber(`${where}.normalize`, raw.mean, 'mean');
      const std = finiteNumber(`${where}.normalize`, raw.std, 'std');
      if (std <= 0) throw specError(`${where}.normalize.std must be positive, got ${std}`);
      return { method: 'standard', mean, std };
    }
    case 'minmax': {
      checkKeys(`${where}.normalize`, raw, ['method', 'min', 'max']);
      const min = finiteNumber(`${where}.normalize`, raw.min, 'min');
      const max = finiteNumber(`${where}.normalize`, raw.max, 'max');
      if (max <= min) throw specError(`${where}.normalize needs max > min, got min ${min}, max ${max}`);
      return { method: 'minmax', min, max };
    }
    default:
      throw specError(`${where}.normalize.method must be 'none', 'standard', 'minmax' or 'log1p', got ${JSON.stringify(raw.method)}`);
  }
}

function checkItem(where: string, raw: Record<string, unknown>, path: string): (typeof ITEMS)[number] | undefined {
  if (raw.item === undefined) {
    if (path === 'history') throw specError(`${where} reads 'history' (behavior events); set item to one of ${ITEMS.join(', ')}`);
    return undefined;
  }
  if (!ITEMS.includes(raw.item as (typeof ITEMS)[number])) throw specError(`${where}.item must be one of ${ITEMS.join(', ')}, got ${JSON.stringify(raw.item)}`);
  if (path !== 'history' && !path.startsWith('attributes.')) throw specError(`${where}.item only applies to 'history'; remove it`);
  return raw.item as (typeof ITEMS)[number];
}

/** Checks `fields[index]` of a spec and fills in its defaults; the field, frozen. */
export function checkField(raw: unknown, index: number): FieldSpec {
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
      return Object.freeze({ ...base, kind: 'numeric', bucketize: Object.freeze(checkBucketize(where, raw.bucketize)) });
    case 'dense': {
      const normalize = Object.freeze(checkNormalize(where, raw.normalize));
      let clip: readonly [number, number] | undefined;
      if (raw.clip !== undefined) {
        if (!Array.isArray(raw.clip) || raw.clip.length !== 2) throw specError(`${where}.clip must be [lo, hi]`);
        const lo = finiteNumber(where, raw.clip[0], 'clip[0]');
        const hi = finiteNumber(where, raw.clip[1], 'clip[1]');
        if (hi <= lo) throw specError(`${where}.clip needs lo < hi, got [${lo}, ${hi}]`);
        clip = Object.freeze([lo, hi] as const);
      }
      const missingValue = raw.missingValue === undefined ? 0 : finiteNumber(where, raw.missingValue, 'missingValue');
      return Object.freeze({ ...base, kind: 'dense', normalize, ...(clip ? { clip } : {}), missingValue });
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
