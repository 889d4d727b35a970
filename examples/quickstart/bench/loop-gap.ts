/**
 * A fast offline stand-in for the demo's day-two loop, to size the world and the learner: day one
 * replayed through the memory feature store (as the demo does), an FTRL-LR trained on it and
 * frozen, then day two's impressions scored prequentially by the frozen model, by an online
 * FTRL-LR that goes on from day one's weights (learning each chunk after scoring it, as the joiner
 * and refresher would), and by the truth. Prints log losses, the share of the frozen model's gap
 * to Bayes the online model closes, and the same gap on day one's held-out tail (the static part:
 * what no fresh model of day one closes either).
 *
 * Run: npx tsx --conditions=@ctrkit/source examples/quickstart/bench/loop-gap.ts '{"users":2000}'
 * (a JSON object of {@link Setting} overrides; the demo's defaults otherwise).
 */
import { createManualClock, evaluate } from '@ctrkit/core';
import { createTrafficGenerator, type SimDriftOptions } from '@ctrkit/core/sim';
import { adRequestSpec, createFeatureEncoder, createMemoryFeatureStore } from '@ctrkit/features';
import { createFmTrainer, createFtrlTrainer, sliceRows, type FmTrainerOptions, type FtrlOptions } from '@ctrkit/models';
import { DEMO_DRIFT, DEMO_WORLD, LOOP_FTRL } from '../src/demo-settings.js';
import { replayImpressions } from '../src/log-replay.js';

const DAY_MS = 86_400_000;

interface Setting {
  seed: string;
  users: number;
  day1: number;
  day2: number;
  chunk: number;
  interactionStrength: number;
  baseCtr: number;
  drift: SimDriftOptions | false;
  frozen: FtrlOptions;
  online: FtrlOptions;
  /** The online learner: FTRL-LR (`online`'s settings) or a factorization machine (`fm`'s). */
  learner: 'ftrl' | 'fm';
  fm: FmTrainerOptions;
  /** Online learner starts from zero instead of day one's weights. */
  cold: boolean;
  /** Scale the online learner's accumulated squared gradients by this before day two (1: none). */
  forget: number;
  /** … and by this after each chunk of day two (1: none). */
  forgetEach: number;
  /** Chunks scored before a chunk is learned (the joiner's window and the refresher's hold-out). */
  lag: number;
}

/** Scales FTRL's n by `f`, adjusting z so that every weight stays as it is (harness-only: reaches into the trainer). */
function forget(trainer: unknown, f: number): void {
  if (f === 1) return;
  const core = (trainer as { core: { zn: Float64Array; biasZ: number; biasN: number; settings: { alpha: number; beta: number; l1: number; l2: number } } }).core;
  const { alpha, beta, l1, l2 } = core.settings;
  const zn = core.zn;
  for (let i = 0; i < zn.length; i += 2) {
    const z = zn[i] as number;
    const n = zn[i + 1] as number;
    if (n === 0) continue;
    const n2 = n * f;
    if (z > l1 || z < -l1) {
      const s = z > 0 ? l1 : -l1;
      zn[i] = s + ((z - s) * ((beta + Math.sqrt(n2)) / alpha + l2)) / ((beta + Math.sqrt(n)) / alpha + l2);
    }
    zn[i + 1] = n2;
  }
  const nb = core.biasN * f;
  core.biasZ = (core.biasZ * (beta + Math.sqrt(nb))) / (beta + Math.sqrt(core.biasN));
  core.biasN = nb;
}

const given = JSON.parse(process.argv[2] ?? '{}') as Partial<Setting>;
const setting: Setting = {
  seed: 'demo',
  users: DEMO_WORLD.users,
  day1: 200_000,
  day2: 17_000,
  chunk: 1_000,
  interactionStrength: DEMO_WORLD.interactionStrength ?? 1,
  baseCtr: DEMO_WORLD.baseCtr ?? 0.03,
  drift: DEMO_DRIFT,
  frozen: LOOP_FTRL,
  online: LOOP_FTRL,
  learner: 'ftrl',
  fm: {},
  cold: false,
  forget: 1,
  forgetEach: 1,
  lag: 0,
  ...given,
};
const t0 = Date.now();
const startTime = Date.UTC(2026, 0, 5);
const { drift } = setting;
const generator = createTrafficGenerator({
  ...DEMO_WORLD,
  seed: setting.seed,
  users: setting.users,
  interactionStrength: setting.interactionStrength,
  baseCtr: setting.baseCtr,
  candidatesPerRequest: 20,
  slotsPerRequest: 3,
  startTime,
  durationMs: 2 * DAY_MS,
  ...(drift === false ? {} : { drift }),
});
const clock = createManualClock(startTime);
const store = createMemoryFeatureStore({ clock });
const encoder = createFeatureEncoder(adRequestSpec({ idSpace: 1 << 20 }));
const layout = encoder.layout;

