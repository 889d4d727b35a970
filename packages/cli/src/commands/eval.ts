/**
 * `ctrkit eval`: scores rows of a log (or of synthetic traffic) with a model written by
 * `ctrkit train` — through onnxruntime, with the manifest's calibrator — and reports AUC, log
 * loss, normalized entropy, calibration ratio and ECE, optionally as one JSON object and as a
 * self-contained HTML page with the ROC curve, the reliability diagram and the score histogram.
 */
import path from 'node:path';
import { auc, CtrkitError, evaluate, logLoss, reliabilityBins, rocCurve, type EvaluationSummary, type ReliabilityBin, type RocCurve } from '@ctrkit/core';
import { createFeatureEncoder, type FeatureSpecJSON } from '@ctrkit/features';
import { parseManifest, type ModelManifest } from '@ctrkit/models';
import { loadModel } from '@ctrkit/models/node';
import { usageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { readTextFile, writeTextFile, type CliIo } from '../io.js';
import { readRows, reportMalformed } from '../data/read-rows.js';
import { DATA_FORMATS, readerOptions, readSettingsOf, type ReadSettings } from '../data/read-settings.js';
import { dataSourceOf, describeSource, type DataSource } from '../data/source.js';

/** A growable float array: scores arrive chunk by chunk. */
class Column<T extends Float32Array | Float64Array> {
  length = 0;
  constructor(private data: T) {}
  push(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) {
      let capacity = Math.max(1024, this.data.length);
      while (capacity < this.length + values.length) capacity *= 2;
      const next = new (this.data.constructor as new (n: number) => T)(capacity);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    for (let i = 0; i < values.length; i++) this.data[this.length + i] = values[i] as number;
    this.length += values.length;
  }
  values(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

interface StoredConfig {
  readonly spec: FeatureSpecJSON;
  readonly settings: ReadSettings | undefined;
}

function storedConfig(manifest: ModelManifest, dir: string): StoredConfig {
  const config = manifest.config as Record<string, unknown> | undefined;
  const spec = config?.featureSpec as FeatureSpecJSON | undefined;
  if (spec === undefined || typeof spec !== 'object') {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `${path.join(dir, 'model.json')} has no config.featureSpec; ctrkit eval needs the feature spec the model was trained with (models written by ctrkit train carry it)`,
    );
  }
  const data = config?.data as ReadSettings | undefined;
  return { spec, settings: data !== undefined && typeof data === 'object' ? data : undefined };
}

const fmt = (value: number, digits = 4) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** The `--json` contract: exactly these keys, in this order. */
function jsonOf(summary: EvaluationSummary): string {
  const clean = (v: number) => (Number.isFinite(v) ? v : null);
  return JSON.stringify({
    rows: summary.rows,
    auc: clean(summary.auc),
    logloss: clean(summary.logloss),
    ne: clean(summary.ne),
    calibration: clean(summary.calibration),
    ece: clean(summary.ece),
  });
}

function textOf(model: string, source: DataSource, range: string, calibrated: EvaluationSummary, raw: EvaluationSummary, bayes: { auc: number; logloss: number } | undefined): string {
  const lines = [
    `${model} on ${calibrated.rows.toLocaleString('en-US')} rows of ${describeSource(source)} (${range})`,
    '',
    `                      calibrated   before calibration${bayes === undefined ? '' : '   ground truth (Bayes)'}`,
    `AUC                   ${fmt(calibrated.auc).padStart(10)}   ${fmt(raw.auc).padStart(18)}${bayes === undefined ? '' : fmt(bayes.auc).padStart(24)}`,
    `log loss              ${fmt(calibrated.logloss).padStart(10)}   ${fmt(raw.logloss).padStart(18)}${bayes === undefined ? '' : fmt(bayes.logloss).padStart(24)}`,
    `normalized entropy    ${fmt(calibrated.ne).padStart(10)}   ${fmt(raw.ne).padStart(18)}`,
    `calibration ratio     ${fmt(calibrated.calibration).padStart(10)}   ${fmt(raw.calibration).padStart(18)}`,
    `ECE (10 bins)         ${fmt(calibrated.ece).padStart(10)}   ${fmt(raw.ece).padStart(18)}`,
    '',
  ];
  return lines.join('\n');
}

// ------------------------------------------------------------------ the HTML report

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const W = 360;
const H = 300;
const M = { left: 52, right: 16, top: 16, bottom: 44 };

function frame(xMax: number, yMax: number, xLabel: string, yLabel: string, ticks: number, format: (v: number) => string): { body: string; x: (v: number) => number; y: (v: number) => number } {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xMax) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const parts: string[] = [`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#888"/>`];
  for (let i = 0; i <= ticks; i++) {
    const vx = (xMax * i) / ticks;
    const vy = (yMax * i) / ticks;
    parts.push(`<line x1="${x(vx).toFixed(1)}" y1="${M.top + ph}" x2="${x(vx).toFixed(1)}" y2="${M.top + ph + 4}" stroke="#888"/>`);
    parts.push(`<text x="${x(vx).toFixed(1)}" y="${M.top + ph + 16}" font-size="10" text-anchor="middle">${format(vx)}</text>`);
    parts.push(`<line x1="${M.left - 4}" y1="${y(vy).toFixed(1)}" x2="${M.left}" y2="${y(vy).toFixed(1)}" stroke="#888"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(y(vy) + 3).toFixed(1)}" font-size="10" text-anchor="end">${format(vy)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>`);
  parts.push(`<text x="12" y="${M.top + ph / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${M.top + ph / 2})">${escapeHtml(yLabel)}</text>`);
  return { body: parts.join(''), x, y };
}

function svg(title: string, body: string): string {
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${body}</svg><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}

function rocSvg(curve: RocCurve, area: number): string {
  const f = frame(1, 1, 'false-positive rate', 'true-positive rate', 5, (v) => v.toFixed(1));
  const points = Array.from(curve.fpr, (fp, i) => `${f.x(fp).toFixed(1)},${f.y(curve.tpr[i] as number).toFixed(1)}`).join(' ');
  return svg(
    `ROC curve (AUC ${fmt(area)})`,
    `${f.body}<line x1="${f.x(0)}" y1="${f.y(0)}" x2="${f.x(1)}" y2="${f.y(1)}" stroke="#bbb" stroke-dasharray="4 3"/><polyline points="${points}" fill="none" stroke="#1f6fb2" stroke-width="2"/>`,
  );
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return Math.min(1, m * step);
  return 1;
}

function reliabilitySvg(bins: readonly ReliabilityBin[]): string {
  const top = niceMax(Math.max(...bins.map((b) => Math.max(b.meanPrediction, b.meanLabel)), 1e-3));
  const f = frame(top, top, 'mean predicted probability', 'observed click rate', 5, (v) => (top <= 0.1 ? v.toFixed(3) : v.toFixed(2)));
  const largest = Math.max(...bins.map((b) => b.weight));
  const dots = bins
    .map((b) => `<circle cx="${f.x(b.meanPrediction).toFixed(1)}" cy="${f.y(b.meanLabel).toFixed(1)}" r="${(2.5 + 4 * Math.sqrt(b.weight / largest)).toFixed(1)}" fill="#d9822b" fill-opacity="0.8"><title>${Math.round(b.weight)} rows: predicted ${fmt(b.meanPrediction)}, observed ${fmt(b.meanLabel)}</title></circle>`)
    .join('');
  const line = bins.map((b) => `${f.x(b.meanPrediction).toFixed(1)},${f.y(b.meanLabel).toFixed(1)}`).join(' ');
  return svg(
    'Reliability diagram (equal-mass bins; dot area ∝ rows)',
    `${f.body}<line x1="${f.x(0)}" y1="${f.y(0)}" x2="${f.x(top)}" y2="${f.y(top)}" stroke="#bbb" stroke-dasharray="4 3"/><polyline points="${line}" fill="none" stroke="#d9822b"/>${dots}`,
  );
}

function histogramSvg(scores: Float32Array, labels: Float32Array): string {
  const bins = 40;
  // The axis ends at the 99.5th percentile (rounded up): CTR scores crowd near 0, and a few high
  // ones would squeeze every other bar into the first bins. Higher scores fall into the last bin.
  const sorted = Float32Array.from(scores).sort();
  const top = niceMax(sorted[Math.min(sorted.length - 1, Math.floor(0.995 * sorted.length))] as number);
  const clicks = new Float64Array(bins);
  const others = new Float64Array(bins);
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.floor(((scores[i] as number) / top) * bins));
    if (labels[i] === 1) {
      clicks[b] = (clicks[b] as number) + 1;
      positives++;
    } else others[b] = (others[b] as number) + 1;
  }
  const negatives = scores.length - positives;
  const share = (counts: Float64Array, n: number) => Array.from(counts, (c) => (n > 0 ? c / n : 0));
  const a = share(clicks, positives);
  const b = share(others, negatives);
  const yTop = niceMax(Math.max(...a, ...b, 1e-3));
  const f = frame(top, yTop, 'calibrated click probability', 'share of rows of the class', 4, (v) => (v < 0.1 && v > 0 ? v.toFixed(3) : v.toFixed(2)));
  const width = (f.x(top) - f.x(0)) / bins;
  const bars = (values: number[], color: string) =>
    values
      .map((v, i) => (v > 0 ? `<rect x="${(f.x((i * top) / bins) + 0.5).toFixed(1)}" y="${f.y(v).toFixed(1)}" width="${Math.max(0.5, width - 1).toFixed(1)}" height="${(f.y(0) - f.y(v)).toFixed(1)}" fill="${color}" fill-opacity="0.55"/>` : ''))
      .join('');
  const legend = `<rect x="${W - M.right - 110}" y="${M.top + 8}" width="10" height="10" fill="#2b8a3e" fill-opacity="0.55"/><text x="${W - M.right - 95}" y="${M.top + 17}" font-size="10">clicks (${positives})</text><rect x="${W - M.right - 110}" y="${M.top + 24}" width="10" height="10" fill="#868e96" fill-opacity="0.55"/><text x="${W - M.right - 95}" y="${M.top + 33}" font-size="10">non-clicks (${negatives})</text>`;
  return svg(`Score histogram by label (the last bin holds every score ≥ ${fmt((top * (bins - 1)) / bins, 3)})`, `${f.body}${bars(b, '#868e96')}${bars(a, '#2b8a3e')}${legend}`);
}

