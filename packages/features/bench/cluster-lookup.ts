/**
 * Where a Redis Cluster lookup's time goes (issue 17), on the bench's data (the same traffic,
 * the same user with the most events, the same 100 candidates as bench/run.ts):
 *
 * 1. Server time per master (INFO commandstats: the node script's EVALSHA, the user's MGET),
 *    the user's master apart from the others.
 * 2. The Lua cost per key, by calling the node script directly on one master with lists of its
 *    ads: absent, present read as of after every event, present with pending events to add up.
 * 3. The client's Node CPU per lookup (process.cpuUsage over many lookups) and the bytes it
 *    allocates per lookup (heap growth with a young generation large enough that no
 *    scavenge runs; `--max-semi-space-size=128` is passed by the npm script).
 *
 * Needs CTRKIT_REDIS_CLUSTER. Run:
 *   node --max-semi-space-size=128 --expose-gc --import tsx --conditions=@ctrkit/source packages/features/bench/cluster-lookup.ts
 * `--keep` leaves the filled keys under a fixed prefix and reuses them on the next run.
 */
import { Cluster, type Redis } from 'ioredis';
import type { FeatureStore } from '@ctrkit/core';
import { createMemoryFeatureStore } from '@ctrkit/features';
import { createRedisFeatureStore } from '@ctrkit/features/redis';
import { deleteByPrefix, lookupScenario, worstRelativeDifference } from './lookup-scenario.js';
import { LOOKUP_NODE_SCRIPT } from '../src/redis-lua.js';
import { idList, lookupIds } from '../src/redis-keys.js';
import { tagSlot } from '../src/redis-slots.js';

const keep = process.argv.includes('--keep');
const nodes = (process.env.CTRKIT_REDIS_CLUSTER ?? '')
  .split(',')
  .filter((entry) => entry.includes(':'))
  .map((entry) => ({ host: entry.split(':')[0] as string, port: Number(entry.split(':')[1]) }));
if (nodes.length === 0) {
  console.warn('CTRKIT_REDIS_CLUSTER is not set: nothing to measure');
  process.exit(0);
}

const { events, end, clock, candidates, user } = lookupScenario(12_000);

const prefix = keep ? 'ctrkit-bench:cluster-lookup:kept:' : `ctrkit-bench:cluster-lookup:${Date.now()}:`;
const masters = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
masters.on('error', () => undefined);
const store = createRedisFeatureStore({ redis: masters, prefix, clock, lookupDeadlineMs: 1000, writeDeadlineMs: 10_000 });
const memory = createMemoryFeatureStore({ clock });

