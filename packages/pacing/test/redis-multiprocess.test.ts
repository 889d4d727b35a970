import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysUnder, sharedRedisFor, spawnSource, uniqueKeyPrefix } from '@ctrkit/test-support';
import { createRedisLedger } from '../src/redis.js';
import { redisClient } from './fixtures/redis-clients.js';

const available = await sharedRedisFor('pacing: four processes sharing one Redis budget');
const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, 'fixtures/ledger-worker.ts');
const BUDGET = 400;
const LEASE = 0.5;
const LEASE_TTL = 800;

interface Outcome {
  readonly name: string;
  readonly killed: boolean;
  readonly tally: number;
  readonly report?: { spent: number; bids: number; wins: number; refusals: number; unavailable: number };
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function runFleet(prefix: string, killOne: boolean): Promise<Outcome[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-pacing-'));
  dirs.push(dir);
  const runs = ['p0', 'p1', 'p2', 'p3'].map((name, index) => {
    const tallyFile = path.join(dir, `${name}.tally`);
    const config = {
      name,
      prefix,
      budget: BUDGET,
      leaseAmount: LEASE,
      leaseTtlMs: LEASE_TTL,
      reservationTtlMs: 200,
      flushIntervalMs: 20,
      tallyFile,
      quietMs: LEASE_TTL + 700, // keep trying long enough for a dead process's lease to come back
      maxMs: 60_000,
    };
    const child = spawnSource(worker, [], { env: { ...process.env, CTRKIT_WORKER: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const victim = killOne && index === 0;
    let report: Outcome['report'];
    child.on('message', (message: { type: string } & Outcome['report']) => {
      if (message.type === 'spending' && victim) child.kill('SIGKILL'); // mid-flight: leases, open bids, unsettled spend
      if (message.type === 'done') report = message;
    });
    return new Promise<Outcome>((resolve, reject) => {
      child.on('exit', (code, signal) => {
        children.delete(child);
        if (!victim && code !== 0) return reject(new Error(`${name} exited with ${code ?? signal}: ${stderr}`));
        const tally = existsSync(tallyFile) && readFileSync(tallyFile).length >= 8 ? readFileSync(tallyFile).readDoubleLE(0) / 1e6 : 0;
        resolve({ name, killed: signal === 'SIGKILL', tally, ...(report === undefined ? {} : { report }) });
      });
    });
  });
  return Promise.all(runs);
}

describe.skipIf(!available)('four processes sharing one Redis budget', () => {
  const redis = redisClient();
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });
  const ledgerState = async (prefix: string) => {
    const reader = createRedisLedger({ redis, budgets: { campaigns: [{ id: 'shared', dailyBudget: BUDGET }] }, keyPrefix: prefix, lease: false });
    return (await reader.snapshot('shared')).lines[0] as { spent: number; reserved: number };
  };

  it('without failures: total spend stays within the budget and uses it up', async () => {
    const prefix = uniqueKeyPrefix('pacing', 'fleet');
    prefixes.push(prefix);
    const outcomes = await runFleet(prefix, false);
    const real = outcomes.reduce((sum, o) => sum + o.tally, 0);
    const line = await ledgerState(prefix);
    console.log(`pacing fleet, no kill: real spend ${real.toFixed(6)} of ${BUDGET}; per process ${outcomes.map((o) => `${o.name} ${o.tally.toFixed(2)} (${o.report?.wins} wins)`).join(', ')}`);
    expect(outcomes.every((o) => o.report !== undefined && o.report.wins > 1_000)).toBe(true); // all four really competed
    expect(real).toBeLessThanOrEqual(BUDGET + 1e-6);
    expect(line.spent).toBeCloseTo(real, 5); // every win recorded
    expect(line.reserved).toBe(0);
    expect(BUDGET - real).toBeLessThan(0.01); // used up to less than one bid
  }, 90_000);

  it('one process killed mid-flight: spend ≤ budget + one lease, and its lease returns to the others', async () => {
    const prefix = uniqueKeyPrefix('pacing', 'fleet-kill');
    prefixes.push(prefix);
    const outcomes = await runFleet(prefix, true);
    const victim = outcomes[0] as Outcome;
    const real = outcomes.reduce((sum, o) => sum + o.tally, 0);
    const line = await ledgerState(prefix);
    const unsettled = real - line.spent;
    console.log(
      `pacing fleet, one killed: real spend ${real.toFixed(6)} of ${BUDGET} (bound ${BUDGET + LEASE}); recorded ${line.spent.toFixed(6)}; victim spent ${victim.tally.toFixed(4)}, unsettled at death ${unsettled.toFixed(6)}`,
    );
    expect(victim.killed).toBe(true);
    expect(victim.tally).toBeGreaterThan(0);
    expect(outcomes.slice(1).every((o) => o.report !== undefined)).toBe(true);
    expect(real).toBeLessThanOrEqual(BUDGET + LEASE + 1e-6); // the stated bound: one lease per lost lease
    expect(line.spent).toBeLessThanOrEqual(BUDGET + 1e-6);
    expect(unsettled).toBeGreaterThanOrEqual(-1e-6);
    expect(unsettled).toBeLessThanOrEqual(LEASE + 1e-6);
    expect(line.reserved).toBe(0); // the dead lease expired back to the budget…
    expect(BUDGET - line.spent).toBeLessThan(0.01); // …and the survivors spent it
  }, 90_000);
});
