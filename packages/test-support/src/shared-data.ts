import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs } from './requirement.js';

/** The repository's root folder. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the real click logs live: `../shared/data` beside the repository, read in place. */
export const SHARED_DATA_DIR = path.resolve(REPO_ROOT, '../shared/data');

/**
 * A file of the shared data sets, under the skip-or-fail rule of {@link needs}.
 *
 * @param relative - The file's path under `../shared/data`, e.g. `criteo/train_10k.tsv`.
 * @param forWhat - Which tests need it (shown in the skip line).
 * @returns Its absolute path, or `undefined` when it is absent (the caller skips the tests that read it).
 * @throws Error when it is absent and `CI` is set: CI has `../shared`, so a missing file is a failure there.
 */
export function sharedDataFile(relative: string, forWhat: string): string | undefined {
  const file = path.join(SHARED_DATA_DIR, relative);
  return needs({ what: `../shared/data/${relative}`, forWhat, present: existsSync(file) }) ? file : undefined;
}
