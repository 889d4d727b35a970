import { createReadStream, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AdRequest, FeatureBatch } from '@ctrkit/core';
import { allocateBatch, createFeatureEncoder, criteoSpec, readCriteo } from '../src/index.js';
import { criteoSampleFile } from '@ctrkit/test-support';
import { referenceId } from './fixtures/reference-id.js';

const file = criteoSampleFile('features: encoding the shared Criteo sample');
const SEED = 0x2a;
const ID_SPACE = 1 << 20;
const CROSSES = [['C1', 'C2'], ['I1', 'C3'], ['C14', 'C17', 'C20']];
const spec = criteoSpec({ seed: SEED, idSpace: ID_SPACE, crosses: CROSSES });
const id = (key: string) => referenceId(key, SEED, ID_SPACE);

/** A naive, independent rendering of one Criteo line into the 42 hash keys. */
function referenceKeys(line: string): string[] {
  const cells = line.split('\t');
  const token = new Map<string, string | undefined>();
  for (let i = 1; i <= 13; i++) {
    const cell = cells[i] as string;
    if (cell === '') token.set(`I${i}`, undefined);
    else {
      const x = Number.parseInt(cell, 10);
      token.set(`I${i}`, x > 2 ? String(Math.floor(Math.log(x) ** 2)) : `SP${x}`);
    }
  }
  for (let i = 1; i <= 26; i++) token.set(`C${i}`, cells[13 + i] === '' ? undefined : cells[13 + i]);
  const keys = [...token.entries()].map(([name, t]) => (t === undefined ? `${name}\u0000` : `${name}\u0001${t}`));
  for (const cross of CROSSES) {
    const name = cross.join('_x_');
    const parts = cross.map((c) => token.get(c));
    keys.push(parts.some((p) => p === undefined) ? `${name}\u0000` : `${name}\u0001${parts.join('\u0002')}`);
  }
  return keys;
}

