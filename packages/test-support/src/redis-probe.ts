import net from 'node:net';

/**
 * Whether a Redis answers `PING` with `+PONG` at `host:port` within `timeoutMs` (a raw socket, so
 * the probe needs no client library and leaves nothing open).
 *
 * @param port - The port (the shared Redis is 6379).
 * @param options - Host (default 127.0.0.1) and timeout (default 1,000 ms).
 * @returns `true` when it answered.
 */
export function redisAnswers(port = 6379, options: { host?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const { host = '127.0.0.1', timeoutMs = 1_000 } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}
