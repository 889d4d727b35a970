/**
 * The ONNX reader against an independent decoder: onnx-proto (protobufjs) on every model the
 * builders write — same producer, IR version, opset, metadata, inputs, outputs, initializer names,
 * types, dims and float values, bit for bit — plus hand-made encodings onnx-proto never writes,
 * and hostile bytes (random, truncated, mutated), which must give E_MODEL_LOAD and nothing else.
 */
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { isCtrkitError, type FeatureLayout } from '@ctrkit/core';
import { buildModel, initDcnV2Weights, initDeepFmWeights, initDinWeights, initFmWeights, initLrWeights, type ModelWeights } from '../src/index.js';
import { findInitializer, inspectOnnxModel, readFloatInitializer, type OnnxValueInfo } from '../src/onnx-graph-reader.js';
import { ctrkitErrorThrownBy } from '@ctrkit/test-support';
import { plainLayout, richLayout } from './fixtures/layouts.js';
import { bytesOf, floatBytes, floatField, lengthField, stringField, tag, varint, varintField } from './fixtures/protobuf-encode.js';

const { onnx } = onnxProto;

const num = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

const ELEM: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

/** The reference: what onnx-proto says a value info declares. */
function referenceValue(info: Onnx.IValueInfoProto): OnnxValueInfo {
  const tensor = info.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : null));
  return { name: info.name ?? '', type: ELEM[tensor?.elemType ?? 0] ?? `unknown(${tensor?.elemType ?? 0})`, dims };
}

function referenceFloats(t: Onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}

/** Decodes with both readers and checks they agree on everything the loader and native backend read. */
function crossCheck(bytes: Uint8Array): void {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as Onnx.GraphProto;
  const info = inspectOnnxModel(bytes);
  expect(info.producerName).toBe(model.producerName);
  expect(info.producerVersion).toBe(model.producerVersion);
  expect(info.irVersion).toBe(num(model.irVersion));
  expect(info.opset).toBe(num(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')!.version));
  expect({ ...info.metadata }).toEqual(Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])));
  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  expect(info.inputs).toEqual(graph.input.filter((i) => !initializerNames.has(i.name)).map(referenceValue));
  expect(info.outputs).toEqual(graph.output.map(referenceValue));
  expect(info.initializers.map((t) => t.name)).toEqual(graph.initializer.map((t) => t.name));
  for (const t of graph.initializer as Onnx.TensorProto[]) {
    const mine = findInitializer(info, t.name)!;
    expect(mine.dataType, t.name).toBe(t.dataType);
    expect(mine.dims, t.name).toEqual(t.dims.map(num));
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
      const n = t.dims.map(num).reduce((a, b) => a * b, 1);
      const got = readFloatInitializer(info, t.name, n);
      // Bit for bit: compare the bytes, so NaN payloads and -0 count too.
      expect(new Uint8Array(got.buffer), t.name).toEqual(new Uint8Array(referenceFloats(t).buffer));
    }
  }
}

function architectures(layout: FeatureLayout): [string, ModelWeights][] {
  return [
    ['lr', initLrWeights(layout, { seed: 'lr', scale: 0.5, biasScale: 0.3 })],
    ['fm', initFmWeights(layout, { seed: 'fm', dim: 4, scale: 0.3, biasScale: 0.3 })],
    ['dcnv2 full rank', initDcnV2Weights(layout, { seed: 'dcn', embeddingDim: 4, crossLayers: 3, deep: [16, 8], embeddingScale: 0.5, biasScale: 0.1 })],
    ['dcnv2 low rank', initDcnV2Weights(layout, { seed: 'dcn-lr', embeddingDim: 4, crossLayers: 2, lowRank: 3, deep: [16] })],
    ['dcnv2 cross only', initDcnV2Weights(layout, { seed: 'dcn-x', embeddingDim: 3, crossLayers: 2, deep: [] })],
    ['din', initDinWeights(layout, { seed: 'din', embeddingDim: 4, attention: [8, 4], deep: [16, 8] })],
    ['deepfm', initDeepFmWeights(layout, { seed: 'deepfm', embeddingDim: 4, deep: [16, 8], linearScale: 0.3 })],
  ];
}

describe.each([
  ['rich layout', richLayout()],
  ['plain layout', plainLayout()],
])('the reader agrees with onnx-proto on every builder model (%s)', (_name, layout) => {
  it.each(architectures(layout))('%s', (_label, weights) => {
    crossCheck(buildModel(layout, weights));
  });
});

