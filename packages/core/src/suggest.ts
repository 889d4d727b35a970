/**
 * Levenshtein distance between two strings (insertions, deletions and substitutions cost 1).
 *
 * @param a - One string.
 * @param b - The other.
 * @returns The number of single-character edits between them.
 * @example
 * ```ts
 * import { editDistance } from '@ctrkit/core/internal';
 * console.log(editDistance('bucketize', 'bucketize')); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length] as number;
}

/**
 * The candidate closest to a word that was probably mistyped, for "did you mean" messages:
 * within an edit distance of 2 (case-insensitive), or a candidate the word is a prefix of (from
 * three characters on).
 *
 * @param word - What was given.
 * @param candidates - What exists.
 * @returns The best match, or `undefined` when none is close.
 * @example
 * ```ts
 * import { closestMatch } from '@ctrkit/core/internal';
 * console.log(closestMatch('budget-ration', ['budget-ratio', 'pacer'])); // budget-ratio
 * console.log(closestMatch('zzz', ['budget-ratio', 'pacer'])); // undefined
 * ```
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const distance = other.startsWith(lower) && lower.length >= 3 ? 1 : editDistance(lower, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
