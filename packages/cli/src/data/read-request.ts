/**
 * What a read of rows is asked for and what it returns — the contract shared by the synthetic,
 * text-log and Arrow readers behind `readRows`.
 */
import type { CompiledEncoder, FeatureSpecJSON, MalformedLine } from '@ctrkit/features';
import type { LabeledRows } from '@ctrkit/models';
import type { CliIo } from '../io.js';
import type { ReadSettings } from './read-settings.js';
import type { DataSource } from './source.js';

/**
 * Rows per encoded chunk handed to a {@link RowSink}.
 *
 * @internal
 */
export const CHUNK_ROWS = 8192;

/**
 * Receives encoded rows in order: a view valid only during the call (copy what you keep).
 *
 * @internal
 */
export type RowSink = (rows: LabeledRows, truth: Float64Array | undefined) => void | Promise<void>;

/**
 * Which rows to read, how, and where they go.
 *
 * @internal
 */
export interface ReadRequest {
  readonly io: CliIo;
  readonly command: string;
  readonly source: DataSource;
  readonly settings: ReadSettings;
  readonly idSpace: number;
  /** The spec to encode with (eval: the model's); absent, it comes from the format or the log. */
  readonly spec?: FeatureSpecJSON;
  /** Rows skipped before the first delivered. */
  readonly skip: number;
  /** Rows delivered at most (`Infinity`: to the end). */
  readonly take: number;
  readonly sink: RowSink;
  readonly quiet: boolean;
}

/**
 * Rows a read delivered, with what the reader had to skip.
 *
 * @internal
 */
export interface ReadOutcome {
  /** The encoder (from the given spec, or built from the log). */
  readonly encoder: CompiledEncoder;
  /** Its spec's JSON form. */
  readonly spec: FeatureSpecJSON;
  /** Rows delivered to the sink. */
  readonly rows: number;
  /** Rows in the source up to where reading stopped (delivered, skipped before, none after). */
  readonly seen: number;
  /** Malformed lines skipped by the reader. */
  readonly malformed: number;
  /** The first malformed lines. */
  readonly examples: readonly MalformedLine[];
  /** Whether the source ended before the wanted rows were all read. */
  readonly exhausted: boolean;
}
