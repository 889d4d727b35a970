/**
 * The Redis store's lookup calls. The user's keys (the user and every user × ad, × category,
 * × advertiser pair, all in the user's hash-tag slot) are read with one plain `MGET` and their
 * heads decoded here (redis-state-head.ts): Redis's Lua spent about 2–4 µs on each of them,
 * which made the user's node the critical path of a cluster lookup. On one server that `MGET`
 * reads the ads too. On Redis Cluster the ads are read by one node-script call per master
 * holding any of them (at most one per master, so about three for a hundred candidates on three
 * masters, instead of one per hash tag), sent on that node's own connection, falling back to one call per hash tag when the slot map
 * the grouping used is out of date. A hash tag whose keys have events pending at or after `now`
 * is read again by the script, which reads a state and its pending set atomically. The `MGET`s
 * and the node-script calls are written as RESP by redis-encoded-command.ts, not by ioredis:
 * that halved what a lookup allocates.
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { adKeyOf, idList, lookupKeyName, type LookupIds } from './redis-keys.js';
import { LOOKUP_NODE_SCRIPT } from './redis-lua.js';
import { sendCommandBuffer, sendLookupMget, type CommandConnection } from './redis-encoded-command.js';
import { decodeReply } from './redis-reply.js';
import { keySlot, tagSlot } from './redis-slots.js';
import { decodeLiveSession, decodeStateHeads } from './redis-state-head.js';
import type { StoreConfig } from './store.js';

/** The lookup scripts, as the store defines them on its client. */
export interface LookupScripts {
  /** LOOKUP_KEYS_SCRIPT: declared (state, pending) pairs of one hash tag. */
  ctrkitLookupBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  /** LOOKUP_NODE_SCRIPT: the ads one cluster master holds, their keys built from ids. */
  ctrkitLookupNodeBuffer(numKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  /** Plain `MGET`, answering buffers (`null` for an absent key). */
  mgetBuffer(keys: string[]): Promise<(Buffer | null)[]>;
}

/** One lookup's inputs and outputs: `decoded` gets a block of doubles per key, `session` the user's session. */
export interface LookupCall {
  readonly config: StoreConfig;
  readonly scripts: LookupScripts;
  readonly prefix: string;
  readonly windowArgs: readonly (string | number)[];
  readonly userKey: string;
  readonly ids: LookupIds;
  readonly now: number;
  readonly decoded: Float64Array;
  readonly session: Float64Array;
  /** Whether the lookup may write its own commands (redis-encoded-command.ts): the client has no `keyPrefix`. */
  readonly rawCommands: boolean;
}

/** Doubles per key in a lookup reply: the state head, or a marker and what it says (see READ in redis-lua.ts). */
export function blockOf(config: StoreConfig): number {
  return 8 + 3 * config.windows.length;
}

/** LOOKUP_NODE_SCRIPT's arguments after its two keys, for the ads `ads` (an {@link idList}). */
function nodeArgs(call: LookupCall, ads: string): (string | number)[] {
  return [String(call.now), 0, 0, call.config.readFloorMs, 0, call.prefix, '', ads, '', '', '', 0, ...call.windowArgs];
}

/** Key indices of the user's hash tag in the order they are read: the user, then every pair (see {@link LookupIds}). */
function userGroup(ids: LookupIds): number[] {
  const group = [0];
  for (let i = 1 + ids.ads.length; i < ids.keyCount; i++) group.push(i);
  return group;
}

/** The names of the keys `group` of a lookup. */
function keyNames(call: LookupCall, group: readonly number[]): string[] {
  const names = new Array<string>(group.length);
  for (let i = 0; i < group.length; i++) names[i] = lookupKeyName(call.prefix, call.userKey, call.ids, group[i] as number);
  return names;
}

/**
 * Decodes the user's states, `raws[start …]` in the order of `group`, and its session; `false`
 * when some state has events pending at or after `now` (the script must read the tag).
 */
function decodeUser(call: LookupCall, raws: readonly (Buffer | null)[], start: number, group: readonly number[], block: number): boolean {
  const name = (i: number): string => lookupKeyName(call.prefix, call.userKey, call.ids, i);
  if (!decodeStateHeads(call.config, raws, start, group, block, call.now, call.decoded, name)) return false;
  decodeLiveSession(call.config, raws[start] ?? null, call.now, call.session);
  return true;
}

/**
 * A single server: one `MGET` of every key (the user's first, then the ads), the script for any
 * hash tag with events pending at or after now. The `MGET` is written by redis-encoded-command.ts on
 * `connection` (the client, when it is not a `Cluster`).
 */
export async function lookupOnServer(call: LookupCall, connection: CommandConnection | undefined): Promise<void> {
  const { ids } = call;
  const block = blockOf(call.config);
  const user = userGroup(ids);
  const order = [...user];
  for (let a = 0; a < ids.ads.length; a++) order.push(1 + a);
  const raws = await (connection === undefined ? call.scripts.mgetBuffer(keyNames(call, order)) : sendLookupMget(connection, call.prefix, call.userKey, ids, order));
  const again: number[][] = [];
  if (!decodeUser(call, raws, 0, user, block)) again.push(user);
  const name = (i: number): string => lookupKeyName(call.prefix, call.userKey, ids, i);
  for (let a = 0; a < ids.ads.length; a++) {
    const ad = [1 + a];
    if (!decodeStateHeads(call.config, raws, user.length + a, ad, block, call.now, call.decoded, name)) again.push(ad);
  }
  if (again.length > 0) await lookupGroups(call, again);
}

/** Errors that say a call reached a node that does not hold every key it read: the slot map moved. */
const ROUTING = /non local key|Cluster redirections|\b(?:CROSSSLOT|MOVED|ASK|TRYAGAIN)\b/;

/**
 * Redis Cluster: the user's keys with one `MGET` on the connection of the node serving the user's
 * slot (through ioredis, which routes and redirects it, when the client routes reads with a
 * function), and the ads grouped by the master that serves their slot in the
 * client's slot map, one node-script call per master, routed by its first ad. When a call fails
 * because a key is not on the node it reached (a slot moved or is migrating), the slot map is
 * refreshed and the lookup is made again with one call per hash tag, which ioredis redirects key
 * by key.
 */
export async function lookupOnCluster(call: LookupCall, cluster: Cluster | undefined): Promise<void> {
  const { ids, prefix } = call;
  const slots = cluster?.slots;
  if (cluster === undefined || !Array.isArray(slots)) return lookupByTag(call); // splitBySlot on a plain client
  const groups = new Map<string, number[]>();
  for (let a = 0; a < ids.ads.length; a++) {
    const node = slots[tagSlot('a', ids.ads[a] as string)]?.[0];
    if (node === undefined) return lookupByTag(call); // no slot map yet: let ioredis route each tag
    let group = groups.get(node);
    if (group === undefined) groups.set(node, (group = []));
    group.push(a);
  }
  const block = blockOf(call.config);
  const user = userGroup(ids);
  let pending = false;
  const readUser = (raws: (Buffer | null)[]): void => {
    pending = !decodeUser(call, raws, 0, user, block);
  };
  const readAds = (ads: readonly number[], reply: Buffer[]): void => decodeReply(call.config, reply, ads.map((a) => 1 + a), false, block, call.now, call.decoded, call.session);
  const adArgs = (ads: readonly number[]): [number, string, string, ...(string | number)[]] => {
    const first = adKeyOf(prefix, ids.ads[ads[0] as number] as string);
    return [2, first, `${first}|p`, ...nodeArgs(call, idList(ids.ads, ads))];
  };
  // Separate calls, not one pipeline to the user's node: ioredis' cluster pipeline hashes every
  // key of every command to check they share a node, which cost more CPU than the write it saves
  // (scratch measurement, same run: 828 against 598 µs of client CPU per lookup).
  const direct = nodeConnections(cluster);
  const calls: Promise<void>[] = [];
  const userOwners = slots[keySlot(call.userKey)] as string[] | undefined;
  const userConnection = direct === undefined || userOwners?.[0] === undefined ? undefined : direct.get(pickNode(userOwners, cluster.options.scaleReads, userOwners[0]));
  // The user's MGET on the node's own connection too, written by redis-encoded-command.ts: through the
  // cluster client, ioredis hashes every key of it to check they share a slot, which took a sixth
  // of the lookup's client CPU (bench/cluster-lookup.ts, consecutive runs: 349 against 296 µs a lookup).
  // A redirection comes back as an error, as for the node script below. Without node
  // connections, ioredis routes it.
  const userRead = userConnection === undefined || !call.rawCommands ? call.scripts.mgetBuffer(keyNames(call, user)) : sendLookupMget(userConnection, prefix, call.userKey, ids, user);
  calls.push(userRead.then(readUser));
  for (const [node, ads] of groups) {
    const slot = tagSlot('a', ids.ads[ads[0] as number] as string);
    const connection = direct === undefined ? undefined : direct.get(pickNode(slots[slot] as string[], cluster.options.scaleReads, node));
    const reply = connection === undefined ? call.scripts.ctrkitLookupNodeBuffer(...adArgs(ads)) : nodeScript(connection, adArgs(ads), call.rawCommands);
    calls.push(reply.then((answer) => readAds(ads, answer)));
  }
  const settled = await Promise.allSettled(calls);
  let routing = false;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') continue;
    const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    if (!ROUTING.test(message)) throw outcome.reason;
    routing = true;
  }
  if (routing) {
    cluster.refreshSlotsCache();
    return lookupByTag(call);
  }
  if (pending) await lookupGroups(call, [user]);
}

