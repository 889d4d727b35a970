/**
 * Every `@example` in the TSDoc of every package must compile: this test extracts the fenced
 * TypeScript blocks from each source file's doc comments and type-checks them as modules that
 * import the packages by their public names (resolved to `src/` through `@ctrkit/source`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (full.endsWith('.ts') && !full.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** Pulls ```ts blocks out of `/** … *\/` comments that contain `@example`. */
function extractExamples(file: string): Example[] {
  const text = readFileSync(file, 'utf8');
  const examples: Example[] = [];
  const commentPattern = /\/\*\*[\s\S]*?\*\//g;
  for (const match of text.matchAll(commentPattern)) {
    const comment = match[0];
    if (!comment.includes('@example')) continue;
    const lines = comment.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').replace(/^\/\*\*\s?/, ''));
    let inside = false;
    let block: string[] = [];
    let startLine = 0;
    const commentLine = text.slice(0, match.index).split('\n').length;
    lines.forEach((line, i) => {
      if (!inside && /^```(ts|typescript)\s*$/.test(line.trim())) {
        inside = true;
        block = [];
        startLine = commentLine + i + 1;
      } else if (inside && line.trim() === '```') {
        inside = false;
        examples.push({ file, line: startLine, code: block.join('\n') });
      } else if (inside) {
        block.push(line);
      }
    });
  }
  return examples;
}

const packagesDir = path.join(root, 'packages');
const examples = readdirSync(packagesDir)
  .map((name) => path.join(packagesDir, name, 'src'))
  .filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap((dir) => sourceFiles(dir))
  .flatMap(extractExamples);

describe('TSDoc examples', () => {
  it('exist', () => {
    expect(examples.length).toBeGreaterThan(50);
    // Every example imports from a public package name, so it shows how a user reaches the API.
    const withoutImport = examples.filter((e) => !/from '@ctrkit\/[a-z-]+(\/[a-z-]+)?'/.test(e.code));
    expect(withoutImport.map((e) => `${path.relative(root, e.file)}:${e.line}`)).toEqual([]);
  });

  it('all compile against the public package names', () => {
    const base = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.base.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (!base) throw new Error('cannot read tsconfig.base.json');
    const options: ts.CompilerOptions = { ...base.options, noEmit: true, noUnusedLocals: false };
    const virtual = new Map<string, Example>();
    examples.forEach((example, i) => {
      const relative = path.relative(root, example.file).replace(/[\\/]/g, '_').replace(/\.ts$/, '');
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
      return code === undefined
        ? getSourceFile(fileName, languageVersion, onError, shouldCreate)
        : ts.createSourceFile(fileName, code, languageVersion, true);
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
    expect(problems).toEqual([]);
  }, 120_000);
});
