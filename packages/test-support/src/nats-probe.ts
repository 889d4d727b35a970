import net from 'node:net';

/** What a NATS server said when probed. */
export interface NatsProbe {
  /** It answered with an `INFO` line. */
  readonly up: boolean;
  /** Its `INFO` says JetStream is enabled. */
  readonly jetstream: boolean;
}

/**
 * Whether a NATS server answers at `host:port` within `timeoutMs`, and whether it has JetStream:
 * a raw socket reading the `INFO {…}` line a server sends on connect, so the probe needs no
 * client library and leaves nothing open.
 *
 * @param port - The port (the shared NATS is 4222).
 * @param options - Host (default 127.0.0.1) and timeout (default 1,000 ms).
 * @returns What it found.
 */
export function natsAnswers(port = 4222, options: { host?: string; timeoutMs?: number } = {}): Promise<NatsProbe> {
  const { host = '127.0.0.1', timeoutMs = 1_000 } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (probe: NatsProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(() => done({ up: false, jetstream: false }), timeoutMs);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      const line = reply.slice(0, end);
      if (!line.startsWith('INFO ')) return done({ up: false, jetstream: false });
      try {
        const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
        done({ up: true, jetstream: info.jetstream === true });
      } catch {
        done({ up: true, jetstream: false });
      }
    });
    socket.on('error', () => done({ up: false, jetstream: false }));
  });
}