/**
 * The cluster's node connections by `host:port`, as its slot map names them; `undefined` when
 * the client routes reads with a function (then ioredis routes the node script, see below).
 */
function nodeConnections(cluster: Cluster): Map<string, CommandConnection> | undefined {
  if (typeof cluster.options.scaleReads === 'function') return undefined;
  const byKey = new Map<string, CommandConnection>();
  for (const node of cluster.nodes('all')) byKey.set(`${node.options.host}:${node.options.port}`, node);
  return byKey;
}

/** The node a read of a slot served by `owners` ([master, replicas…]) goes to, as ioredis picks it for `scaleReads`. */
function pickNode(owners: readonly string[], scaleReads: unknown, master: string): string {
  if (scaleReads === 'slave' && owners.length > 1) return owners[1 + Math.floor(Math.random() * (owners.length - 1))] as string;
  if (scaleReads === 'all') return owners[Math.floor(Math.random() * owners.length)] as string;
  return master;
}

const NODE_SCRIPT_SHA = createHash('sha1').update(LOOKUP_NODE_SCRIPT).digest('hex');

/**
 * The node script on one node's own connection, not through the cluster client: a redirection
 * comes back as an error instead of being followed. Followed, an ASK sends the call to the node
 * importing the slot with ASKING set, and Redis lets a script there read the undeclared keys of
 * that slot too — an ad of the slot not moved yet reads as absent (the migration test caught it).
 * As an error, it sends the lookup to one call per hash tag, with every key declared, which
 * Redis serves only where all of them are (or answers TRYAGAIN).
 */
