/**
 * The learner: the fleet's half of the learning loop. A durable stream-joiner consumer labels the
 * served rows the servers publish with the clicks that come back; labeled rows are made durable
 * in a rolling Arrow log (exactly once across restarts, `labeled-log.ts`); once durable they feed
 * an FTRL-LR through the online refresher, whose guard judges every snapshot against the version
 * the fleet serves now on the newest held-out joined rows. A candidate that passes is published
 * to the model bucket with its watermark (`published-model.ts`), and every server hot-swaps it in.
 *
 * At a restart it takes the published version as the guard's baseline (the servers' `MODEL_DIR`
 * model before anything was published), replays the newest labeled rows into a fresh trainer,
 * puts the durable consumer back at its ack floor (so what the dead learner left unacked comes
 * again in stream order, each row before its clicks), and closes windows by event time while it
 * reads that backlog (`event-clock.ts`): whatever was not durable is labeled now, what was is
 * dropped by the labeled log.
 */
import path from 'node:path';
import { createStreamJoiner, type EventStream, type FeatureLayout, type JoinedRow, type LabelJoinerStats, type ModelRunner, type StreamJoiner } from '@ctrkit/core';
import { createNatsEventStream, type NatsEventStream } from '@ctrkit/core/nats';
import { createFeatureEncoder } from '@ctrkit/features';
import { createFtrlTrainer, createHotSwapRunner, createNativeRunner, createOnlineRefresher, type LoadedModel, type NativeRunner, type OnlineRefresher, type OnlineRefresherStats, type RefreshDecision } from '@ctrkit/models';
import { loadModel } from '@ctrkit/models/node';
import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import { specOf } from '../app/model.js';
import { connectNats, encodePublishedModel, getPublishedModel, MODEL_FORMAT, MODEL_OBJECT, openModelBucket, putPublishedModel, type PublishedModelHeader } from '../published-model.js';
import type { LearnerConfig } from './config.js';
import { createEventTimeClock } from './event-clock.js';
import { archiveLabeledFiles, createLabeledOutput, recoverLabeledLog, watchDeliveries, type DurableRow, type LabeledOutput } from './labeled-log.js';
import { WatermarkTracker } from './watermark.js';

/** One line of the learner's log. */
export interface LearnerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Everything the learner counts (`GET /stats`). */
export interface LearnerStats {
  readonly joiner: LabelJoinerStats & { readonly acked: number; readonly rejected: number; readonly holding: number };
  /** Deliveries handed to the joiner (redeliveries included). */
  readonly deliveries: number;
  readonly output: { readonly appended: number; readonly persisted: number; readonly files: number; readonly failedRows: number; readonly redelivered: number };
  readonly recovery: { readonly ids: number; readonly replayedRows: number; readonly files: number; readonly archived: number };
  readonly refresher: Omit<OnlineRefresherStats, 'lastDecision'>;
  readonly published: { readonly seq: number; readonly version: string | undefined; readonly watermark: number | null; readonly versions: number; readonly failures: number; readonly lastError: string | undefined };
}

/** A running learner. */
export interface Learner {
  readonly layout: FeatureLayout;
  stats(): LearnerStats;
  /** The joiner's and the refresher's counters, for the Prometheus series. */
  joinerStats(): LabelJoinerStats;
  refresherStats(): OnlineRefresherStats;
  /** Flushes and acks what is labeled, waits for a decision under way and the last publish, and closes. */
  stop(): Promise<void>;
}

/**
 * Puts the durable consumer back at its ack floor (the oldest event not yet acked), so that it
 * delivers from there again in stream order.
 *
 * Why: the events a dead learner held unacked come back only once their ack wait expires, while
 * newer events come at once — a click would then reach the new learner before its row, and be
 * lost as an orphan. From the ack floor every row comes before its clicks (a server stores the row
 * before it answers the notice the click follows). Events after the floor that were acked already
 * come again too; the labeled log's ids drop what they label a second time.
 *
 * @returns The sequence delivery restarts at, or undefined when the consumer is new.
 */
async function rewindConsumer(nc: NatsConnection, stream: string, consumer: string): Promise<number | undefined> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(stream, consumer).catch(() => undefined);
  if (info === undefined) return undefined;
  const start = info.ack_floor.stream_seq + 1;
  const old = info.config;
  const config: Partial<ConsumerConfig> = {
    durable_name: consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start,
    ...(old.description === undefined ? {} : { description: old.description }),
    ...(old.ack_wait === undefined ? {} : { ack_wait: old.ack_wait }),
    ...(old.max_ack_pending === undefined ? {} : { max_ack_pending: old.max_ack_pending }),
    ...(old.filter_subject === undefined ? {} : { filter_subject: old.filter_subject }),
    ...(old.filter_subjects === undefined ? {} : { filter_subjects: old.filter_subjects }),
  };
  await jsm.consumers.delete(stream, consumer);
  await jsm.consumers.add(stream, config);
  return start;
}

