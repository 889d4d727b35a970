/**
 * Every core (issue 17): the same closed-loop autocannon load, one server after the other, on
 * a redis-server of the bench's own (so that its CPU is this run's alone):
 *
 * - `1`: one server process (`WORKERS=1`), inference on its event loop;
 * - `2`: `WORKERS=2`, a node:cluster primary and two workers on one port (`src/workers.ts`);
 * - `threads`: one process with inference in a worker thread (`thread-backend.ts`, option b);
 * - `embedded` (not run unless named): one process on the embedded store and ledger, no Redis —
 *   what Redis costs the one process.
 *
 * Each (but `embedded`) is on Redis with `ONLINE_LEARNING=0` (what `WORKERS=2` requires, so all three run the same
 * path), budgets that never bind, the default DCN-v2, one 300×250 banner per request (100
 * creatives scored), 2,000 users and pages cycled, ids unique per request. After a warm-up, one
 * window of `--seconds` per connection count: requests/s, p50 / p99 as this script measures each
 * response, and where the CPU went — the load generator (this process's CPU time over wall time,
 * in cores), each server process, Redis (`INFO cpu`, and `INFO commandstats`: which commands
 * took its time), and the rest of the machine (`/proc/stat` busy time less those) — with
 * `os.loadavg()` at the start of the window. Linux only (`/proc`).
 *
 *   npm run bench:workers -w @ctrkit/example-ad-server [-- --seconds 10 --connections 4 --variants 1,2,threads --warmup-seconds 3 --model DIR --redis URL]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { Redis } from 'ioredis';
import { DEFAULT_MODEL_DIR } from '../src/config.js';
import { makeModel } from '../src/training.js';
import { bidRequests, createWorld } from '../src/world.js';
import { childrenOf, machineCpuSeconds, processCpuSeconds } from './cpu-shares.js';
import { freePort, optionReader, stopChild } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, '..');

const argv = process.argv.slice(2);
const option = optionReader(argv);
const seconds = Number(option('--seconds', '10'));
const warmupSeconds = Number(option('--warmup-seconds', '3'));
const connectionSteps = option('--connections', '4').split(',').map(Number);
const variants = option('--variants', '1,2,threads').split(',') as Variant[];
const modelDir = path.resolve(option('--model', DEFAULT_MODEL_DIR));
const givenRedis = option('--redis', '');

type Variant = '1' | '2' | 'threads' | 'embedded';
const log = (line: string) => process.stderr.write(`${line}\n`);
const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '—');

// ---- Model, requests, Redis -----------------------------------------------------------------------
if (modelDir === DEFAULT_MODEL_DIR) {
  log('model: training (or reusing) the default DCN-v2 in artifacts/model …');
  const made = await makeModel({ out: DEFAULT_MODEL_DIR, log });
  log(`model: ${made.version}${made.reused ? ' (reused)' : ''}`);
}
const world = createWorld();
const bodies = bidRequests(world, 2_000, { stream: 'bench', imps: 1 }).map(({ bid }) => JSON.stringify({ ...bid, id: '[<id>]' }));

/** A redis-server of the bench's own (no persistence), unless `--redis` names one. */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  if (givenRedis !== '') return { url: givenRedis, stop: async () => undefined };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const up = await probe.connect().then(
      () => probe.ping().then((p) => p === 'PONG'),
      () => false,
    );
    probe.disconnect();
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async stop() {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
const redisServer = await startRedis();
const redis = new Redis(redisServer.url);
/** Calls and microseconds of each Redis command so far (`INFO commandstats`). */
const redisCommands = async (): Promise<Map<string, { calls: number; usec: number }>> => {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([a-z_|]+):calls=([0-9]+),usec=([0-9]+)/gm)) out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
};
const redisCpuSeconds = async (): Promise<number> => {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return read('used_cpu_sys') + read('used_cpu_user');
};

