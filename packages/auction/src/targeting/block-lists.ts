/**
 * Block lists: categories (a code and its subcategories, memoized per request) and advertisers or
 * domains (a domain also blocks its subdomains), the filter's own merged with the request's.
 */
import type { AdCandidate } from '@ctrkit/core';
import { categoryBlocked } from '../categories.js';

/** @internal The code of `candidate` that `blocked` covers, if any: its `cat` codes, else its `category`. */
export function blockedCode(candidate: AdCandidate, blocked: ReadonlySet<string>, cache: Map<string, boolean>): string | undefined {
  const codes = candidate.cat;
  if (codes === undefined || codes.length === 0) return isBlocked(candidate.category, blocked, cache) ? candidate.category : undefined;
  for (const code of codes) if (isBlocked(code, blocked, cache)) return code;
  return undefined;
}

function isBlocked(code: string, blocked: ReadonlySet<string>, cache: Map<string, boolean>): boolean {
  let hit = cache.get(code);
  if (hit === undefined) {
    hit = categoryBlocked(code, blocked);
    cache.set(code, hit);
  }
  return hit;
}

/** @internal Whether `domain` or a parent domain of it is in `blocked` (lower-case entries). */
export function domainBlocked(domain: string, blocked: ReadonlySet<string>): boolean {
  let d = domain.toLowerCase();
  for (;;) {
    if (blocked.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot < 0 || d.indexOf('.', dot + 1) < 0) return false;
    d = d.slice(dot + 1);
  }
}

/** @internal The union of two block lists (lower-cased with `lower`), or undefined when both are empty. */
export function merged(a: readonly string[] | undefined, b: readonly string[] | undefined, lower: boolean): ReadonlySet<string> | undefined {
  if (!a?.length && !b?.length) return undefined;
  const set = new Set<string>();
  for (const item of a ?? []) set.add(lower ? item.toLowerCase() : item);
  for (const item of b ?? []) set.add(lower ? item.toLowerCase() : item);
  return set;
}