describe('encodings the builders do not write', () => {
  it('float_data instead of raw_data, int64 data, symbolic, unknown and negative dims, a non-tensor input (checked against onnx-proto)', () => {
    const T = onnx.TensorProto.DataType;
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 9,
        producerName: 'pytorch',
        producerVersion: '2.5',
        opsetImport: [{ domain: 'ai.onnx.ml', version: 3 }, { domain: 'ai.onnx', version: 18 }],
        metadataProps: [{ key: 'a', value: 'b' }],
        graph: {
          name: 'g',
          initializer: [
            { name: 'w', dataType: T.FLOAT, dims: [2, 3], floatData: [1, -2.5, 3e-38, 0, -0, 7] },
            { name: 'axes', dataType: T.INT64, dims: [1], int64Data: [1] },
          ],
          input: [
            { name: 'x', type: { tensorType: { elemType: T.INT64, shape: { dim: [{ dimParam: 'N' }, { dimValue: 5 }, {}, { dimValue: -1 }] } } } },
            { name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: T.FLOAT } } } } },
            { name: 'w', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } } },
          ],
          output: [{ name: 'y', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } } }],
        },
      }),
    ).finish();
    crossCheck(bytes);
    const info = inspectOnnxModel(bytes);
    expect(info.opset).toBe(18);
    expect(info.inputs).toEqual([
      { name: 'x', type: 'int64', dims: ['N', 5, null, null] },
      { name: 'seq', type: 'unknown(0)', dims: [] },
    ]);
  });

  it('packed dims, unpacked float_data, external data, a "__proto__" metadata key, unknown fields skipped', () => {
    const tensor = (name: string, body: number[]) => lengthField(5, [...stringField(8, name), ...varintField(2, 1), ...body]);
    const graph = [
      ...tensor('packed', [...lengthField(1, [...varint(2), ...varint(2)]), ...lengthField(4, floatBytes([1, 2, 3, 4]))]),
      ...tensor('unpacked', [...varintField(1, 3), ...floatField(4, 0.25), ...floatField(4, -8), ...floatField(4, 1e30)]),
      ...tensor('outside', [...varintField(1, 1), ...varintField(14, 1), ...lengthField(13, stringField(1, 'location'))]),
      ...lengthField(12, [...stringField(1, 'y'), ...lengthField(2, lengthField(1, varintField(1, 1)))]),
      ...lengthField(1, [...stringField(4, 'Relu'), ...lengthField(999, [1, 2, 3])]), // a node: skipped whole
      ...[...tag(77, 1), 1, 2, 3, 4, 5, 6, 7, 8], // an unknown fixed64 field
    ];
    const bytes = bytesOf(
      varintField(1, 8),
      lengthField(14, [...stringField(1, '__proto__'), ...stringField(2, 'polluted?')]),
      lengthField(8, varintField(2, 17)), // an opset import with no domain: the default one
      lengthField(7, graph),
      [...tag(20, 5), 0, 0, 0, 0], // an unknown fixed32 field
    );
    const info = inspectOnnxModel(bytes);
    expect(info.opset).toBe(17);
    expect(Object.keys(info.metadata)).toEqual(['__proto__']);
    expect(info.metadata['__proto__']).toBe('polluted?');
    expect(({} as Record<string, unknown>)['polluted?']).toBeUndefined();
    expect([...readFloatInitializer(info, 'packed', 4)]).toEqual([1, 2, 3, 4]);
    expect(findInitializer(info, 'packed')!.dims).toEqual([2, 2]);
    expect([...readFloatInitializer(info, 'unpacked', 3)]).toEqual([0.25, -8, Math.fround(1e30)]);
    expect(ctrkitErrorThrownBy(() => readFloatInitializer(info, 'outside', 1)).message).toMatch(/initializer "outside" is stored in an external data file/);
    expect(info.outputs).toEqual([{ name: 'y', type: 'float32', dims: [] }]);
  });

  it('readFloatInitializer names what is wrong: missing, not float32, another length', () => {
    const T = onnx.TensorProto.DataType;
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        graph: {
          initializer: [
            { name: 'f', dataType: T.FLOAT, dims: [2], rawData: new Uint8Array(floatBytes([1, 2])) },
            { name: 'g', dataType: T.FLOAT, dims: [2], floatData: [1, 2] },
            { name: 'i', dataType: T.INT64, dims: [1], int64Data: [1] },
          ],
          output: [{ name: 'y' }],
        },
      }),
    ).finish();
    const info = inspectOnnxModel(bytes);
    expect(ctrkitErrorThrownBy(() => readFloatInitializer(info, 'nope', 1))).toMatchObject({ code: 'E_MODEL_LOAD', message: expect.stringMatching(/no initializer "nope"/) });
    expect(ctrkitErrorThrownBy(() => readFloatInitializer(info, 'i', 1)).message).toMatch(/initializer "i" is not float32/);
    expect(ctrkitErrorThrownBy(() => readFloatInitializer(info, 'f', 3)).message).toMatch(/initializer "f" holds 2 floats, expected 3/);
    expect(ctrkitErrorThrownBy(() => readFloatInitializer(info, 'g', 1)).message).toMatch(/initializer "g" holds 2 floats, expected 1/);
  });
});

