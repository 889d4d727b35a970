import { randomUUID } from 'node:crypto';

/**
 * What the key helpers need of one Redis connection: ioredis' `Redis`, and each node of its
 * `Cluster`, fit (typed by shape, so this package needs no Redis client of its own).
 */
export interface KeyScanner {
  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', batch: number): Promise<[cursor: string, keys: string[]]>;
  del(...keys: string[]): Promise<number>;
}

/** What the key helpers need of a Redis Cluster: ioredis' `Cluster` fits. */
export interface ClusterKeyScanner {
  nodes(role: 'master'): KeyScanner[];
}

/**
 * A key prefix no other run or test uses, for tests on a shared Redis:
 * `ctrkit-test:<owner>:<what>:<uuid>:`. It holds no `{…}`, so keys under it keep their own hash tags.
 *
 * @param owner - The package or example, e.g. `pacing`.
 * @param what - The test or suite, e.g. `conformance-leases`.
 * @returns The prefix.
 * @example
 * ```ts
 * import { uniqueKeyPrefix } from '@ctrkit/test-support';
 * const prefix = uniqueKeyPrefix('pacing', 'race'); // 'ctrkit-test:pacing:race:6f1c…:'
 * ```
 */
export function uniqueKeyPrefix(owner: string, what: string): string {
  return `ctrkit-test:${owner}:${what}:${randomUUID()}:`;
}

/**
 * Every key under `prefix`, found by `SCAN` (never `KEYS`, which blocks a shared server); on a
 * cluster, on every master.
 *
 * @param redis - One connection, or a cluster.
 * @param prefix - The prefix (no glob characters).
 * @returns The keys, in no particular order.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { keysUnder } from '@ctrkit/test-support';
 * const redis = new Redis();
 * console.log(await keysUnder(redis, 'ctrkit-test:docs:'));
 * redis.disconnect();
 * ```
 */
export async function keysUnder(redis: KeyScanner | ClusterKeyScanner, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * Deletes every key under `prefix`, and only those. On a cluster each key is deleted on its own
 * master one at a time: keys of different slots in one `DEL` are refused (CROSSSLOT).
 *
 * @param redis - One connection, or a cluster.
 * @param prefix - The prefix (no glob characters).
 * @returns How many keys were deleted.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { deleteKeysUnder, uniqueKeyPrefix } from '@ctrkit/test-support';
 * const redis = new Redis();
 * const prefix = uniqueKeyPrefix('docs', 'example');
 * await redis.set(`${prefix}a`, '1');
 * await deleteKeysUnder(redis, prefix); // 1
 * redis.disconnect();
 * ```
 */
export async function deleteKeysUnder(redis: KeyScanner | ClusterKeyScanner, prefix: string): Promise<number> {
  let deleted = 0;
  const cluster = isCluster(redis);
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (!cluster && keys.length > 0) deleted += await node.del(...keys);
      if (cluster) for (const key of keys) deleted += await node.del(key);
    } while (cursor !== '0');
  }
  return deleted;
}

function isCluster(redis: KeyScanner | ClusterKeyScanner): redis is ClusterKeyScanner {
  return typeof (redis as Partial<ClusterKeyScanner>).nodes === 'function';
}

function nodesOf(redis: KeyScanner | ClusterKeyScanner): KeyScanner[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}
