/**
 * Reading what the loader and the native backend need from an ONNX model — producer, IR version,
 * opset, metadata, the graph's inputs and outputs with their shapes, and its initializers — with
 * the small wire-format reader in `protobuf-reader.ts`, so neither the browser entry nor the Node
 * entry ships a protobuf runtime. Internal: the public face is the loader (`load.ts`).
 *
 * Field numbers follow onnx/onnx.proto (IR version 8, unchanged in later versions for the fields
 * read here). Everything else in the file (nodes, attributes, docs, training info, functions) is
 * skipped without being decoded.
 */
import { CtrkitError, isCtrkitError } from '@ctrkit/core';
import { ProtobufReader, WIRE_FIXED32, WIRE_LENGTH, WIRE_VARINT } from './protobuf-reader.js';

/** ONNX `TensorProto.DataType.FLOAT`. */
const FLOAT = 1;
/** ONNX `TensorProto.DataLocation.EXTERNAL`. */
const EXTERNAL = 1;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

/** @internal One graph input or output as declared in the model. */
export interface OnnxValueInfo {
  readonly name: string;
  /** Element type name (`float32`, `int32`, `int64`, …, or `unknown(n)`). */
  readonly type: string;
  /** Dimensions: a number when fixed, a string for a named symbolic dim, null when unknown. */
  readonly dims: readonly (number | string | null)[];
}

/** @internal One initializer, its data left in the model's buffer. */
export interface OnnxTensor {
  readonly name: string;
  /** ONNX `TensorProto.DataType` number (1 is float32). */
  readonly dataType: number;
  readonly dims: readonly number[];
  /** `raw_data` (a view into the model's bytes; empty when absent). */
  readonly rawData: Uint8Array;
  /** `float_data` as little-endian 4-byte chunks, in order (views; packed or one per value). */
  readonly floatChunks: readonly Uint8Array[];
  /** True when the data lives in an external file next to the model. */
  readonly external: boolean;
}

/** @internal What the loader needs to know about a model before handing it to a runtime. */
export interface OnnxModelInfo {
  /** `ir_version`, undefined when absent. */
  readonly irVersion: number | undefined;
  /** `producer_name` (empty when absent). */
  readonly producerName: string;
  /** `producer_version` (empty when absent). */
  readonly producerVersion: string;
  /** Graph inputs that are not initializers: what a caller must feed. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: readonly OnnxTensor[];
  /** `metadata_props` (no prototype: keys come from the file). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Version of the default (`ai.onnx`) opset, undefined when the model imports none. */
  readonly opset: number | undefined;
}

interface GraphParts {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxTensor[];
}

/** Reads a repeated int64 field, packed (one length-delimited run) or not (one varint each). */
function readInt64s(reader: ProtobufReader, out: number[], where: string): void {
  if (reader.wire === WIRE_LENGTH) {
    const packed = reader.message();
    while (!packed.atEnd) out.push(packed.int64());
  } else {
    reader.expect(WIRE_VARINT, where);
    out.push(reader.int64());
  }
}

function readDimension(reader: ProtobufReader): number | string | null {
  let value = 0;
  let param = '';
  while (reader.next()) {
    if (reader.field === 1) {
      reader.expect(WIRE_VARINT, 'Dimension.dim_value');
      value = reader.int64();
    } else if (reader.field === 2) {
      reader.expect(WIRE_LENGTH, 'Dimension.dim_param');
      param = reader.string();
    } else reader.skip();
  }
  if (param !== '') return param;
  return value > 0 ? value : null;
}

function readTensorType(reader: ProtobufReader, dims: (number | string | null)[]): number {
  let elem = 0;
  while (reader.next()) {
    if (reader.field === 1) {
      reader.expect(WIRE_VARINT, 'TypeProto.Tensor.elem_type');
      elem = reader.int32();
    } else if (reader.field === 2) {
      reader.expect(WIRE_LENGTH, 'TypeProto.Tensor.shape');
      const shape = reader.message();
      dims.length = 0; // a repeated sub-message field: the last occurrence wins, as in protobufjs
      while (shape.next()) {
        if (shape.field === 1) {
          shape.expect(WIRE_LENGTH, 'TensorShapeProto.dim');
          dims.push(readDimension(shape.message()));
        } else shape.skip();
      }
    } else reader.skip();
  }
  return elem;
}

