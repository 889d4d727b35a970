/**
 * Reading a manifest: `model.json` parsed and every field validated, with an error that names the
 * first field that is wrong and how to mend it.
 */
import { calibratorFromJSON, CtrkitError, type CalibratorJSON } from '@ctrkit/core';
import { SOURCE_TYPES, SOURCES } from './inputs.js';
import type { BatchSource, InputType, ManifestInput, ModelManifest } from './types.js';

function fail(path: string, problem: string): never {
  throw new CtrkitError('E_MODEL_LOAD', `model.json: ${path} ${problem}`, { details: { path } });
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function optionalStr(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(path, `must be a string when present, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Parses and validates a manifest (the text of `model.json`, or its parsed object).
 *
 * @param json - JSON text or the parsed value.
 * @returns The manifest, with every field checked.
 * @throws `CtrkitError` `E_MODEL_LOAD` naming the first missing or malformed field and how to fix it.
 * @example
 * ```ts
 * import { parseManifest } from '@ctrkit/models';
 * const manifest = parseManifest(`{
 *   "format": "ctrkit.model", "formatVersion": 1, "architecture": "lr", "version": "1",
 *   "fingerprint": "abc", "idSpace": 16,
 *   "inputs": [{ "name": "ids", "source": "ids", "type": "int32", "shape": [-1, 2] }],
 *   "output": { "name": "logit", "kind": "logit" }
 * }`);
 * console.log(manifest.output.kind); // logit
 * ```
 */
export function parseManifest(json: unknown): ModelManifest {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CtrkitError('E_MODEL_LOAD', `model.json is not valid JSON (${(error as Error).message}); the file is corrupt or truncated`, { cause: error });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(root)', 'must be a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== 'ctrkit.model') fail('format', `must be "ctrkit.model", got ${JSON.stringify(m.format)}; is this a ctrkit model manifest?`);
  if (m.formatVersion !== 1) fail('formatVersion', `is ${JSON.stringify(m.formatVersion)}; this version of @ctrkit/models reads format 1 — upgrade @ctrkit/models`);
  const architecture = str(m.architecture, 'architecture');
  const version = str(m.version, 'version');
  const fingerprint = str(m.fingerprint, 'fingerprint');
  const idSpace = m.idSpace;
  if (typeof idSpace !== 'number' || !Number.isInteger(idSpace) || idSpace <= 0 || idSpace > 0x7fffffff) {
    fail('idSpace', `must be an integer in [1, 2^31) (the size of the model's id tables), got ${JSON.stringify(idSpace)}`);
  }
  if (!Array.isArray(m.inputs) || m.inputs.length === 0) fail('inputs', 'must be a non-empty array of { name, source, type, shape }');
  const names = new Set<string>();
  const sources = new Set<string>();
  const inputs: ManifestInput[] = m.inputs.map((raw: unknown, i: number) => {
    const path = `inputs[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(path, 'must be an object { name, source, type, shape }');
    const input = raw as Record<string, unknown>;
    const name = str(input.name, `${path}.name`);
    if (names.has(name)) fail(`${path}.name`, `repeats "${name}"; each graph input appears once`);
    names.add(name);
    const source = input.source;
    if (typeof source !== 'string' || !(SOURCES as readonly string[]).includes(source)) {
      fail(`${path}.source`, `must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
    }
    const batchSource = source as BatchSource;
    if (sources.has(batchSource)) fail(`${path}.source`, `repeats "${batchSource}"; feed each batch array to one input`);
    sources.add(batchSource);
    const type = input.type;
    if (typeof type !== 'string' || !(SOURCE_TYPES[batchSource] as readonly string[]).includes(type)) {
      fail(`${path}.type`, `must be ${SOURCE_TYPES[batchSource].join(' or ')} for source ${batchSource}, got ${JSON.stringify(type)}`);
    }
    const rank = batchSource === 'sequenceIds' ? 3 : 2;
    const shape = input.shape;
    if (!Array.isArray(shape) || shape.length !== rank || !shape.every((d) => Number.isInteger(d))) {
      fail(`${path}.shape`, `must be an array of ${rank} integers with -1 for the batch dimension (e.g. ${JSON.stringify(batchSource === 'sequenceIds' ? [-1, 1, 50] : [-1, 8])}), got ${JSON.stringify(shape)}`);
    }
    if (shape[0] !== -1) fail(`${path}.shape`, `must start with -1 (any batch size), got ${JSON.stringify(shape)}`);
    for (let d = 1; d < shape.length; d++) if ((shape[d] as number) < 0) fail(`${path}.shape`, `has a negative inner dimension: ${JSON.stringify(shape)}`);
    const description = optionalStr(input.description, `${path}.description`);
    return { name, source: batchSource, type: type as InputType, shape: shape as number[], ...(description === undefined ? {} : { description }) };
  });
  if (sources.has('sequenceIds') !== sources.has('sequenceLengths')) {
    fail('inputs', 'must feed sequenceIds and sequenceLengths together (a model cannot mask padding without lengths)');
  }
  const ids = inputs.find((input) => input.source === 'ids');
  const values = inputs.find((input) => input.source === 'values');
  if (ids && values && ids.shape[1] !== values.shape[1]) fail('inputs', `give ids ${JSON.stringify(ids.shape)} and values ${JSON.stringify(values.shape)} different widths; both are [-1, idWidth]`);
  const seqIds = inputs.find((input) => input.source === 'sequenceIds');
  const seqLengths = inputs.find((input) => input.source === 'sequenceLengths');
  if (seqIds && seqLengths && seqIds.shape[1] !== seqLengths.shape[1]) {
    fail('inputs', `give sequenceIds ${JSON.stringify(seqIds.shape)} and sequenceLengths ${JSON.stringify(seqLengths.shape)} different sequence counts`);
  }
  if (typeof m.output !== 'object' || m.output === null) fail('output', 'must be an object { name, kind }');
  const outputRaw = m.output as Record<string, unknown>;
  const outputName = str(outputRaw.name, 'output.name');
  if (outputRaw.kind !== 'logit' && outputRaw.kind !== 'probability') fail('output.kind', `must be "logit" or "probability", got ${JSON.stringify(outputRaw.kind)}`);
  let calibration: CalibratorJSON | undefined;
  if (m.calibration !== undefined) {
    try {
      calibration = calibratorFromJSON(m.calibration).toJSON();
    } catch (error) {
      throw new CtrkitError('E_MODEL_LOAD', `model.json: calibration is invalid: ${(error as Error).message}`, { cause: error, details: { path: 'calibration' } });
    }
  }
  let metrics: Record<string, number> | undefined;
  if (m.metrics !== undefined) {
    if (typeof m.metrics !== 'object' || m.metrics === null || Array.isArray(m.metrics)) fail('metrics', 'must be an object of numbers');
    metrics = {};
    for (const [key, metric] of Object.entries(m.metrics as Record<string, unknown>)) {
      if (typeof metric !== 'number' || !Number.isFinite(metric)) fail(`metrics.${key}`, `must be a finite number, got ${JSON.stringify(metric)}`);
      metrics[key] = metric;
    }
  }
  let config: Record<string, unknown> | undefined;
  if (m.config !== undefined) {
    if (typeof m.config !== 'object' || m.config === null || Array.isArray(m.config)) fail('config', 'must be an object');
    config = m.config as Record<string, unknown>;
  }
  const createdAt = optionalStr(m.createdAt, 'createdAt');
  const producer = optionalStr(m.producer, 'producer');
  const description = optionalStr(m.description, 'description');
  return {
    format: 'ctrkit.model',
    formatVersion: 1,
    architecture,
    version,
    fingerprint,
    idSpace,
    inputs,
    output: { name: outputName, kind: outputRaw.kind },
    ...(calibration === undefined ? {} : { calibration }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(config === undefined ? {} : { config }),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(producer === undefined ? {} : { producer }),
    ...(description === undefined ? {} : { description }),
  };
}