// ---- One server -------------------------------------------------------------------------------------
interface Server {
  readonly base: string;
  readonly process: ChildProcess;
  /** The server's processes: the one process, or the primary and its workers. */
  pids(): number[];
  stop(): Promise<void>;
}

async function startServer(variant: Variant): Promise<Server> {
  const port = await freePort();
  const entry = variant === 'threads' ? path.join(here, 'threaded-server.ts') : path.join(exampleDir, 'src/main.ts');
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    MODEL_DIR: modelDir,
    MODEL_ROOT: path.dirname(modelDir),
    LOG_LEVEL: 'warn',
    BUDGET_SCALE: '100000', // budgets never bind: every request runs the whole path, reservation included
    // Nor do leases: the server's default lease (1% of the smallest budget). A lease caps the budget
    // a process holds in open reservations, and with no win notices each stays open for its TTL
    // (HOLD_TTL_MS + 30 s): a lease of 50 refused 62-69% of one worker's requests at 4 and 8
    // connections as ledger_unavailable, while two workers (two leases) refused 0-3%.
    ...(variant === 'embedded' ? {} : { REDIS_URL: redisServer.url, REDIS_PREFIX: `ctrkit-bench:workers:${randomUUID()}:` }),
    ONLINE_LEARNING: '0',
    NOTICE_KEY: 'ab'.repeat(32),
    WORKERS: variant === '2' ? '2' : '1',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', entry], { cwd: exampleDir, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: { type?: string }) => {
      if (message.type === 'ready') resolve();
    });
    child.once('exit', (code) => reject(new Error(`the ${variant} server exited (${code}) before it was ready`)));
  });
  const pid = child.pid as number;
  return {
    base: `http://127.0.0.1:${port}`,
    process: child,
    // The cluster's workers are the primary's children (a single process's children are tsx's esbuild service).
    pids: () => (variant === '2' ? [pid, ...childrenOf(pid)] : [pid]),
    stop: () => stopChild(child, 30_000),
  };
}

// ---- One window -------------------------------------------------------------------------------------
interface Window {
  readonly variant: Variant;
  readonly connections: number;
  readonly seconds: number;
  readonly loadAverage: readonly number[];
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly ok200: number;
  readonly noBid204: number;
  /** The 204s by the class the server gave (`x-ctrkit-reason` up to its colon), most first. */
  readonly noBidClasses: readonly { readonly reason: string; readonly count: number }[];
  /** Other statuses, socket errors, timeouts, and no-bids because the auction ran out of time (nbr 15). */
  readonly errors: { status: number; socket: number; timeouts: number; deadline: number };
  /** Redis commands over the window: calls and microseconds per request, busiest first. */
  readonly redisCommands: readonly { command: string; callsPerRequest: number; usecPerRequest: number }[];
  /** CPU used over the window, in cores (CPU seconds ÷ wall seconds). */
  readonly cpu: { generator: number; server: number; perProcess: readonly number[]; redis: number; rest: number; machineBusy: number; cores: number };
}

/** CPU milliseconds a request of a window, from cores used over it. */
const perRequestMs = (w: Window, cpuCores: number): number => (1000 * cpuCores) / w.rps;

let cursor = 0;
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

