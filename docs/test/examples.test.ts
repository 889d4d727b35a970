/**
 * The documentation's code must compile and its promises must hold:
 *
 * - every `@example` in the TSDoc of every package, and every ```ts block of the guides in
 *   `docs/`, is type-checked as a module that imports the packages by their public names
 *   (resolved to `src/` through `@ctrkit/source`);
 * - every export of every entry point the API reference documents has TSDoc with an `@example`;
 * - every relative link of the guides points at a file or folder that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docsDir = path.join(root, 'docs');
const packagesDir = path.join(root, 'packages');

function filesUnder(dir: string, suffix: string, skip: (full: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (skip(full)) continue;
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, suffix, skip));
    else if (full.endsWith(suffix) && !full.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** Pulls ```ts blocks out of `/** … *\/` comments that contain `@example`. */
function extractTsDocExamples(file: string): Example[] {
  const text = readFileSync(file, 'utf8');
  const examples: Example[] = [];
  const commentPattern = /\/\*\*[\s\S]*?\*\//g;
  for (const match of text.matchAll(commentPattern)) {
    const comment = match[0];
    if (!comment.includes('@example')) continue;
    const lines = comment.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').replace(/^\/\*\*\s?/, ''));
    const commentLine = text.slice(0, match.index).split('\n').length;
    examples.push(...fencedBlocks(file, lines, commentLine));
  }
  return examples;
}

/** The ```ts / ```typescript blocks among lines (other fences are skipped whole). */
function fencedBlocks(file: string, lines: readonly string[], firstLine: number): Example[] {
  const examples: Example[] = [];
  let fence: 'ts' | 'other' | undefined;
  let block: string[] = [];
  let startLine = 0;
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (fence === undefined && trimmed.startsWith('```')) {
      fence = /^```(ts|typescript)\s*$/.test(trimmed) ? 'ts' : 'other';
      block = [];
      startLine = firstLine + i + 1;
    } else if (fence !== undefined && trimmed === '```') {
      if (fence === 'ts') examples.push({ file, line: startLine, code: block.join('\n') });
      fence = undefined;
    } else if (fence === 'ts') {
      block.push(line);
    }
  });
  return examples;
}

/** The published packages: private workspaces (test-support) are not documented. */
const packageNames = readdirSync(packagesDir).filter((name) => {
  try {
    if (!statSync(path.join(packagesDir, name, 'src')).isDirectory()) return false;
    return (JSON.parse(readFileSync(path.join(packagesDir, name, 'package.json'), 'utf8')) as { private?: boolean }).private !== true;
  } catch {
    return false;
  }
});
const examples = packageNames.flatMap((name) => filesUnder(path.join(packagesDir, name, 'src'), '.ts')).flatMap(extractTsDocExamples);
/** The guides: every Markdown file in docs/ but the generated API reference. */
const guides = filesUnder(docsDir, '.md', (full) => full === path.join(docsDir, 'api'));
const guideBlocks = guides.flatMap((file) => fencedBlocks(file, readFileSync(file, 'utf8').split('\n'), 0));

function compilerOptions(): ts.CompilerOptions {
  const base = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.base.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!base) throw new Error('cannot read tsconfig.base.json');
  return { ...base.options, noEmit: true, noUnusedLocals: false };
}

/** Type-checks each example as its own module; returns `file:line: message` for every problem. */
function compile(snippets: readonly Example[]): string[] {
  const options = compilerOptions();
  const virtual = new Map<string, Example>();
  snippets.forEach((example, i) => {
    const relative = path.relative(root, example.file).replace(/[\\/]/g, '_').replace(/\.(ts|md)$/, '');
    virtual.set(path.join(root, '.examples', `${relative}_${example.line}_${i}.ts`), example);
  });
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const codeOf = (fileName: string) => {
    const example = virtual.get(path.resolve(fileName));
    return example === undefined ? undefined : `${example.code}\nexport {};\n`;
  };
  host.readFile = (fileName) => codeOf(fileName) ?? readFile(fileName);
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const code = codeOf(fileName);
    return code === undefined ? getSourceFile(fileName, languageVersion, onError, shouldCreate) : ts.createSourceFile(fileName, code, languageVersion, true);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: string[] = [];
  for (const sourceFile of program.getSourceFiles()) {
    const example = virtual.get(path.resolve(sourceFile.fileName));
    if (example === undefined) continue;
    for (const diagnostic of [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const where = diagnostic.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line;
      problems.push(`${path.relative(root, example.file)}:${example.line + where}: ${message}`);
    }
  }
  return problems;
}

describe('TSDoc examples', () => {
  it('exist', () => {
    expect(examples.length).toBeGreaterThan(50);
    // Every example imports from a public package name, so it shows how a user reaches the API.
    const withoutImport = examples.filter((e) => !/from '@ctrkit\/[a-z-]+(\/[a-z-]+)?'/.test(e.code));
    expect(withoutImport.map((e) => `${path.relative(root, e.file)}:${e.line}`)).toEqual([]);
  });

  it('all compile against the public package names', () => {
    expect(compile(examples)).toEqual([]);
  }, 120_000);

  it('cover every export of every documented entry point', () => {
    // The entry points typedoc documents: each package's typedoc.json.
    const entries = packageNames.flatMap((name) => {
      const config = JSON.parse(readFileSync(path.join(packagesDir, name, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
      return config.entryPoints.map((entry) => path.join(packagesDir, name, entry));
    });
    const program = ts.createProgram(entries, compilerOptions());
    const checker = program.getTypeChecker();
    const missing: string[] = [];
    let exports = 0;
    for (const entry of entries) {
      const source = program.getSourceFile(entry);
      const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
      if (module === undefined) throw new Error(`${entry} is not a module`);
      for (const symbol of checker.getExportsOfModule(module)) {
        exports++;
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const hasExample = (target.declarations ?? []).some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'example'));
        if (!hasExample) missing.push(`${path.relative(root, entry)}: ${symbol.name}`);
      }
    }
    expect(exports).toBeGreaterThan(400);
    expect(missing).toEqual([]);
  }, 120_000);
});

describe('guides', () => {
  it('exist, one per topic, with TypeScript to check', () => {
    // Other documents (results tables) may sit beside the guides; every topic must have its guide.
    expect(guides.map((file) => path.relative(docsDir, file)).sort()).toEqual(
      expect.arrayContaining([
        'README.md',
        'guides/01-quickstart.md',
        'guides/02-concepts.md',
        'guides/03-feature-specs.md',
        'guides/04-bring-your-own-model.md',
        'guides/05-calibration.md',
        'guides/06-auctions.md',
        'guides/07-pacing.md',
        'guides/08-redis.md',
        'guides/09-monitoring.md',
        'guides/10-privacy.md',
        'guides/11-browser.md',
        'guides/12-performance.md',
      ]),
    );
    expect(guideBlocks.length).toBeGreaterThan(10);
  });

  it('have TypeScript blocks that compile against the public package names', () => {
    expect(compile(guideBlocks)).toEqual([]);
  }, 120_000);

  it('link only to files and folders that exist', () => {
    const broken: string[] = [];
    for (const file of guides) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (match[1] as string).split('#')[0] as string;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        if (!existsSync(path.resolve(path.dirname(file), target))) broken.push(`${path.relative(root, file)}: ${match[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
