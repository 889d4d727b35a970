/**
 * Failover without lost money: four processes reserve and commit on one budget through a Redis
 * Cluster of their own (3 masters + 1 replica each, ports 7200–7205), and the master that holds
 * the budget is killed (SIGKILL) or frozen (DEBUG SLEEP) mid-run. Its replica is promoted, the
 * clients follow (MOVED, reconnects), and at the end the money really spent stays within the
 * budget plus the ledger's stated bound, with no hold left open.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, redisClusterFor, spawnSource, uniqueKeyPrefix } from '@ctrkit/test-support';
import { toMicros } from '../src/money.js';
import { createRedisLedger } from '../src/redis.js';

// The shared cluster tells us the machine runs one; the failover suite starts its own to kill.
const shared = await redisClusterFor('pacing: ledger failover on Redis Cluster');
const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(REPO_ROOT, 'scripts/redis-cluster.sh');
const worker = path.join(here, 'fixtures/ledger-worker.ts');
const BASE_PORT = 7200;
const BUDGET = 30;
const LEASE = 0.5;
const LEASE_TTL = 1_500;
/** Kill / freeze cycles of the soak below (`CTRKIT_FAILOVER_CYCLES`; 0, the default, skips it). */
const CYCLES = Number(process.env.CTRKIT_FAILOVER_CYCLES ?? 0);
if (!Number.isInteger(CYCLES) || CYCLES < 0) throw new Error(`CTRKIT_FAILOVER_CYCLES must be a whole number of cycles (0 skips the soak), not '${process.env.CTRKIT_FAILOVER_CYCLES}'`);
const nodes = Array.from({ length: 6 }, (_, i) => ({ host: '127.0.0.1', port: BASE_PORT + i }));
const clusterEnv = { ...process.env, CTRKIT_REDIS_CLUSTER_BASE_PORT: String(BASE_PORT) };

const children = new Set<ChildProcess>();
const dirs: string[] = [];

interface Outcome {
  readonly name: string;
  readonly tallyMicros: number;
  readonly report?: { wins: number; unavailable: number; lastRefusal: string };
}

/** The master that holds the keys under `prefix`, found by asking each master. */
async function masterOf(cluster: Cluster, prefix: string): Promise<Redis> {
  for (const node of cluster.nodes('master')) {
    const [, keys] = await node.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    if (keys.length > 0) return node;
  }
  throw new Error(`no master holds keys under ${prefix}`);
}

