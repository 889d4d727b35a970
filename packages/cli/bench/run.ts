/**
 * Training speed (issue 15): ctrkit's DCN-v2 trainer on `ctrkit train --model dcnv2`'s default
 * shape — 18 fields × embedding 8, 2^20 ids, 2 low-rank-32 cross layers, deep 128-64, batch 256,
 * Adam 1e-3 with lazy (sparse) Adam on the embedding rows — on 1 thread and on the machine's
 * cores, beside the PyTorch script of the same shape (shared/reference/torch_dcnv2_train_speed.py,
 * run when `/usr/bin/python3 -c 'import torch'` works) and beside the machine's FLOP ceiling;
 * then FM (`--model fm`'s defaults, FTRL + AdaGrad, online, one row at a time) and DeepFM (`--model
 * deepfm`'s defaults, on each thread count) on the same rows.
 *
 * Like the script, it times one pass over random ids with a 3 % logistic label after a warm-up of
 * 20 batches, so encoding, validation and start-up are outside the figure (on both sides). The
 * machine is shared: the cases alternate (ours on each thread count, then PyTorch) for ROUNDS
 * rounds, and each case's best round and median are shown, with the load average before and
 * after. Ratios compare best rounds of the same run.
 *
 * Run: npm run bench -w @ctrkit/cli -- [--rows N] [--rounds R] [--threads 1,2] [--torch-threads 1,2] [--no-torch]
 * (defaults: 50000 rows, 3 rounds, threads 1 and the machine's cores, PyTorch on 2 threads)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, type FeatureLayout } from '@ctrkit/core';
import { createDcnV2Trainer, createDeepFmTrainer, createFmTrainer, sliceRows, type LabeledRows } from '@ctrkit/models';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? (args[at + 1] as string) : fallback;
};
const ROWS = Number(option('rows', '50000'));
const ROUNDS = Number(option('rounds', '3'));
const THREADS = option('threads', `1,${availableParallelism()}`)
  .split(',')
  .map(Number)
  .filter((t, i, all) => all.indexOf(t) === i);
const TORCH_THREADS = option('torch-threads', '2').split(',').map(Number);
/** AVX2: 2 FMA units × 8 float32 lanes × 2 FLOP a cycle, 2 cores at ~2.45 GHz (float64: half). */
const PEAK_GFLOPS = Number(option('peak-gflops', '156'));
const PYTHON = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));
// shared/ lies beside the repository root.
const SCRIPT = [join(here, '../../../../shared/reference/torch_dcnv2_train_speed.py'), join(here, '../../../shared/reference/torch_dcnv2_train_speed.py')].find((p) => existsSync(p));

// The shape, as the script writes it.
const F = 18;
const D = 8;
const V = 1 << 20;
const RANK = 32;
const CROSS = 2;
const DEEP = [128, 64];
const BATCH = 256;

/** Multiply-adds of one row's forward pass; training costs ≈ 3× (forward, input and weight gradients). */
function forwardMacs(): number {
  const d0 = F * D;
  let macs = CROSS * 2 * d0 * RANK + d0 + (DEEP.at(-1) ?? 0);
  let width = d0;
  for (const w of DEEP) {
    macs += width * w;
    width = w;
  }
  return macs;
}
const FLOPS_PER_ROW = 3 * 2 * forwardMacs();

const layout: FeatureLayout = {
  fingerprint: 'bench-train-speed',
  idSpace: V,
  idWidth: F,
  fields: Array.from({ length: F }, (_, i) => ({ name: `C${i}`, kind: 'categorical' as const, offset: i, width: 1 })),
  denseWidth: 0,
  denseNames: [],
  sequences: [],
};

function randomRows(n: number, seed: string): LabeledRows {
  const random = createRandom(seed);
  const ids = new Int32Array(n * F);
  for (let i = 0; i < ids.length; i++) ids[i] = random.int(V);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) labels[i] = random.next() < 0.03 ? 1 : 0;
  const batch = { layout, rows: n, ids, values: new Float32Array(ids.length).fill(1), dense: new Float32Array(0), sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0) };
  return { batch, labels };
}

const rows = randomRows(ROWS, 'train');
const warmup = sliceRows(rows, 0, Math.min(ROWS, 20 * BATCH));

/** One timed pass of a fresh mini-batch trainer over `rows`, after one over the warm-up rows; rows/s. */
function timedPass(trainer: { trainEpoch(rows: typeof warmup): unknown; close(): void }): number {
  trainer.trainEpoch(warmup);
  const started = performance.now();
  trainer.trainEpoch(rows);
  const seconds = (performance.now() - started) / 1000;
  trainer.close();
  return ROWS / seconds;
}

/** One timed pass of a fresh DCN-v2 trainer on `threads` threads, after the warm-up; rows/s. */
function dcnv2RowsPerSecond(threads: number): number {
  return timedPass(createDcnV2Trainer(layout, { embeddingDim: D, crossLayers: CROSS, lowRank: RANK, deep: DEEP, batchSize: BATCH, learningRate: 1e-3, seed: 1, threads }));
}

