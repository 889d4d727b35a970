/**
 * Writing and reading ONNX protobufs with onnx-proto (protobufjs). Internal: the public face is
 * the builders (`builders.ts`) and the loader (`load.ts`).
 */
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { CtrkitError } from '@ctrkit/core';

const { onnx } = onnxProto;

/** @internal ONNX element types ctrkit writes or accepts as model inputs. */
export type TensorType = 'float32' | 'int32' | 'int64' | 'bool';

/** @internal Opset every builder targets. */
export const OPSET = 17;
/** @internal IR version 8 is the first to allow opset 17 and the newest onnx-proto 8 knows. */
export const IR_VERSION = 8;

const ELEM: Record<TensorType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

const ELEM_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(array: Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function valueInfo(name: string, type: TensorType, dims: readonly (number | string)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * @internal A small ONNX graph writer: named initializers, auto-named intermediate values, int
 * attributes. Every method returns the name of the value it produced.
 */
export class GraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(private readonly name: string) {
    if (!LITTLE_ENDIAN) {
      throw new CtrkitError('E_CONFIG', 'ONNX raw tensor data is little-endian; this host is big-endian, which ctrkit does not support');
    }
  }

  /** Declares a graph input. */
  input(name: string, type: TensorType, dims: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output (`value` is renamed through an Identity when names differ). */
  output(value: string, name: string, type: TensorType, dims: readonly (number | string)[]): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}_identity` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 initializer (stored as raw little-endian bytes; the array is copied when encoded). */
  floats(name: string, data: Float32Array, dims: readonly number[]): string {
    this.initializers.push({ name, dataType: ELEM.float32, dims: [...dims], rawData: bytesOf(data) });
    return name;
  }

  /** An int64 initializer (shapes, axes, indices), deduplicated by value. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = `const_${this.constants.size}`;
    this.initializers.push({ name, dataType: ELEM.int64, dims: [...dims], int64Data: [...values] });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant, deduplicated by value. */
  floatConst(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = `const_${this.constants.size}`;
    this.initializers.push({ name, dataType: ELEM.float32, dims: [...dims], rawData: bytesOf(new Float32Array(values)) });
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node with int attributes; returns its (single) output's name. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, number>> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({
      opType,
      name: `${out}_node`,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([name, i]) => ({ name, i, type: onnx.AttributeProto.AttributeType.INT })),
    });
    return out;
  }

  /** Encodes the model. */
  toBytes(options: { readonly docString: string; readonly metadata: Readonly<Record<string, string>>; readonly producerVersion: string }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'ctrkit',
      producerVersion: options.producerVersion,
      docString: options.docString,
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** @internal One graph input or output as declared in the model. */
export interface OnnxValueInfo {
  readonly name: string;
  /** Element type name (`float32`, `int32`, `int64`, …, or `unknown(n)`). */
  readonly type: string;
  /** Dimensions: a number when fixed, a string for a named symbolic dim, null when unknown. */
  readonly dims: readonly (number | string | null)[];
}

/** @internal What the loader needs to know about a model before handing it to a runtime. */
export interface OnnxModelInfo {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly opset: number | undefined;
  readonly model: Onnx.ModelProto;
}

/** @internal A protobuf int64 (number, Long or {low, high}) as a number. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null) {
    const long = value as { toNumber?: () => number; low?: number; high?: number };
    if (typeof long.toNumber === 'function') return long.toNumber();
    if (typeof long.low === 'number' && typeof long.high === 'number') return long.high * 4294967296 + (long.low >>> 0);
  }
  return Number(value);
}

function describeValue(info: Onnx.IValueInfoProto): OnnxValueInfo {
  const tensor = info.type?.tensorType;
  const elem = tensor?.elemType ?? 0;
  const dims = (tensor?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined) {
      const n = toNumber(d.dimValue);
      return n > 0 ? n : null;
    }
    return null;
  });
  return { name: info.name ?? '', type: ELEM_NAMES[elem] ?? `unknown(${elem})`, dims };
}

/**
 * @internal Decodes an ONNX model's protobuf and lists its real inputs (graph inputs that are not
 * initializers), outputs and metadata.
 *
 * @throws `CtrkitError` `E_MODEL_LOAD` when the bytes are not an ONNX model.
 */
export function inspectOnnxModel(bytes: Uint8Array, what = 'model.onnx'): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
    throw new CtrkitError('E_MODEL_LOAD', `${what} is empty; export the model again (an interrupted copy leaves an empty file)`);
  }
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `${what} is not a valid ONNX model (protobuf decoding failed: ${(error as Error).message}); the file is corrupt or truncated — export it again`,
      { cause: error },
    );
  }
  const graph = model.graph;
  if (!graph || !graph.output || graph.output.length === 0) {
    throw new CtrkitError('E_MODEL_LOAD', `${what} holds no graph with outputs; it is corrupt or not an ONNX model — export it again`);
  }
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((i) => !initializerNames.has(i.name ?? '')).map(describeValue);
  const outputs = graph.output.map(describeValue);
  const metadata: Record<string, string> = {};
  for (const entry of model.metadataProps ?? []) if (entry.key) metadata[entry.key] = entry.value ?? '';
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return { inputs, outputs, metadata, opset: opset?.version === undefined || opset.version === null ? undefined : toNumber(opset.version), model };
}

/**
 * @internal Reads a float32 initializer by name (copying it out of the protobuf).
 *
 * @throws `CtrkitError` `E_MODEL_LOAD` when it is missing or not float32.
 */
export function readFloatInitializer(info: OnnxModelInfo, name: string, length: number): Float32Array {
  const tensor = (info.model.graph?.initializer ?? []).find((t) => t.name === name);
  if (tensor === undefined) {
    throw new CtrkitError('E_MODEL_LOAD', `model.onnx has no initializer "${name}"; the native backend runs only models written by ctrkit's LR/FM builders`);
  }
  if (tensor.dataType !== ELEM.float32) throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" is not float32`);
  const out = new Float32Array(length);
  if (tensor.rawData && tensor.rawData.byteLength > 0) {
    if (tensor.rawData.byteLength !== length * 4) {
      throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" holds ${tensor.rawData.byteLength / 4} floats, expected ${length}`);
    }
    // Copy through bytes: rawData's offset inside the protobuf buffer need not be 4-aligned.
    new Uint8Array(out.buffer).set(tensor.rawData);
  } else {
    const data = tensor.floatData ?? [];
    if (data.length !== length) throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" holds ${data.length} floats, expected ${length}`);
    out.set(data);
  }
  return out;
}
