/**
 * Features benchmarks, every ratio measured in this one run:
 *
 * 1. Encoder rows/s on the shared Criteo sample (39 fields + 3 crosses) against
 *    (a) a bare murmur3 loop over the same 42 hash-key strings per row, prebuilt, and
 *    (b) murmurhash3js-revisited over `Buffer.from` of those strings.
 *    Targets: encoder within 1.3× of (a); at least 3× faster than (b).
 * 2. Feature-store lookup latency for one request of 100 candidates: memory store (target p99
 *    under 0.2 ms) and Redis store on loopback (target p99 under 2 ms), with a bare Redis PING
 *    as the round-trip baseline.
 *
 * Run: npm run bench -w @ctrkit/features
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import murmurHash3 from 'murmurhash3js-revisited';
import { Cluster, Redis } from 'ioredis';
import { createLatencyHistogram, createRandom, type FeatureBatch, type FeatureStore } from '@ctrkit/core';
import { formatBenchTable, measure, measureAsync, type BenchResult } from '@ctrkit/core/bench';
import { allocateBatch, createFeatureEncoder, createMemoryFeatureStore, criteoSpec, murmur3, readCriteo, type LogChunk } from '@ctrkit/features';
import { createRedisFeatureStore } from '@ctrkit/features/redis';
import { deleteByPrefix, lookupScenario, worstRelativeDifference } from './lookup-scenario.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const criteoFile = path.resolve(here, '../../..', '../shared/data/criteo/train_10k.tsv');
const SEED = 0x2a;
const CROSSES = [['C1', 'C2'], ['I1', 'C3'], ['C14', 'C17', 'C20']];
const quick = process.argv.includes('--quick');
const timing = { warmupMs: quick ? 100 : 500, minTimeMs: quick ? 500 : 3000 };

// ---------------------------------------------------------------------------------------------
// 1. Encoder against bare hashing, on the same strings.

function syntheticCriteo(rows: number): string {
  const random = createRandom('criteo-like');
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const ints = Array.from({ length: 13 }, () => (random.next() < 0.2 ? '' : String(Math.floor(random.exponential(0.01)))));
    const cats = Array.from({ length: 26 }, () => (random.next() < 0.1 ? '' : (random.int(2 ** 31) >>> 0).toString(16).padStart(8, '0')));
    lines.push([random.next() < 0.25 ? '1' : '0', ...ints, ...cats].join('\t'));
  }
  return lines.join('\n') + '\n';
}

const text = existsSync(criteoFile) ? readFileSync(criteoFile, 'utf8') : syntheticCriteo(10_000);
const source = existsSync(criteoFile) ? 'shared Criteo sample' : 'synthetic Criteo-like rows (shared sample absent)';
const chunks: LogChunk[] = [];
for await (const chunk of readCriteo(text, { chunkRows: 10_000 })) chunks.push(chunk);
const chunk = chunks[0] as LogChunk;
const ROWS = chunk.rows;

/** The 42 hash keys of every row, built once, outside the timed loops. */
function keysOf(line: string): string[] {
  const cells = line.split('\t');
  const token = new Map<string, string | undefined>();
  for (let i = 1; i <= 13; i++) {
    const cell = cells[i] as string;
    const x = Number(cell);
    token.set(`I${i}`, cell === '' ? undefined : x > 2 ? String(Math.floor(Math.log(x) ** 2)) : `SP${x}`);
  }
  for (let i = 1; i <= 26; i++) token.set(`C${i}`, cells[13 + i] === '' ? undefined : cells[13 + i]);
  const keys = [...token.entries()].map(([name, t]) => (t === undefined ? `${name}\u0000` : `${name}\u0001${t}`));
  for (const cross of CROSSES) {
    const parts = cross.map((c) => token.get(c));
    keys.push(parts.some((p) => p === undefined) ? `${cross.join('_x_')}\u0000` : `${cross.join('_x_')}\u0001${parts.join('\u0002')}`);
  }
  return keys;
}
const keys = text.split('\n').filter((l) => l.length > 0).slice(0, ROWS).flatMap(keysOf);
const bytesOfKeys = keys.reduce((n, k) => n + Buffer.byteLength(k), 0);

const encoder = createFeatureEncoder(criteoSpec({ seed: SEED, crosses: CROSSES }));
const out = allocateBatch(encoder.layout, ROWS);
const hashes = new Int32Array(keys.length);
const modulus = encoder.layout.idSpace - 1;

