/**
 * Load and soak test of the ad server on loopback: autocannon and the server on the same machine
 * (the project's two shared cores), the default DCN-v2 (`npm run model`), 100 creatives scored
 * per request (the whole display catalog), one banner impression per request, ids unique per
 * request, 2,000 distinct users and pages cycled.
 *
 * Load: closed-loop steps of autocannon connections (1, 2, 4, …) until a step has errors or the
 * throughput stops growing. A step is error-free when every response is 200 or 204, no request
 * errors or times out, no no-bid says the auction ran out of time (nbr 15), and the predictor
 * degraded nothing (ctrkit_degraded_total unchanged). Then runs at half the highest error-free
 * rate: autocannon's `overallRate` (which sends each second's share back to back, then waits), and
 * a paced open loop of this script's own (requests evenly spaced over the second on up to four
 * keep-alive sockets, latency counted from the scheduled send time so queueing behind a slow
 * answer is not hidden). Latencies are measured per response by this script (autocannon's own
 * histogram rounds to whole milliseconds).
 *
 * Soak (`--soak`): a fixed rate for a few minutes, each bid followed by its win notice (or a
 * health check after a no-bid), in consecutive windows; RSS and heap of the server sampled from
 * its /metrics, errors and latency per window.
 *
 *   npm run bench -w @ctrkit/example-ad-server [-- --step-seconds 10 --connections 1,2,4,8,16,32 --exhaustive --redis redis://127.0.0.1:6379]
 *   npm run soak -w @ctrkit/example-ad-server [-- --soak-seconds 300 --rate 600 --soak-connections 2 --window-seconds 20]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { Redis } from 'ioredis';
import { DEFAULT_MODEL_DIR } from '../src/config.js';
import { makeModel } from '../src/training.js';
import { bidRequests, createWorld } from '../src/world.js';
import { freePort, metric, optionReader, stopChild } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, '..');

// ---- Options ------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const option = optionReader(argv);
const soak = flag('--soak');
/** Run every connection step, even past saturation and errors (to see where errors begin). */
const exhaustive = flag('--exhaustive');
const stepSeconds = Number(option('--step-seconds', '10'));
const connectionSteps = option('--connections', '1,2,3,4,6,8,12,16,24,32').split(',').map(Number);
const redisUrl = option('--redis', '');
const soakSeconds = Number(option('--soak-seconds', '300'));
const soakRate = Number(option('--rate', '600'));
const windowSeconds = Number(option('--window-seconds', '20'));
const soakConnections = Number(option('--soak-connections', '2'));
const distinct = 2_000;

