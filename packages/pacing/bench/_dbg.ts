import { readFileSync } from 'node:fs';
import { createSyntheticAuctionLog, createTrafficShapedPlan, createEvenPlan, replayAuctions, parseIpinyouLog, createDualController, createPidController } from '@ctrkit/pacing';
const ip = parseIpinyouLog(readFileSync('/work/shared/data/ipinyou/rtb/2997.log.txt', 'utf8'));
const log = createSyntheticAuctionLog({ rows: 30_000, seed: 4 });
const history = createSyntheticAuctionLog({ rows: 30_000, seed: 4, stream: 'history', startTime: Date.UTC(2026, 0, 4) });
const shaped = createTrafficShapedPlan(history.timestamps as Float64Array);
const gap = (r: any) => Math.max(...Array.from(r.series.spend as Float64Array, (s, i) => Math.abs(s - (r.series.plan[i] as number)))) / r.budget;
for (const G of [1, 3, 5, 10]) {
  const mk = [() => createDualController({ maxGradient: G }), () => createPidController({ maxError: G })];
  for (const [name, c] of [['dual', mk[0]], ['pid', mk[1]]] as const) {
    const row: string[] = [`G=${G} ${name}`];
    for (const d of [32, 16, 8, 4, 2]) { const r = await replayAuctions({ log: ip, budgetRatio: 1 / d, pacer: c!() }); row.push(`${r.clicks}/${(r.utilisation*100).toFixed(1)}/g${gap(r).toFixed(3)}`); }
    for (const plan of [createEvenPlan(), shaped]) { const r = await replayAuctions({ log, budgetRatio: 1 / 8, pacer: c!(), plan }); row.push(`syn-${plan.kind}:${r.clicks}/${(r.utilisation*100).toFixed(1)}/g${gap(r).toFixed(3)}`); }
    console.log(row.join('  '));
  }
}
