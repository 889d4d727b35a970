import path from 'node:path';
import {
  createAsapPlan,
  createEvenPlan,
  createSyntheticAuctionLog,
  createTrafficShapedPlan,
  hindsightLinearBid,
  PACER_KINDS,
  parseIpinyouLog,
  renderSpendPlot,
  renderSpendPlotHtml,
  replayAuctions,
  totalMarketCost,
  type AuctionLog,
  type PacerKind,
  type PacingPlan,
  type ReplayResult,
} from '@ctrkit/pacing';
import { usageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { readTextFile, writeTextFile, type CliIo } from '../io.js';
import { createProgress } from '../progress.js';

const DAY_MS = 86_400_000;

/** A traffic source: a log file, or `synthetic:ROWS[:SEED]`. */
type Source = { kind: 'file'; file: string } | { kind: 'synthetic'; rows: number; seed: string };

function sourceOf(spec: string): Source {
  if (!spec.startsWith('synthetic:')) return { kind: 'file', file: spec };
  const [, rowsText = '', seed = '1', ...extra] = spec.split(':');
  const rows = Number(rowsText.replace(/[_,]/g, ''));
  if (extra.length > 0 || !Number.isInteger(rows) || rows < 1 || rows > 10_000_000) {
    usageError('simulate', `--log synthetic:ROWS[:SEED] needs a whole number of rows between 1 and 10,000,000 (and an optional seed), got ${JSON.stringify(spec)}`);
  }
  if (seed === '') usageError('simulate', `--log ${spec}: the seed after the second colon is empty`);
  return { kind: 'synthetic', rows, seed };
}

function formatRatio(ratio: number): string {
  const inverse = 1 / ratio;
  return Number.isInteger(inverse) && inverse > 1 ? `1/${inverse}` : String(ratio);
}

function money(value: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** The JSON contract of `--json`: exactly these keys. */
function jsonSummary(result: ReplayResult): string {
  return JSON.stringify({
    auctions: result.auctions,
    budget: result.budget,
    spend: result.spend,
    impressions: result.impressions,
    clicks: result.clicks,
    overspend: result.overspend,
    utilization: result.utilization,
    optimal_clicks: result.optimalClicks,
  });
}

async function loadLog(source: Source, format: string, io: CliIo, quiet: boolean): Promise<AuctionLog> {
  if (source.kind === 'synthetic') {
    const progress = createProgress({ label: 'generating', total: source.rows, unit: 'rows', stream: io.stderr, clock: io.clock, enabled: !quiet });
    const log = createSyntheticAuctionLog({ rows: source.rows, seed: source.seed, onProgress: (done) => progress.update(done) });
    progress.finish(log.size);
    return log;
  }
  if (format !== 'ipinyou') usageError('simulate', `--format ${format} is not supported; use ipinyou`);
  const text = await readTextFile(io, source.file, '--log');
  const progress = createProgress({ label: 'reading', total: 0, unit: 'lines', stream: io.stderr, clock: io.clock, enabled: !quiet });
  const log = parseIpinyouLog(text, { source: path.basename(source.file), onProgress: (lines) => progress.update(lines) });
  progress.finish(log.size);
  return log;
}

function checkPlan(kind: string, source: Source): void {
  if (kind === 'traffic' && source.kind !== 'synthetic') {
    usageError('simulate', '--plan traffic learns the traffic curve from past days, and a log file holds one day; use --plan even (or synthetic traffic, whose generator can produce the previous day)');
  }
}

function planOf(kind: string, source: Source, log: AuctionLog, io: CliIo, quiet: boolean): PacingPlan {
  if (kind === 'even') return createEvenPlan();
  if (kind === 'asap') return createAsapPlan();
  checkPlan(kind, source);
  if (source.kind !== 'synthetic') throw new Error('unreachable: checkPlan rejects files');
  // The previous day of the same synthetic world (another random stream): a forecast, not the answer.
  const start = log.timestamps?.[0] ?? Date.UTC(2026, 0, 5);
  const dayStart = Math.floor(start / DAY_MS) * DAY_MS;
  const progress = createProgress({ label: 'learning the traffic curve', total: source.rows, unit: 'rows', stream: io.stderr, clock: io.clock, enabled: !quiet });
  const history = createSyntheticAuctionLog({ rows: source.rows, seed: source.seed, stream: 'history', startTime: dayStart - DAY_MS, onProgress: (done) => progress.update(done) });
  progress.finish(history.size);
  return createTrafficShapedPlan(history.timestamps as Float64Array);
}

function humanSummary(result: ReplayResult, ratio: number, log: AuctionLog, hindsight: ReturnType<typeof hindsightLinearBid>): string {
  const share = (value: number, of: number) => (of > 0 ? `${((100 * value) / of).toFixed(1)} %` : '–');
  const rows: Array<[string, string]> = [
    ['budget', `${money(result.budget)}  (${formatRatio(ratio)} of the log's market cost ${money(totalMarketCost(log))})`],
    ['spend', `${money(result.spend)}  (${(100 * result.utilization).toFixed(2)} % of budget)`],
    ['overspend', money(result.overspend)],
    ['impressions', `${result.impressions.toLocaleString('en-US')}  (${result.bids.toLocaleString('en-US')} bids, ${result.refusals.toLocaleString('en-US')} refused by the ledger)`],
    ['clicks', String(result.clicks)],
    ['CPC', result.cpc === null ? '–' : result.cpc.toFixed(4)],
    ['greedy optimum', `${result.optimalClicks} clicks (hindsight: best pCTR per price first, prices known) — ${share(result.clicks, result.optimalClicks)} reached`],
    ['best fixed bid', `${hindsight.clicks} clicks at base bid ${hindsight.baseBid.toFixed(2)} (hindsight linear bid) — ${share(result.clicks, hindsight.clicks)} reached`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `ctrkit simulate — ${result.source}: ${result.auctions.toLocaleString('en-US')} auctions, pacer ${result.pacer}, plan ${result.plan}, base bid ${result.baseBid.toFixed(2)}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ].join('\n');
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const logSpec = args.string('log') as string;
  const ratio = args.number('budget-ratio') as number;
  const pacer = args.string('pacer') as PacerKind;
  const format = args.string('format') as string;
  const planKind = args.string('plan') as string;
  const json = args.flag('json');
  const quiet = args.flag('quiet');
  const plot = args.string('plot');
  const baseBid = args.number('base-bid');
  const intervalSeconds = args.number('interval') as number;
  const seed = args.string('seed') as string;
  // Everything checkable is checked before the long part starts.
  const source = sourceOf(logSpec);
  if (source.kind === 'file' && format !== 'ipinyou') usageError('simulate', `--format ${format} is not supported; use ipinyou`);
  checkPlan(planKind, source);
  if (plot !== undefined && !/\.(svg|html?)$/i.test(plot)) usageError('simulate', `--plot ${plot}: name an .svg or .html file`);

  const log = await loadLog(source, format, io, quiet);
  const plan = planOf(planKind, source, log, io, quiet);
  const progress = createProgress({ label: 'replaying', total: log.size, unit: 'auctions', stream: io.stderr, clock: io.clock, enabled: !quiet });
  const result = await replayAuctions({
    log,
    budgetRatio: ratio,
    pacer,
    plan,
    intervalMs: intervalSeconds * 1000,
    seed,
    ...(baseBid === undefined ? {} : { baseBid }),
    onProgress: (done) => progress.update(done),
  });
  progress.finish(log.size);

  if (plot !== undefined) {
    const document = /\.svg$/i.test(plot) ? renderSpendPlot(result) : renderSpendPlotHtml(result);
    const written = await writeTextFile(io, plot, document, '--plot');
    if (!quiet) io.stderr.write(`plot of cumulative spend against the plan written to ${written}\n`);
  }
  if (json) io.stdout.write(`${jsonSummary(result)}\n`);
  else io.stdout.write(humanSummary(result, ratio, log, hindsightLinearBid(log, result.budget)));
  return 0;
}

/**
 * `ctrkit simulate`: replays an auction log (an iPinYou `click market_price pCTR` file, or
 * synthetic traffic) as one day through a pacer, a linear bidder and a budget ledger, and reports
 * spend, clicks, utilization, overspend and the hindsight optimum.
 *
 * @example
 * ```ts
 * import { nodeIo, simulateCommand } from '@ctrkit/cli';
 * console.log(simulateCommand.usage);
 * ```
 */
export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'replay an auction log through a budget pacer and report spend, clicks and overspend',
  usage: 'ctrkit simulate --log FILE|synthetic:ROWS[:SEED] [--format ipinyou] --budget-ratio R --pacer throttle|pid|dual|none [--json] [--plot FILE.svg|FILE.html]',
  options: {
    log: { type: 'string', required: true, valueName: 'FILE|synthetic:ROWS[:SEED]', description: 'auction log to replay, or synthetic traffic from the core generator' },
    format: { type: 'string', choices: ['ipinyou'], default: 'ipinyou', description: 'log format: ipinyou = "click market_price pCTR" per line' },
    'budget-ratio': { type: 'number', required: true, fraction: true, min: 0, exclusiveMin: true, max: 1000, valueName: 'R', description: "daily budget as a share of the log's total market cost, e.g. 1/8 or 0.125" },
    pacer: { type: 'string', required: true, choices: PACER_KINDS, description: 'pacing controller' },
    plan: { type: 'string', choices: ['even', 'asap', 'traffic'], default: 'even', description: 'spend plan (traffic: learned from the previous synthetic day)' },
    'base-bid': { type: 'number', min: 0, exclusiveMin: true, valueName: 'CPM', description: "linear bid at mean pCTR before pacing (default: the log's highest market price)" },
    interval: { type: 'number', min: 1, max: 3600, default: 60, valueName: 'SECONDS', description: 'control interval of the pacer' },
    seed: { type: 'string', default: '1', description: 'seed of the throttling draws' },
    json: { type: 'boolean', description: 'print one JSON object: auctions, budget, spend, impressions, clicks, overspend, utilization, optimal_clicks' },
    plot: { type: 'string', valueName: 'FILE', description: 'write cumulative spend against the plan as an SVG or self-contained HTML file' },
    quiet: { type: 'boolean', description: 'no progress on stderr' },
  },
  details: [
    'A bid wins when it is at least the market price and pays the market price (CPM / 1000 per impression). Bids are linear in pCTR (base bid × pCTR / mean pCTR), scaled by the pacer; the budget ledger refuses any bid the remaining budget cannot cover, so overspend is 0.',
  ],
  examples: [
    'ctrkit simulate --log ../shared/data/ipinyou/rtb/2997.log.txt --format ipinyou --budget-ratio 1/8 --pacer dual',
    'ctrkit simulate --log synthetic:200000:7 --budget-ratio 1/4 --pacer pid --plan traffic --plot spend.svg --json',
  ],
  run,
};
