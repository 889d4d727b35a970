#!/usr/bin/env node
// us-spelling.mjs — convert British spellings to US ones in a ctrkit checkout (issue 18).
//
//   node /work/spelling/us-spelling.mjs <repo-root> [--dry-run] [--contexts]
//
// What it does, in order:
//   1. Lists the files git knows or would add (`git ls-files -co --exclude-standard`), skipping
//      package-lock.json, CHANGELOG.md, anything with a NUL byte or that is not UTF-8.
//   2. Collects every word and identifier part (camelCase, PascalCase, snake_case, CONSTANT,
//      kebab-case are split into parts) and decides which are British with hunspell's en_US and
//      en_GB dictionaries: a word is British when en_US rejects it and a US counterpart made by
//      one of the spelling rules below is accepted by en_US (or, for -ise coinages such as
//      "bucketise" that no dictionary knows, when en_US knows the stem or another -ize form).
//      `-ise` alone is never the test: "promise", "otherwise", "exercise" … are accepted by en_US
//      and so are never candidates.
//   3. Rewrites each word and identifier part, keeping its case form (lower, Capitalised, UPPER),
//      outside protected spans: URLs, paths into shared/data, quoted titles of papers and specs,
//      and third-party names listed in KEEP below.
//   4. Renames files and folders whose names carry a British word (`git mv` for tracked files);
//      their import specifiers were rewritten by step 3 because they carry the same word.
//   5. Prints the word table (British → US, occurrences, files).
//
// Markers: a line containing `us-spelling: keep` is left as it is; a file containing
// `us-spelling: keep-file` is left whole (both for deliberate British forms, e.g. a test that the
// old spelling is refused, or the spelling guard's word list).
//
// Idempotent: after one run the tree holds no British word outside protected spans, so a second
// run finds nothing to change. Needs `hunspell` with en_US and en_GB dictionaries
// (Debian: apt-get install hunspell hunspell-en-us hunspell-en-gb). No npm dependencies.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const root = path.resolve(args.find((a) => !a.startsWith('--')) ?? '.');
const DRY = flags.has('--dry-run');
const CONTEXTS = flags.has('--contexts');

// ---------------------------------------------------------------------------------------------
// Curated parts of the decision. Everything else comes from the dictionaries.

/** Irregular pairs no suffix rule makes (checked against en_US like the rest). */
const IRREGULAR = {
  learnt: 'learned',
  unlearnt: 'unlearned',
  spelt: 'spelled',
  misspelt: 'misspelled',
  grey: 'gray',
  greys: 'grays',
  greyed: 'grayed',
  greying: 'graying',
  artefact: 'artifact',
  artefacts: 'artifacts',
  fulfil: 'fulfill',
  fulfils: 'fulfills',
  fulfilment: 'fulfillment',
  enrol: 'enroll',
  enrols: 'enrolls',
  enrolment: 'enrollment',
  instalment: 'installment',
  instalments: 'installments',
  skilful: 'skillful',
  wilful: 'willful',
  programme: 'program',
  programmes: 'programs',
  cheque: 'check',
  aeroplane: 'airplane',
  manoeuvre: 'maneuver',
  manoeuvres: 'maneuvers',
};

/**
 * Words the rules would flag that must stay: not British spellings, or names the project does
 * not own. Checked by hand against the word table printed by a dry run.
 */
const NOT_BRITISH = new Set([
  'queueing', // both spellings are US usage; not an -ise/-our/-ll variant
]);

/**
 * Spans never rewritten, matched per file before any word is touched. Each is a regex whose
 * whole match is protected.
 */
const PROTECT = [
  // URLs: a link keeps its target as published.
  /\b(?:https?|file|ftp):\/\/[^\s<>"'`)\]]+/g,
  // Paths into the shared data folder (../shared/data/…), and so the files' names there.
  /[\w.@~/-]*shared\/data[\w.@~/${}-]*/g,
];

/**
 * Quoted titles of papers and specs keep their spelling: a phrase of three or more words in
 * "…", “…”, *…* or _…_ that starts with a capital, on a line that cites (et al., a year, a
 * venue, arXiv, doi, RFC, "paper", "spec").
 */
const TITLE = /"([A-Z][^"\n]+)"|“([A-Z][^”\n]+)”|(?<![\w*])\*([A-Z][^*\n]+)\*(?![\w*])|(?<![\w])_([A-Z][^_\n]+)_(?![\w])/g;
const CITES = /\bet al\b|\b(?:19|20)\d\d\b|\b(?:KDD|ADKDD|WWW|ICML|NeurIPS|NIPS|RecSys|WSDM|CIKM|SIGIR|IJCAI|AAAI|ICLR|VLDB|arXiv|doi|RFC|Proceedings)\b/;

