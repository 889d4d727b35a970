import { needs } from './requirement.js';
import { natsAnswers } from './nats-probe.js';

/** The port of the shared NATS (with JetStream) that the tests use (and CI starts). */
export const SHARED_NATS_PORT = 4222;

/**
 * The skip-or-fail rule for tests that need NATS with JetStream at 127.0.0.1:4222: `true` when
 * it answers and has JetStream; otherwise one `[skipped]` line locally, and an error when `CI` is set.
 *
 * @param forWhat - Which tests need it, e.g. `core: the NATS event stream conformance suite`.
 * @returns Whether the tests can run.
 * @throws Error when NATS with JetStream is absent and `CI` is set.
 */
export async function sharedNatsFor(forWhat: string): Promise<boolean> {
  const probe = await natsAnswers(SHARED_NATS_PORT);
  return needs({
    what: probe.up ? `JetStream on the NATS at 127.0.0.1:${SHARED_NATS_PORT}` : `NATS at 127.0.0.1:${SHARED_NATS_PORT}`,
    forWhat,
    present: probe.up && probe.jetstream,
    hint: `nats-server -js -a 127.0.0.1 -p ${SHARED_NATS_PORT} &`,
  });
}
