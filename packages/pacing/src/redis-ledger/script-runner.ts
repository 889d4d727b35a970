/**
 * How the Redis ledger talks to Redis: its three Lua scripts by SHA (falling back to the source
 * on NOSCRIPT), with a timeout, optionally followed by WAIT for replica acknowledgments, and
 * following a Cluster's MOVED/ASK after a failover.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { dayIndex, type CompiledCampaign } from '../budget.js';
import { HOLD_SCRIPT, SETTLE_SCRIPT, SNAPSHOT_SCRIPT } from '../redis-scripts.js';

/** @internal The ledger's scripts. */
export type ScriptName = 'hold' | 'settle' | 'snapshot';
const SCRIPTS: Record<ScriptName, { source: string; sha: string }> = {
  hold: { source: HOLD_SCRIPT, sha: createHash('sha1').update(HOLD_SCRIPT).digest('hex') },
  settle: { source: SETTLE_SCRIPT, sha: createHash('sha1').update(SETTLE_SCRIPT).digest('hex') },
  snapshot: { source: SNAPSHOT_SCRIPT, sha: createHash('sha1').update(SNAPSHOT_SCRIPT).digest('hex') },
};

/** @internal Redis did not answer within the command timeout. */
export class TimeoutError extends Error {}

/** @internal The script ran on the master, but fewer replicas than `replicaAcks` have it yet. */
export class ReplicaLagError extends TimeoutError {}

/** @internal Runs one script on the keys of one budget group; resolves with its reply as strings. */
export type ScriptRunner = (name: ScriptName, keys: readonly string[], args: readonly string[]) => Promise<string[]>;

/** @internal The budget lines of a campaign as script arguments: count, then key, limit and day of each. */
export function lineArgs(campaign: CompiledCampaign, now: number): string[] {
  const args = [String(campaign.lines.length)];
  for (const line of campaign.lines) {
    args.push(line.key, String(line.limitMicros), line.period === 'daily' ? String(dayIndex(now, line.timezoneOffsetMinutes)) : '-1');
  }
  return args;
}

/**
 * @internal A {@link ScriptRunner} on `redis`: `timeoutMs` per call, `replicaAcks` replicas
 * waited for, `onError` told of every failed or timed-out call.
 */
export function createScriptRunner(redis: Redis | Cluster, timeoutMs: number, replicaAcks: number, onError: () => void): ScriptRunner {
  /** Re-reads a cluster's slot map (after a MOVED); resolves on a single Redis at once. */
  const refreshSlots = (): Promise<void> =>
    new Promise((resolve) => {
      const cluster = redis as { refreshSlotsCache?: (callback: (error?: Error | null) => void) => void };
      if (typeof cluster.refreshSlotsCache !== 'function') return resolve();
      // Errors surface when the pipeline is sent again; never wait longer than a short pause.
      const timer = setTimeout(resolve, 200);
      cluster.refreshSlotsCache(() => {
        clearTimeout(timer);
        setTimeout(resolve, 20);
      });
    });

  return async (name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<string[]> => {
    const script = SCRIPTS[name];
    const client = redis as Redis;
    const call = (async () => {
      if (replicaAcks === 0) {
        try {
          return await client.evalsha(script.sha, keys.length, ...keys, ...args);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(script.source, keys.length, ...keys, ...args);
          throw error;
        }
      }
      // The script and WAIT in one pipeline: WAIT has no key, so it goes to the node that ran the script.
      const waitMs = String(Math.max(1, Math.floor(timeoutMs / 2)));
      const run = async (withSource: boolean) => {
        const pipeline = client.pipeline();
        if (withSource) pipeline.eval(script.source, keys.length, ...keys, ...args);
        else pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
        pipeline.call('WAIT', String(replicaAcks), waitMs);
        return (await pipeline.exec()) ?? [];
      };
      let results = await run(false);
      for (let attempt = 0; ; attempt++) {
        const first = results[0]?.[0];
        if (!(first instanceof Error)) break;
        if (first.message.startsWith('NOSCRIPT')) results = await run(true);
        else if (/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN) /.test(first.message) && attempt < 3) {
          // ioredis follows redirections for single commands but not for a pipeline whose keyless
          // commands succeeded: learn the new slot owner (a failover) and send it again.
          await refreshSlots();
          results = await run(false);
        } else break;
      }
      const [scriptError, reply] = results[0] ?? [new Error('Redis answered an empty pipeline'), undefined];
      if (scriptError) throw scriptError;
      const [waitError, acks] = results[1] ?? [new Error('Redis did not answer WAIT'), undefined];
      if (waitError) throw waitError;
      if (Number(acks) < replicaAcks) {
        throw new ReplicaLagError(`${Number(acks)} of ${replicaAcks} replica(s) acknowledged the write within ${waitMs} ms (is the master's replica down? set replicaAcks: 0 for a cluster without replicas, accepting that a failover can lose acknowledged writes)`);
      }
      return reply;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return (reply as unknown[]).map(String);
    } catch (error) {
      onError();
      call.catch(() => undefined);
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
}