function readValueInfo(reader: ProtobufReader): OnnxValueInfo {
  let name = '';
  let elem = 0;
  const dims: (number | string | null)[] = [];
  while (reader.next()) {
    if (reader.field === 1) {
      reader.expect(WIRE_LENGTH, 'ValueInfoProto.name');
      name = reader.string();
    } else if (reader.field === 2) {
      reader.expect(WIRE_LENGTH, 'ValueInfoProto.type');
      const type = reader.message();
      elem = 0;
      dims.length = 0;
      while (type.next()) {
        if (type.field === 1) {
          type.expect(WIRE_LENGTH, 'TypeProto.tensor_type');
          elem = readTensorType(type.message(), dims);
        } else type.skip();
      }
    } else reader.skip();
  }
  return { name, type: ELEM_NAMES[elem] ?? `unknown(${elem})`, dims };
}

function readTensor(reader: ProtobufReader): OnnxTensor {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let rawData: Uint8Array = new Uint8Array(0);
  const floatChunks: Uint8Array[] = [];
  let external = false;
  while (reader.next()) {
    switch (reader.field) {
      case 1:
        readInt64s(reader, dims, 'TensorProto.dims');
        break;
      case 2:
        reader.expect(WIRE_VARINT, 'TensorProto.data_type');
        dataType = reader.int32();
        break;
      case 4:
        if (reader.wire === WIRE_LENGTH) {
          const chunk = reader.bytesView();
          if (chunk.byteLength % 4 !== 0) throw new CtrkitError('E_MODEL_LOAD', `protobuf packed float_data of ${chunk.byteLength} bytes is not a whole number of floats at byte ${reader.pos}`);
          floatChunks.push(chunk);
        } else {
          reader.expect(WIRE_FIXED32, 'TensorProto.float_data');
          floatChunks.push(reader.fixed32Bytes());
        }
        break;
      case 8:
        reader.expect(WIRE_LENGTH, 'TensorProto.name');
        name = reader.string();
        break;
      case 9:
        reader.expect(WIRE_LENGTH, 'TensorProto.raw_data');
        rawData = reader.bytesView();
        break;
      case 14:
        reader.expect(WIRE_VARINT, 'TensorProto.data_location');
        external = reader.int32() === EXTERNAL;
        break;
      default:
        reader.skip();
    }
  }
  return { name, dataType, dims, rawData, floatChunks, external };
}

function readGraph(reader: ProtobufReader): GraphParts {
  const parts: GraphParts = { inputs: [], outputs: [], initializers: [] };
  while (reader.next()) {
    switch (reader.field) {
      case 5:
        reader.expect(WIRE_LENGTH, 'GraphProto.initializer');
        parts.initializers.push(readTensor(reader.message()));
        break;
      case 11:
        reader.expect(WIRE_LENGTH, 'GraphProto.input');
        parts.inputs.push(readValueInfo(reader.message()));
        break;
      case 12:
        reader.expect(WIRE_LENGTH, 'GraphProto.output');
        parts.outputs.push(readValueInfo(reader.message()));
        break;
      default:
        reader.skip();
    }
  }
  return parts;
}

interface ModelParts {
  irVersion: number | undefined;
  producerName: string;
  producerVersion: string;
  opset: number | undefined;
  graph: GraphParts | undefined;
  metadata: Record<string, string>;
}

function readModel(bytes: Uint8Array): ModelParts {
  const model: ModelParts = { irVersion: undefined, producerName: '', producerVersion: '', opset: undefined, graph: undefined, metadata: Object.create(null) as Record<string, string> };
  let opsetFound = false;
  const reader = new ProtobufReader(bytes);
  while (reader.next()) {
    switch (reader.field) {
      case 1:
        reader.expect(WIRE_VARINT, 'ModelProto.ir_version');
        model.irVersion = reader.int64();
        break;
      case 2:
        reader.expect(WIRE_LENGTH, 'ModelProto.producer_name');
        model.producerName = reader.string();
        break;
      case 3:
        reader.expect(WIRE_LENGTH, 'ModelProto.producer_version');
        model.producerVersion = reader.string();
        break;
      case 7:
        reader.expect(WIRE_LENGTH, 'ModelProto.graph');
        model.graph = readGraph(reader.message());
        break;
      case 8: {
        reader.expect(WIRE_LENGTH, 'ModelProto.opset_import');
        const entry = reader.message();
        let domain = '';
        let version: number | undefined;
        while (entry.next()) {
          if (entry.field === 1) {
            entry.expect(WIRE_LENGTH, 'OperatorSetIdProto.domain');
            domain = entry.string();
          } else if (entry.field === 2) {
            entry.expect(WIRE_VARINT, 'OperatorSetIdProto.version');
            version = entry.int64();
          } else entry.skip();
        }
        // The first default-domain import counts, as the onnx-proto based reader did.
        if (!opsetFound && (domain === '' || domain === 'ai.onnx')) {
          opsetFound = true;
          model.opset = version;
        }
        break;
      }
      case 14: {
        reader.expect(WIRE_LENGTH, 'ModelProto.metadata_props');
        const entry = reader.message();
        let key = '';
        let value = '';
        while (entry.next()) {
          if (entry.field === 1) {
            entry.expect(WIRE_LENGTH, 'StringStringEntryProto.key');
            key = entry.string();
          } else if (entry.field === 2) {
            entry.expect(WIRE_LENGTH, 'StringStringEntryProto.value');
            value = entry.string();
          } else entry.skip();
        }
        if (key !== '') model.metadata[key] = value;
        break;
      }
      default:
        reader.skip();
    }
  }
  return model;
}

