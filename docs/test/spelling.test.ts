/**
 * One spelling (US) across the tree — exported names, TSDoc, guides, READMEs, tests (issue 18).
 *
 * `scripts/us-spelling.mjs` converted the tree once with hunspell's dictionaries; this guard needs
 * none of them, so it runs on any machine: it scans every file git knows (tracked, or untracked
 * and not ignored) for the British forms listed below — each word and each part of an identifier
 * (`personalisedAds` → personalised, ads), in any case — and for any word ending in `-isation(s)`,
 * which US English never spells so. What the codemod leaves alone is left alone here too: URLs,
 * paths into the shared data folder, cited paper titles, third-party names, lines marked
 * `us-spelling: keep`, files marked `us-spelling: keep-file`, CHANGELOG.md and package-lock.json.
 *
 * us-spelling: keep-file (the word list below is British on purpose)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** -ise verbs and their forms: each stem takes -ise, -ised, -ises, -ising, -iser(s), -isation(s), -isable. */
const ISE_STEMS = [
  'amort', 'apolog', 'author', 'bucket', 'capital', 'categor', 'central', 'character', 'custom',
  'discret', 'emphas', 'factor', 'final', 'general', 'initial', 'legal', 'local', 'material', 'maxim',
  'memo', 'memor', 'minim', 'neutral', 'normal', 'optim', 'organ', 'parameter', 'penal', 'personal',
  'priorit', 'quant', 'random', 'real', 'recogn', 'regular', 'sanit', 'serial', 'special', 'stabil',
  'standard', 'summar', 'synchron', 'token', 'util', 'vector', 'visual',
];
const ISE_ENDINGS = ['ise', 'ised', 'ises', 'ising', 'iser', 'isers', 'isable'];

/** Other British forms: -our, -ll-, -tre, -ogue, -yse, irregulars. */
const OTHER = [
  'behaviour', 'behaviours', 'behavioural', 'colour', 'colours', 'coloured', 'favour', 'favours', 'favoured',
  'favourite', 'flavour', 'flavours', 'honour', 'honours', 'honoured', 'labour', 'neighbour', 'neighbours',
  'rumour', 'endeavour', 'armour', 'humour', 'vapour',
  'labelled', 'labelling', 'unlabelled', 'modelled', 'modelling', 'signalled', 'signalling', 'travelled',
  'travelling', 'levelled', 'levelling', 'cancelled', 'cancelling', 'totalled', 'totalling', 'channelled',
  'centre', 'centres', 'centred', 'metre', 'metres', 'litre', 'fibre',
  'catalogue', 'catalogues', 'dialogue', 'analogue',
  'analyse', 'analysed', 'analysing', 'paralyse', 'catalyse',
  'learnt', 'spelt', 'misspelt', 'grey', 'artefact', 'artefacts', 'fulfil', 'fulfilment', 'programme',
  'programmes', 'cheque', 'acknowledgement', 'acknowledgements', 'judgement', 'judgements', 'defence',
  'licence', 'offence',
];

const BRITISH = new Set([...ISE_STEMS.flatMap((stem) => ISE_ENDINGS.map((ending) => stem + ending)), ...OTHER]);
const ISATION = /isations?$/;

/** Spans never judged, as in the codemod: URLs, shared data paths, third-party names, keep lines. */
const PROTECT = [
  /\b(?:https?|file|ftp):\/\/[^\s<>"'`)\]]+/g,
  /[\w.@~/-]*shared\/data[\w.@~/${}-]*/g,
  /(?<![A-Za-z0-9_$-])(?:aria-labelledby|ariaLabelledBy|ariaLabelledByElements|WSANOTINITIALISED)(?![A-Za-z0-9_$-])/g,
  /^.*us-spelling: keep\b.*$/gm,
];
/** A quoted title of three or more words on a line that cites (et al., a year, a venue, arXiv). */
const TITLE = /"([A-Z][^"\n]+)"|“([A-Z][^”\n]+)”|(?<![\w*])\*([A-Z][^*\n]+)\*(?![\w*])|(?<![\w])_([A-Z][^_\n]+)_(?![\w])/g;
const CITES = /\bet al\b|\b(?:19|20)\d\d\b|\b(?:KDD|ADKDD|WWW|ICML|NeurIPS|NIPS|RecSys|WSDM|CIKM|SIGIR|IJCAI|AAAI|ICLR|VLDB|arXiv|doi|RFC|Proceedings)\b/;

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, maxBuffer: 1 << 28 })
    .toString('utf8')
    .split('\0')
    .filter((file) => file.length > 0)
    .filter((file) => !['package-lock.json', 'CHANGELOG.md'].includes(path.posix.basename(file)));
}

function readText(file: string): string | undefined {
  const full = path.join(root, file);
  try {
    if (!statSync(full).isFile()) return undefined;
  } catch {
    return undefined; // listed by git but deleted in the working tree
  }
  const bytes = readFileSync(full);
  if (bytes.includes(0)) return undefined;
  const text = bytes.toString('utf8');
  return text.includes('us-spelling: keep-file') ? undefined : text;
}

/** The text with every protected span blanked out (same length, so columns stay right). */
function unprotected(text: string): string {
  let out = text;
  const blank = (start: number, end: number): void => {
    out = out.slice(0, start) + ' '.repeat(end - start) + out.slice(end);
  };
  for (const pattern of PROTECT) for (const match of text.matchAll(pattern)) blank(match.index, match.index + match[0].length);
  for (const match of text.matchAll(TITLE)) {
    const inner = match[1] ?? match[2] ?? match[3] ?? match[4] ?? '';
    const lineStart = text.lastIndexOf('\n', match.index) + 1;
    const lineEnd = text.indexOf('\n', match.index);
    if (inner.trim().split(/\s+/).length >= 3 && CITES.test(text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd))) blank(match.index, match.index + match[0].length);
  }
  return out;
}

/** Each British word of a file, as `path:line: word`. */
function britishWords(file: string, text: string): string[] {
  const found: string[] = [];
  const lines = unprotected(text).split('\n');
  for (const [index, line] of lines.entries()) {
    for (const token of line.match(/[A-Za-z]+/g) ?? []) {
      for (const part of token.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) {
        const word = part.toLowerCase();
        if (word.length >= 4 && (BRITISH.has(word) || ISATION.test(word))) found.push(`${file}:${index + 1}: ${part}`);
      }
    }
  }
  return found;
}

describe('one spelling', () => {
  it('the word list knows the forms the codemod converted', () => {
    for (const word of ['personalised', 'normalise', 'bucketised', 'behaviour', 'labelled', 'catalogue', 'learnt']) expect(BRITISH.has(word)).toBe(true);
    expect(britishWords('x.ts', 'const personalisedAds = normaliseWeights(utilisation);')).toEqual(['x.ts:1: personalised', 'x.ts:1: normalise', 'x.ts:1: utilisation']);
    expect(britishWords('x.md', 'see https://example.org/behaviour and ../shared/data/labelled.tsv')).toEqual([]);
    expect(britishWords('x.ts', 'promise, otherwise, exercise, precise, raise, noise, labeled, normalized')).toEqual([]);
  });

  it('no file git knows holds a British spelling (fix: node scripts/us-spelling.mjs .)', () => {
    const found = trackedFiles().flatMap((file) => {
      const text = readText(file);
      return text === undefined ? [] : britishWords(file, text);
    });
    expect(found).toEqual([]);
  });
});
