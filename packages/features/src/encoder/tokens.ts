/**
 * Reading a field's value from a request and turning it into the token that is hashed.
 *
 * @internal
 */
import { CtrkitError } from '@ctrkit/core';
import type { FieldSource } from '../spec/field-spec.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Separator of list cells in a log's text column (`a|b|c`). */
export const LIST_SEPARATOR = '|';

/** Small integers rendered once; `String(n)` would allocate on every row. */
const INT_TOKEN_MIN = -1024;
const INT_TOKENS: readonly string[] = Array.from({ length: 5121 }, (_, i) => String(i + INT_TOKEN_MIN));

/**
 * Where a bad value came from, for error messages. Kernels pass themselves and the row rather
 * than a message-building closure, so the happy path allocates nothing per row.
 */
export interface Where {
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

export function toNumber(value: unknown, where: Where, row: number): number {
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

export type Reader = (source: unknown) => unknown;

export function makeReader(source: Exclude<FieldSource, 'store'>, path: string): Reader {
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
