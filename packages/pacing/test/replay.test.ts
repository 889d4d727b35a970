import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createDualController,
  createEvenPlan,
  createSyntheticAuctionLog,
  createTrafficShapedPlan,
  fixedLinearBid,
  hindsightGreedy,
  hindsightLinearBid,
  parseIpinyouLog,
  renderSpendPlot,
  renderSpendPlotHtml,
  replayAuctions,
  totalMarketCost,
  type AuctionLog,
  type PacerKind,
} from '../src/index.js';
import { sharedDataFile } from '@ctrkit/test-support';

const here = path.dirname(fileURLToPath(import.meta.url));
const IPINYOU_FILE = sharedDataFile('ipinyou/rtb/2997.log.txt', 'pacing: the iPinYou campaign 2997 replay');
const haveIpinyou = IPINYOU_FILE !== undefined;
const IPINYOU = IPINYOU_FILE ?? '';

describe('iPinYou log parsing', () => {
  it('reads click, market price and pCTR per line, tolerating blank lines, tabs and CRLF', () => {
    const log = parseIpinyouLog('0 70 0.0021\r\n\n1\t30\t0.0043\n0 0 0\n', { source: 'inline' });
    expect(log.size).toBe(3);
    expect(Array.from(log.clicks)).toEqual([0, 1, 0]);
    expect(Array.from(log.prices)).toEqual([70, 30, 0]);
    expect(log.pctrs[1]).toBe(0.0043);
    expect(log.timestamps).toBeUndefined();
  });

  it('rejects malformed lines with E_PARSE, the line number and how to fix it', () => {
    const cases: Array<[string, RegExp]> = [
      ['0 70 0.002\n0 70\n', /line 2: expected 3 fields, found 2/],
      ['2 70 0.002\n', /line 1: click must be 0 or 1/],
      ['0 NaN 0.002\n', /market_price must be a finite number ≥ 0/],
      ['0 -5 0.002\n', /market_price/],
      ['0 70 1.5\n', /pCTR must be a probability in \[0, 1\]/],
      ['0 70 abc\n', /pCTR/],
      ['0 70 0.1 9\n', /expected 3 fields, found 4/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseIpinyouLog(text, { source: 'bad.txt' })).toThrow(expect.objectContaining({ code: 'E_PARSE', message: expect.stringMatching(message) }));
    }
    expect(() => parseIpinyouLog('0 70 0.002\n0 70\n', { source: 'bad.txt' })).toThrow(/bad\.txt, line 2.*"click market_price pCTR"/);
    expect(() => parseIpinyouLog('\n\n')).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/no auction/) }));
  });
});

describe('hindsight references', () => {
  const log = parseIpinyouLog(['0 100 0.001', '1 20 0.004', '0 50 0.003', '1 10 0.002', '0 0 0.001'].join('\n'));

  it('greedy takes the best pCTR per price first (free impressions first) and skips what no longer fits', () => {
    // Costs 0.1, 0.02, 0.05, 0.01, 0; pCTR/price order: free, 0.004/20, 0.002/10, 0.003/50, 0.001/100.
    expect(hindsightGreedy(log, 0.03)).toEqual({ clicks: 2, impressions: 3, spend: 0.03 });
    expect(hindsightGreedy(log, 0.05)).toEqual({ clicks: 2, impressions: 3, spend: 0.03 });
    expect(hindsightGreedy(log, 0.08)).toEqual({ clicks: 2, impressions: 4, spend: 0.08 });
    expect(hindsightGreedy(log, 1).impressions).toBe(5);
  });

  it('a fixed linear bid wins where bid ≥ price, while the remaining budget covers the bid', () => {
    // mean pCTR 0.0022; baseBid 44 → bids 20, 80, 60, 40, 20.
    expect(fixedLinearBid(log, 1, 44)).toEqual({ clicks: 2, impressions: 4, spend: 0.08 });
    // With 0.07 the 0.08 bid on auction 2 cannot be reserved; auction 3 wins at 0.05, and then the
    // 0.04 bid on auction 4 no longer fits in the 0.02 left, while the 0.02 bid on auction 5 does (price 0).
    expect(fixedLinearBid(log, 0.07, 44)).toEqual({ clicks: 0, impressions: 2, spend: 0.05 });
    const best = hindsightLinearBid(log, 0.07);
    expect(best.clicks).toBe(2);
  });
});

