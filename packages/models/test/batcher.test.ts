import { describe, expect, it } from 'vitest';
import type { FeatureBatch, ModelInfo, ModelRunner } from '@ctrkit/core';
import { createManualScheduler, createMicroBatcher } from '../src/index.js';
import { ctrkitRejectionOf } from '@ctrkit/test-support';
import { richLayout } from './fixtures/layouts.js';
import { randomBatch, rowOf, strideOf } from './fixtures/random-batches.js';

const layout = richLayout();

/** A score that depends on every array of the row, so a merge that misplaces any value shows. */
function checksum(batch: FeatureBatch, r: number): number {
  const { idWidth, denseWidth } = batch.layout;
  const S = batch.layout.sequences.length;
  const SL = S * strideOf(batch.layout);
  let h = 0;
  for (let c = 0; c < idWidth; c++) h += (batch.ids[r * idWidth + c] as number) * (c + 1) + (batch.values[r * idWidth + c] as number) * 3;
  for (let d = 0; d < denseWidth; d++) h += (batch.dense[r * denseWidth + d] as number) * 7;
  for (let t = 0; t < SL; t++) h += (batch.sequenceIds[r * SL + t] as number) * 0.01 * (t + 1);
  for (let s = 0; s < S; s++) h += (batch.sequenceLengths[r * S + s] as number) * 11;
  return 1 / (1 + Math.exp(-Math.sin(h)));
}

interface Probe {
  readonly runner: ModelRunner;
  readonly seen: FeatureBatch[];
  gated: boolean;
  fail: Error | undefined;
  disposed: boolean;
  open(): void;
}

function probeRunner(): Probe {
  const waiting: (() => void)[] = [];
  const info: ModelInfo = { architecture: 'probe', version: '1', backend: 'test', provider: 'js', fingerprint: layout.fingerprint };
  const probe: Probe = {
    seen: [],
    gated: false,
    fail: undefined,
    disposed: false,
    open() {
      while (waiting.length > 0) waiting.shift()!();
    },
    runner: {
      info,
      async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
        // Snapshot now: the batcher reuses its merged buffers once the promise settles.
        const snapshot = { ...batch, ids: batch.ids.slice(), values: batch.values.slice(), dense: batch.dense.slice(), sequenceIds: batch.sequenceIds.slice(), sequenceLengths: batch.sequenceLengths.slice() };
        probe.seen.push(batch);
        if (probe.gated) await new Promise<void>((resolve) => waiting.push(resolve));
        if (probe.fail) throw probe.fail;
        const target = out ?? new Float32Array(batch.rows);
        for (let r = 0; r < batch.rows; r++) target[r] = checksum(snapshot, r);
        return target;
      },
      async dispose() {
        probe.disposed = true;
      },
    },
  };
  return probe;
}

const rows = (n: number, seed: string) => {
  const batch = randomBatch(layout, n, seed);
  return Array.from({ length: n }, (_, r) => rowOf(batch, r));
};

