/**
 * `@ctrkit/pacing/redis` — the budget ledger shared through Redis (ioredis), for several ad-server
 * processes spending one set of budgets. Node only.
 *
 * @packageDocumentation
 */
export { createRedisLedger } from './redis-ledger.js';
export type { LeaseOptions, RedisLedger, RedisLedgerOptions, RedisLedgerStats } from './redis-ledger.js';
