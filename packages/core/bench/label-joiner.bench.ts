/**
 * Label-joiner throughput on one core: a stream of impressions (20 a millisecond of event
 * time), clicks on 5 % of them within the window, a fifth of those clicks delivered twice, and
 * 0.5 % orphan clicks, through a 5 s window with 1 s of lateness, so about 120,000 rows wait at the
 * steady state (window × rate). Baseline, same run: the bare Map work a join cannot avoid (set each
 * impression's key, look it up for each click, delete it at close).
 * Target: ≥ 50,000 events/s.
 *
 * Run: npx tsx --conditions=@ctrkit/source packages/core/bench/label-joiner.bench.ts [--quick]
 */
import { createLabelJoiner, createManualClock, createRandom, type ClickEvent, type ServedRow } from '@ctrkit/core';

const quick = process.argv.includes('--quick');
const IMPRESSIONS = quick ? 200_000 : 1_000_000;
const RATE_PER_MS = 20;
const WINDOW_MS = 5_000;
const random = createRandom('joiner-bench');

type Item = { at: number; row?: ServedRow; click?: ClickEvent };
const items: Item[] = [];
const ids = Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const values = new Float32Array(8).fill(1);
const empty = new Float32Array(0);
const none = new Int32Array(0);
for (let i = 0; i < IMPRESSIONS; i++) {
  const servedAt = 1e12 + i / RATE_PER_MS;
  const row: ServedRow = {
    eventId: `imp-${i}`, requestId: `req-${i >> 2}`, impId: String(i & 3), adId: `ad-${i % 977}`, position: i & 3, pCtr: 0.05,
    servedAt, modelVersion: 'v1', fingerprint: 'f', ids, values, dense: empty, sequenceIds: none, sequenceLengths: none,
  };
  items.push({ at: servedAt, row });
  const roll = random.next();
  if (roll < 0.05 || roll > 0.995) {
    const orphan = roll > 0.995;
    const t = servedAt + random.int(WINDOW_MS);
    const click: ClickEvent = {
      type: 'click', eventId: `clk-${i}`, requestId: orphan ? `nope-${i}` : row.requestId, adId: row.adId, timestamp: t,
      userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k',
    };
    items.push({ at: t + random.int(500), click });
    if (random.next() < 0.2) items.push({ at: t + 1_000, click });
  }
}
items.sort((a, b) => a.at - b.at);
const events = items.length;

function runJoiner(): { ms: number; labels: number; peak: number } {
  const clock = createManualClock(0);
  let labels = 0;
  const joiner = createLabelJoiner({ windowMs: WINDOW_MS, allowedLatenessMs: 1_000, clock, onLabel: () => void labels++ });
  const t0 = performance.now();
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item;
    if (item.at > clock.now()) clock.set(item.at);
    if (item.row !== undefined) joiner.impression(item.row);
    else joiner.click(item.click as ClickEvent);
  }
  clock.advance(10 * WINDOW_MS);
  joiner.advance();
  return { ms: performance.now() - t0, labels, peak: joiner.stats().peakPending };
}

function runBareMaps(): { ms: number } {
  const t0 = performance.now();
  const pending = new Map<string, ServedRow>();
  const order: string[] = [];
  let head = 0;
  let hits = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item;
    while (head < order.length && (pending.get(order[head] as string)?.servedAt ?? 0) + WINDOW_MS + 1_000 <= item.at) pending.delete(order[head++] as string);
    if (item.row !== undefined) {
      const key = `${item.row.requestId}\u0001${item.row.adId}`;
      pending.set(key, item.row);
      order.push(key);
    } else if (pending.has(`${(item.click as ClickEvent).requestId}\u0001${(item.click as ClickEvent).adId}`)) hits++;
  }
  if (hits < 0) console.log(hits);
  return { ms: performance.now() - t0 };
}

const passes = quick ? 2 : 5;
runJoiner();
runBareMaps();
const joinerMs: number[] = [];
const bareMs: number[] = [];
let last = { labels: 0, peak: 0 };
for (let p = 0; p < passes; p++) {
  const r = runJoiner();
  joinerMs.push(r.ms);
  last = r;
  bareMs.push(runBareMaps().ms);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const joinerRate = (events / median(joinerMs)) * 1000;
const bareRate = (events / median(bareMs)) * 1000;
console.log(`label joiner — ${events.toLocaleString('en')} events (${IMPRESSIONS.toLocaleString('en')} impressions), window ${WINDOW_MS} ms, peak pending ${last.peak.toLocaleString('en')}, ${passes} passes, median`);
console.log(`  joiner          ${Math.round(joinerRate).toLocaleString('en').padStart(12)} events/s   (${median(joinerMs).toFixed(0)} ms a pass, ${last.labels.toLocaleString('en')} labels)`);
console.log(`  bare Map work   ${Math.round(bareRate).toLocaleString('en').padStart(12)} events/s   (baseline; joiner is ${(bareRate / joinerRate).toFixed(2)}× slower)`);
console.log(`  target ≥ 50,000 events/s: ${joinerRate >= 50_000 ? 'met' : 'MISSED'}`);
