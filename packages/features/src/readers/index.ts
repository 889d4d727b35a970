/**
 * Streaming readers for real click logs: Criteo TSV, CSV with a header (Avazu-style) and libsvm
 * one-hot. They take bytes from any async source (a Node file stream, a `fetch` body, a string),
 * parse them into column-major chunks, and report progress. A malformed line is counted and
 * reported with its line number; it never stops the reader and never shifts columns.
 *
 * - `driver.ts` — byte sources, options, progress, the line loop every format shares
 * - `criteo.ts`, `csv.ts`, `libsvm.ts` — one format each
 * - `field-map.ts` — libsvm field maps
 */
export { type ByteSource, type ReaderProgress, type MalformedLine, type ReaderStats, type ReaderOptions, type LogReader } from './driver.js';
export { CRITEO_CATEGORICAL_COLUMNS, CRITEO_INTEGER_COLUMNS, readCriteo, type CriteoReaderOptions } from './criteo.js';
export { readCsv, type CsvReaderOptions } from './csv.js';
export { parseFieldMap, type FieldMap } from './field-map.js';
export { readLibsvm, type LibsvmReaderOptions } from './libsvm.js';
