/**
 * The compiled encoder: one kernel object per field, built once from a validated spec. Kernels
 * are specialised by kind (and numeric kernels by bucketing rule), so the loops below never
 * switch on a field's kind per row, and they write straight into the batch's typed arrays.
 *
 * @internal
 */
import { CtrkitError, type AdCandidate, type AdRequest, type FeatureBatch, type FeatureLayout, type StoreLookup } from '@ctrkit/core';
import { hashAfter, hashAfter2, hashAfter3, prefixState, absorb, finish, startHash, toId, inverseOf, type HashState } from './hash.js';
import type { LogChunk, LogColumn, SparseRows } from './log.js';
import type {
  BagFieldSpec,
  CategoricalFieldSpec,
  CrossFieldSpec,
  DenseFieldSpec,
  FeatureSpec,
  FieldSource,
  NumericFieldSpec,
  SequenceFieldSpec,
} from './spec.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Separator of list cells in a log's text column (`a|b|c`). */
const LIST_SEPARATOR = '|';

/** Small integers rendered once; `String(n)` would allocate on every row. */
const INT_TOKEN_MIN = -1024;
const INT_TOKENS: readonly string[] = Array.from({ length: 5121 }, (_, i) => String(i + INT_TOKEN_MIN));

/**
 * Where a bad value came from, for error messages. Kernels pass themselves and the row rather
 * than a message-building closure, so the happy path allocates nothing per row.
 */
interface Where {
  describe(row: number): string;
}

/** @internal The token a scalar renders to, `undefined` when missing. */
export function tokenOf(value: unknown, where: Where, row: number): string | undefined {
  if (typeof value === 'string') return value.length === 0 ? undefined : value;
  if (typeof value === 'number') return numberToken(value);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw new CtrkitError(
    'E_INPUT',
    `${where.describe(row)} must be a string, number, boolean or null, got ${Array.isArray(value) ? 'an array (use kind "bag" for lists)' : typeof value}`,
  );
}

/** @internal `String(x)` for finite numbers (cached for small integers), `undefined` for NaN and ±∞. */
export function numberToken(x: number): string | undefined {
  if (x !== x || x === Infinity || x === -Infinity) return undefined;
  if (x >= INT_TOKEN_MIN && x <= 4096 && (x | 0) === x) return INT_TOKENS[x - INT_TOKEN_MIN] as string;
  return String(x);
}

