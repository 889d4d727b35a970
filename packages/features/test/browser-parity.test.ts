/**
 * The encoder must give the same bits in a browser as in Node. This bundles the package's main
 * entry for the browser (esbuild, platform "browser": a Node-only import fails the build) and runs
 * the bundle in a bare V8 context holding only what browsers provide (no require, process or
 * Buffer), then compares its batches with Node's, byte for byte.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdRequest } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { createFeatureEncoder, criteoSpec, readCriteo, type FeatureSpecJSON, type LogChunk } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const spec: FeatureSpecJSON = {
  version: 1,
  seed: 77,
  idSpace: 1 << 22,
  fields: [
    { name: 'user_id', kind: 'categorical', source: 'user', path: 'id' },
    { name: 'age', kind: 'numeric', source: 'user', path: 'age', bucketize: { boundaries: [18, 25, 35, 45, 55] } },
    { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 4, combiner: 'mean' },
    { name: 'hour', kind: 'categorical', source: 'context', path: 'hourOfDay' },
    { name: 'publisher', kind: 'categorical', source: 'context', path: 'publisherId' },
    { name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'standard', mean: 1, std: 0.5 } },
    { name: 'history', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: 10, sharesIdsWith: 'ad_category' },
    { name: 'user_x_category', kind: 'cross', of: ['user_id', 'ad_category'] },
    { name: 'age_x_hour_x_category', kind: 'cross', of: ['age', 'hour', 'ad_category'] },
  ],
};

// Unicode that exercises every UTF-8 length and the lone-surrogate rule, in a real request.
function unicodeRequest(base: AdRequest): AdRequest {
  return {
    ...base,
    user: { ...base.user, id: 'ユーザー-😀-\ud800', interests: ['café', '€uro', '\udfff', 'naïve'] },
    candidates: base.candidates.map((c, i) => ({ ...c, category: i % 2 === 0 ? 'électro' : '家電', adId: `${c.adId}-${'ß'.repeat(i % 3)}` })),
  };
}

type BatchJSON = { rows: number; ids: number[]; values: number[]; dense: number[]; sequenceIds: number[]; sequenceLengths: number[] };

describe('browser parity', () => {
  let browser: { encodeRequests(spec: string, requests: string): string; encodeCriteo(spec: string, text: string): Promise<string> };

  beforeAll(async () => {
    const result = await build({
      entryPoints: [path.resolve(here, '../src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'ctrkitFeatures',
      conditions: ['@ctrkit/source'],
      target: 'es2020',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text as string;
    expect(code).not.toMatch(/require\(["'](node:)?(fs|net|stream|path|os|crypto)["']\)/);
    // A bare context: ECMAScript globals plus the two Web APIs the readers use. No require, process or Buffer.
    const context = vm.createContext({ TextEncoder, TextDecoder });
    vm.runInContext(code, context, { filename: 'ctrkit-features.browser.js' });
    expect(vm.runInContext('typeof process + typeof require + typeof Buffer', context)).toBe('undefinedundefinedundefined');
    vm.runInContext(
      `
      const toJSON = (b) => JSON.stringify({ rows: b.rows, ids: Array.from(b.ids), values: Array.from(b.values), dense: Array.from(b.dense), sequenceIds: Array.from(b.sequenceIds), sequenceLengths: Array.from(b.sequenceLengths) });
      globalThis.harness = {
        encodeRequests(spec, requests) {
          const encoder = ctrkitFeatures.createFeatureEncoder(JSON.parse(spec));
          return JSON.stringify(JSON.parse(requests).map((r) => JSON.parse(toJSON(encoder.encode(r)))));
        },
        async encodeCriteo(spec, text) {
          const encoder = ctrkitFeatures.createFeatureEncoder(JSON.parse(spec));
          const out = [];
          for await (const chunk of ctrkitFeatures.readCriteo(text, { chunkRows: 64 })) out.push(JSON.parse(toJSON(encoder.encodeChunk(chunk))));
          return JSON.stringify(out);
        },
      };`,
      context,
    );
    browser = vm.runInContext('harness', context) as typeof browser;
  }, 60_000);

  const asJSON = (b: { rows: number; ids: Int32Array; values: Float32Array; dense: Float32Array; sequenceIds: Int32Array; sequenceLengths: Int32Array }): BatchJSON => ({
    rows: b.rows,
    ids: Array.from(b.ids),
    values: Array.from(b.values),
    dense: Array.from(b.dense),
    sequenceIds: Array.from(b.sequenceIds),
    sequenceLengths: Array.from(b.sequenceLengths),
  });

  it('encodes synthetic and Unicode-heavy requests to the same bits as Node', () => {
    const generator = createTrafficGenerator({ seed: 21, users: 300, candidatesPerRequest: 25 });
    const requests = [...generator.requests({ count: 30 })].map((r) => r.request);
    const all = [...requests, ...requests.slice(0, 5).map(unicodeRequest)];
    const node = createFeatureEncoder(spec);
    const expected = all.map((r) => asJSON(node.encode(r)));
    const got = JSON.parse(browser.encodeRequests(JSON.stringify(spec), JSON.stringify(all))) as BatchJSON[];
    expect(got).toHaveLength(all.length);
    got.forEach((batch, i) => expect(batch, `request ${i}`).toEqual(expected[i]));
    expect(expected.some((b) => b.sequenceLengths.some((n) => n > 0))).toBe(true);
  });

  it('reads and encodes Criteo lines to the same bits as Node', async () => {
    const hex = (i: number, k: number) => ((i * 2654435761 + k * 40503) >>> 0).toString(16).padStart(8, '0');
    const lines = Array.from({ length: 150 }, (_, i) => {
      const ints = Array.from({ length: 13 }, (_, k) => ((i + k) % 5 === 0 ? '' : String(((i * 31 + k * 7) % 3000) - 2)));
      const cats = Array.from({ length: 26 }, (_, k) => ((i + k) % 7 === 0 ? '' : hex(i % 40, k)));
      return [String(i % 2), ...ints, ...cats].join('\t');
    });
    const text = lines.join('\n') + '\n';
    const criteo = criteoSpec({ seed: 5, crosses: [['C1', 'C2'], ['I1', 'C3'], ['C14', 'C17', 'C20']] });
    const node = createFeatureEncoder(criteo);
    const expected: BatchJSON[] = [];
    for await (const chunk of readCriteo(text, { chunkRows: 64 })) expected.push(asJSON(node.encodeChunk(chunk as LogChunk)));
    const got = JSON.parse(await browser.encodeCriteo(JSON.stringify(criteo), text)) as BatchJSON[];
    expect(got.map((b) => b.rows)).toEqual([64, 64, 22]);
    expect(got).toEqual(expected);
  });
});
