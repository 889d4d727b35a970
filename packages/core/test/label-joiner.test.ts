import { describe, expect, it } from 'vitest';
import {
  CtrkitError,
  createLabelJoiner,
  createManualClock,
  createRandom,
  type ClickEvent,
  type ConversionEvent,
  type JoinedConversion,
  type JoinedRow,
  type ServedRow,
} from '../src/index.js';

const WINDOW = 60_000;

function row(i: number, servedAt: number, dense = 0): ServedRow {
  return {
    eventId: `imp-${i}`, requestId: `r-${i}`, impId: '1', adId: `a-${i % 5}`, position: 0, pCtr: 0.1, servedAt, modelVersion: 'v1',
    fingerprint: 'f', ids: Int32Array.of(1 + i), values: Float32Array.of(1), dense: Float32Array.of(dense), sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0),
  };
}
function click(of: ServedRow, timestamp: number, eventId = `clk-${of.eventId}`): ClickEvent {
  return { type: 'click', eventId, requestId: of.requestId, adId: of.adId, timestamp, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' };
}
function conversion(of: ServedRow, timestamp: number, eventId = `cv-${of.eventId}`): ConversionEvent {
  return { type: 'conversion', eventId, requestId: of.requestId, adId: of.adId, timestamp, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k', value: 3 };
}

function setup(options: { maxPending?: number; lateness?: number } = {}) {
  const clock = createManualClock(1_000_000);
  const labels: JoinedRow[] = [];
  const conversions: JoinedConversion[] = [];
  const joiner = createLabelJoiner({
    windowMs: WINDOW,
    allowedLatenessMs: options.lateness ?? 0,
    clock,
    onLabel: (j) => labels.push(j),
    onConversion: (c) => conversions.push(c),
    ...(options.maxPending === undefined ? {} : { maxPending: options.maxPending }),
  });
  return { clock, labels, conversions, joiner };
}

describe('label joiner', () => {
  it('labels a positive when its click arrives in the window, a negative only when the window closes', () => {
    const { clock, labels, joiner } = setup({ lateness: 5_000 });
    const t = clock.now();
    const a = row(1, t);
    const b = row(2, t);
    expect(joiner.impression(a)).toBe('joined');
    expect(joiner.impression(b)).toBe('joined');
    clock.advance(30_000);
    expect(joiner.click(click(a, t + 29_000))).toBe('joined');
    expect(labels).toEqual([{ row: a, label: 1, labeledAt: t + 30_000, clickEventId: 'clk-imp-1', clickedAt: t + 29_000 }]);
    clock.set(t + WINDOW + 4_999);
    expect(joiner.advance()).toBe(0);
    expect(labels).toHaveLength(1);
    clock.advance(1);
    expect(joiner.advance()).toBe(2); // both rows close; only the unclicked one is emitted
    expect(labels.map((j) => [j.row.eventId, j.label])).toEqual([['imp-1', 1], ['imp-2', 0]]);
    expect(joiner.stats()).toMatchObject({ pending: 0, impressions: 2, positives: 1, negatives: 1 });
  });

  it('drops duplicates by event id and counts orphans, late, early and repeat events without guessing', () => {
    const { clock, labels, conversions, joiner } = setup();
    const t = clock.now();
    const a = row(1, t);
    const b = row(2, t);
    joiner.impression(a);
    expect(joiner.impression(a)).toBe('duplicate');
    expect(joiner.impression({ ...a, eventId: 'imp-other' })).toBe('collision');
    joiner.impression(b);
    expect(joiner.click(click(a, t + 1))).toBe('joined');
    expect(joiner.click(click(a, t + 1))).toBe('duplicate');
    expect(joiner.click(click(a, t + 2, 'second'))).toBe('repeat');
    expect(joiner.click(click(row(99, t), t + 1))).toBe('orphan');
    expect(joiner.click(click(b, t - 1))).toBe('early');
    expect(joiner.click(click(b, t + WINDOW + 1, 'too-late'))).toBe('late');
    expect(joiner.conversion(conversion(a, t + 10))).toBe('joined');
    expect(joiner.conversion(conversion(a, t + 10))).toBe('duplicate');
    expect(joiner.conversion(conversion(b, t + 10))).toBe('repeat');
    expect(joiner.conversion(conversion(row(98, t), t + 10))).toBe('orphan');
    clock.advance(WINDOW);
    joiner.advance();
    const c = row(3, clock.now());
    expect(joiner.click(click(b, t + 5, 'after-close'))).toBe('late');
    expect(joiner.conversion(conversion(b, t + 5, 'cv-after-close'))).toBe('late');
    expect(joiner.click(click(c, clock.now()))).toBe('orphan'); // its impression has not arrived: counted, not guessed
    expect(labels.map((j) => [j.row.eventId, j.label])).toEqual([['imp-1', 1], ['imp-2', 0]]);
    expect(conversions.map((j) => [j.row.eventId, j.clickEventId, j.conversion.value])).toEqual([['imp-1', 'clk-imp-1', 3]]);
    expect(joiner.stats()).toMatchObject({
      positives: 1, negatives: 1, collisions: 1, conversions: 1,
      duplicates: { impression: 1, click: 1, conversion: 1 },
      orphans: { click: 2, conversion: 1 },
      late: { click: 2, conversion: 1 },
      early: { click: 1, conversion: 0 },
      repeats: { click: 1, conversion: 1 },
    });
  });

  it('agrees with a naive join on a random stream with duplicates, delays and lost impressions', () => {
    const random = createRandom(7);
    const lateness = 2_000;
    const { clock, labels, joiner } = setup({ lateness });
    const t0 = clock.now();
    type Arrival = { at: number; kind: 'impression'; row: ServedRow } | { at: number; kind: 'click'; event: ClickEvent };
    const arrivals: Arrival[] = [];
    const rows: ServedRow[] = [];
    const clicks: ClickEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const served = t0 + i * 50;
      const r = row(i, served);
      rows.push(r);
      const lost = random.next() < 0.03;
      if (!lost) arrivals.push({ at: served + random.int(500), kind: 'impression', row: r });
      if (random.next() < 0.3) {
        const c = click(r, served + random.int(WINDOW + 5_000));
        clicks.push(c);
        const copies = random.next() < 0.2 ? 2 : 1;
        for (let k = 0; k < copies; k++) arrivals.push({ at: c.timestamp + random.int(4_000), kind: 'click', event: c });
      }
    }
    arrivals.sort((x, y) => x.at - y.at);
    for (const a of arrivals) {
      clock.set(Math.max(clock.now(), a.at));
      if (a.kind === 'impression') joiner.impression(a.row);
      else joiner.click(a.event);
    }
    clock.advance(WINDOW + lateness + 10_000);
    joiner.advance();
    // The naive join: each impression that arrived, labeled 1 when a click on it happened in
    // [servedAt, servedAt + window] and arrived before servedAt + window + lateness.
    const expected = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    for (const a of arrivals) if (a.kind === 'impression') arrivedAt.set(a.row.eventId, a.at);
    for (const r of rows) if (arrivedAt.has(r.eventId)) expected.set(r.eventId, 0);
    for (const a of arrivals) {
      if (a.kind !== 'click') continue;
      const r = rows[Number(a.event.requestId.slice(2))] as ServedRow;
      const delay = a.event.timestamp - r.servedAt;
      const impAt = arrivedAt.get(r.eventId);
      if (impAt !== undefined && impAt <= a.at && delay >= 0 && delay <= WINDOW && a.at < r.servedAt + WINDOW + lateness) expected.set(r.eventId, 1);
    }
    const got = new Map(labels.map((j) => [j.row.eventId, j.label as number]));
    expect(labels.length).toBe(got.size); // each row labeled exactly once
    expect(got).toEqual(expected);
    const stats = joiner.stats();
    expect(stats.positives + stats.negatives).toBe(expected.size);
    expect(stats.duplicates.click).toBeGreaterThan(0);
    expect(stats.orphans.click + stats.late.click).toBeGreaterThan(0);
  });

  it('is point-in-time correct: a row carries the features it was served with, never its own label', () => {
    // A server whose one dense feature is "clicks this ad has had so far", updated as clicks come
    // back; the joiner must hand training the row as it was, not as the counter is later.
    const random = createRandom(11);
    const { clock, labels, joiner } = setup();
    const clicksSoFar = new Map<string, number>();
    const pendingClicks: { at: number; event: ClickEvent }[] = [];
    const served = new Map<string, { row: ServedRow; idsBefore: number[] }>();
    for (let i = 0; i < 2000; i++) {
      clock.advance(100);
      pendingClicks.sort((x, y) => x.at - y.at);
      while (pendingClicks.length > 0 && (pendingClicks[0] as { at: number }).at <= clock.now()) {
        const { event } = pendingClicks.shift() as { event: ClickEvent };
        clicksSoFar.set(event.adId, (clicksSoFar.get(event.adId) ?? 0) + 1);
        joiner.click(event);
      }
      const r = row(i, clock.now(), clicksSoFar.get(`a-${i % 5}`) ?? 0);
      served.set(r.eventId, { row: r, idsBefore: [...r.ids, ...r.dense] });
      joiner.impression(r);
      if (random.next() < 0.4) {
        const delay = 1 + random.int(20_000);
        pendingClicks.push({ at: clock.now() + delay, event: click(r, clock.now() + delay) });
      }
    }
    clock.advance(2 * WINDOW);
    joiner.advance();
    expect(labels.length).toBe(2000);
    let positives = 0;
    for (const j of labels) {
      const original = served.get(j.row.eventId);
      expect(j.row).toBe(original?.row);
      expect([...j.row.ids, ...j.row.dense]).toEqual(original?.idsBefore);
      if (j.label === 1) {
        positives++;
        expect(j.clickedAt as number).toBeGreaterThanOrEqual(j.row.servedAt);
        // The counter in the row was read before its own click existed.
        expect(j.labeledAt).toBeGreaterThan(j.row.servedAt);
      }
      expect(Object.keys(j.row)).not.toContain('label');
    }
    expect(positives).toBeGreaterThan(600);
  });

  it('bounds memory by window × rate, with a hard cap that sheds and counts', () => {
    const { clock, joiner } = setup();
    // 20 impressions a second for 5 windows: about 1,200 wait at once.
    for (let i = 0; i < 6000; i++) {
      clock.advance(50);
      joiner.impression(row(i, clock.now()));
    }
    const peak = joiner.stats().peakPending;
    expect(peak).toBeGreaterThanOrEqual(1200);
    expect(peak).toBeLessThanOrEqual(1201);
    const capped = setup({ maxPending: 100 });
    for (let i = 0; i < 150; i++) capped.joiner.impression(row(i, capped.clock.now()));
    expect(capped.joiner.stats()).toMatchObject({ pending: 100, shed: 50, impressions: 100 });
    capped.clock.advance(WINDOW);
    capped.joiner.advance();
    expect(capped.labels.length).toBe(100); // shed rows are never labeled
  });

  it('rejects malformed events and options, leaving its state as it was', () => {
    const { joiner } = setup();
    const before = joiner.stats();
    expect(() => joiner.click({ eventId: '', requestId: 'r', adId: 'a', timestamp: 0 } as ClickEvent)).toThrowError(CtrkitError);
    expect(() => joiner.conversion({ eventId: 'e', requestId: 'r', adId: 'a', timestamp: Number.NaN } as ConversionEvent)).toThrowError(/finite timestamp/);
    expect(() => joiner.impression({ ...row(1, 0), servedAt: Number.NaN })).toThrowError(/servedAt/);
    expect(joiner.stats()).toEqual(before);
    expect(() => createLabelJoiner({ windowMs: 0, onLabel: () => undefined })).toThrowError(/windowMs/);
    expect(() => createLabelJoiner({ windowMs: 1, maxPending: -1, onLabel: () => undefined })).toThrowError(/maxPending/);
  });
});
