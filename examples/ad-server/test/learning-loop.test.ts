/**
 * The learning loop across a fleet, with real processes and a real NATS JetStream (a stream,
 * subjects and a model bucket of this run's own): two servers publish served rows and clicks, a
 * learner joins and trains and publishes versions that the servers swap in. Mid-run the learner
 * is SIGKILLed twice — once by its own fault hook right after a durable flush and before its
 * acks (the moment that duplicates labels unless the restart dedups), once from outside together
 * with a server — and both are started again. At the end every served row on the stream is
 * labeled exactly once, and every click on the stream made its row a positive exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createNatsEventStream } from '@ctrkit/core/nats';
import type { ClickEvent, ServedRow, StreamDelivery } from '@ctrkit/core';
import { readServedLog } from '@ctrkit/features/node';
import { pollUntil, sharedNatsFor, sleep, spawnSource } from '@ctrkit/test-support';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LearnerStats } from '../src/learner/learner.js';
import { makeBidRequests, testWorld } from './fixtures/bid-requests.js';
import { bidsOf, postJson, send } from './fixtures/http.js';
import { trackProcess } from './fixtures/processes.js';
import { metric } from './fixtures/prometheus-text.js';
import { spawnServer, stopAll, testEnv, type Child } from './fixtures/servers.js';
import { EXAMPLE_DIR, ensureTestModels } from './fixtures/test-models.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 240_000 });

const present = await sharedNatsFor('example-ad-server: the learning loop across processes (servers → NATS → learner → servers)');
const run = randomUUID().slice(0, 8);
const names = { NATS_STREAM: `CTRKIT_LOOP_${run}`, NATS_SUBJECT_PREFIX: `ctrkit.loop${run}`, NATS_MODEL_BUCKET: `ctrkit-loop-${run}` };
const WINDOW_MS = 5_000;
const fleetEnv = {
  EVENT_STREAM: 'nats',
  ...names,
  ATTRIBUTION_WINDOW_MS: String(WINDOW_MS),
  NOTICE_KEY: randomBytes(32).toString('hex'),
  // A small guard, loose: this test is about the transport and the counts, not the model's quality.
  ONLINE_HOLDOUT_ROWS: '20',
  ONLINE_MIN_ROWS: '20',
  ONLINE_MIN_POSITIVES: '1',
  ONLINE_EVERY_ROWS: '10',
  ONLINE_TOLERANCE: '0.9',
  LEARNER_EVERY_MS: '2000',
  LEARNER_HOLDOUT_ROWS: '20',
  LEARNER_LATENESS_MS: '1000',
  LEARNER_ACK_WAIT_MS: '8000',
};
const learnerDir = mkdtempSync(path.join(tmpdir(), 'ctrkit-learner-'));

beforeAll(async () => {
  if (present) await ensureTestModels();
});
afterAll(async () => {
  await stopAll();
  rmSync(learnerDir, { recursive: true, force: true });
  if (!present) return;
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    await (await createNatsEventStream({ connection: nc, stream: names.NATS_STREAM, subjectPrefix: names.NATS_SUBJECT_PREFIX })).destroy();
    await (await new Objm(nc).open(names.NATS_MODEL_BUCKET)).destroy();
  } catch {
    // nothing to clean
  } finally {
    await nc.close();
  }
});

interface LearnerChild {
  readonly process: ChildProcess;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stats(): Promise<LearnerStats>;
}

async function startLearner(extra: Record<string, string> = {}): Promise<LearnerChild> {
  const child = spawnSource(path.join(EXAMPLE_DIR, 'src/learner/main.ts'), [], {
    env: { ...process.env, ...testEnv({ ...fleetEnv, LEARNER_DIR: learnerDir, LEARNER_PORT: '0', ...extra }), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  trackProcess(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`learner did not get ready in 90 s:\n${output}`)), 90_000);
    child.on('message', (m: { type?: string; url?: string }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.url as string);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`learner exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return { process: child, url, exited, stats: async () => (await send(`${url}/stats`)).json as LearnerStats };
}

const kill = async (child: ChildProcess, exited: Promise<unknown>) => {
  child.kill('SIGKILL');
  await exited;
};

/** What the test saw acknowledged: served rows whose win notice was answered, clicks answered 200. */
const acknowledged = { served: new Set<string>(), clicks: new Set<string>() };
/** Clicks still to send: those of bids whose server was killed go to another. */
type Due = { event: Record<string, unknown>; eventId: string };

