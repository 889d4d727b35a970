import { needs } from './requirement.js';
import { redisAnswers } from './redis-probe.js';

/** The variable that names a Redis Cluster's nodes for the cluster suites: `host:port,host:port,…`. */
export const REDIS_CLUSTER_ENV = 'CTRKIT_REDIS_CLUSTER';

/** One node of a Redis Cluster, as ioredis' `Cluster` client takes it. */
export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/**
 * The nodes named by `CTRKIT_REDIS_CLUSTER`, or an empty list when it is unset.
 *
 * @returns The nodes in the order given.
 * @throws Error when an entry is not `host:port` with a port in 1–65535.
 */
export function redisClusterNodes(): ClusterNode[] {
  const value = process.env[REDIS_CLUSTER_ENV] ?? '';
  if (value.trim() === '') return [];
  return value.split(',').map((entry) => {
    const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(entry);
    const port = match === null ? Number.NaN : Number(match[2]);
    if (match === null || !(port >= 1 && port <= 65_535)) throw new Error(`${REDIS_CLUSTER_ENV}: '${entry}' is not host:port`);
    return { host: match[1] as string, port };
  });
}

/**
 * The skip-or-fail rule for the suites that run on a Redis Cluster: they run when
 * `CTRKIT_REDIS_CLUSTER` names nodes and the first answers `PING`; otherwise one `[skipped]`
 * line locally (start one with `bash scripts/redis-cluster.sh start`), an error when `CI` is set.
 *
 * @param forWhat - Which tests need it.
 * @returns The nodes when the tests can run, `undefined` when they are skipped.
 */
export async function redisClusterFor(forWhat: string): Promise<ClusterNode[] | undefined> {
  const nodes = redisClusterNodes();
  const first = nodes[0];
  const present = first !== undefined && (await redisAnswers(first.port, { host: first.host }));
  const ok = needs({
    what: first === undefined ? `a Redis Cluster named by ${REDIS_CLUSTER_ENV}` : `the Redis Cluster at ${first.host}:${first.port}`,
    forWhat,
    present,
    hint: `export $(bash scripts/redis-cluster.sh start | tail -1)`,
  });
  return ok ? nodes : undefined;
}