describe('replay', () => {
  const smallLog = (n: number): AuctionLog =>
    parseIpinyouLog(
      Array.from({ length: n }, (_, i) => `${i % 41 === 0 ? 1 : 0} ${5 + ((i * 37) % 90)} ${(0.001 + ((i * 13) % 17) / 4000).toFixed(6)}`).join('\n'),
      { source: 'small' },
    );

  it('pacer none is exactly the fixed linear bidder', async () => {
    const log = smallLog(5_000);
    const budget = totalMarketCost(log) / 8;
    for (const baseBid of [20, 45, 90]) {
      const replay = await replayAuctions({ log, budgetRatio: 1 / 8, pacer: 'none', baseBid });
      const fixed = fixedLinearBid(log, budget, baseBid);
      expect({ clicks: replay.clicks, impressions: replay.impressions, spend: replay.spend }).toEqual(fixed);
    }
  });

  it('never overspends, whatever the pacer, and reports consistent figures', async () => {
    const log = smallLog(20_000);
    for (const pacer of ['throttle', 'pid', 'dual', 'none'] as const) {
      for (const ratio of [0.01, 0.2, 1]) {
        const r = await replayAuctions({ log, budgetRatio: ratio, pacer });
        expect(r.overspend).toBe(0);
        expect(r.spend).toBeLessThanOrEqual(r.budget);
        expect(r.ledgerSpend).toBeCloseTo(r.spend, 9);
        expect(r.utilization).toBeCloseTo(r.spend / r.budget, 12);
        expect(r.auctions).toBe(20_000);
        expect(r.bids).toBeGreaterThanOrEqual(r.impressions);
        expect(r.cpc === null ? r.clicks === 0 : Math.abs(r.cpc - r.spend / r.clicks) < 1e-12).toBe(true);
        expect(r.series.spend[r.series.spend.length - 1]).toBeCloseTo(r.spend, 9);
        expect(r.series.plan[r.series.plan.length - 1]).toBeCloseTo(r.budget, 6);
      }
    }
  });

  it('rejects bad options clearly', async () => {
    const log = smallLog(100);
    await expect(replayAuctions({ log, budgetRatio: 0, pacer: 'dual' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/budgetRatio/) });
    await expect(replayAuctions({ log, budgetRatio: Number.NaN, pacer: 'dual' })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(replayAuctions({ log, budgetRatio: 0.1, pacer: 'fast' as PacerKind })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/unknown pacer/) });
    await expect(replayAuctions({ log, budgetRatio: 0.1, pacer: 'dual', baseBid: -3 })).rejects.toMatchObject({ code: 'E_INPUT' });
    const broken = { ...log, prices: Float64Array.from(log.prices, (p, i) => (i === 7 ? Number.NaN : p)) };
    await expect(replayAuctions({ log: broken, budgetRatio: 0.1, pacer: 'dual' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/auction 7/) });
  });

  it('replays synthetic traffic on its own timestamps; a traffic-shaped plan follows the diurnal curve', async () => {
    const log = createSyntheticAuctionLog({ rows: 30_000, seed: 4 });
    const history = createSyntheticAuctionLog({ rows: 30_000, seed: 4, stream: 'history', startTime: Date.UTC(2026, 0, 4) });
    expect(log.timestamps?.[0]).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 5));
    const shaped = createTrafficShapedPlan(history.timestamps as Float64Array);
    // The generator's diurnal curve (1 + 0.7 sin(2π(h − 15)/24)) peaks at 21:00 UTC, bottoms out at 09:00.
    const peak = shaped.weights.indexOf(Math.max(...shaped.weights));
    expect(peak).toBeGreaterThanOrEqual(19);
    expect(peak).toBeLessThanOrEqual(23);
    expect(Math.max(...shaped.weights) / Math.min(...shaped.weights)).toBeGreaterThan(3);
    const even = await replayAuctions({ log, budgetRatio: 1 / 8, pacer: 'dual', plan: createEvenPlan() });
    const traffic = await replayAuctions({ log, budgetRatio: 1 / 8, pacer: 'dual', plan: shaped });
    for (const r of [even, traffic]) {
      expect(r.overspend).toBe(0);
      expect(r.utilization).toBeGreaterThan(0.95);
    }
    // Both follow their plan through the day…
    const gap = (r: typeof even) => Math.max(...Array.from(r.series.spend, (s, i) => Math.abs(s - (r.series.plan[i] as number)))) / r.budget;
    expect(gap(even)).toBeLessThan(0.05);
    expect(gap(traffic)).toBeLessThan(0.05);
    // …but spending where the traffic is lets the bid stay steady, which buys more clicks than
    // forcing an even spend through the quiet morning.
    expect(traffic.clicks).toBeGreaterThan(even.clicks);
  });

  it('draws a self-contained SVG and HTML plot', async () => {
    const result = await replayAuctions({ log: smallLog(3_000), budgetRatio: 0.25, pacer: 'pid' });
    const svg = renderSpendPlot(result, { title: 'a <b> & "c"' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg.match(/<path /g)?.length).toBe(3);
    expect(svg).not.toMatch(/NaN|undefined|<script|href=/);
    const html = renderSpendPlotHtml(result);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('hindsight greedy optimum');
    expect(() => renderSpendPlot(result, { width: 10 })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });
});

