import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCtrkitError, type FeatureLayout } from '@ctrkit/core';
import {
  buildDcnV2Model,
  buildDeepFmModel,
  buildDinModel,
  buildFmModel,
  buildLrModel,
  buildModel,
  checkWeights,
  initDcnV2Weights,
  initDeepFmWeights,
  initDinWeights,
  initFmWeights,
  initLrWeights,
  modelInputWidth,
  type ModelWeights,
} from '../src/index.js';
import { plainLayout, richLayout } from './fixtures/layouts.js';
import { runSession, type OrtLike } from './fixtures/onnx-session.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff, probabilities, referenceLogits } from './fixtures/reference-models.js';

const node = ortNode as unknown as OrtLike;
const web = ortWeb as unknown as OrtLike;

beforeAll(() => {
  ortWeb.env.wasm.numThreads = 1;
});

/** Random weights at scales that make every term matter (the defaults are near zero, which would hide mistakes). */
function architectures(layout: FeatureLayout): [string, ModelWeights][] {
  return [
    ['lr', initLrWeights(layout, { seed: 'lr', scale: 0.5, biasScale: 0.3 })],
    ['fm', initFmWeights(layout, { seed: 'fm', dim: 4, scale: 0.3, biasScale: 0.3 })],
    ['dcnv2 full rank', initDcnV2Weights(layout, { seed: 'dcn', embeddingDim: 4, crossLayers: 3, deep: [16, 8], embeddingScale: 0.5, biasScale: 0.1 })],
    ['dcnv2 low rank', initDcnV2Weights(layout, { seed: 'dcn-lr', embeddingDim: 4, crossLayers: 2, lowRank: 3, deep: [16], embeddingScale: 0.5, biasScale: 0.1 })],
    ['dcnv2 cross only', initDcnV2Weights(layout, { seed: 'dcn-x', embeddingDim: 3, crossLayers: 2, deep: [], embeddingScale: 0.5, biasScale: 0.1 })],
    ['din', initDinWeights(layout, { seed: 'din', embeddingDim: 4, attention: [8, 4], deep: [16, 8], embeddingScale: 0.5, biasScale: 0.1 })],
    ['deepfm', initDeepFmWeights(layout, { seed: 'deepfm', embeddingDim: 4, deep: [16, 8], embeddingScale: 0.4, linearScale: 0.3, biasScale: 0.1 })],
    ['deepfm without an MLP', initDeepFmWeights(layout, { seed: 'deepfm-0', embeddingDim: 3, deep: [], embeddingScale: 0.4, linearScale: 0.3, biasScale: 0.1 })],
  ];
}

const TOLERANCE = 1e-5;

describe.each([
  ['rich layout (bag, dense, two sequences of different lengths)', richLayout()],
  ['plain layout (no dense, no sequences)', plainLayout()],
])('builders on a %s', (_name, layout) => {
  it.each(architectures(layout))('%s matches the naive float64 forward pass on onnx-node and onnx-web', async (_label, weights) => {
    const bytes = buildModel(layout, weights);
    const batch = randomBatch(layout, 64, `batch-${weights.kind}`);
    const reference = referenceLogits(layout, weights, batch);
    // The reference is not degenerate: logits spread over a real range.
    expect(Math.max(...reference) - Math.min(...reference)).toBeGreaterThan(0.2);
    const onNode = await runSession(node, bytes, batch);
    const onWeb = await runSession(web, bytes, batch);
    expect(maxAbsDiff(onNode.logit, reference)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(onNode.probability, probabilities(reference))).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(onWeb.probability, onNode.probability)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(onWeb.logit, onNode.logit)).toBeLessThanOrEqual(1e-5);
    // Unused inputs are omitted: LR/FM never read sequences, nobody reads dense when there is none.
    expect(onNode.inputs.includes('dense')).toBe(layout.denseWidth > 0);
    expect(onNode.inputs.includes('sequence_ids')).toBe(layout.sequences.length > 0 && (weights.kind === 'dcnv2' || weights.kind === 'deepfm' || weights.kind === 'din'));
  });
});

