/**
 * Helpers for tests against the shared Redis at 127.0.0.1:6379: a key prefix unique to each run,
 * cleanup of exactly those keys, a TCP proxy to cut the connection (a partition) without touching
 * the shared server, and a real-time clock that can jump (day changes) for ledgers whose leases
 * expire on Redis's clock.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { systemClock, type Clock } from '@ctrkit/core';
import { Redis, type RedisOptions } from 'ioredis';
import { sharedRedisFor } from '@ctrkit/test-support';

export const REDIS_PORT = 6379;

/** Whether the shared Redis answers, under the skip-or-fail rule (a visible skip locally, an error in CI). */
export async function redisAvailable(forWhat = 'pacing: the Redis ledger tests'): Promise<boolean> {
  return sharedRedisFor(forWhat);
}

export function uniquePrefix(what: string): string {
  return `ctrkit-test:pacing:${what}:${randomUUID()}:`;
}

export function client(port = REDIS_PORT, options: RedisOptions = {}): Redis {
  const redis = new Redis({ port, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 20, 200), ...options });
  redis.on('error', () => undefined); // failures surface through the ledger, not as unhandled events
  return redis;
}

/** Deletes every key under `prefix` (and only those). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Real time plus an offset that `jump` moves forward. */
export function jumpClock(start: number): Clock & { jump(ms: number): void } {
  let offset = start - systemClock.now();
  return { now: () => systemClock.now() + offset, jump: (ms: number) => void (offset += ms) };
}

/** A TCP proxy to Redis that can be cut and restored, to simulate a partition. */
export async function redisProxy(): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((incoming) => {
        const upstream = net.connect(REDIS_PORT, '127.0.0.1');
        sockets.add(incoming);
        sockets.add(upstream);
        incoming.pipe(upstream).pipe(incoming);
        const drop = () => {
          incoming.destroy();
          upstream.destroy();
          sockets.delete(incoming);
          sockets.delete(upstream);
        };
        incoming.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      if (server === undefined) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
    server = undefined;
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
