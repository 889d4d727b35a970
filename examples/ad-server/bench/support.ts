/**
 * What the ad server's benchmarks share: a free loopback port, a Prometheus series read from a
 * `/metrics` scrape, `--name value` options, and stopping a child process gracefully.
 */
import type { ChildProcess } from 'node:child_process';

/** A TCP port free on 127.0.0.1 right now (the tests' own, from `@ctrkit/test-support`). */
export { freePort } from '@ctrkit/test-support';

/** Sum of a Prometheus series over the label sets that contain `labels`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (.+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`))) continue;
    total += Number(match[3]);
  }
  return total;
}

/**
 * Reads `--name value` options from a command line.
 * @param argv - The arguments after the script (`process.argv.slice(2)`).
 * @returns A reader: the value after `name`, or `fallback` when the option is absent or has no value.
 */
export function optionReader(argv: readonly string[]): (name: string, fallback: string) => string {
  return (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
  };
}

/**
 * Stops a child process: SIGTERM (its graceful shutdown), then SIGKILL if it is still running
 * after `graceMs`. Resolves at once when it has already exited.
 * @param child - The process.
 * @param graceMs - How long the graceful shutdown may take.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
