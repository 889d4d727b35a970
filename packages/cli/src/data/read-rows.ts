/**
 * How `ctrkit train` and `ctrkit eval` read rows: {@link readRows} hands a request to the reader
 * of its source — synthetic traffic, an Arrow log, or a text log — and {@link reportMalformed}
 * says what the reader skipped.
 */
import type { CliIo } from '../io.js';
import { readArrowRows } from './read-arrow.js';
import type { ReadOutcome, ReadRequest } from './read-request.js';
import { readSyntheticRows } from './read-synthetic.js';
import { readTextLogRows } from './read-text-log.js';

/**
 * Reads rows `[skip, skip + take)` of a source, encodes them and hands them to `sink` chunk by
 * chunk. The spec comes from `spec` (eval: the model's) or is derived from the format and, for
 * CSV and libsvm without a map, from the first chunk's columns.
 *
 * @param request - What to read and where the rows go.
 * @returns What was delivered and what the reader skipped.
 * @throws `CtrkitError` `E_INPUT` or `E_IO` from the reader of the source.
 * @internal
 */
export async function readRows(request: ReadRequest): Promise<ReadOutcome> {
  const { source } = request;
  if (source.kind === 'synthetic') return readSyntheticRows(request, source);
  if (request.settings.format === 'arrow') return readArrowRows(request);
  return readTextLogRows(request, source);
}

/**
 * Says on stderr how many malformed lines were skipped, with the first one.
 *
 * @param io - Its stderr is written.
 * @param command - The command, for the prefix.
 * @param outcome - The read.
 * @internal
 */
export function reportMalformed(io: CliIo, command: string, outcome: ReadOutcome): void {
  if (outcome.malformed === 0) return;
  const first = outcome.examples[0];
  io.stderr.write(`ctrkit ${command}: skipped ${outcome.malformed.toLocaleString('en-US')} malformed line(s)${first === undefined ? '' : `; first at line ${first.line}: ${first.reason}`}\n`);
}
