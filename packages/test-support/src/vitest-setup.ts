/**
 * vitest global setup (root `vitest.config.ts`): gives the run a skip log, and at the end prints
 * every test group that was skipped for want of something from outside, in one block.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SKIP_LOG_ENV } from './requirement.js';

interface SkipLine {
  what: string;
  forWhat: string;
  hint: string | null;
}

/**
 * Creates the run's skip log and returns the teardown that prints it.
 *
 * @returns The teardown vitest calls after the last test.
 */
export default function setup(): () => void {
  // Every vitest project inherits the root's global setup: the first one owns the log.
  if (process.env[SKIP_LOG_ENV] !== undefined) return () => undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-skips-'));
  const file = path.join(dir, 'skips.jsonl');
  process.env[SKIP_LOG_ENV] = file;
  return () => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // nothing was skipped
    }
    rmSync(dir, { recursive: true, force: true });
    const byWhat = new Map<string, { hint: string | null; forWhat: Set<string> }>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const skip = JSON.parse(line) as SkipLine;
      const entry = byWhat.get(skip.what) ?? { hint: skip.hint, forWhat: new Set<string>() };
      entry.forWhat.add(skip.forWhat);
      byWhat.set(skip.what, entry);
    }
    if (byWhat.size === 0) return;
    const lines = ['', `Skipped: ${byWhat.size} thing(s) these tests need are absent here (with CI set they fail instead):`];
    for (const [what, { hint, forWhat }] of [...byWhat].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push(`  ${what}${hint === null ? '' : ` — ${hint}`}`);
      for (const name of [...forWhat].sort()) lines.push(`      ${name}`);
    }
    console.log(lines.join('\n'));
  };
}
