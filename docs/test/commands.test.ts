/**
 * Every documented command runs as written. The shell blocks of README.md, docs/**\/*.md and the
 * packages' and examples' READMEs are split into commands (shell-blocks.ts), and each is treated
 * as its one rule in command-policy.ts says: run from the repository root, checked statically
 * (the program, the `ctrkit` subcommand and every option against its `--help`, the npm script,
 * the vitest project, the files it reads), or skipped with a reason. A renamed flag, a missing
 * script or a new, unclassified command fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, nodeIo, parseArgs, runCli, type CliIo } from '../../packages/cli/src/index.js';
import { REPO_ROOT, SHARED_DATA_DIR, sharedDataFile } from '../../packages/test-support/src/index.js';
import vitestConfig from '../../vitest.config.js';
import { COMMAND_RULES, type CommandPolicy, type CommandRule } from './command-policy.js';
import { blockCommands, shellBlocks, type DocCommand } from './shell-blocks.js';

const root = REPO_ROOT;

function markdownUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'api' && dir === path.join(root, 'docs') ? [] : markdownUnder(full);
    return full.endsWith('.md') ? [full] : [];
  });
}
const readmes = (dir: string) =>
  readdirSync(path.join(root, dir))
    .map((name) => path.join(root, dir, name, 'README.md'))
    .filter((file) => existsSync(file));
const files = [path.join(root, 'README.md'), ...markdownUnder(path.join(root, 'docs')), ...readmes('packages'), ...readmes('examples')].map((f) => path.relative(root, f));

const parseErrors: string[] = [];
const commands: DocCommand[] = files.flatMap((file) =>
  shellBlocks(file, readFileSync(path.join(root, file), 'utf8')).flatMap((block) => {
    try {
      return blockCommands(block);
    } catch (error) {
      parseErrors.push(`${file}:${block.line}: ${(error as Error).message}`);
      return [];
    }
  }),
);
const where = (c: DocCommand) => `${c.file}:${c.line}`;
const matches = (rule: CommandRule, c: DocCommand) => (typeof rule.match === 'string' ? rule.match === c.text : rule.match.test(c.text));
const classified = commands.map((command) => ({ command, rules: COMMAND_RULES.filter((rule) => matches(rule, command)) }));
const policyOf = (c: DocCommand): CommandPolicy | undefined => {
  const found = classified.find((x) => x.command === c)?.rules;
  return found?.length === 1 ? (found[0] as CommandRule).policy : undefined;
};

// --- static checks -------------------------------------------------------------------------

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
}
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
const rootPackage = readJson(path.join(root, 'package.json'));
const workspaces = new Map<string, { dir: string; pkg: PackageJson }>();
for (const pattern of rootPackage.workspaces ?? []) {
  const dirs = pattern.endsWith('/*') ? readdirSync(path.join(root, pattern.slice(0, -2))).map((d) => `${pattern.slice(0, -2)}/${d}`) : [pattern];
  for (const dir of dirs) {
    const file = path.join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = readJson(file);
    workspaces.set(pkg.name ?? dir, { dir, pkg });
    workspaces.set(dir, { dir, pkg });
  }
}
/** Programs a reader has without the repository (never a workspace bin, which only npx finds). */
const SYSTEM_PROGRAMS = new Set(['bash', 'curl', 'grep', 'head', 'node', 'npm', 'npx', 'redis-server', 'redis-cli', 'echo']);
interface Project {
  readonly root: string;
  readonly include: readonly string[];
}
/** The vitest projects by name, from the root config (the one `npx vitest --project` reads). */
const projects = new Map<string, Project>();
for (const entry of (vitestConfig as { test?: { projects?: unknown[] } }).test?.projects ?? []) {
  const test = (entry as { test?: { name?: string; root?: string; include?: string[] } }).test;
  if (test?.name !== undefined) projects.set(test.name, { root: test.root ?? '.', include: test.include ?? [] });
}

async function helpOf(sub: string): Promise<{ status: number; text: string }> {
  let text = '';
  const sink = { write: (t: string) => (text += t) };
  const io: CliIo = { ...nodeIo(), stdout: sink, stderr: sink, cwd: root, env: {} };
  const status = await runCli([sub, '--help'], io);
  return { status, text };
}

