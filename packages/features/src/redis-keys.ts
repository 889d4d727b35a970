/**
 * The Redis store's key layout: `<prefix>{u:<user>}` (the user), its pairs
 * `<prefix>{u:<user>}|a|<n>:<ad>`, `|c|…`, `|v|…` and exact counts `|f|…`, `<prefix>{a:<ad>}`
 * (the ad). Everything about a user shares one hash tag, so the layout works on Redis Cluster.
 * Also the distinct ids a lookup reads, from which the lookup script builds the key names.
 *
 * @internal
 */
import type { AdCandidate } from '@ctrkit/core';
import { utf8Length } from './utf8.js';

/** An id with its UTF-8 byte length in front, so ids containing separators cannot collide (and Lua can split lists of them). */
export function part(id: string): string {
  return `${utf8Length(id)}:${id}`;
}

/** The key of a user's own counters (its hash tag is the user). */
export function userKeyOf(prefix: string, userId: string): string {
  return `${prefix}{u:${userId}}`;
}

/** The key of an ad's own counters (its hash tag is the ad). */
export function adKeyOf(prefix: string, adId: string): string {
  return `${prefix}{a:${adId}}`;
}

/** The index of `key` in `index`, given the next index (its size) when it is new: keys numbered in first-seen order. */
function internKey(index: Map<string, number>, key: string): number {
  let i = index.get(key);
  if (i === undefined) {
    i = index.size;
    index.set(key, i);
  }
  return i;
}

/** The ids `ids[at]` for each `at` of `which` (every id when absent), each behind its length (`part`), concatenated: a list the lookup script splits. */
export function idList(ids: readonly string[], which?: readonly number[]): string {
  let text = '';
  if (which === undefined) for (const id of ids) text += part(id);
  else for (const at of which) text += part(ids[at] as string);
  return text;
}

/**
 * The distinct ids of a lookup — ads, categories, advertisers, as first seen — whose keys a
 * lookup reads in this order: the user, each ad, each user × ad, × category, × advertiser
 * (`keyCount` in all). No key name is built: the lookup script builds them from the ids.
 */
export interface LookupIds {
  readonly ads: readonly string[];
  readonly categories: readonly string[];
  readonly advertisers: readonly string[];
  readonly keyCount: number;
}

function intern(index: Map<string, number>, ids: string[], id: string): number {
  let i = index.get(id);
  if (i === undefined) {
    i = ids.length;
    index.set(id, i);
    ids.push(id);
  }
  return i;
}

/** The distinct ids of a lookup; writes each row's four key indices (ad, user × ad, × category, × advertiser) into `keyOf`. */
export function lookupIds(candidates: readonly AdCandidate[], rows: number, keyOf: Int32Array): LookupIds {
  const adIndex = new Map<string, number>();
  const categoryIndex = new Map<string, number>();
  const advertiserIndex = new Map<string, number>();
  const ads: string[] = [];
  const categories: string[] = [];
  const advertisers: string[] = [];
  for (let r = 0; r < rows; r++) {
    const candidate = candidates[r] as AdCandidate;
    keyOf[4 * r] = intern(adIndex, ads, candidate.adId);
    keyOf[4 * r + 2] = intern(categoryIndex, categories, candidate.category);
    keyOf[4 * r + 3] = intern(advertiserIndex, advertisers, candidate.advertiserId);
  }
  const nA = ads.length;
  const nC = categories.length;
  for (let r = 0; r < rows; r++) {
    const a = keyOf[4 * r] as number;
    keyOf[4 * r] = 1 + a;
    keyOf[4 * r + 1] = 1 + nA + a;
    keyOf[4 * r + 2] = 1 + 2 * nA + (keyOf[4 * r + 2] as number);
    keyOf[4 * r + 3] = 1 + 2 * nA + nC + (keyOf[4 * r + 3] as number);
  }
  return { ads, categories, advertisers, keyCount: 1 + 2 * nA + nC + advertisers.length };
}

/** The name of key `i` of a lookup (see {@link LookupIds}), for messages and the per-tag calls. */
export function lookupKeyName(prefix: string, userKey: string, ids: LookupIds, i: number): string {
  const nA = ids.ads.length;
  const nC = ids.categories.length;
  if (i === 0) return userKey;
  if (i <= nA) return adKeyOf(prefix, ids.ads[i - 1] as string);
  if (i <= 2 * nA) return `${userKey}|a|${part(ids.ads[i - 1 - nA] as string)}`;
  if (i <= 2 * nA + nC) return `${userKey}|c|${part(ids.categories[i - 1 - 2 * nA] as string)}`;
  return `${userKey}|v|${part(ids.advertisers[i - 1 - 2 * nA - nC] as string)}`;
}

/**
 * The distinct keys of the exact impression counts a lookup reads — the user's first, then each
 * row's user × ad, × campaign and × advertiser keys as first seen — and each row's three indices.
 */
export function frequencyKeys(userKey: string, candidates: readonly AdCandidate[], rows: number): { readonly keys: string[]; readonly keyOf: Int32Array } {
  const index = new Map<string, number>([[`${userKey}|f|u`, 0]]);
  const keyOf = new Int32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    const candidate = candidates[r] as AdCandidate;
    keyOf[3 * r] = internKey(index, `${userKey}|f|a|${part(candidate.adId)}`);
    keyOf[3 * r + 1] = internKey(index, `${userKey}|f|m|${part(String(candidate.campaignId))}`);
    keyOf[3 * r + 2] = internKey(index, `${userKey}|f|v|${part(candidate.advertiserId)}`);
  }
  return { keys: [...index.keys()], keyOf };
}
