/**
 * The model inputs a layout gives: which batch arrays exist, the element types and shapes an
 * input may declare for each, and the inputs ctrkit's own builders create.
 */
import type { FeatureLayout } from '@ctrkit/core';
import { sequenceStride } from '../batch-check.js';
import type { ModelWeights } from '../weights.js';
import type { BatchSource, InputType, ManifestInput } from './types.js';

/** @internal Every batch array a model input can read. */
export const SOURCES: readonly BatchSource[] = ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths'];
/** @internal The element types a model input may declare for each batch array. */
export const SOURCE_TYPES: Readonly<Record<BatchSource, readonly InputType[]>> = {
  ids: ['int32', 'int64'],
  values: ['float32'],
  dense: ['float32'],
  sequenceIds: ['int32', 'int64'],
  sequenceLengths: ['int32', 'int64'],
};

/** @internal The input names ctrkit's builders give each batch array. */
export const STANDARD_INPUT_NAMES: Readonly<Record<BatchSource, string>> = {
  ids: 'ids',
  values: 'values',
  dense: 'dense',
  sequenceIds: 'sequence_ids',
  sequenceLengths: 'sequence_lengths',
};

const STANDARD_DESCRIPTIONS: Readonly<Record<BatchSource, string>> = {
  ids: 'hashed ids, row-major [rows × idWidth], in [0, idSpace)',
  values: 'weight of each id (1 present, 0 bag padding)',
  dense: 'normalized dense columns [rows × denseWidth]',
  sequenceIds: 'behavior sequences [rows × S × L], left-padded with id 0',
  sequenceLengths: 'real items of each sequence [rows × S]',
};

/** @internal The shape a layout gives a batch array, batch dimension -1. */
export function layoutShape(layout: FeatureLayout, source: BatchSource): number[] {
  switch (source) {
    case 'ids':
    case 'values':
      return [-1, layout.idWidth];
    case 'dense':
      return [-1, layout.denseWidth];
    case 'sequenceIds':
      return [-1, layout.sequences.length, sequenceStride(layout)];
    case 'sequenceLengths':
      return [-1, layout.sequences.length];
  }
}

/** @internal The inputs a built-in architecture reads from a layout (unused arrays omitted). */
export function builtInInputs(layout: FeatureLayout, kind: ModelWeights['kind']): ManifestInput[] {
  const sources: BatchSource[] = ['ids', 'values'];
  if (layout.denseWidth > 0) sources.push('dense');
  if ((kind === 'dcnv2' || kind === 'deepfm' || kind === 'din') && layout.sequences.length > 0) sources.push('sequenceIds', 'sequenceLengths');
  return sources.map((source) => ({
    name: STANDARD_INPUT_NAMES[source],
    source,
    type: source === 'values' || source === 'dense' ? 'float32' : 'int32',
    shape: layoutShape(layout, source),
    description: STANDARD_DESCRIPTIONS[source],
  }));
}
