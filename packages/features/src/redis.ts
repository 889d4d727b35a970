/**
 * `@ctrkit/features/redis` — the Redis feature store (Node only: it loads ioredis). Same counters
 * and the same answers as the embedded memory store, shared by every ad-server process.
 *
 * @packageDocumentation
 */
export { createRedisFeatureStore } from './redis-store.js';
export type { RedisFeatureStore, RedisFeatureStoreOptions } from './redis-store.js';
