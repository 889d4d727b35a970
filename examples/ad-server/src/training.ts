/**
 * Trains the ad server's DCN-v2 with ctrkit on synthetic traffic and writes `model.onnx` +
 * `model.json` (the feature spec travels in the manifest's config, so the server builds the
 * matching encoder from the model directory alone).
 *
 * Training sees exactly what serving sees: each logged impression is written as the OpenRTB bid
 * request an exchange would send ({@link toBidRequest}) and mapped back to an `AdRequest` by the
 * same `createOpenRtbBidder` the server runs (a bidder whose `predict` hook only captures its
 * input), then encoded with the feature-store counters of that moment (a memory store replaying
 * the log in time order: no leakage).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createOpenRtbBidder, type BidderCreative } from '@ctrkit/auction';
import { auc, createManualClock, type AdRequest } from '@ctrkit/core';
import { adRequestSpec, allocateBatch, createFeatureEncoder, createMemoryFeatureStore, type FeatureSpecJSON } from '@ctrkit/features';
import { createRowCollector, exportModel, fitModel, sliceRows, type DcnV2TrainerOptions } from '@ctrkit/models';
import { saveModel } from '@ctrkit/models/node';
import { createWorld, eventsOfImpression, toBidRequest } from './world.js';

/** Options of {@link makeModel}. */
export interface MakeModelOptions {
  /** Output directory. */
  readonly out: string;
  /** Training rows (display impressions at the top slot); the last 15% are held out (default 120,000). */
  readonly rows?: number;
  /** Passes at most, with early stopping on the held-out rows (default 2). */
  readonly epochs?: number;
  /** Size of the hashed id space (default 2^20). */
  readonly idSpace?: number;
  /** DCN-v2 shape (default: 8-dim embeddings, 2 low-rank cross layers, deep 64 → 32). */
  readonly dcnv2?: DcnV2TrainerOptions;
  /** Seed of the training run (default 1); a different seed gives a different model version. */
  readonly seed?: number;
  /** Retrain even when the directory holds this version (default false). */
  readonly force?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What {@link makeModel} did. */
export interface MadeModel {
  readonly dir: string;
  readonly version: string;
  /** True when the directory already held this version and was left alone. */
  readonly reused: boolean;
  /** Held-out AUC (undefined when reused). */
  readonly validAuc?: number;
  /** Seconds spent. */
  readonly seconds: number;
}

const DEFAULT_DCN: DcnV2TrainerOptions = { embeddingDim: 8, crossLayers: 2, lowRank: 16, deep: [64, 32], learningRate: 2e-3, embeddingLearningRate: 1e-3 };

/**
 * The spec the server's model is trained on: ctrkit's general ad-request spec. Its fields read
 * what an OpenRTB request carries (user, device, geo, site, keywords, segments) plus the feature
 * store's counters.
 *
 * @param idSpace - Size of the hashed id space.
 * @returns The spec's JSON.
 */
export function serverSpec(idSpace = 1 << 20): FeatureSpecJSON {
  return adRequestSpec({ idSpace });
}

/**
 * Trains the model unless `out` already holds the same version (architecture, rows, epochs,
 * seed and spec fingerprint name it).
 *
 * @param options - Output, sizes, seed.
 * @returns Where it is and whether it was reused.
 */
export async function makeModel(options: MakeModelOptions): Promise<MadeModel> {
  const { out, rows = 120_000, epochs = 2, idSpace = 1 << 20, seed = 1, force = false, log = () => undefined } = options;
  const dcnv2 = { ...DEFAULT_DCN, ...options.dcnv2 };
  const started = performance.now();
  const spec = serverSpec(idSpace);
  const encoder = createFeatureEncoder(spec);
  const shape = `e${dcnv2.embeddingDim}-x${dcnv2.crossLayers}-r${dcnv2.lowRank ?? 'full'}-d${(dcnv2.deep ?? []).join('.')}`;
  const version = `ad-server-dcnv2-${shape}-${rows}r-${epochs}e-s${seed}-${encoder.layout.fingerprint.slice(0, 12)}`;
  const manifestPath = path.join(out, 'model.json');
  if (!force && existsSync(manifestPath) && existsSync(path.join(out, 'model.onnx'))) {
    const existing = JSON.parse(await readFile(manifestPath, 'utf8')) as { version?: string };
    if (existing.version === version) return { dir: out, version, reused: true, seconds: (performance.now() - started) / 1000 };
  }

  const world = createWorld();
  const clock = createManualClock(world.generator.startTime);
  const store = createMemoryFeatureStore({ clock });
  let captured: AdRequest | undefined;
  let shown: BidderCreative | undefined;
  // The server's own mapping from OpenRTB to AdRequest: a bidder that only records what it would score.
  const capture = createOpenRtbBidder({
    catalog: () => (shown === undefined ? [] : [shown]),
    predict: async (request) => {
      captured = request;
      return new Float32Array(request.candidates.length);
    },
    clock,
  });

  const collector = createRowCollector(encoder.layout, rows);
  const one = allocateBatch(encoder.layout, 1);
  const label = new Float32Array(1);
  const truth = new Float64Array(rows);
  let kept = 0;
  let seen = 0;
  // About 12% of impressions are display ads at the top slot: generate enough of them.
  for (const impression of world.generator.impressions({ count: Math.ceil(rows * 10), stream: `train-${seed}` })) {
    if (kept === rows) break;
    seen++;
    const candidate = impression.request.candidates[0];
    if (candidate === undefined || candidate.format !== 'display' || impression.position !== 0) continue;
    const creative = world.creativeById.get(candidate.adId);
    if (creative === undefined) continue;
    const t = impression.request.context.timestamp;
    clock.set(Math.max(clock.now(), t));
    shown = creative;
    captured = undefined;
    const requestId = `train-${seed}-${seen}`;
    const outcome = await capture.handle(toBidRequest(impression.request, { id: requestId, bidfloor: 0 }));
    if (captured === undefined) throw new Error(`the capture bidder did not score impression ${seen}: ${outcome.reason ?? 'no reason'}`);
    const request: AdRequest = captured;
    const lookup = await store.lookup(request.user, request.candidates, t);
    encoder.encode(request, lookup, one);
    label[0] = impression.clicked ? 1 : 0;
    truth[kept] = impression.pClick;
    collector.append(one, label);
    for (const event of eventsOfImpression(impression, requestId)) await store.record(event);
    kept++;
    if (kept % 20_000 === 0) log(`encoded ${kept.toLocaleString('en')} of ${rows.toLocaleString('en')} rows`);
  }
  if (kept < rows) throw new Error(`only ${kept} display impressions at the top slot in ${seen} generated; raise the count`);
  const all = collector.toRows();
  const cut = Math.floor(rows * 0.85);
  const train = sliceRows(all, 0, cut);
  const valid = sliceRows(all, cut);
  const bayesAuc = auc(valid.labels, truth.subarray(cut));
  log(`encoded ${rows.toLocaleString('en')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s (held-out Bayes AUC ${bayesAuc.toFixed(4)}); training DCN-v2 (${shape})`);
  const result = fitModel({
    model: 'dcnv2',
    train,
    valid,
    epochs,
    patience: 1,
    calibrate: true,
    seed,
    dcnv2,
    onEpoch: (e) => log(`epoch ${e.epoch}: train log loss ${e.trainLogLoss.toFixed(4)}, valid log loss ${e.validLogLoss?.toFixed(4)}, valid AUC ${e.validAuc?.toFixed(4)}`),
  });
  const exported = exportModel(encoder.layout, result, {
    version,
    description: `ad-server example: DCN-v2 on ${rows.toLocaleString('en')} synthetic display impressions (world ${world.generator.startTime}, seed ${seed})`,
    config: { spec },
    metrics: { bayesAuc },
    profileRows: sliceRows(train, 0, Math.min(20_000, train.batch.rows)),
  });
  await saveModel(out, exported);
  const seconds = (performance.now() - started) / 1000;
  log(`wrote ${out} (${version}): valid AUC ${result.metrics.validAuc?.toFixed(4)}, calibrator ${exported.manifest.calibration?.kind ?? 'none'}, ${seconds.toFixed(1)} s`);
  return { dir: out, version, reused: false, ...(result.metrics.validAuc === undefined ? {} : { validAuc: result.metrics.validAuc }), seconds };
}
