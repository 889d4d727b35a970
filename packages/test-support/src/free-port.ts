import net from 'node:net';

/**
 * A TCP port on loopback that nothing listens on: the kernel picks one for a throwaway server,
 * which closes at once. Another process could take the port before the caller does, which on a
 * test machine it does not in practice; a test that needs a port nothing answers on (a Redis that
 * is down) uses it as is.
 *
 * @returns The port.
 * @throws Error when no loopback port can be bound (the error of `listen`).
 * @example
 * ```ts
 * import { freePort } from '@ctrkit/test-support';
 * const port = await freePort(); // e.g. for `redis-server --port ${port}`
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