async function measure(variant: Variant, server: Server, connections: number, windowSeconds: number): Promise<Window> {
  const latencies: number[] = [];
  const counts = { ok200: 0, noBid204: 0, status: 0, deadline: 0 };
  const classes = new Map<string, number>();
  const request: AutocannonRequest = {
    method: 'POST',
    path: '/openrtb2/bid',
    headers: { 'content-type': 'application/json' },
    setupRequest(r) {
      r.body = bodies[cursor++ % bodies.length] as string;
      return r;
    },
    onResponse(status, _body, _context, headers) {
      if (status === 200) counts.ok200++;
      else if (status === 204) {
        counts.noBid204++;
        const reason = String(headers['x-ctrkit-reason'] ?? 'none');
        const cls = reason.slice(0, Math.max(0, reason.indexOf(':'))) || reason;
        classes.set(cls, (classes.get(cls) ?? 0) + 1);
      } else counts.status++;
      if (headers['x-ctrkit-nbr'] === '15') counts.deadline++;
    },
  };
  const pids = server.pids();
  const loadAverage = os.loadavg().map((v) => Number(v.toFixed(2)));
  const commandsBefore = await redisCommands();
  const before = { self: process.cpuUsage(), procs: pids.map(processCpuSeconds), redis: await redisCpuSeconds(), machine: machineCpuSeconds(), at: performance.now() };
  const instance = autocannon({ url: server.base, connections, duration: windowSeconds, timeout: 5, idReplacement: true, requests: [request] });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  const result = await instance;
  const wall = (performance.now() - before.at) / 1000;
  const self = process.cpuUsage(before.self);
  const procs = pids.map((pid, i) => (processCpuSeconds(pid) - (before.procs[i] as number)) / wall);
  const redisCores = ((await redisCpuSeconds()) - before.redis) / wall;
  const machine = machineCpuSeconds();
  const commandsAfter = await redisCommands();
  const generator = (self.user + self.system) / 1e6 / wall;
  const serverCores = procs.reduce((s, v) => s + v, 0);
  const machineBusy = (machine.busy - before.machine.busy) / wall;
  const sorted = Float64Array.from(latencies).sort();
  const requests = counts.ok200 + counts.noBid204 + counts.status;
  const measured = (result.finish.getTime() - result.start.getTime()) / 1000;
  return {
    variant,
    connections,
    seconds: measured,
    loadAverage,
    requests,
    rps: requests / measured,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    ok200: counts.ok200,
    noBid204: counts.noBid204,
    noBidClasses: [...classes].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    errors: { status: counts.status, socket: result.errors, timeouts: result.timeouts, deadline: counts.deadline },
    redisCommands: [...commandsAfter]
      .map(([command, a]) => ({ command, calls: a.calls - (commandsBefore.get(command)?.calls ?? 0), usec: a.usec - (commandsBefore.get(command)?.usec ?? 0) }))
      .filter((c) => c.calls > 0 && c.command !== 'info')
      .sort((x, y) => y.usec - x.usec)
      .map((c) => ({ command: c.command, callsPerRequest: c.calls / Math.max(1, requests), usecPerRequest: c.usec / Math.max(1, requests) })),
    cpu: { generator, server: serverCores, perProcess: procs, redis: redisCores, rest: machineBusy - generator - serverCores - redisCores, machineBusy, cores: os.cpus().length },
  };
}

// ---- The runs ---------------------------------------------------------------------------------------
const machine = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadBefore: os.loadavg().map((v) => Number(v.toFixed(2))), date: new Date().toISOString() };
const label: Record<Variant, string> = { '1': '1 worker', '2': '2 workers (cluster)', threads: '1 process, inference thread', embedded: '1 process, no Redis' };
const windows: Window[] = [];
try {
  for (const variant of variants) {
    log(`${label[variant]}: starting`);
    const server = await startServer(variant);
    try {
      log(`${label[variant]}: pids ${server.pids().join(', ')}; warm-up ${warmupSeconds} s`);
      await measure(variant, server, Math.max(...connectionSteps), warmupSeconds);
      for (const connections of connectionSteps) {
        const w = await measure(variant, server, connections, seconds);
        windows.push(w);
        log(`${label[variant]}, ${connections} connections: ${f(w.rps, 0)} requests/s, p99 ${f(w.p99)} ms`);
      }
    } finally {
      await server.stop();
    }
  }
} finally {
  redis.disconnect();
  await redisServer.stop();
}

