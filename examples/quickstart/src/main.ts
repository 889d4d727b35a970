/**
 * `npm run demo` — ctrkit end to end on embedded defaults (no services, no GPU).
 *
 * Day one of synthetic traffic is logged and replayed through the in-memory feature store;
 * FTRL-LR and DCN-v2 are trained and calibrated on it; day two is served through the whole
 * request path (feature store → encoder → DCN-v2 on onnxruntime-node → isotonic/Platt
 * calibration → dual pacing → GSP auction → budget ledger) over campaigns with different
 * budgets and plans. It prints model quality beside the Bayes optimum, calibration, latency per
 * stage, revenue, clicks and budget use, and writes a self-contained HTML report.
 *
 * `--data FILE --format criteo|csv|libsvm` runs the model part on a real log instead.
 *
 * `--json` prints one JSON object on stdout (see summary.ts) and everything else on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeIo, parseArgs, runCli, type CliIo } from '@ctrkit/cli';
import { renderReport } from './report.js';
import { DEMO_SIZES, DEMO_WORLD } from './demo-settings.js';
import { runScenario, type ScenarioReport } from './scenario.js';
import { summarize, toJsonLine } from './summary.js';

const OPTIONS = {
  rows: { type: 'number', description: `impressions logged on day one (default ${DEMO_SIZES.logImpressions})` },
  requests: { type: 'number', description: `requests served on day two (default ${DEMO_SIZES.requests})` },
  users: { type: 'number', description: `users in the synthetic world (default ${DEMO_WORLD.users})` },
  candidates: { type: 'number', description: 'candidates per request (default 20)' },
  seed: { type: 'string', description: 'seed of the world (default "demo")' },
  report: { type: 'string', description: 'where to write the HTML report (default artifacts/ctrkit-demo.html)' },
  data: { type: 'string', description: 'a real click log: run the model part on it instead' },
  format: { type: 'string', description: 'format of --data', choices: ['criteo', 'csv', 'libsvm'] },
  label: { type: 'string', description: 'label column of a CSV log' },
  'field-map': { type: 'string', description: 'libsvm field map (field:value<TAB>index)' },
  'test-data': { type: 'string', description: 'a separate test file for --data (default: the last fifth of --data)' },
  json: { type: 'boolean', description: 'print one JSON object on stdout; tables and progress go to stderr' },
} as const;

function progressPrinter(stream: NodeJS.WriteStream): (phase: string, done: number, total: number) => void {
  let lastPhase = '';
  let lastShown = 0;
  return (phase, done, total) => {
    const fraction = total > 0 ? done / total : 1;
    if (stream.isTTY) {
      stream.write(`\r  ${phase}: ${(fraction * 100).toFixed(0).padStart(3)}% (${done.toLocaleString('en')} / ${total.toLocaleString('en')})   `);
      if (done >= total) stream.write('\n');
      return;
    }
    // Not a terminal: a plain line per phase and per quarter.
    if (phase !== lastPhase || fraction - lastShown >= 0.25 || done >= total) {
      if (phase !== lastPhase) lastShown = 0;
      stream.write(`  ${phase}: ${(fraction * 100).toFixed(0)}%\n`);
      lastPhase = phase;
      lastShown = fraction;
    }
  };
}

const f = (value: number, digits = 4): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function printScenario(report: ScenarioReport, reportPath: string, elapsed: number, print: (text: string) => void): void {
  const out: string[] = [];
  const s = report.serving;
  out.push('');
  out.push(`world: ${report.world.users.toLocaleString('en')} users, ${report.world.advertisers} advertisers, ${report.world.campaigns} campaigns, ${report.world.ads} ads, ${report.world.publishers} publishers`);
  out.push(`day one log: ${report.log.rows.toLocaleString('en')} impressions, CTR ${f(report.log.ctr)}; trained on ${report.log.trainRows.toLocaleString('en')}, tested on the last ${report.log.testRows.toLocaleString('en')}`);
  out.push('');
  out.push('model quality on the held-out log (calibrated)');
  out.push(`  ${'model'.padEnd(28)} ${'AUC'.padStart(7)} ${'log loss'.padStart(9)} ${'NE'.padStart(7)} ${'calib.'.padStart(7)} ${'ECE'.padStart(8)}`);
  for (const q of report.quality) {
    out.push(`  ${q.model.padEnd(28)} ${f(q.auc).padStart(7)} ${f(q.logloss, 5).padStart(9)} ${f(q.ne).padStart(7)} ${f(q.calibration, 3).padStart(7)} ${f(q.ece, 5).padStart(8)}`);
  }
  out.push(`  calibrators chosen on held-out rows: ${Object.entries(report.calibrators).map(([m, k]) => `${m} ${k}`).join(', ')}`);
  out.push(`  slot position CTR multipliers learned from the log: ${report.positionEffects.map((e) => e.toFixed(3)).join(', ')}`);
  out.push('');
  out.push(`day two: ${s.requests.toLocaleString('en')} requests, ${s.winners.toLocaleString('en')} ads shown`);
  out.push(`  clicks ${s.clicks} — the model expected ${f(s.predictedClicks, 1)}, the true click probabilities add up to ${f(s.expectedClicks, 1)}`);
  out.push(`  online (from the click stream): AUC ${f(s.online.auc)}, calibration ratio ${f(s.online.calibration, 3)}, log loss ${f(s.online.logloss, 5)} over ${s.online.rows.toLocaleString('en')} impressions`);
  out.push(`  conversions ${s.conversions}, revenue ${f(s.revenue, 2)}, overspend ${f(s.overspend, 2)} (${f(s.spendAfterMidnight, 2)} of day two's clicks and conversions billed after midnight, on the next day's budgets), degraded requests ${s.degradedRequests}`);
  out.push('');
  const l = report.loop;
  out.push(`the online loop on day two (${l.rows.toLocaleString('en')} served impressions, ${l.launchedRows.toLocaleString('en')} of ads launched that day; each scored before anything learned from it)`);
  out.push(`  ${'model'.padEnd(36)} ${'AUC'.padStart(7)} ${'log loss'.padStart(9)}`);
  out.push(`  ${`frozen after day one (${l.frozenModel})`.padEnd(36)} ${f(l.frozen.auc).padStart(7)} ${f(l.frozen.logloss, 5).padStart(9)}`);
  out.push(`  ${'online loop (what it served)'.padEnd(36)} ${f(l.online.auc).padStart(7)} ${f(l.online.logloss, 5).padStart(9)}`);
  out.push(`  ${`online trainer (${l.learner}, progressive)`.padEnd(36)} ${f(l.trainer.auc).padStart(7)} ${f(l.trainer.logloss, 5).padStart(9)}`);
  out.push(`  ${'Bayes optimum (true pCTR)'.padEnd(36)} ${f(l.bayes.auc).padStart(7)} ${f(l.bayes.logloss, 5).padStart(9)}`);
  if (l.explored.rows > 0) {
    const e = l.explored;
    out.push(`  ${l.explored.rows.toLocaleString('en')} of the impressions came from requests that explored (ranked by the explorer's pCTR), included above; on them frozen ${f(e.frozen, 5)}, online ${f(e.online, 5)}, Bayes ${f(e.bayes, 5)}`);
  }
  out.push(`  the loop closes ${(l.gapClosed * 100).toFixed(1)}% of the frozen model's log-loss gap to Bayes; ${l.swaps} swaps, ${l.refusedSwaps} refused (${Object.entries(l.refusalsByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}), ${l.rowsLearned.toLocaleString('en')} joined rows learned (${l.joined.positives} clicks), serving ${l.servingVersion} at the end`);
  out.push('');
  out.push('latency per stage (ms)');
  out.push(`  ${'stage'.padEnd(10)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}`);
  for (const stage of report.latency.stages) out.push(`  ${stage.stage.padEnd(10)} ${f(stage.p50Ms, 3).padStart(8)} ${f(stage.p95Ms, 3).padStart(8)} ${f(stage.p99Ms, 3).padStart(8)}`);
  out.push('');
  const active = [...report.campaigns].filter((c) => c.spend > 0).sort((a, b) => b.spend - a.spend);
  out.push(`campaigns (${active.length} of ${report.campaigns.length} won impressions; the rest were outbid)`);
  out.push(`  ${'campaign'.padEnd(10)} ${'bid'.padEnd(4)} ${'plan'.padEnd(8)} ${'budget'.padStart(8)} ${'spend'.padStart(8)} ${'used'.padStart(5)} ${'impr.'.padStart(6)} ${'clicks'.padStart(6)}`);
  for (const c of active.slice(0, 14)) {
    out.push(`  ${c.campaignId.padEnd(10)} ${c.bidType.padEnd(4)} ${c.plan.padEnd(8)} ${f(c.budget, 2).padStart(8)} ${f(c.spend, 2).padStart(8)} ${`${(c.utilization * 100).toFixed(0)}%`.padStart(5)} ${String(c.impressions).padStart(6)} ${String(c.clicks).padStart(6)}`);
  }
  if (active.length > 14) out.push(`  … ${active.length - 14} more in the report`);
  out.push('');
  out.push('why the top ad won (occlusion on DCN-v2, in plain words)');
  for (const e of report.explanations.slice(0, 3)) out.push(`  ${e.adId} (${e.category}, pCTR ${f(e.pCtr)}): ${e.reasons.join('; ')}`);
  out.push('');
  out.push(`report: ${reportPath}`);
  out.push(`done in ${elapsed.toFixed(1)} s (${Object.entries(report.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`);
  print(out.join('\n'));
}

/** Where text for a person goes: stdout, or stderr when stdout carries JSON. */
function printerOf(json: boolean): (text: string) => void {
  return json ? (text) => void process.stderr.write(`${text}\n`) : (text) => console.log(text);
}

