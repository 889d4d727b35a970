/**
 * One conformance suite for every EventStream: in-process and NATS JetStream run the same tests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClickEvent, EventStream, ServedRow, StreamDelivery, StreamEvent, StreamSubscription } from '../src/index.js';

/** Makes a fresh stream (its own names) for one test; `dispose` removes what it created. */
export type StreamFactory = (options: { maxMessages?: number }) => Promise<{ stream: EventStream; dispose(): Promise<void> }>;

export const ACK_WAIT_MS = 1_000;

export async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let counter = 0;
export function clickEvent(i: number, runTag = 'x'): StreamEvent {
  const event: ClickEvent = {
    type: 'click', eventId: `clk-${runTag}-${i}`, requestId: `r-${i}`, timestamp: 1_000 + i, userId: 'u', adId: `a-${i}`,
    campaignId: 'c', advertiserId: 'x', category: 'travel', position: 1, cost: 0.25,
  };
  return { topic: 'click', event };
}
export function servedEvent(i: number, runTag = 'x'): StreamEvent {
  const row: ServedRow = {
    eventId: `imp-${runTag}-${i}`, requestId: `r-${i}`, impId: '1', adId: `a-${i}`, position: 0, pCtr: 0.0123456789, servedAt: 1_700_000_000_123.5 + i,
    modelVersion: 'dcn@7', fingerprint: 'fp', ids: Int32Array.of(i, -1 >>> 1, 7), values: Float32Array.of(1, 0.5, 0), dense: Float32Array.of(Math.PI),
    sequenceIds: Int32Array.of(0, 3), sequenceLengths: Int32Array.of(1),
  };
  return { topic: 'served', row };
}

function collect(into: StreamDelivery[], ack = true) {
  return async (d: StreamDelivery) => {
    into.push(d);
    if (ack) await d.ack();
  };
}

