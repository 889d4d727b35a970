import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { REPO_ROOT } from './shared-data.js';

/**
 * Starts a TypeScript file as a child process the way the tests run sources: `node --import tsx
 * --conditions=@ctrkit/source`, so the packages it imports resolve to their `src/` without a
 * build, from the repository root.
 *
 * @param file - The `.ts` file (absolute).
 * @param args - Its arguments.
 * @param options - `spawn` options; `cwd` defaults to the repository root. Pass `stdio` (add
 * `'ipc'` for `process.send`) and `env` as `spawn` takes them.
 * @returns The child.
 * @example
 * ```ts
 * import { spawnSource } from '@ctrkit/test-support';
 * const child = spawnSource('/work/main/packages/pacing/test/fixtures/ledger-worker.ts', [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
 * child.kill('SIGKILL');
 * ```
 */
export function spawnSource(file: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', file, ...args], { cwd: REPO_ROOT, ...options });
}
