/**
 * Hostile load on the ad server (issue 14): genuine traffic with its win notices, then what an
 * attacker or a sloppy exchange sends — every win notice replayed, forged and tampered notices,
 * floods of unsigned events and of events with ids outside the catalog — and what it cost:
 * memory and /metrics series before and after, and the ledger's committed spend against the sum
 * of the genuine clearing prices, exactly (integer micros).
 *
 *   npm run bench:hostile -w @ctrkit/example-ad-server [-- --bids 2000 --replays 3 --flood-batches 20 --model DIR]
 *
 * Without `--model` it trains (or reuses) the default DCN-v2 in artifacts/model, as the load bench does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_DIR } from '../src/config.js';
import { makeModel } from '../src/training.js';
import { bidRequests, createWorld } from '../src/world.js';
import { freePort, metric, optionReader } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, '..');
const argv = process.argv.slice(2);
const option = optionReader(argv);
const bids = Number(option('--bids', '2000'));
const replays = Number(option('--replays', '3'));
const floodBatches = Number(option('--flood-batches', '20'));
const modelArg = option('--model', '');
const log = (line: string) => process.stderr.write(`${line}\n`);

const seriesCount = (text: string): number => text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;

const modelDir = modelArg !== '' ? path.resolve(modelArg) : DEFAULT_MODEL_DIR;
if (modelArg === '') {
  log('model: training (or reusing) the default DCN-v2 in artifacts/model …');
  await makeModel({ out: DEFAULT_MODEL_DIR, log });
}
const world = createWorld();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', path.join(exampleDir, 'src/main.ts')], {
  cwd: exampleDir,
  env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), MODEL_DIR: modelDir, LOG_LEVEL: 'error', BUDGET_SCALE: '100000', ADMIN_TOKEN: 'hostile-bench' },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
await new Promise<void>((resolve, reject) => {
  server.on('message', (message: { type?: string }) => {
    if (message.type === 'ready') resolve();
  });
  server.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
});
const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
const get = async (url: string): Promise<number> => (await fetch(url)).status;
const post = async (route: string, body: unknown): Promise<number> =>
  (await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
/** Answers by status, per phase. */
const statuses = new Map<string, Map<number, number>>();
const count = (phase: string, status: number) => {
  const map = statuses.get(phase) ?? new Map<number, number>();
  map.set(status, (map.get(status) ?? 0) + 1);
  statuses.set(phase, map);
};
/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++] as T);
  }));
}

/** What the ledger holds as spent, summed over the campaigns, in micros (its figures are whole micros). */
const ledgerMicros = async (): Promise<number> => {
  const answer = (await (await fetch(`${base}/admin/budgets`, { headers: { authorization: 'Bearer hostile-bench' } })).json()) as { campaigns: { spent?: number }[] };
  return answer.campaigns.reduce((sum, c) => sum + Math.round((c.spent ?? 0) * 1e6), 0);
};

const sample = async () => {
  const text = await scrape();
  return {
    ledgerMicros: await ledgerMicros(),
    rssMiB: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
    heapMiB: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    series: seriesCount(text),
    spendMicros: Math.round(metric(text, 'adserver_spend_committed_total') * 1e6),
    holdsOpen: metric(text, 'adserver_holds_open'),
    noticesRefused: metric(text, 'adserver_notices_total') - metric(text, 'adserver_notices_total', { result: 'committed' }),
  };
};

