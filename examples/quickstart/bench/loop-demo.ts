/**
 * The demo's day two with the online loop's settings overridden: the whole scenario (day one's
 * log and models, day two through the auction, conversions included), printing only the loop's
 * figures (and day two's revenue, clicks and budget use, which exploration costs) as one JSON
 * line — to choose the loop's defaults on the real served impressions.
 *
 * Run: npx tsx --conditions=@ctrkit/source examples/quickstart/bench/loop-demo.ts '{"seed":"other","loop":{"windowMs":60000}}'
 */
import { runScenario, type ScenarioOptions } from '../src/scenario.js';

const given = JSON.parse(process.argv[2] ?? '{}') as Pick<ScenarioOptions, 'seed' | 'loop' | 'users' | 'requests' | 'logImpressions'>;
const t0 = Date.now();
const report = await runScenario(given);
const { loop, serving } = report;
const bound = report.campaigns.filter((c) => c.spend > 0 && c.utilization > 0.5);
const r = (x: number) => +x.toFixed(5);
console.log(
  JSON.stringify({
    given,
    frozenModel: loop.frozenModel,
    frozen: r(loop.frozen.logloss),
    online: r(loop.online.logloss),
    trainer: r(loop.trainer.logloss),
    bayes: r(loop.bayes.logloss),
    gapClosed: +loop.gapClosed.toFixed(3),
    calibration: [loop.frozen, loop.online, loop.trainer, loop.bayes].map((f) => +f.calibration.toFixed(3)),
    trainerGapClosed: +((loop.frozen.logloss - loop.trainer.logloss) / (loop.frozen.logloss - loop.bayes.logloss)).toFixed(3),
    rows: loop.rows,
    swaps: loop.swaps,
    refused: loop.refusedSwaps,
    explored: loop.explored,
    launchedRows: loop.launchedRows,
    revenue: +serving.revenue.toFixed(2),
    clicks: serving.clicks,
    impressions: serving.impressions,
    expectedClicks: +serving.expectedClicks.toFixed(1),
    overspend: serving.overspend,
    degradedRequests: serving.degradedRequests,
    // Every campaign's budget, and the budget-bound ones (as the pipeline test picks them: spent, over half used).
    utilization: +(report.campaigns.reduce((s, c) => s + c.daySpend, 0) / report.campaigns.reduce((s, c) => s + c.budget, 0)).toFixed(4),
    boundUtilization: +(bound.reduce((s, c) => s + c.utilization, 0) / bound.length).toFixed(4),
    bound: bound.length,
    // Per hour of day two: [hour, rows, frozen − online, frozen − trainer, frozen − Bayes] log loss.
    hourly: loop.hourly.map((h) => [h.hour, h.rows, r(h.frozen - h.online), r(h.frozen - h.trainer), r(h.frozen - h.bayes)]),
    seconds: (Date.now() - t0) / 1000,
  }),
);
