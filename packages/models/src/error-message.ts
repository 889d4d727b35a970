/** The message of something thrown, which need not be an `Error`. */

/** @internal `error.message` for an `Error`, its string form for anything else thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