async function fill(into: FeatureStore): Promise<void> {
  for (let i = 0; i < events.length; i += 64) await Promise.all(events.slice(i, i + 64).map((e) => into.record(e)));
}
await fill(memory);
const marker = `${prefix}{filled}`;
if ((await masters.get(marker)) !== String(events.length)) {
  const t0 = performance.now();
  await fill(store);
  await masters.set(marker, String(events.length));
  console.log(`filled ${events.length} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// The answers first: the Redis store must answer as the memory store.
{
  const a = await memory.lookup(user, candidates, end);
  const b = await store.lookup(user, candidates, end);
  const worst = worstRelativeDifference(a.values, b.values);
  console.log(`memory vs cluster answers: worst relative difference ${worst.toExponential(2)}`);
}

const ids = lookupIds(candidates, candidates.length, new Int32Array(candidates.length * 4));
const slots = masters.slots;
const nodeOf = (slot: number): string => (slots[slot] as string[])[0] as string;
const userNode = nodeOf(tagSlot('u', user.id));
const adsPerNode = new Map<string, number>();
for (const ad of ids.ads) adsPerNode.set(nodeOf(tagSlot('a', ad)), (adsPerNode.get(nodeOf(tagSlot('a', ad))) ?? 0) + 1);
console.log(`keys: ${ids.keyCount} (user 1, ads ${ids.ads.length}, user × ad ${ids.ads.length}, × category ${ids.categories.length}, × advertiser ${ids.advertisers.length}); ads per master ${[...adsPerNode].map(([n, c]) => `${n}${n === userNode ? ' (user)' : ''} ${c}`).join(', ')}`);

const masterNodes = masters.nodes('master');
const nameOf = (node: Redis): string => `${node.options.host}:${node.options.port}`;

/** Calls and µs per call of `command` on each master while `fn` runs `n` times, from INFO commandstats. */
async function serverTime(n: number, fn: () => Promise<unknown>): Promise<Map<string, Map<string, { calls: number; usecPerCall: number }>>> {
  for (const node of masterNodes) await node.config('RESETSTAT');
  for (let i = 0; i < n; i++) await fn();
  const result = new Map<string, Map<string, { calls: number; usecPerCall: number }>>();
  for (const node of masterNodes) {
    const info = await node.info('commandstats');
    const commands = new Map<string, { calls: number; usecPerCall: number }>();
    for (const line of info.matchAll(/cmdstat_(evalsha|mget):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/g)) commands.set(line[1] as string, { calls: Number(line[2]), usecPerCall: Number(line[4]) });
    result.set(nameOf(node), commands);
  }
  return result;
}

for (let i = 0; i < 300; i++) await store.lookup(user, candidates, end);
const perNode = await serverTime(2000, () => store.lookup(user, candidates, end));
console.log('1. server time per lookup on each master (2,000 lookups, INFO commandstats):');
for (const [name, commands] of perNode) {
  const parts = [...commands].map(([command, { calls, usecPerCall }]) => `${command} ${(calls / 2000).toFixed(2)}/lookup × ${usecPerCall.toFixed(1)} µs`);
  const total = [...commands.values()].reduce((t, { calls, usecPerCall }) => t + (calls / 2000) * usecPerCall, 0);
  console.log(`   ${name}${name === userNode ? ' (user)' : '       '} ${parts.join(', ')}: ${total.toFixed(1)} µs`);
}

// 2. The Lua cost per key: the node script called directly on one master with lists of its ads.
const firstMaster = masterNodes[0] as Redis;
const here = nameOf(firstMaster);
const sha = (await firstMaster.script('LOAD', LOOKUP_NODE_SCRIPT)) as string;
const windowArgs = [4, 3_600_000, 86_400_000, 604_800_000, 2_592_000_000];
async function luaCase(name: string, now: number, ads: readonly string[], n = 400): Promise<number> {
  const first = `${prefix}{a:${ads[0]}}`;
  const args = [String(now), 0, 0, 3_600_000, 0, prefix, '', idList(ads), '', '', '', 0, ...windowArgs];
  await firstMaster.config('RESETSTAT');
  for (let i = 0; i < n; i++) await firstMaster.callBuffer('EVALSHA', sha, 2, first, `${first}|p`, ...args);
  const info = await firstMaster.info('commandstats');
  const usec = Number(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(info)?.[1]);
  console.log(`   ${name.padEnd(62)} ${usec.toFixed(1)} µs/call`);
  return usec;
}
const onHere = (ad: string): boolean => nodeOf(tagSlot('a', ad)) === here;
const allAds = [...new Set(events.map((e) => e.adId))].filter(onHere);
const lastOf = new Map<string, number>();
for (const e of events) lastOf.set(e.adId, e.timestamp);
const present = allAds.slice(0, 100);
const absent: string[] = [];
for (let i = 0; absent.length < 100; i++) if (onHere(`never-seen-${i}`)) absent.push(`never-seen-${i}`);
const earliestLast = Math.min(...present.map((ad) => lastOf.get(ad) as number));
console.log(`2. Lua cost per key, node script on ${here} (direct EVALSHA, 400 calls each; ${present.length} present ads):`);
const one = await luaCase('one present ad, after every event', end, present.slice(0, 1));
const a100 = await luaCase('100 absent ads', end, absent);
const p100 = await luaCase(`${present.length} present ads, after every event`, end, present);
const r100 = await luaCase(`${present.length} present ads, now at the earliest of their last events`, earliestLast, present);
console.log(`   per key: absent ${((a100 - one) / 99).toFixed(2)} µs, present ${((p100 - one) / (present.length - 1)).toFixed(2)} µs, with pending events ${((r100 - one) / (present.length - 1)).toFixed(2)} µs (a mix: pending, leaking and plain reads)`);

// 3. Client CPU and allocation per lookup.
{
  const n = 2000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.lookup(user, candidates, end);
  const wall = (performance.now() - t0) / n;
  const cpu = process.cpuUsage(cpu0);
  console.log(`3. client: ${((cpu.user + cpu.system) / n).toFixed(0)} µs CPU per lookup (user ${(cpu.user / n).toFixed(0)}, system ${(cpu.system / n).toFixed(0)}), ${(wall * 1000).toFixed(0)} µs wall per lookup`);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    const m = 200;
    const out = new Float32Array(candidates.length * store.names.length);
    gc();
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < m; i++) await store.lookup(user, candidates, end, { out });
    const h1 = process.memoryUsage().heapUsed;
    console.log(`   ${((h1 - h0) / m / 1024).toFixed(1)} KiB of JS heap allocated per lookup (into out; ${m} lookups, heap growth, no scavenge expected with --max-semi-space-size=128)`);
  }
}

await store.close();
if (!keep) {
  await deleteByPrefix(masterNodes, prefix);
}
await memory.close();
masters.disconnect();
