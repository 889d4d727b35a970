/**
 * The server's side of the published models (`EVENT_STREAM=nats`): it watches the learner's
 * bucket, and each time a newer version appears (a higher `seq`) it fetches it, checks it against
 * its own encoder's layout, builds a native LR runner over it, warms it on the served batch shape
 * and hot-swaps it in. The version it replaced is kept for one rollback (`POST
 * /admin/stream-model/rollback`); the one before that is disposed. A version that fails any check
 * is refused and counted, and the serving model stays; when the learner is gone nothing new comes
 * and the last good version keeps serving. Besides the watch, the bucket is polled every
 * `pollMs`, so a watch lost to a NATS outage costs at most that much delay.
 *
 * @internal
 */
import { createIdentityCalibrator, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { createNativeRunner, type HotSwapRunner, type ModelVersion, type SwapResult } from '@ctrkit/models';
import type { ObjectStore } from '@nats-io/obj';
import { Counter, Gauge, type Registry } from 'prom-client';
import { getPublishedModel, MODEL_OBJECT, type ModelWatermark } from '../published-model.js';
import { describe } from './describe.js';

/** What the feed has done. */
export interface ModelFeedStats {
  /** Versions swapped in. */
  readonly swaps: number;
  /** Versions refused (malformed, another spec, failed warm-up or swap). */
  readonly refusals: number;
  /** Notices of a version no newer than the serving one. */
  readonly stale: number;
  /** Rollbacks to the kept version. */
  readonly rollbacks: number;
  /** The `seq` of the published version serving now (0: none yet, the model of `MODEL_DIR` serves). */
  readonly seq: number;
  /** Its watermark. */
  readonly watermark: ModelWatermark | undefined;
  /** When it was swapped in here, ms since the epoch (0: never). */
  readonly swappedAt: number;
  /** The version kept for rollback. */
  readonly previousVersion: string | undefined;
}

/** The feed. */
export interface ModelFeed {
  /** Starts watching (and reads what the bucket holds now). */
  start(): Promise<void>;
  /** Counters and the serving version's seq and watermark. */
  stats(): ModelFeedStats;
  /** Swaps back the version kept before the last swap. @throws When none is kept. */
  rollback(): Promise<SwapResult>;
  /** Stops watching and disposes the kept version. */
  close(): Promise<void>;
}

/** What {@link createModelFeed} needs. */
export interface ModelFeedOptions {
  readonly store: ObjectStore;
  readonly hot: HotSwapRunner;
  readonly layout: FeatureLayout;
  /** A batch each new version must score before it serves. */
  readonly warmup: FeatureBatch | undefined;
  readonly registry?: Registry;
  readonly log: { info(fields: Record<string, unknown>, message: string): void; warn(fields: Record<string, unknown>, message: string): void };
  /** How often the bucket is polled besides the watch (default 10,000 ms). */
  readonly pollMs?: number;
  /** A read of the bucket that takes longer is given up (counted as refused; the next notice or poll reads again; default 15,000 ms). */
  readonly readTimeoutMs?: number;
}

/**
 * Creates the feed (not started).
 *
 * @param options - Bucket, serving runner, layout, warm-up batch, registry, logger.
 * @returns The feed.
 */
export function createModelFeed(options: ModelFeedOptions): ModelFeed {
  const { store, hot, layout, warmup, log, pollMs = 10_000, readTimeoutMs = 15_000 } = options;
  const registers = options.registry === undefined ? [] : [options.registry];
  const updates = new Counter({
    name: 'adserver_stream_model_updates_total',
    help: 'Published model versions seen, by result (swapped, refused, stale: no newer than the serving one, rolled_back)',
    labelNames: ['result'],
    registers,
  });
  const s = { swaps: 0, refusals: 0, stale: 0, rollbacks: 0 };
  let seq = 0;
  let watermark: ModelWatermark | undefined;
  let swappedAt = 0;
  let retained: ModelVersion | undefined;
  let closed = false;
  let wanted = false;
  let running: Promise<void> | undefined;
  let watcher: { stop(): void } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge('adserver_stream_model_seq', 'seq of the published model version serving (0: the model of MODEL_DIR)', () => seq);
  gauge('adserver_stream_model_watermark_ms', 'Click timestamps up to this are learned by the serving published version (NaN: none)', () => watermark?.clickedAt ?? Number.NaN);
  gauge('adserver_stream_model_swapped_at_ms', 'When the serving published version was swapped in, ms since the epoch (0: never)', () => swappedAt);

  const applyLatest = async (): Promise<void> => {
    let published;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // A read can hang when the learner replaces the object under it (its chunks are purged):
      // bounded, or every later notice would wait behind it.
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`reading the published model took more than ${readTimeoutMs} ms`)), readTimeoutMs)));
      published = await Promise.race([getPublishedModel(store, layout, seq), timeout]);
    } catch (error) {
      s.refusals++;
      updates.inc({ result: 'refused' });
      log.warn({ err: describe(error) }, 'published model refused; the serving model stays');
      return;
    } finally {
      clearTimeout(timer);
    }
    if (published === undefined || closed) return;
    if (published === 'stale' || published.header.seq <= seq) {
      s.stale++;
      updates.inc({ result: 'stale' });
      return;
    }
    const { header, weights } = published;
    try {
      const runner = createNativeRunner({ layout, weights, version: header.version });
      const result = await hot.swap({ runner, calibrator: createIdentityCalibrator() }, { keepPrevious: true, ...(warmup === undefined ? {} : { warmup }) });
      const older = retained;
      retained = result.retained;
      if (older !== undefined && older !== retained) await older.runner.dispose().catch(() => undefined);
      seq = header.seq;
      watermark = header.watermark;
      swappedAt = Date.now();
      s.swaps++;
      updates.inc({ result: 'swapped' });
      log.info({ previous: result.previous.version, current: header.version, seq: header.seq, watermark: header.watermark.clickedAt }, 'published model swapped in');
    } catch (error) {
      s.refusals++;
      updates.inc({ result: 'refused' });
      log.warn({ version: header.version, seq: header.seq, err: describe(error) }, 'published model refused; the serving model stays');
    }
  };

  /** One fetch at a time; notices that come meanwhile fold into one more fetch. */
  const request = (): Promise<void> => {
    wanted = true;
    running ??= (async () => {
      while (wanted && !closed) {
        wanted = false;
        await applyLatest();
      }
      running = undefined;
    })();
    return running;
  };

  return {
    async start() {
      const iterator = await store.watch({ ignoreDeletes: true });
      watcher = iterator;
      void (async () => {
        try {
          for await (const info of iterator) if (info.name === MODEL_OBJECT) void request();
        } catch (error) {
          if (!closed) log.warn({ err: describe(error) }, 'published models: the watch stopped; polling goes on');
        }
      })();
      timer = setInterval(() => void request(), pollMs);
      timer.unref();
      await request();
    },
    stats: () => ({ ...s, seq, watermark, swappedAt, previousVersion: retained?.runner.info.version }),
    async rollback() {
      const previous = retained;
      if (previous === undefined) throw new Error('no version is kept to roll back to (none swapped in since the start or the last rollback)');
      const result = await hot.swap(previous);
      retained = undefined;
      // The seq stays: the version left is not taken again, a newer one is.
      watermark = undefined;
      swappedAt = Date.now();
      s.rollbacks++;
      updates.inc({ result: 'rolled_back' });
      log.warn({ from: result.previous.version, to: result.current.version }, 'published model rolled back; newer versions still swap in when they come');
      return result;
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      watcher?.stop();
      await running;
      await retained?.runner.dispose().catch(() => undefined);
      retained = undefined;
    },
  };
}