/**
 * Starts a learner.
 *
 * @param config - From `readLearnerConfig()`.
 * @param log - Where its lines go.
 * @param onFatal - Called when its output can no longer be written (the process must exit: the stream redelivers).
 * @returns The learner, consuming.
 * @throws `CtrkitError` when NATS, the model or the labeled log cannot be opened.
 */
export async function startLearner(config: LearnerConfig, log: LearnerLog, onFatal: (error: unknown) => void): Promise<Learner> {
  const spec = await specOf(config.modelDir);
  const layout = createFeatureEncoder(spec).layout;
  const nc: NatsConnection = await connectNats(config.eventStream.servers, `ctrkit learner ${process.pid}`);
  let stream: NatsEventStream;
  let store: ObjectStore;
  try {
    stream = await createNatsEventStream({ connection: nc, stream: config.eventStream.stream, subjectPrefix: config.eventStream.subjectPrefix });
    store = await openModelBucket(nc, config.eventStream.modelBucket);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }

  // The guard's baseline: what the fleet serves now.
  const info = await store.info(MODEL_OBJECT).catch(() => null);
  let seq = Number(info?.metadata?.seq ?? 0) || 0;
  let floor = Number.NEGATIVE_INFINITY;
  let baseline: ModelRunner | LoadedModel;
  const read = await getPublishedModel(store, layout).catch((error: unknown) => {
    log.warn({ err: (error as Error).message }, 'the published model is unreadable; judging against MODEL_DIR instead');
    return undefined;
  });
  const published = read === 'stale' ? undefined : read;
  if (published !== undefined) {
    seq = Math.max(seq, published.header.seq);
    floor = published.header.watermark.clickedAt ?? Number.NEGATIVE_INFINITY;
    baseline = createNativeRunner({ layout, weights: published.weights, version: published.header.version });
  } else {
    baseline = await loadModel(config.modelDir, { expect: layout, backends: ['onnx-node'] });
  }
  const target = createHotSwapRunner(baseline);
  log.info({ baseline: target.info.version, seq, watermark: Number.isFinite(floor) ? floor : null }, 'learner: the guard judges against the serving version');

  const boot = Date.now().toString(36);
  const tracker = new WatermarkTracker(floor);
  const p = { versions: 0, failures: 0, lastError: undefined as string | undefined, version: published?.header.version, watermark: Number.isFinite(floor) ? floor : null };
  /** The newest accepted version not yet published (latest wins); publishing runs one at a time. */
  let unpublished: { bytes: Uint8Array; header: PublishedModelHeader } | undefined;
  let publishing: Promise<void> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const publishPending = (): Promise<void> => {
    publishing ??= (async () => {
      while (unpublished !== undefined) {
        const next = unpublished;
        try {
          await putPublishedModel(store, next.bytes, next.header);
          if (unpublished === next) unpublished = undefined;
          p.versions++;
          p.version = next.header.version;
          p.watermark = next.header.watermark.clickedAt;
          log.info({ version: next.header.version, seq: next.header.seq, watermark: next.header.watermark.clickedAt, rowsLearned: next.header.watermark.rowsLearned, bytes: next.bytes.length }, 'learner: version published');
        } catch (error) {
          p.failures++;
          p.lastError = (error as Error).message;
          log.warn({ version: next.header.version, err: p.lastError }, 'learner: publishing failed; retrying in 2 s');
          if (!stopped) retryTimer = setTimeout(() => void publishPending(), 2_000);
          break;
        }
      }
      publishing = undefined;
    })();
    return publishing;
  };
  const onDecision = (decision: RefreshDecision) => {
    if (!decision.swapped) return;
    const runner = target.active.runner as NativeRunner;
    if (runner.info.version !== decision.candidateVersion || runner.weights.kind !== 'lr') return;
    const mark = tracker.at(decision.rowsLearned);
    const header: PublishedModelHeader = {
      format: MODEL_FORMAT,
      seq: ++seq,
      version: runner.info.version,
      fingerprint: layout.fingerprint,
      idSpace: layout.idSpace,
      denseWidth: layout.denseWidth,
      bias: runner.weights.bias,
      watermark: { clickedAt: Number.isFinite(mark.clickedAt) ? mark.clickedAt : null, rowsLearned: decision.rowsLearned, positivesLearned: mark.positivesLearned },
      publishedAt: Math.round(Date.now()),
      guard: { rows: decision.rows, candidateLogLoss: decision.candidate?.logLoss ?? null, servingLogLoss: Number.isFinite(decision.serving?.logLoss) ? (decision.serving?.logLoss ?? null) : null },
    };
    // Encoded now: the bytes are a copy, whatever the runner does later.
    unpublished = { bytes: encodePublishedModel(header, runner.weights), header };
    void publishPending();
  };
  const refresher: OnlineRefresher = createOnlineRefresher({
    trainer: createFtrlTrainer(layout),
    target,
    everyRows: config.online.everyRows,
    everyMs: config.everyMs,
    holdoutRows: config.online.holdoutRows,
    guard: { minRows: config.online.minRows, minPositives: config.online.minPositives, relativeTolerance: config.online.tolerance },
    versionPrefix: `learner-${boot}`,
    log: (line) => log.info({}, line),
    onDecision,
  });

  // Start-up: what earlier runs made durable.
  const activeDir = path.join(config.dir, 'labeled');
  const archiveDir = path.join(config.dir, 'archive');
  const recovery = await recoverLabeledLog(activeDir, layout, config.replayRows);
  for (const chunk of recovery.replay) {
    tracker.add(chunk.labels, undefined);
    void refresher.add(chunk);
  }
  log.info({ ids: recovery.ids.size, replayed: recovery.replayRows, files: recovery.files }, 'learner: labeled log read (ids deduplicated against, rows replayed into the trainer)');

  const feed = (rows: readonly DurableRow[]) => {
    const joined: JoinedRow[] = rows.map((r) => ({ row: r.row, label: r.label, labeledAt: 0 }));
    try {
      tracker.add(
        rows.map((r) => r.label),
        rows.map((r) => r.clickedAt),
      );
      void refresher.add(joined);
    } catch (error) {
      // Rows were checked by the joiner and the log; this would be a bug. The tracker follows the refresher again.
      log.error({ rows: rows.length, err: (error as Error).message }, 'learner: the trainer refused durable rows');
    }
  };
  // Windows close by event time while a backlog is read (after a restart), by wall time once caught up.
  const clock = createEventTimeClock({ graceMs: Math.min(1_000, config.latenessMs / 2), idleMs: Math.max(2 * config.flushMs, 2_000) });
  const clicks = watchDeliveries(stream as EventStream, (servedAt) => clock.observe(servedAt));
  let joiner: StreamJoiner | undefined;
  const output: LabeledOutput = createLabeledOutput({
    dir: activeDir,
    layout,
    durableIds: recovery.ids,
    currentClick: clicks.currentClick,
    onDurable: feed,
    onFailure(error) {
      log.error({ err: (error as Error).message }, 'learner: the labeled log cannot be written; stopping (the stream redelivers what was not durable)');
      void joiner?.abort().finally(() => onFatal(error));
    },
    ...(config.killAfterFlush === undefined ? {} : { killAfterFlush: config.killAfterFlush }),
  });
  joiner = createStreamJoiner({
    stream: clicks.stream,
    consumer: config.consumer,
    output,
    windowMs: config.windowMs,
    allowedLatenessMs: config.latenessMs,
    maxPending: config.maxPending,
    flushEveryMs: config.flushMs,
    ackWaitMs: config.ackWaitMs,
    clock,
  });
  const rewound = await rewindConsumer(nc, config.eventStream.stream, config.consumer);
  if (rewound !== undefined) log.info({ consumer: config.consumer, from: rewound }, 'learner: consumer rewound to its ack floor (what the last run left unacked comes again, in stream order)');
  await joiner.start();
  const startedAt = Date.now();
  let archived = 0;
  // Older files leave the active folder once this run has outlived the redelivery horizon.
  const archiveTimer = setInterval(() => {
    const now = Date.now();
    if (now - startedAt < config.horizonMs) return;
    archiveLabeledFiles(activeDir, archiveDir, now - config.horizonMs).then(
      (n) => void (archived += n),
      (error: unknown) => log.warn({ err: (error as Error).message }, 'learner: archiving labeled files failed'),
    );
  }, 60_000);
  archiveTimer.unref();
  log.info({ consumer: config.consumer, stream: config.eventStream.stream, bucket: config.eventStream.modelBucket, windowMs: config.windowMs, everyMs: config.everyMs, ackWaitMs: config.ackWaitMs }, 'learner: consuming');

  const running = joiner;
  return {
    layout,
    joinerStats: () => running.stats(),
    refresherStats: () => refresher.stats(),
    stats() {
      const { lastDecision: _last, ...r } = refresher.stats();
      const o = output.stats();
      return {
        joiner: running.stats(),
        deliveries: clicks.deliveries(),
        output: { appended: o.appended, persisted: o.persisted, files: o.files, failedRows: o.failedRows, redelivered: output.redelivered },
        recovery: { ids: recovery.ids.size, replayedRows: recovery.replayRows, files: recovery.files, archived },
        refresher: r,
        published: { seq, ...p },
      };
    },
    async stop() {
      stopped = true;
      clearInterval(archiveTimer);
      clearTimeout(retryTimer);
      await running.stop();
      await refresher.dispose();
      await publishing;
      await output.close();
      await stream.close().catch(() => undefined);
      await nc.drain().catch(() => nc.close());
      await target.dispose().catch(() => undefined);
    },
  };
}
