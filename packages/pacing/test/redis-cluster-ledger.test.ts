/**
 * The ledger on a real Redis Cluster (3 masters, 1 replica each: scripts/redis-cluster.sh),
 * through ioredis' Cluster client, selected by CTRKIT_REDIS_CLUSTER: the conformance suite in both
 * modes, and several ledgers with clients of their own racing on one budget. Every script's keys
 * share one hash tag, or the cluster refuses the call (CROSSSLOT).
 */
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteKeysUnder, redisClusterFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import type { LedgerBudgets } from '../src/index.js';
import { toMicros } from '../src/money.js';
import { createRedisLedger } from '../src/redis.js';
import { describeLedgerConformance } from './fixtures/ledger-conformance.js';
import { clusterClient } from './fixtures/redis-clients.js';
import { CONFORMANCE_TTL_MS, redisLedgerHarness } from './fixtures/redis-ledger-harness.js';

const nodes = await redisClusterFor('pacing: the Redis ledger on Redis Cluster');

if (nodes !== undefined) {
  for (const mode of ['leases', 'direct'] as const) {
    describeLedgerConformance(`redis (${mode}) on Redis Cluster`, redisLedgerHarness(mode, 'cluster', () => clusterClient(nodes)), { ttlMs: CONFORMANCE_TTL_MS });
  }
}

describe.skipIf(nodes === undefined)('Redis ledger on Redis Cluster', () => {
  it('four ledgers with clients of their own never commit more than the budget, to the micro', async () => {
    const prefix = uniqueKeyPrefix('pacing', 'cluster-race');
    const budgets: LedgerBudgets = {
      campaigns: [
        { id: 'a', dailyBudget: 3, advertiserId: 'adv' },
        { id: 'b', dailyBudget: 2, advertiserId: 'adv' },
      ],
      advertisers: [{ id: 'adv', dailyBudget: 4 }],
    };
    const clients = [0, 1, 2, 3].map(() => clusterClient(nodes ?? []));
    const ledgers = clients.map((redis, i) =>
      createRedisLedger({ redis, budgets, keyPrefix: prefix, reservationTtlMs: 2_000, lease: i % 2 === 0 ? { amount: 0.5, ttlMs: 5_000, flushIntervalMs: 20, idleMs: 300 } : false }),
    );
    let committedMicros = 0;
    let budgetRefusals = 0;
    try {
      await Promise.all(
        ledgers.map(async (ledger, i) => {
          for (let k = 0; k < 150; k++) {
            const campaign = (k + i) % 3 === 0 ? 'b' : 'a';
            const price = 0.01 + ((k * 7 + i) % 13) * 0.003;
            const result = await ledger.reserve(campaign, price);
            if (!result.ok) {
              if (result.reason === 'budget') budgetRefusals++;
              continue;
            }
            if ((k + i) % 5 === 0) {
              await ledger.release(result);
              continue;
            }
            const paid = Math.round(price * 0.8 * 1e6) / 1e6;
            await ledger.commit(result, paid);
            committedMicros += toMicros(paid);
          }
        }),
      );
      await Promise.all(ledgers.map((ledger) => ledger.flush()));
      const reader = createRedisLedger({ redis: clients[0] as Cluster, budgets, keyPrefix: prefix, lease: false });
      const a = (await reader.snapshot('a')).lines[0];
      const b = (await reader.snapshot('b')).lines[0];
      const spentMicros = toMicros(a?.spent ?? Number.NaN) + toMicros(b?.spent ?? Number.NaN);
      expect(spentMicros).toBe(committedMicros);
      expect(spentMicros).toBeLessThanOrEqual(toMicros(4));
      expect(toMicros(a?.spent ?? Number.NaN)).toBeLessThanOrEqual(toMicros(3));
      expect(toMicros(b?.spent ?? Number.NaN)).toBeLessThanOrEqual(toMicros(2));
      // 600 bids of ~2.5 cents ask for more than $4: the budgets were reached and refused bids.
      expect(budgetRefusals).toBeGreaterThan(0);
    } finally {
      await Promise.all(ledgers.map((ledger) => ledger.close().catch(() => undefined)));
      await deleteKeysUnder(clients[0] as Cluster, prefix);
      for (const redis of clients) redis.disconnect();
    }
  });
});
