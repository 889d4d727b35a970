/**
 * The fleet stream's parts alone, without NATS: the publisher's retries, shedding and failure
 * counts over an in-memory stream that fails on purpose; the published model's bytes against a
 * reference and against hostile ones; the watermark against hand-computed values; the learner's
 * event-time clock.
 */
import { createManualClock, createMemoryEventStream, CtrkitError, type ClickEvent, type EventStream, type FeatureLayout } from '@ctrkit/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createStreamPublisher } from '../src/app/stream.js';
import { createEventTimeClock } from '../src/learner/event-clock.js';
import { WatermarkTracker } from '../src/learner/watermark.js';
import { decodePublishedModel, encodePublishedModel, MODEL_FORMAT, type PublishedModelHeader } from '../src/published-model.js';
import { metric } from './fixtures/prometheus-text.js';

const click = (i: number): ClickEvent => ({ type: 'click', eventId: `c-${i}`, requestId: `r-${i}`, timestamp: 1_000 + i, userId: 'u', adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'k' });
const quiet = { warn: () => undefined };
const noWait = async () => undefined;

/** A memory stream whose publish fails the first `failures` times (then stores). */
function flaky(failures: number): EventStream & { calls: number } {
  const inner = createMemoryEventStream();
  const s = {
    calls: 0,
    async publish(event: Parameters<EventStream['publish']>[0]) {
      s.calls++;
      if (s.calls <= failures) throw new CtrkitError('E_STREAM', 'NATS event stream: cannot publish: TIMEOUT');
      return inner.publish(event);
    },
    subscribe: inner.subscribe.bind(inner),
    close: inner.close.bind(inner),
  };
  return s;
}

describe('stream publisher', () => {
  it('retries until stored, and a retried event is stored once (the stream dedups by id)', async () => {
    const stream = flaky(2);
    const registry = new Registry();
    const publisher = createStreamPublisher({ stream, config: { maxBuffered: 10, publishAttempts: 5, publishDeadlineMs: 10_000 }, log: quiet, registry, sleep: noWait });
    expect(await publisher.click(click(1))).toBe(true);
    expect(await publisher.click(click(1))).toBe(true);
    expect(publisher.stats()).toMatchObject({ stored: 1, duplicates: 1, retries: 2, failed: 0, shed: 0, buffered: 0 });
    const text = await registry.metrics();
    expect(metric(text, 'adserver_stream_published_total', { topic: 'click', result: 'stored' })).toBe(1);
    expect(metric(text, 'adserver_stream_published_total', { topic: 'click', result: 'retried' })).toBe(2);
  });

  it('counts and logs an event that fails every try, and says so to its caller', async () => {
    const warnings: string[] = [];
    const publisher = createStreamPublisher({ stream: flaky(100), config: { maxBuffered: 10, publishAttempts: 3, publishDeadlineMs: 10_000 }, log: { warn: (_f, m) => void warnings.push(m) }, sleep: noWait });
    expect(await publisher.click(click(1))).toBe(false);
    expect(publisher.stats()).toMatchObject({ stored: 0, failed: 1, retries: 2 });
    expect(warnings).toHaveLength(1);
  });

  it('sheds beyond maxBuffered at once (counted), and takes events again once the buffer drains', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = createMemoryEventStream();
    const slow: EventStream = { publish: async (e) => (await gate, inner.publish(e)), subscribe: inner.subscribe.bind(inner), close: inner.close.bind(inner) };
    const publisher = createStreamPublisher({ stream: slow, config: { maxBuffered: 2, publishAttempts: 1, publishDeadlineMs: 10_000 }, log: quiet, sleep: noWait });
    const first = [publisher.click(click(1)), publisher.click(click(2))];
    expect(await publisher.click(click(3))).toBe(false);
    expect(publisher.stats()).toMatchObject({ shed: 1, buffered: 2 });
    release();
    expect(await Promise.all(first)).toEqual([true, true]);
    expect(await publisher.click(click(4))).toBe(true);
    expect(publisher.stats()).toMatchObject({ stored: 3, shed: 1, buffered: 0 });
  });
});

