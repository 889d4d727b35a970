/**
 * Arrow served-log append throughput: rows of the ad-request preset (its ids, bags, dense column
 * and sequences) appended to a rolling log on a temp directory, files of 16 MiB written with fsync
 * in the background — against, in the same run, the bare copy of the same arrays into one
 * preallocated buffer (the least work that keeps a row). Serving appends one row per ad shown, so
 * the log must not be what limits a server.
 *
 * Run: npx tsx --conditions=@ctrkit/source packages/features/bench/served-log.bench.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { servedRowOf, type ServedRow } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
import { createArrowServedLog } from '@ctrkit/features/node';

const quick = process.argv.includes('--quick');
const ROWS = quick ? 50_000 : 300_000;
const encoder = createFeatureEncoder(adRequestSpec({ idSpace: 1 << 20, store: false }));
const distinct: ServedRow[] = [];
let i = 0;
for (const impression of createTrafficGenerator({ seed: 1 }).impressions({ count: 2_000 })) {
  const batch = encoder.encode(impression.request);
  distinct.push(
    servedRowOf(batch, 0, {
      eventId: `imp-${i}`, requestId: impression.request.requestId, impId: '1', adId: impression.request.candidates[0]?.adId as string,
      position: 0, pCtr: 0.05, servedAt: 1.7e12 + i, modelVersion: 'dcn@1',
    }),
  );
  i++;
}
const rowsOf = (n: number) => Array.from({ length: n }, (_, k) => distinct[k % distinct.length] as ServedRow);
const rows = rowsOf(ROWS);
const { idWidth, denseWidth } = encoder.layout;

async function appendAll(): Promise<{ ms: number; files: number; bytes: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-served-bench-'));
  try {
    // The timed loop never yields, so every roll waits for the disk until it ends: allow them all.
    const log = createArrowServedLog({ dir, layout: encoder.layout, checkIntervalMs: 0, maxQueuedFiles: 64 });
    const t0 = performance.now();
    for (const row of rows) log.append(row);
    const appendMs = performance.now() - t0;
    await log.close();
    const { files, bytes, dropped } = log.stats();
    if (dropped > 0) throw new Error(`the log dropped ${dropped} rows: raise maxQueuedFiles for a burst this size`);
    return { ms: appendMs, files, bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bareCopy(): { ms: number } {
  const first = rows[0] as ServedRow;
  const perRow = 2 * idWidth + denseWidth + first.sequenceIds.length + first.sequenceLengths.length;
  const ids = new Int32Array(ROWS * (idWidth + first.sequenceIds.length + first.sequenceLengths.length));
  const floats = new Float32Array(ROWS * (idWidth + denseWidth));
  const t0 = performance.now();
  let a = 0;
  let b = 0;
  for (const row of rows) {
    ids.set(row.ids, a);
    a += row.ids.length;
    ids.set(row.sequenceIds, a);
    a += row.sequenceIds.length;
    ids.set(row.sequenceLengths, a);
    a += row.sequenceLengths.length;
    floats.set(row.values, b);
    b += row.values.length;
    floats.set(row.dense, b);
    b += row.dense.length;
  }
  if (perRow < 0) console.log(ids[0], floats[0]);
  return { ms: performance.now() - t0 };
}

await appendAll();
bareCopy();
const passes = quick ? 2 : 5;
const logMs: number[] = [];
const bareMs: number[] = [];
let last = { files: 0, bytes: 0 };
for (let p = 0; p < passes; p++) {
  const r = await appendAll();
  logMs.push(r.ms);
  last = r;
  bareMs.push(bareCopy().ms);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
const logRate = (ROWS / median(logMs)) * 1000;
const bareRate = (ROWS / median(bareMs)) * 1000;
console.log(`Arrow served log — ${ROWS.toLocaleString('en')} rows of the ad-request preset (${idWidth} ids, ${denseWidth} dense), ${passes} passes, median`);
console.log(`  append          ${Math.round(logRate).toLocaleString('en').padStart(12)} rows/s   (${last.files} files, ${(last.bytes / 2 ** 20).toFixed(1)} MiB written with fsync after the timed appends)`);
console.log(`  bare copy       ${Math.round(bareRate).toLocaleString('en').padStart(12)} rows/s   (baseline; append is ${(bareRate / logRate).toFixed(2)}× slower)`);