/**
 * Names that belong to third parties or outside formats and keep their spelling wherever they
 * appear (matched as whole identifiers). None of the tree's third-party APIs is British; these
 * are the British-looking names in its dependencies' types that code here could meet.
 */
const KEEP = [
  'aria-labelledby', // HTML attribute
  'ariaLabelledBy', // DOM ARIA reflection
  'ariaLabelledByElements',
  'WSANOTINITIALISED', // Windows socket error code (Node's os.constants)
];

// ---------------------------------------------------------------------------------------------
// Suffix rules: each maps a lowercase British form to its US counterpart (or undefined).

const RULES = [
  { name: '-ise→-ize', re: /is(e|es|ed|er|ers|ing|ation|ations|able|ability)$/, to: 'iz$1', coinage: true },
  { name: '-yse→-yze', re: /ys(e|es|ed|er|ers|ing)$/, to: 'yz$1' },
  { name: '-our→-or', re: /our(s|ed|ing|ite|ites|able|ably|ful|fully|al|ally|er|ers|less|ism|ist|hood|hoods)?$/, to: 'or$1' },
  { name: '-ll-→-l-', re: /ll(ed|ing|er|ers)$/, to: 'l$1' },
  { name: '-tre→-ter', re: /tre(s|d)?$/, to: 'ter$1' },
  { name: '-ogue→-og', re: /ogue(s)?$/, to: 'og$1' },
  { name: '-ence→-ense', re: /(?<=c|f|t)ence(s)?$/, to: 'ense$1' },
  { name: '-dgement→-dgment', re: /dgement(s)?$/, to: 'dgment$1' },
];

// ---------------------------------------------------------------------------------------------

function git(...a) {
  return execFileSync('git', a, { cwd: root, maxBuffer: 1 << 28 });
}

function listFiles() {
  return git('ls-files', '-co', '--exclude-standard', '-z')
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .filter((f) => {
      const base = path.posix.basename(f);
      return base !== 'package-lock.json' && base !== 'CHANGELOG.md';
    })
    .filter((f) => !/(^|\/)shared\/data(\/|$)/.test(f));
}

function readText(rel) {
  const abs = path.join(root, rel);
  let buf;
  try {
    if (!statSync(abs).isFile()) return undefined;
    buf = readFileSync(abs);
  } catch {
    return undefined;
  }
  if (buf.includes(0)) return undefined;
  const text = buf.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(buf)) return undefined; // not UTF-8: leave it
  return text;
}

/** Identifier parts: `honourLimitAdTracking` → honour, Limit, Ad, Tracking. */
function parts(token) {
  return token.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[0-9]+/).filter((p) => p.length >= 3);
}

function hunspell(dict, mode, words) {
  const r = spawnSync('hunspell', ['-d', dict, mode], { input: words.join('\n') + '\n', maxBuffer: 1 << 26 });
  if (r.error || r.status !== 0) {
    console.error(`us-spelling: hunspell -d ${dict} failed (${r.error?.message ?? r.stderr}). Install: apt-get install hunspell hunspell-en-us hunspell-en-gb`);
    process.exit(2);
  }
  return new Set(r.stdout.toString('utf8').split('\n').filter(Boolean));
}

