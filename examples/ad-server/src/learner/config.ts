/**
 * The learner's settings. It reads the fleet's own configuration (`readConfig`: `MODEL_DIR`,
 * `ATTRIBUTION_WINDOW_MS`, the guard's `ONLINE_*`, the `NATS_*` of `EVENT_STREAM`, which it
 * takes as `nats` when unset) so that one environment file drives servers and learner alike, plus
 * its own `LEARNER_*` variables.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CtrkitError } from '@ctrkit/core';
import { numberFrom, readConfig, type OnlineLearningConfig } from '../config.js';
import type { EventStreamConfig } from '../stream-config.js';

/** Everything the learner needs to start. */
export interface LearnerConfig {
  /** The stream, the subjects and the model bucket (the servers' `NATS_*`). */
  readonly eventStream: EventStreamConfig;
  /** The servers' model directory: its spec is the layout learned, its model the first baseline of the guard. */
  readonly modelDir: string;
  /** The attribution window (the servers' `ATTRIBUTION_WINDOW_MS`). */
  readonly windowMs: number;
  /** The guard and the rows trigger (the servers' `ONLINE_*`); `holdoutRows` is `LEARNER_HOLDOUT_ROWS`. */
  readonly online: OnlineLearningConfig;
  /** `LEARNER_DIR`: labeled rows go to `<dir>/labeled` (the last `horizonMs`), older files to `<dir>/archive` (default `artifacts/learner`). */
  readonly dir: string;
  /** `LEARNER_CONSUMER`: the durable consumer's name (default `learner`); one learner per name. */
  readonly consumer: string;
  /** `LEARNER_HOST`, `LEARNER_PORT`: where `/healthz`, `/stats` and `/metrics` answer (default 127.0.0.1:8090; 0 picks a free port). */
  readonly host: string;
  readonly port: number;
  /** `LEARNER_LATENESS_MS`: how long past the window a row waits for a slow click (default 5,000, as the in-process loop). */
  readonly latenessMs: number;
  /** `LEARNER_FLUSH_MS`: how often labeled rows are made durable and their deliveries acked (default 1,000). */
  readonly flushMs: number;
  /** `LEARNER_ACK_WAIT_MS`: the stream's ack wait (default window + lateness + flush + 30,000). */
  readonly ackWaitMs: number;
  /**
   * `LEARNER_EVERY_MS`: a candidate is judged this long after the last decision at the latest
   * (default 15,000 — the servers' in-process 60,000 would alone take the freshness target's
   * whole p50 budget of 60 s).
   */
  readonly everyMs: number;
  /** `LEARNER_REPLAY_ROWS`: labeled rows replayed into the trainer at a restart, at most (default 200,000). */
  readonly replayRows: number;
  /** `LEARNER_MAX_PENDING`: served rows waiting for their window at most (default 1,000,000; beyond, shed and counted). */
  readonly maxPending: number;
  /** How long labeled files stay in `<dir>/labeled` (the redelivery horizon): 2 × (ack wait + window + lateness + flush) + 60 s. */
  readonly horizonMs: number;
  /** `LEARNER_FAULT` (tests only): `kill-after-flush:<n>` SIGKILLs the learner right after its n-th durable flush, before that flush's acks. */
  readonly killAfterFlush: number | undefined;
  /** `LOG_LEVEL` (default `info`). */
  readonly logLevel: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Reads the learner's configuration.
 *
 * @param env - The environment (default `process.env`).
 * @returns The configuration.
 * @throws CtrkitError `E_CONFIG` naming the variable at fault.
 */
export function readLearnerConfig(env: Readonly<Record<string, string | undefined>> = process.env): LearnerConfig {
  const fleet = readConfig({ ...env, EVENT_STREAM: env.EVENT_STREAM || 'nats' });
  if (fleet.eventStream === undefined) throw new CtrkitError('E_CONFIG', 'the learner needs the event stream: EVENT_STREAM must be nats (or unset)');
  const integer = (n: number) => Number.isInteger(n) && n >= 0;
  const windowMs = fleet.attributionWindowMs;
  const latenessMs = numberFrom(env, 'LEARNER_LATENESS_MS', 5_000, integer, 'an integer number of ms ≥ 0');
  const flushMs = numberFrom(env, 'LEARNER_FLUSH_MS', 1_000, (n) => n >= 50 && n <= 60_000, 'a number of ms from 50 to 60000');
  const least = windowMs + latenessMs + flushMs;
  const ackWaitMs = numberFrom(env, 'LEARNER_ACK_WAIT_MS', least + 30_000, (n) => n > least, `a number of ms above window + lateness + flush (${least}): a row stays unacked until its label is durable`);
  const consumer = env.LEARNER_CONSUMER || 'learner';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(consumer)) throw new CtrkitError('E_CONFIG', `LEARNER_CONSUMER must be 1–64 letters, digits, '_' or '-', got ${JSON.stringify(consumer)}`);
  const fault = env.LEARNER_FAULT ?? '';
  const kill = /^kill-after-flush:([1-9][0-9]{0,6})$/.exec(fault);
  if (fault !== '' && kill === null) throw new CtrkitError('E_CONFIG', `LEARNER_FAULT must be kill-after-flush:<n> (tests only) or unset, got ${JSON.stringify(fault)}`);
  return {
    eventStream: fleet.eventStream,
    modelDir: fleet.modelDir,
    windowMs,
    // A row is learned only once this many newer rows have come: at 40 labeled rows/s the in-process
    // default of 2,000 alone holds a click back 50 s; 1,000 still judges on ≥ ONLINE_MIN_ROWS (500).
    online: { ...fleet.online, holdoutRows: numberFrom(env, 'LEARNER_HOLDOUT_ROWS', Math.max(1_000, fleet.online.minRows), (n) => integer(n) && n >= fleet.online.minRows, `an integer ≥ ONLINE_MIN_ROWS (${fleet.online.minRows})`) },
    dir: path.resolve(env.LEARNER_DIR || path.resolve(here, '../../artifacts/learner')),
    consumer,
    host: env.LEARNER_HOST || '127.0.0.1',
    port: numberFrom(env, 'LEARNER_PORT', 8090, (n) => integer(n) && n < 65536, 'a port number (0 picks a free one)'),
    latenessMs,
    flushMs,
    ackWaitMs,
    everyMs: numberFrom(env, 'LEARNER_EVERY_MS', 15_000, (n) => n >= 1_000, 'a number of ms ≥ 1000'),
    replayRows: numberFrom(env, 'LEARNER_REPLAY_ROWS', 200_000, integer, 'an integer ≥ 0'),
    maxPending: numberFrom(env, 'LEARNER_MAX_PENDING', 1_000_000, (n) => integer(n) && n >= 1, 'a positive integer'),
    horizonMs: 2 * (ackWaitMs + windowMs + latenessMs + flushMs) + 60_000,
    killAfterFlush: kill === null ? undefined : Number(kill[1]),
    logLevel: env.LOG_LEVEL || 'info',
  };
}