// ---- Helpers ------------------------------------------------------------------------------------
const log = (line: string) => process.stderr.write(`${line}\n`);

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Cumulative counts of the server's own bid latency histogram, by upper bound (seconds). */
function bidBuckets(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('adserver_http_request_duration_seconds_bucket{') || !line.includes('route="/openrtb2/bid"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** The server-side p99 of a run: the histogram bucket bound (ms) where 99% of its bid requests were answered. */
function serverP99(before: string, after: string): number {
  const a = bidBuckets(before);
  const b = bidBuckets(after);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const total = (b.get(Number.POSITIVE_INFINITY) ?? 0) - (a.get(Number.POSITIVE_INFINITY) ?? 0);
  for (const bound of bounds) if ((b.get(bound) ?? 0) - (a.get(bound) ?? 0) >= 0.99 * total) return bound * 1000;
  return Number.NaN;
}

// ---- The server ---------------------------------------------------------------------------------
log('model: training (or reusing) the default DCN-v2 in artifacts/model …');
const made = await makeModel({ out: DEFAULT_MODEL_DIR, log });
log(`model: ${made.version}${made.reused ? ' (reused)' : ''}`);

const world = createWorld();
const bodies = bidRequests(world, distinct, { stream: 'bench', imps: 1 }).map(({ bid }) => JSON.stringify({ ...bid, id: '[<id>]' }));

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const prefix = redisUrl === '' ? undefined : `ctrkit-bench:ad-server:${randomUUID()}:`;
const serverEnv: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: String(port),
  MODEL_DIR: DEFAULT_MODEL_DIR,
  LOG_LEVEL: 'warn',
  BUDGET_SCALE: '100000', // budgets never bind: every request runs the whole path, reservation included
  ATTRIBUTION_WINDOW_MS: soak ? '60000' : '1800000', // soak: impressions labeled within a minute, so the quality monitor reaches its steady state
  // The server's default lease, which does not bind either (a lease of 50 refused most requests as
  // ledger_unavailable at a few hundred a second: see bench/workers.ts).
  ...(redisUrl === '' ? {} : { REDIS_URL: redisUrl, REDIS_PREFIX: prefix as string }),
};
const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', path.join(exampleDir, 'src/main.ts')], {
  cwd: exampleDir,
  env: { ...process.env, ...serverEnv },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const stopServer = (): Promise<void> => stopChild(server, 15_000);
process.on('SIGINT', () => {
  void stopServer().then(() => process.exit(130));
});
await new Promise<void>((resolve, reject) => {
  server.on('message', (message: { type?: string }) => {
    if (message.type === 'ready') resolve();
  });
  server.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
});
log(`server: pid ${server.pid} on ${base}${redisUrl === '' ? ' (embedded store and ledger)' : ` (Redis ${redisUrl}, prefix ${prefix})`}`);

const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();

// ---- One run ------------------------------------------------------------------------------------
interface RunResult {
  readonly connections: number;
  readonly rate: number | undefined;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** The server's own p99 (from its latency histogram: the bucket bound holding 99% of bid requests), ms. */
  readonly serverP99: number;
  readonly ok200: number;
  readonly noBid204: number;
  readonly otherStatus: number;
  /** Win notices or health checks (soak) answered with something else than 200 / 204. */
  readonly noticeErrors: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly deadline: number;
  readonly degraded: number;
  readonly errorFree: boolean;
}

let cursor = 0;
const bidRequest = (): AutocannonRequest => ({
  method: 'POST',
  path: '/openrtb2/bid',
  headers: { 'content-type': 'application/json' },
  setupRequest(request) {
    request.body = bodies[cursor++ % bodies.length] as string;
    return request;
  },
});

/** What a run counts as answers arrive. */
interface Tally {
  readonly latencies: number[];
  ok200: number;
  noBid204: number;
  otherStatus: number;
  noticeErrors: number;
  errors: number;
  timeouts: number;
  deadline: number;
}

const newTally = (): Tally => ({ latencies: [], ok200: 0, noBid204: 0, otherStatus: 0, noticeErrors: 0, errors: 0, timeouts: 0, deadline: 0 });

/** Counts one bid answer by status and by the no-bid reason header. */
function countBid(tally: Tally, status: number, nbr: unknown): void {
  if (status === 200) tally.ok200++;
  else if (status === 204) tally.noBid204++;
  else tally.otherStatus++;
  if (nbr === '15') tally.deadline++;
}

/** Percentiles, throughput and the error-free verdict of a run, from its tally and the server's metrics before and after. */
function summarize(connections: number, rate: number | undefined, seconds: number, tally: Tally, before: string, after: string): RunResult {
  const sorted = Float64Array.from(tally.latencies).sort();
  const degraded = metric(after, 'ctrkit_degraded_total') - metric(before, 'ctrkit_degraded_total');
  const requests = tally.ok200 + tally.noBid204 + tally.otherStatus;
  const { latencies: _latencies, ...counts } = tally;
  return {
    connections,
    rate,
    seconds,
    requests,
    rps: requests / seconds,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: percentile(sorted, 1),
    mean: sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length),
    serverP99: serverP99(before, after),
    ...counts,
    degraded,
    errorFree: tally.otherStatus === 0 && tally.noticeErrors === 0 && tally.errors === 0 && tally.timeouts === 0 && tally.deadline === 0 && degraded === 0,
  };
}