describe('bad bytes give E_MODEL_LOAD, never a crash or a hang', () => {
  const lr = buildModel(plainLayout(), initLrWeights(plainLayout(), { seed: 'bad', scale: 0.5 }));

  it('empty, truncated at every length, a wrong wire type, an oversized length, other file formats', () => {
    expect(ctrkitErrorThrownBy(() => inspectOnnxModel(new Uint8Array(0))).message).toMatch(/model\.onnx is empty/);
    // A prefix cut at a field boundary is itself a valid message (protobuf has no end marker), so a
    // cut past the graph field (into opset_import or metadata_props, written after it) may read; it
    // must then hold the whole graph. Every cut inside or before the graph is refused.
    const full = inspectOnnxModel(lr);
    let read = 0;
    for (let n = 1; n < lr.length; n++) {
      let info;
      try {
        info = inspectOnnxModel(lr.subarray(0, n), 'cut.onnx');
      } catch (error) {
        expect(isCtrkitError(error) && error.code === 'E_MODEL_LOAD').toBe(true);
        expect((error as Error).message).toMatch(/cut\.onnx (is not a valid ONNX model \(protobuf decoding failed: protobuf .* at byte \d+\)|holds no graph with outputs)/);
        continue;
      }
      read++;
      expect([info.inputs, info.outputs, info.initializers.map((t) => t.name)]).toEqual([full.inputs, full.outputs, full.initializers.map((t) => t.name)]);
    }
    const tail = onnx.ModelProto.encode({ opsetImport: onnx.ModelProto.decode(lr).opsetImport, metadataProps: onnx.ModelProto.decode(lr).metadataProps }).finish().length;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(tail);
    expect(ctrkitErrorThrownBy(() => inspectOnnxModel(bytesOf(varintField(7, 3)))).message).toMatch(/ModelProto\.graph \(7\) has wire type 0, expected 2/);
    expect(ctrkitErrorThrownBy(() => inspectOnnxModel(bytesOf(tag(7, 2), varint(2n ** 31n), [1, 2, 3]))).message).toMatch(/length 2147483648 runs past the end of the message \(3 bytes left\)/);
    const png = bytesOf([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const json = new TextEncoder().encode('{"format":"ctrkit.model","inputs":[]}');
    for (const other of [png, json]) expect(ctrkitErrorThrownBy(() => inspectOnnxModel(other)).code).toBe('E_MODEL_LOAD');
  });

  /** Reads everything the loader and native backend would; only E_MODEL_LOAD may come out. */
  function readAll(bytes: Uint8Array): void {
    try {
      const info = inspectOnnxModel(bytes);
      for (const t of info.initializers) {
        const n = t.dims.reduce((a, b) => a * b, 1);
        if (t.dataType === 1 && Number.isSafeInteger(n) && n >= 0 && n < 1 << 20) readFloatInitializer(info, t.name, n);
      }
    } catch (error) {
      expect(isCtrkitError(error) && error.code === 'E_MODEL_LOAD', String(error)).toBe(true);
    }
  }

  it('fuzz: random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), readAll), { numRuns: 3000 });
  });

  it('fuzz: a real model cut short and with bytes overwritten', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: lr.length }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (cut, writes) => {
          const bytes = lr.slice(0, cut);
          for (const [at, value] of writes) bytes[at % cut] = value;
          readAll(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
