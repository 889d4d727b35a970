/**
 * The demo's self-contained HTML report: inline SVG plots (reliability diagram, spend against
 * plan per campaign, latency histogram) and the tables the console shows. No external assets.
 */
import { reliabilityBins } from '@ctrkit/core';
import type { ScenarioReport } from './scenario-report.js';

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  readonly markers?: boolean;
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const fmt = (value: number, digits = 4): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** A line chart with axes, ticks and a legend, as an SVG string. */
export function lineChart(options: {
  readonly title: string;
  readonly series: readonly Series[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  readonly xMax?: number;
  readonly yMax?: number;
}): string {
  const { title, series, xLabel, yLabel, width = 420, height = 300 } = options;
  const margin = { left: 56, right: 12, top: 28, bottom: 42 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = options.xMax ?? Math.max(1e-9, ...xs);
  const yMax = options.yMax ?? Math.max(1e-9, ...ys) * 1.05;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const X = (x: number) => margin.left + (x / xMax) * plotW;
  const Y = (y: number) => margin.top + plotH - (y / yMax) * plotH;
  const ticks = (max: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const label = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escape(title)}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const t of ticks(xMax)) parts.push(`<text x="${X(t)}" y="${height - margin.bottom + 14}" text-anchor="middle" fill="#555">${label(t)}</text>`);
  for (const t of ticks(yMax)) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${Y(t) + 4}" text-anchor="end" fill="#555">${label(t)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`);
  series.forEach((s, k) => {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${X(Math.min(p[0], xMax)).toFixed(1)},${Y(Math.min(p[1], yMax)).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    if (s.markers) for (const p of s.points) parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${margin.left + 8}" y="${margin.top + 8 + k * 15}" width="10" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${margin.left + 22}" y="${margin.top + 12 + k * 15}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A histogram of values on a log-scaled x axis (latencies), as an SVG string. */
export function histogram(options: { readonly title: string; readonly values: ArrayLike<number>; readonly xLabel: string; readonly bins?: number }): string {
  const { title, values, xLabel, bins = 40 } = options;
  const width = 560;
  const height = 300;
  const margin = { left: 56, right: 12, top: 28, bottom: 42 };
  const positive = Array.from(values).filter((v) => v > 0);
  const lo = Math.log10(Math.max(1e-3, Math.min(...positive)));
  const hi = Math.log10(Math.max(...positive)) + 1e-9;
  const counts = new Array<number>(bins).fill(0);
  for (const v of positive) counts[Math.min(bins - 1, Math.floor(((Math.log10(v) - lo) / (hi - lo)) * bins))]! += 1;
  const max = Math.max(1, ...counts);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escape(title)}</text>`,
  ];
  counts.forEach((n, b) => {
    const h = (n / max) * plotH;
    parts.push(`<rect x="${(margin.left + (b / bins) * plotW).toFixed(1)}" y="${(margin.top + plotH - h).toFixed(1)}" width="${(plotW / bins - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4c78a8"/>`);
  });
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const x = margin.left + ((e - lo) / (hi - lo)) * plotW;
    parts.push(`<text x="${x.toFixed(1)}" y="${height - margin.bottom + 14}" text-anchor="middle" fill="#555">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">requests</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** The whole report as one HTML document. */
export function renderReport(report: ScenarioReport, title: string): string {
  const { labels, dcn, truth } = report.heldOut;
  const model = reliabilityBins(labels, dcn, { bins: 12, strategy: 'quantile' });
  const bayes = reliabilityBins(labels, truth, { bins: 12, strategy: 'quantile' });
  const top = Math.max(...model.map((b) => Math.max(b.meanPrediction, b.meanLabel)), ...bayes.map((b) => b.meanPrediction)) * 1.05;
  const reliability = lineChart({
    title: 'Reliability on the held-out log (DCN-v2, calibrated)',
    xLabel: 'predicted click probability',
    yLabel: 'observed click rate',
    xMax: top,
    yMax: top,
    series: [
      { name: 'perfect calibration', color: '#999', dashed: true, points: [[0, 0], [top, top]] },
      { name: 'DCN-v2', color: '#e45756', markers: true, points: model.map((b) => [b.meanPrediction, b.meanLabel] as const) },
      { name: 'true pCTR (Bayes)', color: '#54a24b', markers: true, points: bayes.map((b) => [b.meanPrediction, b.meanLabel] as const) },
    ],
  });
  const shown = [...report.campaigns].filter((c) => c.spend > 0).sort((a, b) => b.budget - a.budget).slice(0, 6);
  const spendPlots = shown
    .map((c) =>
      lineChart({
        title: `${c.campaignId} (${c.bidType}, ${c.plan} plan)`,
        xLabel: 'hour of day two (UTC)',
        yLabel: 'cumulative spend',
        width: 360,
        height: 240,
        xMax: 24,
        yMax: c.budget * 1.1,
        series: [
          { name: 'plan', color: '#999', dashed: true, points: c.planByHour.map((v, h) => [h + 1, v] as const) },
          { name: `spend (${(c.utilization * 100).toFixed(0)}% of ${c.budget.toFixed(2)})`, color: '#4c78a8', points: c.spendByHour.map((v, h) => [h + 1, v] as const) },
          { name: 'budget', color: '#e45756', dashed: true, points: [[0, c.budget], [24, c.budget]] },
        ],
      }),
    )
    .join('\n');
  const latency = histogram({ title: 'Whole-request latency (predict → pace → auction → hold)', values: report.requestLatencies, xLabel: 'milliseconds (log scale)' });
  const row = (cells: readonly (string | number)[]) => `<tr>${cells.map((c) => `<td>${escape(String(c))}</td>`).join('')}</tr>`;
  const qualityRows = report.quality.map((q) => row([q.model, fmt(q.auc), fmt(q.logloss, 5), fmt(q.ne), fmt(q.calibration, 3), fmt(q.ece, 5)])).join('');
  const stageRows = report.latency.stages.map((s) => row([s.stage, s.count, fmt(s.p50Ms, 3), fmt(s.p95Ms, 3), fmt(s.p99Ms, 3)])).join('');
  const campaignRows = [...report.campaigns]
    .sort((a, b) => b.spend - a.spend)
    .map((c) => row([c.campaignId, c.bidType, c.plan, fmt(c.budget, 2), fmt(c.spend, 2), `${(c.utilization * 100).toFixed(0)}%`, c.impressions, c.clicks, c.conversions]))
    .join('');
  const s = report.serving;
  const l = report.loop;
  const loopRows = [
    [`frozen after day one (${l.frozenModel})`, l.frozen],
    ['online loop (what it served)', l.online],
    [`online trainer (${l.learner}, progressive)`, l.trainer],
    ['Bayes optimum (true pCTR)', l.bayes],
  ]
    .map(([name, figures]) => row([name as string, fmt((figures as { auc: number }).auc), fmt((figures as { logloss: number }).logloss, 5)]))
    .join('');
  const hourly = lineChart({
    title: 'Log loss per hour of day two (served impressions)',
    xLabel: 'hour of day two (UTC)',
    yLabel: 'log loss',
    width: 560,
    xMax: 24,
    series: [
      { name: `frozen (${l.frozenModel})`, color: '#e45756', markers: true, points: l.hourly.map((h) => [h.hour + 0.5, h.frozen] as const) },
      { name: 'online loop', color: '#4c78a8', markers: true, points: l.hourly.map((h) => [h.hour + 0.5, h.online] as const) },
      { name: 'Bayes (true pCTR)', color: '#54a24b', dashed: true, points: l.hourly.map((h) => [h.hour + 0.5, h.bayes] as const) },
    ],
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1180px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}.plots{display:flex;flex-wrap:wrap;gap:12px}</style>
</head><body>
<h1>${escape(title)}</h1>
<p>${report.world.users.toLocaleString('en')} users, ${report.world.campaigns} campaigns, ${report.world.ads} ads. Day one: ${report.log.rows.toLocaleString('en')} logged impressions (CTR ${fmt(report.log.ctr)}), the last ${report.log.testRows.toLocaleString('en')} held out. Day two: ${s.requests.toLocaleString('en')} requests served.</p>
<h2>Model quality on the held-out log</h2>
<table><tr><th>model</th><th>AUC</th><th>log loss</th><th>NE</th><th>calibration</th><th>ECE</th></tr>${qualityRows}</table>
<div class="plots">${reliability}</div>
<h2>Serving day two</h2>
<p>${s.winners.toLocaleString('en')} ads shown, ${s.clicks} clicks (model expected ${fmt(s.predictedClicks, 1)}, truth ${fmt(s.expectedClicks, 1)}), ${s.conversions} conversions, revenue ${fmt(s.revenue, 2)}, overspend ${fmt(s.overspend, 2)}. Online: AUC ${fmt(s.online.auc)}, calibration ${fmt(s.online.calibration, 3)} over ${s.online.rows.toLocaleString('en')} labeled impressions.</p>
<h3>The online loop</h3>
<p>${l.rows.toLocaleString('en')} served impressions (${l.launchedRows.toLocaleString('en')} of ads launched on day two), each scored before anything learned from it. The loop closes ${fmt(l.gapClosed * 100, 1)}% of the frozen model's log-loss gap to Bayes; ${l.swaps} swaps, ${l.refusedSwaps} refused; ${l.rowsLearned.toLocaleString('en')} joined rows learned; serving ${escape(l.servingVersion)} at the end.</p>
<table><tr><th>model</th><th>AUC</th><th>log loss</th></tr>${loopRows}</table>
<div class="plots">${hourly}</div>
<h3>Latency per stage (ms)</h3>
<table><tr><th>stage</th><th>calls</th><th>p50</th><th>p95</th><th>p99</th></tr>${stageRows}</table>
<div class="plots">${latency}</div>
<h3>Spend against plan</h3>
<div class="plots">${spendPlots}</div>
<h3>Campaigns</h3>
<table><tr><th>campaign</th><th>bid</th><th>plan</th><th>budget</th><th>spend</th><th>used</th><th>impressions</th><th>clicks</th><th>conversions</th></tr>${campaignRows}</table>
</body></html>
`;
}
