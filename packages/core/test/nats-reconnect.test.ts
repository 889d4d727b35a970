/**
 * The NATS event stream across a server restart: a private nats-server (own port, own store) is
 * SIGKILLed and started again; the client reconnects by itself, the durable consumer resumes, and
 * every event published before and after is delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, natsAnswers, needs, pollUntil } from '@ctrkit/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import type { StreamDelivery } from '../src/index.js';
import { createNatsEventStream } from '../src/nats.js';
import { clickEvent } from './fixtures/event-stream-conformance.js';

const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));
const present = needs({ what: 'the nats-server binary', forWhat: 'core: the NATS event stream across a server restart', present: binary !== undefined, hint: 'apt-get install nats-server' });
const store = mkdtempSync(path.join(tmpdir(), 'ctrkit-nats-'));
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(store, { recursive: true, force: true });
});

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(binary as string, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: 'ignore' });
  await pollUntil(
    `nats-server with JetStream on port ${port}`,
    async () => {
      const probe = await natsAnswers(port, { timeoutMs: 200 });
      return probe.up && probe.jetstream;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return child;
}

describe.runIf(present)('NATS event stream: server restart', () => {
  it('reconnects by itself, and the durable consumer delivers what was published before and after', async () => {
    const port = await freePort();
    server = await startServer(port);
    const stream = await createNatsEventStream({ servers: `127.0.0.1:${port}`, stream: 'CTRKIT_RESTART', subjectPrefix: 'ctrkit.restart', timeoutMs: 2_000 });
    try {
      const got: StreamDelivery[] = [];
      await stream.subscribe({ consumer: 'trainer', ackWaitMs: 1_000, handler: async (d) => {
        got.push(d);
        await d.ack().catch(() => d.nak());
      } });
      for (let i = 0; i < 5; i++) await stream.publish(clickEvent(i, 'restart'));
      await pollUntil('5 deliveries', () => got.length >= 5);
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
      server = await startServer(port);
      // Publishing retries until the client is back (each try bounded by timeoutMs).
      for (let i = 5; i < 10; i++) {
        const deadline = Date.now() + 20_000;
        for (;;) {
          try {
            await stream.publish(clickEvent(i, 'restart'));
            break;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
      await pollUntil('10 distinct events', () => new Set(got.map((d) => d.eventId)).size === 10, { timeoutMs: 30_000 });
      expect([...new Set(got.map((d) => d.eventId))].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `clk-restart-${i}`).sort());
    } finally {
      await stream.destroy().catch(() => stream.close());
    }
  }, 60_000);
});
