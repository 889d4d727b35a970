/**
 * The event stream between processes: impressions, clicks, conversions and served rows travel
 * from the ad servers that produce them to the joiners and trainers that consume them.
 * Implementations: in-process ({@link createMemoryEventStream}, the default) and NATS JetStream
 * (`createNatsEventStream` in `@ctrkit/core/nats`). One conformance suite runs against both.
 *
 * Delivery is at least once: a delivery not acked within `ackWaitMs` (or whose subscriber goes
 * away) is delivered again, to the same or another subscriber of the same durable consumer.
 * Publishing is deduplicated by event id within the stream's duplicate window, so a producer may
 * retry a publish safely; consumers dedup redeliveries by event id themselves (the label joiner
 * does).
 */
import type { ServedRow } from './served-row.js';
import type { ClickEvent, ConversionEvent, ImpressionEvent } from './types/events.js';

/** The kinds of event a stream carries.
 *
 * @example
 * ```ts
 * import type { StreamTopic } from '@ctrkit/core';
 * const feedback: StreamTopic[] = ['click', 'conversion'];
 * ```
 */
export type StreamTopic = 'impression' | 'click' | 'conversion' | 'served';

/** Every topic, in a fixed order (the wire format numbers them by it).
 *
 * @example
 * ```ts
 * import { STREAM_TOPICS } from '@ctrkit/core';
 * console.log(STREAM_TOPICS.length); // 4
 * ```
 */
export const STREAM_TOPICS: readonly StreamTopic[] = ['impression', 'click', 'conversion', 'served'];

/** One event on the stream.
 *
 * @example
 * ```ts
 * import type { StreamEvent } from '@ctrkit/core';
 * const click: StreamEvent = {
 *   topic: 'click',
 *   event: { type: 'click', eventId: 'c-1', requestId: 'r-1', timestamp: 0, userId: 'u', adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'k' },
 * };
 * ```
 */
export type StreamEvent =
  | { readonly topic: 'impression'; readonly event: ImpressionEvent }
  | { readonly topic: 'click'; readonly event: ClickEvent }
  | { readonly topic: 'conversion'; readonly event: ConversionEvent }
  | { readonly topic: 'served'; readonly row: ServedRow };

/**
 * The event id of a stream event (the key for deduplication).
 *
 * @param event - The event.
 * @returns Its `eventId`.
 * @example
 * ```ts
 * import { streamEventId, type StreamEvent } from '@ctrkit/core';
 * const ids = (events: StreamEvent[]) => events.map(streamEventId);
 * ```
 */
export function streamEventId(event: StreamEvent): string {
  return event.topic === 'served' ? event.row.eventId : event.event.eventId;
}

/** One delivery of an event to a subscriber.
 *
 * @example
 * ```ts
 * import type { StreamDelivery } from '@ctrkit/core';
 * async function handle(delivery: StreamDelivery) {
 *   if (delivery.deliveries > 1) console.log('redelivered', delivery.eventId);
 *   await delivery.ack();
 * }
 * ```
 */
export interface StreamDelivery {
  /** The event. */
  readonly event: StreamEvent;
  /** Its event id. */
  readonly eventId: string;
  /** How many times it has been delivered to this consumer, this one included (1 the first time). */
  readonly deliveries: number;
  /** Marks it processed, so it is not delivered again; resolves once the stream has recorded it. */
  ack(): Promise<void>;
  /** Hands it back for redelivery, after `delayMs` (default at once). */
  nak(delayMs?: number): void;
}

/** Options for {@link EventStream.subscribe}.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from '@ctrkit/core';
 * const options: SubscribeOptions = { consumer: 'joiner', topics: ['served', 'click'], handler: (d) => d.ack() };
 * ```
 */
export interface SubscribeOptions {
  /**
   * The durable consumer's name (letters, digits, `_`, `-`). Its position survives the
   * subscriber: a new subscription under the name resumes where the last left off; several at
   * once share the work. Distinct names each receive every event.
   */
  readonly consumer: string;
  /** The topics wanted (default all); fixed when the consumer is first created. */
  readonly topics?: readonly StreamTopic[];
  /** Back-pressure: at most this many deliveries unacked at once (default 256). */
  readonly maxInFlight?: number;
  /** A delivery not acked within this long is delivered again (default 30,000 ms). */
  readonly ackWaitMs?: number;
  /**
   * Called for each delivery. A throw or a rejection hands the delivery back for redelivery; a
   * return without `ack` leaves it in flight until `ackWaitMs`.
   */
  readonly handler: (delivery: StreamDelivery) => void | Promise<void>;
}

/** A live subscription.
 *
 * @example
 * ```ts
 * import type { StreamSubscription } from '@ctrkit/core';
 * const stop = (s: StreamSubscription) => s.close();
 * ```
 */
export interface StreamSubscription {
  /** The durable consumer it belongs to. */
  readonly consumer: string;
  /** Stops deliveries; what it had in flight unacked is delivered again (at once or after `ackWaitMs`). */
  close(): Promise<void>;
}

/** What a publish did.
 *
 * @example
 * ```ts
 * import type { PublishResult } from '@ctrkit/core';
 * const stored = (r: PublishResult) => !r.duplicate;
 * ```
 */
export interface PublishResult {
  /** True when an event of this id was already on the stream (within its duplicate window): stored once. */
  readonly duplicate: boolean;
}

/**
 * An event stream.
 *
 * @example
 * ```ts
 * import { createMemoryEventStream } from '@ctrkit/core';
 * const stream = createMemoryEventStream();
 * await stream.subscribe({ consumer: 'printer', handler: async (d) => { console.log(d.eventId); await d.ack(); } });
 * await stream.publish({ topic: 'click', event: { type: 'click', eventId: 'c-1', requestId: 'r', timestamp: 0, userId: 'u', adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'k' } });
 * ```
 */
export interface EventStream {
  /**
   * Appends an event; resolves once it is stored (for JetStream, acknowledged by the server).
   * @throws `CtrkitError` `E_INPUT` for an event without an id; `E_QUEUE_FULL` when the stream is
   *   at its limit (back-pressure: consumers are behind; retry later); `E_STREAM` when the stream
   *   failed or did not answer; `E_STATE` after `close`.
   */
  publish(event: StreamEvent): Promise<PublishResult>;
  /**
   * Starts delivering to `handler`.
   * @throws `CtrkitError` `E_CONFIG` for a bad consumer name or option, or topics that differ from
   *   the consumer's; `E_STREAM` when the stream failed; `E_STATE` after `close`.
   */
  subscribe(options: SubscribeOptions): Promise<StreamSubscription>;
  /** Closes every subscription and the connection. */
  close(): Promise<void>;
}
