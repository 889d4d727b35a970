/**
 * The whole request path on embedded defaults, one request with 100 candidates: memory feature
 * store → encoder → DCN-v2 on onnxruntime-node (CPU, one thread) → isotonic calibration → dual
 * pacing → GSP → memory ledger. Reports p50/p99 per request, each stage's share, and the
 * pipeline's overhead over calling the same stages by hand, measured in the same run
 * (interleaved rounds), for a full-rank and a low-rank DCN-v2.
 *
 * Run: npm run bench -w @ctrkit/example-quickstart
 */
import {
  createAdSelector,
  createIsotonicCalibrator,
  createLatencyHistogram,
  createPipelineMetrics,
  createPredictor,
  createRandom,
  systemClock,
  type AdRequest,
  type Calibrator,
  type ModelRunner,
} from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { createAuction } from '@ctrkit/auction';
import { adRequestSpec, allocateBatch, createFeatureEncoder, createMemoryFeatureStore } from '@ctrkit/features';
import { buildDcnV2Model, createManifest, initDcnV2Weights, loadModelFromBytes } from '@ctrkit/models';
import { registerNodeBackends } from '@ctrkit/models/node';
import { createDualController, createEvenPlan, createMemoryLedger, createPacer, createPacingStage } from '@ctrkit/pacing';

const CANDIDATES = 100;
const REQUESTS = 400;
const ROUNDS = 6;

const generator = createTrafficGenerator({ seed: 'bench', users: 5_000, advertisers: 40, campaignsPerAdvertiser: 3, adsPerCampaign: 5, candidatesPerRequest: CANDIDATES });
const encoder = createFeatureEncoder(adRequestSpec({ idSpace: 1 << 20 }));
const layout = encoder.layout;
const store = createMemoryFeatureStore();
const random = createRandom('bench');
process.stderr.write('warming the feature store with 50,000 impressions…\n');
for (const row of generator.impressions({ count: 50_000, stream: 'warm', timeRange: [0, 0.5] })) {
  await store.record({ type: 'impression', eventId: `${row.request.requestId}:i`, requestId: row.request.requestId, timestamp: row.request.context.timestamp, userId: row.request.user.id, adId: row.request.candidates[0]!.adId, campaignId: row.request.candidates[0]!.campaignId, advertiserId: row.request.candidates[0]!.advertiserId, category: row.request.candidates[0]!.category });
  if (row.clicked) await store.record({ type: 'click', eventId: `${row.request.requestId}:c`, requestId: row.request.requestId, timestamp: row.request.context.timestamp + 5_000, userId: row.request.user.id, adId: row.request.candidates[0]!.adId, campaignId: row.request.candidates[0]!.campaignId, advertiserId: row.request.candidates[0]!.advertiserId, category: row.request.candidates[0]!.category });
}
const requests: AdRequest[] = [...generator.requests({ count: REQUESTS, stream: 'serve', timeRange: [0.5, 1] })].map((r) => r.request);
if (requests[0]!.candidates.length !== CANDIDATES) throw new Error(`expected ${CANDIDATES} candidates, got ${requests[0]!.candidates.length}`);

registerNodeBackends();
const calibrator: Calibrator = createIsotonicCalibrator().fit(
  Float64Array.from({ length: 5_000 }, () => random.next()),
  Uint8Array.from({ length: 5_000 }, () => (random.next() < 0.05 ? 1 : 0)),
);

async function dcn(lowRank: number | undefined): Promise<ModelRunner> {
  const weights = initDcnV2Weights(layout, { embeddingDim: 16, crossLayers: 3, deep: [256, 128], seed: 1, ...(lowRank === undefined ? {} : { lowRank }) });
  const model = buildDcnV2Model(layout, weights);
  const manifest = createManifest(layout, weights, { version: lowRank === undefined ? 'full-rank' : `low-rank-${lowRank}` });
  const { runner } = await loadModelFromBytes({ model, manifest }, { expect: layout, backends: ['onnx-node'], intraOpThreads: 1 });
  return runner;
}

function paced() {
  const pacers = new Map(generator.campaigns.map((c) => [c.id, createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 1e9 })]));
  const ledger = createMemoryLedger({ budgets: { campaigns: generator.campaigns.map((c) => ({ id: c.id, dailyBudget: 1e9 })) } });
  return { pacing: createPacingStage(pacers), ledger };
}

interface Figures {
  readonly pipeline: ReturnType<typeof createLatencyHistogram>;
  readonly hand: ReturnType<typeof createLatencyHistogram>;
  readonly metrics: ReturnType<typeof createPipelineMetrics>;
}

