/**
 * Trains the ad server's DCN-v2 on synthetic traffic into a git-ignored folder (default
 * `artifacts/model/`, the server's default MODEL_DIR). Reuses the folder when it already holds
 * the same version.
 *
 *   npm run model -w @ctrkit/example-ad-server [-- --out DIR --rows 120000 --epochs 2 --seed 1 --id-space 1048576 --force]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeModel } from '../src/training.js';

/** The server's default model directory. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../artifacts/model/', import.meta.url));

const args = new Map<string, string>();
const flags = new Set<string>();
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] ?? '';
  if (arg === '--force') flags.add(arg);
  else {
    args.set(arg, process.argv[i + 1] ?? '');
    i++;
  }
}
const known = new Set(['--out', '--rows', '--epochs', '--seed', '--id-space']);
for (const key of args.keys()) {
  if (!known.has(key)) {
    console.error(`unknown option ${key}; use --out, --rows, --epochs, --seed, --id-space, --force`);
    process.exit(2);
  }
}
const number = (key: string): number | undefined => {
  if (!args.has(key)) return undefined;
  const value = Number(args.get(key));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${key} must be a positive integer, got ${args.get(key)}`);
    process.exit(2);
  }
  return value;
};
const rows = number('--rows');
const epochs = number('--epochs');
const seed = number('--seed');
const idSpace = number('--id-space');
const made = await makeModel({
  out: args.has('--out') ? path.resolve(args.get('--out') as string) : DEFAULT_MODEL_DIR,
  ...(rows === undefined ? {} : { rows }),
  ...(epochs === undefined ? {} : { epochs }),
  ...(seed === undefined ? {} : { seed }),
  ...(idSpace === undefined ? {} : { idSpace }),
  force: flags.has('--force'),
  log: (line) => console.log(line),
});
if (made.reused) console.log(`${made.dir} already holds ${made.version}; pass --force to retrain`);