const layout = { fingerprint: 'spec-1', idSpace: 8, idWidth: 2, denseWidth: 1, sequences: [] } as unknown as FeatureLayout;
const header = (over: Partial<PublishedModelHeader> = {}): PublishedModelHeader => ({
  format: MODEL_FORMAT, seq: 3, version: 'learner-x-3', fingerprint: 'spec-1', idSpace: 8, denseWidth: 1, bias: -2.5,
  watermark: { clickedAt: 1_700_000_000_000, rowsLearned: 40, positivesLearned: 9 }, publishedAt: 1_700_000_000_123,
  guard: { rows: 20, candidateLogLoss: 0.4, servingLogLoss: 0.5 }, ...over,
});
const weights = () => ({ kind: 'lr' as const, idSpace: 8, denseWidth: 1, bias: -2.5, ids: Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.5), dense: Float32Array.of(0.25) });

describe('published model bytes', () => {
  it('round-trips header and weights bit for bit', () => {
    const decoded = decodePublishedModel(encodePublishedModel(header(), weights()), layout);
    expect(decoded.header).toEqual(header());
    expect(Array.from(decoded.weights.ids)).toEqual(Array.from(weights().ids));
    expect(Array.from(decoded.weights.dense)).toEqual([0.25]);
    expect(decoded.weights.bias).toBe(-2.5);
  });

  it('refuses another spec, other shapes, a non-finite weight, a bad header and truncated bytes', () => {
    const bytes = encodePublishedModel(header(), weights());
    const refused = (b: Uint8Array, l: FeatureLayout = layout) => {
      try {
        decodePublishedModel(b, l);
        return 'accepted';
      } catch (error) {
        return (error as CtrkitError).code;
      }
    };
    expect(refused(bytes, { ...layout, fingerprint: 'spec-2' } as FeatureLayout)).toBe('E_MODEL_LOAD');
    expect(refused(bytes, { ...layout, idSpace: 16 } as FeatureLayout)).toBe('E_MODEL_LOAD');
    expect(refused(bytes.subarray(0, bytes.length - 4))).toBe('E_MODEL_LOAD');
    expect(refused(new Uint8Array(3))).toBe('E_MODEL_LOAD');
    const nan = weights();
    nan.ids[3] = Number.NaN;
    expect(refused(encodePublishedModel(header(), nan))).toBe('E_MODEL_LOAD');
    expect(refused(encodePublishedModel(header({ seq: 0 }), weights()))).toBe('E_MODEL_LOAD');
    expect(refused(encodePublishedModel(header({ watermark: { clickedAt: null, rowsLearned: -1, positivesLearned: 0 } }), weights()))).toBe('E_MODEL_LOAD');
    const garbage = bytes.slice();
    garbage[5] = 0xff; // the header's JSON is no longer UTF-8
    expect(refused(garbage)).toBe('E_MODEL_LOAD');
  });
});

describe('watermark', () => {
  it('is the newest click learned, held below the oldest click still in the window, and never goes back', () => {
    const w = new WatermarkTracker(Number.NEGATIVE_INFINITY);
    // rows 0..5: positives at 1 (t=100), 3 (t=300), 4 (t=200 — clicks need not come in time order), 5 (unknown time)
    w.add([0, 1, 0, 1, 1, 1], [Number.NaN, 100, Number.NaN, 300, 200, Number.NaN]);
    expect(w.at(0)).toEqual({ clickedAt: Number.NEGATIVE_INFINITY, positivesLearned: 0 });
    expect(w.at(2)).toEqual({ clickedAt: 100, positivesLearned: 1 });
    // learned up to row 3 (t=300) but t=200 waits: every click ≤ 199 is learned, not ≤ 300
    expect(w.at(4)).toEqual({ clickedAt: 199, positivesLearned: 2 });
    expect(w.at(6)).toEqual({ clickedAt: 300, positivesLearned: 4 });
    w.add([1], [50]);
    expect(w.at(6).clickedAt).toBe(300);
  });

  it('starts from the published watermark after a restart', () => {
    const w = new WatermarkTracker(5_000);
    w.add([1], [Number.NaN]);
    expect(w.at(1)).toEqual({ clickedAt: 5_000, positivesLearned: 1 });
  });
});

describe('event-time clock', () => {
  it('runs at the newest served row (plus grace) while rows come, never ahead of the wall, and at the wall when they stop', () => {
    const wall = createManualClock(100_000);
    const clock = createEventTimeClock({ graceMs: 500, idleMs: 2_000, wall });
    expect(clock.now()).toBe(100_000);
    clock.observe(40_000);
    expect(clock.now()).toBe(40_500);
    clock.observe(30_000);
    expect(clock.now()).toBe(40_500);
    clock.observe(200_000); // a row from the future moves it no further than the wall
    expect(clock.now()).toBe(100_000);
    wall.advance(2_001);
    expect(clock.now()).toBe(102_001);
  });
});