function toNumber(value: unknown, where: Where, row: number): number {
  if (typeof value === 'number') return value;
  if (value === undefined || value === null || value === '') return Number.NaN;
  if (typeof value === 'string') {
    const x = Number(value);
    if (x !== x) throw new CtrkitError('E_INPUT', `${where.describe(row)} must be a number, got the text ${JSON.stringify(value.slice(0, 40))}; fix the input or use kind "categorical"`);
    return x;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new CtrkitError('E_INPUT', `${where.describe(row)} must be a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

type Reader = (source: unknown) => unknown;

function makeReader(source: Exclude<FieldSource, 'store'>, path: string): Reader {
  if (path.startsWith('attributes.')) {
    const key = path.slice('attributes.'.length);
    return (o) => {
      const attributes = (o as { attributes?: Record<string, unknown> }).attributes;
      return attributes === undefined || attributes === null ? undefined : attributes[key];
    };
  }
  if (source === 'context' && path === 'slotPosition') {
    return (o) => {
      const slots = (o as { slots?: unknown }).slots;
      const first = Array.isArray(slots) ? (slots[0] as { position?: unknown } | undefined) : undefined;
      return first === undefined || first === null ? undefined : first.position;
    };
  }
  if (source === 'context' && (path === 'hourOfDay' || path === 'dayOfWeek')) {
    const hour = path === 'hourOfDay';
    return (o) => {
      const context = o as { timestamp?: unknown; timezoneOffsetMinutes?: unknown };
      const t = context.timestamp;
      if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
      const offset = typeof context.timezoneOffsetMinutes === 'number' && Number.isFinite(context.timezoneOffsetMinutes) ? context.timezoneOffsetMinutes : 0;
      const local = t + offset * 60_000;
      return hour ? Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS) : (((Math.floor(local / DAY_MS) + 4) % 7) + 7) % 7;
    };
  }
  return (o) => (o as Record<string, unknown>)[path];
}

/** @internal Where kernels write: the batch's arrays and the widths they index with. */
export interface Target {
  ids: Int32Array<ArrayBufferLike>;
  values: Float32Array<ArrayBufferLike>;
  dense: Float32Array<ArrayBufferLike>;
  sequenceIds: Int32Array<ArrayBufferLike>;
  sequenceLengths: Int32Array<ArrayBufferLike>;
  idWidth: number;
  denseWidth: number;
  sequences: number;
  /** Stride of one sequence: the longest `maxLength` of the layout (shorter sequences pad more). */
  sequenceStride: number;
}

/** How kernels see a store lookup: its values and the column of each store field. */
interface LookupView {
  readonly values: Float32Array;
  readonly width: number;
}

/** @internal Base of every field kernel. */
export abstract class Kernel implements Where {
  missing = 0;
  truncated = 0;
  /** Per-row tokens, kept only when a cross reads this field. */
  tokens: (string | undefined)[] | undefined;
  /** Line numbers of the chunk being encoded, for messages; undefined while encoding a request. */
  lines: Float64Array | undefined;
  /** `source.path` of the field, for messages. */
  sourceText = '';

  constructor(
    readonly name: string,
    readonly column: string,
  ) {}

  /** Names the value at `row` (−1: the request's user or context) in an error message. */
  describe(row: number): string {
    if (this.lines !== undefined) return `line ${this.lines[row]} column '${this.column}' (field '${this.name}')`;
    const [source, ...rest] = this.sourceText.split('.');
    return row < 0 ? `${this.sourceText} (field '${this.name}')` : `${source === 'candidate' ? `candidates[${row}]` : source}.${rest.join('.')} (field '${this.name}')`;
  }

  abstract encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void;
  abstract encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void;

  protected ensureTokens(rows: number): (string | undefined)[] {
    let tokens = this.tokens as (string | undefined)[];
    if (tokens.length < rows) tokens = this.tokens = new Array<string | undefined>(rows * 2).fill(undefined);
    return tokens;
  }
}

/** Shared parts of the kernels that write one id per row. */
abstract class IdKernel extends Kernel {
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;
  storeColumn = -1;

  constructor(
    name: string,
    column: string,
    readonly offset: number,
    readonly seed: number,
    readonly modulus: number,
  ) {
    super(name, column);
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(name, seed);
    const missing = startHash(seed);
    absorb(missing, name);
    absorb(missing, '\u0000');
    this.missingId = toId(finish(missing), modulus, inverseOf(modulus));
  }

  protected fill(target: Target, rows: number, id: number, token: string | undefined): void {
    const { ids, values, idWidth } = target;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      ids[p] = id;
      values[p] = 1;
    }
    if (this.tokens !== undefined) {
      const tokens = this.ensureTokens(rows);
      for (let r = 0; r < rows; r++) tokens[r] = token;
    }
  }
}

/** @internal A categorical field. */
export class CategoricalKernel extends IdKernel {
  private readonly read: Reader;

  constructor(
    readonly spec: CategoricalFieldSpec,
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name, offset, seed, modulus);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
  }

  idOfToken(token: string | undefined): number {
    if (token === undefined) {
      this.missing++;
      return this.missingId;
    }
    return toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    if (source !== 'candidate') {
      const token = tokenOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const id = this.idOfToken(token);
      if (this.missing !== missingBefore) this.missing += rows - 1;
      this.fill(target, rows, id, token);
      return;
    }
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    const candidates = request.candidates;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const token = tokenOf(this.read(candidates[r] as AdCandidate), this, r);
      ids[p] = this.idOfToken(token);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = token;
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const rows = chunk.rows;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (column.type === 'string') {
      const data = column.data;
      const prefix = this.prefix;
      const modulus = this.modulus;
      const inverse = this.inverse;
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const cell = data[r] as string;
        let id: number;
        if (cell.length === 0) {
          this.missing++;
          id = this.missingId;
        } else {
          id = toId(hashAfter(prefix, cell), modulus, inverse);
        }
        ids[p] = id;
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = cell.length === 0 ? undefined : cell;
      }
      return;
    }
    const data = column.data;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const token = numberToken(data[r] as number);
      ids[p] = this.idOfToken(token);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = token;
    }
  }
}

/** Upper bound of the Criteo log-rule token table: ⌊ln(x)²⌋ for x up to 2^53 is 1,349. */
const CRITEO_LOG_TABLE = 2048;
/** The `SP⌊x⌋` tokens precomputed for x in [-256, 2]. */
const CRITEO_SP_MIN = -256;

/** @internal A numeric field cut into buckets (from the request, a log, or the store). */
export abstract class NumericKernel extends IdKernel {
  private readonly read: Reader | undefined;

  constructor(
    readonly spec: NumericFieldSpec,
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name, offset, seed, modulus);
    this.read = spec.source === 'store' ? undefined : makeReader(spec.source, spec.path);
  }

  /** The id of a value (NaN is missing). */
  abstract idOf(x: number): number;
  /** The token of a value (for crosses). */
  abstract tokenOfValue(x: number): string | undefined;

  encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (source === 'store') {
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const x = lookup === undefined ? Number.NaN : (lookup.values[r * lookup.width + this.storeColumn] as number);
        ids[p] = this.idOf(x);
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
      }
      return;
    }
    const read = this.read as Reader;
    if (source !== 'candidate') {
      const x = toNumber(read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const id = this.idOf(x);
      if (this.missing !== missingBefore) this.missing += rows - 1;
      this.fill(target, rows, id, this.tokens === undefined ? undefined : this.tokenOfValue(x));
      return;
    }
    const candidates = request.candidates;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const x = toNumber(read(candidates[r]), this, r);
      ids[p] = this.idOf(x);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const rows = chunk.rows;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (column.type === 'number') {
      const data = column.data;
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const x = data[r] as number;
        ids[p] = this.idOf(x);
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
      }
      return;
    }
    const data = column.data;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const x = toNumber(data[r], this, r);
      ids[p] = this.idOf(x);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
    }
  }
}

/** @internal Bucketised by explicit boundaries. */
export class BoundariesKernel extends NumericKernel {
  private readonly boundaries: Float64Array;
  private readonly bucketIds: Int32Array;
  private readonly bucketTokens: readonly string[];

  constructor(spec: NumericFieldSpec, offset: number, seed: number, modulus: number) {
    super(spec, offset, seed, modulus);
    const boundaries = (spec.bucketise as { boundaries: readonly number[] }).boundaries;
    this.boundaries = Float64Array.from(boundaries);
    this.bucketTokens = Array.from({ length: boundaries.length + 1 }, (_, i) => String(i));
    this.bucketIds = Int32Array.from(this.bucketTokens, (token) => toId(hashAfter(this.prefix, token), modulus, this.inverse));
  }

  private bucket(x: number): number {
    const b = this.boundaries;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((b[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  idOf(x: number): number {
    if (x !== x) {
      this.missing++;
      return this.missingId;
    }
    return this.bucketIds[this.bucket(x)] as number;
  }

  tokenOfValue(x: number): string | undefined {
    return x !== x ? undefined : this.bucketTokens[this.bucket(x)];
  }
}

/** @internal The Criteo rule: `x > 2 ? ⌊ln(x)²⌋ : SP⌊x⌋`. */
export class CriteoLogKernel extends NumericKernel {
  private readonly logIds: Int32Array;
  private readonly spIds: Int32Array;
  private readonly spTokens: readonly string[];

  constructor(spec: NumericFieldSpec, offset: number, seed: number, modulus: number) {
    super(spec, offset, seed, modulus);
    this.logIds = Int32Array.from({ length: CRITEO_LOG_TABLE }, (_, k) => toId(hashAfter(this.prefix, String(k)), modulus, this.inverse));
    this.spTokens = Array.from({ length: 2 - CRITEO_SP_MIN + 1 }, (_, i) => `SP${i + CRITEO_SP_MIN}`);
    this.spIds = Int32Array.from(this.spTokens, (token) => toId(hashAfter(this.prefix, token), modulus, this.inverse));
  }

  idOf(x: number): number {
    if (x > 2) {
      if (x === Infinity) {
        this.missing++;
        return this.missingId;
      }
      const l = Math.log(x);
      const k = Math.floor(l * l);
      return k < CRITEO_LOG_TABLE ? (this.logIds[k] as number) : toId(hashAfter(this.prefix, String(k)), this.modulus, this.inverse);
    }
    if (x !== x || x === -Infinity) {
      this.missing++;
      return this.missingId;
    }
    const f = Math.floor(x);
    return f >= CRITEO_SP_MIN ? (this.spIds[f - CRITEO_SP_MIN] as number) : toId(hashAfter(this.prefix, `SP${f}`), this.modulus, this.inverse);
  }

  tokenOfValue(x: number): string | undefined {
    if (x !== x || x === Infinity || x === -Infinity) return undefined;
    if (x > 2) {
      const l = Math.log(x);
      return numberToken(Math.floor(l * l));
    }
    const f = Math.floor(x);
    return f >= CRITEO_SP_MIN ? this.spTokens[f - CRITEO_SP_MIN] : `SP${f}`;
  }
}

/** @internal A cross of two or three id fields. */
export class CrossKernel extends IdKernel {
  constructor(
    readonly spec: CrossFieldSpec,
    readonly parts: readonly Kernel[],
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.name, offset, seed, modulus);
  }

  private run(rows: number, target: Target): void {
    const { ids, values, idWidth } = target;
    const a = this.parts[0]?.tokens as (string | undefined)[];
    const b = this.parts[1]?.tokens as (string | undefined)[];
    const prefix = this.prefix;
    const modulus = this.modulus;
    const inverse = this.inverse;
    if (this.parts.length === 2) {
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const ta = a[r];
        const tb = b[r];
        if (ta === undefined || tb === undefined) {
          this.missing++;
          ids[p] = this.missingId;
        } else {
          ids[p] = toId(hashAfter2(prefix, ta, tb), modulus, inverse);
        }
        values[p] = 1;
      }
      return;
    }
    const c = this.parts[2]?.tokens as (string | undefined)[];
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const ta = a[r];
      const tb = b[r];
      const tc = c[r];
      if (ta === undefined || tb === undefined || tc === undefined) {
        this.missing++;
        ids[p] = this.missingId;
      } else {
        ids[p] = toId(hashAfter3(prefix, ta, tb, tc), modulus, inverse);
      }
      values[p] = 1;
    }
  }

  encodeRequest(_request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    this.run(rows, target);
  }

  encodeChunk(chunk: LogChunk, _column: LogColumn | SparseRows | undefined, target: Target): void {
    this.run(chunk.rows, target);
  }
}

function applyDense(spec: DenseFieldSpec): (x: number) => number {
  const [lo, hi] = spec.clip ?? [-Infinity, Infinity];
  const normalise = spec.normalise ?? { method: 'none' as const };
  switch (normalise.method) {
    case 'none':
      return (x) => Math.min(hi, Math.max(lo, x));
    case 'log1p':
      // log1p of a negative below −1 is NaN; sign-preserving keeps the map defined everywhere.
      return (x) => {
        const c = Math.min(hi, Math.max(lo, x));
        return c >= 0 ? Math.log1p(c) : -Math.log1p(-c);
      };
    case 'standard': {
      const { mean, std } = normalise;
      return (x) => (Math.min(hi, Math.max(lo, x)) - mean) / std;
    }
    case 'minmax': {
      const { min, max } = normalise;
      const span = max - min;
      return (x) => (Math.min(hi, Math.max(lo, x)) - min) / span;
    }
  }
}

/** @internal A dense (real-valued) field. */
export class DenseKernel extends Kernel {
  private readonly read: Reader | undefined;
  private readonly transform: (x: number) => number;
  private readonly missingValue: number;
  storeColumn = -1;

  constructor(
    readonly spec: DenseFieldSpec,
    readonly denseIndex: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = spec.source === 'store' ? undefined : makeReader(spec.source, spec.path);
    this.transform = applyDense(spec);
    this.missingValue = spec.missingValue ?? 0;
  }

  private value(x: number): number {
    if (x !== x || x === Infinity || x === -Infinity) {
      this.missing++;
      return this.missingValue;
    }
    return this.transform(x);
  }

  encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void {
    const { dense, denseWidth } = target;
    const { source } = this.spec;
    if (source === 'store') {
      for (let r = 0; r < rows; r++) {
        const x = lookup === undefined ? Number.NaN : (lookup.values[r * lookup.width + this.storeColumn] as number);
        dense[r * denseWidth + this.denseIndex] = this.value(x);
      }
      return;
    }
    const read = this.read as Reader;
    if (source !== 'candidate') {
      const missingBefore = this.missing;
      const v = this.value(toNumber(read(source === 'user' ? request.user : request.context), this, -1));
      if (this.missing !== missingBefore) this.missing += rows - 1;
      for (let r = 0; r < rows; r++) dense[r * denseWidth + this.denseIndex] = v;
      return;
    }
    for (let r = 0; r < rows; r++) {
      const x = toNumber(read(request.candidates[r]), this, r);
      dense[r * denseWidth + this.denseIndex] = this.value(x);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const { dense, denseWidth } = target;
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    for (let r = 0; r < chunk.rows; r++) {
      const x = column.type === 'number' ? (column.data[r] as number) : toNumber(column.data[r], this, r);
      dense[r * denseWidth + this.denseIndex] = this.value(x);
    }
  }
}

/** Reads list items: plain scalars, or one property of behaviour events. */
function listItem(element: unknown, item: string | undefined): unknown {
  if (item === undefined) return element;
  return typeof element === 'object' && element !== null ? (element as Record<string, unknown>)[item] : undefined;
}

function listOf(value: unknown, where: Where, row: number): readonly unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  throw new CtrkitError('E_INPUT', `${where.describe(row)} must be a list, got ${typeof value}`);
}

/** @internal A bag of ids, padded to `maxSize`. */
export class BagKernel extends Kernel {
  private readonly read: Reader;
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;

  constructor(
    readonly spec: BagFieldSpec,
    readonly offset: number,
    seed: number,
    readonly modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(spec.name, seed);
    const missing = startHash(seed);
    absorb(missing, spec.name);
    absorb(missing, '\u0000');
    this.missingId = toId(finish(missing), modulus, inverseOf(modulus));
  }

  /** Writes one row's bag at `p`; `items` are raw values. */
  private writeList(items: readonly unknown[] | undefined, p: number, target: Target, row: number): void {
    const { ids, values } = target;
    const max = this.spec.maxSize;
    let count = 0;
    if (items !== undefined) {
      for (let i = 0; i < items.length && count < max; i++) {
        const token = tokenOf(listItem(items[i], this.spec.item), this, row);
        if (token === undefined) continue;
        ids[p + count] = toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
        count++;
      }
      if (items.length > max) this.truncated++;
    }
    this.finishRow(count, p, ids, values, max);
  }

  private finishRow(count: number, p: number, ids: Int32Array, values: Float32Array, max: number): void {
    if (count === 0) {
      this.missing++;
      ids[p] = this.missingId;
      values[p] = 1;
      count = 1;
    } else {
      const weight = this.spec.combiner === 'mean' ? 1 / count : 1;
      for (let i = 0; i < count; i++) values[p + i] = weight;
    }
    for (let i = count; i < max; i++) {
      ids[p + i] = 0;
      values[p + i] = 0;
    }
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    const { idWidth } = target;
    if (source !== 'candidate') {
      const items = listOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const truncatedBefore = this.truncated;
      this.writeList(items, this.offset, target, -1);
      const width = this.spec.maxSize;
      for (let r = 1; r < rows; r++) {
        target.ids.copyWithin(r * idWidth + this.offset, this.offset, this.offset + width);
        target.values.copyWithin(r * idWidth + this.offset, this.offset, this.offset + width);
      }
      // Every row carries the user's (or context's) bag: count it once per row, as candidate bags are.
      this.missing += (this.missing - missingBefore) * (rows - 1);
      this.truncated += (this.truncated - truncatedBefore) * (rows - 1);
      return;
    }
    for (let r = 0; r < rows; r++) this.writeList(listOf(this.read(request.candidates[r]), this, r), r * idWidth + this.offset, target, r);
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const { ids, values, idWidth } = target;
    const max = this.spec.maxSize;
    if (column === undefined) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (!('type' in column)) {
      // libsvm pairs: the index is the token, the pair's value scales the weight.
      const { offsets, indices, values: pairValues } = column;
      for (let r = 0; r < chunk.rows; r++) {
        const p = r * idWidth + this.offset;
        const start = offsets[r] as number;
        const end = offsets[r + 1] as number;
        const n = Math.min(end - start, max);
        if (end - start > max) this.truncated++;
        const weight = this.spec.combiner === 'mean' && n > 0 ? 1 / n : 1;
        for (let i = 0; i < n; i++) {
          ids[p + i] = toId(hashAfter(this.prefix, numberToken(indices[start + i] as number) as string), this.modulus, this.inverse);
          values[p + i] = weight * (pairValues[start + i] as number);
        }
        if (n === 0) this.finishRow(0, p, ids, values, max);
        else for (let i = n; i < max; i++) {
          ids[p + i] = 0;
          values[p + i] = 0;
        }
      }
      return;
    }
    if (column.type !== 'string') throw new CtrkitError('E_INPUT', `bag field '${this.name}' needs a text column of '${LIST_SEPARATOR}'-separated items, but '${this.column}' is numeric`);
    for (let r = 0; r < chunk.rows; r++) {
      const cell = column.data[r] as string;
      this.writeList(cell.length === 0 ? undefined : cell.split(LIST_SEPARATOR), r * idWidth + this.offset, target, r);
    }
  }
}

/** @internal A behaviour sequence, left-padded to `maxLength`. */
export class SequenceKernel extends Kernel {
  private readonly read: Reader;
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;

  constructor(
    readonly spec: SequenceFieldSpec,
    readonly sequenceIndex: number,
    seed: number,
    readonly modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
    const keyName = spec.sharesIdsWith ?? spec.name;
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(keyName, seed);
    const missing = startHash(seed);
    absorb(missing, keyName);
    absorb(missing, '\u0000');
    this.missingId = toId(finish(missing), modulus, inverseOf(modulus));
  }

  /** Writes one row's sequence; returns nothing, fills ids and length. */
  private writeRow(items: readonly unknown[] | undefined, row: number, target: Target, at: number): void {
    const L = target.sequenceStride;
    const max = this.spec.maxLength;
    const base = (row * target.sequences + this.sequenceIndex) * L;
    const n = items === undefined ? 0 : Math.min(items.length, max);
    if (items !== undefined && items.length > max) this.truncated++;
    if (n === 0) this.missing++;
    const ids = target.sequenceIds;
    const pad = L - n;
    for (let t = 0; t < pad; t++) ids[base + t] = 0;
    if (items !== undefined) {
      const first = items.length - n;
      for (let t = 0; t < n; t++) {
        const token = tokenOf(listItem(items[first + t], this.spec.item), this, at);
        ids[base + pad + t] = token === undefined ? this.missingId : toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
      }
    }
    target.sequenceLengths[row * target.sequences + this.sequenceIndex] = n;
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    if (source !== 'candidate') {
      const items = listOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const truncatedBefore = this.truncated;
      this.writeRow(items, 0, target, -1);
      const L = target.sequenceStride;
      const S = target.sequences;
      const from = this.sequenceIndex * L;
      for (let r = 1; r < rows; r++) {
        target.sequenceIds.copyWithin((r * S + this.sequenceIndex) * L, from, from + L);
        target.sequenceLengths[r * S + this.sequenceIndex] = target.sequenceLengths[this.sequenceIndex] as number;
      }
      this.missing += (this.missing - missingBefore) * (rows - 1);
      this.truncated += (this.truncated - truncatedBefore) * (rows - 1);
      return;
    }
    for (let r = 0; r < rows; r++) {
      this.writeRow(listOf(this.read(request.candidates[r]), this, r), r, target, r);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    if (column === undefined || !('type' in column) || column.type !== 'string') {
      throw new CtrkitError('E_INPUT', `sequence field '${this.name}' needs a text column '${this.column}' of '${LIST_SEPARATOR}'-separated items (oldest first)`);
    }
    for (let r = 0; r < chunk.rows; r++) {
      const cell = column.data[r] as string;
      this.writeRow(cell.length === 0 ? undefined : cell.split(LIST_SEPARATOR), r, target, r);
    }
  }
}

/** @internal Builds the kernels of a spec: id kernels first, crosses after the fields they read. */
export function buildKernels(spec: FeatureSpec): { kernels: Kernel[]; storeKernels: (IdKernel | DenseKernel)[] } {
  const modulus = spec.idSpace - 1;
  const kernels: Kernel[] = [];
  const byName = new Map<string, Kernel>();
  const storeKernels: (IdKernel | DenseKernel)[] = [];
  const slotOf = new Map(spec.layout.fields.map((slot) => [slot.name, slot.offset]));
  let denseIndex = 0;
  let sequenceIndex = 0;
  for (const field of spec.fields) {
    let kernel: Kernel;
    switch (field.kind) {
      case 'categorical':
        kernel = new CategoricalKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        break;
      case 'numeric':
        kernel =
          'rule' in field.bucketise
            ? new CriteoLogKernel(field, slotOf.get(field.name) as number, spec.seed, modulus)
            : new BoundariesKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        if (field.source === 'store') storeKernels.push(kernel as IdKernel);
        break;
      case 'dense':
        kernel = new DenseKernel(field, denseIndex++);
        if (field.source === 'store') storeKernels.push(kernel as DenseKernel);
        break;
      case 'bag':
        kernel = new BagKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        break;
      case 'sequence':
        kernel = new SequenceKernel(field, sequenceIndex++, spec.seed, modulus);
        break;
      case 'cross':
        continue;
    }
    kernel.sourceText = `${field.source}.${field.path}`;
    kernels.push(kernel);
    byName.set(field.name, kernel);
  }
  for (const field of spec.fields) {
    if (field.kind !== 'cross') continue;
    const parts = field.of.map((name) => byName.get(name) as Kernel);
    for (const part of parts) if (part.tokens === undefined) part.tokens = [];
    const kernel = new CrossKernel(field, parts, slotOf.get(field.name) as number, spec.seed, modulus);
    kernels.push(kernel);
    byName.set(field.name, kernel);
  }
  return { kernels, storeKernels };
}

/** @internal Checks the shape of a request before any kernel reads it. */
export function checkRequest(request: AdRequest): number {
  if (typeof request !== 'object' || request === null) throw new CtrkitError('E_INPUT', `encode: request must be an object with user, context and candidates, got ${String(request)}`);
  if (typeof request.user !== 'object' || request.user === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)} has no user object; pass { user: { id }, … }`);
  if (typeof request.context !== 'object' || request.context === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)} has no context object; pass { context: { timestamp }, … }`);
  const candidates = request.candidates;
  if (!Array.isArray(candidates)) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)}.candidates must be an array`);
  for (let r = 0; r < candidates.length; r++) {
    const candidate = candidates[r];
    if (typeof candidate !== 'object' || candidate === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)}.candidates[${r}] must be an object, got ${String(candidate)}`);
  }
  return candidates.length;
}

/** @internal The byte room left in a typed array's buffer from its offset. */
function room(array: ArrayBufferView, bytes: number): boolean {
  return array.buffer.byteLength - array.byteOffset >= bytes;
}

/** @internal Returns `out` when it fits `rows`, views over its buffers when they are larger, else fresh arrays. */
export function batchFor(layout: FeatureLayout, rows: number, out: FeatureBatch | undefined): FeatureBatch {
  const S = layout.sequences.length;
  const L = layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
  const nIds = rows * layout.idWidth;
  const nDense = rows * layout.denseWidth;
  const nSeq = rows * S * L;
  const nLen = rows * S;
  if (out !== undefined) {
    if (out.layout.fingerprint !== layout.fingerprint || out.layout.idWidth !== layout.idWidth) {
      throw new CtrkitError('E_INPUT', `encode: the out batch was made for spec ${out.layout.fingerprint}, this encoder's is ${layout.fingerprint}; allocate it with allocateBatch(encoder.layout, rows)`);
    }
    if (out.rows === rows) return out;
    if (room(out.ids, nIds * 4) && room(out.values, nIds * 4) && room(out.dense, nDense * 4) && room(out.sequenceIds, nSeq * 4) && room(out.sequenceLengths, nLen * 4)) {
      return {
        layout,
        rows,
        ids: new Int32Array(out.ids.buffer, out.ids.byteOffset, nIds),
        values: new Float32Array(out.values.buffer, out.values.byteOffset, nIds),
        dense: new Float32Array(out.dense.buffer, out.dense.byteOffset, nDense),
        sequenceIds: new Int32Array(out.sequenceIds.buffer, out.sequenceIds.byteOffset, nSeq),
        sequenceLengths: new Int32Array(out.sequenceLengths.buffer, out.sequenceLengths.byteOffset, nLen),
      };
    }
  }
  return {
    layout,
    rows,
    ids: new Int32Array(nIds),
    values: new Float32Array(nIds),
    dense: new Float32Array(nDense),
    sequenceIds: new Int32Array(nSeq),
    sequenceLengths: new Int32Array(nLen),
  };
}

