#!/usr/bin/env node
// The `ctrkit` command's launcher. It is committed (not built), so npm links the bin at install
// time, before any build: `npx ctrkit` works right after `npm ci` in a fresh clone.
//
// - Inside the ctrkit repository (the monorepo's root package.json beside us) it runs the
//   TypeScript sources through tsx with the `@ctrkit/source` condition, so the command always
//   matches the code in the tree — never a stale `dist/`.
// - Anywhere else (an installed package) it runs the built `dist/bin.js`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));

function inRepository() {
  try {
    return JSON.parse(readFileSync(here('../../../package.json'), 'utf8')).name === 'ctrkit-monorepo' && existsSync(here('../src/bin.ts'));
  } catch {
    return false;
  }
}

if (inRepository()) {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const child = spawn(process.execPath, ['--conditions=@ctrkit/source', '--import', pathToFileURL(tsx).href, here('../src/bin.ts'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child through the terminal's process group; forward what a supervisor sends.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
} else {
  const dist = here('../dist/bin.js');
  if (!existsSync(dist)) {
    process.stderr.write(`ctrkit: ${dist} is missing; build the package first (npm run build -w @ctrkit/cli)\n`);
    process.exit(1);
  }
  await import(pathToFileURL(dist).href);
}