/** One timed pass of a fresh DeepFM trainer (`--model deepfm` defaults: D 8, MLP 128-64, Adam 2e-3, frequency prior 10) on `threads` threads; rows/s. */
function deepfmRowsPerSecond(threads: number): number {
  return timedPass(createDeepFmTrainer(layout, { embeddingDim: D, deep: DEEP, batchSize: BATCH, learningRate: 2e-3, frequencyL2: 10, seed: 1, threads }));
}

/** One timed pass of a fresh FM trainer (`--model fm` defaults), chunks of 4096 rows as `fitModel` feeds it; rows/s. */
function fmRowsPerSecond(): number {
  const trainer = createFmTrainer(layout, { dim: 8, learningRate: 0.02, factorL2: 1e-3, factorPrior: 3, linear: { alpha: 0.05, beta: 1, l1: 1, l2: 1 }, seed: 1 });
  trainer.update(warmup.batch, warmup.labels);
  const started = performance.now();
  for (let start = 0; start < ROWS; start += 4096) {
    const part = sliceRows(rows, start, Math.min(ROWS, start + 4096));
    trainer.update(part.batch, part.labels);
  }
  return ROWS / ((performance.now() - started) / 1000);
}

function torchAvailable(): boolean {
  if (args.includes('--no-torch') || SCRIPT === undefined) return false;
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** One run of the PyTorch script; rows/s, or undefined when it failed. */
function torchRowsPerSecond(threads: number): number | undefined {
  const run = spawnSync(PYTHON, [SCRIPT as string, String(ROWS), String(threads)], { encoding: 'utf8', timeout: 600_000 });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return (JSON.parse(line) as { rows_per_s: number }).rows_per_s;
  } catch {
    console.log(`  PyTorch run failed (exit ${run.status}): ${run.stderr.trim().split('\n').at(-1) ?? ''}`);
    return undefined;
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const torch = torchAvailable();
console.log(`Training speed, DCN-v2 ${F} fields × D ${D}, 2^20 ids, ${CROSS} cross rank ${RANK}, deep ${DEEP.join('-')}, batch ${BATCH}; ${ROWS} rows a pass, ${ROUNDS} rounds`);
console.log(`${availableParallelism()} cores; load average ${load()} at the start`);
if (!torch) console.log(`PyTorch: skipped (${args.includes('--no-torch') ? '--no-torch' : SCRIPT === undefined ? 'torch_dcnv2_train_speed.py not found' : `${PYTHON} cannot import torch`})`);

const cases = new Map<string, number[]>();
const record = (name: string, value: number | undefined) => {
  if (value === undefined) return;
  const list = cases.get(name) ?? [];
  list.push(value);
  cases.set(name, list);
};
for (let round = 1; round <= ROUNDS; round++) {
  for (const threads of THREADS) record(`ctrkit DCN-v2, ${threads} thread${threads === 1 ? '' : 's'}`, dcnv2RowsPerSecond(threads));
  if (torch) for (const threads of TORCH_THREADS) record(`PyTorch DCN-v2, ${threads} thread${threads === 1 ? '' : 's'}`, torchRowsPerSecond(threads));
  record('ctrkit FM (dim 8, online), 1 thread', fmRowsPerSecond());
  for (const threads of THREADS) record(`ctrkit DeepFM, ${threads} thread${threads === 1 ? '' : 's'}`, deepfmRowsPerSecond(threads));
  console.log(`  round ${round}: ${[...cases].map(([name, v]) => `${name} ${(v.at(-1) as number).toFixed(0)}`).join('; ')}; load ${load()}`);
}

const best = (v: readonly number[]) => Math.max(...v);
const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
// The ratio is to PyTorch's best round on any thread count it ran with.
const torchRounds = [...cases].filter(([name]) => name.startsWith('PyTorch')).flatMap(([, v]) => v);
const torchBest = torchRounds.length === 0 ? undefined : torchRounds;
console.log(`\n${'case'.padEnd(40)} ${'best rows/s'.padStart(12)} ${'median'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'× PyTorch'.padStart(10)}`);
for (const [name, values] of cases) {
  const dcn = name.includes('DCN-v2');
  const gflops = dcn ? ((best(values) * FLOPS_PER_ROW) / 1e9).toFixed(2) : '';
  const ratio = dcn && torchBest !== undefined ? `${(best(values) / best(torchBest)).toFixed(2)}×` : '';
  console.log(`${name.padEnd(40)} ${best(values).toFixed(0).padStart(12)} ${median(values).toFixed(0).padStart(10)} ${gflops.padStart(8)} ${ratio.padStart(10)}`);
}
console.log(
  `\nDCN-v2: ${(FLOPS_PER_ROW / 1000).toFixed(0)} kFLOP a training row (3 × ${(forwardMacs() / 1000).toFixed(1)}k forward multiply-adds); ceiling ${PEAK_GFLOPS} GFLOP/s (AVX2 FMA float32, all cores; float64, as ctrkit computes, is half) = ${((PEAK_GFLOPS * 1e9) / FLOPS_PER_ROW / 1000).toFixed(0)}k rows/s`,
);
console.log(`load average ${load()} at the end`);