/** Captures what a CLI command prints, to read its JSON. */
function capturingIo(base: CliIo): { io: CliIo; text: () => string } {
  let buffer = '';
  return { io: { ...base, stdout: { write: (chunk: string) => void (buffer += chunk), isTTY: false } as CliIo['stdout'] }, text: () => buffer };
}

async function runRealLog(args: ReturnType<typeof parseArgs>): Promise<number> {
  const json = args.flag('json');
  const base = nodeIo();
  // With --json, what the train commands print goes to stderr: stdout carries the one object.
  const io: CliIo = json ? { ...base, stdout: base.stderr } : base;
  const print = printerOf(json);
  const data = args.string('data') as string;
  const format = args.string('format');
  if (format === undefined) {
    io.stderr.write('demo: --data needs --format criteo|csv|libsvm\n');
    return 2;
  }
  const extra = [
    ...(args.string('label') ? ['--label', args.string('label') as string] : []),
    ...(args.string('field-map') ? ['--field-map', args.string('field-map') as string] : []),
  ];
  // Count rows to split the file: the first four fifths train (a tenth of those validates), the rest test.
  const { readFileSync } = await import('node:fs');
  const testFile = args.string('test-data');
  const lines = readFileSync(data, 'utf8').split('\n').filter((line) => line.trim() !== '').length - (format === 'csv' ? 1 : 0);
  const trainRows = testFile === undefined ? Math.floor(lines * 0.8) : lines;
  const validRows = Math.floor(trainRows / 10);
  print(`ctrkit demo on ${data} (${lines.toLocaleString('en')} rows, ${format}): train on the first ${trainRows.toLocaleString('en')} (last ${validRows.toLocaleString('en')} validate), test on ${testFile ?? `the remaining ${(lines - trainRows).toLocaleString('en')}`}`);
  const results: { model: string; json: Record<string, number> }[] = [];
  for (const model of ['lr', 'fm', 'dcnv2']) {
    const out = path.resolve('artifacts', `demo-${model}`);
    const trainCode = await runCli(['train', '--data', data, '--format', format, ...extra, '--model', model, '--train-rows', String(trainRows - validRows), '--valid-rows', String(validRows), '--out', out], io);
    if (trainCode !== 0) return trainCode;
    const capture = capturingIo(io);
    const evalArgs = testFile === undefined ? ['--data', data, '--skip-rows', String(trainRows)] : ['--data', testFile];
    const evalCode = await runCli(['eval', '--model', out, ...evalArgs, '--format', format, ...extra, '--json'], capture.io);
    if (evalCode !== 0) return evalCode;
    results.push({ model, json: JSON.parse(capture.text()) as Record<string, number> });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ data, format, quality: { models: results.map(({ model, json: figures }) => ({ name: model, ...figures })) } }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
    return 0;
  }
  console.log(`\n  ${'model'.padEnd(8)} ${'rows'.padStart(7)} ${'AUC'.padStart(7)} ${'log loss'.padStart(9)} ${'NE'.padStart(7)} ${'calib.'.padStart(7)} ${'ECE'.padStart(8)}`);
  for (const { model, json } of results) {
    console.log(`  ${model.padEnd(8)} ${String(json.rows).padStart(7)} ${f(json.auc ?? Number.NaN).padStart(7)} ${f(json.logloss ?? Number.NaN, 5).padStart(9)} ${f(json.ne ?? Number.NaN).padStart(7)} ${f(json.calibration ?? Number.NaN, 3).padStart(7)} ${f(json.ece ?? Number.NaN, 5).padStart(8)}`);
  }
  return 0;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), OPTIONS, 'demo');
  if (args.help) {
    console.log('npm run demo -- [options]\n\nOptions:');
    for (const [name, spec] of Object.entries(OPTIONS)) console.log(`  --${name.padEnd(11)} ${spec.description}`);
    return 0;
  }
  if (args.string('data') !== undefined) return runRealLog(args);
  const started = performance.now();
  const json = args.flag('json');
  const print = printerOf(json);
  const seed = args.string('seed') ?? 'demo';
  const rows = args.number('rows') ?? DEMO_SIZES.logImpressions;
  const requests = args.number('requests') ?? DEMO_SIZES.requests;
  print(`ctrkit demo — embedded defaults (memory store, onnxruntime-node CPU, memory ledger), seed "${seed}"`);
  const report = await runScenario({
    seed,
    logImpressions: rows,
    requests,
    users: args.number('users') ?? DEMO_WORLD.users,
    candidates: args.number('candidates') ?? 20,
    onProgress: progressPrinter(process.stderr),
  });
  const reportPath = path.resolve(args.string('report') ?? path.join('artifacts', 'ctrkit-demo.html'));
  mkdirSync(path.dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, renderReport(report, `ctrkit demo — seed "${seed}"`));
  printScenario(report, reportPath, (performance.now() - started) / 1000, print);
  if (json) process.stdout.write(`${toJsonLine(summarize(report, { seed, report: reportPath }))}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