/** Bids on `server`, settles each win, and clicks every third (returned, unsent, when `holdClicks`). */
async function traffic(server: Child, count: number, holdClicks = false): Promise<Due[]> {
  const world = testWorld();
  const held: Due[] = [];
  let n = 0;
  for (const request of makeBidRequests(count)) {
    for (const bid of bidsOf(await postJson(`${server.url}/openrtb2/bid`, request))) {
      const win = await send(bid.burl.replace('${AUCTION_PRICE}', String(bid.price)));
      expect(win.status).toBe(204);
      acknowledged.served.add(`${request.id}:${bid.impid}`);
      if (n++ % 3 !== 0) continue;
      const creative = world.creativeById.get(bid.adid);
      const eventId = `${request.id}:${bid.impid}:c`;
      const event = {
        type: 'click', eventId, requestId: request.id, timestamp: Date.now(), userId: request.user.id, adId: bid.adid,
        campaignId: creative?.campaignId, advertiserId: creative?.advertiserId, category: creative?.category, format: 'display', token: bid.ext.ctrkit.token,
      };
      if (holdClicks) held.push({ event, eventId });
      else await click(server, { event, eventId });
    }
  }
  return held;
}

async function click(server: Child, due: Due): Promise<void> {
  const answer = await postJson(`${server.url}/events`, { events: [due.event] });
  expect(answer.status).toBe(200);
  acknowledged.clicks.add(due.eventId);
}

/** Everything on the stream now, read by a consumer of the test's own. */
async function audit(): Promise<{ served: Map<string, ServedRow>; clicks: ClickEvent[] }> {
  const stream = await createNatsEventStream({ servers: '127.0.0.1:4222', ...{ stream: names.NATS_STREAM, subjectPrefix: names.NATS_SUBJECT_PREFIX } });
  const served = new Map<string, ServedRow>();
  const clicks: ClickEvent[] = [];
  let last = Date.now();
  const subscription = await stream.subscribe({
    consumer: `audit-${randomUUID().slice(0, 8)}`,
    topics: ['served', 'click'],
    handler: async (d: StreamDelivery) => {
      if (d.event.topic === 'served') served.set(d.event.row.eventId, d.event.row);
      else if (d.event.topic === 'click') clicks.push(d.event.event);
      last = Date.now();
      await d.ack();
    },
  });
  await pollUntil('the audit to read the whole stream', () => served.size >= acknowledged.served.size && Date.now() - last > 1_500, { timeoutMs: 30_000, intervalMs: 100 });
  await subscription.close();
  await stream.close();
  return { served, clicks };
}

/** Every labeled row on disk (active folder and archive), with how often each id occurs. */
async function labeled(): Promise<Map<string, { label: number; count: number; requestId: string; adId: string }>> {
  const rows = new Map<string, { label: number; count: number; requestId: string; adId: string }>();
  for (const dir of ['labeled', 'archive']) {
    try {
      for await (const b of readServedLog(path.join(learnerDir, dir))) {
        for (let r = 0; r < b.batch.rows; r++) {
          const id = b.eventIds[r] as string;
          const seen = rows.get(id);
          if (seen === undefined) rows.set(id, { label: b.labels?.[r] as number, count: 1, requestId: b.requestIds[r] as string, adId: b.adIds[r] as string });
          else seen.count++;
        }
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'E_IO') throw error; // no archive yet
    }
  }
  return rows;
}

