/**
 * Rows of synthetic traffic: the core generator's impressions, encoded with the synthetic spec,
 * each with its true click probability (the Bayes figures of `train` and `eval`).
 */
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { adRequestSpec, allocateBatch, createFeatureEncoder, type CompiledEncoder, type FeatureSpecJSON } from '@ctrkit/features';
import { sliceRows } from '@ctrkit/models';
import { createProgress } from '../progress.js';
import { syntheticSpec } from './feature-specs.js';
import { CHUNK_ROWS, type ReadOutcome, type ReadRequest } from './read-request.js';
import type { DataSource } from './source.js';

/** Sequence ids per row: sequences × the longest maxLength. */
function sequenceWidthOf(encoder: CompiledEncoder): number {
  return encoder.layout.sequences.length * encoder.layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
}

/**
 * Generates impressions `[skip, skip + take)` of `synthetic:ROWS[:SEED]`, encodes them a row at a
 * time into chunks of {@link CHUNK_ROWS} and hands each chunk, with the rows' true click
 * probabilities, to the sink.
 *
 * @param request - The read; its source is synthetic.
 * @param source - That source.
 * @returns What was delivered.
 * @internal
 */
export async function readSyntheticRows(request: ReadRequest, source: Extract<DataSource, { kind: 'synthetic' }>): Promise<ReadOutcome> {
  const { io, settings, idSpace, skip, take, sink } = request;
  const end = skip + take;
  const rows = Math.min(source.rows, end);
  const progress = createProgress({ label: 'generating', total: rows, unit: 'rows', stream: io.stderr, clock: io.clock, enabled: !request.quiet });
  const spec: FeatureSpecJSON = request.spec ?? (settings.syntheticSpec === 'ad-request' ? adRequestSpec({ idSpace, store: false }) : syntheticSpec(idSpace));
  const enc = createFeatureEncoder(spec);
  const batch = allocateBatch(enc.layout, CHUNK_ROWS);
  const { idWidth, denseWidth } = enc.layout;
  const sequenceWidth = sequenceWidthOf(enc);
  const one = allocateBatch(enc.layout, 1);
  const labels = new Float32Array(CHUNK_ROWS);
  const truth = new Float64Array(CHUNK_ROWS);
  const seed = /^\d+$/.test(source.seed) ? Number(source.seed) : source.seed;
  const generator = createTrafficGenerator({ seed });
  let index = 0;
  let filled = 0;
  let delivered = 0;
  const flush = async () => {
    if (filled === 0) return;
    const view = sliceRows({ batch, labels }, 0, filled);
    await sink(view, truth.subarray(0, filled));
    delivered += filled;
    filled = 0;
  };
  for (const impression of generator.impressions({ count: source.rows })) {
    if (index >= end) break;
    if (index >= skip) {
      // The impression's request holds the shown ad and the slot it was shown in.
      enc.encode(impression.request, undefined, one);
      batch.ids.set(one.ids, filled * idWidth);
      batch.values.set(one.values, filled * idWidth);
      batch.dense.set(one.dense, filled * denseWidth);
      batch.sequenceIds.set(one.sequenceIds, filled * sequenceWidth);
      batch.sequenceLengths.set(one.sequenceLengths, filled * enc.layout.sequences.length);
      labels[filled] = impression.clicked ? 1 : 0;
      truth[filled] = impression.pClick;
      filled++;
      if (filled === CHUNK_ROWS) await flush();
    }
    index++;
    if ((index & 4095) === 0) progress.update(index);
  }
  await flush();
  progress.finish(index);
  return { encoder: enc, spec, rows: delivered, seen: index, malformed: 0, examples: [], exhausted: index < end };
}