/** @internal The writable view kernels use. */
export function targetOf(batch: FeatureBatch): Target {
  return {
    ids: batch.ids,
    values: batch.values,
    dense: batch.dense,
    sequenceIds: batch.sequenceIds,
    sequenceLengths: batch.sequenceLengths,
    idWidth: batch.layout.idWidth,
    denseWidth: batch.layout.denseWidth,
    sequences: batch.layout.sequences.length,
    sequenceStride: batch.layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0),
  };
}

/** @internal Resolves the store columns of the kernels against a lookup's counter names. */
export function bindLookup(storeKernels: readonly (IdKernel | DenseKernel)[], lookup: StoreLookup, rows: number): LookupView {
  if (lookup.rows !== rows) {
    throw new CtrkitError('E_INPUT', `encode: the store lookup has ${lookup.rows} rows but the request has ${rows} candidates; look up the same candidates you encode`);
  }
  const width = lookup.names.length;
  if (lookup.values.length < rows * width) {
    throw new CtrkitError('E_INPUT', `encode: the store lookup holds ${lookup.values.length} values, fewer than rows × names (${rows} × ${width})`);
  }
  for (const kernel of storeKernels) {
    const counter = (kernel as unknown as { spec: { path: string } }).spec.path;
    const column = lookup.names.indexOf(counter);
    if (column < 0) {
      throw new CtrkitError('E_INPUT', `encode: field '${kernel.name}' reads counter '${counter}', which the store does not provide; it provides ${lookup.names.slice(0, 8).join(', ')}${width > 8 ? ', …' : ''}`, {
        details: { field: kernel.name, counter },
      });
    }
    kernel.storeColumn = column;
  }
  return { values: lookup.values, width };
}
