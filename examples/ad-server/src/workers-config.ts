/**
 * `WORKERS`: how many server processes share the port (node:cluster, `workers.ts`), and the
 * check that refuses more than one while any state that moves money or deduplicates is kept in a
 * process's memory — N workers with N memory ledgers would spend each budget N times over.
 */
import os from 'node:os';
import { CtrkitError } from '@ctrkit/core';

/** The most workers `WORKERS` accepts (a sanity bound, far above any core count this runs on). */
export const MAX_WORKERS = 256;

/**
 * Parses `WORKERS`: a count from 1 to {@link MAX_WORKERS}, or `auto` (the cores this process may
 * use, `os.availableParallelism()`). Unset or empty: 1.
 *
 * @param raw - The variable as given.
 * @returns How many server processes to run.
 * @throws CtrkitError `E_CONFIG` for anything else.
 * @example
 * ```ts
 * import { workersFrom } from './workers-config.js';
 * workersFrom('2'); // 2
 * workersFrom(undefined); // 1
 * ```
 */
export function workersFrom(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  if (raw.toLowerCase() === 'auto') return Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism()));
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n < 1 || n > MAX_WORKERS) throw new CtrkitError('E_CONFIG', `WORKERS must be a count from 1 to ${MAX_WORKERS} or auto (one per available core), got ${JSON.stringify(raw)}`);
  return n;
}

/** What {@link refuseUnsharedState} reads of the configuration. */
export interface SharedStateSettings {
  readonly workers: number;
  readonly redisUrl: string | undefined;
  readonly online: { readonly enabled: boolean };
  readonly eventsRequireToken: boolean;
}

/**
 * What one process would keep to itself with more than one worker, each with the setting that
 * moves it out: empty when `workers` is 1 or everything shared lives in Redis.
 *
 * @param config - The settings read.
 * @returns One line per problem.
 * @example
 * ```ts
 * import { unsharedState } from './workers-config.js';
 * unsharedState({ workers: 2, redisUrl: undefined, online: { enabled: false }, eventsRequireToken: true }); // one line: set REDIS_URL
 * ```
 */
export function unsharedState(config: SharedStateSettings): string[] {
  if (config.workers <= 1) return [];
  const problems: string[] = [];
  if (config.redisUrl === undefined) {
    problems.push('REDIS_URL is unset: the budget ledger, the settlement registry (a win notice settled once), the feature store (counters and frequency caps) and the campaign reports would live in each worker\'s memory — set REDIS_URL');
  }
  if (config.online.enabled) {
    problems.push('ONLINE_LEARNING is on: each worker\'s label joiner would see only the clicks the primary happens to route to it and take the others\' clicks on its rows for non-clicks — set ONLINE_LEARNING=0');
  }
  if (!config.eventsRequireToken) {
    problems.push('EVENTS_REQUIRE_TOKEN is off: an unsigned impression event is told from one its win notice counted already by each worker\'s own memory — set EVENTS_REQUIRE_TOKEN=1');
  }
  return problems;
}

/**
 * Returns the configuration unchanged, or refuses more than one worker while
 * {@link unsharedState} finds state kept in process memory.
 *
 * @param config - The settings read.
 * @returns `config`.
 * @throws CtrkitError `E_CONFIG` naming each setting to change (details: `problems`).
 * @example
 * ```ts
 * import { refuseUnsharedState } from './workers-config.js';
 * const config = refuseUnsharedState({ workers: 1, redisUrl: undefined, online: { enabled: true }, eventsRequireToken: true });
 * ```
 */
export function refuseUnsharedState<T extends SharedStateSettings>(config: T): T {
  const problems = unsharedState(config);
  if (problems.length > 0) {
    throw new CtrkitError('E_CONFIG', `WORKERS=${config.workers} needs every shared state in Redis, and ${problems.length === 1 ? 'one is not' : `${problems.length} are not`}: ${problems.join('; ')} (or run WORKERS=1)`, { details: { setting: 'WORKERS', workers: config.workers, problems } });
  }
  return config;
}
