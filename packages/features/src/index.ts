/**
 * `@ctrkit/features` — the feature spec, murmur3 hashing, crosses, bucketizers, sequences, the
 * encoder, Arrow batches, readers for Criteo / CSV / libsvm logs and the in-memory feature store.
 * Everything here runs in Node and in browsers; the Redis store lives in `@ctrkit/features/redis`
 * and file helpers in `@ctrkit/features/node`.
 *
 * @packageDocumentation
 */
export { hashFeature, murmur3, murmur3Bytes } from './hash.js';
export { featureSpecToJSON, parseFeatureSpec } from './spec.js';
export type { FeatureSpec, FeatureSpecJSON } from './spec.js';
export type {
  BagFieldSpec,
  Bucketize,
  CategoricalFieldSpec,
  CrossFieldSpec,
  DenseFieldSpec,
  FieldBase,
  FieldSource,
  FieldSpec,
  Normalize,
  NumericFieldSpec,
  SequenceFieldSpec,
  SourcedField,
} from './spec/field-spec.js';
export { allocateBatch, createFeatureEncoder } from './encoder.js';
export type { CompiledEncoder, EncoderStats } from './encoder.js';
export type { LogChunk, LogColumn, NumberColumn, SparseRows, StringColumn } from './log.js';
export {
  CRITEO_CATEGORICAL_COLUMNS,
  CRITEO_INTEGER_COLUMNS,
  parseFieldMap,
  readCriteo,
  readCsv,
  readLibsvm,
} from './readers/index.js';
export type {
  ByteSource,
  CriteoReaderOptions,
  CsvReaderOptions,
  FieldMap,
  LibsvmReaderOptions,
  LogReader,
  MalformedLine,
  ReaderOptions,
  ReaderProgress,
  ReaderStats,
} from './readers/index.js';
export { adRequestSpec, criteoSpec } from './presets.js';
export type { AdRequestSpecOptions, CriteoSpecOptions } from './presets.js';
export { ARROW_LAYOUT_KEY, batchFromArrow, batchToArrow, readArrowLog, writeArrowLog } from './arrow.js';
export type { LabeledBatch } from './arrow.js';
export { FREQUENCY_ENTITIES, STORE_ENTITIES, storeCounterNames } from './store.js';
export type { FeatureStoreOptions, FrequencyOptions, StoreEntity, StoreLookupOptions, StoreWindow } from './store.js';
export { createMemoryFeatureStore } from './memory-store.js';
export type { MemoryFeatureStore, MemoryFeatureStoreOptions, MemoryStoreStats } from './memory-store.js';
export { bagOffsets } from './bags.js';
export type { BagOffsets } from './bags.js';
export { createFactorDescriber } from './describe.js';