function computeSpans(text) {
  const spans = [];
  for (const re of PROTECT) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) spans.push([m.index, m.index + m[0].length]);
  }
  for (const name of KEEP) {
    const re = new RegExp(`(?<![A-Za-z0-9_$-])${name.replace(/[-]/g, '\\-')}(?![A-Za-z0-9_$-])`, 'g');
    for (const m of text.matchAll(re)) spans.push([m.index, m.index + m[0].length]);
  }
  // A line marked `us-spelling: keep` keeps its spelling (a test that feeds the old British key
  // to the validator, say).
  for (const m of text.matchAll(/^.*us-spelling: keep\b.*$/gm)) spans.push([m.index, m.index + m[0].length]);
  TITLE.lastIndex = 0;
  for (const m of text.matchAll(TITLE)) {
    const inner = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
    if (inner.trim().split(/\s+/).length >= 3 && CITES.test(line(text, m.index, Infinity))) spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

const inSpans = (spans, i, j) => spans.some(([a, b]) => i < b && j > a);

function caseLike(sample, us) {
  if (sample === sample.toUpperCase()) return us.toUpperCase();
  if (sample[0] === sample[0].toUpperCase()) return us[0].toUpperCase() + us.slice(1);
  return us;
}

/** One regex per word finding it as a whole word or an identifier part, in any case form. */
function wordRegex(w) {
  const cap = w[0].toUpperCase() + w.slice(1);
  const up = w.toUpperCase();
  return new RegExp(
    [
      `(?<![A-Za-z])${w}(?![a-z])`, // lower: normalise, normaliseX, behaviour_rules, ./normalise.js
      `${cap}(?![a-z])`, // Capitalised: Normalise, checkNormalise, LabelledRows
      `(?<![A-Z])${up}(?![A-Z]|[a-z])`, // UPPER: NORMALISE, NORMALISE_X
      `(?<![A-Z])${up}(?=[A-Z][a-z])`, // UPPER before a Capitalised part: NORMALISEDValue
    ].join('|'),
    'g',
  );
}

// ---------------------------------------------------------------------------------------------

function decide(words) {
  const usRejects = hunspell('en_US', '-l', words);
  const candidates = new Map(); // british -> { us, rule }
  const proposals = [];
  for (const w of usRejects) {
    if (NOT_BRITISH.has(w)) continue;
    if (IRREGULAR[w]) {
      proposals.push({ w, u: IRREGULAR[w], rule: 'irregular' });
      continue;
    }
    for (const rule of RULES) {
      if (!rule.re.test(w)) continue;
      // -our→-or and -ence→-ense may apply at the last matching position only; -ll- likewise.
      const u = w.replace(rule.re, rule.to);
      if (u !== w) proposals.push({ w, u, rule: rule.name, coinage: rule.coinage, stem: w.replace(rule.re, '') });
    }
  }
  // Also -our inside a word: neighbourhood, colourful are covered by suffixes; flavourings too.
  const checkUs = [...new Set(proposals.flatMap((p) => [p.u, ...(p.coinage ? izeFamily(p.stem) : []), ...(p.stem ? [p.stem] : [])]))];
  const usRejectsU = hunspell('en_US', '-l', checkUs);
  const gbAccepts = hunspell('en_GB', '-G', proposals.map((p) => p.w));
  for (const p of proposals) {
    if (candidates.has(p.w)) continue;
    const usOk = !usRejectsU.has(p.u);
    let ok = false;
    if (p.rule === 'irregular') ok = usOk;
    else if (usOk && gbAccepts.has(p.w)) ok = true;
    else if (usOk && p.rule === '-ise→-ize') ok = true; // en_GB lacks some -ise inflections (memorises)
    else if (p.coinage && p.stem.length >= 4) {
      // A coinage no dictionary knows (bucketise): en_US knows the stem or an -ize form of it.
      ok = !usRejectsU.has(p.stem) || izeFamily(p.stem).some((f) => !usRejectsU.has(f));
    }
    if (ok) candidates.set(p.w, { us: p.u, rule: p.rule });
  }
  // Prefixed forms no dictionary lists (unnormalised, renormalise): prefix + a decided word.
  for (const w of usRejects) {
    if (candidates.has(w) || NOT_BRITISH.has(w)) continue;
    for (const prefix of PREFIXES) {
      const rest = candidates.get(w.slice(prefix.length));
      if (w.startsWith(prefix) && rest) {
        candidates.set(w, { us: prefix + rest.us, rule: `${prefix}- + ${rest.rule}` });
        break;
      }
    }
  }
  return candidates;
}

const PREFIXES = ['un', 're', 'de', 'non', 'pre', 'over', 'under', 'mis', 'auto', 'multi', 'self'];

function izeFamily(stem) {
  return ['ize', 'izes', 'ized', 'izing', 'izer', 'ization'].map((s) => stem + s);
}

// ---------------------------------------------------------------------------------------------

function main() {
  if (!existsSync(path.join(root, '.git'))) {
    console.error(`us-spelling: ${root} is not a git checkout`);
    process.exit(2);
  }
  const files = listFiles();
  const texts = new Map();
  const words = new Set();
  for (const f of files) {
    const t = readText(f);
    if (t !== undefined) texts.set(f, t);
    for (const src of [t !== undefined && !t.includes('us-spelling: keep-file') ? t : '', f]) {
      for (const tok of src.match(/[A-Za-z][A-Za-z0-9]*/g) ?? []) for (const p of parts(tok)) words.add(p.toLowerCase());
    }
  }
  const table = decide([...words].sort());
  const regexes = [...table.keys()].map((w) => [w, wordRegex(w)]);

  const stats = new Map([...table.keys()].map((w) => [w, { n: 0, files: new Set(), kept: 0 }]));
  let changedFiles = 0;
  const contexts = [];
  for (const [f, text] of texts) {
    // A file marked `us-spelling: keep-file` (the spelling guard's own word list) is left whole.
    if (text.includes('us-spelling: keep-file')) continue;
    const spans = computeSpans(text);
    let out = text;
    // All words at once, by position, so a protected span is judged on the original text.
    const edits = [];
    for (const [w, re] of regexes) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        const s = stats.get(w);
        if (inSpans(spans, m.index, m.index + m[0].length)) {
          s.kept++;
          if (CONTEXTS) contexts.push(`KEPT ${f}: ${line(text, m.index)}`);
          continue;
        }
        edits.push([m.index, m[0].length, caseLike(m[0], table.get(w).us)]);
        s.n++;
        s.files.add(f);
        if (CONTEXTS) contexts.push(`${w.padEnd(18)} ${f}: ${line(text, m.index)}`);
      }
    }
    if (edits.length === 0) continue;
    // Apply from the end; an edit overlapping one already applied is dropped (cannot happen with
    // whole-part matching, but a wrong edit would be worse than a missed one).
    edits.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    let floor = Infinity;
    for (const [i, len, rep] of edits) {
      if (i + len > floor) continue;
      out = out.slice(0, i) + rep + out.slice(i + len);
      floor = i;
    }
    if (out !== text) {
      changedFiles++;
      if (!DRY) writeFileSync(path.join(root, f), out);
    }
  }

  // Renames: any path segment carrying a British word.
  const tracked = new Set(git('ls-files', '-z').toString('utf8').split('\0').filter(Boolean));
  const renames = [];
  for (const f of files) {
    if (!existsSync(path.join(root, f))) continue;
    let to = f;
    for (const [w, re] of regexes) {
      re.lastIndex = 0;
      to = to.replace(re, (m) => caseLike(m, table.get(w).us));
    }
    if (to !== f) renames.push([f, to]);
  }
  for (const [from, to] of renames) {
    if (DRY) continue;
    if (existsSync(path.join(root, to))) {
      console.error(`us-spelling: not renaming ${from}: ${to} exists already (merge them by hand)`);
      process.exitCode = 1;
      continue;
    }
    mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    if (tracked.has(from)) git('mv', from, to);
    else renameSync(path.join(root, from), path.join(root, to));
  }

  if (CONTEXTS) console.log(contexts.join('\n'));
  printTable(table, stats, renames, changedFiles);
}

function line(text, i, max = 160) {
  const a = text.lastIndexOf('\n', i) + 1;
  const b = text.indexOf('\n', i);
  return text.slice(a, b < 0 ? undefined : b).trim().slice(0, max);
}

function printTable(table, stats, renames, changedFiles) {
  const rows = [...table].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(8, ...rows.map(([w]) => w.length));
  console.log(`us-spelling: ${DRY ? '(dry run) ' : ''}${root}`);
  console.log(`${'British'.padEnd(width)}  ${'US'.padEnd(width)}  rule              edits  files  kept`);
  for (const [w, { us, rule }] of rows) {
    const s = stats.get(w);
    console.log(`${w.padEnd(width)}  ${us.padEnd(width)}  ${rule.padEnd(16)}  ${String(s.n).padStart(5)}  ${String(s.files.size).padStart(5)}  ${String(s.kept).padStart(4)}`);
  }
  const total = rows.reduce((n, [w]) => n + stats.get(w).n, 0);
  console.log(`${rows.length} words, ${total} edits in ${changedFiles} files; ${renames.length} renames`);
  for (const [a, b] of renames) console.log(`  rename ${a} → ${b}`);
}

main();
