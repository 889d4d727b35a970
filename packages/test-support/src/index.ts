/**
 * Test helpers shared by ctrkit's packages and examples (private, never published).
 *
 * @packageDocumentation
 */
export { REPO_ROOT, SHARED_DATA_DIR, sharedDataFile } from './shared-data.js';
export { CRITEO_SPLIT, criteoSampleFile } from './criteo-split.js';
export { redisAnswers } from './redis-probe.js';
export { chromiumPath } from './chromium.js';
export { needs, type Requirement } from './requirement.js';
export { SHARED_REDIS_PORT, sharedRedisFor } from './shared-redis.js';
export { REDIS_CLUSTER_ENV, redisClusterFor, redisClusterNodes, type ClusterNode } from './redis-cluster.js';
export { deleteKeysUnder, keysUnder, uniqueKeyPrefix, type ClusterKeyScanner, type KeyScanner } from './redis-keys.js';
export { natsAnswers, type NatsProbe } from './nats-probe.js';
export { SHARED_NATS_PORT, sharedNatsFor } from './shared-nats.js';
export { freePort } from './free-port.js';
export { pollUntil, sleep, type PollOptions } from './poll.js';
export { spawnSource } from './source-process.js';
export { codeThrownBy, ctrkitErrorThrownBy, ctrkitRejectionOf, isBrandedCtrkitError, type ThrownCtrkitError } from './thrown-errors.js';
export { gppHeader, tcString, type TcOptions } from './consent-strings.js';
