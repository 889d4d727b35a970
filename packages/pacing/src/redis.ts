/**
 * `@ctrkit/pacing/redis` — the budget ledger and the campaign reports shared through Redis
 * (ioredis), for several ad-server processes spending one set of budgets and answering for the
 * whole fleet's figures. Node only.
 *
 * @packageDocumentation
 */
export { createRedisLedger } from './redis-ledger/ledger.js';
export type { LeaseOptions, RedisLedger, RedisLedgerOptions, RedisLedgerStats } from './redis-ledger/options.js';
export { createRedisCampaignReporter } from './redis-reporter.js';
export type { RedisCampaignReporter, RedisCampaignReporterOptions, RedisCampaignReporterStats } from './redis-reporter.js';
