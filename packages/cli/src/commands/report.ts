import { CtrkitError, type CampaignFigures, type CampaignReport } from '@ctrkit/core';
import { createRedisCampaignReporter } from '@ctrkit/pacing/redis';
import { Cluster, Redis } from 'ioredis';
import { usageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `1d`, `500ms` → milliseconds. */
function durationMs(text: string, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  const value = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] as string] as number);
  if (!(value > 0) || !Number.isFinite(value)) usageError('report', `--${option} needs a duration such as 15m, 1h or 1d, got ${JSON.stringify(text)}`);
  return value;
}

function nodesOf(text: string): { host: string; port: number }[] {
  return text.split(',').map((entry) => {
    const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(entry);
    const port = match === null ? Number.NaN : Number(match[2]);
    if (match === null || !(port >= 1 && port <= 65_535)) usageError('report', `--cluster needs host:port,host:port,…, got ${JSON.stringify(entry)}`);
    return { host: (match as RegExpExecArray)[1] as string, port };
  });
}

const cell = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function table(title: string, rows: readonly CampaignFigures[], top: number): string[] {
  const shown = [...rows].sort((a, b) => b.spend - a.spend || (a.id < b.id ? -1 : 1)).slice(0, top);
  const width = Math.max(8, ...shown.map((r) => r.id.length));
  const lines = [`${title} (${rows.length}${rows.length > shown.length ? `, the ${shown.length} that spent most` : ''})`];
  lines.push(`  ${'id'.padEnd(width)} ${'impr.'.padStart(9)} ${'clicks'.padStart(7)} ${'conv.'.padStart(6)} ${'spend'.padStart(11)} ${'CTR'.padStart(7)} ${'CPM'.padStart(8)} ${'CPC'.padStart(8)}`);
  for (const r of shown) {
    lines.push(
      `  ${r.id.padEnd(width)} ${String(r.impressions).padStart(9)} ${String(r.clicks).padStart(7)} ${String(r.conversions).padStart(6)} ${cell(r.spend, 2).padStart(11)} ${cell(r.ctr * 100, 2).padStart(6)}% ${cell(r.cpm, 3).padStart(8)} ${cell(r.cpc, 3).padStart(8)}`,
    );
  }
  return lines;
}

/** NaN (no impressions, no clicks) as null, so the JSON parses everywhere. */
function jsonOf(report: CampaignReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const clusterText = args.string('cluster');
  const url = args.string('redis');
  if (clusterText !== undefined && url !== undefined) usageError('report', '--redis and --cluster name two places; give one');
  const windowMs = durationMs(args.string('window') as string, 'window');
  const bucketMs = durationMs(args.string('bucket') as string, 'bucket');
  const horizonMs = Math.max(86_400_000, Math.ceil(windowMs / bucketMs) * bucketMs);
  const top = args.number('top') as number;
  const redis = clusterText !== undefined ? new Cluster(nodesOf(clusterText), { redisOptions: { maxRetriesPerRequest: 1 } }) : new Redis(url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, lazyConnect: true });
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    if (redis instanceof Redis) {
      await redis.connect().catch((error: unknown) => {
        throw new CtrkitError('E_STORE', `cannot reach Redis at ${url ?? 'redis://127.0.0.1:6379'} (${error instanceof Error ? error.message : String(error)})`, { cause: error });
      });
    }
    const reporter = createRedisCampaignReporter({ redis, keyPrefix: args.string('prefix') as string, bucketMs, horizonMs, flushIntervalMs: 0, clock: io.clock, commandTimeoutMs: 5_000 });
    let report: CampaignReport;
    try {
      report = await reporter.report(windowMs);
    } catch (error) {
      throw lastError !== undefined && error instanceof CtrkitError ? new CtrkitError('E_STORE', `${error.message}; the client said: ${lastError instanceof Error ? lastError.message : String(lastError)}`, { cause: error }) : error;
    }
    await reporter.close();
    if (args.flag('json')) {
      io.stdout.write(`${jsonOf(report)}\n`);
      return 0;
    }
    const until = new Date(report.until).toISOString();
    const lines = [`fleet report: the ${report.windowMs / 60_000} minutes to ${until}, from ${clusterText ?? url ?? 'redis://127.0.0.1:6379'} (prefix ${args.string('prefix')})`, ''];
    if (report.campaigns.length === 0) lines.push('no events in the window (check --prefix and --bucket against the servers that write the reports)');
    else lines.push(...table('campaigns', report.campaigns, top), '', ...table('advertisers', report.advertisers, top));
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

/**
 * `ctrkit report`: the fleet's campaign figures (impressions, clicks, conversions, spend, CTR, CPM,
 * CPC) over a sliding window, read from the Redis reports every ad-server process writes with
 * `createRedisCampaignReporter` (`@ctrkit/pacing/redis`).
 *
 * @example
 * ```ts
 * import { reportCommand } from '@ctrkit/cli';
 * console.log(reportCommand.usage);
 * ```
 */
export const reportCommand: Command = {
  name: 'report',
  summary: "print the whole fleet's campaign figures over a window, from the reports in Redis",
  usage: 'ctrkit report [--redis URL | --cluster HOST:PORT,…] [--prefix P] [--window 1h] [--bucket 1m] [--top N] [--json]',
  options: {
    redis: { type: 'string', valueName: 'URL', description: 'the Redis the servers report to (default redis://127.0.0.1:6379)' },
    cluster: { type: 'string', valueName: 'HOST:PORT,…', description: 'instead of --redis: nodes of a Redis Cluster' },
    prefix: { type: 'string', default: 'ctrkit:report:', description: 'key prefix the servers write under' },
    window: { type: 'string', default: '1h', valueName: 'DURATION', description: 'how far back: 15m, 1h, 1d, … (bucket-aligned, at most the servers\' horizon)' },
    bucket: { type: 'string', default: '1m', valueName: 'DURATION', description: "the servers' bucket size (bucketMs); must match theirs" },
    top: { type: 'number', integer: true, min: 1, max: 100_000, default: 20, description: 'rows per table, the biggest spenders first' },
    json: { type: 'boolean', description: 'print the report as one JSON object: windowMs, until, campaigns[], advertisers[] (NaN ratios as null)' },
  },
  details: [
    'Counts are exact (spend summed in integer micros); each server flushes its counts every second or so, so the last second of each may be missing. A process that died loses what it had not flushed, and nothing is ever counted twice. Exit status 0 on success, 1 when Redis cannot be read, 2 on bad usage.',
  ],
  examples: ['ctrkit report --window 15m', 'ctrkit report --cluster 127.0.0.1:7100,127.0.0.1:7101 --window 1d --json'],
  run,
};
