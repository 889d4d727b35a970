/**
 * Publishing to the fleet's event stream (`EVENT_STREAM=nats`): the served row of every bid that
 * became an impression, and every accepted click and conversion of `POST /events`, go to the
 * NATS JetStream stream the learner consumes, instead of the in-process loop.
 *
 * Each publish is retried (the stream dedups by event id, so a retry never stores an event twice)
 * until it is stored, `STREAM_PUBLISH_ATTEMPTS` tries or `STREAM_PUBLISH_DEADLINE_MS` have gone
 * by; one that still fails is counted (`adserver_stream_published_total{result="failed"}`) and
 * logged, and its caller is told (`POST /events` answers 503 for it: sending again is safe). At
 * most `STREAM_MAX_BUFFERED` events wait to be stored at once; beyond, new ones are shed at once,
 * counted and refused the same way, so a stalled stream costs bounded memory and pushes back on
 * whoever sends events.
 *
 * @internal
 */
import { CtrkitError, type ClickEvent, type ConversionEvent, type EventStream, type ServedRow, type StreamEvent, type StreamTopic } from '@ctrkit/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventStreamConfig } from '../stream-config.js';

/**
 * Where the feedback of serving goes: the in-process loop (`online.ts`, synchronous) or the
 * event stream (resolves to whether the event was stored).
 */
export interface FeedbackSink {
  /** A bid became an impression: its served row. */
  served(row: ServedRow): void | Promise<boolean>;
  /** An accepted click. */
  click(event: ClickEvent): void | Promise<boolean>;
  /** An accepted conversion (the in-process loop has no use for them). */
  conversion?(event: ConversionEvent): void | Promise<boolean>;
}

/** What a publisher has done. */
export interface StreamPublisherStats {
  /** Events stored (the stream's first copy). */
  readonly stored: number;
  /** Events the stream already held (a retry, or a second send of the same event): stored once. */
  readonly duplicates: number;
  /** Tries after the first. */
  readonly retries: number;
  /** Events given up on after every try: not on the stream. */
  readonly failed: number;
  /** Events refused at once because `maxBuffered` were waiting. */
  readonly shed: number;
  /** Events waiting to be stored now. */
  readonly buffered: number;
}

/** The publisher: a {@link FeedbackSink} whose every call resolves to whether the event is on the stream. */
export interface StreamPublisher extends FeedbackSink {
  served(row: ServedRow): Promise<boolean>;
  click(event: ClickEvent): Promise<boolean>;
  conversion(event: ConversionEvent): Promise<boolean>;
  stats(): StreamPublisherStats;
  /** Waits (at most `ms`) for the events still being published; later calls are refused (counted as failed). */
  close(ms: number): Promise<void>;
}

/** What {@link createStreamPublisher} needs. */
export interface StreamPublisherOptions {
  readonly stream: EventStream;
  readonly config: Pick<EventStreamConfig, 'maxBuffered' | 'publishAttempts' | 'publishDeadlineMs'>;
  readonly log: { warn(fields: Record<string, unknown>, message: string): void };
  /** Where the publisher's series go (none when absent). */
  readonly registry?: Registry;
  /** Waits between tries (default real timers; tests pass their own). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Time of the deadline (default `Date.now`: publishing waits on a network, in real time). */
  readonly now?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Creates the publisher over a connected stream.
 *
 * @param options - Stream, limits, logger, registry.
 * @returns The publisher.
 */
export function createStreamPublisher(options: StreamPublisherOptions): StreamPublisher {
  const { stream, config, log, sleep = realSleep, now = Date.now } = options;
  const registers = options.registry === undefined ? [] : [options.registry];
  const published = new Counter({
    name: 'adserver_stream_published_total',
    help: 'Events published to the event stream, by topic and result (stored, duplicate: already on the stream; failed: given up after every try; shed: the buffer was full; retried: tries after the first)',
    labelNames: ['topic', 'result'],
    registers,
  });
  const s = { stored: 0, duplicates: 0, retries: 0, failed: 0, shed: 0 };
  let buffered = 0;
  let closed = false;
  const inflight = new Set<Promise<boolean>>();
  new Gauge({
    name: 'adserver_stream_buffered',
    help: 'Events accepted for the event stream and not yet stored',
    registers,
    collect() {
      this.set(buffered);
    },
  });
  // One warning a second at most, with how many were folded into it.
  let lastWarn = 0;
  let suppressed = 0;
  const warn = (fields: Record<string, unknown>, message: string) => {
    const t = now();
    if (t - lastWarn < 1_000) {
      suppressed++;
      return;
    }
    log.warn({ ...fields, suppressed }, message);
    lastWarn = t;
    suppressed = 0;
  };

  const attempt = async (event: StreamEvent, topic: StreamTopic, eventId: string): Promise<boolean> => {
    const deadline = now() + config.publishDeadlineMs;
    let lastError: unknown;
    for (let k = 0; k < config.publishAttempts; k++) {
      if (k > 0) {
        s.retries++;
        published.inc({ topic, result: 'retried' });
      }
      try {
        const result = await stream.publish(event);
        if (result.duplicate) {
          s.duplicates++;
          published.inc({ topic, result: 'duplicate' });
        } else {
          s.stored++;
          published.inc({ topic, result: 'stored' });
        }
        return true;
      } catch (error) {
        lastError = error;
        // A malformed event, or a closed stream, fails the same way every time.
        if (error instanceof CtrkitError && (error.code === 'E_INPUT' || error.code === 'E_STATE')) break;
      }
      const wait = Math.min(50 * 2 ** k, 1_000, deadline - now());
      if (wait <= 0) break;
      await sleep(wait);
    }
    s.failed++;
    published.inc({ topic, result: 'failed' });
    warn({ topic, eventId, err: (lastError as Error)?.message ?? String(lastError) }, 'event stream: an event could not be published after every try; it is not on the stream');
    return false;
  };

  const publish = (event: StreamEvent, eventId: string): Promise<boolean> => {
    const topic = event.topic;
    if (closed) {
      s.failed++;
      published.inc({ topic, result: 'failed' });
      warn({ topic, eventId }, 'event stream: an event came after the publisher closed; it is not on the stream');
      return Promise.resolve(false);
    }
    if (buffered >= config.maxBuffered) {
      s.shed++;
      published.inc({ topic, result: 'shed' });
      warn({ topic, eventId, buffered }, 'event stream: the publish buffer is full (the stream is slow or down); an event was shed');
      return Promise.resolve(false);
    }
    buffered++;
    const running = attempt(event, topic, eventId).finally(() => {
      buffered--;
      inflight.delete(running);
    });
    inflight.add(running);
    return running;
  };

  return {
    served: (row) => publish({ topic: 'served', row }, row.eventId),
    click: (event) => publish({ topic: 'click', event }, event.eventId),
    conversion: (event) => publish({ topic: 'conversion', event }, event.eventId),
    stats: () => ({ ...s, buffered }),
    async close(ms) {
      closed = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled([...inflight]), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
  };
}