async function nodeScript(connection: CommandConnection, args: readonly (string | number)[], raw: boolean): Promise<Buffer[]> {
  const send = (command: 'EVAL' | 'EVALSHA', first: string): Promise<Buffer[]> =>
    raw ? sendCommandBuffer<Buffer[]>(connection, command, [first, ...args]) : (connection.callBuffer(command.toLowerCase(), first, ...args) as Promise<Buffer[]>);
  // The first call on a connection sends the script itself (Redis caches it by its SHA), as
  // ioredis does per socket: no NOSCRIPT round trip on a cold lookup.
  if (!LOADED.has(connection)) {
    LOADED.add(connection);
    return send('EVAL', LOOKUP_NODE_SCRIPT);
  }
  try {
    // Written by redis-encoded-command.ts, as the user's MGET: ioredis' own writing of the
    // twenty arguments was a seventh of what a lookup allocated.
    return await send('EVALSHA', NODE_SCRIPT_SHA);
  } catch (error) {
    // A node restarted or flushed its scripts since.
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return send('EVAL', LOOKUP_NODE_SCRIPT);
  }
}

/** Connections the node script was sent to in full. */
const LOADED = new WeakSet<CommandConnection>();

/** One call per hash tag — the user's keys together, each ad alone — with every key declared. */
export function lookupByTag(call: LookupCall): Promise<void> {
  return lookupGroups(call, [userGroup(call.ids), ...Array.from(call.ids.ads, (_, a) => [1 + a])]);
}

/** One LOOKUP_KEYS_SCRIPT call for each group of key indices (one hash tag each; the user's group starts with key 0 and takes the session). */
async function lookupGroups(call: LookupCall, groups: readonly (readonly number[])[]): Promise<void> {
  const { config: c } = call;
  const block = blockOf(c);
  await Promise.all(
    groups.map(async (group) => {
      const keys: string[] = [];
      for (const name of keyNames(call, group)) keys.push(name, `${name}|p`);
      const withSession = group[0] === 0;
      const args = [String(call.now), group.length, withSession ? 1 : 0, c.readFloorMs, c.gapMs, 0, 0, 0, 0, 0, 0, 0, ...call.windowArgs];
      decodeReply(c, await call.scripts.ctrkitLookupBuffer(keys.length, ...keys, ...args), group, withSession, block, call.now, call.decoded, call.session);
    }),
  );
}