const report: Record<string, unknown> = { date: new Date().toISOString(), cpus: os.cpus().length, loadBefore: os.loadavg(), bids, replays, floodBatches };
try {
  const before = await sample();
  // 1. Genuine traffic: bid, then win at 70% of the bid (3 decimals of CPM: whole micros per impression).
  const requests = bidRequests(world, bids, { stream: 'hostile', imps: 1 }).map(({ bid }) => bid);
  const wins: string[] = [];
  let genuineMicros = 0;
  await pool(requests, 4, async (request) => {
    const answer = await fetch(`${base}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    count('bid', answer.status);
    if (answer.status !== 200) return;
    const bid = ((await answer.json()) as { seatbid?: { bid: { burl: string; lurl: string; price: number }[] }[] }).seatbid?.[0]?.bid[0];
    if (bid === undefined) return;
    const price = (Math.floor(bid.price * 700) / 1000).toFixed(3);
    const url = bid.burl.replace('${AUCTION_PRICE}', price);
    const status = await get(url);
    count('win', status);
    if (status === 200 || status === 204) {
      genuineMicros += Math.round(Number(price) * 1000);
      wins.push(url);
    }
  });
  const afterGenuine = await sample();
  // 2. Replays: every win notice again, `replays` times.
  const replayed = wins.flatMap((url) => Array.from({ length: replays }, () => url));
  await pool(replayed, 8, async (url) => count('replay', await get(url)));
  // 3. Forgeries: a bad signature, a raised bid, a far expiry, price 0 without a signature, a price above the bid.
  const forge = (url: string, i: number): string =>
    [
      url.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAA'),
      url.replace(/bid=[0-9]+/, 'bid=999999999'),
      url.replace(/exp=[0-9]+/, 'exp=99999999999999'),
      url.replace(/price=[^&]*/, 'price=0').replace(/&sig=[^&]+/, ''),
      url.replace(/price=[^&]*/, 'price=999999'),
    ][i % 5] as string;
  await pool(wins.slice(0, 1000).map(forge), 8, async (url) => count('forged notice', await get(url)));
  // 4. Floods: batches of 1,000 unsigned click events on real ids, and of events with ids outside the catalog.
  const real = world.catalog[0];
  const flood = (kind: 'unsigned' | 'unknown-ids', b: number) =>
    Array.from({ length: 1000 }, (_, i) => ({
      type: 'click',
      eventId: `${kind}-${b}-${i}`,
      requestId: `flood-${b}-${i}`,
      timestamp: Date.now(),
      userId: `u-${i % 50}`,
      adId: kind === 'unsigned' ? real?.adId : `ad-${b}-${i}`,
      campaignId: kind === 'unsigned' ? real?.campaignId : `cmp-${b}-${i}`,
      advertiserId: kind === 'unsigned' ? real?.advertiserId : `adv-${b}-${i}`,
      category: real?.category,
    }));
  for (let b = 0; b < floodBatches; b++) {
    count('event flood (unsigned)', await post('/events', { events: flood('unsigned', b) }));
    count('event flood (unknown ids)', await post('/events', { events: flood('unknown-ids', b) }));
  }
  const after = await sample();
  const exact = after.ledgerMicros === genuineMicros && after.spendMicros === genuineMicros;
  report.before = before;
  report.afterGenuine = afterGenuine;
  report.after = after;
  report.genuineMicros = genuineMicros;
  report.statuses = Object.fromEntries([...statuses].map(([phase, map]) => [phase, Object.fromEntries(map)]));
  console.log(`\n## Hostile load — ${bids} bids, ${wins.length} genuine wins, each replayed ${replays}×, ${Math.min(1000, wins.length)} forged notices, ${floodBatches} × 1,000 events of each flood\n`);
  console.log('| phase | answers by status |');
  console.log('|---|---|');
  for (const [phase, map] of statuses) console.log(`| ${phase} | ${[...map].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')} |`);
  console.log('\n| | before | after genuine traffic | after the attack |');
  console.log('|---|---|---|---|');
  const f = (v: number, d = 1) => v.toFixed(d);
  console.log(`| RSS MiB | ${f(before.rssMiB)} | ${f(afterGenuine.rssMiB)} | ${f(after.rssMiB)} |`);
  console.log(`| heap used MiB | ${f(before.heapMiB)} | ${f(afterGenuine.heapMiB)} | ${f(after.heapMiB)} |`);
  console.log(`| /metrics series | ${before.series} | ${afterGenuine.series} | ${after.series} |`);
  console.log(`| ledger spent (micros) | ${before.ledgerMicros} | ${afterGenuine.ledgerMicros} | ${after.ledgerMicros} |`);
  console.log(`| adserver_spend_committed_total (micros) | ${before.spendMicros} | ${afterGenuine.spendMicros} | ${after.spendMicros} |`);
  console.log(`| holds open | ${before.holdsOpen} | ${afterGenuine.holdsOpen} | ${after.holdsOpen} |`);
  console.log(`\nledger spent ${after.ledgerMicros} micros (metric ${after.spendMicros}) against the genuine clearing prices' ${genuineMicros}: ${exact ? 'exactly equal' : `DIFFERENT by ${after.ledgerMicros - genuineMicros}`}`);
  report.exact = exact;
  if (!exact) process.exitCode = 1;
} finally {
  const gone = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await gone;
}
const outDir = path.join(exampleDir, 'artifacts/bench');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `hostile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ ...report, loadAfter: os.loadavg() }, null, 2));
log(`wrote ${file}`);
