import { randomUUID } from 'node:crypto';
import { sharedNatsFor } from '@ctrkit/test-support';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStream, decodeStreamEvent, encodeStreamEvent } from '../src/index.js';
import { createNatsEventStream } from '../src/nats.js';
import { clickEvent, eventStreamConformance, servedEvent } from './fixtures/event-stream-conformance.js';

eventStreamConformance('in-process', async ({ maxMessages }) => {
  const stream = createMemoryEventStream(maxMessages === undefined ? {} : { maxMessages });
  return { stream, dispose: () => stream.close() };
});

const nats = await sharedNatsFor('core: the NATS JetStream event stream conformance suite');
eventStreamConformance(
  'NATS JetStream',
  async ({ maxMessages }) => {
    const id = randomUUID().replaceAll('-', '').slice(0, 12);
    const stream = await createNatsEventStream({ stream: `CTRKIT_TEST_${id}`, subjectPrefix: `ctrkit.test.${id}`, ...(maxMessages === undefined ? {} : { maxMessages }) });
    return { stream, dispose: () => stream.destroy() };
  },
  nats,
);

describe('stream codec', () => {
  it('round-trips ad events and served rows, and rejects foreign bytes', () => {
    for (const event of [clickEvent(3), servedEvent(4)]) expect(decodeStreamEvent(encodeStreamEvent(event))).toEqual(event);
    const bytes = encodeStreamEvent(servedEvent(4));
    expect(() => decodeStreamEvent(bytes.subarray(0, bytes.length - 2))).toThrowError(expect.objectContaining({ code: 'E_PARSE' }) as never);
    expect(() => decodeStreamEvent(Uint8Array.of(9, 0))).toThrowError(/format version 9/);
    expect(() => decodeStreamEvent(Uint8Array.of(1, 1, 0x7b))).toThrowError(/not UTF-8 JSON/);
    // From a view at an odd offset into a larger buffer (as a Node Buffer from a socket is).
    const pooled = new Uint8Array(bytes.length + 3);
    pooled.set(bytes, 3);
    const decoded = decodeStreamEvent(Buffer.from(pooled.buffer, 3, bytes.length));
    expect(decoded).toEqual(servedEvent(4));
    pooled.fill(0);
    expect(decoded).toEqual(servedEvent(4));
  });
});

describe('in-process event stream', () => {
  it('lets go of events every consumer has acked, so a long run holds only what is pending', async () => {
    const stream = createMemoryEventStream({ maxMessages: 5_000, duplicateWindowMs: 1 });
    let acked = 0;
    await stream.subscribe({ consumer: 'fast', handler: async (d) => { await d.ack(); acked++; } });
    // 20,000 events through a stream that holds 5,000: only possible if acked events are let go.
    for (let i = 0; i < 20_000; i++) {
      await stream.publish(clickEvent(i, 'trim'));
      if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(acked).toBe(20_000);
    await stream.close();
    await expect(stream.publish(clickEvent(0, 'closed'))).rejects.toMatchObject({ code: 'E_STATE' });
  });
});
