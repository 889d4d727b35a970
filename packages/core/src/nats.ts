/**
 * `@ctrkit/core/nats` — the event stream on NATS JetStream (`@nats-io/transport-node` and
 * `@nats-io/jetstream`, optional peer dependencies loaded only through this entry).
 *
 * @packageDocumentation
 */
export { createNatsEventStream } from './nats-event-stream.js';
export type { NatsEventStream, NatsEventStreamOptions } from './nats-event-stream.js';
