/**
 * The {@link EventStream} on NATS JetStream: one stream holding every topic under a subject
 * prefix (`<prefix>.impression`, `.click`, `.conversion`, `.served`), durable pull consumers
 * with explicit acks, publish dedup through the `Nats-Msg-Id` header (the event id), and a
 * bounded stream (discard new) so a lagging fleet of consumers pushes back on publishers. The
 * client reconnects by itself; durable consumers resume where they left off.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { CtrkitError, ensure } from './errors.js';
import {
  STREAM_TOPICS,
  streamEventId,
  type EventStream,
  type PublishResult,
  type StreamDelivery,
  type StreamEvent,
  type StreamSubscription,
  type StreamTopic,
} from './event-stream.js';
import { decodeStreamEvent, encodeStreamEvent } from './stream-codec.js';

/** Options for {@link createNatsEventStream}.
 *
 * @example
 * ```ts
 * import type { NatsEventStreamOptions } from '@ctrkit/core/nats';
 * const options: NatsEventStreamOptions = { servers: '127.0.0.1:4222', stream: 'CTRKIT_EVENTS', subjectPrefix: 'ctrkit.events' };
 * ```
 */
export interface NatsEventStreamOptions {
  /** Server URL(s) (default `127.0.0.1:4222`); ignored when `connection` is given. */
  readonly servers?: string | readonly string[];
  /** A connection to use instead of opening one (it is not closed by `close`). */
  readonly connection?: NatsConnection;
  /** The JetStream stream's name (default `CTRKIT_EVENTS`); created when absent. */
  readonly stream?: string;
  /** Subject prefix (default `ctrkit.events`). */
  readonly subjectPrefix?: string;
  /** Events the stream holds at most; beyond, publishing refuses with `E_QUEUE_FULL` (default 10,000,000). */
  readonly maxMessages?: number;
  /** How long events are kept at most (default 7 days). */
  readonly maxAgeMs?: number;
  /** The publish dedup window (default 120,000 ms). */
  readonly duplicateWindowMs?: number;
  /** How long a JetStream request may take (default 5,000 ms). */
  readonly timeoutMs?: number;
}

/** A NATS event stream, with the names it uses.
 *
 * @example
 * ```ts
 * import type { NatsEventStream } from '@ctrkit/core/nats';
 * const describe = (s: NatsEventStream) => `${s.stream} on ${s.subjectPrefix}.>`;
 * ```
 */
