/**
 * Freshness of the fleet's learning loop, on loopback: ad servers (`EVENT_STREAM=nats`) and a
 * learner as real processes around the NATS JetStream at 127.0.0.1:4222 (a stream, subjects and
 * bucket of this run's own, deleted at the end), a steady stream of bids, wins and clicks drawn
 * with the world's true click probability. For each click: the wall time from its publish (the
 * moment `POST /events` answered 200: the click is stored on the stream by then) to the moment a
 * server swapped in a published version whose watermark covers it (watermark ≥ the click's
 * timestamp) — for the first server and for every server. Clicks of the measured span only (after
 * a warm-up; traffic goes on for a tail after it so late clicks can be covered). Target (issue 16):
 * p50 ≤ 60 s, p99 ≤ 120 s at the default settings.
 *
 * Then the joiner alone: a backlog of real served rows (the servers' layout) and clicks on 5% is
 * published to a fresh stream, and the learner's own pipeline (stream joiner → restart dedup →
 * Arrow log) drains it; events/s over the drain, one process (target ≥ 50,000 on one core; the
 * NATS server runs beside it on the other core).
 *
 * Run: npm run bench:freshness -w @ctrkit/example-ad-server -- [--warmup-s 60] [--measure-s 120]
 *   [--tail-s 120] [--rate 40] [--window-ms 20000] [--servers 2] [--joiner-events 60000]
 * Every learner and server setting is its default except ATTRIBUTION_WINDOW_MS (`--window-ms`: the
 * default 30 minutes would label no negative within a run this short) and BUDGET_SCALE (campaigns
 * must not run dry mid-run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, createStreamJoiner, servedRowOf, type ClickEvent, type ServedRow } from '@ctrkit/core';
import { createNatsEventStream } from '@ctrkit/core/nats';
import { createFeatureEncoder } from '@ctrkit/features';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_MODEL_DIR } from '../src/config.js';
import { specOf } from '../src/app/model.js';
import { createLabeledOutput, watchDeliveries } from '../src/learner/labeled-log.js';
import { makeModel } from '../src/training.js';
import { bidRequests, createWorld } from '../src/world.js';
import { freePort, metric } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, '..');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const warmupS = flag('warmup-s', 150);
const measureS = flag('measure-s', 120);
const tailS = flag('tail-s', 120);
const rate = flag('rate', 40);
const windowMs = flag('window-ms', 20_000);
const serverCount = flag('servers', 2);
const joinerEvents = flag('joiner-events', 60_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const run = randomUUID().slice(0, 8);
const names = { NATS_STREAM: `CTRKIT_FRESH_${run}`, NATS_SUBJECT_PREFIX: `ctrkit.fresh${run}`, NATS_MODEL_BUCKET: `ctrkit-fresh-${run}` };
const learnerDir = mkdtempSync(path.join(os.tmpdir(), 'ctrkit-fresh-'));
const children: ChildProcess[] = [];
const cleanup = () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(learnerDir, { recursive: true, force: true });
};
process.on('exit', cleanup);

await makeModel({ out: DEFAULT_MODEL_DIR, log: (line) => console.log(line) });
const env = {
  ...process.env,
  NODE_OPTIONS: '',
  EVENT_STREAM: 'nats',
  ...names,
  MODEL_DIR: DEFAULT_MODEL_DIR,
  ATTRIBUTION_WINDOW_MS: String(windowMs),
  NOTICE_KEY: randomBytes(32).toString('hex'),
  BUDGET_SCALE: '1000',
  LOG_LEVEL: 'warn',
  // The machine is shared: generous stage budgets, as the tests use.
  PREDICT_BUDGET_MS: '200',
  LOOKUP_BUDGET_MS: '100',
  ENCODE_BUDGET_MS: '50',
  LEARNER_DIR: learnerDir,
};

async function start(file: string, extra: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', path.join(exampleDir, file)], { cwd: path.resolve(exampleDir, '../..'), env: { ...env, ...extra }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type?: string; url?: string }) => m.type === 'ready' && resolve(m.url as string));
    child.on('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
}

const learnerUrl = await start('src/learner/main.ts', { LEARNER_PORT: String(await freePort()) });
const servers: string[] = [];
for (let i = 0; i < serverCount; i++) servers.push(await start('src/main.ts', { PORT: String(await freePort()) }));
console.log(`freshness: ${serverCount} servers and a learner up; ${rate} bids/s for ${warmupS + measureS + tailS} s (measured ${warmupS}–${warmupS + measureS} s), attribution window ${windowMs} ms`);

// Versions as each server swapped them in, read from its gauges every 250 ms.
type Version = { seq: number; watermark: number; swappedAt: number };
const seen: Version[][] = servers.map(() => []);
let polling = true;
const poller = (async () => {
  while (polling) {
    await Promise.all(
      servers.map(async (url, i) => {
        try {
          const text = await (await fetch(`${url}/metrics`)).text();
          const seq = metric(text, 'adserver_stream_model_seq');
          const list = seen[i] as Version[];
          if (seq > 0 && (list.at(-1)?.seq ?? 0) < seq) list.push({ seq, watermark: metric(text, 'adserver_stream_model_watermark_ms'), swappedAt: metric(text, 'adserver_stream_model_swapped_at_ms') });
        } catch {
          // a scrape missed; the next one reads the same gauges
        }
      }),
    );
    await sleep(250);
  }
})();

// Traffic.
const world = createWorld({ budgetScale: 1000 });
const random = createRandom(`freshness-${run}`);
const total = Math.ceil(rate * (warmupS + measureS + tailS));
const requests = bidRequests(world, total, { stream: `fresh-${run}` });
const clicks: { timestamp: number; ackedAt: number }[] = [];
const counts = { bids: 0, wins: 0, clicks: 0, errors: 0 };
const t0 = Date.now();
let outstanding = 0;
async function one(k: number): Promise<void> {
  const { bid: request, sim } = requests[k] as (typeof requests)[number];
  const url = servers[k % servers.length] as string;
  const answer = await fetch(`${url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  if (answer.status !== 200) return void (await answer.arrayBuffer());
  const body = (await answer.json()) as { seatbid?: { bid: { impid: string; price: number; adid: string; burl: string; ext: { ctrkit: { token: string } } }[] }[] };
  for (const bid of body.seatbid?.flatMap((s) => s.bid) ?? []) {
    counts.bids++;
    const win = await fetch(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)));
    if (win.status !== 204) continue;
    counts.wins++;
    const index = sim.request.candidates.findIndex((c) => c.adId === bid.adid);
    if (index < 0 || random.next() >= world.generator.clickProbability(sim.request, index)) continue;
    const creative = world.creativeById.get(bid.adid);
    const timestamp = Date.now();
    const event = { type: 'click', eventId: `${request.id}:${bid.impid}:c`, requestId: request.id, timestamp, userId: request.user.id, adId: bid.adid, campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, format: 'display', token: bid.ext.ctrkit.token };
    const posted = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [event] }) });
    await posted.arrayBuffer();
    if (posted.status !== 200) continue;
    counts.clicks++;
    clicks.push({ timestamp, ackedAt: Date.now() });
  }
}
for (let k = 0; k < total; k++) {
  const due = t0 + (k * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  if (outstanding >= 64) continue; // the servers are behind: this bid is skipped, not queued
  outstanding++;
  void one(k)
    .catch(() => void counts.errors++)
    .finally(() => void outstanding--);
}
while (outstanding > 0) await sleep(50);
polling = false;
await poller;
const updates = await Promise.all(servers.map(async (url) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return ['swapped', 'refused', 'stale'].map((result) => `${result} ${metric(text, 'adserver_stream_model_updates_total', { result }) || 0}`).join(', ');
}));
const elapsedS = (Date.now() - t0) / 1000;

const learner = (await (await fetch(`${learnerUrl}/stats`)).json()) as { deliveries: number; refresher: { swaps: number; refusals: number; refusalsByReason: Record<string, number> }; published: { seq: number } };
const from = t0 + warmupS * 1000;
const to = from + measureS * 1000;
const measured = clicks.filter((c) => c.ackedAt >= from && c.ackedAt < to);
const coveredAt = (list: Version[], c: { timestamp: number; ackedAt: number }) => list.find((v) => v.watermark >= c.timestamp && v.swappedAt >= c.ackedAt)?.swappedAt ?? Number.POSITIVE_INFINITY;
const first = measured.map((c) => (Math.min(...seen.map((l) => coveredAt(l, c))) - c.ackedAt) / 1000).sort((a, b) => a - b);
const every = measured.map((c) => (Math.max(...seen.map((l) => coveredAt(l, c))) - c.ackedAt) / 1000).sort((a, b) => a - b);
const q = (xs: number[], p: number) => (xs.length === 0 ? Number.NaN : (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number));
const fmt = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} s` : 'not covered');
console.log(`traffic: ${counts.bids} bids, ${counts.wins} wins, ${counts.clicks} clicks in ${elapsedS.toFixed(0)} s (${counts.errors} request errors); ${measured.length} clicks measured`);
console.log(`versions: ${learner.published.seq} published; learner swaps ${learner.refresher.swaps}, refusals ${learner.refresher.refusals} ${JSON.stringify(learner.refresher.refusalsByReason)}; swapped in per server: ${seen.map((l) => l.length).join(', ')}`);
console.log(`model updates per server: ${updates.map((u, i) => `[${i}] ${u}`).join('; ')}; first version swapped in ${((Math.min(...seen.map((l) => l[0]?.swappedAt ?? Number.POSITIVE_INFINITY)) - t0) / 1000).toFixed(0)} s after traffic began`);
console.log(`freshness (click published → a server serves a version that learned it):  p50 ${fmt(q(first, 0.5))}  p99 ${fmt(q(first, 0.99))}  max ${fmt(q(first, 1))}`);
console.log(`freshness (… → every server serves one):                                   p50 ${fmt(q(every, 0.5))}  p99 ${fmt(q(every, 0.99))}  uncovered ${every.filter((x) => !Number.isFinite(x)).length}`);
console.log(`  target p50 ≤ 60 s, p99 ≤ 120 s: ${q(every, 0.5) <= 60 && q(every, 0.99) <= 120 ? 'met' : 'MISSED'}`);
console.log(`learner input during the run: ${(learner.deliveries / elapsedS).toFixed(0)} deliveries/s`);
for (const c of children) c.kill('SIGTERM');
await sleep(2_000);

// The joiner alone: the learner's pipeline draining a backlog.
const spec = await specOf(DEFAULT_MODEL_DIR);
const encoder = createFeatureEncoder(spec);
const sims = bidRequests(world, 200, { stream: `joiner-${run}` });
const batches = sims.map((s) => encoder.encode({ ...s.sim.request, candidates: s.sim.request.candidates.slice(0, 1) }));
const stream = await createNatsEventStream({ stream: `${names.NATS_STREAM}_J`, subjectPrefix: `${names.NATS_SUBJECT_PREFIX}.j` });
const now = Date.now();
let published = 0;
const pending: Promise<unknown>[] = [];
for (let i = 0; published < joinerEvents; i++) {
  const batch = batches[i % batches.length] as (typeof batches)[number];
  const row: ServedRow = servedRowOf(batch, 0, { eventId: `j-${i}`, requestId: `jr-${i}`, impId: '1', adId: 'a', position: 0, pCtr: 0.03, servedAt: now, modelVersion: 'bench' });
  pending.push(stream.publish({ topic: 'served', row }));
  published++;
  if (random.next() < 0.05) {
    const click: ClickEvent = { type: 'click', eventId: `jc-${i}`, requestId: `jr-${i}`, adId: 'a', timestamp: now + 1, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' };
    pending.push(stream.publish({ topic: 'click', event: click }));
    published++;
  }
  if (pending.length >= 2_000) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
const watched = watchDeliveries(stream, () => undefined);
const output = createLabeledOutput({ dir: path.join(learnerDir, 'joiner'), layout: encoder.layout, durableIds: new Set(), currentClick: watched.currentClick, onDurable: () => undefined, onFailure: (e) => console.error(e) });
const joiner = createStreamJoiner({ stream: watched.stream, consumer: 'bench', output, windowMs: 1_000, allowedLatenessMs: 0, flushEveryMs: 1_000, ackWaitMs: 60_000, maxPending: 2 * joinerEvents });
const j0 = performance.now();
await joiner.start();
while (watched.deliveries() < published) await sleep(5);
const drainMs = performance.now() - j0;
await joiner.stop();
await output.close();
await stream.destroy().catch(() => undefined);
const nc = await connect({ servers: '127.0.0.1:4222' });
await (await createNatsEventStream({ connection: nc, stream: names.NATS_STREAM, subjectPrefix: names.NATS_SUBJECT_PREFIX })).destroy().catch(() => undefined);
await (await new Objm(nc).open(names.NATS_MODEL_BUCKET)).destroy().catch(() => undefined);
await nc.close();
const perSecond = (published / drainMs) * 1000;
console.log(`joiner alone (NATS stream → stream joiner → Arrow log, one process): ${published.toLocaleString('en')} events in ${(drainMs / 1000).toFixed(1)} s = ${Math.round(perSecond).toLocaleString('en')} events/s (${joiner.stats().positives} positives); target ≥ 50,000: ${perSecond >= 50_000 ? 'met' : 'MISSED'}`);
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
process.exit(0);