describe('padding', () => {
  const layout = richLayout();
  it('ids under value 0 (bag padding) and left-padded sequence slots do not change any score', async () => {
    for (const [, weights] of architectures(layout)) {
      const bytes = buildModel(layout, weights);
      const batch = randomBatch(layout, 32, 'padding');
      const scrambled = { ...batch, ids: batch.ids.slice(), sequenceIds: batch.sequenceIds.slice() };
      let changed = 0;
      for (let i = 0; i < batch.ids.length; i++) {
        if (batch.values[i] === 0) {
          scrambled.ids[i] = (i * 37 + 11) % layout.idSpace;
          changed++;
        }
      }
      const S = layout.sequences.length;
      for (let r = 0; r < batch.rows; r++) {
        for (let s = 0; s < S; s++) {
          const pad = 5 - (batch.sequenceLengths[r * S + s] as number);
          for (let t = 0; t < pad; t++) {
            scrambled.sequenceIds[(r * S + s) * 5 + t] = (r * 13 + t * 7 + 1) % layout.idSpace;
            changed++;
          }
        }
      }
      expect(changed).toBeGreaterThan(50);
      const a = await runSession(node, bytes, batch);
      const b = await runSession(node, bytes, scrambled);
      expect(maxAbsDiff(a.logit, b.logit)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('a sequence item inside the length does change DIN scores (the mask is not hiding everything)', async () => {
    const weights = initDinWeights(layout, { seed: 'din-mask', embeddingDim: 4, embeddingScale: 0.5, biasScale: 0.1 });
    const bytes = buildDinModel(layout, weights);
    const batch = randomBatch(layout, 8, 'mask');
    const S = layout.sequences.length;
    const row = [...Array(batch.rows).keys()].find((r) => (batch.sequenceLengths[r * S] as number) > 0) as number;
    const changed = { ...batch, sequenceIds: batch.sequenceIds.slice() };
    changed.sequenceIds[(row * S) * 5 + 4] = ((batch.sequenceIds[(row * S) * 5 + 4] as number) + 1) % layout.idSpace;
    const a = await runSession(node, bytes, batch);
    const b = await runSession(node, bytes, changed);
    expect(Math.abs((a.logit[row] as number) - (b.logit[row] as number))).toBeGreaterThan(1e-6);
  });
});

describe('the ONNX file', () => {
  it('is opset 17 with int32 id inputs, float outputs logit and probability of shape [batch], and names its spec', () => {
    const layout = richLayout();
    const bytes = buildDcnV2Model(layout, initDcnV2Weights(layout, { embeddingDim: 4, deep: [8] }));
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    expect(model.opsetImport.map((o) => Number(o.version))).toEqual([17]);
    const graph = model.graph!;
    const inputs = Object.fromEntries(graph.input!.map((i) => [i.name, i.type!.tensorType!]));
    expect(inputs.ids!.elemType).toBe(onnxProto.onnx.TensorProto.DataType.INT32);
    expect(inputs.sequence_ids!.elemType).toBe(onnxProto.onnx.TensorProto.DataType.INT32);
    expect(inputs.ids!.shape!.dim!.map((d: { dimParam?: string | null; dimValue?: unknown }) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 6]);
    expect(graph.output!.map((o) => o.name)).toEqual(['logit', 'probability']);
    expect(graph.output!.every((o) => o.type!.tensorType!.shape!.dim!.length === 1)).toBe(true);
    const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(metadata).toMatchObject({ 'ctrkit.architecture': 'dcnv2', 'ctrkit.fingerprint': 'spec-rich' });
  });
});

describe('weights', () => {
  const layout = richLayout();

  it('initializers are seeded: same seed, same weights; another seed, other weights', () => {
    const a = initDcnV2Weights(layout, { seed: 3, embeddingDim: 4, deep: [8] });
    const b = initDcnV2Weights(layout, { seed: 3, embeddingDim: 4, deep: [8] });
    const c = initDcnV2Weights(layout, { seed: 4, embeddingDim: 4, deep: [8] });
    expect(a.embedding).toEqual(b.embedding);
    expect(a.cross[0]).toEqual(b.cross[0]);
    expect(maxAbsDiff(a.embedding, c.embedding)).toBeGreaterThan(0);
  });

  it('shapes follow the documented conventions', () => {
    const w = initDcnV2Weights(layout, { embeddingDim: 4, crossLayers: 2, lowRank: 3, deep: [8, 5] });
    const d0 = modelInputWidth(layout, 4);
    expect(d0).toBe((4 + 2) * 4 + 2);
    expect(w.inputWidth).toBe(d0);
    expect(w.embedding.length).toBe(layout.idSpace * 4);
    expect(w.cross.map((c) => (c.kind === 'low-rank' ? [c.u.length, c.v.length, c.bias.length] : []))).toEqual([
      [d0 * 3, d0 * 3, d0],
      [d0 * 3, d0 * 3, d0],
    ]);
    expect(w.deep.map((l) => [l.inputs, l.outputs, l.weight.length])).toEqual([
      [d0, 8, 8 * d0],
      [8, 5, 40],
    ]);
    expect([w.output.inputs, w.output.outputs]).toEqual([d0 + 5, 1]);
    const din = initDinWeights(layout, { embeddingDim: 4, attention: [6], deep: [7] });
    expect(din.pooling.map((p) => p.kind)).toEqual(['attention', 'mean']);
    const attention = din.pooling[0]!;
    expect(attention.kind === 'attention' && attention.layers.map((l) => [l.inputs, l.outputs])).toEqual([
      [16, 6],
      [6, 1],
    ]);
  });

  it('builders refuse weights that do not fit the layout, naming the array and how to fix it', () => {
    const lr = initLrWeights(layout);
    const cases: [() => unknown, RegExp][] = [
      [() => buildLrModel(layout, { ...lr, ids: new Float32Array(10) }), /lr\.ids has 10 values but must have 997/],
      [() => buildLrModel(layout, { ...lr, dense: new Float32Array([1, Number.NaN]) }), /lr\.dense\[1\] is NaN/],
      [() => buildLrModel({ ...layout, idSpace: 500 }, lr), /id space of 997 but the layout's is 500/],
      [() => buildFmModel(layout, { ...initFmWeights(layout, { dim: 2 }), dim: 3 }), /fm\.idFactors has 1994 values but must have 2991/],
      [() => buildDcnV2Model(plainLayout(), initDcnV2Weights(layout, { embeddingDim: 2, deep: [4] })), /id space of 997 but the layout's is 64/],
      [
        () => {
          const w = initDcnV2Weights(layout, { embeddingDim: 2, deep: [4] });
          return buildDcnV2Model(layout, { ...w, deep: [{ ...w.deep[0]!, inputs: 3 }] });
        },
        /dcnv2\.deep\[0\] takes 3 inputs but receives 14/,
      ],
      [
        () => {
          const w = initDinWeights(layout, { embeddingDim: 2 });
          return buildDinModel(layout, { ...w, pooling: [{ kind: 'mean' }] });
        },
        /one entry per layout sequence/,
      ],
      [
        () => {
          const w = initDinWeights(layout, { embeddingDim: 2 });
          return buildDinModel(layout, { ...w, pooling: [w.pooling[0]!, w.pooling[0]!] });
        },
        /names no field in sharesIdsWith/,
      ],
      [() => buildDeepFmModel(layout, { ...initDeepFmWeights(layout, { embeddingDim: 2, deep: [4] }), ids: new Float32Array(3) }), /deepfm\.ids has 3 values but must have 997/],
      [() => buildDeepFmModel(layout, { ...initDeepFmWeights(layout, { embeddingDim: 2, deep: [4] }), inputWidth: 13 }), /deepfm\.inputWidth is 13 but this layout gives x0 a width of 14/],
      [
        () => {
          const w = initDeepFmWeights(layout, { embeddingDim: 2, deep: [4] });
          return buildDeepFmModel(layout, { ...w, output: { ...w.output, inputs: 14 } });
        },
        /deepfm\.output takes 14 inputs but receives 4/,
      ],
      [() => buildLrModel({ ...layout, idWidth: 5 }, lr), /fields cover 6 id columns but idWidth is 5/],
      [() => initDinWeights({ ...layout, sequences: [{ name: 'h', maxLength: 3, sharesIdsWith: 'nope' }] }), /not a field of the layout/],
    ];
    for (const [build, message] of cases) {
      let error: unknown;
      try {
        build();
      } catch (e) {
        error = e;
      }
      expect(isCtrkitError(error), String(message)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    expect(() => checkWeights(layout, initFmWeights(layout))).not.toThrow();
  });
});