console.log(`\n## Every core — ${seconds} s per window, DCN-v2, 100 candidates per request; store, ledger and settlement registry in Redis (the embedded variant: in memory)\n`);
console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average before ${machine.loadBefore.join(' / ')}\n`);
console.log('CPU in cores (CPU seconds ÷ wall seconds); the server column sums its processes (the primary first for 2 workers).\n');
console.log('| server | connections | bid requests/s | p50 ms | p99 ms | 200 | 204 | errors (status/socket/timeout/deadline) | load generator CPU | server CPU (per process) | Redis CPU | rest of the machine | CPU ms per request: generator / server / Redis | load average at start |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const w of windows) {
  console.log(
    `| ${label[w.variant]} | ${w.connections} | ${f(w.rps, 0)} | ${f(w.p50)} | ${f(w.p99)} | ${w.ok200} | ${w.noBid204} | ${w.errors.status}/${w.errors.socket}/${w.errors.timeouts}/${w.errors.deadline} | ${f(w.cpu.generator)} | ${f(w.cpu.server)} (${w.cpu.perProcess.map((v) => f(v)).join(' + ')}) | ${f(w.cpu.redis)} | ${f(w.cpu.rest)} | ${f(perRequestMs(w, w.cpu.generator), 3)} / ${f(perRequestMs(w, w.cpu.server), 3)} / ${f(perRequestMs(w, w.cpu.redis), 3)} | ${w.loadAverage.join(' / ')} |`,
  );
}
console.log('');
// Windows that answer more 204s do less work a request (no reservation, no hold): say why each window's no-bids were.
for (const w of windows) {
  if (w.noBid204 === 0) continue;
  console.log(`${label[w.variant]}, ${w.connections} connections: 204 ${f((100 * w.noBid204) / Math.max(1, w.requests), 1)}% of answers — ${w.noBidClasses.map((c) => `${c.reason} ${c.count}`).join(', ')}`);
}
console.log('');
// What caps the rate on this machine's cores, from CPU time per request (which the other users'
// load changes far less than it changes the rate): with everything on C cores, at most
// C ÷ (generator + server + Redis) requests/s; one single-threaded server, also at most
// 1 ÷ its own — so N workers gain at most (generator + server + Redis)-bound over server-bound.
const cores = os.cpus().length;
for (const w of windows) {
  const g = perRequestMs(w, w.cpu.generator);
  const sv = perRequestMs(w, w.cpu.server);
  const r = perRequestMs(w, w.cpu.redis);
  const shared = (1000 * cores) / (g + sv + r);
  const single = w.variant === '1' || w.variant === 'embedded';
  const bound = single ? Math.min(shared, 1000 / sv) : shared;
  const commands = w.redisCommands.slice(0, 4).map((c) => `${c.command} ${f(c.callsPerRequest)}× ${f(c.usecPerRequest, 0)} µs`).join(', ');
  console.log(`${label[w.variant]}, ${w.connections} connections: CPU ${f(g + sv + r, 3)} ms a request (generator ${f(g, 3)}, server ${f(sv, 3)}, Redis ${f(r, 3)}${commands === '' ? '' : `: ${commands}`}) — on ${cores} idle cores at most ${f(bound, 0)} requests/s${single ? ' (one event loop: at most one core)' : ''}`);
}
console.log('');
for (const connections of connectionSteps) {
  const one = windows.find((w) => w.variant === '1' && w.connections === connections);
  if (one === undefined) continue;
  for (const other of windows.filter((w) => w.variant !== '1' && w.connections === connections)) {
    console.log(`${connections} connections: ${label[other.variant]} ÷ 1 worker = ${f(other.rps / one.rps)}× the requests/s (p99 ${f(other.p99)} ms against ${f(one.p99)} ms)`);
  }
}
const outDir = path.join(exampleDir, 'artifacts/bench');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `workers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ machine, model: modelDir, seconds, connectionSteps, windows, loadAfter: os.loadavg() }, null, 2));
log(`wrote ${file}`);
