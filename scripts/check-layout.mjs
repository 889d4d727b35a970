#!/usr/bin/env node
// The layout check (`npm run check:layout`, a step of .ci/run), for the house rules a reader
// meets first (STYLE.md, "Name files by what they hold"):
//
// 1. No source file (`src/` of a package or an example) over 400 lines unless its first line
//    says why: `// Over 400 lines: <reason>.` A long file is usually several rooms; when it is
//    one room that would be harder to read split, the reason is the first thing a reader sees.
// 2. No `*-impl.ts` file name: it says how a file relates to another, not what it holds.
//
// Exits 1 listing every finding; prints one line when all is well.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const limit = 400;
const reasonPrefix = '// Over 400 lines: ';

/** Every `.ts`/`.tsx`/`.mts` file below `dir`, skipping dependencies and build output. */
function sourceFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(full));
    else if (/\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

const srcDirs = [];
for (const group of ['packages', 'examples']) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const src = join(root, group, entry.name, 'src');
    try {
      readdirSync(src);
      srcDirs.push(src);
    } catch {
      // A workspace without src/ (none today) has nothing to check.
    }
  }
}

const findings = [];
let checked = 0;
let long = 0;
for (const file of srcDirs.flatMap(sourceFiles)) {
  checked += 1;
  const name = relative(root, file);
  if (/-impl\.(ts|tsx|mts|cts)$/.test(file)) {
    findings.push(`${name}: named "-impl"; name the file by what it holds (STYLE.md)`);
  }
  const text = readFileSync(file, 'utf8');
  const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  if (lines <= limit) continue;
  long += 1;
  const first = text.slice(0, text.indexOf('\n'));
  if (!first.startsWith(reasonPrefix) || first.length <= reasonPrefix.length + 3) {
    findings.push(`${name}: ${lines} lines; split it by concern, or make line 1 "${reasonPrefix}<why it stays one file>."`);
  }
}

if (findings.length > 0) {
  process.stderr.write(`✖ layout: ${findings.length} finding(s)\n${findings.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`✔ layout: ${checked} source files, ${long} over ${limit} lines (each says why on line 1), no "-impl" names\n`);
