/**
 * The server's settings, read once from the environment and checked then: a bad value stops
 * the process at start with a message naming the variable, never at the first request.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CtrkitError, DEFAULT_STAGE_BUDGETS, type StageBudgets } from '@ctrkit/core';
import { parseNoticeKey } from './signing.js';
import { refuseUnsharedState, workersFrom } from './workers-config.js';
import { eventStreamConfigFrom, type EventStreamConfig } from './stream-config.js';

/** Pacing controllers the server can run per campaign. */
export type PacingMode = 'dual' | 'pid' | 'throttle' | 'none';

/** Everything the server needs to start. */
export interface ServerConfig {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host: string;
  /** Port (default 8080; 0 picks a free one). */
  readonly port: number;
  /**
   * Server processes sharing the port (`WORKERS`, default 1; `auto`: one per available core): more
   * than one runs a node:cluster primary that forks them (`workers.ts`), and needs every shared
   * state in Redis (`workers-config.ts`).
   */
  readonly workers: number;
  /** Redis URL; when set the feature store and the budget ledger live in Redis, else in memory. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key this server writes (default `ctrkit:adserver:`; no braces). */
  readonly redisPrefix: string;
  /** The model directory (`model.onnx` + `model.json`). */
  readonly modelDir: string;
  /** `POST /admin/model` may load models only from inside this directory (default: the parent of `modelDir`). */
  readonly modelRoot: string;
  /** Bearer token of the admin endpoints; without one they answer 401 to everybody. */
  readonly adminToken: string | undefined;
  /** Largest bid request body, bytes (default 64 KiB). */
  readonly bidBodyLimit: number;
  /** Largest event batch body, bytes (default 1 MiB). */
  readonly eventsBodyLimit: number;
  /** Most events in one batch (default 1,000). */
  readonly maxEventsPerBatch: number;
  /** How long a bid's reservation waits for its win notice before it is released (default 30 s). */
  readonly holdTtlMs: number;
  /** Multiplies every campaign's daily budget (default 1). */
  readonly budgetScale: number;
  /** Redis ledger lease per campaign, currency units (default: the ledger's 1% of the budget, at least one maximum bid). */
  readonly leaseAmount: number | undefined;
  /** The most any bid may be, CPM (default 50). */
  readonly maxBidCpm: number;
  /** Pacing controller (default `dual`, on an even plan over the day). */
  readonly pacing: PacingMode;
  /** onnxruntime threads inside one operator (default 1: onnxruntime-node runs on the event loop's thread). */
  readonly modelThreads: number;
  /** Predictor stage budgets, ms. */
  readonly stageBudgets: StageBudgets;
  /** Base URL the exchange calls back with win and loss notices (default `http://host:port`). */
  readonly publicUrl: string | undefined;
  /** How long shutdown waits for win notices of bids already sent, ms (default 2,000). */
  readonly shutdownGraceMs: number;
  /** A click later than this after its impression does not count for the quality monitor (default 30 min). */
  readonly attributionWindowMs: number;
  /** Log level (default `info`). */
  readonly logLevel: string;
  /**
   * Key that signs notice URLs and settlement tokens (`NOTICE_KEY`, hex or base64, ≥ 16 bytes);
   * undefined when unset: the server then draws a random one at start and says so in its log.
   */
  readonly noticeKey: Buffer | undefined;
  /** The key before the last rotation (`NOTICE_KEY_PREVIOUS`), accepted until `noticeKeyPreviousUntil`. */
  readonly noticeKeyPrevious: Buffer | undefined;
  /** Until when the previous key is accepted, ms since the epoch (default: start + the notice window). */
  readonly noticeKeyPreviousUntil: number | undefined;
  /** How long after its bid a notice is accepted and settles at most once, ms (default 10 min, ≥ `holdTtlMs`). */
  readonly noticeWindowMs: number;
  /** Most (auction, imp) pairs the in-memory settlement registry remembers (default 500,000). */
  readonly settlementCapacity: number;
  /** This bidder's IAB TCF Global Vendor List id (`TCF_VENDOR_ID`); without one, vendor consent cannot be checked. */
  readonly tcfVendorId: number | undefined;
  /** `tmax` is clamped to [`tmaxMinMs`, `tmaxMaxMs`] (defaults 20 and 1,000 ms); a request without one gets the bidder's default, 100 ms). */
  readonly tmaxMinMs: number;
  /** Upper end of the `tmax` range, ms. */
  readonly tmaxMaxMs: number;
  /** Whole request (headers and body) must arrive within this, ms (default 10,000). */
  readonly requestTimeoutMs: number;
  /** An idle socket is closed after this, ms (default 10,000). */
  readonly connectionTimeoutMs: number;
  /** Keep-alive sockets wait this long for the next request, ms (default 5,000). */
  readonly keepAliveTimeoutMs: number;
  /**
   * Whether every event of `POST /events` must carry its bid's `token` (default true): an
   * unauthenticated caller could otherwise steer the counters the model reads. `false` only
   * where the events route is reachable by the host alone.
   */
  readonly eventsRequireToken: boolean;
  /** Most sockets open at once (default 1,024). */
  readonly maxConnections: number;
  /** Most requests one keep-alive socket may carry before it is closed (default 10,000). */
  readonly maxRequestsPerSocket: number;
  /** Online learning in serving: an FTRL-LR learns from joined served rows and may replace the serving model. */
  readonly online: OnlineLearningConfig;
  /** At most `max` impressions per user per campaign in a sliding window (`FREQUENCY_CAP`, e.g. `3/24h`); none when undefined. */
  readonly frequencyCap: FrequencyCapConfig | undefined;
  /**
   * The fleet's event stream (`EVENT_STREAM=nats`, see `stream-config.ts`): served rows, clicks and
   * conversions are published for the learner, and its model versions swapped in; the in-process
   * loop is then off. Undefined (the default): the in-process loop of `ONLINE_LEARNING`.
   */
  readonly eventStream: EventStreamConfig | undefined;
}