function reportHtml(options: {
  title: string;
  calibrated: EvaluationSummary;
  raw: EvaluationSummary;
  bayes: { auc: number; logloss: number } | undefined;
  scores: Float32Array;
  labels: Float32Array;
}): string {
  const { calibrated, raw, bayes, scores, labels } = options;
  const both = calibrated.rows > 0 && Number.isFinite(calibrated.auc);
  const row = (name: string, a: number, b: number, c?: number) => `<tr><th>${name}</th><td>${fmt(a)}</td><td>${fmt(b)}</td>${bayes === undefined ? '' : `<td>${c === undefined ? '' : fmt(c)}</td>`}</tr>`;
  const table = `<table><thead><tr><th></th><th>calibrated</th><th>before calibration</th>${bayes === undefined ? '' : '<th>ground truth (Bayes)</th>'}</tr></thead><tbody>${[
    `<tr><th>rows</th><td>${calibrated.rows}</td><td>${raw.rows}</td>${bayes === undefined ? '' : '<td></td>'}</tr>`,
    row('AUC', calibrated.auc, raw.auc, bayes?.auc),
    row('log loss', calibrated.logloss, raw.logloss, bayes?.logloss),
    row('normalized entropy', calibrated.ne, raw.ne),
    row('calibration ratio', calibrated.calibration, raw.calibration),
    row('ECE (10 bins)', calibrated.ece, raw.ece),
  ].join('')}</tbody></table>`;
  const figures = both
    ? [rocSvg(rocCurve(labels, scores, 400), calibrated.auc), reliabilitySvg(reliabilityBins(labels, scores, { bins: 15, strategy: 'quantile' })), histogramSvg(scores, labels)].join('')
    : '<p>Both clicks and non-clicks are needed for the ROC curve and the reliability diagram.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}thead th{text-align:center}tbody th{text-align:left;font-weight:500}figure{display:inline-block;width:${W}px;vertical-align:top;margin:8px 16px 8px 0}figcaption{font-size:12px;color:#555;text-align:center}</style>
</head><body><h1>${escapeHtml(options.title)}</h1>${table}<div>${figures}</div></body></html>
`;
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const dir = path.resolve(io.cwd, args.string('model') as string);
  const source = dataSourceOf('eval', args.string('data') as string);
  const skip = args.number('skip-rows') as number;
  const take = args.number('rows') ?? Number.POSITIVE_INFINITY;
  const json = args.flag('json');
  const quiet = args.flag('quiet');
  const report = args.string('report');
  if (report !== undefined && !/\.html?$/i.test(report)) usageError('eval', `--report ${report}: name an .html file`);
  const manifest = parseManifest(await readTextFile(io, path.join(dir, 'model.json'), '--model'));
  const stored = storedConfig(manifest, dir);
  if (stored.settings?.format === 'synthetic' && source.kind !== 'synthetic') {
    usageError('eval', 'this model was trained on synthetic traffic; evaluate it with --data synthetic:ROWS[:SEED]');
  }
  if (stored.settings !== undefined && stored.settings.format !== 'synthetic' && source.kind === 'synthetic') {
    usageError('eval', `this model was trained on ${stored.settings.format} logs; synthetic traffic has other features`);
  }
  const settings = readSettingsOf('eval', args, source, io, stored.settings?.format === 'synthetic' ? undefined : stored.settings);
  // The encoder the spec compiles to must be the one the model was built for: loadModel checks
  // fingerprint, id space and every input shape against its layout.
  const loaded = await loadModel(dir, { expect: createFeatureEncoder(stored.spec).layout });
  const { runner, calibrator } = loaded;
  try {
    const labels = new Column(new Float32Array(0));
    const rawScores = new Column(new Float32Array(0));
    const calibrated = new Column(new Float32Array(0));
    const truth = new Column(new Float64Array(0));
    let scratch = new Float32Array(0);
    let scratchCalibrated = new Float32Array(0);
    const outcome = await readRows({
      io,
      command: 'eval',
      source,
      settings,
      idSpace: manifest.idSpace,
      spec: stored.spec,
      skip,
      take,
      quiet,
      sink: async (rows, rowTruth) => {
        const n = rows.batch.rows;
        if (scratch.length < n) {
          scratch = new Float32Array(n);
          scratchCalibrated = new Float32Array(n);
        }
        const raw = await runner.predict(rows.batch, scratch.subarray(0, n));
        rawScores.push(raw);
        calibrated.push(calibrator.apply(raw, scratchCalibrated.subarray(0, n)));
        labels.push(rows.labels);
        if (rowTruth !== undefined) truth.push(rowTruth);
      },
    });
    reportMalformed(io, 'eval', outcome);
    if (labels.length === 0) {
      throw new CtrkitError('E_INPUT', `no rows to evaluate: ${source.kind === 'synthetic' ? `synthetic:${source.rows}` : source.file} has ${outcome.seen.toLocaleString('en-US')} readable rows and --skip-rows is ${skip.toLocaleString('en-US')}`);
    }
    if (Number.isFinite(take) && labels.length < take && !quiet) {
      io.stderr.write(`ctrkit eval: --rows ${take} asked for more rows than there are; evaluated the ${labels.length.toLocaleString('en-US')} after row ${skip.toLocaleString('en-US')}\n`);
    }
    const y = labels.values();
    const p = calibrated.values();
    const summary = evaluate(y, p);
    const raw = evaluate(y, rawScores.values());
    const bothClasses = Number.isFinite(summary.auc);
    const bayes = truth.length > 0 && bothClasses ? { auc: auc(y, truth.values()), logloss: logLoss(y, truth.values()) } : undefined;
    const range = `rows ${(skip + 1).toLocaleString('en-US')}–${(skip + labels.length).toLocaleString('en-US')}`;
    if (report !== undefined) {
      const title = `${manifest.architecture} ${manifest.version} on ${source.kind === 'synthetic' ? `synthetic traffic (seed ${source.seed})` : path.basename(source.file)}, ${range}`;
      const written = await writeTextFile(io, report, reportHtml({ title, calibrated: summary, raw, bayes, scores: p, labels: y }), '--report');
      if (!quiet) io.stderr.write(`report written to ${written}\n`);
    }
    if (json) {
      io.stdout.write(`${jsonOf(summary)}\n`);
      if (bayes !== undefined && !quiet) io.stderr.write(`ground truth (Bayes) on the same rows: AUC ${fmt(bayes.auc)}, log loss ${fmt(bayes.logloss)}\n`);
    } else {
      io.stdout.write(textOf(`${manifest.architecture} ${manifest.version}`, source, range, summary, raw, bayes));
    }
    return 0;
  } finally {
    await runner.dispose();
  }
}

/**
 * `ctrkit eval`: scores rows of a log with a model written by `ctrkit train` and reports AUC, log
 * loss, normalized entropy, calibration ratio and ECE.
 *
 * @example
 * ```ts
 * import { evalCommand } from '@ctrkit/cli';
 * console.log(evalCommand.usage);
 * ```
 */
export const evalCommand: Command = {
  name: 'eval',
  summary: 'score rows of a log with a trained model: AUC, log loss, NE, calibration, ECE (and an HTML report)',
  usage: 'ctrkit eval --model DIR --data FILE|synthetic:ROWS[:SEED] [--format criteo|csv|libsvm] [--skip-rows N] [--rows N] [--json] [--report FILE.html]',
  options: {
    model: { type: 'string', required: true, valueName: 'DIR', description: 'directory holding model.onnx and model.json (from ctrkit train)' },
    data: { type: 'string', required: true, valueName: 'FILE|synthetic:ROWS[:SEED]', description: 'rows to score' },
    format: { type: 'string', choices: DATA_FORMATS, description: 'log format (default: the one the model was trained on)' },
    ...readerOptions({
      label: 'CSV: the label column (default: as in training)',
      ignore: 'CSV: columns to drop (default: as in training)',
      numeric: 'CSV: numeric columns (default: as in training)',
      delimiter: 'CSV: field separator (default: as in training)',
      fieldMap: 'libsvm: field map (default: the one used in training)',
    }),
    'skip-rows': { type: 'number', integer: true, min: 0, default: 0, description: 'skip the first N rows' },
    rows: { type: 'number', integer: true, min: 1, description: 'score at most N rows after the skipped ones (default: all)' },
    json: { type: 'boolean', description: 'print exactly one JSON object: rows, auc, logloss, ne, calibration, ece' },
    report: { type: 'string', valueName: 'FILE.html', description: 'write a self-contained HTML page: ROC curve, reliability diagram, score histogram' },
    quiet: { type: 'boolean', description: 'no progress or notes on stderr' },
  },
  details: [
    'Scores go through the model (onnxruntime) and then the calibrator stored in model.json; the figures are of the calibrated probabilities (the text output also shows them before calibration). ECE uses 10 equal-width bins. On synthetic traffic the rows\' true click probabilities give the Bayes-optimal AUC and log loss beside the model\'s (on stderr with --json, whose object keeps exactly its six keys).',
  ],
  examples: [
    'ctrkit eval --model models/criteo-lr --data ../shared/data/criteo/train_10k.tsv --skip-rows 8000 --rows 2000 --report criteo-lr.html',
    'ctrkit eval --model models/sim-dcnv2 --data synthetic:1200000:42 --skip-rows 1000000 --json',
  ],
  run,
};
