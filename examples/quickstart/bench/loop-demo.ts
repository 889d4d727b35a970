/**
 * The demo's day two with the online loop's settings overridden: the whole scenario (day one's
 * log and models, day two through the auction, conversions included), printing only the loop's
 * figures as one JSON line — to choose the loop's defaults on the real served impressions.
 *
 * Run: npx tsx --conditions=@ctrkit/source examples/quickstart/bench/loop-demo.ts '{"seed":"other","loop":{"windowMs":60000}}'
 */
import { runScenario, type ScenarioOptions } from '../src/scenario.js';

const given = JSON.parse(process.argv[2] ?? '{}') as Pick<ScenarioOptions, 'seed' | 'loop' | 'users' | 'requests' | 'logImpressions'>;
const t0 = Date.now();
const report = await runScenario(given);
const { loop } = report;
const r = (x: number) => +x.toFixed(5);
console.log(
  JSON.stringify({
    given,
    frozen: r(loop.frozen.logloss),
    online: r(loop.online.logloss),
    trainer: r(loop.trainer.logloss),
    bayes: r(loop.bayes.logloss),
    gapClosed: +loop.gapClosed.toFixed(3),
    trainerGapClosed: +((loop.frozen.logloss - loop.trainer.logloss) / (loop.frozen.logloss - loop.bayes.logloss)).toFixed(3),
    rows: loop.rows,
    swaps: loop.swaps,
    refused: loop.refusedSwaps,
    seconds: (Date.now() - t0) / 1000,
  }),
);