describe('micro-batcher', () => {
  it('merges concurrent calls into one batch once the wait elapses, and hands each caller its own rows', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxBatchRows: 64, maxWaitMs: 2, scheduler });
    const calls = rows(10, 'merge');
    const outs = calls.map(() => new Float32Array(1));
    const pending = calls.map((call, i) => batcher.predict(call, outs[i]));
    await scheduler.advance(1.5);
    expect(probe.seen.length).toBe(0); // still waiting for company
    await scheduler.advance(0.5);
    const results = await Promise.all(pending);
    expect(probe.seen.map((b) => b.rows)).toEqual([10]);
    results.forEach((result, i) => {
      expect(result).toBe(outs[i]);
      expect(result[0]).toBeCloseTo(checksum(calls[i]!, 0), 6);
    });
    expect(batcher.stats()).toMatchObject({ calls: 10, batches: 1, rows: 10, queuedRows: 0, inFlight: 0 });
  });

  it('runs a full batch at once without waiting, and the rest after it finishes', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    probe.gated = true;
    const batcher = createMicroBatcher(probe.runner, { maxBatchRows: 4, maxWaitMs: 50, scheduler });
    const calls = rows(10, 'size');
    const pending = calls.map((call) => batcher.predict(call));
    await scheduler.advance(0);
    expect(probe.seen.map((b) => b.rows)).toEqual([4]); // full: no wait; the others queue behind it
    probe.gated = false;
    probe.open();
    await scheduler.advance(0);
    expect(probe.seen.map((b) => b.rows)).toEqual([4, 4]); // full again at once; the last two wait for company
    await scheduler.advance(50);
    const results = await Promise.all(pending);
    expect(probe.seen.map((b) => b.rows)).toEqual([4, 4, 2]);
    results.forEach((result, i) => expect(result[0]).toBeCloseTo(checksum(calls[i]!, 0), 6));
  });

  it('rejects at once with E_QUEUE_FULL when the queue is full, and serves the rest', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    probe.gated = true;
    const batcher = createMicroBatcher(probe.runner, { maxBatchRows: 2, maxQueueRows: 3, maxWaitMs: 0, scheduler });
    const calls = rows(5, 'full');
    const first = batcher.predict(calls[0]!); // maxWaitMs 0: runs at once, and stays in flight
    await scheduler.advance(0);
    const queued = [batcher.predict(calls[1]!), batcher.predict(calls[2]!), batcher.predict(calls[3]!)];
    const refused = await ctrkitRejectionOf(batcher.predict(calls[4]!));
    expect(refused.code).toBe('E_QUEUE_FULL');
    expect(refused.message).toMatch(/queue is full \(3 rows waiting, limit 3\)/);
    expect(batcher.stats()).toMatchObject({ rejected: 1, queuedRows: 3, inFlight: 1 });
    probe.gated = false;
    probe.open();
    await scheduler.advance(0);
    expect((await Promise.all([first, ...queued])).length).toBe(4);
    expect(probe.seen.map((b) => b.rows)).toEqual([1, 2, 1]);
  });

  it('times out a call past its deadline with E_TIMEOUT, drops it from its batch, and serves the others', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    probe.gated = true;
    const batcher = createMicroBatcher(probe.runner, { maxBatchRows: 8, maxWaitMs: 0, scheduler });
    const calls = rows(4, 'deadline');
    const inFlight = batcher.predict(calls[0]!, undefined, { deadlineMs: 3 });
    await scheduler.advance(0);
    const late = batcher.predict(calls[1]!, undefined, { deadlineMs: 5 });
    const patient = [batcher.predict(calls[2]!), batcher.predict(calls[3]!)];
    await scheduler.advance(3);
    expect((await ctrkitRejectionOf(inFlight)).code).toBe('E_TIMEOUT'); // in flight and late: the caller stops waiting
    await scheduler.advance(2);
    const timedOut = await ctrkitRejectionOf(late);
    expect(timedOut.code).toBe('E_TIMEOUT');
    expect(timedOut.message).toMatch(/missed its 5 ms deadline/);
    probe.gated = false;
    probe.open();
    await scheduler.advance(0);
    const results = await Promise.all(patient);
    expect(results.map((r) => r[0])).toEqual([checksum(calls[2]!, 0), checksum(calls[3]!, 0)].map((v) => Math.fround(v)));
    expect(probe.seen.map((b) => b.rows)).toEqual([1, 2]); // the timed-out queued call never reached the model
    expect(batcher.stats()).toMatchObject({ timedOut: 2, queuedRows: 0 });
  });

  it('does not let a first caller with another spec decide the layout for everyone', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxWaitMs: 1, scheduler });
    const [a] = rows(1, 'first');
    const wrong = await ctrkitRejectionOf(batcher.predict({ ...a!, layout: { ...layout, fingerprint: 'elsewhere' } }));
    expect(wrong.message).toMatch(/feature spec elsewhere but the model expects spec spec-rich/);
    const good = batcher.predict(a!);
    await scheduler.advance(1);
    expect((await good)[0]).toBeCloseTo(checksum(a!, 0), 6);
  });

  it('rejects a bad call alone, before it can spoil a merged batch', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxWaitMs: 1, scheduler });
    const [a, b] = rows(2, 'bad');
    const broken = { ...b!, dense: new Float32Array([Number.NaN, 0]) };
    const good = batcher.predict(a!);
    const bad = await ctrkitRejectionOf(batcher.predict(broken));
    expect(bad.code).toBe('E_INPUT');
    expect(bad.message).toMatch(/batch\.dense\[row 0, column 0\] is NaN/);
    const otherSpec = await ctrkitRejectionOf(batcher.predict({ ...a!, layout: { ...layout, fingerprint: 'elsewhere' } }));
    expect(otherSpec.message).toMatch(/feature spec elsewhere/);
    await scheduler.advance(1);
    expect((await good)[0]).toBeCloseTo(checksum(a!, 0), 6);
  });

  it('rejects every caller of a merged batch when the model fails, then keeps serving', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxWaitMs: 1, scheduler });
    probe.fail = new Error('session exploded');
    const pending = rows(3, 'fail').map((call) => ctrkitRejectionOf(batcher.predict(call)));
    await scheduler.advance(1);
    const errors = await Promise.all(pending);
    expect(errors.map((e) => e.code)).toEqual(['E_INFERENCE', 'E_INFERENCE', 'E_INFERENCE']);
    expect(errors[0]!.message).toMatch(/session exploded/);
    probe.fail = undefined;
    const again = batcher.predict(rows(1, 'after')[0]!);
    await scheduler.advance(1);
    expect((await again).length).toBe(1);
  });

  it('sends a call larger than maxBatchRows alone, without copying it', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxBatchRows: 4, maxWaitMs: 1, scheduler });
    const big = randomBatch(layout, 9, 'big');
    const result = batcher.predict(big);
    await scheduler.advance(0);
    expect(probe.seen[0]).toBe(big);
    expect((await result).length).toBe(9);
  });

  it('on dispose runs what is queued, then disposes the model and refuses new calls', async () => {
    const scheduler = createManualScheduler();
    const probe = probeRunner();
    const batcher = createMicroBatcher(probe.runner, { maxWaitMs: 100, scheduler });
    const pending = rows(3, 'dispose').map((call) => batcher.predict(call));
    await batcher.dispose();
    expect((await Promise.all(pending)).length).toBe(3);
    expect(probe.disposed).toBe(true);
    expect((await ctrkitRejectionOf(batcher.predict(rows(1, 'x')[0]!))).code).toBe('E_STATE');
  });

  it('refuses invalid options', () => {
    const probe = probeRunner();
    expect(() => createMicroBatcher(probe.runner, { maxBatchRows: 0 })).toThrow(/maxBatchRows must be a positive number/);
    expect(() => createMicroBatcher(probe.runner, { maxWaitMs: -1 })).toThrow(/maxWaitMs must be a finite number ≥ 0/);
    expect(() => createMicroBatcher({} as ModelRunner)).toThrow(/needs a ModelRunner/);
  });
});
