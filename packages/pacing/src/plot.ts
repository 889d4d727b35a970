import { ensure } from '@ctrkit/core/internal';
import type { ReplayResult } from './replay.js';

/**
 * Options for {@link renderSpendPlot}.
 *
 * @example
 * ```ts
 * import type { PlotOptions } from '@ctrkit/pacing';
 * const options: PlotOptions = { width: 1000, height: 500, title: 'campaign 2997, 1/8 budget' };
 * ```
 */
export interface PlotOptions {
  /** Width in pixels (default 800). */
  readonly width?: number;
  /** Height in pixels (default 420). */
  readonly height?: number;
  /** Title (default: source, pacer and budget). */
  readonly title?: string;
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function formatAmount(value: number): string {
  if (value === 0) return '0';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 1 : 3;
  return value.toFixed(digits);
}

/**
 * Draws a replay's cumulative spend against its plan and budget over the day, with the pacer's
 * bid multiplier (or pass-through rate, for throttling) on a second axis: a self-contained SVG
 * with no script and no external reference.
 *
 * @param result - What {@link replayAuctions} returned.
 * @param options - Size and title.
 * @returns The SVG document as a string.
 * @throws CtrkitError `E_INPUT` on a size under 200 × 150 pixels.
 * @example
 * ```ts
 * import { parseIpinyouLog, renderSpendPlot, replayAuctions } from '@ctrkit/pacing';
 * const log = parseIpinyouLog(Array.from({ length: 500 }, (_, i) => `0 ${10 + (i % 50)} 0.002`).join('\n'));
 * const svg = renderSpendPlot(await replayAuctions({ log, budgetRatio: 0.2, pacer: 'pid' }));
 * console.log(svg.startsWith('<svg')); // true
 * ```
 */
export function renderSpendPlot(result: ReplayResult, options: PlotOptions = {}): string {
  const width = options.width ?? 800;
  const height = options.height ?? 420;
  ensure(Number.isFinite(width) && Number.isFinite(height) && width >= 200 && height >= 150, 'E_INPUT', () => `plot size must be at least 200 × 150 pixels, got ${width} × ${height}`);
  const title = options.title ?? `${result.source} — pacer ${result.pacer}, plan ${result.plan}, budget ${formatAmount(result.budget)}`;
  const { series } = result;
  const left = 64;
  const right = 56;
  const top = 40;
  const bottom = 64;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const dayMs = 86_400_000;
  let yMax = result.budget;
  for (let i = 0; i < series.spend.length; i++) yMax = Math.max(yMax, series.spend[i] as number, series.plan[i] as number);
  yMax = yMax > 0 ? yMax * 1.05 : 1;
  const step = niceStep(yMax, 5);
  const x = (t: number): number => left + (t / dayMs) * plotW;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const throttled = result.pacer === 'throttle';
  const control = throttled ? series.admitRate : series.multiplier;
  let controlMax = 0;
  for (let i = 0; i < control.length; i++) controlMax = Math.max(controlMax, control[i] as number);
  controlMax = controlMax > 0 ? controlMax * 1.05 : 1;
  const y2 = (v: number): number => top + plotH - (v / controlMax) * plotH;
  const path = (values: Float64Array, toY: (v: number) => number): string =>
    Array.from(values, (v, i) => `${i === 0 ? 'M' : 'L'}${x(series.times[i] as number).toFixed(1)},${toY(v).toFixed(1)}`).join(' ');

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${left}" y="${top - 16}" font-size="14" font-weight="600">${escapeXml(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#374151">${formatAmount(v)}</text>`);
  }
  for (let h = 0; h <= 24; h += 3) {
    const px = x(h * 3_600_000).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${top + plotH}" stroke="#f3f4f6"/>`);
    parts.push(`<text x="${px}" y="${top + plotH + 18}" text-anchor="middle" fill="#374151">${String(h).padStart(2, '0')}:00</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = (controlMax / 1.05) * (k / 4);
    parts.push(`<text x="${left + plotW + 8}" y="${(y2(v) + 4).toFixed(1)}" fill="#b45309">${v.toFixed(v < 0.1 ? 3 : 2)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>`);
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(result.budget).toFixed(1)}" y2="${y(result.budget).toFixed(1)}" stroke="#dc2626" stroke-dasharray="2 4"/>`);
  parts.push(`<path d="${path(series.plan, y)}" fill="none" stroke="#6b7280" stroke-width="2" stroke-dasharray="6 4"/>`);
  parts.push(`<path d="${path(control, y2)}" fill="none" stroke="#f59e0b" stroke-width="1"/>`);
  parts.push(`<path d="${path(series.spend, y)}" fill="none" stroke="#2563eb" stroke-width="2.5"/>`);
  const legendY = height - 20;
  const legend: Array<[string, string, string]> = [
    ['#2563eb', '', 'cumulative spend'],
    ['#6b7280', '6 4', 'plan'],
    ['#dc2626', '2 4', 'budget'],
    ['#f59e0b', '', throttled ? 'pass-through rate (right axis)' : 'bid multiplier (right axis)'],
  ];
  let lx = left;
  for (const [color, dash, label] of legend) {
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${lx + 30}" y="${legendY}" fill="#111827">${escapeXml(label)}</text>`);
    lx += 40 + label.length * 6.5;
  }
  parts.push(
    `<text x="${left + plotW}" y="${top - 16}" text-anchor="end" fill="#374151">spend ${formatAmount(result.spend)} (${(100 * result.utilization).toFixed(1)} %), ${result.clicks} clicks, overspend ${formatAmount(result.overspend)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The same plot inside a self-contained HTML page, with the replay's figures in a table.
 *
 * @param result - What {@link replayAuctions} returned.
 * @param options - Size and title.
 * @returns The HTML document as a string.
 * @throws CtrkitError `E_INPUT` on a size under 200 × 150 pixels.
 * @example
 * ```ts
 * import { parseIpinyouLog, renderSpendPlotHtml, replayAuctions } from '@ctrkit/pacing';
 * const log = parseIpinyouLog(Array.from({ length: 500 }, (_, i) => `0 ${10 + (i % 50)} 0.002`).join('\n'));
 * const html = renderSpendPlotHtml(await replayAuctions({ log, budgetRatio: 0.2, pacer: 'dual' }));
 * console.log(html.includes('<svg')); // true
 * ```
 */
export function renderSpendPlotHtml(result: ReplayResult, options: PlotOptions = {}): string {
  const rows: Array<[string, string]> = [
    ['source', result.source],
    ['pacer / plan', `${result.pacer} / ${result.plan}`],
    ['auctions', String(result.auctions)],
    ['budget', formatAmount(result.budget)],
    ['spend', `${formatAmount(result.spend)} (${(100 * result.utilization).toFixed(2)} %)`],
    ['overspend', formatAmount(result.overspend)],
    ['impressions', String(result.impressions)],
    ['clicks', String(result.clicks)],
    ['CPC', result.cpc === null ? '–' : result.cpc.toFixed(4)],
    ['hindsight greedy optimum (clicks)', String(result.optimalClicks)],
  ];
  const table = rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join('\n');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(options.title ?? `ctrkit simulate — ${result.source}`)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111827}table{border-collapse:collapse;margin-top:1rem}th,td{padding:.25rem .75rem;border-bottom:1px solid #e5e7eb;text-align:left}th{font-weight:500;color:#4b5563}</style>',
    '</head><body>',
    renderSpendPlot(result, options),
    `<table>${table}</table>`,
    '</body></html>',
  ].join('\n');
}
