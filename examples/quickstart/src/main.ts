/**
 * The README's demo, on embedded defaults (no services, no GPU). It grows as packages land:
 * today it generates a day of synthetic traffic, states the ground-truth (Bayes) quality of the
 * traffic, and shows why calibration matters by repairing a deliberately over-confident scorer.
 */
import { auc, createIsotonicCalibrator, createPlattCalibrator, evaluate, logLoss } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i] ?? '', process.argv[i + 1] ?? '');
const rows = Number(args.get('--rows') ?? 400_000);
const seed = args.get('--seed') ?? 'demo';

const started = performance.now();
const generator = createTrafficGenerator({ seed });
console.log(`ctrkit demo — ${rows.toLocaleString('en')} synthetic impressions, seed "${seed}"`);
console.log(`world: ${generator.userCount.toLocaleString('en')} users, ${generator.advertisers.length} advertisers, ${generator.campaigns.length} campaigns, ${generator.ads.length} ads, ${generator.publishers.length} publishers`);

const labels = new Uint8Array(rows);
const truth = new Float64Array(rows);
// A stand-in model that ranks like the truth but is over-confident: it doubles the logit.
const overConfident = new Float64Array(rows);
let i = 0;
for (const impression of generator.impressions({ count: rows })) {
  labels[i] = impression.clicked ? 1 : 0;
  truth[i] = impression.pClick;
  const z = Math.log(impression.pClick / (1 - impression.pClick));
  overConfident[i] = 1 / (1 + Math.exp(-(2 * z + 2)));
  i++;
  if (i % 100_000 === 0) process.stderr.write(`  generated ${i.toLocaleString('en')} rows\r`);
}
process.stderr.write('\n');

const half = rows >> 1;
const fitLabels = labels.subarray(0, half);
const testLabels = labels.subarray(half);
const bayes = evaluate(testLabels, truth.subarray(half));
const raw = evaluate(testLabels, overConfident.subarray(half));
const isotonic = createIsotonicCalibrator().fit(overConfident.subarray(0, half), fitLabels);
const platt = createPlattCalibrator().fit(overConfident.subarray(0, half), fitLabels);
const calibratedIso = isotonic.apply(overConfident.subarray(half), new Float64Array(rows - half));
const calibratedPlatt = platt.apply(overConfident.subarray(half), new Float64Array(rows - half));

const line = (name: string, s: { auc: number; logloss: number; ne: number; calibration: number; ece: number }) =>
  `${name.padEnd(32)} AUC ${s.auc.toFixed(4)}  log loss ${s.logloss.toFixed(5)}  NE ${s.ne.toFixed(4)}  calibration ${s.calibration.toFixed(3)}  ECE ${s.ece.toFixed(5)}`;
console.log(`\nheld-out half: ${testLabels.length.toLocaleString('en')} rows, CTR ${(testLabels.reduce((a, b) => a + b, 0) / testLabels.length).toFixed(4)}`);
console.log(line('ground truth (Bayes optimum)', bayes));
console.log(line('over-confident scorer', raw));
console.log(line('  + isotonic calibration', evaluate(testLabels, calibratedIso)));
console.log(line('  + Platt calibration', evaluate(testLabels, calibratedPlatt)));
console.log(`\ncalibration keeps the ranking (AUC ${auc(testLabels, calibratedPlatt).toFixed(4)}) and repairs log loss: ${logLoss(testLabels, overConfident.subarray(half)).toFixed(5)} → ${logLoss(testLabels, calibratedPlatt).toFixed(5)}`);
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
