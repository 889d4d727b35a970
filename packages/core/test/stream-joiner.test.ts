import { randomUUID } from 'node:crypto';
import { pollUntil, sharedNatsFor } from '@ctrkit/test-support';
import { describe, expect, it } from 'vitest';
import { createNatsEventStream } from '../src/nats.js';
import {
  createManualClock,
  createMemoryEventStream,
  createMemoryServedLog,
  createStreamJoiner,
  type ClickEvent,
  type EventStream,
  type FeatureLayout,
  type ServedLog,
  type ServedRow,
} from '../src/index.js';

const layout: FeatureLayout = { fingerprint: 'f', idSpace: 1000, idWidth: 1, fields: [{ name: 'ad', kind: 'categorical', offset: 0, width: 1 }], denseWidth: 0, denseNames: [], sequences: [] };

function row(i: number, servedAt: number): ServedRow {
  return {
    eventId: `imp-${i}`, requestId: `r-${i}`, impId: '1', adId: `a-${i % 7}`, position: 0, pCtr: 0.1, servedAt, modelVersion: 'v1',
    fingerprint: 'f', ids: Int32Array.of(1 + i), values: Float32Array.of(1), dense: new Float32Array(0), sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0),
  };
}
function click(r: ServedRow, timestamp: number): ClickEvent {
  return { type: 'click', eventId: `clk-${r.eventId}`, requestId: r.requestId, adId: r.adId, timestamp, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' };
}

/** A labeled log whose rows count as durable only once flushed; a crash loses the rest. */
function durableLog(): ServedLog & { committed: { eventId: string; label: number }[]; crash(): void } {
  const inner = createMemoryServedLog({ layout, labeled: true });
  let open: { eventId: string; label: number }[] = [];
  const committed: { eventId: string; label: number }[] = [];
  return {
    layout,
    committed,
    append(r, label) {
      inner.append(r, label);
      open.push({ eventId: r.eventId, label: label as number });
    },
    async flush() {
      committed.push(...open);
      open = [];
    },
    async close() {},
    stats: () => inner.stats(),
    crash() {
      open = [];
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const noTimers = { setTimeout: () => 0, clearTimeout: () => undefined };

const nats = await sharedNatsFor('core: the stream joiner over NATS JetStream');

/**
 * The crash test on one stream: `unit` ms of the (manual) clock between rows, the window 60 units;
 * the ack wait is real time, which is what the stream's redelivery runs on.
 */
async function crashAndTakeOver(stream: EventStream, clock: ReturnType<typeof createManualClock>, unit: number, ackWaitMs: number): Promise<void> {
  {
    const WINDOW = 60 * unit;
    const t0 = clock.now();
    const rows = Array.from({ length: 200 }, (_, i) => row(i, t0 + i * unit));
    const clicked = (i: number) => i % 3 === 0;
    const publishUpTo = async (n: number, from = 0) => {
      for (let i = from; i < n; i++) {
        const r = rows[i] as ServedRow;
        await stream.publish({ topic: 'served', row: r });
        if (clicked(i)) await stream.publish({ topic: 'click', event: click(r, r.servedAt + 500) });
      }
    };
    const outA = durableLog();
    const common = { stream, consumer: 'joiner', windowMs: WINDOW, allowedLatenessMs: 0, flushEveryMs: 1, clock, scheduler: noTimers, ackWaitMs };
    const a = createStreamJoiner({ ...common, output: outA });
    await a.start();
    await publishUpTo(120);
    await pollUntil('120 rows in joiner A', () => a.stats().impressions === 120, { timeoutMs: 15_000 });
    clock.set(t0 + 119 * unit); // rows 0..59 have closed
    await a.flush();
    const durableA = outA.committed.length;
    expect(durableA).toBeGreaterThan(60);
    await publishUpTo(200, 120);
    await pollUntil('200 rows in joiner A', () => a.stats().impressions === 200, { timeoutMs: 15_000 });
    clock.set(t0 + 150 * unit);
    outA.crash();
    await a.abort(); // dies: what it labeled since its last flush is lost, and nothing of it acked
    const outB = durableLog();
    const b = createStreamJoiner({ ...common, output: outB });
    await b.start();
    // A acked rows 0..59 (closed) and the clicked rows up to 119 (labeled at their click) at its
    // flush; everything else comes back to B.
    const left = rows.filter((_, i) => !(i < 60 || (i < 120 && clicked(i)))).length;
    await pollUntil(`joiner B to get back the ${left} rows A left`, () => b.stats().impressions === left, { timeoutMs: ackWaitMs + 15_000 });
    clock.set(t0 + 400 * unit);
    await b.flush();
    await b.stop();
    const all = [...outA.committed, ...outB.committed];
    expect(all.length).toBe(200);
    const byRow = new Map(all.map((x) => [x.eventId, x.label]));
    expect(byRow.size).toBe(200);
    for (let i = 0; i < 200; i++) expect(byRow.get(`imp-${i}`), `imp-${i}`).toBe(clicked(i) ? 1 : 0);
    expect(b.stats().holding).toBe(0);
  }
}

describe('stream joiner', () => {
  it('loses nothing and labels every row once when a joiner dies mid-run and another takes over (in-process)', async () => {
    const clock = createManualClock(1_000_000);
    const stream = createMemoryEventStream({ clock });
    await crashAndTakeOver(stream, clock, 1_000, 600_000);
    await stream.close();
  }, 30_000);

  it.runIf(nats)('loses nothing and labels every row once when a joiner dies mid-run and another takes over (NATS JetStream)', async () => {
    const id = randomUUID().replaceAll('-', '').slice(0, 12);
    const stream = await createNatsEventStream({ stream: `CTRKIT_TEST_${id}`, subjectPrefix: `ctrkit.test.${id}` });
    try {
      await crashAndTakeOver(stream, createManualClock(1_000_000), 10, 1_500);
    } finally {
      await stream.destroy();
    }
  }, 60_000);

  it('refuses malformed events for good (acked and counted), and keeps joining the rest', async () => {
    const clock = createManualClock(0);
    const stream = createMemoryEventStream({ clock });
    const out = durableLog();
    const joiner = createStreamJoiner({ stream, consumer: 'j', output: out, windowMs: 1_000, allowedLatenessMs: 0, clock, scheduler: noTimers, ackWaitMs: 60_000 });
    await joiner.start();
    await stream.publish({ topic: 'served', row: { ...row(1, 0), fingerprint: 'another-spec' } });
    await stream.publish({ topic: 'click', event: { ...click(row(2, 0), 5), requestId: 42 as unknown as string } });
    await stream.publish({ topic: 'served', row: row(3, 0) });
    await settle();
    clock.advance(1_000);
    await joiner.flush();
    expect(joiner.stats()).toMatchObject({ rejected: 2, impressions: 1, negatives: 1, holding: 0 });
    expect(out.committed).toEqual([{ eventId: 'imp-3', label: 0 }]);
    await joiner.stop();
    // Nothing comes back: the refused events were acked.
    const again = createStreamJoiner({ stream, consumer: 'j', output: durableLog(), windowMs: 1_000, allowedLatenessMs: 0, clock, scheduler: noTimers, ackWaitMs: 60_000 });
    await again.start();
    await settle();
    expect(again.stats()).toMatchObject({ rejected: 0, impressions: 0 });
    await again.stop();
    await stream.close();
  });

  it('refuses an ack wait a row could outlive', () => {
    const stream = createMemoryEventStream();
    expect(() => createStreamJoiner({ stream, consumer: 'j', output: createMemoryServedLog({ layout, labeled: true }), windowMs: 60_000, ackWaitMs: 60_000 })).toThrowError(/ackWaitMs/);
  });
});