/**
 * @internal Decodes an ONNX model's protobuf and lists its real inputs (graph inputs that are not
 * initializers), outputs, initializers and metadata.
 *
 * @param bytes - The model file.
 * @param what - The file's name in messages (default `model.onnx`).
 * @returns What the loader and the native backend read; initializer data stays in `bytes`.
 * @throws `CtrkitError` `E_MODEL_LOAD` when the bytes are not an ONNX model (empty, truncated, a
 * malformed field, or no graph with outputs).
 * @remarks Linear in the file's size; copies no tensor data.
 */
export function inspectOnnxModel(bytes: Uint8Array, what = 'model.onnx'): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
    throw new CtrkitError('E_MODEL_LOAD', `${what} is empty; export the model again (an interrupted copy leaves an empty file)`);
  }
  let model: ModelParts;
  try {
    model = readModel(bytes);
  } catch (error) {
    const reason = isCtrkitError(error) ? error.message : String(error);
    throw new CtrkitError('E_MODEL_LOAD', `${what} is not a valid ONNX model (protobuf decoding failed: ${reason}); the file is corrupt or truncated — export it again`, {
      cause: error,
    });
  }
  const graph = model.graph;
  if (graph === undefined || graph.outputs.length === 0) {
    throw new CtrkitError('E_MODEL_LOAD', `${what} holds no graph with outputs; it is corrupt or not an ONNX model — export it again`);
  }
  const initializerNames = new Set(graph.initializers.map((t) => t.name));
  return {
    irVersion: model.irVersion,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    inputs: graph.inputs.filter((i) => !initializerNames.has(i.name)),
    outputs: graph.outputs,
    initializers: graph.initializers,
    metadata: model.metadata,
    opset: model.opset,
  };
}

/**
 * @internal Finds an initializer by name.
 *
 * @param info - A model as {@link inspectOnnxModel} read it.
 * @param name - The initializer's name.
 * @returns It, or undefined.
 */
export function findInitializer(info: OnnxModelInfo, name: string): OnnxTensor | undefined {
  return info.initializers.find((t) => t.name === name);
}

/**
 * @internal Reads a float32 initializer by name, copying it out of the model's bytes.
 *
 * @param info - A model as {@link inspectOnnxModel} read it.
 * @param name - The initializer's name.
 * @param length - How many floats it must hold.
 * @returns A fresh array of `length` floats.
 * @throws `CtrkitError` `E_MODEL_LOAD` when it is missing, not float32, stored outside the file,
 * or of another length; `E_CONFIG` on a big-endian host.
 */
export function readFloatInitializer(info: OnnxModelInfo, name: string, length: number): Float32Array {
  const tensor = findInitializer(info, name);
  if (tensor === undefined) {
    throw new CtrkitError('E_MODEL_LOAD', `model.onnx has no initializer "${name}"; the native backend runs only models written by ctrkit's LR/FM builders`);
  }
  if (tensor.dataType !== FLOAT) throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" is not float32`);
  if (tensor.external) {
    throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" is stored in an external data file; export the model with its weights inside model.onnx`);
  }
  if (!LITTLE_ENDIAN) throw new CtrkitError('E_CONFIG', 'ONNX tensor data is little-endian; this host is big-endian, which ctrkit does not support');
  const out = new Float32Array(length);
  // Copy through bytes: the data's offset inside the file need not be 4-aligned. Both encodings
  // are little-endian, which the writer (GraphBuilder) also requires of the host.
  const target = new Uint8Array(out.buffer);
  if (tensor.rawData.byteLength > 0) {
    if (tensor.rawData.byteLength !== length * 4) {
      throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" holds ${tensor.rawData.byteLength / 4} floats, expected ${length}`);
    }
    target.set(tensor.rawData);
    return out;
  }
  let bytes = 0;
  for (const chunk of tensor.floatChunks) bytes += chunk.byteLength;
  if (bytes !== length * 4) throw new CtrkitError('E_MODEL_LOAD', `initializer "${name}" holds ${bytes / 4} floats, expected ${length}`);
  let offset = 0;
  for (const chunk of tensor.floatChunks) {
    target.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