// Same ids three ways, before timing anything.
encoder.encodeChunk(chunk, out);
for (let i = 0; i < keys.length; i++) {
  const a = 1 + (murmur3(keys[i] as string, SEED) % modulus);
  const b = 1 + (murmurHash3.x86.hash32(Buffer.from(keys[i] as string), SEED) % modulus);
  if (a !== out.ids[i] || b !== a) throw new Error(`id mismatch at ${i}: encoder ${out.ids[i]}, murmur3 ${a}, library ${b}`);
}

/**
 * The bare loop: MurmurHash3 x86_32 over a string's UTF-8 bytes, locals only, no validation —
 * the least work that yields these hashes from these strings.
 */
function bareMurmur(text: string, seed: number): number {
  let h = seed | 0;
  let k = 0;
  let n = 0;
  let len = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    let bytes: number;
    let count: number;
    if (c < 0x80) {
      bytes = c;
      count = 1;
    } else if (c < 0x800) {
      bytes = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      bytes = (0xf0 | (c >> 18)) | ((0x80 | ((c >> 12) & 0x3f)) << 8) | ((0x80 | ((c >> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
      count = 4;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      bytes = 0xef | (0xbf << 8) | (0xbd << 16);
      count = 3;
    } else {
      bytes = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
      count = 3;
    }
    len += count;
    for (let j = 0; j < count; j++) {
      k |= (bytes & 0xff) << (n << 3);
      bytes >>>= 8;
      if (++n === 4) {
        k = Math.imul(k, 0xcc9e2d51);
        k = (k << 15) | (k >>> 17);
        h ^= Math.imul(k, 0x1b873593);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        k = 0;
        n = 0;
      }
    }
  }
  if (n > 0) {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
for (let i = 0; i < keys.length; i++) {
  if (bareMurmur(keys[i] as string, SEED) !== murmur3(keys[i] as string, SEED)) throw new Error(`bare loop disagrees at ${i}`);
}

const bare = measure(
  'bare murmur3 loop over the 42 key strings/row (baseline)',
  () => {
    for (let i = 0; i < keys.length; i++) hashes[i] = bareMurmur(keys[i] as string, SEED);
    return hashes;
  },
  { ...timing, rowsPerCall: ROWS },
);
const ours = measure(
  'murmur3() (this package) over the same strings',
  () => {
    for (let i = 0; i < keys.length; i++) hashes[i] = murmur3(keys[i] as string, SEED);
    return hashes;
  },
  { ...timing, rowsPerCall: ROWS },
);
const library = measure(
  'murmurhash3js-revisited + Buffer.from, same strings',
  () => {
    for (let i = 0; i < keys.length; i++) hashes[i] = murmurHash3.x86.hash32(Buffer.from(keys[i] as string), SEED);
    return hashes;
  },
  { ...timing, rowsPerCall: ROWS },
);
const chunkEncoder = measure('encoder.encodeChunk (39 fields + 3 crosses, into out)', () => encoder.encodeChunk(chunk, out), { ...timing, rowsPerCall: ROWS });

// The serving path on the same rows: each row as a request (values in context.attributes).
const lines = text.split('\n').filter((l) => l.length > 0).slice(0, 2000);
const requests = lines.map((line, r) => {
  const cells = line.split('\t');
  const attributes: Record<string, string | number | null> = {};
  for (let i = 1; i <= 13; i++) attributes[`I${i}`] = cells[i] === '' ? null : Number(cells[i]);
  for (let i = 1; i <= 26; i++) attributes[`C${i}`] = cells[13 + i] as string;
  return {
    requestId: `r${r}`,
    user: { id: 'anonymous' },
    context: { timestamp: 0, attributes },
    candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display' as const, category: 'none', bid: 1, bidType: 'CPC' as const }],
  };
});
const one = allocateBatch(encoder.layout, 1);
const requestEncoder = measure(
  'encoder.encode, one request per row (2,000 rows)',
  () => {
    let last: FeatureBatch = one;
    for (const request of requests) last = encoder.encode(request, undefined, one);
    return last;
  },
  { ...timing, rowsPerCall: requests.length },
);

const hashResults = [bare, ours, library, chunkEncoder, requestEncoder];
console.log(formatBenchTable(`@ctrkit/features encoder — ${ROWS.toLocaleString('en')} ${source}, ${(bytesOfKeys / ROWS).toFixed(0)} key bytes/row`, hashResults, bare.name));
const slowdown = bare.rowsPerSecond / chunkEncoder.rowsPerSecond;
const speedup = chunkEncoder.rowsPerSecond / library.rowsPerSecond;
console.log(`encoder vs bare murmur3 loop: ${slowdown.toFixed(2)}× the time (target ≤ 1.30×) — ${slowdown <= 1.3 ? 'met' : 'MISSED'}`);
console.log(`encoder vs murmurhash3js-revisited + Buffer.from: ${speedup.toFixed(2)}× faster (target ≥ 3×) — ${speedup >= 3 ? 'met' : 'MISSED'}`);

// ---------------------------------------------------------------------------------------------
// 2. Store lookups: one request, 100 candidates, after a day of traffic.

const { events, end, clock, candidates, user, typical, byEvents } = lookupScenario(quick ? 4_000 : 12_000);
console.log(`users with events: ${byEvents.length}; most events ${byEvents[0]?.[1]}, median ${byEvents[Math.floor(byEvents.length / 2)]?.[1]}`);

/**
 * Alternates two async calls for `minTimeMs` and times each: the PING beside the lookups shows how
 * much of the lookup's tail this shared machine and Redis add on their own, at the same moments.
 */
async function interleaved(a: [string, () => Promise<unknown>, number], b: [string, () => Promise<unknown>, number]): Promise<BenchResult[]> {
  for (const end = performance.now() + timing.warmupMs; performance.now() < end; ) {
    await a[1]();
    await b[1]();
  }
  const cases = [a, b].map(([name, fn, rows]) => ({ name, fn, rows, histogram: createLatencyHistogram({ lowestMs: 1e-4, highestMs: 60_000 }), total: 0, calls: 0 }));
  for (const end = performance.now() + timing.minTimeMs; performance.now() < end; ) {
    for (const c of cases) {
      const t0 = performance.now();
      await c.fn();
      const ms = performance.now() - t0;
      c.histogram.record(ms);
      c.total += ms;
      c.calls++;
    }
  }
  return cases.map((c) => ({
    name: c.name,
    calls: c.calls,
    opsPerSecond: (c.calls / c.total) * 1000,
    rowsPerSecond: ((c.calls * c.rows) / c.total) * 1000,
    p50Ms: c.histogram.percentile(0.5),
    p99Ms: c.histogram.percentile(0.99),
    meanMs: c.total / c.calls,
  }));
}

async function fill(store: FeatureStore): Promise<void> {
  for (let i = 0; i < events.length; i += 64) await Promise.all(events.slice(i, i + 64).map((e) => store.record(e)));
}

const memory = createMemoryFeatureStore({ clock });
await fill(memory);
const storeResults: BenchResult[] = [];
const lookupOut = new Float32Array(candidates.length * memory.names.length);
storeResults.push(await measureAsync('memory store lookup, 100 candidates, into out', () => memory.lookup(user, candidates, end, { out: lookupOut }), { ...timing, rowsPerCall: 100 }));
storeResults.push(await measureAsync('memory store lookup, 100 candidates, new values', () => memory.lookup(user, candidates, end), { ...timing, rowsPerCall: 100 }));
storeResults.push(await measureAsync('memory store lookup, median user, into out', () => memory.lookup(typical, candidates, end, { out: lookupOut }), { ...timing, rowsPerCall: 100 }));

const probe = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => undefined);
let redisUp = false;
try {
  await probe.connect();
  redisUp = (await probe.ping()) === 'PONG';
} catch {
  redisUp = false;
}
if (redisUp) {
  const prefix = `ctrkit-bench:features:${Date.now()}:`;
  const redis = createRedisFeatureStore({ redis: { host: '127.0.0.1', port: 6379 }, prefix, clock, lookupDeadlineMs: 1000, writeDeadlineMs: 10_000 });
  const t0 = performance.now();
  await fill(redis);
  const fillSeconds = (performance.now() - t0) / 1000;
  storeResults.push(
    ...(await interleaved(['redis store lookup, 100 candidates, into out', () => redis.lookup(user, candidates, end, { out: lookupOut }), 100], ['redis PING round trip (baseline, interleaved)', () => probe.ping(), 1])),
  );
  storeResults.push((await interleaved(['redis store lookup, median user, into out', () => redis.lookup(typical, candidates, end, { out: lookupOut }), 100], ['PING', () => probe.ping(), 1]))[0] as BenchResult);
  // Check both stores agree before reporting.
  const a = await memory.lookup(user, candidates, end);
  const b = await redis.lookup(user, candidates, end);
  const worst = worstRelativeDifference(a.values, b.values);
  console.log(formatBenchTable(`feature-store lookups — ${events.length.toLocaleString('en')} events recorded (redis fill ${fillSeconds.toFixed(1)} s); the user with the most events unless noted`, storeResults, 'redis PING round trip (baseline, interleaved)'));
  console.log(`memory vs redis answers: worst relative difference ${worst.toExponential(2)}`);
  await redis.close();
  let cursor = '0';
  do {
    const [next, found] = await probe.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await probe.del(...found);
  } while (cursor !== '0');
} else {
  console.log(formatBenchTable('feature-store lookups (Redis not answering on 127.0.0.1:6379: skipped)', storeResults));
}
probe.disconnect();

// The same lookups on a Redis Cluster (CTRKIT_REDIS_CLUSTER=host:port,…; bash scripts/redis-cluster.sh start):
// one script call per master holding any of the keys, from the masters and from the replicas.
const clusterNodes = (process.env.CTRKIT_REDIS_CLUSTER ?? '')
  .split(',')
  .filter((entry) => entry.includes(':'))
  .map((entry) => ({ host: entry.split(':')[0] as string, port: Number(entry.split(':')[1]) }));
const clusterResults: BenchResult[] = [];
if (clusterNodes.length > 0) {
  const prefix = `ctrkit-bench:features:${Date.now()}:`;
  const masters = new Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  const replicas = new Cluster(clusterNodes, { scaleReads: 'slave', redisOptions: { maxRetriesPerRequest: 1 } });
  for (const client of [masters, replicas]) client.on('error', () => undefined);
  const writer = createRedisFeatureStore({ redis: masters, prefix, clock, lookupDeadlineMs: 1000, writeDeadlineMs: 10_000 });
  const fromReplicas = createRedisFeatureStore({ redis: replicas, prefix, clock, lookupDeadlineMs: 1000 });
  const t0 = performance.now();
  await fill(writer);
  const fillSeconds = (performance.now() - t0) / 1000;
  await masters.call('WAIT', '1', '1000').catch(() => undefined);
  clusterResults.push(
    ...(await interleaved(
      ['cluster store lookup, 100 candidates, masters', () => writer.lookup(user, candidates, end, { out: lookupOut }), 100],
      ['cluster store lookup, 100 candidates, replicas', () => fromReplicas.lookup(user, candidates, end, { out: lookupOut }), 100],
    )),
  );
  console.log(formatBenchTable(`feature-store lookups on Redis Cluster (${clusterNodes.length} nodes; fill ${fillSeconds.toFixed(1)} s); the user with the most events`, clusterResults));
  // Both cluster readers against the memory store, as for the single server.
  const a = await memory.lookup(user, candidates, end);
  for (const [name, store] of [['masters', writer], ['replicas', fromReplicas]] as const) {
    const b = await store.lookup(user, candidates, end);
    const worst = worstRelativeDifference(a.values, b.values);
    console.log(`memory vs cluster (${name}) answers: worst relative difference ${worst.toExponential(2)}`);
  }
  for (const result of clusterResults) console.log(`${result.name} p99 ${result.p99Ms.toFixed(3)} ms (target ≤ 2 ms) — ${result.p99Ms <= 2 ? 'met' : 'MISSED'}`);
  await writer.close();
  await fromReplicas.close();
  await deleteByPrefix(masters.nodes('master'), prefix);
  masters.disconnect();
  replicas.disconnect();
} else {
  console.warn('CTRKIT_REDIS_CLUSTER is not set: skipping the Redis Cluster lookups');
}
const memoryP99 = (storeResults[0] as BenchResult).p99Ms;
console.log(`memory store p99 ${memoryP99.toFixed(3)} ms (target < 0.2 ms) — ${memoryP99 < 0.2 ? 'met' : 'MISSED'}`);
const redisResult = storeResults.find((r) => r.name.startsWith('redis store lookup, 100'));
if (redisResult) console.log(`redis store p99 ${redisResult.p99Ms.toFixed(3)} ms (target < 2 ms) — ${redisResult.p99Ms < 2 ? 'met' : 'MISSED'}`);
await memory.close();
