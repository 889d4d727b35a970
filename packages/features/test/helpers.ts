import murmurHash3 from 'murmurhash3js-revisited';
import { REPO_ROOT, sharedDataFile } from '@ctrkit/test-support';

/** The repository root (…/work/main). */
export const repoRoot = REPO_ROOT;

/**
 * A file of the shared data sets, read in place (never copied into the repo), or undefined when
 * absent (skipped visibly; a failure under CI).
 */
export function sharedData(relative: string): string | undefined {
  return sharedDataFile(relative, `features tests reading ${relative}`);
}

const utf8 = new TextEncoder();

/** The reference id of a key: 1 + murmurhash3js-revisited(UTF-8 bytes) mod (idSpace − 1). */
export function referenceId(key: string, seed: number, idSpace: number): number {
  return 1 + (murmurHash3.x86.hash32(utf8.encode(key), seed) % (idSpace - 1));
}
