/**
 * The browser demo in a real browser: Debian's Chromium, headless, driven by playwright-core.
 *
 * Before the tests: the model script trains the demo model if `public/model/` lacks it, Vite
 * builds the page and serves the build on a free local port (with the COOP/COEP headers), and
 * Chromium starts with a fresh profile in a temporary directory. The tests read the scores the
 * page shows (`data-pctr`, full precision), compute the same scores in Node — the same request
 * from the same profile, encoded by the same spec, run by onnxruntime-node on the same
 * `model.onnx`, calibrated by the same manifest — and require them equal to 1e-6; then they edit
 * the profile, require the ranking to change (and to match Node again), and save screenshots to
 * `artifacts/`. Browser, server and profile are closed and removed even when a test fails.
 * Without `/usr/bin/chromium` (or `CHROMIUM_PATH`) the tests are skipped, except under CI, where
 * they fail.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuction } from '@ctrkit/auction';
import type { AdRequest } from '@ctrkit/core';
import { createFeatureEncoder } from '@ctrkit/features';
import type { LoadedModel } from '@ctrkit/models';
import { loadModel } from '@ctrkit/models/node';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath, needs } from '@ctrkit/test-support';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel, MODEL_DIR } from '../scripts/make-model.js';
import { AUCTION_OPTIONS, buildRequest, CATEGORIES, createDemoWorld, DEFAULT_PROFILE, SPEC, type DemoProfile } from '../src/scenario.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = path.join(root, 'artifacts');
const browser = chromiumPath();
const CHROMIUM = browser.path;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const TOLERANCE = 1e-6;
/** Without Chromium the tests are skipped on a developer's machine, but fail in CI (`.ci/run` installs it). */
const run = needs({
  what: CHROMIUM,
  forWhat: 'example-browser-demo: the page tests in headless Chromium',
  present: browser.present,
  hint: 'apt-get install -y chromium, or set CHROMIUM_PATH',
});

interface PageAd {
  readonly adId: string;
  readonly rank: number;
  readonly pCtr: number;
  readonly rawPCtr: number;
  readonly winner: boolean;
}

let server: PreviewServer | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;
let page: Page;
let url: string;
let model: LoadedModel | undefined;
const consoleErrors: string[] = [];
const encoder = createFeatureEncoder(SPEC);
const world = createDemoWorld();
const auction = createAuction(AUCTION_OPTIONS);

async function readAds(): Promise<PageAd[]> {
  return page.$$eval('#ads tr', (rows) =>
    rows.map((row) => {
      const data = (row as HTMLElement).dataset;
      return { adId: data.adId ?? '', rank: Number(data.rank), pCtr: Number(data.pctr), rawPCtr: Number(data.rawPctr), winner: row.classList.contains('winner') };
    }),
  );
}

/** Waits until the page has ranked this exact profile and is idle. */
async function waitForProfile(profile: DemoProfile): Promise<void> {
  await page.waitForFunction(
    (expected) => document.body.dataset.state === 'ready' && JSON.stringify(window.ctrkitDemo?.profile) === expected,
    JSON.stringify(profile),
    { timeout: 30_000 },
  );
}

/** Scores a profile in Node (onnxruntime-node) and compares it with what the page shows. */
async function compareWithNode(profile: DemoProfile): Promise<{ maxDifference: number; ads: PageAd[] }> {
  const request = buildRequest(world, profile);
  const pageRequest = (await page.evaluate(() => JSON.stringify(window.ctrkitDemo?.request))) as string;
  expect(JSON.parse(pageRequest) as AdRequest).toEqual(JSON.parse(JSON.stringify(request)) as AdRequest);
  const batch = encoder.encode(request);
  const raw = await model!.runner.predict(batch, new Float32Array(batch.rows));
  const pCtr = model!.calibrator.apply(raw, new Float64Array(batch.rows));
  const ads = await readAds();
  expect(ads.map((a) => a.adId).sort()).toEqual(request.candidates.map((c) => c.adId).sort());
  let maxDifference = 0;
  request.candidates.forEach((candidate, i) => {
    const shown = ads.find((a) => a.adId === candidate.adId)!;
    const difference = Math.max(Math.abs(shown.pCtr - (pCtr[i] as number)), Math.abs(shown.rawPCtr - (raw[i] as number)));
    expect(difference, `${candidate.adId}: page ${shown.pCtr}, node ${pCtr[i]}`).toBeLessThanOrEqual(TOLERANCE);
    maxDifference = Math.max(maxDifference, difference);
  });
  // The auction in Node, on Node's scores, picks the winners the page shows.
  const winners = auction.run(request, pCtr).winners.map((w) => w.adId);
  expect(ads.filter((a) => a.winner).map((a) => a.adId).sort()).toEqual([...winners].sort());
  // The page lists ads by expected revenue, ranks 1..n.
  expect(ads.map((a) => a.rank)).toEqual(ads.map((_, i) => i + 1));
  return { maxDifference, ads };
}