/** A frequency cap: `max` impressions per user per campaign in `windowMs`, named `window` in counter names. */
export interface FrequencyCapConfig {
  readonly max: number;
  /** As written (`24h`): the store's counter is `user_campaign.imp_count.<window>`. */
  readonly window: string;
  readonly windowMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `FREQUENCY_CAP`: `<max>/<n><m|h|d>`, such as `3/24h`. */
function frequencyCapFrom(raw: string | undefined): FrequencyCapConfig | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = /^([1-9][0-9]{0,2})\/([1-9][0-9]{0,3})([mhd])$/.exec(raw);
  const windowMs = match === null ? Number.NaN : Number(match[2]) * (UNIT_MS[match[3] as string] as number);
  if (match === null || Number(match[1]) > 1_000 || !(windowMs <= 30 * 86_400_000)) {
    throw new CtrkitError('E_CONFIG', `FREQUENCY_CAP must be <max impressions>/<window> per user per campaign, max 1 to 1000 and the window in m, h or d up to 30 days (such as 3/24h), got ${JSON.stringify(raw)}`);
  }
  return { max: Number(match[1]), window: `${match[2]}${match[3]}`, windowMs };
}

/** Settings of the online-learning loop (`ONLINE_*`). */
export interface OnlineLearningConfig {
  /** On by default (`ONLINE_LEARNING=0` turns it off). */
  readonly enabled: boolean;
  /** A candidate is judged after this many rows learned (default 5,000). */
  readonly everyRows: number;
  /** …or when this long has passed since the last decision, ms (default 60,000). */
  readonly everyMs: number;
  /** Most recent joined rows held out of training to judge candidates on (default 2,000). */
  readonly holdoutRows: number;
  /** Fewest window rows a decision is made on (default 500). */
  readonly minRows: number;
  /** Fewest clicks among them (default 10). */
  readonly minPositives: number;
  /** A candidate may be this much worse in relative log loss and still swap in (default 0). */
  readonly tolerance: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where `npm run model` writes the model, and where the server looks by default. */
export const DEFAULT_MODEL_DIR = path.resolve(here, '../artifacts/model');

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a number from the environment, refusing (with the variable's name) one that fails `check`; also the learner's reader. */
export function numberFrom(env: Env, name: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new CtrkitError('E_CONFIG', `${name} must be ${expected}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Reads the configuration.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `HOST`, `PORT` | 127.0.0.1, 8080 | where to listen |
 * | `WORKERS` | 1 | server processes on that port (node:cluster), or `auto` (one per core); more than one needs `REDIS_URL`, `ONLINE_LEARNING=0` and signed events |
 * | `REDIS_URL` | — | Redis feature store and ledger (e.g. `redis://127.0.0.1:6379`) |
 * | `REDIS_PREFIX` | `ctrkit:adserver:` | key prefix shared by the servers of one fleet |
 * | `MODEL_DIR` | `artifacts/model` | model directory |
 * | `MODEL_ROOT` | parent of `MODEL_DIR` | `POST /admin/model` loads only below it |
 * | `ADMIN_TOKEN` | — | bearer token of `/admin/*` |
 * | `BID_BODY_LIMIT`, `EVENTS_BODY_LIMIT` | 65536, 1048576 | body limits, bytes |
 * | `MAX_EVENTS_PER_BATCH` | 1000 | |
 * | `HOLD_TTL_MS` | 30000 | reservation kept for a win notice |
 * | `BUDGET_SCALE` | 1 | multiplies the campaigns' daily budgets |
 * | `LEASE_AMOUNT` | — | Redis ledger lease per campaign |
 * | `MAX_BID_CPM` | 50 | |
 * | `PACING` | `dual` | `dual`, `pid`, `throttle` or `none` |
 * | `MODEL_THREADS` | 1 | onnxruntime intra-op threads |
 * | `LOOKUP_BUDGET_MS`, `ENCODE_BUDGET_MS`, `PREDICT_BUDGET_MS`, `CALIBRATE_BUDGET_MS` | 10, 5, 30, 2 | predictor stage budgets |
 * | `PUBLIC_URL` | `http://HOST:PORT` | base of win / loss notice URLs |
 * | `SHUTDOWN_GRACE_MS` | 2000 | wait for win notices at shutdown |
 * | `ATTRIBUTION_WINDOW_MS` | 1800000 | quality monitor: impressions wait this long for their click |
 * | `LOG_LEVEL` | `info` | pino level |
 * | `NOTICE_KEY`, `NOTICE_KEY_PREVIOUS`, `NOTICE_KEY_PREVIOUS_UNTIL` | random at start, —, start + window | notice signing keys (hex / base64, ≥ 16 bytes); the previous key's grace (ms since the epoch or an ISO time) |
 * | `NOTICE_WINDOW_MS` | 600000 | notices accepted (once) this long after the bid |
 * | `SETTLEMENT_CAPACITY` | 500000 | (auction, imp) pairs remembered in memory |
 * | `TCF_VENDOR_ID` | — | this bidder's GVL id (vendor consent) |
 * | `TMAX_MIN_MS`, `TMAX_MAX_MS` | 20, 1000 | `tmax` clamped to this range |
 * | `REQUEST_TIMEOUT_MS`, `CONNECTION_TIMEOUT_MS`, `KEEP_ALIVE_TIMEOUT_MS` | 10000, 10000, 5000 | socket timeouts |
 * | `MAX_CONNECTIONS`, `MAX_REQUESTS_PER_SOCKET` | 1024, 10000 | connection caps |
 * | `EVENTS_REQUIRE_TOKEN` | true | every event must carry its bid's token (`0` / `false`: trust the caller) |
 * | `ONLINE_LEARNING` | true | learn online from served rows joined to their clicks (`0` / `false`: off) |
 * | `ONLINE_EVERY_ROWS`, `ONLINE_EVERY_MS` | 5000, 60000 | judge a candidate after this many rows learned, or this long |
 * | `ONLINE_HOLDOUT_ROWS` | 2000 | most recent joined rows held out to judge on |
 * | `ONLINE_MIN_ROWS`, `ONLINE_MIN_POSITIVES` | 500, 10 | fewest window rows and clicks to judge on |
 * | `ONLINE_TOLERANCE` | 0 | relative log-loss slack a candidate may have and still swap in |
 * | `FREQUENCY_CAP` | — | at most this many impressions per user per campaign in a sliding window, `<max>/<window>` (`3/24h`; window in m, h or d) |
 * | `EVENT_STREAM` | off | `nats`: publish served rows, clicks and conversions to NATS JetStream for the learner and take its models (replaces the in-process loop) |
 * | `NATS_URL`, `NATS_STREAM`, `NATS_SUBJECT_PREFIX`, `NATS_MODEL_BUCKET` | 127.0.0.1:4222, CTRKIT_EVENTS, ctrkit.events, ctrkit-models | where the fleet's events and model versions travel |
 * | `STREAM_MAX_BUFFERED`, `STREAM_PUBLISH_ATTEMPTS`, `STREAM_PUBLISH_DEADLINE_MS` | 10000, 5, 3000 | events waiting to be stored at most (beyond: shed, counted); tries and time per event before it counts as failed |
 *
 * @param env - The environment (default `process.env`).
 * @returns The configuration.
 * @throws CtrkitError `E_CONFIG` naming the variable at fault, or, for `WORKERS` > 1, every setting that keeps money or deduplication in process memory.
 */
export function readConfig(env: Env = process.env): ServerConfig {
  return refuseUnsharedState(readEachSetting(env));
}

/** Every setting read and checked alone; {@link readConfig} then checks `WORKERS` against the rest. */
function readEachSetting(env: Env): ServerConfig {
  const positive = (n: number) => n > 0;
  const nonNegative = (n: number) => n >= 0;
  const integer = (n: number) => Number.isInteger(n) && n >= 0;
  const modelDir = path.resolve(env.MODEL_DIR || DEFAULT_MODEL_DIR);
  const redisPrefix = env.REDIS_PREFIX || 'ctrkit:adserver:';
  if (/[{}]/.test(redisPrefix)) throw new CtrkitError('E_CONFIG', `REDIS_PREFIX must not contain braces (they would break hash tags), got ${JSON.stringify(redisPrefix)}`);
  const pacing = (env.PACING || 'dual') as PacingMode;
  if (!['dual', 'pid', 'throttle', 'none'].includes(pacing)) throw new CtrkitError('E_CONFIG', `PACING must be dual, pid, throttle or none, got ${JSON.stringify(env.PACING)}`);
  const leaseRaw = env.LEASE_AMOUNT;
  const holdTtlMs = numberFrom(env, 'HOLD_TTL_MS', 30_000, (n) => n >= 10, 'a number of ms ≥ 10');
  const noticeWindowMs = numberFrom(env, 'NOTICE_WINDOW_MS', 600_000, (n) => Number.isInteger(n) && n >= holdTtlMs && n <= 7 * 86_400_000, `an integer number of ms from HOLD_TTL_MS (${holdTtlMs}) to 7 days`);
  const tmaxMinMs = numberFrom(env, 'TMAX_MIN_MS', 20, (n) => integer(n) && n >= 1, 'a positive integer number of ms');
  const tmaxMaxMs = numberFrom(env, 'TMAX_MAX_MS', 1_000, (n) => integer(n) && n >= tmaxMinMs && n <= 60_000, `an integer number of ms from TMAX_MIN_MS (${tmaxMinMs}) to 60000`);
  const key = (name: string): Buffer | undefined => (env[name] ? parseNoticeKey(env[name] as string, name) : undefined);
  const untilRaw = env.NOTICE_KEY_PREVIOUS_UNTIL;
  let noticeKeyPreviousUntil: number | undefined;
  if (untilRaw !== undefined && untilRaw !== '') {
    noticeKeyPreviousUntil = /^[0-9]+$/.test(untilRaw) ? Number(untilRaw) : Date.parse(untilRaw);
    if (!Number.isFinite(noticeKeyPreviousUntil)) throw new CtrkitError('E_CONFIG', `NOTICE_KEY_PREVIOUS_UNTIL must be ms since the epoch or an ISO time, got ${JSON.stringify(untilRaw)}`);
  }
  const vendorRaw = env.TCF_VENDOR_ID;
  const onlineMinRows = numberFrom(env, 'ONLINE_MIN_ROWS', 500, (n) => integer(n) && n >= 1, 'a positive integer');
  const online: OnlineLearningConfig = {
    enabled: !['0', 'false', 'no', 'off'].includes((env.ONLINE_LEARNING ?? '').toLowerCase()),
    everyRows: numberFrom(env, 'ONLINE_EVERY_ROWS', 5_000, (n) => integer(n) && n >= 1, 'a positive integer'),
    everyMs: numberFrom(env, 'ONLINE_EVERY_MS', 60_000, (n) => n >= 1_000, 'a number of ms ≥ 1000'),
    holdoutRows: numberFrom(env, 'ONLINE_HOLDOUT_ROWS', Math.max(2_000, onlineMinRows), (n) => integer(n) && n >= onlineMinRows, `an integer ≥ ONLINE_MIN_ROWS (${onlineMinRows})`),
    minRows: onlineMinRows,
    minPositives: numberFrom(env, 'ONLINE_MIN_POSITIVES', Math.min(10, onlineMinRows), (n) => integer(n) && n <= onlineMinRows, `an integer from 0 to ONLINE_MIN_ROWS (${onlineMinRows})`),
    tolerance: numberFrom(env, 'ONLINE_TOLERANCE', 0, (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
  };
  const eventStream = eventStreamConfigFrom(env, numberFrom);
  return {
    host: env.HOST || '127.0.0.1',
    port: numberFrom(env, 'PORT', 8080, (n) => integer(n) && n < 65536, 'a port number (0 picks a free one)'),
    workers: workersFrom(env.WORKERS),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix,
    modelDir,
    modelRoot: path.resolve(env.MODEL_ROOT || path.dirname(modelDir)),
    adminToken: env.ADMIN_TOKEN || undefined,
    bidBodyLimit: numberFrom(env, 'BID_BODY_LIMIT', 64 * 1024, (n) => integer(n) && n >= 1024, 'an integer number of bytes ≥ 1024'),
    eventsBodyLimit: numberFrom(env, 'EVENTS_BODY_LIMIT', 1024 * 1024, (n) => integer(n) && n >= 1024, 'an integer number of bytes ≥ 1024'),
    maxEventsPerBatch: numberFrom(env, 'MAX_EVENTS_PER_BATCH', 1000, (n) => integer(n) && n >= 1, 'a positive integer'),
    holdTtlMs,
    budgetScale: numberFrom(env, 'BUDGET_SCALE', 1, positive, 'a positive number'),
    leaseAmount: leaseRaw === undefined || leaseRaw === '' ? undefined : numberFrom(env, 'LEASE_AMOUNT', 0, positive, 'a positive amount'),
    maxBidCpm: numberFrom(env, 'MAX_BID_CPM', 50, positive, 'a positive CPM'),
    pacing,
    modelThreads: numberFrom(env, 'MODEL_THREADS', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'an integer from 1 to 64'),
    stageBudgets: {
      lookup: numberFrom(env, 'LOOKUP_BUDGET_MS', Math.max(10, DEFAULT_STAGE_BUDGETS.lookup), positive, 'a positive number of ms'),
      encode: numberFrom(env, 'ENCODE_BUDGET_MS', Math.max(5, DEFAULT_STAGE_BUDGETS.encode), positive, 'a positive number of ms'),
      predict: numberFrom(env, 'PREDICT_BUDGET_MS', Math.max(30, DEFAULT_STAGE_BUDGETS.predict), positive, 'a positive number of ms'),
      calibrate: numberFrom(env, 'CALIBRATE_BUDGET_MS', Math.max(2, DEFAULT_STAGE_BUDGETS.calibrate), positive, 'a positive number of ms'),
    },
    publicUrl: env.PUBLIC_URL || undefined,
    shutdownGraceMs: numberFrom(env, 'SHUTDOWN_GRACE_MS', 2_000, nonNegative, 'a number of ms ≥ 0'),
    attributionWindowMs: numberFrom(env, 'ATTRIBUTION_WINDOW_MS', 30 * 60_000, (n) => n >= 1_000, 'a number of ms ≥ 1000'),
    logLevel: env.LOG_LEVEL || 'info',
    noticeKey: key('NOTICE_KEY'),
    noticeKeyPrevious: key('NOTICE_KEY_PREVIOUS'),
    noticeKeyPreviousUntil,
    noticeWindowMs,
    settlementCapacity: numberFrom(env, 'SETTLEMENT_CAPACITY', 500_000, (n) => integer(n) && n >= 1_000, 'an integer ≥ 1000'),
    tcfVendorId: vendorRaw === undefined || vendorRaw === '' ? undefined : numberFrom(env, 'TCF_VENDOR_ID', 0, (n) => Number.isInteger(n) && n >= 1 && n <= 65_535, 'a GVL vendor id (1–65535)'),
    tmaxMinMs,
    tmaxMaxMs,
    requestTimeoutMs: numberFrom(env, 'REQUEST_TIMEOUT_MS', 10_000, (n) => integer(n) && n >= 100, 'an integer number of ms ≥ 100'),
    connectionTimeoutMs: numberFrom(env, 'CONNECTION_TIMEOUT_MS', 10_000, (n) => integer(n) && n >= 100, 'an integer number of ms ≥ 100'),
    keepAliveTimeoutMs: numberFrom(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, (n) => integer(n) && n >= 100, 'an integer number of ms ≥ 100'),
    eventsRequireToken: !['0', 'false', 'no'].includes((env.EVENTS_REQUIRE_TOKEN ?? '').toLowerCase()),
    maxConnections: numberFrom(env, 'MAX_CONNECTIONS', 1_024, (n) => integer(n) && n >= 1, 'a positive integer'),
    maxRequestsPerSocket: numberFrom(env, 'MAX_REQUESTS_PER_SOCKET', 10_000, (n) => integer(n) && n >= 1, 'a positive integer'),
    // With the fleet's stream the learner learns; this process only publishes and swaps.
    online: eventStream === undefined ? online : { ...online, enabled: false },
    frequencyCap: frequencyCapFrom(env.FREQUENCY_CAP),
    eventStream,
  };
}