describe.skipIf(file === undefined)('encoding the shared Criteo sample (train_10k.tsv)', () => {
  const lines = file === undefined ? [] : readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

  async function encodeFile(chunkRows: number): Promise<{ batches: FeatureBatch[]; labels: number[]; lines: number[] }> {
    const encoder = createFeatureEncoder(spec);
    const batches: FeatureBatch[] = [];
    const labels: number[] = [];
    const lineNumbers: number[] = [];
    for await (const chunk of readCriteo(createReadStream(file as string), { chunkRows })) {
      batches.push(encoder.encodeChunk(chunk));
      labels.push(...chunk.labels);
      lineNumbers.push(...chunk.lines);
    }
    return { batches, labels, lines: lineNumbers };
  }

  it('encodes line 1 field by field to hand-computed ids', async () => {
    const { batches } = await encodeFile(1000);
    const batch = batches[0] as FeatureBatch;
    // Line 1: 0  1 1 5 0 1382 4 15 2 181 1 2 _ 2  68fd1e64 80e26c9b fb936136 … C22 empty …
    // Tokens worked out by hand: ln(5)² = 2.59 → 2; ln(1382)² = 52.29 → 52; ln(4)² = 1.92 → 1;
    // ln(15)² = 7.33 → 7; ln(181)² = 27.02 → 27; values ≤ 2 become SP<x>; I12 and C22 are empty.
    const expected = [
      'I1\u0001SP1', 'I2\u0001SP1', 'I3\u00012', 'I4\u0001SP0', 'I5\u000152', 'I6\u00011', 'I7\u00017', 'I8\u0001SP2',
      'I9\u000127', 'I10\u0001SP1', 'I11\u0001SP2', 'I12\u0000', 'I13\u0001SP2',
      'C1\u000168fd1e64', 'C2\u000180e26c9b', 'C3\u0001fb936136', 'C4\u00017b4723c4', 'C5\u000125c83c98', 'C6\u00017e0ccccf',
      'C7\u0001de7995b8', 'C8\u00011f89b562', 'C9\u0001a73ee510', 'C10\u0001a8cd5504', 'C11\u0001b2cb9c98', 'C12\u000137c9c164',
      'C13\u00012824a5f6', 'C14\u00011adce6ef', 'C15\u00018ba8b39a', 'C16\u0001891b62e7', 'C17\u0001e5ba7672', 'C18\u0001f54016b9',
      'C19\u000121ddcdc9', 'C20\u0001b1252a9d', 'C21\u000107b5194c', 'C22\u0000', 'C23\u00013a171ecb', 'C24\u0001c5c50484',
      'C25\u0001e8b83407', 'C26\u00019727dd16',
      'C1_x_C2\u000168fd1e64\u000280e26c9b', 'I1_x_C3\u0001SP1\u0002fb936136', 'C14_x_C17_x_C20\u00011adce6ef\u0002e5ba7672\u0002b1252a9d',
    ];
    expect(Array.from(batch.ids.subarray(0, 42))).toEqual(expected.map(id));
    expect(Array.from(batch.values.subarray(0, 42))).toEqual(new Array(42).fill(1));
    expect(referenceKeys(lines[0] as string)).toEqual(expected);
  });

  it('encodes all 10,000 rows to the ids of an independent reference, chunk size notwithstanding', async () => {
    const { batches, labels, lines: lineNumbers } = await encodeFile(777);
    expect(labels).toHaveLength(10_000);
    expect(labels.filter((y) => y === 1)).toHaveLength(2182);
    expect(lineNumbers[9999]).toBe(10_000);
    const ids = new Int32Array(10_000 * 42);
    let at = 0;
    for (const batch of batches) {
      ids.set(batch.ids, at);
      at += batch.ids.length;
    }
    expect(at).toBe(ids.length);
    for (let r = 0; r < lines.length; r++) {
      const want = referenceKeys(lines[r] as string).map(id);
      const got = Array.from(ids.subarray(r * 42, r * 42 + 42));
      if (got.join() !== want.join()) expect({ row: r, got }).toEqual({ row: r, got: want });
    }
    const again = await encodeFile(10_000);
    expect(Buffer.from((again.batches[0] as FeatureBatch).ids.buffer).equals(Buffer.from(ids.buffer))).toBe(true);
  });

  it('counts missing values per field', async () => {
    const encoder = createFeatureEncoder(spec);
    for await (const chunk of readCriteo(createReadStream(file as string))) encoder.encodeChunk(chunk);
    const stats = encoder.stats();
    const emptyC22 = lines.filter((l) => l.split('\t')[35] === '').length;
    const emptyI12 = lines.filter((l) => l.split('\t')[12] === '').length;
    expect(stats.rows).toBe(10_000);
    expect(stats.missing.C22).toBe(emptyC22);
    expect(stats.missing.I12).toBe(emptyI12);
    expect(emptyI12).toBeGreaterThan(5000);
    const emptyC1orC2 = lines.filter((l) => l.split('\t')[14] === '' || l.split('\t')[15] === '').length;
    expect(stats.missing.C1_x_C2).toBe(emptyC1orC2);
  });

  it('gives the same bits from a serving request as from the log (training/serving parity)', async () => {
    const encoder = createFeatureEncoder(spec);
    const fromLog = (await encodeFile(10_000)).batches[0] as FeatureBatch;
    const out = allocateBatch(encoder.layout, 1);
    for (let r = 0; r < lines.length; r += 37) {
      const cells = (lines[r] as string).split('\t');
      const attributes: Record<string, string | number | null> = {};
      for (let i = 1; i <= 13; i++) attributes[`I${i}`] = cells[i] === '' ? null : Number(cells[i]);
      for (let i = 1; i <= 26; i++) attributes[`C${i}`] = cells[13 + i] as string;
      const request: AdRequest = {
        requestId: `criteo-${r}`,
        user: { id: 'anonymous' },
        context: { timestamp: 0, attributes },
        candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'unknown', bid: 1, bidType: 'CPC' }],
      };
      const batch = encoder.encode(request, undefined, out);
      expect(batch).toBe(out);
      expect(Array.from(batch.ids)).toEqual(Array.from(fromLog.ids.subarray(r * 42, r * 42 + 42)));
    }
  });
});
