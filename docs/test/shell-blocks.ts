/**
 * Pulls the shell commands out of Markdown: every ```sh / ```bash / ```shell / ```console block,
 * split into one {@link DocCommand} per simple command, the way a reader would type them.
 *
 * What it understands, because the docs use it: `\` line continuations; `# comments` (outside
 * quotes); `$ ` prompts (in a block that has them, only prompted lines are commands, the rest is
 * output); `&&`, `||` and `;` between commands (each side is a command of its own; a `|` pipeline
 * stays one command); `NAME=value` lines, whose value is substituted for `$NAME` / `${NAME}` in
 * the block's later lines; `for x in a b c; do …; done` (one line or several), unrolled into one
 * command per value; `$(…)`, whose inner command is a command of its own too; `NAME=value cmd`
 * environment prefixes. Anything else (functions, `if`, here-documents) is not shell the docs use,
 * and a block with it fails the test rather than being half-read.
 */

/** One fenced shell block. */
export interface ShellBlock {
  /** The Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the first line inside the fence. */
  readonly line: number;
  /** The fence's language tag. */
  readonly lang: 'sh' | 'bash' | 'shell' | 'console';
  /** The lines inside the fence. */
  readonly lines: readonly string[];
}

/** One simple command (or pipeline) as the docs ask a reader to type it. */
export interface DocCommand {
  /** The Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line the command starts on. */
  readonly line: number;
  /** The command with continuations joined, comments dropped and the block's variables expanded. */
  readonly text: string;
  /** Environment assignments before the program (`REDIS_URL=… npm start`). */
  readonly env: Readonly<Record<string, string>>;
  /** The words of each stage of the pipeline, quotes removed (`$(…)` kept as written). */
  readonly stages: readonly (readonly string[])[];
}

const FENCE = /^\s*```(sh|bash|shell|console)\s*$/;

/**
 * The shell blocks of a Markdown text.
 *
 * @param file - The file's path, for messages.
 * @param markdown - Its text.
 * @returns Its blocks in order.
 */
export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (open === null) {
      // Skip other fences whole, so a ``` inside them is not read as an opening.
      if (/^\s*```/.test(lines[i] as string)) {
        i++;
        while (i < lines.length && !/^\s*```\s*$/.test(lines[i] as string)) i++;
      }
      continue;
    }
    const body: string[] = [];
    const start = i + 2;
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    blocks.push({ file, line: start, lang: open[1] as ShellBlock['lang'], lines: body });
  }
  return blocks;
}

/** Drops an unquoted `# comment` (a `#` at the start of a word). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '\\') i++;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) return line.slice(0, i);
  }
  return line;
}

/** Splits on unquoted `&&`, `||` and `;` outside `$(…)`; keeps `|` pipelines whole. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '\\') i++;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '$' && text[i + 1] === '(') {
      depth++;
      i++;
    } else if (c === ')' && depth > 0) depth--;
    else if (depth === 0 && (c === ';' || ((c === '&' || c === '|') && text[i + 1] === c))) {
      parts.push(text.slice(start, i));
      if (c !== ';') i++;
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

interface Words {
  words: string[][];
  substitutions: string[];
}

/** Shell words of each pipeline stage: quotes removed, `$(…)` kept as written and reported. */
function words(text: string): Words {
  const stages: string[][] = [[]];
  const substitutions: string[] = [];
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) (stages[stages.length - 1] as string[]).push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) end();
    else if (c === '|') {
      end();
      stages.push([]);
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) throw new Error(`unterminated ' in: ${text}`);
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
      }
      if (j >= text.length) throw new Error(`unterminated " in: ${text}`);
      word = (word ?? '') + value;
      i = j;
    } else if (c === '\\') {
      word = (word ?? '') + (text[i + 1] ?? '');
      i++;
    } else if (c === '$' && text[i + 1] === '(') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')') depth--;
      }
      if (depth !== 0) throw new Error(`unterminated $( in: ${text}`);
      substitutions.push(text.slice(i + 2, j - 1));
      word = (word ?? '') + text.slice(i, j);
      i = j - 1;
    } else if ('<>&;(){}`'.includes(c)) {
      throw new Error(`unsupported shell syntax '${c}' in: ${text} (the docs test reads simple commands and pipelines only)`);
    } else word = (word ?? '') + c;
  }
  end();
  return { words: stages, substitutions };
}

