/**
 * Core benchmarks: exact AUC and isotonic fitting on 1,000,000 rows, each beside a baseline
 * measured in the same run (the obvious comparator-sort implementation).
 *
 * Run: npm run bench -w @ctrkit/core
 */
import { formatBenchTable, measure } from '@ctrkit/core/bench';
import { auc, createIsotonicCalibrator, createRandom, logLoss } from '@ctrkit/core';

const ROWS = 1_000_000;
const random = createRandom('core-bench');
const labels = new Uint8Array(ROWS);
const scores = new Float32Array(ROWS);
for (let i = 0; i < ROWS; i++) {
  const p = random.next() * 0.2;
  scores[i] = Math.round(p * 1e4) / 1e4; // ties, as real scores have
  labels[i] = random.next() < p ? 1 : 0;
}

/** The obvious implementation: sort row indices with a comparator, then walk tie groups. */
function comparatorSortAuc(y: Uint8Array, s: Float32Array): number {
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => (s[a] as number) - (s[b] as number));
  let negativesBelow = 0;
  let positives = 0;
  let numerator = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let groupPositive = 0;
    let groupNegative = 0;
    while (j < order.length && s[order[j] as number] === s[order[i] as number]) {
      if (y[order[j] as number] === 1) groupPositive++;
      else groupNegative++;
      j++;
    }
    numerator += groupPositive * (negativesBelow + groupNegative / 2);
    negativesBelow += groupNegative;
    positives += groupPositive;
    i = j;
  }
  return numerator / (positives * negativesBelow);
}

const ours = auc(labels, scores);
const reference = comparatorSortAuc(labels, scores);
if (Math.abs(ours - reference) > 1e-12) throw new Error(`AUC mismatch: ${ours} vs ${reference}`);

const options = { warmupMs: 500, minTimeMs: 4_000, rowsPerCall: ROWS };
const results = [
  measure('auc (comparator sort, baseline)', () => comparatorSortAuc(labels, scores), options),
  measure('auc (ctrkit, radix)', () => auc(labels, scores), options),
  measure('isotonic fit (ctrkit)', () => createIsotonicCalibrator().fit(scores, labels), options),
  measure('logLoss (ctrkit)', () => logLoss(labels, scores), options),
];
console.log(formatBenchTable(`@ctrkit/core — ${ROWS.toLocaleString('en')} rows, AUC ${ours.toFixed(4)}`, results, 'auc (comparator sort, baseline)'));