async function replay(count: number, stream: string, range: [number, number]) {
  const launched = new Uint8Array(count);
  const launchAt = new Map(generator.ads.map((ad) => [ad.id, ad.launchAt]));
  const { rows, truth } = await replayImpressions({
    generator,
    store,
    encoder,
    clock,
    count,
    stream,
    timeRange: range,
    // Impressions and clicks only, as the figures this bench printed were measured.
    conversions: false,
    onImpression: (impression, row) => {
      launched[row] = launchAt.get(impression.request.candidates[0]!.adId) !== undefined ? 1 : 0;
    },
  });
  return { rows, truth, launched };
}

const day1 = await replay(setting.day1, 'log', [0, 0.5]);
const tReplay = Date.now();
const tail = Math.floor(setting.day1 / 10);
const head = sliceRows(day1.rows, 0, setting.day1 - tail);
const held = sliceRows(day1.rows, setting.day1 - tail, setting.day1);
const frozenHead = createFtrlTrainer(layout, setting.frozen);
frozenHead.update(head.batch, head.labels);
const heldScores = frozenHead.predict(held.batch);
const heldTruth = day1.truth.subarray(setting.day1 - tail);
const staticFrozen = evaluate(held.labels, heldScores).logloss;
const staticBayes = evaluate(held.labels, heldTruth).logloss;
// The frozen model and the online one's start: all of day one.
const frozen = createFtrlTrainer(layout, setting.frozen);
frozen.update(day1.rows.batch, day1.rows.labels);
const online = setting.learner === 'fm' ? createFmTrainer(layout, setting.fm) : createFtrlTrainer(layout, setting.online);
if (!setting.cold) online.update(day1.rows.batch, day1.rows.labels);
if (setting.learner === 'ftrl') forget(online, setting.forget);
const tTrain = Date.now();

const day2 = await replay(setting.day2, 'serve', [0.5, 1]);
const n = setting.day2;
const frozenScores = frozen.predict(day2.rows.batch);
const onlineScores = new Float32Array(n);
for (let from = 0; from < n; from += setting.chunk) {
  const to = Math.min(n, from + setting.chunk);
  const chunk = sliceRows(day2.rows, from, to);
  onlineScores.set(online.predict(chunk.batch), from);
  const learn = from - setting.lag * setting.chunk;
  if (learn >= 0) {
    const late = sliceRows(day2.rows, learn, Math.min(n, learn + setting.chunk));
    online.update(late.batch, late.labels);
  }
  if (setting.learner === 'ftrl') forget(online, setting.forgetEach);
}
const labels = day2.rows.labels;
const f = evaluate(labels, frozenScores);
const o = evaluate(labels, onlineScores);
const b = evaluate(labels, day2.truth);
const sub = (mask: Uint8Array, want: number, scores: ArrayLike<number>) => {
  const idx: number[] = [];
  mask.forEach((m, i) => {
    if (m === want) idx.push(i);
  });
  if (idx.length === 0) return Number.NaN;
  return evaluate(
    idx.map((i) => labels[i] as number),
    idx.map((i) => scores[i] as number),
  ).logloss;
};
const ctr = labels.reduce((s, y) => s + y, 0) / n;
const result = {
  setting: given,
  ctrDay2: +ctr.toFixed(4),
  day1Held: { frozen: +staticFrozen.toFixed(5), bayes: +staticBayes.toFixed(5), gap: +(staticFrozen - staticBayes).toFixed(5) },
  day2: { frozen: +f.logloss.toFixed(5), online: +o.logloss.toFixed(5), bayes: +b.logloss.toFixed(5), gap: +(f.logloss - b.logloss).toFixed(5) },
  aucs: { frozen: +f.auc.toFixed(4), online: +o.auc.toFixed(4), bayes: +b.auc.toFixed(4) },
  gapClosed: +((f.logloss - o.logloss) / (f.logloss - b.logloss)).toFixed(3),
  launchedShare: +(day2.launched.reduce((s, x) => s + x, 0) / n).toFixed(3),
  launched: { frozen: +sub(day2.launched, 1, frozenScores).toFixed(5), online: +sub(day2.launched, 1, onlineScores).toFixed(5), bayes: +sub(day2.launched, 1, day2.truth).toFixed(5) },
  old: { frozen: +sub(day2.launched, 0, frozenScores).toFixed(5), online: +sub(day2.launched, 0, onlineScores).toFixed(5), bayes: +sub(day2.launched, 0, day2.truth).toFixed(5) },
  seconds: { replay: (tReplay - t0) / 1000, train: (tTrain - tReplay) / 1000, total: (Date.now() - t0) / 1000 },
};
console.log(JSON.stringify(result));