export interface NatsEventStream extends EventStream {
  /** The JetStream stream. */
  readonly stream: string;
  /** The subject prefix. */
  readonly subjectPrefix: string;
  /** Deletes the JetStream stream and its consumers (for tests and teardown), then closes. */
  destroy(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function streamError(what: string, error: unknown): CtrkitError {
  const message = error instanceof Error ? error.message : String(error);
  if (/maximum (messages|bytes)/i.test(message)) {
    return new CtrkitError('E_QUEUE_FULL', `NATS event stream is full (${message}); consumers are behind, retry later`, { cause: error });
  }
  return new CtrkitError('E_STREAM', `NATS event stream: ${what}: ${message}`, { cause: error });
}

/**
 * Connects to NATS, creates the JetStream stream when absent, and returns the event stream.
 *
 * @param options - Servers or connection, names, limits.
 * @returns The stream, connected.
 * @throws `CtrkitError` `E_CONFIG` for a bad name or limit; `E_STREAM` when NATS does not
 *   answer or JetStream is not enabled there (`nats-server -js`).
 * @remarks Every delivery is decoded with `decodeStreamEvent` (served rows get arrays of their
 *   own); `ack` waits for the server's confirmation (`ackAck`), so an acked event is never
 *   delivered to that consumer again.
 * @example
 * ```ts
 * import { createNatsEventStream } from '@ctrkit/core/nats';
 * async function start() {
 *   const stream = await createNatsEventStream({ servers: '127.0.0.1:4222' });
 *   await stream.subscribe({ consumer: 'joiner', topics: ['served', 'click'], handler: (d) => d.ack() });
 *   return stream;
 * }
 * ```
 */
export async function createNatsEventStream(options: NatsEventStreamOptions = {}): Promise<NatsEventStream> {
  const {
    servers = '127.0.0.1:4222',
    stream = 'CTRKIT_EVENTS',
    subjectPrefix = 'ctrkit.events',
    maxMessages = 10_000_000,
    maxAgeMs = 7 * 24 * 3600_000,
    duplicateWindowMs = 120_000,
    timeoutMs = 5_000,
  } = options;
  ensure(NAME.test(stream), 'E_CONFIG', () => `NATS event stream: stream name '${stream}' must be 1–64 letters, digits, '_' or '-'`);
  ensure(PREFIX.test(subjectPrefix), 'E_CONFIG', () => `NATS event stream: subject prefix '${subjectPrefix}' must be dot-separated tokens of letters, digits, '_' or '-'`);
  ensure(Number.isInteger(maxMessages) && maxMessages > 0, 'E_CONFIG', () => `NATS event stream: maxMessages must be a positive integer, got ${maxMessages}`);
  ensure(Number.isFinite(maxAgeMs) && maxAgeMs > 0, 'E_CONFIG', () => `NATS event stream: maxAgeMs must be > 0, got ${maxAgeMs}`);
  ensure(Number.isFinite(duplicateWindowMs) && duplicateWindowMs > 0 && duplicateWindowMs <= maxAgeMs, 'E_CONFIG', () => `NATS event stream: duplicateWindowMs must lie in (0, maxAgeMs], got ${duplicateWindowMs}`);
  ensure(Number.isFinite(timeoutMs) && timeoutMs > 0, 'E_CONFIG', () => `NATS event stream: timeoutMs must be > 0, got ${timeoutMs}`);

  let nc: NatsConnection;
  const owned = options.connection === undefined;
  try {
    nc = options.connection ?? (await connect({ servers: typeof servers === 'string' ? servers : [...servers], maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: timeoutMs }));
  } catch (error) {
    throw streamError(`cannot connect to ${String(servers)} (is nats-server running with -js?)`, error);
  }
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  try {
    jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    js = jetstream(nc, { timeout: timeoutMs });
    const exists = await jsm.streams.info(stream).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await jsm.streams.add({
        name: stream,
        subjects: [`${subjectPrefix}.*`],
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.New,
        storage: StorageType.File,
        max_msgs: maxMessages,
        max_age: nanos(maxAgeMs),
        duplicate_window: nanos(duplicateWindowMs),
      });
    }
  } catch (error) {
    if (owned) await nc.close().catch(() => undefined);
    throw streamError(`cannot set up stream '${stream}' (is JetStream enabled: nats-server -js?)`, error);
  }

  const subjectOf = (topic: StreamTopic) => `${subjectPrefix}.${topic}`;
  const subscriptions = new Set<{ close(): Promise<void> }>();
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new CtrkitError('E_STATE', `NATS event stream '${stream}' is closed`);
  };

  const close = async () => {
    if (closed) return;
    for (const s of [...subscriptions]) await s.close();
    closed = true;
    if (owned) await nc.drain().catch(() => nc.close());
  };

