/**
 * The provider probe: a one-id LR model (`logit = 0.5 + value · w[id]`, with w = [1, -1]) that
 * tells whether an onnxruntime execution provider can create and run a session here. Kept as
 * bytes, written once by `buildLrModel(PROBE_LAYOUT, PROBE_WEIGHTS, { description: PROBE_DESCRIPTION })`,
 * so the backends — and with them `./browser` and `./node` — need no ONNX writer (onnx-proto +
 * protobufjs, ~118 KB minified). test/probe-model.test.ts rebuilds it and checks the two match.
 */
import type { FeatureLayout } from '@ctrkit/core';
import type { LrWeights } from '../weights.js';

/** @internal The layout the probe was built for: one categorical id over an id space of 2. */
export const PROBE_LAYOUT: FeatureLayout = {
  fingerprint: 'ctrkit-probe',
  idSpace: 2,
  idWidth: 1,
  fields: [{ name: 'probe', kind: 'categorical', offset: 0, width: 1 }],
  denseWidth: 0,
  denseNames: [],
  sequences: [],
};

/** @internal The probe's description (its `doc_string`). */
export const PROBE_DESCRIPTION = 'ctrkit provider probe';

/** @internal The probe's weights: bias 0.5, w = [1, -1]; id 0 with value 1 scores logit 1.5. */
export function probeWeights(): LrWeights {
  return { kind: 'lr', idSpace: 2, denseWidth: 0, bias: 0.5, ids: new Float32Array([1, -1]), dense: new Float32Array(0) };
}

/** @internal The logit the probe returns for id 0 with value 1. */
export const PROBE_LOGIT = 1.5;

// buildLrModel's output (702 bytes), base64; the producer_version inside it is the release that wrote it.
const PROBE_BASE64 =
  'CAgSBmN0cmtpdBoFMC4xLjAyFWN0cmtpdCBwcm92aWRlciBwcm9iZTq5BAo7CgZsci5pZHMKA2lkcxIIZ2F0aGVyXzAaDWdh' +
  'dGhlcl8wX25vZGUiBkdhdGhlcioLCgRheGlzGACgAQIKKgoIZ2F0aGVyXzAKBnZhbHVlcxIFbXVsXzEaCm11bF8xX25vZGUi' +
  'A011bApLCgVtdWxfMQoHY29uc3RfMBILcmVkdWNlc3VtXzIaEHJlZHVjZXN1bV8yX25vZGUiCVJlZHVjZVN1bSoPCghrZWVw' +
  'ZGltcxgAoAECCi4KC3JlZHVjZXN1bV8yCgdsci5iaWFzEgVhZGRfMxoKYWRkXzNfbm9kZSIDQWRkCigKBWFkZF8zEgVsb2dp' +
  'dBoObG9naXRfaWRlbnRpdHkiCElkZW50aXR5CisKBWxvZ2l0EglzaWdtb2lkXzQaDnNpZ21vaWRfNF9ub2RlIgdTaWdtb2lk' +
  'CjgKCXNpZ21vaWRfNBILcHJvYmFiaWxpdHkaFHByb2JhYmlsaXR5X2lkZW50aXR5IghJZGVudGl0eRIJY3Rya2l0X2xyKhcK' +
  'AQIQAUIGbHIuaWRzSggAAIA/AACAvyoRCgEBEAc6AQFCB2NvbnN0XzAqFAoBARABQgdsci5iaWFzSgQAAAA/WhoKA2lkcxIT' +
  'ChEIBhINCgcSBWJhdGNoCgIIAVodCgZ2YWx1ZXMSEwoRCAESDQoHEgViYXRjaAoCCAFiGAoFbG9naXQSDwoNCAESCQoHEgVi' +
  'YXRjaGIeCgtwcm9iYWJpbGl0eRIPCg0IARIJCgcSBWJhdGNoQgQKABARchkKE2N0cmtpdC5hcmNoaXRlY3R1cmUSAmxyciIK' +
  'EmN0cmtpdC5maW5nZXJwcmludBIMY3Rya2l0LXByb2JlchMKDmN0cmtpdC5pZFNwYWNlEgEy';

let probe: Uint8Array | undefined;

/**
 * @internal The probe model's bytes: decoded once, a fresh copy each call (a runtime may transfer
 * or detach the buffer it is given; the copy is 702 bytes).
 *
 * @returns `model.onnx` of the probe.
 */
export function probeModel(): Uint8Array {
  probe ??= Uint8Array.from(atob(PROBE_BASE64), (c) => c.charCodeAt(0));
  return probe.slice();
}
