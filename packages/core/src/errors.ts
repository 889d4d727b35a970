/**
 * Every error code ctrkit raises, in one list; {@link ErrorCode} is derived from it. Hosts switch
 * on `code`, never on message text.
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
 * import { ERROR_CODES } from '@ctrkit/core';
 * console.log(ERROR_CODES.includes('E_INPUT')); // true
 * ```
 */
export const ERROR_CODES = Object.freeze([
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
] as const);

/**
 * One of {@link ERROR_CODES}.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from '@ctrkit/core';
 * const code: ErrorCode = 'E_INPUT';
 * ```
 */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Structured context any error may carry, for logs: plain JSON-safe values under names that say
 * what they are.
 *
 * @example
 * ```ts
 * import type { ErrorDetails } from '@ctrkit/core';
 * const details: ErrorDetails = { path: 'model.json' };
 * ```
 */
export interface ErrorDetails {
  readonly [key: string]: unknown;
}

/**
 * What an `E_INPUT` error may say about the input it refused. Every key is optional; a thrower
 * sets those that apply.
 *
 * @example
 * ```ts
 * import type { InputErrorDetails } from '@ctrkit/core';
 * const details: InputErrorDetails = { row: 3, column: 1, value: Number.NaN };
 * ```
 */
export interface InputErrorDetails extends ErrorDetails {
  /** The row (0-based) of a batch or array that was refused. */
  readonly row?: number;
  /** The column within the row. */
  readonly column?: number;
  /** The line (1-based) of a file or text. */
  readonly line?: number;
  /** The offending value. */
  readonly value?: unknown;
  /**
   * Set on a command-line usage error (`@ctrkit/cli`): the command whose `--help` applies (`''`
   * for the top level). The `ctrkit` command exits with status 2 for these, 1 for other errors.
   */
  readonly usage?: string;
}

/**
 * What an `E_IO` error says about the file.
 *
 * @example
 * ```ts
 * import type { IoErrorDetails } from '@ctrkit/core';
 * const details: IoErrorDetails = { path: '/tmp/model.onnx', errno: 'ENOENT' };
 * ```
 */
export interface IoErrorDetails extends ErrorDetails {
  /** The file or directory. */
  readonly path?: string;
  /** The system error code (`ENOENT`, `EACCES`, …). */
  readonly errno?: string;
}

/**
 * What a budget error (`E_BUDGET`) or an unknown campaign (`E_NOT_FOUND`) says.
 *
 * @example
 * ```ts
 * import type { BudgetErrorDetails } from '@ctrkit/core';
 * const details: BudgetErrorDetails = { campaignId: 'c-1', price: 0.004, remaining: 0.001 };
 * ```
 */
export interface BudgetErrorDetails extends ErrorDetails {
  /** The campaign concerned. */
  readonly campaignId?: string;
  /** The reservation concerned. */
  readonly reservation?: string;
  /** The price asked, in currency units. */
  readonly price?: number;
  /** What the budget had left, in currency units. */
  readonly remaining?: number;
}

/**
 * The details type of each code: what `details` holds when `code` is that code.
 *
 * @example
 * ```ts
 * import type { ErrorDetailsOf } from '@ctrkit/core';
 * const line = (details: ErrorDetailsOf['E_INPUT']) => details.line;
 * ```
 */
export type ErrorDetailsOf = { readonly [C in ErrorCode]: C extends 'E_INPUT' | 'E_PARSE' ? InputErrorDetails : C extends 'E_IO' ? IoErrorDetails : C extends 'E_BUDGET' | 'E_NOT_FOUND' ? BudgetErrorDetails : ErrorDetails };

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
export interface CtrkitErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The underlying error, kept for diagnostics. */
  readonly cause?: unknown;
  /** Structured context (field name, line number, …) that a host can log; typed per code by {@link ErrorDetailsOf}. */
  readonly details?: ErrorDetailsOf[C];
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
export class CtrkitError<C extends ErrorCode = ErrorCode> extends Error {
  /** What kind of failure this is. */
  readonly code: C;
  /** Structured context for logs, typed per code ({@link ErrorDetailsOf}). */
  readonly details: ErrorDetailsOf[C] | undefined;

  /**
   * @param code - The failure's code.
   * @param message - What was wrong and how to mend it.
   * @param options - Cause and structured details.
   */
  constructor(code: C, message: string, options: CtrkitErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CtrkitError';
    this.code = code;
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A JSON-safe view of the error for logs and HTTP responses. */
  toJSON(): { name: string; code: C; message: string; details?: ErrorDetailsOf[C] } {
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
export function isCtrkitError(value: unknown): value is CtrkitError;
/**
 * Tells whether a value is a {@link CtrkitError} of one code, whose `details` are then typed for it.
 *
 * @param value - Anything caught.
 * @param code - The code it must have.
 * @returns `true` when the value carries ctrkit's error brand and that code.
 * @example
 * ```ts
 * import { CtrkitError, isCtrkitError } from '@ctrkit/core';
 * const error: unknown = new CtrkitError('E_INPUT', 'row 3 is not 0/1', { details: { row: 3 } });
 * if (isCtrkitError(error, 'E_INPUT')) console.log(error.details?.row); // 3, typed number | undefined
 * ```
 */
export function isCtrkitError<C extends ErrorCode>(value: unknown, code: C): value is CtrkitError<C>;
export function isCtrkitError(value: unknown, code?: ErrorCode): value is CtrkitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true && (code === undefined || (value as CtrkitError).code === code);
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
export function ensure<C extends ErrorCode>(
  condition: unknown,
  code: C,
  message: () => string,
  details?: ErrorDetailsOf[C],
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

/**
 * One line for any thrown value, as degradation details carry it: `CODE: message` for a
 * {@link CtrkitError}, the message of another `Error`, else the value as text.
 *
 * @param error - What was thrown.
 * @returns The line.
 * @internal
 */
export function describeError(error: unknown): string {
  if (isCtrkitError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
