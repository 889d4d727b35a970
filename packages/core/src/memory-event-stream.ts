/**
 * The in-process {@link EventStream}: one process, no server — the default for the demo and the
 * tests. It keeps JetStream's contract (durable consumers sharing work, explicit acks, redelivery
 * after the ack wait, publish dedup by event id, a bounded stream that refuses when full).
 */
import { systemClock, type Clock } from './clock.js';
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
  type SubscribeOptions,
} from './event-stream.js';
import { defaultScheduler, type TimerScheduler } from './timer-scheduler.js';

/** Options for {@link createMemoryEventStream}.
 *
 * @example
 * ```ts
 * import type { MemoryEventStreamOptions } from '@ctrkit/core';
 * const options: MemoryEventStreamOptions = { maxMessages: 10_000, duplicateWindowMs: 60_000 };
 * ```
 */
export interface MemoryEventStreamOptions {
  /**
   * Events held at most (default 1,000,000). An event is let go once every consumer has acked it;
   * with no consumer yet, events are kept for the first one. At the limit, `publish` refuses with
   * `E_QUEUE_FULL`.
   */
  readonly maxMessages?: number;
  /** Publishing an event id seen within this long is a no-op reported as a duplicate (default 120,000 ms). */
  readonly duplicateWindowMs?: number;
  /** Time for the duplicate window (default the system clock). */
  readonly clock?: Clock;
  /** Timers for the ack wait (default the global `setTimeout`; inject one in tests). */
  readonly scheduler?: TimerScheduler;
}

interface Message {
  readonly seq: number;
  readonly topic: StreamTopic;
  readonly eventId: string;
  readonly event: StreamEvent;
}

interface Flight {
  readonly seq: number;
  readonly sub: Sub;
  timer: unknown;
}

interface Sub {
  readonly consumer: Consumer;
  readonly handler: SubscribeOptions['handler'];
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  inFlight: number;
  open: boolean;
}

