import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type { FeatureBatch } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { batchFromArrow, batchToArrow, createFeatureEncoder, criteoSpec, readArrowLog, readCriteo, writeArrowLog, type FeatureSpecJSON } from '../src/index.js';
import { createArrowLogWriter, openLogFile, readArrowLogFile } from '../src/node.js';
import { criteoSampleFile } from '@ctrkit/test-support';

const spec: FeatureSpecJSON = {
  version: 1,
  idSpace: 1 << 20,
  fields: [
    { name: 'user', kind: 'categorical', source: 'user', path: 'id' },
    { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 4 },
    { name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid' },
    { name: 'history', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: 6, sharesIdsWith: 'ad_category' },
    { name: 'history_brand', kind: 'sequence', source: 'user', path: 'history', item: 'brand', maxLength: 3 },
  ],
};
const encoder = createFeatureEncoder(spec);
const generator = createTrafficGenerator({ seed: 5, users: 200, candidatesPerRequest: 7 });
const batches = [...generator.requests({ count: 4 })].map(({ request }) => encoder.encode(request));
const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-features-arrow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sameBatch(a: FeatureBatch, b: FeatureBatch): void {
  expect(b.rows).toBe(a.rows);
  expect(b.layout.fingerprint).toBe(a.layout.fingerprint);
  for (const key of ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths'] as const) expect(Array.from(b[key] as ArrayLike<number>), key).toEqual(Array.from(a[key] as ArrayLike<number>));
}

describe('Arrow interop', () => {
  it('shares the batch memory in the FixedSizeList<Int32> ids column', () => {
    const batch = batches[0] as FeatureBatch;
    const labels = Float32Array.from({ length: batch.rows }, (_, i) => i % 2);
    const table = batchToArrow(batch, labels);
    const ids = table.getChild('ids');
    expect(String(ids?.type)).toBe(`FixedSizeList[${encoder.layout.idWidth}]<Int32>`);
    expect(ids?.data[0]?.children[0]?.values).toBe(batch.ids);
    expect(table.getChild('sequence_ids')?.data[0]?.children[0]?.values).toBe(batch.sequenceIds);
    expect(Array.from(ids?.get(2)?.toArray() ?? [])).toEqual(Array.from(batch.ids.subarray(2 * encoder.layout.idWidth, 3 * encoder.layout.idWidth)));
    const back = batchFromArrow(table, encoder.layout);
    expect(back.batch.ids.buffer).toBe(batch.ids.buffer);
    expect(back.labels?.buffer).toBe(labels.buffer);
    expect(Array.from(back.labels ?? [])).toEqual(Array.from(labels));
    sameBatch(batch, back.batch);
    // Writing to the batch shows through the table: one memory.
    batch.ids[0] = 42;
    expect(ids?.get(0)?.get(0)).toBe(42);
  });

  it('round-trips through IPC bytes, checking the fingerprint', () => {
    const bytes = writeArrowLog(batches.map((batch) => ({ batch, labels: new Float32Array(batch.rows).fill(1) })));
    const read = [...readArrowLog(bytes, encoder.layout)];
    expect(read).toHaveLength(batches.length);
    read.forEach((item, i) => {
      sameBatch(batches[i] as FeatureBatch, item.batch);
      expect(Array.from(item.labels ?? [])).toEqual(new Array(item.batch.rows).fill(1));
    });
    const other = createFeatureEncoder({ ...spec, seed: 9 });
    expect(() => [...readArrowLog(bytes, other.layout)]).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/re-encode the log/) }));
    expect(() => writeArrowLog([{ batch: batches[0] as FeatureBatch }, { batch: other.encode([...generator.requests({ count: 1 })][0]!.request) }])).toThrow(/one log holds one spec/);
    expect(() => writeArrowLog([{ batch: batches[0] as FeatureBatch, labels: new Float32Array(1) }])).toThrow(/labels for/);
  });

  it('rejects bytes that are not a ctrkit log', () => {
    expect(() => [...readArrowLog(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))]).toThrow(expect.objectContaining({ code: 'E_PARSE' }));
    const foreign = tableToIPC(tableFromIPC(tableToIPC(batchToArrow(batches[0] as FeatureBatch))).select(['ids']), 'file');
    const stripped = tableFromIPC(foreign);
    stripped.schema.metadata.clear();
    expect(() => batchFromArrow(stripped)).toThrow(/no 'ctrkit.layout' metadata/);
  });

  const file = criteoSampleFile('features: Arrow IPC files of the encoded Criteo sample');
  it.skipIf(file === undefined)('writes and reads an Arrow IPC file of the encoded Criteo sample', async () => {
    const criteo = createFeatureEncoder(criteoSpec({ crosses: [['C1', 'C2']] }));
    const out = path.join(dir, 'criteo.arrow');
    const writer = createArrowLogWriter(out);
    const expected: FeatureBatch[] = [];
    for await (const chunk of readCriteo(openLogFile(file as string).source, { chunkRows: 3000 })) {
      const batch = criteo.encodeChunk(chunk);
      expected.push(batch);
      writer.write({ batch, labels: chunk.labels });
    }
    const summary = await writer.close();
    expect(summary).toMatchObject({ rows: 10_000, batches: 4 });
    let rows = 0;
    let positives = 0;
    let i = 0;
    for await (const { batch, labels } of readArrowLogFile(out, criteo.layout)) {
      sameBatch(expected[i++] as FeatureBatch, batch);
      rows += batch.rows;
      positives += (labels ?? new Float32Array(0)).reduce((a, y) => a + y, 0);
    }
    expect([rows, positives]).toEqual([10_000, 2182]);
  });

  it('reports file errors as E_IO / E_PARSE', async () => {
    expect(() => openLogFile(path.join(dir, 'absent.tsv'))).toThrow(expect.objectContaining({ code: 'E_IO', message: expect.stringMatching(/no such file; check the path/) }));
    expect(() => openLogFile(dir)).toThrow(/is a directory/);
    const broken = path.join(dir, 'broken.arrow');
    writeFileSync(broken, 'ARROW1 but not really');
    await expect(async () => {
      for await (const item of readArrowLogFile(broken)) void item;
    }).rejects.toMatchObject({ code: 'E_PARSE' });
    await expect(async () => {
      for await (const item of readArrowLogFile(path.join(dir, 'nope.arrow'))) void item;
    }).rejects.toMatchObject({ code: 'E_IO' });
    const writer = createArrowLogWriter(path.join(dir, 'missing-dir', 'x.arrow'));
    writer.write({ batch: batches[0] as FeatureBatch });
    await expect(writer.close()).rejects.toMatchObject({ code: 'E_IO' });
  });
});
