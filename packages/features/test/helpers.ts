import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import murmurHash3 from 'murmurhash3js-revisited';

/** The repository root (…/work/main). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A file of the shared data sets, read in place (never copied into the repo), or undefined when absent. */
export function sharedData(relative: string): string | undefined {
  const file = path.resolve(repoRoot, '../shared/data', relative);
  if (existsSync(file)) return file;
  console.warn(`[features tests] ${file} is absent; the tests that read it are skipped`);
  return undefined;
}

const utf8 = new TextEncoder();

/** The reference id of a key: 1 + murmurhash3js-revisited(UTF-8 bytes) mod (idSpace − 1). */
export function referenceId(key: string, seed: number, idSpace: number): number {
  return 1 + (murmurHash3.x86.hash32(utf8.encode(key), seed) % (idSpace - 1));
}
