/**
 * Test helpers: small models trained once (under a lock, shared by the test files), servers in
 * this process or as child processes, a throwaway redis-server of our own, unique key prefixes on
 * the shared Redis and their cleanup, and HTTP shortcuts. Every process a test starts is killed
 * by `stopAll()`, even when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { sharedRedisFor } from '@ctrkit/test-support';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.js';
import { createAdServer, type AdServer, type AdServerOptions } from '../src/server.js';
import { makeModel } from '../src/training.js';
import { bidRequests, createWorld, type SimBidRequest } from '../src/world.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const EXAMPLE_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(EXAMPLE_DIR, '../..');
/** Test models live here (git-ignored): `v1` serves, `v2` is swapped in. */
export const MODEL_ROOT = path.join(EXAMPLE_DIR, 'artifacts/test-models');
export const MODEL_V1 = path.join(MODEL_ROOT, 'v1');
export const MODEL_V2 = path.join(MODEL_ROOT, 'v2');
/** A model trained on another feature spec (a smaller id space): a swap to it must be refused. */
export const MODEL_OTHER_SPEC = path.join(MODEL_ROOT, 'other-spec');
export const ADMIN_TOKEN = 'test-token';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Trains the small test models (20,000 rows, one pass, 2^18 ids; one on 2^16 ids) unless they are there. Test
 * files run in parallel: the first takes a lock directory, the others wait for it to go.
 */
export async function ensureTestModels(): Promise<void> {
  const lock = path.join(EXAMPLE_DIR, 'artifacts/.test-models.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else trains; a lock older than three minutes belongs to a dead run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      await sleep(250);
    }
  }
  try {
    for (const [dir, seed, idSpace] of [[MODEL_V1, 1, 1 << 18], [MODEL_V2, 2, 1 << 18], [MODEL_OTHER_SPEC, 3, 1 << 16]] as const) {
      await makeModel({ out: dir, rows: 20_000, epochs: 1, idSpace, seed });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Environment of a test server: loopback, a free port, test models, quiet logs. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    MODEL_DIR: MODEL_V1,
    MODEL_ROOT,
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '0',
    // Generous stage budgets: the test machine is shared and busy.
    PREDICT_BUDGET_MS: '200',
    LOOKUP_BUDGET_MS: '100',
    ENCODE_BUDGET_MS: '50',
    ...overrides,
  };
}

/** A server in this process, listening on loopback. */
export interface InProcess {
  readonly server: AdServer;
  readonly url: string;
}

const inProcess = new Set<AdServer>();
const children = new Set<ChildProcess>();
const redisServers = new Set<OwnRedis>();

/**
 * Starts a server in this process and waits until it is ready (unless `ready: false`).
 *
 * @param env - Overrides of {@link testEnv}.
 * @param options - Hooks, and whether to load the model.
 * @returns The server and its URL.
 */
export async function startInProcess(env: Record<string, string | undefined> = {}, options: AdServerOptions & { ready?: boolean } = {}): Promise<InProcess> {
  const server = await createAdServer(readConfig(testEnv(env)), options);
  inProcess.add(server);
  const url = await server.listen();
  if (options.ready !== false) await server.ready();
  return { server, url };
}

/** A server in a child process. */
export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (or signal) when it exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `src/main.ts` as a real server process (node + tsx, sources through the
 * `@ctrkit/source` condition) and waits for its "ready" message.
 *
 * @param env - Overrides of {@link testEnv}; give a PORT (free port) to know it in advance.
 * @returns The running child.
 */
export async function spawnServer(env: Record<string, string | undefined> = {}): Promise<Child> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', path.join(EXAMPLE_DIR, 'src/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...testEnv({ ...env, PORT: port }), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not get ready in 90 s:\n${output}`)), 90_000);
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url as string);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}

/** A redis-server of our own (never the shared one), to stop and start again. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills it (SIGKILL: Redis goes away without a goodbye). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` on a free port, without persistence.
 *
 * @returns The server's handle.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child = proc;
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await redisAnswers(port, 500)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  };
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await gone;
    },
    start,
  };
  await start();
  redisServers.add(own);
  return own;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}

/** Shuts every in-process server down and kills every child process and own redis-server. */
export async function stopAll(): Promise<void> {
  await Promise.all([...inProcess].map((server) => server.shutdown('test over').catch(() => undefined)));
  inProcess.clear();
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  redisServers.clear();
}

// ---- Shared Redis -------------------------------------------------------------------------

/** Whether a Redis answers PING on a loopback port within `connectTimeoutMs`. */
async function redisAnswers(port: number, connectTimeoutMs: number): Promise<boolean> {
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: connectTimeoutMs });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Whether the shared Redis answers at 127.0.0.1:6379, under the skip-or-fail rule: a visible skip
 * locally, an error when `CI` is set.
 */
export async function sharedRedisAvailable(forWhat = 'example-ad-server: the tests on the shared Redis'): Promise<boolean> {
  return sharedRedisFor(forWhat);
}

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix of our own on the shared Redis. */
export function uniquePrefix(what: string): string {
  return `ctrkit-test:ad-server:${what}:${randomUUID()}:`;
}

/** Deletes every key under `prefix` on the shared Redis (and only those). */
export async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis({ port: 6379, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

// ---- Traffic and HTTP ---------------------------------------------------------------------

let world: ReturnType<typeof createWorld> | undefined;
/** The world the servers bid in (same seed). */
export function testWorld(): ReturnType<typeof createWorld> {
  world ??= createWorld();
  return world;
}

/** `count` bid requests of the world, with ids unique to this call. */
export function makeBidRequests(count: number, options: { imps?: number; bidfloor?: number; tmax?: number; media?: 'banner' | 'video' | 'native' } = {}): SimBidRequest[] {
  const stream = `t${randomUUID().slice(0, 8)}`;
  return bidRequests(testWorld(), count, { stream, ...options }).map((r) => r.bid);
}

/** A response with its body read. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON (undefined when empty or not JSON). */
  readonly json: unknown;
}

/** Sends a request and reads the whole answer. */
export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs JSON (a value, or raw text as is). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** The bids of a BidResponse. */
export function bidsOf(answer: Answer): { id: string; impid: string; price: number; adid: string; cid: string; burl: string; lurl: string; ext: { ctrkit: { pctr: number; model: string; token: string } } }[] {
  const body = answer.json as { seatbid?: { bid: ReturnType<typeof bidsOf> }[] } | undefined;
  return body?.seatbid?.flatMap((s) => s.bid) ?? [];
}

/** Reads one sample of a Prometheus text exposition (the sum over matching label sets). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (.+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    total += Number(match[3]);
    found = true;
  }
  return found ? total : Number.NaN;
}

/** Waits until `check` holds (polling every 50 ms), or throws after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export { existsSync, sleep };