interface Consumer {
  readonly name: string;
  readonly topics: ReadonlySet<StreamTopic>;
  /** Next sequence not yet looked at. */
  cursor: number;
  /** Sequences handed back, to deliver before new ones. */
  readonly redeliver: number[];
  readonly flights: Map<number, Flight>;
  readonly deliveries: Map<number, number>;
  readonly subs: Sub[];
  turn: number;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Creates an in-process event stream.
 *
 * @param options - Size limit, duplicate window, clock, timers.
 * @returns The stream.
 * @throws {@link CtrkitError} `E_CONFIG` when a limit is out of range.
 * @remarks Events are delivered as published (not copied): handlers must not mutate them.
 *   Handlers run on a later microtask, never inside `publish`.
 * @example
 * ```ts
 * import { createMemoryEventStream } from '@ctrkit/core';
 * const stream = createMemoryEventStream({ maxMessages: 1_000 });
 * void stream.close();
 * ```
 */
export function createMemoryEventStream(options: MemoryEventStreamOptions = {}): EventStream {
  const { maxMessages = 1_000_000, duplicateWindowMs = 120_000, clock = systemClock } = options;
  const scheduler: TimerScheduler = options.scheduler ?? defaultScheduler;
  ensure(Number.isInteger(maxMessages) && maxMessages > 0, 'E_CONFIG', () => `memory event stream: maxMessages must be a positive integer, got ${maxMessages}`);
  ensure(Number.isFinite(duplicateWindowMs) && duplicateWindowMs >= 0, 'E_CONFIG', () => `memory event stream: duplicateWindowMs must be ≥ 0, got ${duplicateWindowMs}`);
  let log: Message[] = [];
  let firstSeq = 1;
  let nextSeq = 1;
  const recent = new Map<string, number>();
  const recentOrder: string[] = [];
  let recentHead = 0;
  const consumers = new Map<string, Consumer>();
  let closed = false;

  const at = (seq: number) => log[seq - firstSeq];

  const lowestNeeded = (c: Consumer): number => {
    let low = c.cursor;
    for (const seq of c.redeliver) if (seq < low) low = seq;
    for (const seq of c.flights.keys()) if (seq < low) low = seq;
    return low;
  };
  // Lets go of events every consumer has acked. When the stream is full any gain counts; on the
  // periodic pass only a gain of half the log, so a lagging consumer does not make each pass copy it.
  const trim = (full: boolean) => {
    if (consumers.size === 0) return;
    let low = nextSeq;
    for (const c of consumers.values()) low = Math.min(low, lowestNeeded(c));
    if (low > firstSeq && (full || (low - firstSeq) * 2 >= log.length)) {
      log = log.slice(low - firstSeq);
      firstSeq = low;
    }
  };

  const settle = (c: Consumer, seq: number, requeue: boolean) => {
    const flight = c.flights.get(seq);
    if (flight === undefined) return false;
    scheduler.clearTimeout(flight.timer);
    c.flights.delete(seq);
    flight.sub.inFlight--;
    if (requeue) c.redeliver.push(seq);
    else c.deliveries.delete(seq);
    return true;
  };

  const nextFor = (c: Consumer): number | undefined => {
    while (c.redeliver.length > 0) {
      c.redeliver.sort((a, b) => a - b);
      const seq = c.redeliver.shift() as number;
      if (at(seq) !== undefined) return seq;
    }
    while (c.cursor < nextSeq) {
      const seq = c.cursor++;
      const message = at(seq);
      if (message !== undefined && c.topics.has(message.topic)) return seq;
    }
    return undefined;
  };

  const pump = (c: Consumer) => {
    for (;;) {
      const open = c.subs.filter((s) => s.open && s.inFlight < s.maxInFlight);
      if (open.length === 0 || closed) return;
      const seq = nextFor(c);
      if (seq === undefined) return;
      const sub = open[c.turn++ % open.length] as Sub;
      deliver(c, sub, seq);
    }
  };

  const deliver = (c: Consumer, sub: Sub, seq: number) => {
    const message = at(seq) as Message;
    const count = (c.deliveries.get(seq) ?? 0) + 1;
    c.deliveries.set(seq, count);
    sub.inFlight++;
    const flight: Flight = { seq, sub, timer: undefined };
    flight.timer = scheduler.setTimeout(() => {
      if (c.flights.get(seq) === flight && settle(c, seq, true)) pump(c);
    }, sub.ackWaitMs);
    c.flights.set(seq, flight);
    let done = false;
    const delivery: StreamDelivery = {
      event: message.event,
      eventId: message.eventId,
      deliveries: count,
      async ack() {
        if (done || c.flights.get(seq) !== flight) return;
        done = true;
        settle(c, seq, false);
        pump(c);
      },
      nak(delayMs = 0) {
        if (done || c.flights.get(seq) !== flight) return;
        done = true;
        if (delayMs <= 0) {
          settle(c, seq, true);
          pump(c);
          return;
        }
        scheduler.clearTimeout(flight.timer);
        flight.timer = scheduler.setTimeout(() => {
          if (c.flights.get(seq) === flight && settle(c, seq, true)) pump(c);
        }, delayMs);
      },
    };
    queueMicrotask(() => {
      if (!sub.open) return;
      let result: void | Promise<void>;
      try {
        result = sub.handler(delivery);
      } catch {
        delivery.nak();
        return;
      }
      if (result instanceof Promise) result.catch(() => delivery.nak());
    });
  };

  return {
    async publish(event) {
      if (closed) throw new CtrkitError('E_STATE', 'memory event stream is closed');
      if (typeof event !== 'object' || event === null || !STREAM_TOPICS.includes(event.topic)) {
        throw new CtrkitError('E_INPUT', `event stream: an event needs a topic among ${STREAM_TOPICS.join(', ')}`);
      }
      const eventId = (() => {
        try {
          return streamEventId(event);
        } catch {
          return undefined;
        }
      })();
      if (typeof eventId !== 'string' || eventId === '') throw new CtrkitError('E_INPUT', `event stream: a ${event.topic} event needs a non-empty eventId`);
      const now = clock.now();
      while (recentHead < recentOrder.length) {
        const id = recentOrder[recentHead] as string;
        if ((recent.get(id) ?? 0) > now) break;
        recent.delete(id);
        recentHead++;
      }
      if (recentHead > 4096 && recentHead * 2 > recentOrder.length) {
        recentOrder.splice(0, recentHead);
        recentHead = 0;
      }
      if (recent.has(eventId)) return { duplicate: true } satisfies PublishResult;
      if (log.length >= maxMessages) trim(true);
      if (log.length >= maxMessages) {
        throw new CtrkitError('E_QUEUE_FULL', `event stream is full (${maxMessages} events unacked by some consumer); consumers are behind, retry later`, {
          details: { maxMessages },
        });
      }
      log.push({ seq: nextSeq++, topic: event.topic, eventId, event });
      if ((nextSeq & 1023) === 0) trim(false);
      if (duplicateWindowMs > 0) {
        recent.set(eventId, now + duplicateWindowMs);
        recentOrder.push(eventId);
      }
      for (const c of consumers.values()) pump(c);
      return { duplicate: false };
    },

    async subscribe(subscribe) {
      if (closed) throw new CtrkitError('E_STATE', 'memory event stream is closed');
      const { consumer: name, maxInFlight = 256, ackWaitMs = 30_000, handler } = subscribe;
      ensure(typeof name === 'string' && NAME.test(name), 'E_CONFIG', () => `event stream: consumer name '${String(name)}' must be 1–64 letters, digits, '_' or '-'`);
      ensure(Number.isInteger(maxInFlight) && maxInFlight > 0, 'E_CONFIG', () => `event stream: maxInFlight must be a positive integer, got ${maxInFlight}`);
      ensure(Number.isFinite(ackWaitMs) && ackWaitMs > 0, 'E_CONFIG', () => `event stream: ackWaitMs must be > 0, got ${ackWaitMs}`);
      ensure(typeof handler === 'function', 'E_CONFIG', () => 'event stream: handler must be a function');
      const topics = new Set(subscribe.topics ?? STREAM_TOPICS);
      for (const t of topics) ensure(STREAM_TOPICS.includes(t), 'E_CONFIG', () => `event stream: unknown topic '${t}'`);
      let c = consumers.get(name);
      if (c === undefined) {
        c = { name, topics, cursor: firstSeq, redeliver: [], flights: new Map(), deliveries: new Map(), subs: [], turn: 0 };
        consumers.set(name, c);
      } else if (c.topics.size !== topics.size || [...topics].some((t) => !c?.topics.has(t))) {
        throw new CtrkitError('E_CONFIG', `event stream: consumer '${name}' takes ${[...c.topics].join(', ')}; subscribe with the same topics or another consumer name`);
      }
      const sub: Sub = { consumer: c, handler, maxInFlight, ackWaitMs, inFlight: 0, open: true };
      c.subs.push(sub);
      const consumer = c;
      queueMicrotask(() => pump(consumer));
      return {
        consumer: name,
        async close() {
          if (!sub.open) return;
          sub.open = false;
          consumer.subs.splice(consumer.subs.indexOf(sub), 1);
          // This process knows the subscriber is gone: its unacked deliveries go back at once.
          for (const flight of [...consumer.flights.values()]) if (flight.sub === sub) settle(consumer, flight.seq, true);
          pump(consumer);
        },
      } satisfies StreamSubscription;
    },

    async close() {
      closed = true;
      for (const c of consumers.values()) {
        for (const sub of c.subs) sub.open = false;
        for (const flight of c.flights.values()) scheduler.clearTimeout(flight.timer);
        c.flights.clear();
        c.subs.length = 0;
      }
    },
  };
}