beforeAll(async () => {
  if (!run) return;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  await makeModel({ log: (line) => console.log(`[model] ${line}`) });
  const configFile = path.join(root, 'vite.config.ts');
  await build({ configFile, logLevel: 'warn' });
  server = await preview({ configFile, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false } });
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('the preview server has no port');
  url = `http://127.0.0.1:${address.port}/`;
  profileDir = await mkdtemp(path.join(tmpdir(), 'ctrkit-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  model = await loadModel(MODEL_DIR, { expect: encoder.layout, backends: ['onnx-node:cpu'] });
  await mkdir(artifacts, { recursive: true });
}, 600_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.httpServer.close(() => resolve())));
  await server?.close().catch(() => {});
  if (profileDir !== undefined) await rm(profileDir, { recursive: true, force: true });
  await model?.runner.dispose();
}, 60_000);

describe.skipIf(!run)('browser demo in Chromium', () => {
  let first: PageAd[] = [];

  it('loads the model on onnxruntime-web and shows the same scores as Node (to 1e-6)', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', undefined, { timeout: 120_000 });
    const error = await page.textContent('#error');
    expect(await page.getAttribute('body', 'data-state'), `page error: ${error}`).toBe('ready');
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('onnx-web');
    expect(['wasm', 'webgpu']).toContain(await page.getAttribute('#backend', 'data-provider'));
    await waitForProfile(DEFAULT_PROFILE);
    const { maxDifference, ads } = await compareWithNode(DEFAULT_PROFILE);
    first = ads;
    console.log(`[browser] ${await page.textContent('#backend')}; max |page − node| = ${maxDifference.toExponential(2)} over ${ads.length} ads`);
    // Every step's time is shown.
    const steps = await page.$$eval('#timings tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.step));
    expect(steps).toEqual(['encode', 'predict', 'calibrate', 'auction', 'explain', 'total']);
    // Every winner has an explanation.
    const factors = await page.$$eval('#ads tr.winner ul.factors', (lists) => lists.length);
    expect(factors).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artifacts, 'browser-demo.png'), fullPage: true });
  }, 180_000);

  it('ranks again when the profile changes, and still matches Node', async () => {
    expect(first.length).toBeGreaterThan(0);
    const changed: DemoProfile = {
      ...DEFAULT_PROFILE,
      age: 61,
      device: 'desktop',
      os: 'windows',
      interests: CATEGORIES.filter((c) => c === 'finance' || c === 'auto'),
      recentClicks: ['finance'],
      hour: 9,
    };
    await page.selectOption('#device', 'desktop');
    for (const [id, value] of [['age', '61'], ['hour', '9']] as const) {
      await page.$eval(`#${id}`, (input, v) => {
        (input as HTMLInputElement).value = v;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }, value);
    }
    for (const category of CATEGORIES) {
      await page.setChecked(`input[name="interests"][value="${category}"]`, changed.interests.includes(category));
      await page.setChecked(`input[name="recent"][value="${category}"]`, changed.recentClicks.includes(category));
    }
    await waitForProfile(changed);
    const { maxDifference, ads } = await compareWithNode(changed);
    console.log(`[browser] after the change: max |page − node| = ${maxDifference.toExponential(2)}`);
    expect(ads.map((a) => a.adId)).not.toEqual(first.map((a) => a.adId));
    await page.screenshot({ path: path.join(artifacts, 'browser-demo-changed.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