async function run(connections: number, seconds: number, rate?: number, withNotices = false): Promise<RunResult> {
  const tally = newTally();
  const before = await scrape();
  const bid = bidRequest();
  bid.onResponse = (status, body, context, headers) => {
    countBid(tally, status, headers['x-ctrkit-nbr']);
    context.kind = 'bid';
    context.win = undefined;
    if (withNotices && status === 200) {
      const parsed = JSON.parse(body) as { seatbid?: { bid: { burl: string; price: number }[] }[] };
      const first = parsed.seatbid?.[0]?.bid[0];
      if (first !== undefined) context.win = first.burl.replace(base, '').replace('${AUCTION_PRICE}', (first.price * 0.7).toFixed(6));
    }
  };
  const requests: AutocannonRequest[] = [bid];
  if (withNotices) {
    requests.push({
      method: 'GET',
      setupRequest(request, context) {
        request.path = typeof context.win === 'string' ? context.win : '/healthz';
        delete request.body;
        request.headers = {};
        return request;
      },
      onResponse(status, _body, context) {
        context.kind = 'notice';
        if (status !== 204 && status !== 200) tally.noticeErrors++;
      },
    });
  }
  const instance = autocannon({
    url: base,
    connections,
    duration: seconds,
    timeout: 5,
    idReplacement: true,
    requests,
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
  instance.on('response', (client: { requestIterator?: { context?: { kind?: string } } }, _status: number, _bytes: number, responseTime: number) => {
    if (client.requestIterator?.context?.kind !== 'notice') tally.latencies.push(responseTime);
  });
  const result = await instance;
  const after = await scrape();
  tally.errors = result.errors;
  tally.timeouts = result.timeouts;
  return summarize(connections, rate, (result.finish.getTime() - result.start.getTime()) / 1000, tally, before, after);
}

/**
 * An open-loop run at a fixed rate: one request every `1000 / rate` ms, whatever the answers do,
 * on a keep-alive pool of `sockets` connections (a request waits for a free socket when all are
 * busy). Latency runs from the scheduled send time to the end of the response, so a request
 * queued behind a slow one carries the wait (no coordinated omission).
 */
async function paced(rate: number, seconds: number, sockets = 4): Promise<RunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const tally = newTally();
  const before = await scrape();
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const finish = () => {
      if (++done === total) resolve();
    };
    const fire = (scheduled: number) => {
      const body = (bodies[cursor++ % bodies.length] as string).replace('[<id>]', randomUUID());
      const request = http.request(
        { agent, host: '127.0.0.1', port, method: 'POST', path: '/openrtb2/bid', timeout: 5000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', () => {
            tally.latencies.push(performance.now() - scheduled);
            countBid(tally, response.statusCode ?? 0, response.headers['x-ctrkit-nbr']);
            finish();
          });
        },
      );
      let timedOut = false;
      request.on('timeout', () => {
        timedOut = true;
        tally.timeouts++;
        request.destroy(new Error('timeout'));
      });
      request.on('error', () => {
        if (!timedOut) tally.errors++;
        finish();
      });
      request.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) fire(start + sent++ * interval);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  const taken = (performance.now() - start) / 1000;
  agent.destroy();
  return summarize(sockets, rate, taken, tally, before, await scrape());
}

const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '—');
const header = '| connections | rate | bid requests/s | p50 ms | p90 ms | p99 ms | max ms | server p99 ≤ ms | 200 | 204 | errors (status/socket/timeout/deadline/degraded) |';
const rule = '|---|---|---|---|---|---|---|---|---|---|---|';
const row = (r: RunResult) =>
  `| ${r.connections} | ${r.rate ?? 'max'} | ${f(r.rps, 0)} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.max, 1)} | ${f(r.serverP99, 1)} | ${r.ok200} | ${r.noBid204} | ${r.otherStatus}/${r.errors}/${r.timeouts}/${r.deadline}/${r.degraded}${r.errorFree ? '' : ' ✗'} |`;

