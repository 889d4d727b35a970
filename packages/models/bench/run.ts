/**
 * Model benchmarks: per-call p50/p99 and rows/s at batch 1, 16, 128 and 1024 for LR, DCN-v2
 * (39 fields × 16 dims, 3 full-rank cross layers, deep 256-128) and DIN (sequence length 50),
 * each beside a bare onnxruntime-node `session.run` on the same tensors in the same run; then the
 * micro-batcher's throughput under 64 concurrent single-row callers.
 *
 * The machine is shared, and other processes only ever slow a case down: each case is measured
 * in ROUNDS short rounds, interleaved with the others (bare, runner, bare, runner, …), and the
 * table shows each case's best round (highest throughput), as `timeit` takes the minimum.
 * Ratios compare best rounds from the same run.
 *
 * Run: npm run bench -w @ctrkit/models   (BENCH_MS=… sets the time per case, default 2100 ms)
 */
import * as ort from 'onnxruntime-node';
import { createLatencyHistogram, createRandom, systemClock, type FeatureBatch, type FeatureLayout, type ModelRunner } from '@ctrkit/core';
import { formatBenchTable, measureAsync, type BenchResult } from '@ctrkit/core/bench';
import {
  buildModel,
  createBackendRegistry,
  createManifest,
  createMicroBatcher,
  createNativeBackend,
  initDcnV2Weights,
  initDinWeights,
  initLrWeights,
  loadModelFromBytes,
  type ModelWeights,
} from '@ctrkit/models';
import { createOnnxNodeBackend } from '@ctrkit/models/node';

const MS = Number(process.env.BENCH_MS ?? 2100);
const ROUNDS = 7;
const ID_SPACE = 1 << 20;
const FIELDS = 39;
const SEQUENCE_LENGTH = 50;
const BATCHES = [1, 16, 128, 1024];

function layoutOf(name: string, sequenceLength: number): FeatureLayout {
  return {
    fingerprint: `bench-${name}`,
    idSpace: ID_SPACE,
    idWidth: FIELDS,
    fields: Array.from({ length: FIELDS }, (_, i) => ({ name: `C${i}`, kind: 'categorical' as const, offset: i, width: 1 })),
    denseWidth: 0,
    denseNames: [],
    sequences: sequenceLength > 0 ? [{ name: 'history', maxLength: sequenceLength, sharesIdsWith: 'C0' }] : [],
  };
}

function batchOf(layout: FeatureLayout, rows: number, seed: string): FeatureBatch {
  const random = createRandom(seed);
  const L = layout.sequences[0]?.maxLength ?? 0;
  const S = layout.sequences.length;
  const ids = new Int32Array(rows * layout.idWidth);
  for (let i = 0; i < ids.length; i++) ids[i] = random.int(layout.idSpace);
  const sequenceIds = new Int32Array(rows * S * L);
  const sequenceLengths = new Int32Array(rows * S);
  for (let r = 0; r < rows * S; r++) {
    const length = random.next() < 0.3 ? L : random.int(L + 1);
    sequenceLengths[r] = length;
    for (let t = L - length; t < L; t++) sequenceIds[r * L + t] = random.int(layout.idSpace);
  }
  return { layout, rows, ids, values: new Float32Array(ids.length).fill(1), dense: new Float32Array(0), sequenceIds, sequenceLengths };
}

interface Subject {
  readonly name: string;
  readonly layout: FeatureLayout;
  readonly weights: ModelWeights;
}

const lrLayout = layoutOf('lr', 0);
const dcnLayout = layoutOf('dcnv2', 0);
const dinLayout = layoutOf('din', SEQUENCE_LENGTH);
const subjects: Subject[] = [
  { name: 'LR', layout: lrLayout, weights: initLrWeights(lrLayout, { seed: 1 }) },
  { name: 'DCN-v2', layout: dcnLayout, weights: initDcnV2Weights(dcnLayout, { seed: 2, embeddingDim: 16, crossLayers: 3, deep: [256, 128] }) },
  { name: 'DIN', layout: dinLayout, weights: initDinWeights(dinLayout, { seed: 3, embeddingDim: 16, attention: [36], deep: [200, 80] }) },
];

const registry = createBackendRegistry();
registry.register(createOnnxNodeBackend({ providers: ['cpu'] }), 100);
registry.register(createNativeBackend(), 10);
const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const, executionProviders: ['cpu'] };

function feedsOf(batch: FeatureBatch, inputNames: readonly string[]): Record<string, ort.Tensor> {
  const { layout, rows } = batch;
  const all: Record<string, ort.Tensor> = {
    ids: new ort.Tensor('int32', batch.ids, [rows, layout.idWidth]),
    values: new ort.Tensor('float32', batch.values, [rows, layout.idWidth]),
    sequence_ids: new ort.Tensor('int32', batch.sequenceIds, [rows, layout.sequences.length, layout.sequences[0]?.maxLength ?? 0]),
    sequence_lengths: new ort.Tensor('int32', batch.sequenceLengths, [rows, layout.sequences.length]),
  };
  return Object.fromEntries(inputNames.map((name) => [name, all[name] as ort.Tensor]));
}