async function measure(runner: ModelRunner): Promise<Figures> {
  const auction = createAuction({ pricing: 'gsp', positionEffects: [1, 0.75, 0.6] });
  const metrics = createPipelineMetrics();
  const { pacing, ledger } = paced();
  const predictor = createPredictor({ encoder, store, runner, calibrator, metrics, budgets: { lookup: 100, encode: 100, predict: 500, calibrate: 100 } });
  const selector = createAdSelector({ predictor, auction, pacing, ledger, metrics });
  const hand = paced();
  const batch = allocateBatch(layout, CANDIDATES);
  const raw = new Float32Array(CANDIDATES);
  const calibrated = new Float32Array(CANDIDATES);
  const multiplier = new Float64Array(CANDIDATES);
  const admitted = new Uint8Array(CANDIDATES);

  /** The same stages, called directly with preallocated buffers: the baseline. */
  async function byHand(request: AdRequest): Promise<void> {
    const lookup = await store.lookup(request.user, request.candidates, request.context.timestamp);
    encoder.encode(request, lookup, batch);
    await runner.predict(batch, raw);
    calibrator.apply(raw, calibrated);
    const decisions = new Map<string, { admit: boolean; multiplier: number }>();
    request.candidates.forEach((c, i) => {
      let d = decisions.get(c.campaignId);
      if (d === undefined) {
        d = hand.pacing.decide(c.campaignId);
        decisions.set(c.campaignId, d);
      }
      admitted[i] = d.admit ? 1 : 0;
      multiplier[i] = d.multiplier;
    });
    const result = auction.run(request, calibrated, { bidMultiplier: multiplier, admitted, counters: lookup });
    const holds = await Promise.all(result.winners.map((w) => hand.ledger.reserve(w.campaignId, w.bidType === 'CPM' ? w.price / 1000 : w.price)));
    await Promise.all(holds.map((h) => (h.ok ? hand.ledger.release(h) : undefined)));
  }
  async function viaPipeline(request: AdRequest): Promise<void> {
    const selection = await selector.select(request);
    await Promise.all(selection.winners.map((w) => selector.release(request.requestId, w.adId)));
  }

  const pipelineHist = createLatencyHistogram();
  const handHist = createLatencyHistogram();
  // Warm up both paths (JIT, onnxruntime arenas).
  for (const request of requests.slice(0, 50)) {
    await viaPipeline(request);
    await byHand(request);
  }
  metrics.reset();
  for (let round = 0; round < ROUNDS; round++) {
    for (const request of requests) {
      // Alternate which path goes first so neither always gets the warmer cache.
      const order = round % 2 === 0 ? [viaPipeline, byHand] : [byHand, viaPipeline];
      for (const path of order) {
        const t0 = systemClock.now();
        await path({ ...request, requestId: `${request.requestId}:${round}` });
        (path === viaPipeline ? pipelineHist : handHist).record(systemClock.now() - t0);
      }
    }
  }
  return { pipeline: pipelineHist, hand: handHist, metrics };
}

const f = (v: number, d = 3) => v.toFixed(d);
console.log(`## Whole pipeline — one request, ${CANDIDATES} candidates, ${REQUESTS * ROUNDS} requests per path (interleaved), onnxruntime-node CPU 1 thread`);
console.log(`${'model'.padEnd(24)} ${'path'.padEnd(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'mean ms'.padStart(8)}  overhead (mean)  stage share of p50 (lookup / encode / predict / calibrate / pace / auction / ledger)`);
for (const [name, lowRank] of [['DCN-v2 full-rank', undefined], ['DCN-v2 low-rank 32', 32]] as const) {
  const runner = await dcn(lowRank);
  const { pipeline, hand, metrics } = await measure(runner);
  const stages = new Map(metrics.snapshot().stages.map((s) => [s.stage, s.p50Ms]));
  const total = ['lookup', 'encode', 'predict', 'calibrate', 'pace', 'auction', 'ledger'].reduce((s, k) => s + (stages.get(k) ?? 0), 0);
  const shares = ['lookup', 'encode', 'predict', 'calibrate', 'pace', 'auction', 'ledger'].map((k) => `${(((stages.get(k) ?? 0) / total) * 100).toFixed(0)}%`).join(' / ');
  const overhead = pipeline.mean() / hand.mean() - 1;
  console.log(`${name.padEnd(24)} ${'pipeline'.padEnd(9)} ${f(pipeline.percentile(0.5)).padStart(8)} ${f(pipeline.percentile(0.99)).padStart(8)} ${f(pipeline.mean()).padStart(8)}  ${`${(overhead * 100).toFixed(1)}%`.padStart(15)}  ${shares}`);
  console.log(`${name.padEnd(24)} ${'by hand'.padEnd(9)} ${f(hand.percentile(0.5)).padStart(8)} ${f(hand.percentile(0.99)).padStart(8)} ${f(hand.mean()).padStart(8)}`);
  await runner.dispose();
}
