/** Small validation helpers shared by the option compilers (all internal). */
import { CtrkitError } from '@ctrkit/core';
import type { ErrorCode } from '@ctrkit/core';

/** @internal Whether a value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @internal Throws when `value` has a key outside `allowed`, naming the key and the allowed set,
 * so a misspelled option fails loudly instead of being ignored.
 */
export function checkKnownKeys(value: Record<string, unknown>, allowed: readonly string[], where: string, code: ErrorCode = 'E_CONFIG'): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new CtrkitError(code, `${where}: unknown option "${key}"; allowed: ${allowed.join(', ')}`, { details: { key } });
    }
  }
}

/** @internal Checks an optional finite number within [min, max]. */
export function checkNumber(value: unknown, where: string, min = -Infinity, max = Infinity, code: ErrorCode = 'E_CONFIG'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? 'a finite number' : `a finite number in [${min}, ${max}]`;
    throw new CtrkitError(code, `${where} must be ${range}, got ${describe(value)}`);
  }
  return value;
}

/** @internal Checks an optional array of non-empty strings. */
export function checkStrings(value: unknown, where: string, code: ErrorCode = 'E_CONFIG'): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new CtrkitError(code, `${where} must be an array of non-empty strings, got ${describe(value)}`);
  }
  return value as readonly string[];
}

/** @internal A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}