const machine = {
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  loadBefore: os.loadavg().map((v) => Number(v.toFixed(2))),
  date: new Date().toISOString(),
};
// Banner requests: each scores the display creatives only (a request scores the creatives of its impressions' formats).
const scoredPerRequest = world.catalog.filter((c) => c.format === 'display').length;
const report: Record<string, unknown> = { machine, model: made.version, server: serverEnv, catalog: world.catalog.length, candidatesPerRequest: scoredPerRequest, distinctRequests: distinct };

try {
  log('warm-up: 5 s at 4 connections');
  await run(4, 5, undefined, soak); // in the soak, with win notices: no holds left waiting from the warm-up

  if (!soak) {
    console.log(`\n## Load — ${scoredPerRequest} candidates per request, DCN-v2, ${redisUrl === '' ? 'embedded store and ledger' : 'Redis store and ledger'}, ${stepSeconds} s per step\n`);
    console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average before ${machine.loadBefore.join(' / ')}\n`);
    console.log(header);
    console.log(rule);
    const steps: RunResult[] = [];
    let best: RunResult | undefined;
    let flat = 0;
    for (const connections of connectionSteps) {
      const result = await run(connections, stepSeconds);
      steps.push(result);
      console.log(row(result));
      if (!result.errorFree && !exhaustive) break;
      if (best === undefined || result.rps > best.rps * 1.03) {
        best = result;
        flat = 0;
      } else if (++flat >= 2 && !exhaustive) break; // saturated: more connections only add queueing
    }
    const errorFree = steps.filter((s) => s.errorFree);
    // The highest error-free rate, read at the fewest connections that reach it (within 3%, the
    // step-to-step noise here): past that point more connections add queueing, not throughput.
    const bestRps = Math.max(...errorFree.map((s) => s.rps));
    const top = errorFree.filter((s) => s.rps >= bestRps / 1.03).sort((a, b) => a.connections - b.connections)[0];
    report.steps = steps;
    if (top !== undefined) {
      const halfRate = Math.max(1, Math.round(top.rps / 2));
      console.log(`\nhighest error-free rate: ${f(top.rps, 0)} bid requests/s at ${top.connections} connections (p50 ${f(top.p50)} ms, p99 ${f(top.p99)} ms)`);
      console.log(`\nhalf of it, fixed rate ${halfRate}/s (autocannon overallRate):\n`);
      console.log(header);
      console.log(rule);
      const halves: RunResult[] = [];
      for (const connections of [1, 2, 4]) {
        const half = await run(connections, stepSeconds, halfRate);
        halves.push(half);
        console.log(row(half));
      }
      console.log(`\nhalf of it, paced open loop (${halfRate}/s evenly spaced, up to 4 sockets, latency from the scheduled send time):\n`);
      console.log(header.replace('connections', 'sockets'));
      console.log(rule);
      const pacedHalf = await paced(halfRate, stepSeconds);
      console.log(row(pacedHalf));
      report.highest = top;
      report.half = halves;
      report.halfPaced = pacedHalf;
    }
  } else {
    console.log(`\n## Soak — ${soakSeconds} s at ${soakRate} requests/s over ${soakConnections} connections (each bid followed by its win notice, or a health check after a no-bid), ${windowSeconds} s windows\n`);
    console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average before ${machine.loadBefore.join(' / ')}\n`);
    console.log('| window | t (s) | bids/s | bid p50 ms | bid p99 ms | 200 | 204 | errors | RSS MiB | heap used floor MiB | open holds | store keys |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    const windows: (RunResult & { t: number; rssMiB: number; heapMiB: number; holds: number; storeKeys: number })[] = [];
    const started = Date.now();
    for (let w = 0; (Date.now() - started) / 1000 < soakSeconds; w++) {
      // Heap used swings with the collector's phase; its lowest reading in a window (scraped every
      // second) tracks what stays live, which is what grows when memory leaks.
      let heapFloor = Number.POSITIVE_INFINITY;
      const sampler = setInterval(() => {
        void scrape()
          .then((text) => {
            heapFloor = Math.min(heapFloor, metric(text, 'nodejs_heap_size_used_bytes'));
          })
          .catch(() => undefined);
      }, 1000);
      const result = await run(soakConnections, windowSeconds, soakRate, true).finally(() => clearInterval(sampler));
      const text = await scrape();
      const sample = {
        ...result,
        t: Math.round((Date.now() - started) / 1000),
        rssMiB: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
        heapMiB: Math.min(heapFloor, metric(text, 'nodejs_heap_size_used_bytes')) / 2 ** 20,
        holds: metric(text, 'adserver_holds_open'),
        storeKeys: metric(text, 'adserver_feature_store', { stat: 'users' }) + metric(text, 'adserver_feature_store', { stat: 'ads' }) + metric(text, 'adserver_feature_store', { stat: 'pairs' }),
      };
      windows.push(sample);
      const errors = sample.otherStatus + sample.noticeErrors + sample.errors + sample.timeouts + sample.deadline + sample.degraded;
      console.log(`| ${w + 1} | ${sample.t} | ${f(sample.rps, 0)} | ${f(sample.p50)} | ${f(sample.p99)} | ${sample.ok200} | ${sample.noBid204} | ${errors} | ${f(sample.rssMiB, 1)} | ${f(sample.heapMiB, 1)} | ${sample.holds} | ${sample.storeKeys} |`);
    }
    // Growth over the second half of the soak (after warm-up effects): least-squares slope per minute.
    const tail = windows.slice(Math.floor(windows.length / 2));
    const slope = (pick: (w: (typeof windows)[number]) => number): number => {
      const n = tail.length;
      if (n < 2) return Number.NaN;
      const mt = tail.reduce((s, w) => s + w.t, 0) / n;
      const mv = tail.reduce((s, w) => s + pick(w), 0) / n;
      const num = tail.reduce((s, w) => s + (w.t - mt) * (pick(w) - mv), 0);
      const den = tail.reduce((s, w) => s + (w.t - mt) ** 2, 0);
      return (num / den) * 60;
    };
    const first = windows[0];
    const last = windows[windows.length - 1];
    const totalErrors = windows.reduce((s, w) => s + w.otherStatus + w.noticeErrors + w.errors + w.timeouts + w.deadline + w.degraded, 0);
    console.log(
      `\nRSS ${f(first?.rssMiB ?? NaN, 1)} → ${f(last?.rssMiB ?? NaN, 1)} MiB (second-half slope ${f(slope((w) => w.rssMiB))} MiB/min); heap used floor ${f(first?.heapMiB ?? NaN, 1)} → ${f(last?.heapMiB ?? NaN, 1)} MiB (slope ${f(slope((w) => w.heapMiB))} MiB/min); errors ${totalErrors} in ${windows.reduce((s, w) => s + w.requests, 0)} bid requests`,
    );
    report.soak = { rate: soakRate, seconds: soakSeconds, windowSeconds, windows, rssSlopeMiBPerMin: slope((w) => w.rssMiB), heapSlopeMiBPerMin: slope((w) => w.heapMiB), totalErrors };
  }
} finally {
  await stopServer();
  if (prefix !== undefined) {
    const redis = new Redis(redisUrl);
    let cursorKey = '0';
    do {
      const [next, keys] = await redis.scan(cursorKey, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursorKey = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursorKey !== '0');
    redis.disconnect();
  }
}
const outDir = path.join(exampleDir, 'artifacts/bench');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `${soak ? 'soak' : 'load'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ ...report, loadAfter: os.loadavg() }, null, 2));
log(`wrote ${file}`);
