import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabelJoiner, createManualClock, servedRowOf, type ClickEvent } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { adRequestSpec, createFeatureEncoder, type FeatureSpecJSON } from '@ctrkit/features';
import { createArrowServedLog } from '@ctrkit/features/node';
import { runCli } from '../src/index.js';
import { captureIo } from './fixtures/captured-io.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-train-arrow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec: FeatureSpecJSON = adRequestSpec({ idSpace: 1 << 16, store: false });
const ROWS = 4000;

async function ctrkit(...argv: string[]) {
  const io = captureIo({ cwd: dir });
  const status = await runCli(argv, io);
  return { status, out: io.out(), err: io.err() };
}

/**
 * The loop's offline half: rows served (encoded once, at serving time) go through the label joiner,
 * and the joined rows land in a labeled Arrow served log, which `train --format arrow` reads.
 */
beforeAll(async () => {
  writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  const encoder = createFeatureEncoder(spec);
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const log = createArrowServedLog({ dir: path.join(dir, 'joined'), layout: encoder.layout, labeled: true, maxFileBytes: 64 * 1024, checkIntervalMs: 0, clock, maxQueuedFiles: 1_000 });
  // The joiner closes every window in one synchronous burst below, so no file reaches the disk
  // before the last roll: the queue must hold them all (the default 4 would drop most, by design).
  const unlabeled = createArrowServedLog({ dir: path.join(dir, 'served'), layout: encoder.layout, checkIntervalMs: 0, clock });
  const joiner = createLabelJoiner({ windowMs: 60_000, allowedLatenessMs: 0, clock, onLabel: (j) => log.append(j.row, j.label) });
  let i = 0;
  for (const impression of createTrafficGenerator({ seed: 3 }).impressions({ count: ROWS })) {
    clock.advance(100);
    const batch = encoder.encode(impression.request);
    const row = servedRowOf(batch, 0, {
      eventId: `imp-${i}`, requestId: impression.request.requestId, impId: '1', adId: impression.request.candidates[0]?.adId as string,
      position: 0, pCtr: 0.05, servedAt: clock.now(), modelVersion: 'v0',
    });
    joiner.impression(row);
    unlabeled.append(row);
    if (impression.clicked) {
      const click: ClickEvent = { type: 'click', eventId: `clk-${i}`, requestId: row.requestId, adId: row.adId, timestamp: clock.now() + 5, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' };
      joiner.click(click);
    }
    i++;
  }
  clock.advance(120_000);
  joiner.advance();
  await log.close();
  await unlabeled.close();
  expect(log.stats().persisted).toBe(ROWS);
}, 60_000);

describe('ctrkit train --format arrow', () => {
  it('trains on a directory of joined served rows and evaluates other rows of it', async () => {
    const trained = await ctrkit('train', '--data', 'joined', '--format', 'arrow', '--spec', 'spec.json', '--model', 'lr', '--train-rows', '2400', '--valid-rows', '400', '--epochs', '2', '--quiet', '--out', 'm');
    expect(trained.err).toBe('');
    expect(trained.status).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'm/model.json'), 'utf8'));
    expect(manifest.config.featureSpec).toEqual(spec);
    expect(manifest.fingerprint).toBe(createFeatureEncoder(spec).layout.fingerprint);
    // Joined rows are in the order their labels were decided (positives at the click, negatives when
    // the window closes), so the log's tail is the last window's negatives: evaluate before it.
    const evaluated = await ctrkit('eval', '--model', 'm', '--data', 'joined', '--skip-rows', '2800', '--rows', '500', '--json', '--quiet');
    expect(evaluated.status).toBe(0);
    const result = JSON.parse(evaluated.out);
    expect(result.rows).toBe(500);
    expect(result.auc).toBeGreaterThan(0.55);
  }, 60_000);

  it('refuses a log without labels, a spec of other bits, and a missing --spec, with the reason', async () => {
    const unlabeled = await ctrkit('train', '--data', 'served', '--format', 'arrow', '--spec', 'spec.json', '--model', 'lr', '--quiet', '--out', 'x');
    expect(unlabeled.status).not.toBe(0);
    expect(unlabeled.err).toMatch(/no label column/);
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ ...spec, seed: 99 }));
    const other = await ctrkit('train', '--data', 'joined', '--format', 'arrow', '--spec', 'other.json', '--model', 'lr', '--quiet', '--out', 'y');
    expect(other.status).not.toBe(0);
    expect(other.err).toMatch(/re-encode the log/);
    const missing = await ctrkit('train', '--data', 'joined', '--format', 'arrow', '--model', 'lr', '--quiet', '--out', 'z');
    expect(missing.status).not.toBe(0);
    expect(missing.err).toMatch(/needs --spec FILE/);
    const stray = await ctrkit('train', '--data', 'synthetic:100', '--spec', 'spec.json', '--model', 'lr', '--quiet', '--out', 'w');
    expect(stray.err).toMatch(/--spec applies to --format arrow only/);
  }, 60_000);
});