/** Options of each ctrkit command that name a file or directory the command reads. */
const CTRKIT_INPUTS: Readonly<Record<string, readonly string[]>> = {
  simulate: ['log'],
  train: ['data', 'spec', 'field-map'],
  eval: ['model', 'data', 'field-map'],
};

/** Outputs (`--out DIR`) written by the ctrkit commands of each file, in order, for `eval --model`. */
function earlierOutputs(c: DocCommand): Set<string> {
  const out = new Set<string>();
  for (const other of commands) {
    if (other === c) break;
    if (other.file !== c.file) continue;
    const argv = other.stages[0] as readonly string[];
    const i = argv.indexOf('--out');
    if (i !== -1 && argv[i + 1] !== undefined) out.add(argv[i + 1] as string);
  }
  return out;
}

function checkFile(file: string, cwd: string, forWhat: string, problems: string[], alsoOk: ReadonlySet<string> = new Set()): void {
  if (file.startsWith('synthetic:') || alsoOk.has(file)) return;
  const absolute = path.resolve(root, cwd, file);
  const shared = path.relative(SHARED_DATA_DIR, absolute);
  if (!shared.startsWith('..') && !path.isAbsolute(shared)) {
    sharedDataFile(shared, forWhat); // skip-or-fail: a visible skip here, an error in CI
    return;
  }
  if (!existsSync(absolute)) problems.push(`${file} does not exist (relative to ${cwd === '.' ? 'the repository root' : cwd})`);
}

async function checkCtrkit(c: DocCommand, args: readonly string[], cwd: string, problems: string[]): Promise<void> {
  const policy = policyOf(c);
  // A row documented to fail (a usage error shown on purpose) is run, and its status checked there.
  const meantToFail = policy?.mode === 'run' && (policy.exit ?? 0) !== 0;
  const [first, ...rest] = args;
  if (first === undefined || first === '--help' || first === '-h') return;
  const sub = first === 'help' ? rest[0] : first;
  const load = sub === undefined ? undefined : COMMANDS[sub];
  if (sub === undefined || load === undefined) {
    problems.push(`ctrkit has no command ${JSON.stringify(sub)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return;
  }
  const help = await helpOf(sub);
  if (help.status !== 0) problems.push(`ctrkit ${sub} --help exited with ${help.status}`);
  if (first === 'help') return;
  for (const arg of rest) {
    if (!arg.startsWith('--')) continue;
    const flag = arg.split('=')[0] as string;
    if (!new RegExp(`(^|\\s)${flag.replace(/[-]/g, '\\-')}(\\s|$)`, 'm').test(help.text)) problems.push(`${flag} is not in \`ctrkit ${sub} --help\``);
  }
  const command = await load();
  let parsed: ReturnType<typeof parseArgs> | undefined;
  if (meantToFail) return;
  try {
    parsed = parseArgs(rest, command.options, command.name);
  } catch (error) {
    problems.push(`ctrkit ${sub} refuses these options: ${(error as Error).message}`);
  }
  if (parsed === undefined || parsed.help) return;
  const outputs = earlierOutputs(c);
  for (const option of CTRKIT_INPUTS[sub] ?? []) {
    if (!parsed.given(option)) continue;
    checkFile(parsed.string(option) as string, cwd, `docs: ${where(c)} ${c.text}`, problems, outputs);
  }
}

function checkNpm(args: readonly string[], problems: string[]): void {
  const dashDash = args.indexOf('--');
  const own = dashDash === -1 ? args : args.slice(0, dashDash);
  const [verb, ...rest] = own;
  const workspaceFlag = rest.findIndex((a) => a === '-w' || a === '--workspace');
  const workspaceName = workspaceFlag === -1 ? undefined : rest[workspaceFlag + 1];
  const positional = rest.filter((_, i) => workspaceFlag === -1 || (i !== workspaceFlag && i !== workspaceFlag + 1));
  const target = workspaceName === undefined ? { dir: '.', pkg: rootPackage } : workspaces.get(workspaceName);
  if (target === undefined) {
    problems.push(`no workspace ${workspaceName ?? ''} (the root's workspaces: ${[...new Set([...workspaces.values()].map((w) => w.pkg.name))].join(', ')})`);
    return;
  }
  const script = verb === 'run' || verb === 'run-script' ? positional[0] : verb === 'start' || verb === 'test' ? verb : undefined;
  if (script === undefined) {
    problems.push(`npm ${verb ?? ''}: the docs test knows npm run / start / test only; run it or skip it in command-policy.ts`);
    return;
  }
  if (target.pkg.scripts?.[script] === undefined) problems.push(`${path.join(target.dir, 'package.json')} has no script "${script}" (it has: ${Object.keys(target.pkg.scripts ?? {}).join(', ')})`);
}

