/**
 * Trains the demo's model with ctrkit itself and writes `model.onnx` + `model.json` where the
 * page serves them (`public/model/`, git-ignored). Synthetic impressions from the demo's world
 * (fixed seed), encoded with the demo's spec; a factorization machine by default — it learns the
 * user × ad interactions the profile controls move (interests × category, age × category,
 * device × format) in seconds — or `--model lr` (FTRL) or `--model dcnv2` (mini-batch Adam,
 * slower). The last 20% of the rows are held out for early stopping and the calibrator.
 *
 *   npm run model -w @ctrkit/example-browser-demo [-- --model fm|lr|dcnv2 --rows 200000 --out dir]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { allocateBatch, createFeatureEncoder } from '@ctrkit/features';
import { createRowCollector, exportModel, fitModel, sliceRows, type TrainableArchitecture } from '@ctrkit/models';
import { saveModel } from '@ctrkit/models/node';
import { SIM_OPTIONS, SPEC } from '../src/scenario.js';

/** Where the page serves the model from. */
export const MODEL_DIR = fileURLToPath(new URL('../public/model/', import.meta.url));

/** Options of {@link makeModel}. */
export interface MakeModelOptions {
  /** Architecture (default `fm`). */
  readonly model?: TrainableArchitecture;
  /** Impressions to generate; the last 20% are held out (default 200,000). */
  readonly rows?: number;
  /** Output directory (default `public/model/`). */
  readonly out?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** What {@link makeModel} wrote. */
export interface MadeModel {
  /** The directory holding `model.onnx` and `model.json`. */
  readonly dir: string;
  /** The manifest's version. */
  readonly version: string;
  /** Whether the model was already there (same version) and left alone. */
  readonly reused: boolean;
}

/**
 * Trains and writes the model, unless the directory already holds one of the same version (the
 * version names the architecture, row count and spec fingerprint, so a changed spec retrains).
 *
 * @param options - Architecture, rows, output directory.
 * @returns Where it is and whether it was reused.
 */
export async function makeModel(options: MakeModelOptions = {}): Promise<MadeModel> {
  const { model = 'fm', rows = 200_000, out = MODEL_DIR, log = () => {} } = options;
  const encoder = createFeatureEncoder(SPEC);
  const version = `demo-${model}-${rows}-${encoder.layout.fingerprint}`;
  const manifestPath = path.join(out, 'model.json');
  if (existsSync(manifestPath) && existsSync(path.join(out, 'model.onnx'))) {
    const existing = JSON.parse(await readFile(manifestPath, 'utf8')) as { version?: string };
    if (existing.version === version) return { dir: out, version, reused: true };
  }
  const started = performance.now();
  const generator = createTrafficGenerator(SIM_OPTIONS);
  const collector = createRowCollector(encoder.layout, rows);
  const one = allocateBatch(encoder.layout, 1);
  const label = new Float32Array(1);
  for (const impression of generator.impressions({ count: rows, stream: 'train' })) {
    label[0] = impression.clicked ? 1 : 0;
    collector.append(encoder.encode(impression.request, undefined, one), label);
  }
  const all = collector.toRows();
  const cut = Math.floor(rows * 0.8);
  const train = sliceRows(all, 0, cut);
  const valid = sliceRows(all, cut);
  log(`encoded ${rows.toLocaleString('en')} impressions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const result = fitModel({
    model,
    train,
    valid,
    seed: 1,
    patience: 1,
    ...(model === 'lr'
      ? { epochs: 3, lr: { alpha: 0.05, l1: 1, l2: 1 } }
      : model === 'fm'
        ? { epochs: 3, fm: { dim: 8 } }
        : { epochs: 3, dcnv2: { embeddingDim: 8, crossLayers: 2, deep: [32, 16], learningRate: 2e-3, embeddingLearningRate: 1e-3 } }),
    onEpoch: (e) => log(`epoch ${e.epoch}: train log loss ${e.trainLogLoss.toFixed(4)}, valid log loss ${e.validLogLoss?.toFixed(4)}, valid AUC ${e.validAuc?.toFixed(4)}`),
  });
  const exported = exportModel(encoder.layout, result, {
    version,
    description: `browser demo: ${model} on ${rows.toLocaleString('en')} synthetic impressions (seed ${String(SIM_OPTIONS.seed)})`,
    config: { spec: SPEC },
  });
  await saveModel(out, exported);
  log(`${model}: valid AUC ${result.metrics.validAuc?.toFixed(4)}, calibrator ${exported.manifest.calibration?.kind ?? 'none'}; wrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { dir: out, version, reused: false };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i] ?? '', process.argv[i + 1] ?? '');
  const model = args.get('--model') ?? 'fm';
  if (model !== 'lr' && model !== 'fm' && model !== 'dcnv2') throw new Error(`--model must be fm, lr or dcnv2, got ${model}`);
  const made = await makeModel({
    model,
    ...(args.has('--rows') ? { rows: Number(args.get('--rows')) } : {}),
    ...(args.has('--out') ? { out: path.resolve(args.get('--out') as string) } : {}),
    log: (line) => console.log(line),
  });
  if (made.reused) console.log(`${made.dir} already holds ${made.version}; delete it to retrain`);
}
