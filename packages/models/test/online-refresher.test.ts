import {
  createManualClock,
  isCtrkitError,
  servedRowOf,
  type FeatureBatch,
  type FeatureLayout,
  type JoinedRow,
  type ModelRunner,
  type OnlineTrainer,
} from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import {
  createFtrlTrainer,
  createHotSwapRunner,
  createOnlineRefresher,
  sliceRows,
  type LabeledRows,
  type OnlineRefresherOptions,
  type RefreshDecision,
} from '../src/index.js';
import { wideLayout } from './fixtures/layouts.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** 3 fields × 16 values, a known logistic truth with an interaction; one dense column that tags each row by its index. */
const layout: FeatureLayout = wideLayout(3, 1, 97, 0, 'spec-refresh');

function rowsOf(n: number, seed: string): LabeledRows {
  const { rows } = syntheticRows(layout, n, { seed, cardinality: 16, intercept: -1 });
  // The tag is tiny (1e-7 per row): it names a row in what a trainer saw without moving its weights measurably.
  const dense = rows.batch.dense as Float32Array;
  for (let r = 0; r < n; r++) dense[r] = r * 1e-7;
  return rows;
}

interface Spy extends ModelRunner {
  disposed: boolean;
  calls: number;
}

/** A runner predicting `p` for every row (or failing), that records being disposed. */
function constant(p: number, version: string, fail?: Error): Spy {
  const runner: Spy = {
    info: { architecture: 'const', version, backend: 'test', provider: 'js', fingerprint: layout.fingerprint },
    disposed: false,
    calls: 0,
    async predict(batch: FeatureBatch, out?: Float32Array) {
      runner.calls++;
      if (runner.disposed) throw new Error(`${version} used after dispose`);
      if (fail) throw fail;
      return (out ?? new Float32Array(batch.rows)).fill(p);
    },
    async dispose() {
      runner.disposed = true;
    },
  };
  return runner;
}

/** An online trainer that learns nothing and predicts `p`; snapshots are `constant(p)`. Records the row tags it was asked to learn. */
function constantTrainer(p: number): OnlineTrainer & { learned: number[]; snapshots: Spy[] } {
  const trainer = {
    layout,
    rowsSeen: 0,
    learned: [] as number[],
    snapshots: [] as Spy[],
    update(batch: FeatureBatch, _labels: ArrayLike<number>, out?: Float32Array) {
      for (let r = 0; r < batch.rows; r++) trainer.learned.push(Math.round((batch.dense[r] as number) / 1e-7));
      trainer.rowsSeen += batch.rows;
      return (out ?? new Float32Array(batch.rows)).fill(p);
    },
    predict: (batch: FeatureBatch, out?: Float32Array) => (out ?? new Float32Array(batch.rows)).fill(p),
    snapshot(version: string) {
      const s = constant(p, version);
      trainer.snapshots.push(s);
      return s;
    },
  };
  return trainer;
}

/** Wraps a trainer so it learns every label flipped: its snapshots get worse with every row. */
function flipped(inner: OnlineTrainer): OnlineTrainer {
  return {
    layout: inner.layout,
    get rowsSeen() {
      return inner.rowsSeen;
    },
    update: (batch, labels, out) => inner.update(batch, Float32Array.from({ length: batch.rows }, (_, r) => 1 - (labels[r] as number)), out),
    predict: (batch, out) => inner.predict(batch, out),
    snapshot: (version) => inner.snapshot(version),
  };
}

const hand = (labels: ArrayLike<number>, p: number): number => {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  return sum / labels.length;
};

