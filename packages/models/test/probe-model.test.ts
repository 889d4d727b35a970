import * as ortNode from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildLrModel } from '../src/index.js';
import { PROBE_DESCRIPTION, PROBE_LAYOUT, PROBE_LOGIT, probeModel, probeWeights } from '../src/ort/probe-model.js';

const { onnx } = onnxProto;

describe('the stored provider probe', () => {
  it('is what buildLrModel writes today for the probe layout and weights (the producer version aside)', () => {
    const stored = onnx.ModelProto.toObject(onnx.ModelProto.decode(probeModel()), { longs: Number, bytes: Array });
    const fresh = onnx.ModelProto.toObject(onnx.ModelProto.decode(buildLrModel(PROBE_LAYOUT, probeWeights(), { description: PROBE_DESCRIPTION })), { longs: Number, bytes: Array });
    delete stored.producerVersion;
    delete fresh.producerVersion;
    expect(stored).toEqual(fresh);
  });

  it(`scores logit ${PROBE_LOGIT} for id 0 with value 1 on onnxruntime-node`, async () => {
    const session = await ortNode.InferenceSession.create(probeModel());
    const result = await session.run({ ids: new ortNode.Tensor('int32', new Int32Array([0]), [1, 1]), values: new ortNode.Tensor('float32', new Float32Array([1]), [1, 1]) });
    expect((result.logit!.data as Float32Array)[0]).toBeCloseTo(PROBE_LOGIT, 6);
    await session.release();
  });

  it('hands out a fresh copy each call, so a runtime that detaches one leaves the next intact', () => {
    const a = probeModel();
    a.fill(0);
    expect(probeModel()[0]).toBe(0x08);
    expect(probeModel()).not.toBe(probeModel());
  });
});