describe.runIf(present)('learning loop across processes (NATS JetStream)', () => {
  it('SIGKILLed learner and server: after the restarts every published row is labeled once and every published click joined once', async () => {
    // The first learner kills itself right after its third durable flush, before that flush's acks.
    let learner = await startLearner({ LEARNER_FAULT: 'kill-after-flush:3' });
    const [a, b0] = await Promise.all([spawnServer(fleetEnv), spawnServer(fleetEnv)]);
    let b = b0;
    const firstGone = learner.exited;
    for (let round = 0; round < 20 && !(await Promise.race([firstGone.then(() => true), sleep(0).then(() => false)])); round++) {
      await traffic(a, 4);
      await traffic(b, 4);
      await sleep(400);
    }
    expect((await firstGone).signal).toBe('SIGKILL');

    // Restarted: what the dead one had made durable but not acked comes again, and is dropped.
    learner = await startLearner();
    await traffic(a, 10);
    await traffic(b, 10);
    // B's last bids are settled; their clicks are still due when B and the learner die together.
    const due = await traffic(b, 10, true);
    await pollUntil('the restarted learner to label rows', async () => (await learner.stats()).joiner.positives > 0, { timeoutMs: 60_000, intervalMs: 200 });
    const second = await learner.stats();
    await Promise.all([kill(learner.process, learner.exited), kill(b.process, b.exited)]);
    // The host sends B's clicks to the server that is left.
    for (const d of due) await click(a, d);
    await traffic(a, 10);
    [learner, b] = await Promise.all([startLearner(), spawnServer(fleetEnv)]);
    await traffic(a, 10);
    await traffic(b, 10);

    const stream = await audit();
    // Nothing acknowledged was lost on the way to the stream.
    for (const id of acknowledged.served) expect(stream.served.has(id)).toBe(true);
    const streamClicks = new Set(stream.clicks.map((c) => c.eventId));
    for (const id of acknowledged.clicks) expect(streamClicks.has(id)).toBe(true);

    // Wait for every window to close and every label to be durable.
    await pollUntil(
      'every served row on the stream to be labeled',
      async () => {
        const s = await learner.stats();
        return s.joiner.pending === 0 && s.joiner.holding === 0 && (await labeled()).size >= stream.served.size;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const rows = await labeled();
    const duplicated = [...rows].filter(([, r]) => r.count > 1).map(([id]) => id);
    expect(duplicated).toEqual([]);
    expect(new Set(rows.keys())).toEqual(new Set(stream.served.keys()));
    // Each click on the stream made its row a positive, once; no other row is a positive.
    const clickedRows = new Set(stream.clicks.map((c) => `${c.requestId}\u0001${c.adId}`));
    const positives = [...rows.values()].filter((r) => r.label === 1).map((r) => `${r.requestId}\u0001${r.adId}`);
    expect(new Set(positives)).toEqual(clickedRows);
    expect(positives.length).toBe(clickedRows.size);
    const last = await learner.stats();
    // The dedup was at work (the first learner died between a durable flush and its acks).
    expect(second.output.redelivered + last.output.redelivered).toBeGreaterThan(0);
    expect(last.joiner.orphans.click + last.joiner.late.click).toBe(0);

    // The learner published versions; both servers (the restarted one too) swapped one in.
    expect(last.published.seq).toBeGreaterThan(0);
    for (const server of [a, b]) {
      await pollUntil('a published version to serve', async () => metric((await send(`${server.url}/metrics`)).text, 'adserver_stream_model_seq') > 0, { timeoutMs: 30_000, intervalMs: 200 });
      const text = (await send(`${server.url}/metrics`)).text;
      expect(metric(text, 'adserver_stream_model_updates_total', { result: 'swapped' })).toBeGreaterThanOrEqual(1);
      expect(metric(text, 'adserver_stream_published_total', { result: 'failed' })).toBeNaN();
    }
    console.log(
      `learning loop: ${stream.served.size} served rows and ${stream.clicks.length} clicks on the stream; ${rows.size} labeled once each (${positives.length} positives); ` +
        `dropped as already durable after restart 1: ${second.output.redelivered}, after restart 2: ${last.output.redelivered}; versions published: ${last.published.seq}`,
    );
  });
});