export function eventStreamConformance(name: string, factory: StreamFactory, enabled = true): void {
  describe.runIf(enabled)(`EventStream conformance: ${name}`, { timeout: 30_000 }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanups.splice(0).reverse()) await f();
    });
    async function open(options: { maxMessages?: number } = {}) {
      const made = await factory(options);
      cleanups.push(() => made.dispose());
      return made.stream;
    }
    const tag = () => `${process.pid}-${++counter}`;

    it('delivers what was published before and after subscribing, in order, filtered by topic, bit for bit', async () => {
      const stream = await open();
      const t = tag();
      await stream.publish(servedEvent(0, t));
      await stream.publish(clickEvent(0, t));
      const got: StreamDelivery[] = [];
      const clicks: StreamDelivery[] = [];
      await stream.subscribe({ consumer: 'all', handler: collect(got), ackWaitMs: ACK_WAIT_MS });
      await stream.subscribe({ consumer: 'clicks', topics: ['click'], handler: collect(clicks), ackWaitMs: ACK_WAIT_MS });
      await stream.publish(servedEvent(1, t));
      await stream.publish(clickEvent(1, t));
      await until('4 deliveries', () => got.length === 4 && clicks.length === 2);
      expect(got.map((d) => d.eventId)).toEqual([`imp-${t}-0`, `clk-${t}-0`, `imp-${t}-1`, `clk-${t}-1`]);
      expect(clicks.map((d) => d.eventId)).toEqual([`clk-${t}-0`, `clk-${t}-1`]);
      expect(got.every((d) => d.deliveries === 1)).toBe(true);
      const served = got[2]?.event;
      expect(served?.topic).toBe('served');
      const row = (served as { row: ServedRow }).row;
      const sent = (servedEvent(1, t) as { row: ServedRow }).row;
      expect(row).toEqual(sent);
      expect(row.ids).toBeInstanceOf(Int32Array);
      expect(got[1]?.event).toEqual(clickEvent(0, t));
    });

    it('stores an event id once: a retried publish is reported as a duplicate and delivered once', async () => {
      const stream = await open();
      const t = tag();
      expect(await stream.publish(clickEvent(0, t))).toEqual({ duplicate: false });
      expect(await stream.publish(clickEvent(0, t))).toEqual({ duplicate: true });
      await stream.publish(clickEvent(1, t));
      const got: StreamDelivery[] = [];
      await stream.subscribe({ consumer: 'c', handler: collect(got), ackWaitMs: ACK_WAIT_MS });
      await until('2 deliveries', () => got.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(got.map((d) => d.eventId)).toEqual([`clk-${t}-0`, `clk-${t}-1`]);
    });

    it('shares one durable consumer among its subscribers, and resumes it where it left off', async () => {
      const stream = await open();
      const t = tag();
      const a: StreamDelivery[] = [];
      const b: StreamDelivery[] = [];
      const subA = await stream.subscribe({ consumer: 'workers', handler: collect(a), ackWaitMs: ACK_WAIT_MS, maxInFlight: 4 });
      await stream.subscribe({ consumer: 'workers', handler: collect(b), ackWaitMs: ACK_WAIT_MS, maxInFlight: 4 });
      for (let i = 0; i < 40; i++) await stream.publish(clickEvent(i, t));
      await until('40 deliveries', () => a.length + b.length === 40);
      const ids = [...a, ...b].map((d) => d.eventId);
      expect(new Set(ids).size).toBe(40);
      await subA.close();
      for (let i = 40; i < 45; i++) await stream.publish(clickEvent(i, t));
      await until('45 deliveries', () => a.length + b.length === 45);
      expect(b.slice(-5).map((d) => d.eventId)).toEqual([40, 41, 42, 43, 44].map((i) => `clk-${t}-${i}`));
    });

    it('pushes back: no more than maxInFlight unacked deliveries at once', async () => {
      const stream = await open();
      const t = tag();
      const got: StreamDelivery[] = [];
      await stream.subscribe({ consumer: 'slow', handler: collect(got, false), ackWaitMs: 30_000, maxInFlight: 3 });
      for (let i = 0; i < 10; i++) await stream.publish(clickEvent(i, t));
      await until('3 deliveries', () => got.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(got.length).toBe(3);
      for (const d of got.slice(0, 3)) await d.ack();
      await until('6 deliveries', () => got.length === 6);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(got.length).toBe(6);
      expect(got.map((d) => d.eventId)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `clk-${t}-${i}`));
    });

    it('redelivers what a dead consumer left unacked to the next subscriber, never what it acked', async () => {
      const stream = await open();
      const t = tag();
      for (let i = 0; i < 6; i++) await stream.publish(clickEvent(i, t));
      const first: StreamDelivery[] = [];
      const dying: StreamSubscription = await stream.subscribe({
        consumer: 'joiner',
        ackWaitMs: ACK_WAIT_MS,
        handler: async (d) => {
          first.push(d);
          if (Number(d.eventId.split('-').at(-1)) % 2 === 0) await d.ack(); // acks the even ones, dies before the odd
        },
      });
      await until('6 first deliveries', () => first.length === 6);
      await dying.close();
      const second: StreamDelivery[] = [];
      await stream.subscribe({ consumer: 'joiner', ackWaitMs: ACK_WAIT_MS, handler: collect(second) });
      await until('3 redeliveries', () => second.length === 3, 10_000);
      await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS + 300));
      expect(second.map((d) => d.eventId).sort()).toEqual([1, 3, 5].map((i) => `clk-${t}-${i}`));
      expect(second.every((d) => d.deliveries >= 2)).toBe(true);
    });

    it('redelivers after the ack wait, and at once after a throw or nak', async () => {
      const stream = await open();
      const t = tag();
      const seen: StreamDelivery[] = [];
      await stream.subscribe({
        consumer: 'flaky',
        ackWaitMs: ACK_WAIT_MS,
        handler: async (d) => {
          seen.push(d);
          if (d.eventId.endsWith('-0') && d.deliveries === 1) return; // forgets: redelivered after the ack wait
          if (d.eventId.endsWith('-1') && d.deliveries === 1) throw new Error('boom');
          if (d.eventId.endsWith('-2') && d.deliveries === 1) return d.nak();
          await d.ack();
        },
      });
      for (let i = 0; i < 3; i++) await stream.publish(clickEvent(i, t));
      await until('6 deliveries', () => seen.length === 6, 10_000);
      await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS + 300));
      expect(seen.length).toBe(6);
      const second = seen.filter((d) => d.deliveries === 2).map((d) => d.eventId).sort();
      expect(second).toEqual([0, 1, 2].map((i) => `clk-${t}-${i}`));
    });

    it('refuses to publish past its limit (E_QUEUE_FULL) and rejects bad input with typed errors', async () => {
      const stream = await open({ maxMessages: 3 });
      const t = tag();
      for (let i = 0; i < 3; i++) await stream.publish(clickEvent(i, t));
      await expect(stream.publish(clickEvent(3, t))).rejects.toMatchObject({ code: 'E_QUEUE_FULL' });
      await expect(stream.publish({ topic: 'click', event: { ...(clickEvent(9, t) as { event: ClickEvent }).event, eventId: '' } })).rejects.toMatchObject({ code: 'E_INPUT' });
      await expect(stream.publish({ topic: 'nope' } as unknown as StreamEvent)).rejects.toMatchObject({ code: 'E_INPUT' });
      await expect(stream.subscribe({ consumer: 'bad name!', handler: () => undefined })).rejects.toMatchObject({ code: 'E_CONFIG' });
      await expect(stream.subscribe({ consumer: 'c', maxInFlight: 0, handler: () => undefined })).rejects.toMatchObject({ code: 'E_CONFIG' });
      const s = await stream.subscribe({ consumer: 'typed', topics: ['click'], handler: () => undefined, ackWaitMs: ACK_WAIT_MS });
      await expect(stream.subscribe({ consumer: 'typed', topics: ['served'], handler: () => undefined })).rejects.toMatchObject({ code: 'E_CONFIG' });
      await s.close();
    });
  });
}
