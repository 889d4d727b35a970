/**
 * Reading Arrow IPC files from disk (Node only), record batch by record batch, with the errors
 * every ctrkit file reader gives: `E_IO` when the file cannot be opened (with a hint for the
 * usual causes), `E_PARSE` when it is not Arrow IPC or is damaged.
 *
 * @internal
 */
import { open } from 'node:fs/promises';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { CtrkitError } from '@ctrkit/core';

/** `E_IO` for `what` failing on `path`: a hint for a missing file, a denied one or a directory, else the system's message. */
export function ioError(what: string, path: string, error: unknown): CtrkitError {
  const code = (error as { code?: string }).code;
  const hint =
    code === 'ENOENT' ? 'no such file; check the path' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory; give a file' : (error as Error).message;
  return new CtrkitError('E_IO', `${what} '${path}': ${hint}`, { cause: error, details: { path, ...(code ? { errno: code } : {}) } });
}

/**
 * The record batches of the Arrow IPC file at `path`, one in memory at a time; the file is closed
 * when the iteration ends, however it ends.
 *
 * @param path - The file.
 * @param what - What the file is, for messages (`Arrow log`, `served log`).
 * @throws `CtrkitError` `E_IO` (`cannot open <what> '<path>'`) when it cannot be opened;
 *   `E_PARSE` when it is not an Arrow IPC file, or (`<what> '<path>' is damaged`) when a batch
 *   cannot be read.
 */
export async function* readArrowRecords(path: string, what: string): AsyncGenerator<RecordBatch> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw ioError(`cannot open ${what}`, path, error);
  }
  try {
    let reader: AsyncIterable<RecordBatch> & { open(): Promise<unknown> };
    try {
      reader = (await RecordBatchReader.from(handle)) as unknown as typeof reader;
      await reader.open();
    } catch (error) {
      throw new CtrkitError('E_PARSE', `'${path}' is not an Arrow IPC file (${(error as Error).message})`, { cause: error });
    }
    const iterator = reader[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw new CtrkitError('E_PARSE', `${what} '${path}' is damaged (${(error as Error).message})`, { cause: error });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await handle.close();
  }
}