/** Measures the cases in ROUNDS interleaved rounds; returns each case's best round by throughput. */
async function interleaved(cases: readonly [string, () => Promise<unknown>][], rows: number): Promise<BenchResult[]> {
  const rounds: BenchResult[][] = cases.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [name, fn]] of cases.entries()) {
      rounds[i]!.push(await measureAsync(name, fn, { warmupMs: 50, minTimeMs: MS / ROUNDS, rowsPerCall: rows }));
    }
  }
  return rounds.map((results) => [...results].sort((a, b) => b.opsPerSecond - a.opsPerSecond)[0] as BenchResult);
}

const summary: string[] = [];
const loaded = new Map<string, ModelRunner>();

for (const subject of subjects) {
  const started = systemClock.now();
  const bytes = buildModel(subject.layout, subject.weights);
  const manifest = createManifest(subject.layout, subject.weights, { version: 'bench' });
  const { runner } = await loadModelFromBytes({ model: bytes, manifest }, { expect: subject.layout, registry, backends: ['onnx-node:cpu'] });
  loaded.set(subject.name, runner);
  // The same model without the per-call scan of every id and value: shows what the scan costs.
  const unchecked = (await loadModelFromBytes({ model: bytes, manifest }, { expect: subject.layout, registry, backends: ['onnx-node:cpu'], checkValues: false })).runner;
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  const native = subject.weights.kind === 'lr' ? (await loadModelFromBytes({ model: bytes, manifest }, { expect: subject.layout, registry, backends: ['native'] })).runner : undefined;
  console.log(`\n${subject.name}: ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB model, built and loaded in ${(systemClock.now() - started).toFixed(0)} ms`);
  for (const rows of BATCHES) {
    const batch = batchOf(subject.layout, rows, `${subject.name}-${rows}`);
    const feeds = feedsOf(batch, session.inputNames);
    const out = new Float32Array(rows);
    const cases: [string, () => Promise<unknown>][] = [
      ['bare session.run(feeds)', () => session.run(feeds)],
      ["bare session.run(feeds, ['probability'])", () => session.run(feeds, ['probability'])],
      ['runner.predict(batch, out)', () => runner.predict(batch, out)],
      ['runner, checkValues: false', () => unchecked.predict(batch, out)],
    ];
    if (native !== undefined) cases.push(['native runner.predict(batch, out)', () => native.predict(batch, out)]);
    const results = await interleaved(cases, rows);
    console.log(formatBenchTable(`${subject.name}, batch ${rows}`, results, 'bare session.run(feeds)'));
    const bare = results[0] as BenchResult;
    const ours = results[2] as BenchResult;
    if (rows === 1) {
      summary.push(
        `${subject.name} batch 1: runner adds ${((ours.p50Ms - bare.p50Ms) * 1000).toFixed(1)} µs at p50 (${(bare.p50Ms * 1000).toFixed(1)} → ${(ours.p50Ms * 1000).toFixed(1)} µs), ${((ours.meanMs - bare.meanMs) * 1000).toFixed(1)} µs on the mean (target ≤ 20 µs)`,
      );
    }
    if (rows === 128) {
      const lean = results[3] as BenchResult;
      summary.push(
        `${subject.name} batch 128: runner throughput ${(ours.rowsPerSecond / bare.rowsPerSecond).toFixed(3)}× bare session.run, ${(lean.rowsPerSecond / bare.rowsPerSecond).toFixed(3)}× with checkValues: false (target ≥ 0.9×)`,
      );
    }
  }
  await session.release();
  await native?.dispose();
  await unchecked.dispose();
}

/** 64 callers, each awaiting one single-row prediction after another, for `MS` ms. */
async function callers(name: string, predict: (batch: FeatureBatch, out: Float32Array) => Promise<Float32Array>, rowsOf: readonly FeatureBatch[]): Promise<string> {
  const histogram = createLatencyHistogram();
  let calls = 0;
  const end = systemClock.now() + MS * 2;
  const started = systemClock.now();
  await Promise.all(
    rowsOf.map(async (row) => {
      const out = new Float32Array(1);
      while (systemClock.now() < end) {
        const t0 = systemClock.now();
        await predict(row, out);
        histogram.record(systemClock.now() - t0);
        calls++;
      }
    }),
  );
  const seconds = (systemClock.now() - started) / 1000;
  return `${name.padEnd(46)} ${(calls / seconds).toFixed(0).padStart(8)} rows/s   p50 ${histogram.percentile(0.5).toFixed(3)} ms   p99 ${histogram.percentile(0.99).toFixed(3)} ms`;
}

const dcn = loaded.get('DCN-v2') as ModelRunner;
const single = Array.from({ length: 64 }, (_, i) => batchOf(dcnLayout, 1, `caller-${i}`));
console.log('\n## DCN-v2, 64 concurrent single-row callers');
console.log(await callers('no batcher (each call a batch of 1)', (batch, out) => dcn.predict(batch, out), single));
for (const options of [
  { maxBatchRows: 64, maxWaitMs: 0 },
  { maxBatchRows: 64, maxWaitMs: 1 },
]) {
  const batcher = createMicroBatcher(dcn, { ...options, maxQueueRows: 4096 });
  const line = await callers(`micro-batcher (max ${options.maxBatchRows} rows, wait ${options.maxWaitMs} ms)`, (batch, out) => batcher.predict(batch, out), single);
  const stats = batcher.stats();
  console.log(`${line}   mean batch ${(stats.rows / stats.batches).toFixed(1)} rows`);
}

console.log('\n## Summary');
for (const line of summary) console.log(line);
for (const runner of loaded.values()) await runner.dispose();
