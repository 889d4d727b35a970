/**
 * How the server writes errors and reasons out: into log lines, response bodies and headers.
 *
 * @internal
 */
import { isCtrkitError } from '@ctrkit/core';

/**
 * One line for an error: `CODE: message` for a ctrkit error, the message otherwise.
 *
 * @param error - Anything thrown.
 * @returns The line.
 */
export function describe(error: unknown): string {
  if (isCtrkitError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A header value: printable ASCII, at most 300 characters.
 *
 * @param text - Any text (a reason may quote a request's ids).
 * @returns Text safe to send as a header value.
 */
export function headerText(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 300 ? `${ascii.slice(0, 297)}...` : ascii;
}
