/**
 * `--format arrow`: rows already encoded — a ctrkit Arrow log file, or a directory of them such
 * as a labeled served-row log from `createArrowServedLog` — read in file order.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { CtrkitError } from '@ctrkit/core';
import { createFeatureEncoder } from '@ctrkit/features';
import { listServedLogFiles, readArrowLogFile } from '@ctrkit/features/node';
import { sliceRows } from '@ctrkit/models';
import { createProgress } from '../progress.js';
import type { ReadOutcome, ReadRequest } from './read-request.js';

/**
 * Reads rows `[skip, skip + take)` of an Arrow log (a file, or every closed `.arrow` file of a
 * directory, in order). The spec must be the one they were encoded with: every batch's
 * fingerprint is checked against it.
 *
 * @param request - The read; `spec` is required.
 * @returns What was delivered.
 * @throws {@link CtrkitError} `E_INPUT` without a spec, for a synthetic source, an empty log,
 * rows without labels or labels other than 0 and 1; `E_IO` when the path cannot be opened.
 * @internal
 */
export async function readArrowRows(request: ReadRequest): Promise<ReadOutcome> {
  const { io, source, skip, take, sink } = request;
  if (source.kind !== 'file') throw new CtrkitError('E_INPUT', '--format arrow reads a file or a directory');
  if (request.spec === undefined) throw new CtrkitError('E_INPUT', '--format arrow needs --spec FILE: the feature spec the log was encoded with');
  const spec = request.spec;
  const encoder = createFeatureEncoder(spec);
  const target = path.resolve(io.cwd, source.file);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(target).isDirectory();
  } catch (error) {
    throw new CtrkitError('E_IO', `cannot open Arrow log '${source.file}': ${(error as Error).message}`, { cause: error });
  }
  const files = isDirectory ? await listServedLogFiles(target) : [target];
  if (files.length === 0) throw new CtrkitError('E_INPUT', `nothing to read in ${source.file}: the directory holds no closed .arrow files`);
  const end = skip + take;
  const progress = createProgress({ label: 'reading', total: files.length, unit: 'files', stream: io.stderr, clock: io.clock, enabled: !request.quiet });
  let seen = 0;
  let delivered = 0;
  let exhausted = true;
  let done = 0;
  outer: for (const file of files) {
    for await (const { batch, labels } of readArrowLogFile(file, encoder.layout)) {
      if (labels === undefined) {
        throw new CtrkitError('E_INPUT', `'${file}' has no label column: train on joined (labeled) rows, e.g. a served log created with labeled: true`);
      }
      const first = seen;
      seen += batch.rows;
      if (seen > skip) {
        const from = Math.max(0, skip - first);
        const to = Math.min(batch.rows, end - first);
        for (let r = from; r < to; r++) {
          const y = labels[r] as number;
          if (y !== 0 && y !== 1) throw new CtrkitError('E_INPUT', `'${file}': row ${first + r} has label ${y}; labels must be 0 or 1`);
        }
        await sink(sliceRows({ batch, labels }, from, to), undefined);
        delivered += to - from;
      }
      if (seen >= end) {
        exhausted = false;
        break outer;
      }
    }
    progress.update(++done);
  }
  progress.finish(done);
  if (delivered === 0 && seen === 0) throw new CtrkitError('E_INPUT', `nothing to read in ${source.file}: it holds no rows`);
  return { encoder, spec, rows: delivered, seen: Math.min(seen, end), malformed: 0, examples: [], exhausted };
}
