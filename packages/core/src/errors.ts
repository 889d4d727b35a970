/**
 * The closed set of error codes that ctrkit raises. Hosts switch on `code`, never on message text.
 *
 * - `E_INPUT` — a value passed in (request, array, event, option) is malformed.
 * - `E_CONFIG` — options given to a factory are invalid.
 * - `E_SPEC` — a feature spec is invalid.
 * - `E_PARSE` — a file or line could not be parsed.
 * - `E_IO` — a file could not be read or written.
 * - `E_MODEL_LOAD` — a model or manifest is corrupt, or does not match its encoder.
 * - `E_INFERENCE` — a model failed while scoring.
 * - `E_BACKEND_UNAVAILABLE` — no requested backend or execution provider can run here.
 * - `E_STORE` — the feature store failed or did not answer in time.
 * - `E_LEDGER` — the budget ledger failed or did not answer in time.
 * - `E_BUDGET` — a budget would be exceeded.
 * - `E_TIMEOUT` — a deadline passed.
 * - `E_QUEUE_FULL` — a bounded queue refused work.
 * - `E_STATE` — an object was used in a state that does not allow the call (for example after `dispose`).
 * - `E_NOT_FOUND` — a named thing (campaign, model version, reservation) does not exist.
 * - `E_CONSENT` — an operation is not allowed under the request's privacy signals.
 * - `E_STREAM` — the event stream failed or did not answer in time.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from '@ctrkit/core';
 * const code: ErrorCode = 'E_INPUT';
 * ```
 */
export type ErrorCode =
  | 'E_INPUT'
  | 'E_CONFIG'
  | 'E_SPEC'
  | 'E_PARSE'
  | 'E_IO'
  | 'E_MODEL_LOAD'
  | 'E_INFERENCE'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_STORE'
  | 'E_LEDGER'
  | 'E_BUDGET'
  | 'E_TIMEOUT'
  | 'E_QUEUE_FULL'
  | 'E_STATE'
  | 'E_NOT_FOUND'
  | 'E_CONSENT'
  | 'E_STREAM';

/** Every error code, in declaration order. Useful for metrics labels and exhaustive tests.
 *
 * @example
 * ```ts
 * import { ERROR_CODES } from '@ctrkit/core';
 * console.log(ERROR_CODES.includes('E_STORE')); // true
 * ```
 */
export const ERROR_CODES: readonly ErrorCode[] = [
  'E_INPUT',
  'E_CONFIG',
  'E_SPEC',
  'E_PARSE',
  'E_IO',
  'E_MODEL_LOAD',
  'E_INFERENCE',
  'E_BACKEND_UNAVAILABLE',
  'E_STORE',
  'E_LEDGER',
  'E_BUDGET',
  'E_TIMEOUT',
  'E_QUEUE_FULL',
  'E_STATE',
  'E_NOT_FOUND',
  'E_CONSENT',
  'E_STREAM',
];

const BRAND = Symbol.for('ctrkit.error');

/** Options accepted by {@link CtrkitError}.
 *
 * @example
 * ```ts
 * import { CtrkitError, type CtrkitErrorOptions } from '@ctrkit/core';
 * const options: CtrkitErrorOptions = { details: { field: 'age' } };
 * throw new CtrkitError('E_INPUT', 'age must be a number', options);
 * ```
 */
export interface CtrkitErrorOptions {
  /** The underlying error, kept for diagnostics. */
  readonly cause?: unknown;
  /** Structured context (field name, line number, …) that a host can log. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type ctrkit throws. Its `code` comes from a closed union; its message says what
 * was wrong and how to mend it; `cause` keeps the underlying error.
 *
 * @example
 * ```ts
 * import { CtrkitError, isCtrkitError } from '@ctrkit/core';
 * try {
 *   throw new CtrkitError('E_INPUT', 'labels must be 0 or 1 (row 3 is 2)', { details: { row: 3 } });
 * } catch (error) {
 *   if (isCtrkitError(error) && error.code === 'E_INPUT') console.log(error.details?.row);
 * }
 * ```
 */
export class CtrkitError extends Error {
  /** What kind of failure this is. */
  readonly code: ErrorCode;
  /** Structured context for logs. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /**
   * @param code - The failure's code.
   * @param message - What was wrong and how to mend it.
   * @param options - Cause and structured details.
   */
  constructor(code: ErrorCode, message: string, options: CtrkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CtrkitError';
    this.code = code;
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A JSON-safe view of the error for logs and HTTP responses. */
  toJSON(): { name: string; code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Tells whether a value is a {@link CtrkitError}, even one thrown by another copy of the library.
 *
 * @param value - Anything caught.
 * @returns `true` when the value carries ctrkit's error brand.
 * @example
 * ```ts
 * import { isCtrkitError } from '@ctrkit/core';
 * console.log(isCtrkitError(new Error('x'))); // false
 * ```
 */
export function isCtrkitError(value: unknown): value is CtrkitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Throws a {@link CtrkitError} when `condition` is false. The message is built lazily, so a
 * passing check on a hot path costs one branch.
 *
 * @param condition - What must hold.
 * @param code - The code to throw with.
 * @param message - Builds the message only when the check fails.
 * @param details - Optional structured context.
 * @throws {@link CtrkitError} with `code` when `condition` is false.
 * @example
 * ```ts
 * import { ensure } from '@ctrkit/core/internal';
 * const rows = 3;
 * ensure(rows > 0, 'E_INPUT', () => `rows must be positive, got ${rows}`);
 * ```
 */
export function ensure(
  condition: unknown,
  code: ErrorCode,
  message: () => string,
  details?: Readonly<Record<string, unknown>>,
): asserts condition {
  if (!condition) throw new CtrkitError(code, message(), details === undefined ? {} : { details });
}

/**
 * Wraps any thrown value into a {@link CtrkitError}, leaving ctrkit errors as they are.
 *
 * @param error - The caught value.
 * @param code - The code for foreign errors.
 * @param message - Prefix describing what was being done.
 * @returns A ctrkit error whose `cause` is the original.
 * @example
 * ```ts
 * import { toCtrkitError } from '@ctrkit/core';
 * const e = toCtrkitError(new Error('ECONNREFUSED'), 'E_STORE', 'redis lookup failed');
 * console.log(e.code, e.message); // E_STORE redis lookup failed: ECONNREFUSED
 * ```
 */
export function toCtrkitError(error: unknown, code: ErrorCode, message: string): CtrkitError {
  if (isCtrkitError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new CtrkitError(code, `${message}: ${reason}`, { cause: error });
}