function setup(overrides: Partial<OnlineRefresherOptions> & { serving?: ModelRunner } = {}) {
  const clock = createManualClock(1_000_000);
  const serving = overrides.serving ?? constant(0.5, 'serving-0');
  const target = createHotSwapRunner(serving);
  const lines: string[] = [];
  const decisions: RefreshDecision[] = [];
  const trainer = overrides.trainer ?? createFtrlTrainer(layout, { alpha: 0.2, l1: 0.1, l2: 0.1 });
  const refresher = createOnlineRefresher({
    everyRows: 2_000,
    everyMs: Infinity,
    holdoutRows: 1_000,
    guard: { minRows: 500, minPositives: 20 },
    clock,
    log: (line) => lines.push(line),
    onDecision: (d) => decisions.push(d),
    ...overrides,
    trainer,
    target,
  });
  return { clock, serving, target, trainer, refresher, lines, decisions };
}

async function codeOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return isCtrkitError(error) ? error.code : error;
  }
  return 'no error';
}

describe('online refresher', () => {
  it('swaps in the candidate when it beats the serving model on the window, and logs one line with both log losses', async () => {
    const serving = constant(0.5, 'serving-0');
    const { refresher, target, lines, decisions } = setup({ serving });
    const rows = rowsOf(3_000, 'improves');
    expect(refresher.add(sliceRows(rows, 0, 2_999))).toBeUndefined(); // 1,999 learned: one short of everyRows
    const decision = await refresher.add(sliceRows(rows, 2_999, 3_000))!;
    expect(decision).toMatchObject({ swapped: true, reason: 'not-worse', trigger: 'rows', candidateVersion: 'online-1', servingVersion: 'serving-0', rows: 1_000, rowsLearned: 2_000 });
    // The serving model predicts 0.5 everywhere: its log loss is ln 2 exactly, by hand.
    expect(decision.serving!.logLoss).toBeCloseTo(Math.log(2), 6);
    expect(decision.candidate!.logLoss).toBeLessThan(decision.serving!.logLoss - 0.05);
    expect(decision.candidate!.auc).toBeGreaterThan(0.6);
    expect(target.info.version).toBe('online-1');
    expect(serving.disposed).toBe(false); // kept for rollback
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/swapped serving-0 → online-1: log loss 0\.\d{5} vs 0\.69315, AUC .* on 1000 window rows \(\d+ clicks\), 2000 rows learned, trigger rows/);
    expect(decisions).toEqual([decision]);
    expect(refresher.stats()).toMatchObject({ rowsAdded: 3_000, rowsLearned: 2_000, windowRows: 1_000, decisions: 1, swaps: 1, refusals: 0, servingVersion: 'online-1', previousVersion: 'serving-0' });
    // The swapped-in snapshot serves exactly what the candidate scored.
    const window = sliceRows(rows, 2_000, 3_000);
    const served = await target.predictCalibrated(window.batch);
    expect(hand(window.labels, 0.5)).toBeCloseTo(decision.serving!.logLoss, 6);
    let ll = 0;
    for (let r = 0; r < 1_000; r++) ll -= window.labels[r] === 1 ? Math.log(served[r]!) : Math.log(1 - served[r]!);
    expect(ll / 1_000).toBeCloseTo(decision.candidate!.logLoss, 5);
  });

  it('refuses a candidate that is worse (a trainer fed flipped labels), keeps the serving model and disposes the candidate', async () => {
    // The serving model is an honest FTRL trained on other rows of the same world.
    const honest = createFtrlTrainer(layout, { alpha: 0.2, l1: 0.1, l2: 0.1 });
    const history = rowsOf(3_000, 'history');
    honest.update(history.batch, history.labels);
    const serving = honest.snapshot('honest-1');
    const inner = createFtrlTrainer(layout, { alpha: 0.2, l1: 0.1, l2: 0.1 });
    const { refresher, target, lines } = setup({ serving, trainer: flipped(inner) });
    const decision = await refresher.add(rowsOf(3_000, 'flipped'))!;
    expect(decision).toMatchObject({ swapped: false, reason: 'worse', candidateVersion: 'online-1', servingVersion: 'honest-1' });
    expect(decision.candidate!.logLoss).toBeGreaterThan(decision.serving!.logLoss);
    expect(decision.candidate!.auc).toBeLessThan(0.5);
    expect(target.info.version).toBe('honest-1');
    expect(lines[0]).toMatch(/refused online-1 over honest-1: worse, log loss .* \(guard: ≤ 0\.\d{5}\)/);
    expect(refresher.stats()).toMatchObject({ swaps: 0, refusals: 1, refusalsByReason: { worse: 1 }, servingVersion: 'honest-1', previousVersion: undefined });
    expect(await codeOf(() => refresher.rollback())).toBe('E_STATE'); // nothing was swapped
  });

  it('applies the relative tolerance exactly: a candidate worse by less than it swaps, by more it does not', async () => {
    // Constant models: the window's log losses are known in closed form.
    const rows = rowsOf(1_600, 'tolerance');
    const window = sliceRows(rows, 600, 1_600).labels;
    const ratio = hand(window, 0.3) / hand(window, 0.25);
    expect(ratio).toBeGreaterThan(1); // the candidate (0.3) is worse than the serving model (0.25) on this window
    const tight = setup({ serving: constant(0.25, 's'), trainer: constantTrainer(0.3), everyRows: 600, guard: { minRows: 500, minPositives: 20, relativeTolerance: (ratio - 1) * 0.99 } });
    const refused = await tight.refresher.add(rows)!;
    expect(refused.reason).toBe('worse');
    expect(refused.serving!.logLoss).toBeCloseTo(hand(window, 0.25), 6);
    expect(refused.candidate!.logLoss).toBeCloseTo(hand(window, 0.3), 6);
    const loose = setup({ serving: constant(0.25, 's'), trainer: constantTrainer(0.3), everyRows: 600, guard: { minRows: 500, minPositives: 20, relativeTolerance: (ratio - 1) * 1.01 } });
    expect((await loose.refresher.add(rows)!).reason).toBe('not-worse');
  });

  it('rolls back to the version it kept, once, and disposes versions two swaps old', async () => {
    const trainer = constantTrainer(0.2);
    const serving = constant(0.5, 'serving-0');
    const { refresher, target, lines } = setup({ serving, trainer, everyRows: 500 });
    const rows = rowsOf(2_500, 'rollback');
    expect((await refresher.add(sliceRows(rows, 0, 1_500))!).candidateVersion).toBe('online-1');
    expect((await refresher.add(sliceRows(rows, 1_500, 2_000))!).candidateVersion).toBe('online-2');
    expect(target.info.version).toBe('online-2');
    const [first, second] = trainer.snapshots;
    expect(serving.disposed).toBe(true); // two swaps old
    expect(first!.disposed).toBe(false); // kept for rollback
    const result = await refresher.rollback();
    expect(result).toMatchObject({ previous: { version: 'online-2' }, current: { version: 'online-1' } });
    expect(target.info.version).toBe('online-1');
    await Promise.resolve();
    expect(second!.disposed).toBe(true); // the version rolled away from is freed
    expect(first!.disposed).toBe(false);
    expect(Array.from(await target.predict(sliceRows(rows, 0, 2).batch))).toEqual([0.2, 0.2].map(Math.fround));
    expect(lines.at(-1)).toBe('online refresh: rolled back online-2 → online-1');
    expect(refresher.stats()).toMatchObject({ rollbacks: 1, swaps: 2, servingVersion: 'online-1', previousVersion: undefined });
    expect(await codeOf(() => refresher.rollback())).toBe('E_STATE');
  });

  it('refreshes by time, by the injected clock, checked when rows are added', async () => {
    const { refresher, clock } = setup({ everyRows: Infinity, everyMs: 60_000, trainer: constantTrainer(0.2) });
    const rows = rowsOf(1_300, 'time');
    expect(refresher.add(sliceRows(rows, 0, 1_100))).toBeUndefined();
    clock.advance(59_999);
    expect(refresher.add(sliceRows(rows, 1_100, 1_200))).toBeUndefined();
    clock.advance(1);
    const decision = await refresher.add(sliceRows(rows, 1_200, 1_300))!;
    expect(decision).toMatchObject({ trigger: 'time', rowsLearned: 300, at: 1_060_000 });
    clock.advance(59_999);
    expect(refresher.add(sliceRows(rowsOf(10, 'more'), 0, 10))).toBeUndefined(); // the clock restarts at each decision
  });

  it('learns a row only once it leaves the hold-out window: the rows a decision is judged on were never learned', async () => {
    const trainer = constantTrainer(0.2);
    const { refresher } = setup({ trainer, everyRows: 700 });
    const rows = rowsOf(1_700, 'holdout');
    expect(refresher.add(sliceRows(rows, 0, 1_000))).toBeUndefined();
    expect(trainer.rowsSeen).toBe(0); // the window is just full
    const decision = await refresher.add(sliceRows(rows, 1_000, 1_700))!;
    expect(decision.rows).toBe(1_000);
    // Learned: exactly rows 0…699, in order; the window (rows 700…1699) is untouched by the trainer.
    expect(trainer.learned).toEqual(Array.from({ length: 700 }, (_, r) => r));
    expect(trainer.rowsSeen).toBe(700);
    // A batch larger than the window: its oldest rows pass straight through to the trainer, in order, after the window's.
    const big = rowsOf(2_500, 'big');
    refresher.add(big);
    expect(trainer.learned.slice(700, 1_700)).toEqual(Array.from({ length: 1_000 }, (_, r) => 700 + r));
    expect(trainer.learned.slice(1_700)).toEqual(Array.from({ length: 1_500 }, (_, r) => r));
    expect(refresher.stats()).toMatchObject({ rowsAdded: 4_200, rowsLearned: 3_200, windowRows: 1_000 });
  });

  it('takes joined rows from the label joiner', async () => {
    const trainer = constantTrainer(0.2);
    const { refresher } = setup({ trainer, holdoutRows: 500, guard: { minRows: 500, minPositives: 0 } });
    const rows = rowsOf(600, 'joined');
    const joined: JoinedRow[] = Array.from({ length: 600 }, (_, r) => ({
      row: servedRowOf(rows.batch, r, { eventId: `imp-${r}`, requestId: `r-${r}`, impId: '1', adId: 'a', position: 0, pCtr: 0.2, servedAt: r, modelVersion: 'serving-0' }),
      label: rows.labels[r] === 1 ? 1 : 0,
      labeledAt: 10_000 + r,
    }));
    refresher.add(joined);
    expect(trainer.learned).toEqual(Array.from({ length: 100 }, (_, r) => r));
    expect((await refresher.refresh()).trigger).toBe('forced');
  });

  it('refuses to judge on too few rows or too few clicks, and says why', async () => {
    const { refresher, lines, target } = setup({ trainer: constantTrainer(0.2) });
    refresher.add(sliceRows(rowsOf(300, 'few'), 0, 300));
    const few = await refresher.refresh();
    expect(few).toMatchObject({ swapped: false, reason: 'too-few-rows', rows: 300, candidateVersion: undefined });
    expect(lines[0]).toMatch(/the window holds 300 rows, the guard wants 500/);
    const negatives = rowsOf(1_000, 'no-clicks'); // fills the whole window
    (negatives.labels as Float32Array).fill(0);
    refresher.add(negatives);
    const noClicks = await refresher.refresh();
    expect(noClicks).toMatchObject({ reason: 'too-few-positives', positives: 0 });
    expect(lines[1]).toMatch(/the window holds 0 clicks, the guard wants 20/);
    expect(refresher.stats()).toMatchObject({ refusals: 2, refusalsByReason: { 'too-few-rows': 1, 'too-few-positives': 1 } });
    expect(target.info.version).toBe('serving-0');
  });

  it('turns a serving model that fails into a refusal, never a rejection', async () => {
    const broken = constant(0.5, 'broken', new Error('session lost'));
    const trainer = constantTrainer(0.2);
    const { refresher, target, lines } = setup({ serving: broken, trainer });
    const decision = await refresher.add(rowsOf(3_000, 'broken'))!;
    expect(decision).toMatchObject({ swapped: false, reason: 'failed', servingVersion: 'broken' });
    expect(lines[0]).toMatch(/refused online-1: E_INFERENCE .*session lost; broken keeps serving/);
    expect(trainer.snapshots[0]!.disposed).toBe(true);
    expect(target.info.version).toBe('broken');
  });

  it('rejects bad rows before keeping or learning any of them', async () => {
    const { refresher } = setup({ trainer: constantTrainer(0.2) });
    const rows = rowsOf(10, 'bad');
    const labels = Float32Array.from(rows.labels);
    labels[7] = 2;
    expect(await codeOf(() => refresher.add({ batch: rows.batch, labels }))).toBe('E_INPUT');
    const ids = Int32Array.from(rows.batch.ids);
    ids[4] = layout.idSpace;
    expect(await codeOf(() => refresher.add({ batch: { ...rows.batch, ids }, labels: rows.labels }))).toBe('E_INPUT');
    const other = { ...rows.batch, layout: { ...layout, fingerprint: 'spec-other' } };
    expect(await codeOf(() => refresher.add({ batch: other, labels: rows.labels }))).toBe('E_INPUT');
    expect(refresher.stats()).toMatchObject({ rowsAdded: 0, windowRows: 0 });
  });

  it('checks its options once, with a message that says how to mend them', () => {
    const base = () => ({ trainer: constantTrainer(0.2) as OnlineTrainer, target: createHotSwapRunner(constant(0.5, 's')) });
    const cases: [Partial<OnlineRefresherOptions>, RegExp][] = [
      [{ everyRows: 0 }, /everyRows must be an integer ≥ 1 or Infinity/],
      [{ everyMs: -5 }, /everyMs must be a positive number of ms or Infinity/],
      [{ everyRows: Infinity, everyMs: Infinity }, /would never refresh by itself/],
      [{ holdoutRows: 100, guard: { minRows: 500 } }, /holdoutRows \(100\) must be at least guard\.minRows \(500\)/],
      [{ guard: { relativeTolerance: -0.1 } }, /relativeTolerance must be a number in \[0, 1\)/],
      [{ guard: { minRows: 10, minPositives: 20 } }, /minPositives \(20\) exceeds guard\.minRows \(10\)/],
      [{ target: createHotSwapRunner({ ...constant(0.5, 'x'), info: { ...constant(0.5, 'x').info, fingerprint: 'spec-other' } }) }, /learns feature spec spec-refresh but the target serves spec-other/],
      [{ target: constant(0.5, 'plain') as never }, /target must be a HotSwapRunner/],
    ];
    for (const [patch, message] of cases) {
      let error: unknown;
      try {
        createOnlineRefresher({ ...base(), ...patch });
      } catch (e) {
        error = e;
      }
      expect(isCtrkitError(error) && error.code, String(message)).toBe('E_CONFIG');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('is disposed once: it frees the kept version and refuses further work', async () => {
    const serving = constant(0.5, 'serving-0');
    const { refresher } = setup({ serving, trainer: constantTrainer(0.2) });
    await refresher.add(rowsOf(3_000, 'dispose'));
    expect(serving.disposed).toBe(false);
    await refresher.dispose();
    expect(serving.disposed).toBe(true);
    expect(await codeOf(() => refresher.add(rowsOf(1, 'after')))).toBe('E_STATE');
    expect(await codeOf(() => refresher.refresh())).toBe('E_STATE');
  });
});