function expand(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced: string | undefined, bare: string | undefined) => vars.get((braced ?? bare) as string) ?? all);
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The commands of one block.
 *
 * @param block - The block.
 * @returns One entry per simple command, `$(…)` inner commands and unrolled loop bodies included;
 * variable assignments on a line of their own are not commands (they feed the expansion).
 * @throws Error for shell syntax the docs test does not read (so a block is never half-checked).
 */
export function blockCommands(block: ShellBlock): DocCommand[] {
  const prompted = block.lang === 'console' || block.lines.some((l) => /^\s*\$ /.test(l));
  // Logical lines: prompts removed, comments dropped, continuations joined.
  const logical: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | undefined;
  block.lines.forEach((raw, i) => {
    let text = raw;
    if (pending === undefined) {
      if (prompted) {
        const prompt = /^\s*\$ (.*)$/.exec(text);
        if (prompt === null) return; // output shown in the block
        text = prompt[1] as string;
      }
    }
    text = stripComment(text).trimEnd();
    const continues = text.endsWith('\\');
    if (continues) text = text.slice(0, -1);
    pending = pending === undefined ? { line: block.line + i, text } : { line: pending.line, text: `${pending.text} ${text.trim()}` };
    if (!continues) {
      if (pending.text.trim() !== '') logical.push({ line: pending.line, text: pending.text.trim() });
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`${block.file}:${block.line}: the block ends inside a \\ continuation`);

  const vars = new Map<string, string>();
  const out: DocCommand[] = [];
  const emit = (line: number, text: string, loopVars: ReadonlyMap<string, string>) => {
    const scope = new Map([...vars, ...loopVars]);
    for (const part of splitList(text)) {
      const expanded = expand(part, scope);
      const { words: stages, substitutions } = words(expanded);
      const first = stages[0] as string[];
      const env: Record<string, string> = {};
      while (first.length > 0 && ASSIGNMENT.test(first[0] as string)) {
        const assignment = first.shift() as string;
        const eq = assignment.indexOf('=');
        env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
      }
      if (first.length === 0 && stages.length === 1) {
        // `NAME=value` alone: a variable for the lines below, not a command.
        for (const [name, value] of Object.entries(env)) vars.set(name, value);
        continue;
      }
      if (stages.some((s) => s.length === 0)) throw new Error(`${block.file}:${line}: empty pipeline stage in: ${expanded}`);
      out.push({ file: block.file, line, text: expanded.replace(/\s+/g, ' '), env, stages });
      for (const inner of substitutions) emit(line, inner, loopVars);
    }
  };

  for (let i = 0; i < logical.length; i++) {
    const { line, text } = logical[i] as { line: number; text: string };
    const loop = /^for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+?)\s*;\s*do(?:\s+(.*))?$/.exec(text);
    if (loop === null) {
      if (/^(if|while|until|case|function)\b|^[A-Za-z_]+\s*\(\)/.test(text)) throw new Error(`${block.file}:${line}: unsupported shell syntax: ${text}`);
      emit(line, text, new Map());
      continue;
    }
    const name = loop[1] as string;
    const values = words(expand(loop[2] as string, vars)).words[0] as string[];
    const body: { line: number; text: string }[] = [];
    let rest = loop[3]?.trim() ?? '';
    let at = line;
    let closed = false;
    for (;;) {
      const done = /^(?:(.*?);\s*)?done$/.exec(rest);
      if (done !== null) {
        if ((done[1] ?? '').trim() !== '') body.push({ line: at, text: (done[1] as string).trim() });
        closed = true;
        break;
      }
      if (rest !== '') body.push({ line: at, text: rest });
      i++;
      if (i >= logical.length) break;
      ({ line: at, text: rest } = logical[i] as { line: number; text: string });
    }
    if (!closed) throw new Error(`${block.file}:${line}: for loop without done`);
    for (const value of values) for (const b of body) emit(b.line, b.text, new Map([[name, value]]));
  }
  return out;
}