/** Waits until the keys under `prefix` are served by a master other than the one on `port`. */
async function promotedAway(prefix: string, port: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 30_000) {
    const probe = new Cluster(nodes.filter((n) => n.port !== port), { redisOptions: { maxRetriesPerRequest: 1 } });
    probe.on('error', () => undefined);
    try {
      await new Promise((resolve, reject) => {
        probe.once('ready', resolve);
        setTimeout(() => reject(new Error('not ready')), 2_000);
      });
      const master = await masterOf(probe, prefix);
      const role = (await master.call('ROLE')) as unknown[];
      const now = master.options.port ?? 0;
      if (now !== port && role[0] === 'master') return now;
    } catch {
      // the cluster is still electing
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the keys under ${prefix} are still on 127.0.0.1:${port} after 30 s: no failover happened`);
}

async function runFleet(prefix: string, strike: (cluster: Cluster) => Promise<void>): Promise<Outcome[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-failover-'));
  dirs.push(dir);
  const watcher = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  watcher.on('error', () => undefined);
  let struck: Promise<void> | undefined;
  const runs = ['f0', 'f1', 'f2', 'f3'].map((name) => {
    const tallyFile = path.join(dir, `${name}.tally`);
    const config = { name, prefix, budget: BUDGET, leaseAmount: LEASE, leaseTtlMs: LEASE_TTL, reservationTtlMs: 300, flushIntervalMs: 20, tallyFile, quietMs: 15_000, maxMs: 90_000, clusterNodes: nodes, ...(process.env.CTRKIT_TEST_REPLICA_ACKS === undefined ? {} : { replicaAcks: Number(process.env.CTRKIT_TEST_REPLICA_ACKS) }) };
    const child = spawnSource(worker, [], { env: { ...process.env, CTRKIT_WORKER: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    let report: Outcome['report'];
    child.on('message', (message: { type: string; wins: number; unavailable: number; lastRefusal: string }) => {
      if (message.type === 'spending' && struck === undefined) struck = strike(watcher);
      if (message.type === 'done') report = { wins: message.wins, unavailable: message.unavailable, lastRefusal: message.lastRefusal };
    });
    return new Promise<Outcome>((resolve, reject) => {
      child.on('exit', (code, signal) => {
        children.delete(child);
        if (code !== 0) return reject(new Error(`${name} exited with ${code ?? signal}: ${stderr}`));
        const tallyMicros = existsSync(tallyFile) && readFileSync(tallyFile).length >= 8 ? readFileSync(tallyFile).readDoubleLE(0) : 0;
        resolve({ name, tallyMicros, ...(report === undefined ? {} : { report }) });
      });
    });
  });
  try {
    const outcomes = await Promise.all(runs);
    await struck;
    return outcomes;
  } finally {
    watcher.disconnect();
  }
}

describe.skipIf(shared === undefined)('ledger failover on Redis Cluster', () => {
  beforeAll(() => {
    execFileSync('bash', [script, 'stop'], { env: clusterEnv, stdio: 'ignore' });
    execFileSync('bash', [script, 'start'], { env: clusterEnv, stdio: 'ignore' });
  }, 60_000);
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    execFileSync('bash', [script, 'stop'], { env: clusterEnv, stdio: 'ignore' });
  });

  const check = async (prefix: string, outcomes: Outcome[], what: string) => {
    const reader = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 3 } });
    reader.on('error', () => undefined);
    try {
      const ledger = createRedisLedger({ redis: reader, budgets: { campaigns: [{ id: 'shared', dailyBudget: BUDGET }] }, keyPrefix: prefix, lease: false, commandTimeoutMs: 5_000 });
      let line;
      for (let attempt = 0; ; attempt++) {
        const t = Date.now();
        try {
          line = (await ledger.snapshot('shared')).lines[0];
          break;
        } catch (error) {
          console.log(`snapshot attempt ${attempt} failed after ${Date.now() - t} ms: ${(error as Error).message}; masters ${reader.nodes('master').map((n) => n.options.port).join(',')}`);
          if (attempt >= 3) throw error;
        }
      }
      const real = outcomes.reduce((sum, o) => sum + o.tallyMicros, 0);
      const recorded = toMicros(line?.spent ?? Number.NaN);
      console.log(
        `ledger failover (${what}): real spend ${real / 1e6} of ${BUDGET} (bound ${BUDGET + 4 * LEASE}); recorded ${recorded / 1e6}; reserved ${line?.reserved}; ` +
          outcomes.map((o) => `${o.name} ${o.tallyMicros / 1e6} (${o.report?.wins} wins, ${o.report?.unavailable} unavailable; last refusal: ${o.report?.lastRefusal})`).join(', '),
      );
      expect(outcomes.every((o) => o.report !== undefined && o.report.wins > 100)).toBe(true);
      // The stated bound: one lease per process (each may lose its lease once to the failover).
      expect(real).toBeLessThanOrEqual(toMicros(BUDGET + 4 * LEASE));
      // Spend the ledger never saw: writes the old master acknowledged and took with it. A killed
      // master lost none in the runs measured; a frozen one, which answers the commands queued
      // while it slept before it learns it was demoted, lost up to one lease per process with the
      // default replicaAcks 0 (none with replicaAcks 1: CTRKIT_TEST_REPLICA_ACKS=1).
      expect(recorded).toBeLessThanOrEqual(real);
      expect(real - recorded).toBeLessThanOrEqual(toMicros(4 * LEASE));
      expect(line?.reserved).toBe(0);
    } finally {
      reader.disconnect();
    }
  };

  /** One SIGKILL cycle: the master holding the budget dies mid-run and comes back as a replica. */
  const killCycle = async (what: string): Promise<void> => {
    const prefix = uniqueKeyPrefix('pacing', 'failover-kill');
    let victim = -1;
    let promoted = -1;
    const outcomes = await runFleet(prefix, async (cluster) => {
      const master = await masterOf(cluster, prefix);
      const pid = Number(/process_id:(\d+)/.exec(await master.info('server'))?.[1]);
      process.kill(pid, 'SIGKILL');
      victim = master.options.port ?? 0;
      promoted = await promotedAway(prefix, victim);
      // An orchestrator brings the dead server back; it rejoins as the new master's replica.
      execFileSync('bash', [script, 'start'], { env: clusterEnv, stdio: 'ignore' });
    });
    expect(promoted).not.toBe(victim);
    await check(prefix, outcomes, what);
    // The killed server comes back as a replica of the node that took over (the next cycle needs one).
    execFileSync('bash', [script, 'start'], { env: clusterEnv, stdio: 'ignore' });
  };

  /** One freeze cycle: the master sleeps past the node timeout, its replica is promoted, it wakes demoted. */
  const freezeCycle = async (what: string): Promise<void> => {
    const prefix = uniqueKeyPrefix('pacing', 'failover-freeze');
    let victim = -1;
    let promoted = -1;
    const outcomes = await runFleet(prefix, async (cluster) => {
      const master = await masterOf(cluster, prefix);
      victim = master.options.port ?? 0;
      // Far longer than the cluster's node timeout (2 s): the replica is promoted while the master sleeps.
      const sleeping = master.call('DEBUG', 'SLEEP', '10');
      promoted = await promotedAway(prefix, victim);
      await sleeping;
    });
    expect(promoted).not.toBe(victim);
    await check(prefix, outcomes, what);
  };

  it('a master killed mid-run: its replica takes over and spend stays within the bound', () => killCycle('SIGKILL'), 120_000);

  it('a master frozen mid-run (DEBUG SLEEP): spend stays within the bound', () => freezeCycle('DEBUG SLEEP 10'), 120_000);

  // The soak: CTRKIT_FAILOVER_CYCLES=10 alternates kills and freezes (kill first), each on a
  // fresh budget, every one held to the same bound. Off by default: each cycle takes 20–40 s.
  it.runIf(CYCLES > 0)(`${CYCLES} alternating kill / freeze cycles: spend stays within the bound in every one`, async () => {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      if (cycle % 2 === 1) await killCycle(`cycle ${cycle} of ${CYCLES}, SIGKILL`);
      else await freezeCycle(`cycle ${cycle} of ${CYCLES}, DEBUG SLEEP 10`);
    }
  }, CYCLES * 120_000);
});
