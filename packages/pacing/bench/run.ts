/**
 * Pacing benchmarks: reserve + commit pairs per second on the memory ledger and on the Redis
 * ledger (local leases, and one round trip per call for comparison), the pacer's per-request
 * decision, and replay throughput on the iPinYou 2997 log when it is present.
 *
 * Targets (issue 7): memory ≥ 1M reserve+commit/s, Redis with leases ≥ 100k/s on loopback.
 *
 * Run: npm run bench -w @ctrkit/pacing   (Redis on 127.0.0.1:6379 for the Redis cases;
 *      CTRKIT_REDIS_CLUSTER=$(bash scripts/redis-cluster.sh env) for the Redis Cluster cases)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createManualClock, createRandom } from '@ctrkit/core';
import { formatBenchTable, measure, measureAsync, type BenchResult } from '@ctrkit/core/bench';
import { createDualController, createEvenPlan, createMemoryLedger, createPacer, parseIpinyouLog, replayAuctions, type BudgetLedger, type Reservation } from '@ctrkit/pacing';
import { createRedisLedger } from '@ctrkit/pacing/redis';
import { Cluster, Redis } from 'ioredis';

const BATCH = 1_000;
const options = { warmupMs: 300, minTimeMs: 2_000, rowsPerCall: BATCH };
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A batch of reserve + commit (or release) pairs, then one turn of the event loop, as a server would give its timers. */
function pairs(ledger: BudgetLedger, commit: boolean, batch = BATCH) {
  return async () => {
    for (let i = 0; i < batch; i++) {
      const r = await ledger.reserve('c', 0.002);
      if (!r.ok) throw new Error(`refused: ${r.detail}`);
      if (commit) await ledger.commit(r as Reservation, 0.001);
      else await ledger.release(r as Reservation);
    }
    await yieldToLoop();
  };
}

const budgets = { campaigns: [{ id: 'c', lifetimeBudget: 1e8 }] };
const results: BenchResult[] = [];

{
  const ledger = createMemoryLedger({ budgets, clock: createManualClock(0) });
  results.push(await measureAsync('memory: reserve + commit', pairs(ledger, true), options));
  results.push(await measureAsync('memory: reserve + release', pairs(ledger, false), options));
}

const redis = new Redis({ port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);
let redisUp = false;
try {
  await redis.connect();
  redisUp = (await redis.ping()) === 'PONG';
} catch {
  console.warn('Redis is not answering on 127.0.0.1:6379: skipping the Redis cases');
}
if (redisUp) {
  const prefix = `ctrkit-bench:pacing:${randomUUID()}:`;
  try {
    const leased = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: { amount: 100 } });
    results.push(await measureAsync('redis, leases: reserve + commit', pairs(leased, true), options));
    results.push(await measureAsync('redis, leases: reserve + release', pairs(leased, false), options));
    await leased.close();
    const direct = createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false });
    results.push(await measureAsync('redis, no lease: reserve + commit', pairs(direct, true, 100), { ...options, rowsPerCall: 100 }));
    await direct.close();
    const check = await createRedisLedger({ redis, budgets, keyPrefix: prefix, lease: false }).snapshot('c');
    if ((check.lines[0]?.reserved ?? -1) !== 0) throw new Error(`the Redis ledger still holds ${check.lines[0]?.reserved} after close`);
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
}
redis.disconnect();

// The same on a Redis Cluster (CTRKIT_REDIS_CLUSTER=host:port,…; bash scripts/redis-cluster.sh start).
const clusterNodes = (process.env.CTRKIT_REDIS_CLUSTER ?? '')
  .split(',')
  .filter((entry) => entry.includes(':'))
  .map((entry) => ({ host: entry.split(':')[0] as string, port: Number(entry.split(':')[1]) }));
if (clusterNodes.length > 0) {
  const cluster = new Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  cluster.on('error', () => undefined);
  const prefix = `ctrkit-bench:pacing:${randomUUID()}:`;
  try {
    for (const acks of [0, 1]) {
      const leased = createRedisLedger({ redis: cluster, budgets, keyPrefix: prefix, lease: { amount: 100 }, replicaAcks: acks });
      results.push(await measureAsync(`cluster, leases, replicaAcks ${acks}: reserve + commit`, pairs(leased, true), options));
      await leased.close();
    }
    const direct = createRedisLedger({ redis: cluster, budgets, keyPrefix: prefix, lease: false });
    results.push(await measureAsync('cluster, no lease: reserve + commit', pairs(direct, true, 100), { ...options, rowsPerCall: 100 }));
    await direct.close();
  } finally {
    for (const node of cluster.nodes('master')) {
      const keys = await node.keys(`${prefix}*`);
      for (const key of keys) await node.del(key);
    }
    cluster.disconnect();
  }
} else {
  console.warn('CTRKIT_REDIS_CLUSTER is not set: skipping the Redis Cluster cases');
}

{
  const clock = createManualClock(Date.UTC(2026, 0, 5));
  const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 1e9, clock, random: createRandom(1) });
  let value = 0;
  results.push(
    measure(
      'pacer: bid(value) per request',
      () => {
        clock.advance(10);
        value = pacer.bid(1.5);
        if (value > 0) pacer.record(0.0001);
        return value;
      },
      { warmupMs: 300, minTimeMs: 2_000, callsPerSample: 1_000 },
    ),
  );
}

console.log(formatBenchTable('@ctrkit/pacing — ledgers (rows = reserve+commit pairs) and pacer', results, 'memory: reserve + commit'));

const ipinyou = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/ipinyou/rtb/2997.log.txt');
if (existsSync(ipinyou)) {
  const log = parseIpinyouLog(readFileSync(ipinyou, 'utf8'), { source: '2997' });
  const replay = await measureAsync('replay 2997, dual, 1/8', () => replayAuctions({ log, budgetRatio: 1 / 8, pacer: 'dual' }), { warmupMs: 500, minTimeMs: 3_000, rowsPerCall: log.size });
  console.log('');
  console.log(formatBenchTable('@ctrkit/pacing — replay (rows = auctions)', [replay]));
} else {
  console.warn(`${ipinyou} is absent: skipping the replay case`);
}
