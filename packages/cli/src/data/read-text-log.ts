/**
 * Rows of a text log — Criteo TSV, CSV or libsvm — read chunk by chunk from a file, encoded with
 * the given spec or one derived from the format (Criteo) or from the first chunk's columns.
 */
import path from 'node:path';
import { CtrkitError, type FeatureBatch } from '@ctrkit/core';
import {
  allocateBatch,
  createFeatureEncoder,
  criteoSpec,
  parseFieldMap,
  readCriteo,
  readCsv,
  readLibsvm,
  type CompiledEncoder,
  type FeatureSpecJSON,
  type FieldMap,
  type LogChunk,
  type LogReader,
} from '@ctrkit/features';
import { openLogFile } from '@ctrkit/features/node';
import { sliceRows } from '@ctrkit/models';
import { readTextFile } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { specFromChunk } from './feature-specs.js';
import { CHUNK_ROWS, type ReadOutcome, type ReadRequest } from './read-request.js';
import type { DataSource } from './source.js';

/**
 * Reads rows `[skip, skip + take)` of a Criteo, CSV or libsvm file, encodes them and hands them to
 * the sink chunk by chunk. Progress counts rows when `take` is finite, kilobytes otherwise.
 *
 * @param request - The read; its settings name a text format.
 * @param source - The file.
 * @returns What was delivered and what the reader skipped.
 * @throws {@link CtrkitError} `E_INPUT` for an unknown format, a delivered row without a label,
 * or a file with no readable row; `E_IO` when the file cannot be opened.
 * @internal
 */
export async function readTextLogRows(request: ReadRequest, source: Extract<DataSource, { kind: 'file' }>): Promise<ReadOutcome> {
  const { io, settings, idSpace, skip, take, sink } = request;
  const end = skip + take;
  const finite = Number.isFinite(end);
  let encoder: CompiledEncoder | undefined;
  let spec = request.spec;
  let out: FeatureBatch | undefined;
  const ensureEncoder = (chunk: LogChunk): CompiledEncoder => {
    if (encoder !== undefined) return encoder;
    if (spec === undefined) spec = settings.format === 'criteo' ? criteoSpec({ idSpace }) : specFromChunk(settings, chunk, idSpace);
    encoder = createFeatureEncoder(spec);
    out = allocateBatch(encoder.layout, CHUNK_ROWS);
    return encoder;
  };

  const file = path.resolve(io.cwd, source.file);
  const log = openLogFile(file);
  const progress: Progress = finite
    ? createProgress({ label: 'reading', total: end, unit: 'rows', stream: io.stderr, clock: io.clock, enabled: !request.quiet })
    : createProgress({ label: 'reading', total: Math.ceil(log.totalBytes / 1024), unit: 'kB', stream: io.stderr, clock: io.clock, enabled: !request.quiet });
  let reader: LogReader;
  const common = { chunkRows: CHUNK_ROWS, totalBytes: log.totalBytes, keepExamples: 5 };
  switch (settings.format) {
    case 'criteo':
      reader = readCriteo(log.source, common);
      break;
    case 'csv':
      reader = readCsv(log.source, {
        ...common,
        ...(settings.label === undefined ? {} : { label: settings.label }),
        ...(settings.ignore === undefined ? {} : { ignore: settings.ignore }),
        ...(settings.numeric === undefined ? {} : { numeric: settings.numeric }),
        ...(settings.delimiter === undefined ? {} : { delimiter: settings.delimiter }),
      });
      break;
    case 'libsvm': {
      let fieldMap: FieldMap | undefined;
      if (settings.fieldMap !== undefined) fieldMap = parseFieldMap(await readTextFile(io, settings.fieldMap, '--field-map'));
      reader = readLibsvm(log.source, { ...common, ...(fieldMap === undefined ? {} : { fieldMap }) });
      break;
    }
    default:
      throw new CtrkitError('E_INPUT', `unknown format ${JSON.stringify(settings.format)}`);
  }
  let seen = 0;
  let delivered = 0;
  let exhausted = true;
  for await (const chunk of reader) {
    const enc = ensureEncoder(chunk);
    const first = seen;
    seen += chunk.rows;
    if (seen > skip) {
      const from = Math.max(0, skip - first);
      const to = Math.min(chunk.rows, end - first);
      const batch = enc.encodeChunk(chunk, out);
      for (let r = from; r < to; r++) {
        if (chunk.labels[r] !== chunk.labels[r]) throw new CtrkitError('E_INPUT', `line ${chunk.lines[r]} has no label; give the label column (--label for CSV)`);
      }
      await sink(sliceRows({ batch, labels: chunk.labels }, from, to), undefined);
      delivered += to - from;
    }
    progress.update(finite ? Math.min(seen, end) : reader.stats.bytes / 1024);
    if (seen >= end) {
      exhausted = false;
      break;
    }
  }
  progress.finish(finite ? Math.min(seen, end) : reader.stats.bytes / 1024);
  const stats = reader.stats;
  if (encoder === undefined) {
    const why = stats.malformed > 0 ? `all ${stats.malformed} lines are malformed (line ${stats.examples[0]?.line}: ${stats.examples[0]?.reason}); is --format ${settings.format} right?` : 'it holds no rows';
    throw new CtrkitError('E_INPUT', `nothing to read in ${source.file}: ${why}`);
  }
  return { encoder, spec: spec as FeatureSpecJSON, rows: delivered, seen: Math.min(seen, end), malformed: stats.malformed, examples: stats.examples, exhausted };
}
