/**
 * Writing ONNX protobufs with onnx-proto (protobufjs). Internal: the public face is the builders
 * (`builders.ts`). Reading is `onnx-graph-reader.ts`, which needs no protobuf runtime, so only
 * what builds models (the main entry) pulls onnx-proto in — never `./browser`.
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
