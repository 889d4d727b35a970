import { appendFileSync } from 'node:fs';
import path from 'node:path';

/** Something from outside that some tests need: a data file, a running Redis, a browser. */
export interface Requirement {
  /** What is needed, e.g. `../shared/data/criteo/train_10k.tsv` or `Redis at 127.0.0.1:6379`. */
  readonly what: string;
  /** Which tests need it, e.g. `features: encoding the Criteo sample`. */
  readonly forWhat: string;
  /** Whether it is there. */
  readonly present: boolean;
  /** How to get it, shown when it is missing (e.g. `apt-get install chromium`). */
  readonly hint?: string;
}

/** Set by the root vitest setup: the file the run's skips are appended to, printed as one block at the end. */
export const SKIP_LOG_ENV = 'CTRKIT_SKIP_LOG';

/**
 * The skip-or-fail rule for tests that need something from outside the clone. When it is there,
 * the tests run. When it is absent on a developer's machine (a fresh clone has no `../shared`, may
 * have no Redis or Chromium), the tests are skipped with one visible line, and the run lists every
 * skip in one block at its end. When it is absent and `CI` is set, that is an error: CI installs
 * and starts everything, so a skip there would hide a broken setup.
 *
 * @param requirement - What is needed, by which tests, and whether it is present.
 * @returns `true` when the tests can run; `false` when they are to be skipped.
 * @throws Error when it is absent and `CI` is set (the test file fails, naming what is missing).
 */
export function needs(requirement: Requirement): boolean {
  if (requirement.present) return true;
  const hint = requirement.hint === undefined ? '' : ` (${requirement.hint})`;
  if (inCi()) throw new Error(`CI is set but ${requirement.what} is absent${hint}: ${requirement.forWhat} must run in CI`);
  console.warn(`[skipped] ${requirement.forWhat}: ${requirement.what} is absent${hint}`);
  const log = process.env[SKIP_LOG_ENV];
  if (log !== undefined && log !== '') {
    appendFileSync(path.join(log), `${JSON.stringify({ what: requirement.what, forWhat: requirement.forWhat, hint: requirement.hint ?? null })}\n`);
  }
  return false;
}

function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
