/**
 * The Redis store's key layout: `<prefix>{u:<user>}` (the user), its pairs
 * `<prefix>{u:<user>}|a|<n>:<ad>`, `|c|…`, `|v|…` and exact counts `|f|…`, `<prefix>{a:<ad>}`
 * (the ad). Everything about a user shares one hash tag, so the layout works on Redis Cluster.
 * Also the keys a lookup reads, in the two forms the lookup scripts take them.
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

/** The ids of `index`, each behind its length (`part`), concatenated: a list the lookup script splits. */
function idList(index: ReadonlyMap<string, number>): string {
  let text = '';
  for (const id of index.keys()) text += part(id);
  return text;
}

/**
 * The keys of a lookup on one server, where the script builds key names from ids: the user, the
 * distinct ads, the user × ad, × category and × advertiser pairs, in that order; and the id lists
 * the script takes (ads, categories, advertisers). Writes each row's four key indices (ad, user ×
 * ad, × category, × advertiser) into `keyOf`.
 */
export function lookupKeysById(
  prefix: string,
  userKey: string,
  candidates: readonly AdCandidate[],
  rows: number,
  keyOf: number[],
): { readonly keys: string[]; readonly ads: string; readonly categories: string; readonly advertisers: string } {
  const ads = new Map<string, number>();
  const categories = new Map<string, number>();
  const advertisers = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const candidate = candidates[r] as AdCandidate;
    keyOf[4 * r] = internKey(ads, candidate.adId);
    keyOf[4 * r + 2] = internKey(categories, candidate.category);
    keyOf[4 * r + 3] = internKey(advertisers, candidate.advertiserId);
  }
  const nA = ads.size;
  const nC = categories.size;
  for (let r = 0; r < rows; r++) {
    const a = keyOf[4 * r] as number;
    keyOf[4 * r] = 1 + a;
    keyOf[4 * r + 1] = 1 + nA + a;
    keyOf[4 * r + 2] = 1 + 2 * nA + (keyOf[4 * r + 2] as number);
    keyOf[4 * r + 3] = 1 + 2 * nA + nC + (keyOf[4 * r + 3] as number);
  }
  const keys = [
    userKey,
    ...[...ads.keys()].map((id) => adKeyOf(prefix, id)),
    ...[...ads.keys()].map((id) => `${userKey}|a|${part(id)}`),
    ...[...categories.keys()].map((id) => `${userKey}|c|${part(id)}`),
    ...[...advertisers.keys()].map((id) => `${userKey}|v|${part(id)}`),
  ];
  return { keys, ads: idList(ads), categories: idList(categories), advertisers: idList(advertisers) };
}

/**
 * The distinct keys of a lookup on Redis Cluster, declared to the scripts: the user first, then
 * each row's ad, user × ad, × category and × advertiser keys as first seen. Writes each row's
 * four key indices into `keyOf`.
 */
export function lookupKeysByTag(prefix: string, userKey: string, candidates: readonly AdCandidate[], rows: number, keyOf: number[]): string[] {
  const index = new Map<string, number>([[userKey, 0]]);
  for (let r = 0; r < rows; r++) {
    const candidate = candidates[r] as AdCandidate;
    keyOf[4 * r] = internKey(index, adKeyOf(prefix, candidate.adId));
    keyOf[4 * r + 1] = internKey(index, `${userKey}|a|${part(candidate.adId)}`);
    keyOf[4 * r + 2] = internKey(index, `${userKey}|c|${part(candidate.category)}`);
    keyOf[4 * r + 3] = internKey(index, `${userKey}|v|${part(candidate.advertiserId)}`);
  }
  return [...index.keys()];
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