  return {
    stream,
    subjectPrefix,

    async publish(event: StreamEvent): Promise<PublishResult> {
      ensureOpen();
      if (typeof event !== 'object' || event === null || !STREAM_TOPICS.includes(event.topic)) {
        throw new CtrkitError('E_INPUT', `event stream: an event needs a topic among ${STREAM_TOPICS.join(', ')}`);
      }
      let eventId: unknown;
      try {
        eventId = streamEventId(event);
      } catch {
        eventId = undefined;
      }
      if (typeof eventId !== 'string' || eventId === '') throw new CtrkitError('E_INPUT', `event stream: a ${event.topic} event needs a non-empty eventId`);
      const data = encodeStreamEvent(event);
      try {
        const ack = await js.publish(subjectOf(event.topic), data, { msgID: eventId });
        return { duplicate: ack.duplicate };
      } catch (error) {
        throw streamError(`cannot publish ${event.topic} '${eventId}'`, error);
      }
    },

    async subscribe(subscribe): Promise<StreamSubscription> {
      ensureOpen();
      const { consumer, maxInFlight = 256, ackWaitMs = 30_000, handler } = subscribe;
      ensure(typeof consumer === 'string' && NAME.test(consumer), 'E_CONFIG', () => `event stream: consumer name '${String(consumer)}' must be 1–64 letters, digits, '_' or '-'`);
      ensure(Number.isInteger(maxInFlight) && maxInFlight > 0, 'E_CONFIG', () => `event stream: maxInFlight must be a positive integer, got ${maxInFlight}`);
      ensure(Number.isFinite(ackWaitMs) && ackWaitMs > 0, 'E_CONFIG', () => `event stream: ackWaitMs must be > 0, got ${ackWaitMs}`);
      ensure(typeof handler === 'function', 'E_CONFIG', () => 'event stream: handler must be a function');
      const topics = [...new Set(subscribe.topics ?? STREAM_TOPICS)];
      for (const t of topics) ensure(STREAM_TOPICS.includes(t), 'E_CONFIG', () => `event stream: unknown topic '${t}'`);
      const wanted = new Set<StreamTopic>(topics);
      // Servers before 2.10 take one filter subject at most: a subset of several topics is then
      // filtered here (the others are acked unseen). The topics live in the consumer's description
      // either way, so a later subscriber with other topics is refused.
      const description = `ctrkit topics: ${[...wanted].sort().join(',')}`;
      const serverFilter = wanted.size === 1 ? { filter_subject: subjectOf(topics[0] as StreamTopic) } : {};
      let messages: ConsumerMessages;
      try {
        const info = await jsm.consumers.info(stream, consumer).catch(() => undefined);
        if (info === undefined) {
          await jsm.consumers.add(stream, {
            durable_name: consumer,
            description,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            ack_wait: nanos(ackWaitMs),
            max_ack_pending: maxInFlight,
            ...serverFilter,
          });
        } else {
          if (info.config.description !== description) {
            throw new CtrkitError('E_CONFIG', `event stream: consumer '${consumer}' takes ${String(info.config.description).replace('ctrkit topics: ', '')}; subscribe with the same topics or another consumer name`);
          }
          if (info.config.ack_wait !== nanos(ackWaitMs) || info.config.max_ack_pending !== maxInFlight) {
            await jsm.consumers.update(stream, consumer, { ack_wait: nanos(ackWaitMs), max_ack_pending: maxInFlight });
          }
        }
        const handle = await js.consumers.get(stream, consumer);
        messages = await handle.consume({ max_messages: Math.min(maxInFlight, 512) });
      } catch (error) {
        if (error instanceof CtrkitError) throw error;
        throw streamError(`cannot subscribe consumer '${consumer}'`, error);
      }
      let open = true;
      const loop = (async () => {
        for await (const m of messages) {
          if (!open) break;
          let event: StreamEvent;
          try {
            event = decodeStreamEvent(m.data);
          } catch {
            // Not ours to read: terminate it so it is never redelivered, rather than loop on it.
            m.term();
            continue;
          }
          if (!wanted.has(event.topic)) {
            m.ack();
            continue;
          }
          let done = false;
          const delivery: StreamDelivery = {
            event,
            eventId: streamEventId(event),
            deliveries: m.info.deliveryCount,
            async ack() {
              if (done) return;
              done = true;
              try {
                await m.ackAck();
              } catch (error) {
                throw streamError(`cannot ack '${delivery.eventId}'`, error);
              }
            },
            nak(delayMs) {
              if (done) return;
              done = true;
              m.nak(delayMs);
            },
          };
          try {
            await handler(delivery);
          } catch {
            delivery.nak();
          }
        }
      })();
      const subscription = {
        consumer,
        async close() {
          if (!open) return;
          open = false;
          subscriptions.delete(subscription);
          await messages.close().catch(() => undefined);
          await loop.catch(() => undefined);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    close,

    async destroy() {
      ensureOpen();
      for (const s of [...subscriptions]) await s.close();
      try {
        await jsm.streams.delete(stream);
      } catch (error) {
        throw streamError(`cannot delete stream '${stream}'`, error);
      } finally {
        await close();
      }
    },
  };
}