function testFilesOf(project: Project): string[] {
  const dir = path.join(root, project.root);
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((entry) => {
      const full = path.join(d, entry);
      if (entry === 'node_modules') return [];
      return statSync(full).isDirectory() ? walk(full) : [full];
    });
  const patterns = project.include.map(globPattern);
  return walk(dir).filter((f) => patterns.some((p) => p.test(path.relative(dir, f).split(path.sep).join('/'))));
}

/** `**`, `*` and `?` of the include globs the vitest projects use. */
function globPattern(glob: string): RegExp {
  const body = glob
    .split(/(\*\*\/|\*|\?)/)
    .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

function checkVitest(args: readonly string[], problems: string[]): void {
  const [verb, ...rest] = args;
  if (verb !== 'run') problems.push(`vitest ${verb ?? ''}: documented commands use \`vitest run\` (watch mode never ends)`);
  const names: string[] = [];
  const filters: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--project') names.push(rest[++i] ?? '');
    else if (arg.startsWith('--project=')) names.push(arg.slice('--project='.length));
    else if (!arg.startsWith('-')) filters.push(arg);
  }
  const chosen = names.map((name) => {
    const project = projects.get(name);
    if (project === undefined) problems.push(`vitest.config.ts has no project ${name} (projects: ${[...projects.keys()].join(', ')})`);
    return project;
  });
  const testFiles = chosen.flatMap((p) => (p === undefined ? [] : testFilesOf(p)));
  for (const filter of filters) if (!testFiles.some((f) => f.includes(filter))) problems.push(`no test file of --project ${names.join(', ')} matches ${filter}`);
}

function checkBashScript(args: readonly string[], problems: string[]): void {
  const [script, sub] = args;
  if (script === undefined || !existsSync(path.join(root, script))) {
    problems.push(`${script ?? '(no script)'} does not exist`);
    return;
  }
  if (sub !== undefined && !new RegExp(`^\\s*(\\S+\\|)*${sub}(\\|\\S+)*\\)`, 'm').test(readFileSync(path.join(root, script), 'utf8'))) {
    problems.push(`${script} has no \`${sub})\` case`);
  }
}

function checkCurl(args: readonly string[], cwd: string, problems: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = arg.startsWith('@') ? arg : /^--data(-binary|-raw)?$|^-d$/.test(arg) ? (args[i + 1] ?? '') : '';
    if (value.startsWith('@')) checkFile(value.slice(1), cwd, 'docs: curl', problems);
    if (/^(https?:\/\/)?[a-z0-9.-]+(:\d+)?\//i.test(arg) && !/^(https?:\/\/)?(localhost|127\.0\.0\.1)(:|\/)/.test(arg)) {
      problems.push(`${arg}: a documented curl must talk to the local server only`);
    }
  }
}

/** Static problems of one command: its program and what it names. */
async function staticProblems(c: DocCommand, cwd: string): Promise<string[]> {
  const problems: string[] = [];
  for (const stage of c.stages) {
    const [program, ...args] = stage as [string, ...string[]];
    let name = program;
    let rest: readonly string[] = args;
    if (program === 'npx') {
      name = args[0] ?? '';
      rest = args.slice(1);
      if (!existsSync(path.join(root, 'node_modules/.bin', name))) {
        problems.push(`npx ${name}: node_modules/.bin/${name} is missing after npm ci (a dependency of the root package.json?)`);
        continue;
      }
    } else if (!SYSTEM_PROGRAMS.has(program)) {
      const hint = existsSync(path.join(root, 'node_modules/.bin', program)) ? `write \`npx ${program}\`: ${program} is a bin of the repository, not on PATH after npm ci` : 'add it to SYSTEM_PROGRAMS in commands.test.ts if readers have it';
      problems.push(`${program}: ${hint}`);
      continue;
    }
    if (name === 'ctrkit') await checkCtrkit(c, rest, cwd, problems);
    else if (name === 'npm') checkNpm(rest, problems);
    else if (name === 'vitest') checkVitest(rest, problems);
    else if (name === 'bash') checkBashScript(rest, problems);
    else if (name === 'curl') checkCurl(rest, cwd, problems);
    else if (stage !== c.stages[0]) continue; // grep, head … after a pipe
    else problems.push(`${name}: the docs test has no static check for it; run it or skip it in command-policy.ts`);
  }
  return problems;
}

