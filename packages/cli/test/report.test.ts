import { createManualClock, type AdEvent } from '@ctrkit/core';
import { createRedisCampaignReporter } from '@ctrkit/pacing/redis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysUnder, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { runCli } from '../src/index.js';
import { captureIo } from './fixtures/captured-io.js';

const available = await sharedRedisFor('cli: ctrkit report against the shared Redis');
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const prefix = uniqueKeyPrefix('cli', 'report');

async function ctrkit(...argv: string[]) {
  const io = captureIo();
  io.clock.set(NOW);
  const status = await runCli(argv, io);
  return { status, out: io.out(), err: io.err() };
}

describe.skipIf(!available)('ctrkit report', () => {
  const redis = available ? new Redis({ maxRetriesPerRequest: 1 }) : undefined;
  afterAll(async () => {
    if (redis === undefined) return;
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });

  it("prints the fleet's figures written by two servers, as a table and as one JSON object", async () => {
    let serial = 0;
    const at = (minutesAgo: number, type: AdEvent['type'], campaignId: string, cost?: number): AdEvent =>
      ({ type, eventId: `e${++serial}`, requestId: `r${serial}`, adId: 'a', campaignId, advertiserId: 'adv-1', userId: 'u', timestamp: NOW - minutesAgo * 60_000, ...(cost === undefined ? {} : { cost }) }) as AdEvent;
    for (const clientId of ['server-1', 'server-2']) {
      const reporter = createRedisCampaignReporter({ redis: redis as Redis, keyPrefix: prefix, flushIntervalMs: 0, clientId, clock: createManualClock(NOW) });
      for (let i = 0; i < 10; i++) reporter.record(at(5, 'impression', 'cmp-1', 0.003));
      reporter.record(at(5, 'click', 'cmp-1'));
      reporter.record(at(90, 'impression', 'cmp-old', 0.5));
      await reporter.close();
    }
    const json = await ctrkit('report', '--prefix', prefix, '--window', '1h', '--json');
    expect(json.status, json.err).toBe(0);
    const report = JSON.parse(json.out) as { windowMs: number; campaigns: { id: string; impressions: number; clicks: number; spend: number; ctr: number; cpc: number | null }[]; advertisers: { id: string; spend: number }[] };
    expect(report.windowMs).toBe(3_600_000);
    expect(report.campaigns).toEqual([expect.objectContaining({ id: 'cmp-1', impressions: 20, clicks: 2, spend: 0.06, ctr: 0.1 })]);
    expect(report.advertisers).toEqual([expect.objectContaining({ id: 'adv-1', spend: 0.06 })]);
    const day = await ctrkit('report', '--prefix', prefix, '--window', '1d', '--json');
    expect((JSON.parse(day.out) as typeof report).campaigns.map((c) => c.id)).toEqual(['cmp-1', 'cmp-old']);
    const text = await ctrkit('report', '--prefix', prefix, '--window', '2h');
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/campaigns \(2\)/);
    expect(text.out).toMatch(/cmp-old +2 +0 +0 +1\.00/);
    const empty = await ctrkit('report', '--prefix', `${prefix}nothing:`);
    expect(empty.out).toMatch(/no events in the window/);
  });

  it('bad usage exits 2, an unreachable Redis exits 1 with one line', async () => {
    expect((await ctrkit('report', '--window', 'soon')).status).toBe(2);
    expect((await ctrkit('report', '--redis', 'redis://127.0.0.1:6379', '--cluster', '127.0.0.1:7100')).status).toBe(2);
    expect((await ctrkit('report', '--cluster', 'localhost')).status).toBe(2);
    const down = await ctrkit('report', '--redis', 'redis://127.0.0.1:1');
    expect(down.status).toBe(1);
    expect(down.err).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    expect(down.err.trim().split('\n')).toHaveLength(1);
  });
});