describe.skipIf(!haveIpinyou)('iPinYou campaign 2997 (the issue\'s acceptance figures)', () => {
  const log = haveIpinyou ? parseIpinyouLog(readFileSync(IPINYOU, 'utf8'), { source: '2997.log.txt' }) : undefined;
  const targets: Array<[number, number]> = [
    [32, 75],
    [16, 106],
    [8, 159],
    [4, 248],
    [2, 372],
  ];

  it('reads all 156,063 auctions', () => {
    expect(log?.size).toBe(156_063);
    expect(log?.clicks.reduce((a, b) => a + b, 0)).toBe(530);
  });

  for (const [denominator, hindsight] of targets) {
    it(`budget 1/${denominator}: the best controller wins ≥ 95 % of ${hindsight} clicks, uses ≥ 95 % of the budget, overspends nothing`, async () => {
      if (log === undefined) return;
      const rows: string[] = [];
      let best = { clicks: -1, pacer: 'none' as PacerKind, utilization: 0 };
      for (const pacer of ['throttle', 'pid', 'dual', 'none'] as const) {
        const r = await replayAuctions({ log, budgetRatio: 1 / denominator, pacer });
        expect(r.overspend).toBe(0);
        expect(r.spend).toBeLessThanOrEqual(r.budget);
        rows.push(`${pacer} ${r.clicks} clicks, ${(100 * r.utilization).toFixed(2)} %`);
        if (pacer !== 'none' && r.clicks > best.clicks) best = { clicks: r.clicks, pacer, utilization: r.utilization };
        if (pacer === 'dual') rows.push(`greedy optimum ${r.optimalClicks}`);
      }
      console.log(`pacing 2997 at 1/${denominator}: ${rows.join('; ')}`);
      expect(best.clicks).toBeGreaterThanOrEqual(0.95 * hindsight);
      expect(best.utilization).toBeGreaterThanOrEqual(0.95);
    }, 60_000);
  }

  it('the controller is not tuned to one ratio: dual with other starting points and step sizes still clears every target', async () => {
    if (log === undefined) return;
    for (const options of [{ initialMultiplier: 1 }, { initialMultiplier: 0.01 }, { learningRate: 0.1 }]) {
      for (const [denominator, hindsight] of targets) {
        const r = await replayAuctions({ log, budgetRatio: 1 / denominator, pacer: createDualController(options) });
        expect(r.clicks, `${JSON.stringify(options)} at 1/${denominator}`).toBeGreaterThanOrEqual(0.95 * hindsight);
        expect(r.utilization).toBeGreaterThanOrEqual(0.95);
        expect(r.overspend).toBe(0);
      }
    }
  }, 120_000);
});
