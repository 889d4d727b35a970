/**
 * The event-stream settings shared by the servers and the learner (`EVENT_STREAM`, `NATS_*`,
 * `STREAM_*`): read once at start, checked then, like the rest of `config.ts`.
 */
import { CtrkitError } from '@ctrkit/core';

/** Where the fleet's events and models travel (`EVENT_STREAM=nats`). */
export interface EventStreamConfig {
  readonly kind: 'nats';
  /** `NATS_URL`: server URL(s), comma-separated (default `127.0.0.1:4222`). */
  readonly servers: string;
  /** `NATS_STREAM`: the JetStream stream of events (default `CTRKIT_EVENTS`). */
  readonly stream: string;
  /** `NATS_SUBJECT_PREFIX`: subjects `<prefix>.served`, `.click`, … (default `ctrkit.events`). */
  readonly subjectPrefix: string;
  /** `NATS_MODEL_BUCKET`: the object-store bucket the learner publishes versions to (default `ctrkit-models`). */
  readonly modelBucket: string;
  /** `STREAM_MAX_BUFFERED`: events accepted but not yet stored at most; beyond, new ones are shed and counted (default 10,000). */
  readonly maxBuffered: number;
  /** `STREAM_PUBLISH_ATTEMPTS`: tries per event before it counts as failed (default 5). */
  readonly publishAttempts: number;
  /** `STREAM_PUBLISH_DEADLINE_MS`: an event not stored within this long counts as failed (default 3,000 ms). */
  readonly publishDeadlineMs: number;
}

/** How `config.ts` reads a number: `(env, name, fallback, check, expected)`. */
export type NumberReader = (env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, check: (n: number) => boolean, expected: string) => number;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Reads the stream settings.
 *
 * @param env - The environment.
 * @param numberFrom - The number reader of `config.ts` (same messages for every variable).
 * @returns The settings, or undefined when `EVENT_STREAM` is unset or `off` (the in-process loop).
 * @throws CtrkitError `E_CONFIG` naming the variable at fault.
 */
export function eventStreamConfigFrom(env: Readonly<Record<string, string | undefined>>, numberFrom: NumberReader): EventStreamConfig | undefined {
  const kind = (env.EVENT_STREAM ?? '').toLowerCase();
  if (kind === '' || kind === 'off' || kind === 'none') return undefined;
  if (kind !== 'nats') throw new CtrkitError('E_CONFIG', `EVENT_STREAM must be nats or off, got ${JSON.stringify(env.EVENT_STREAM)}`);
  const name = (variable: string, fallback: string, pattern: RegExp, what: string): string => {
    const value = env[variable] || fallback;
    if (!pattern.test(value)) throw new CtrkitError('E_CONFIG', `${variable} must be ${what}, got ${JSON.stringify(value)}`);
    return value;
  };
  const positiveInteger = (n: number) => Number.isInteger(n) && n >= 1;
  return {
    kind: 'nats',
    servers: env.NATS_URL || '127.0.0.1:4222',
    stream: name('NATS_STREAM', 'CTRKIT_EVENTS', NAME, "1–64 letters, digits, '_' or '-'"),
    subjectPrefix: name('NATS_SUBJECT_PREFIX', 'ctrkit.events', PREFIX, "dot-separated tokens of letters, digits, '_' or '-'"),
    modelBucket: name('NATS_MODEL_BUCKET', 'ctrkit-models', NAME, "1–64 letters, digits, '_' or '-'"),
    maxBuffered: numberFrom(env, 'STREAM_MAX_BUFFERED', 10_000, positiveInteger, 'a positive integer'),
    publishAttempts: numberFrom(env, 'STREAM_PUBLISH_ATTEMPTS', 5, (n) => positiveInteger(n) && n <= 100, 'an integer from 1 to 100'),
    publishDeadlineMs: numberFrom(env, 'STREAM_PUBLISH_DEADLINE_MS', 3_000, (n) => n >= 10 && n <= 600_000, 'a number of ms from 10 to 600000'),
  };
}