// --- running ---------------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(tmpdir(), 'ctrkit-docs-commands-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function substituted(c: DocCommand, policy: Extract<CommandPolicy, { mode: 'run' }>): string {
  let text = c.text;
  for (const [from, to] of policy.substitute ?? []) {
    if (!text.includes(from)) throw new Error(`${where(c)}: the substitution of ${JSON.stringify(from)} no longer applies to: ${c.text}`);
    text = text.split(from).join(to.split('${TMP}').join(tmp));
  }
  return text;
}

function run(text: string, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
    delete env.NODE_OPTIONS; // vitest's loader hooks are not the reader's shell
    execFile('bash', ['-c', text], { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr: error !== null && error.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}

function needsSharedData(text: string, forWhat: string): boolean {
  for (const match of text.matchAll(/\.\.\/shared\/data\/(\S+)/g)) if (sharedDataFile(match[1] as string, forWhat) === undefined) return false;
  return true;
}

// --- the tests -------------------------------------------------------------------------------

describe('documented shell commands', () => {
  it('are found in every document that shows some, and read without error', () => {
    expect(parseErrors).toEqual([]);
    expect(commands.length).toBeGreaterThan(40);
    for (const file of ['README.md', 'packages/cli/README.md', 'docs/guides/07-pacing.md']) expect(commands.some((c) => c.file === file)).toBe(true);
  });

  it('each match exactly one rule of command-policy.ts, and every rule is used', () => {
    const unclassified = classified.filter((x) => x.rules.length === 0).map((x) => `${where(x.command)}: ${x.command.text}`);
    const ambiguous = classified.filter((x) => x.rules.length > 1).map((x) => `${where(x.command)}: ${x.command.text} (${x.rules.length} rules)`);
    const unused = COMMAND_RULES.filter((rule) => !commands.some((c) => matches(rule, c))).map((rule) => String(rule.match));
    expect({ unclassified, ambiguous, unused }).toEqual({ unclassified: [], ambiguous: [], unused: [] });
  });

  const checked = commands.filter((c) => policyOf(c)?.mode !== 'skip');
  // Run rows are checked statically too: a broken one says why before it is run.
  it.each(checked.map((c) => [`${where(c)} ${c.text}`, c] as const))('check %s', async (_, c) => {
    const policy = policyOf(c);
    const cwd = policy?.mode === 'check' ? (policy.cwd ?? '.') : '.';
    expect(await staticProblems(c, cwd)).toEqual([]);
  });

  const runs = new Map<string, DocCommand[]>();
  for (const c of commands) {
    const policy = policyOf(c);
    if (policy?.mode !== 'run') continue;
    let text: string;
    try {
      text = substituted(c, policy);
    } catch {
      text = c.text; // reported by the run below
    }
    runs.set(text, [...(runs.get(text) ?? []), c]);
  }
  // Identical commands (after substitution) run once, in document order: train before eval.
  for (const [text, [c, ...also]] of runs) {
    const first = c as DocCommand;
    const policy = policyOf(first) as Extract<CommandPolicy, { mode: 'run' }>;
    const timeoutMs = policy.timeoutMs ?? 60_000;
    const label = `${[first, ...also].map(where).join(', ')} ${first.text}${text === first.text ? '' : ` (run as: ${text.split(tmp).join('$TMP')})`}`;
    it(`run ${label}`, async (ctx) => {
      substituted(first, policy); // throws when a declared substitution no longer applies
      if (!needsSharedData(text, `docs: ${label}`)) ctx.skip();
      const result = await run(text, timeoutMs);
      const expected = policy.exit ?? 0;
      expect(result.status, `exit status of ${text}\n--- stderr ---\n${result.stderr.slice(-4000)}`).toBe(expected);
      if (expected === 0 && / --json(\s|$)/.test(text)) {
        const lines = result.stdout.trim().split('\n');
        expect(lines, 'one JSON object on stdout').toHaveLength(1);
        expect(typeof JSON.parse(lines[0] as string)).toBe('object');
      }
      if (expected !== 0) expect(result.stderr, 'an error says what was wrong on stderr').toMatch(/\S/);
    }, timeoutMs + 10_000);
  }
});
