/**
 * The Redis store's lookup calls: on one server a single script call; on Redis Cluster one call
 * per master node holding any of the request's keys (at most one per master, so about three for
 * a hundred candidates on three masters, instead of one per hash tag), falling back to one call
 * per hash tag when the slot map the grouping used is out of date.
 *
 * @internal
 */
import type { Cluster } from 'ioredis';
import { adKeyOf, idList, lookupKeyName, type LookupIds } from './redis-keys.js';
import { decodeReply } from './redis-reply.js';
import { tagSlot } from './redis-slots.js';
import type { StoreConfig } from './store.js';

/** The lookup scripts, as the store defines them on its client. */
export interface LookupScripts {
  /** LOOKUP_KEYS_SCRIPT: declared (state, pending) pairs of one hash tag. */
  ctrkitLookupBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  /** LOOKUP_NODE_SCRIPT: a node's keys, built from ids. */
  ctrkitLookupNodeBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
}

/** One lookup's inputs and outputs: `decoded` gets a block of doubles per key, `session` the user's session. */
export interface LookupCall {
  readonly config: StoreConfig;
  readonly scripts: LookupScripts;
  readonly prefix: string;
  readonly windowArgs: readonly (string | number)[];
  readonly userId: string;
  readonly userKey: string;
  readonly ids: LookupIds;
  readonly now: number;
  readonly decoded: Float64Array;
  readonly session: Float64Array;
}

/** Doubles per key in a lookup reply: the state head, or a marker and what it says (see READ in redis-lua.ts). */
export function blockOf(config: StoreConfig): number {
  return 8 + 3 * config.windows.length;
}

function nodeArgs(call: LookupCall, oneSlot: boolean, withUser: boolean, ads: string): (string | number)[] {
  const { config: c, ids } = call;
  const pairs = withUser ? [idList(ids.ads), idList(ids.categories), idList(ids.advertisers)] : ['', '', ''];
  return [String(call.now), oneSlot ? 1 : 0, withUser ? 1 : 0, c.readFloorMs, 0, call.prefix, call.userId, ads, ...pairs, 0, ...call.windowArgs];
}

/** Keys 0 .. keyCount − 1 in the order the node script answers with the user: the user, the given ads, then every pair. */
function userOrder(ids: LookupIds, ads: readonly number[]): number[] {
  const order = [0];
  for (const a of ads) order.push(1 + a);
  for (let i = 1 + ids.ads.length; i < ids.keyCount; i++) order.push(i);
  return order;
}

/** A single server: one script call for every key. */
export async function lookupOnServer(call: LookupCall): Promise<void> {
  const all = Array.from(call.ids.ads, (_, a) => a);
  const reply = await call.scripts.ctrkitLookupNodeBuffer(2, call.userKey, `${call.userKey}|p`, ...nodeArgs(call, false, true, idList(call.ids.ads)));
  decodeReply(call.config, reply, userOrder(call.ids, all), true, blockOf(call.config), call.now, call.decoded, call.session);
}

/** Errors that say a call reached a node that does not hold every key it read: the slot map moved. */
const ROUTING = /non local key|Cluster redirections|\b(?:CROSSSLOT|MOVED|ASK|TRYAGAIN)\b/;

/**
 * Redis Cluster: groups the ads by the master that serves their slot in the client's slot map,
 * and sends one node-script call per master (the user's keys ride with the user's master),
 * routed by its first key. When a call fails because a key is not on the node it reached (a
 * slot moved or is migrating), the slot map is refreshed and the lookup is made again with one
 * call per hash tag, which ioredis redirects key by key.
 */
export async function lookupOnCluster(call: LookupCall, cluster: Cluster | undefined): Promise<void> {
  const { ids, prefix } = call;
  const slots = cluster?.slots;
  if (cluster === undefined || !Array.isArray(slots)) return lookupByTag(call); // splitBySlot on a plain client
  const userNode = slots[tagSlot('u', call.userId)]?.[0];
  if (userNode === undefined) return lookupByTag(call);
  const groups = new Map<string, number[]>([[userNode, []]]);
  for (let a = 0; a < ids.ads.length; a++) {
    const node = slots[tagSlot('a', ids.ads[a] as string)]?.[0];
    if (node === undefined) return lookupByTag(call); // no slot map yet: let ioredis route each tag
    let group = groups.get(node);
    if (group === undefined) groups.set(node, (group = []));
    group.push(a);
  }
  const block = blockOf(call.config);
  const settled = await Promise.allSettled(
    [...groups].map(async ([node, ads]) => {
      const withUser = node === userNode;
      const list = idList(ids.ads, ads);
      const first = withUser ? call.userKey : adKeyOf(prefix, ids.ads[ads[0] as number] as string);
      const reply = await call.scripts.ctrkitLookupNodeBuffer(2, first, `${first}|p`, ...nodeArgs(call, true, withUser, list));
      decodeReply(call.config, reply, withUser ? userOrder(ids, ads) : ads.map((a) => 1 + a), withUser, block, call.now, call.decoded, call.session);
    }),
  );
  let routing = false;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') continue;
    const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    if (!ROUTING.test(message)) throw outcome.reason;
    routing = true;
  }
  if (!routing) return;
  cluster.refreshSlotsCache();
  await lookupByTag(call);
}

/** One call per hash tag — the user's keys together, each ad alone — with every key declared. */
export async function lookupByTag(call: LookupCall): Promise<void> {
  const { config: c, ids, prefix, userKey } = call;
  const nA = ids.ads.length;
  const block = blockOf(c);
  const userGroup = [0];
  for (let i = 1 + nA; i < ids.keyCount; i++) userGroup.push(i);
  const groups = [userGroup, ...Array.from(ids.ads, (_, a) => [1 + a])];
  await Promise.all(
    groups.map(async (group, g) => {
      const keys: string[] = [];
      for (const i of group) {
        const key = lookupKeyName(prefix, userKey, ids, i);
        keys.push(key, `${key}|p`);
      }
      const args = [String(call.now), group.length, g === 0 ? 1 : 0, c.readFloorMs, c.gapMs, 0, 0, 0, 0, 0, 0, 0, ...call.windowArgs];
      decodeReply(c, await call.scripts.ctrkitLookupBuffer(keys.length, ...keys, ...args), group, g === 0, block, call.now, call.decoded, call.session);
    }),
  );
}
