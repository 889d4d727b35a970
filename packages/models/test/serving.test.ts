import { describe, expect, it } from 'vitest';
import { createPlattCalibrator, type FeatureBatch, type ModelRunner } from '@ctrkit/core';
import {
  createAbRouter,
  createEnsemble,
  createFallbackRunner,
  createHotSwapRunner,
  createManualScheduler,
  createNativeRunner,
  initLrWeights,
} from '../src/index.js';
import { ctrkitRejectionOf } from '@ctrkit/test-support';
import { richLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff, referenceLr } from './fixtures/reference-models.js';

const layout = richLayout();

interface Fake extends ModelRunner {
  calls: number;
  disposed: boolean;
  gated: boolean;
  release(): void;
}

/** A runner answering `score` for every row; when gated, calls wait for `release()`. */
function fake(score: number, version: string, fingerprint = layout.fingerprint, fail?: Error): Fake {
  const waiting: (() => void)[] = [];
  const runner: Fake = {
    info: { architecture: 'fake', version, backend: 'test', provider: 'js', fingerprint },
    calls: 0,
    disposed: false,
    gated: false,
    release() {
      while (waiting.length > 0) waiting.shift()!();
    },
    async predict(batch: FeatureBatch, out?: Float32Array) {
      runner.calls++;
      if (runner.disposed) throw new Error(`${version} used after dispose`);
      if (runner.gated) await new Promise<void>((resolve) => waiting.push(resolve));
      if (fail) throw fail;
      return (out ?? new Float32Array(batch.rows)).fill(score);
    },
    async dispose() {
      runner.disposed = true;
    },
  };
  return runner;
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('ensemble', () => {
  it('averages members in logit space with normalized weights', async () => {
    const a = initLrWeights(layout, { seed: 'ens-a', scale: 0.5 });
    const b = initLrWeights(layout, { seed: 'ens-b', scale: 0.5 });
    const ensemble = createEnsemble({
      members: [
        { runner: createNativeRunner({ layout, weights: a, version: 'a' }), weight: 1 },
        { runner: createNativeRunner({ layout, weights: b, version: 'b' }), weight: 3 },
      ],
    });
    const batch = randomBatch(layout, 20, 'ensemble');
    const za = referenceLr(a, batch);
    const zb = referenceLr(b, batch);
    const expected = za.map((z, i) => sigmoid(0.25 * z + 0.75 * (zb[i] as number)));
    expect(maxAbsDiff(await ensemble.predict(batch), expected)).toBeLessThanOrEqual(1e-6);
    expect(ensemble.info).toMatchObject({ architecture: 'ensemble(lr+lr)', version: 'a+b', backend: 'ensemble', provider: 'native:js', fingerprint: 'spec-rich' });
  });

  it('keeps a member that says 0 or 1 from outvoting the rest with infinities', async () => {
    const ensemble = createEnsemble({ members: [{ runner: fake(1, 'sure'), weight: 1 }, { runner: fake(0.2, 'unsure'), weight: 1 }] });
    const [p] = await ensemble.predict(randomBatch(layout, 1));
    expect(p).toBeGreaterThan(0.99);
    expect(p).toBeLessThan(1);
    expect(p).toBeCloseTo(sigmoid(0.5 * logit(1 - 1e-7) + 0.5 * logit(0.2)), 5);
  });

  it('refuses members of different specs and weights that do not add up; disposes its members', async () => {
    expect(() => createEnsemble({ members: [{ runner: fake(0.1, 'x'), weight: 1 }, { runner: fake(0.1, 'y', 'other'), weight: 1 }] })).toThrow(/different feature specs/);
    expect(() => createEnsemble({ members: [{ runner: fake(0.1, 'x'), weight: 0 }] })).toThrow(/sum to 0/);
    expect(() => createEnsemble({ members: [{ runner: fake(0.1, 'x'), weight: -1 }] })).toThrow(/finite and ≥ 0/);
    const member = fake(0.3, 'm');
    const ensemble = createEnsemble({ members: [{ runner: member, weight: 1 }] });
    await ensemble.dispose();
    expect(member.disposed).toBe(true);
    expect((await ctrkitRejectionOf(ensemble.predict(randomBatch(layout, 1)))).code).toBe('E_STATE');
  });
});

describe('A/B routing', () => {
  const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it('sends a user to the same arm every time and in every router built alike', () => {
    const options = { salt: 'exp-1', arms: [{ name: 'control', runner: fake(0.1, 'c'), weight: 9 }, { name: 'dcn', runner: fake(0.2, 'd'), weight: 1 }] };
    const one = createAbRouter(options);
    const two = createAbRouter(options);
    for (const user of users.slice(0, 500)) {
      expect(one.armFor(user).name).toBe(one.armFor(user).name);
      expect(two.armFor(user).name).toBe(one.armFor(user).name);
    }
  });

  it('splits users by weight, and a new salt reshuffles them', () => {
    const arms = [{ name: 'a', runner: fake(0.1, 'a'), weight: 90 }, { name: 'b', runner: fake(0.2, 'b'), weight: 10 }, { name: 'off', runner: fake(0.3, 'o'), weight: 0 }];
    const first = createAbRouter({ salt: 'exp-1', arms });
    const second = createAbRouter({ salt: 'exp-2', arms });
    const share = users.filter((u) => first.armFor(u).name === 'b').length / users.length;
    expect(Math.abs(share - 0.1)).toBeLessThan(0.01); // binomial sd ≈ 0.002
    expect(users.some((u) => first.armFor(u).name === 'off')).toBe(false);
    const inBoth = users.filter((u) => first.armFor(u).name === 'b' && second.armFor(u).name === 'b').length / users.length;
    expect(Math.abs(inBoth - 0.01)).toBeLessThan(0.005); // independent: 10% × 10%
  });

  it('scores with the user’s arm', async () => {
    const router = createAbRouter({ salt: 's', arms: [{ name: 'x', runner: fake(0.25, 'x'), weight: 1 }, { name: 'y', runner: fake(0.75, 'y'), weight: 1 }] });
    for (const user of users.slice(0, 20)) {
      const [p] = await router.predict(user, randomBatch(layout, 1));
      expect(p).toBe(router.armFor(user).name === 'x' ? 0.25 : 0.75);
    }
    expect(() => createAbRouter({ salt: '', arms: [{ name: 'x', runner: fake(0.1, 'x'), weight: 1 }] })).toThrow(/non-empty salt/);
    expect(() => createAbRouter({ salt: 's', arms: [{ name: 'x', runner: fake(0.1, 'x'), weight: 1 }, { name: 'x', runner: fake(0.1, 'x'), weight: 1 }] })).toThrow(/appears twice/);
  });
});

describe('fallback runner', () => {
  it('answers from the fallback when the primary throws', async () => {
    const reasons: string[] = [];
    const runner = createFallbackRunner({ primary: fake(0.9, 'p', layout.fingerprint, new Error('gpu lost')), fallback: fake(0.1, 'f'), onFallback: (reason) => reasons.push(reason) });
    expect(Array.from(await runner.predict(randomBatch(layout, 2)))).toEqual([0.1, 0.1].map(Math.fround));
    expect(reasons).toEqual(['error']);
    expect(runner.stats()).toEqual({ calls: 1, primary: 0, errors: 1, timeouts: 0 });
    expect(runner.info.version).toBe('p');
  });

  it('answers from the fallback when the primary misses its deadline, and the late answer never lands in out', async () => {
    const scheduler = createManualScheduler();
    const primary = fake(0.9, 'p');
    primary.gated = true;
    const runner = createFallbackRunner({ primary, fallback: fake(0.1, 'f'), deadlineMs: 5, scheduler });
    const out = new Float32Array(3);
    const pending = runner.predict(randomBatch(layout, 3), out);
    await scheduler.advance(4);
    await scheduler.advance(1);
    expect(await pending).toBe(out);
    expect(Array.from(out)).toEqual([0.1, 0.1, 0.1].map(Math.fround));
    primary.release();
    await scheduler.advance(0);
    expect(Array.from(out)).toEqual([0.1, 0.1, 0.1].map(Math.fround));
    expect(runner.stats().timeouts).toBe(1);
    primary.gated = false;
    expect(Array.from(await runner.predict(randomBatch(layout, 1)))).toEqual([Math.fround(0.9)]);
    expect(runner.stats()).toEqual({ calls: 2, primary: 1, errors: 0, timeouts: 1 });
  });

  it('does not retry bad input, and reports both failures when the fallback fails too', async () => {
    const nativePrimary = createNativeRunner({ layout, weights: initLrWeights(layout) });
    const fallback = fake(0.1, 'f');
    const runner = createFallbackRunner({ primary: nativePrimary, fallback });
    const batch = randomBatch(layout, 1);
    const bad = { ...batch, values: batch.values.map(() => Number.NaN) };
    expect((await ctrkitRejectionOf(runner.predict(bad))).code).toBe('E_INPUT');
    expect(fallback.calls).toBe(0);
    const both = createFallbackRunner({ primary: fake(0.5, 'p', layout.fingerprint, new Error('primary down')), fallback: fake(0.5, 'f', layout.fingerprint, new Error('fallback down')) });
    const error = await ctrkitRejectionOf(both.predict(batch));
    expect(error.code).toBe('E_INFERENCE');
    expect(error.message).toMatch(/primary failed \(primary down\) and the fallback failed too: fallback down/);
    expect(() => createFallbackRunner({ primary: fake(0.1, 'p'), fallback: fake(0.1, 'f', 'other') })).toThrow(/different feature specs/);
  });
});

describe('hot swap', () => {
  it('lets calls in flight finish on the old version, sends new calls to the new one, then disposes the old', async () => {
    const v1 = fake(0.1, 'v1');
    const v2 = fake(0.2, 'v2');
    const hot = createHotSwapRunner(v1);
    const batch = randomBatch(layout, 2);
    v1.gated = true;
    const inFlight = hot.predict(batch);
    const result = await hot.swap(v2, { warmup: batch });
    expect(result).toMatchObject({ previous: { version: 'v1' }, current: { version: 'v2' } });
    expect(hot.info.version).toBe('v2');
    expect(Array.from(await hot.predict(batch))).toEqual([0.2, 0.2].map(Math.fround));
    expect(v1.disposed).toBe(false); // a call still runs on it
    v1.release();
    expect(Array.from(await inFlight)).toEqual([0.1, 0.1].map(Math.fround));
    await Promise.resolve();
    expect(v1.disposed).toBe(true);
    expect(v2.disposed).toBe(false);
  });

  it('keeps serving the old version when the new one fails to load, fails its warm-up, or reads another spec', async () => {
    const v1 = fake(0.1, 'v1');
    const hot = createHotSwapRunner(v1);
    const batch = randomBatch(layout, 1);
    await expect(hot.swap(async () => Promise.reject(new Error('disk full')))).rejects.toThrow(/disk full/);
    const broken = fake(0.5, 'broken', layout.fingerprint, new Error('bad weights'));
    const warmupError = await ctrkitRejectionOf(hot.swap(broken, { warmup: batch }));
    expect(warmupError.code).toBe('E_MODEL_LOAD');
    expect(warmupError.message).toMatch(/failed its warm-up batch, so the serving one stays: bad weights/);
    expect(broken.disposed).toBe(true);
    const foreign = fake(0.5, 'foreign', 'spec-new');
    expect((await ctrkitRejectionOf(hot.swap(foreign))).message).toMatch(/trained on feature spec spec-new but the serving one .* uses spec-rich/);
    expect(foreign.disposed).toBe(true);
    expect(hot.info.version).toBe('v1');
    expect(Array.from(await hot.predict(batch))).toEqual([Math.fround(0.1)]);
    expect(v1.disposed).toBe(false);
    expect((await ctrkitRejectionOf(hot.swap(v1))).message).toMatch(/already active/);
    expect(v1.disposed).toBe(false);
    await hot.swap(fake(0.4, 'new-spec', 'spec-new'), { allowFingerprintChange: true });
    expect(hot.info.fingerprint).toBe('spec-new');
  });

  it('runs swaps one at a time, in order, from loaders', async () => {
    const hot = createHotSwapRunner(fake(0.1, 'v1'));
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const load = (version: string) => async () => {
      started.push(version);
      await new Promise<void>((resolve) => gates.set(version, resolve));
      return fake(0.3, version);
    };
    const first = hot.swap(load('v2'));
    const second = hot.swap(load('v3'));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual(['v2']); // the second load waits for the first swap to finish
    gates.get('v2')!();
    const one = await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['v2', 'v3']);
    gates.get('v3')!();
    const two = await second;
    expect([one, two].map((r) => `${r.previous.version}→${r.current.version}`)).toEqual(['v1→v2', 'v2→v3']);
    expect(hot.info.version).toBe('v3');
  });

  it('hands the previous version back with keepPrevious, undisposed, so it can be swapped in again', async () => {
    const platt = createPlattCalibrator().fit([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 1, 0, 1, 1]);
    const v1 = fake(0.3, 'v1');
    const v2 = fake(0.2, 'v2');
    const hot = createHotSwapRunner({ runner: v1, calibrator: platt });
    const batch = randomBatch(layout, 1);
    const { retained } = await hot.swap(v2, { keepPrevious: true });
    await Promise.resolve();
    expect(retained?.runner).toBe(v1);
    expect(retained?.calibrator).toBe(platt);
    expect(v1.disposed).toBe(false);
    const back = await hot.swap(retained!);
    expect(back.retained).toBeUndefined();
    expect(hot.info.version).toBe('v1');
    const [p] = await hot.predictCalibrated(batch);
    expect(p).toBeCloseTo(platt.applyOne(Math.fround(0.3)), 6); // its own calibrator came back with it
    await Promise.resolve();
    expect(v2.disposed).toBe(true); // a swap without keepPrevious still disposes
  });

  it('calibrates with the calibrator of the version that scored', async () => {
    const platt = createPlattCalibrator().fit([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 1, 0, 1, 1]);
    const runner = fake(0.3, 'v1');
    const hot = createHotSwapRunner({ runner, calibrator: platt });
    const [p] = await hot.predictCalibrated(randomBatch(layout, 1));
    expect(p).toBeCloseTo(platt.applyOne(Math.fround(0.3)), 6);
    await hot.dispose();
    expect(runner.disposed).toBe(true);
    expect((await ctrkitRejectionOf(hot.predict(randomBatch(layout, 1)))).code).toBe('E_STATE');
  });
});
