/**
 * What a call threw, for tests of ctrkit's errors. A ctrkit error is recognized by the brand
 * `@ctrkit/core` puts on it (`Symbol.for('ctrkit.error')`, the brand `isCtrkitError` reads), so
 * this package needs no dependency on core — core's own tests use it, and a workspace dependency
 * back would be a cycle.
 */

const BRAND = Symbol.for('ctrkit.error');

/** A ctrkit error as the tests read it: a code from core's closed union, and a message. */
export interface ThrownCtrkitError extends Error {
  readonly code: string;
}

/**
 * Whether a value carries ctrkit's error brand (what `isCtrkitError` of `@ctrkit/core` checks).
 *
 * @param value - Anything caught.
 * @returns `true` for a ctrkit error, of any copy of `@ctrkit/core`.
 * @example
 * ```ts
 * import { isBrandedCtrkitError } from '@ctrkit/test-support';
 * isBrandedCtrkitError(new Error('plain')); // false
 * ```
 */
export function isBrandedCtrkitError(value: unknown): value is ThrownCtrkitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * The code of the ctrkit error a call throws: `'foreign'` when it throws anything else, `'none'`
 * when it returns. One `expect(codeThrownBy(…)).toBe('E_INPUT')` a case keeps a table of bad
 * inputs readable.
 *
 * @param fn - The call.
 * @returns The code, `'foreign'` or `'none'`.
 * @example
 * ```ts
 * import { codeThrownBy } from '@ctrkit/test-support';
 * codeThrownBy(() => JSON.parse('{')); // 'foreign'
 * codeThrownBy(() => 1); // 'none'
 * ```
 */
export function codeThrownBy(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isBrandedCtrkitError(error) ? error.code : 'foreign';
  }
  return 'none';
}

/**
 * The ctrkit error a call throws, to check its code and message.
 *
 * @param fn - The call.
 * @returns The error it threw.
 * @throws Error `expected a throw` when the call returns; the thrown value itself, wrapped, when
 * it is not a ctrkit error (so the test fails naming it).
 * @example
 * ```ts
 * import { ctrkitErrorThrownBy } from '@ctrkit/test-support';
 * import { CtrkitError } from '@ctrkit/core';
 * const error = ctrkitErrorThrownBy(() => {
 *   throw new CtrkitError('E_INPUT', 'row 3 is not 0/1');
 * });
 * console.log(error.code, error.message);
 * ```
 */
export function ctrkitErrorThrownBy(fn: () => unknown): ThrownCtrkitError {
  try {
    fn();
  } catch (error) {
    return asCtrkitError(error);
  }
  throw new Error('expected a throw');
}

/**
 * The ctrkit error a promise rejects with, to check its code and message.
 *
 * @param promise - The call's promise.
 * @returns The error it rejected with.
 * @throws Error `expected a rejection` when it resolves; the rejection itself, wrapped, when it is
 * not a ctrkit error.
 * @example
 * ```ts
 * import { ctrkitRejectionOf } from '@ctrkit/test-support';
 * import { CtrkitError } from '@ctrkit/core';
 * const error = await ctrkitRejectionOf(Promise.reject(new CtrkitError('E_TIMEOUT', 'late')));
 * console.log(error.code); // 'E_TIMEOUT'
 * ```
 */
export async function ctrkitRejectionOf(promise: Promise<unknown>): Promise<ThrownCtrkitError> {
  try {
    await promise;
  } catch (error) {
    return asCtrkitError(error);
  }
  throw new Error('expected a rejection');
}

function asCtrkitError(error: unknown): ThrownCtrkitError {
  if (isBrandedCtrkitError(error)) return error;
  throw new Error(`not a CtrkitError: ${String(error)}`, { cause: error });
}
