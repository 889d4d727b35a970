import { createReadStream, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createFeatureEncoder,
  parseFieldMap,
  readCriteo,
  readCsv,
  readLibsvm,
  type LogChunk,
  type LogReader,
  type MalformedLine,
  type ReaderProgress,
  type StringColumn,
} from '../src/index.js';
import { criteoSampleFile, sharedDataFile } from '@ctrkit/test-support';
import { referenceId } from './fixtures/reference-id.js';

async function collect(reader: LogReader): Promise<LogChunk[]> {
  const chunks: LogChunk[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return chunks;
}

const criteoLine = (label: string, ints: string[], cats: string[]) => [label, ...ints, ...cats].join('\t');
const ints = (...v: string[]) => [...v, ...new Array(13 - v.length).fill('')];
const cats = (...v: string[]) => [...v, ...new Array(26 - v.length).fill('')];

describe('readCriteo', () => {
  it('counts and reports malformed lines by number without shifting the good ones', async () => {
    const lines = [
      criteoLine('1', ints('3', '-1'), cats('aa', 'bb')),
      criteoLine('1', ints('3'), cats('aa')).slice(0, -3), // three tabs short: 37 fields
      criteoLine('2', ints(), cats()), // bad label
      criteoLine('0', ints('x7'), cats()), // non-integer
      criteoLine('0', ints(), cats('cc')) + '\textra', // too many fields
      '',
      criteoLine('0', ints('', '5'), cats('', 'dd')),
    ];
    const malformed: MalformedLine[] = [];
    const progress: ReaderProgress[] = [];
    const reader = readCriteo(lines.join('\r\n'), { onMalformed: (m) => malformed.push(m), onProgress: (p) => progress.push(p), chunkRows: 1 });
    const chunks = await collect(reader);
    expect(chunks.map((c) => c.rows)).toEqual([1, 1]);
    expect(malformed.map((m) => m.line)).toEqual([2, 3, 4, 5]);
    expect(malformed[0]?.reason).toMatch(/expected 40 tab-separated fields, found 37/);
    expect(malformed[1]?.reason).toMatch(/label is "2"; expected 0 or 1/);
    expect(malformed[2]?.reason).toMatch(/I1 is "x7"; expected an integer/);
    expect(malformed[3]?.reason).toMatch(/found more/);
    expect(reader.stats).toMatchObject({ lines: 7, rows: 2, malformed: 4, blank: 1, positives: 1 });
    expect(reader.stats.examples).toHaveLength(4);
    const [first, second] = chunks as [LogChunk, LogChunk];
    expect(Array.from(first.lines)).toEqual([1]);
    expect(Array.from(second.lines)).toEqual([7]);
    const column = (chunk: LogChunk, name: string) => chunk.columns.find((c) => c.name === name)?.data;
    expect(Array.from(column(first, 'I2') as Float64Array)).toEqual([-1]);
    expect(column(first, 'C2')).toEqual(['bb']);
    expect(Array.from(column(second, 'I1') as Float64Array)).toEqual([Number.NaN]);
    expect(Array.from(column(second, 'I2') as Float64Array)).toEqual([5]);
    expect(column(second, 'C1')).toEqual(['']);
    expect(column(second, 'C2')).toEqual(['dd']);
    expect(progress.at(-1)).toMatchObject({ rows: 2, malformed: 4 });
  });

  it('stops with E_PARSE past maxMalformed, and can be iterated once', async () => {
    await expect(collect(readCriteo('a\nb\nc\n', { maxMalformed: 1 }))).rejects.toMatchObject({ code: 'E_PARSE', message: expect.stringMatching(/more than 1 malformed lines; the latest, line 2/) });
    const reader = readCriteo('');
    await collect(reader);
    await expect(collect(reader)).rejects.toMatchObject({ code: 'E_STATE' });
    expect(() => readCriteo('', { chunkRows: 0 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('reads unlabeled logs (39 fields)', async () => {
    const [chunk] = await collect(readCriteo(criteoLine('', ints('1'), cats('z')).slice(1) + '\n', { labeled: false }));
    expect(chunk?.rows).toBe(1);
    expect(chunk?.labels[0]).toBeNaN();
  });

  it('splits multi-byte characters across byte pieces correctly', async () => {
    const text = criteoLine('1', ints('1'), cats('é€😀', 'x')) + '\n';
    const bytes = new TextEncoder().encode(text);
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    const [chunk] = await collect(readCriteo(pieces));
    expect((chunk?.columns.find((c) => c.name === 'C1') as StringColumn).data).toEqual(['é€😀']);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 20));
        controller.enqueue(bytes.subarray(20));
        controller.close();
      },
    });
    const [again] = await collect(readCriteo(stream));
    expect((again?.columns.find((c) => c.name === 'C1') as StringColumn).data).toEqual(['é€😀']);
  });

  const file = criteoSampleFile('features: the Criteo reader on the shared sample');
  it.skipIf(file === undefined)('reads the shared sample with progress up to its size', async () => {
    const size = statSync(file as string).size;
    const seen: ReaderProgress[] = [];
    const reader = readCriteo(createReadStream(file as string, { highWaterMark: 1 << 16 }), { totalBytes: size, onProgress: (p) => seen.push(p), chunkRows: 2500 });
    await collect(reader);
    expect(reader.stats).toMatchObject({ rows: 10_000, malformed: 0, positives: 2182, bytes: size, totalBytes: size });
    expect(seen.map((p) => p.rows)).toEqual([2500, 5000, 7500, 10_000, 10_000]);
    expect(seen.every((p, i) => i === 0 || p.bytes >= (seen[i - 1] as ReaderProgress).bytes)).toBe(true);
  });
});

describe('readCsv', () => {
  const avazu = [
    'id,click,hour,C1,banner_pos,site_id,device_ip',
    '1000009418151094273,0,14102100,1005,0,1fbe01fe,ddd2926e',
    '10000169349117863715,1,14102100,1005,0,"1f,be""01",96809ac8',
    '10000371904215119486,0,14102100,1005,0,1fbe01fe',
    '10000640724480838376,0,14102100,1005,0,"unterminated,x',
    '10000679056417042096,0,notanumber,1005,1,fe8cc448,9644d0bf',
    '10000720757801103869,3,14102100,1005,0,d6137915,05241af0',
    '10000724729988544911,0,,1005,0,8fda644b,',
  ].join('\n');

  it('chooses the label, drops and types columns, and reports bad lines', async () => {
    const malformed: MalformedLine[] = [];
    const reader = readCsv(avazu, { label: 'click', ignore: ['id'], numeric: ['hour', 'banner_pos'], onMalformed: (m) => malformed.push(m) });
    const [chunk] = await collect(reader);
    expect(chunk?.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['hour:number', 'C1:string', 'banner_pos:number', 'site_id:string', 'device_ip:string']);
    expect(Array.from(chunk?.labels ?? [])).toEqual([0, 1, 0]);
    expect(Array.from(chunk?.lines ?? [])).toEqual([2, 3, 8]);
    expect((chunk?.columns[3] as StringColumn).data).toEqual(['1fbe01fe', '1f,be"01', '8fda644b']);
    expect(Array.from(chunk?.columns[0]?.data as Float64Array)).toEqual([14102100, 14102100, Number.NaN]);
    expect((chunk?.columns[4] as StringColumn).data).toEqual(['ddd2926e', '96809ac8', '']);
    expect(malformed.map((m) => [m.line, m.reason])).toEqual([
      [4, 'expected 7 fields, found 6'],
      [5, 'a quoted field is not closed on this line'],
      [6, 'column \'hour\' is "notanumber"; expected a number or nothing'],
      [7, 'label \'click\' is "3"; expected 0 or 1'],
    ]);
  });

  it('lets the encoder name the line of a cell it cannot read', async () => {
    const [chunk] = await collect(readCsv('id,age\n1,34\n2,old\n', {}));
    const encoder = createFeatureEncoder({ version: 1, idSpace: 64, fields: [{ name: 'age', kind: 'numeric', source: 'user', path: 'age', bucketize: { boundaries: [18, 65] } }] });
    expect(() => encoder.encodeChunk(chunk as LogChunk)).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/line 3 column 'age' \(field 'age'\) must be a number, got the text "old"/) }));
    const missing = createFeatureEncoder({ version: 1, idSpace: 64, fields: [{ name: 'site', kind: 'categorical', source: 'context', path: 'domain' }] });
    expect(() => missing.encodeChunk(chunk as LogChunk)).toThrow(/log has no column 'site' for field 'site'/);
  });

  it('names the missing column when an option does not match the header', async () => {
    await expect(collect(readCsv(avazu, { label: 'clicked' }))).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/label names column 'clicked', which the header lacks; columns are id, click/) });
    await expect(collect(readCsv(avazu, { label: 'click', ignore: ['click'] }))).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(collect(readCsv(''))).rejects.toMatchObject({ code: 'E_PARSE' });
  });

  const taobao = sharedDataFile('taobao/alimama_seq_500.csv', 'features: the CSV reader on the Taobao sample');
  it.skipIf(taobao === undefined)('reads headerless files with given column names (Taobao sample) and encodes them', async () => {
    const file = taobao as string;
    const names = Array.from({ length: 267 }, (_, i) => `c${i}`);
    names[266] = 'label';
    names[258] = 'ad_category';
    const reader = readCsv(createReadStream(file), { columns: names, label: 'label' });
    const chunks = await collect(reader);
    expect(reader.stats).toMatchObject({ rows: 500, malformed: 0, positives: 210 });
    const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' }] });
    const batch = encoder.encodeChunk(chunks[0] as LogChunk);
    const first = readFileSync(file, 'utf8').split('\n')[0]?.split(',')[258] as string;
    expect(batch.ids[0]).toBe(referenceId(`ad_category\u0001${first}`, 0, 1 << 16));
  });
});

describe('readLibsvm', () => {
  it('keeps raw pairs without a field map, and rejects bad pairs by line', async () => {
    const malformed: MalformedLine[] = [];
    const reader = readLibsvm('1 3:1 7:0.5\n+1 x:1\n-1 2:1\n2 1:1\n0 4:\n', { onMalformed: (m) => malformed.push(m) });
    const [chunk] = await collect(reader);
    expect(Array.from(chunk?.labels ?? [])).toEqual([1, 0]);
    expect(Array.from(chunk?.sparse?.offsets ?? [])).toEqual([0, 2, 3]);
    expect(Array.from(chunk?.sparse?.indices ?? [])).toEqual([3, 7, 2]);
    expect(Array.from(chunk?.sparse?.values ?? [])).toEqual([1, 0.5, 1]);
    expect(malformed.map((m) => m.line)).toEqual([2, 4, 5]);
    const encoder = createFeatureEncoder({ version: 1, idSpace: 1000, fields: [{ name: 'features', kind: 'bag', source: 'context', path: 'keywords', maxSize: 3 }] });
    const batch = encoder.encodeChunk(chunk as LogChunk);
    expect(Array.from(batch.ids)).toEqual([referenceId('features\u00013', 0, 1000), referenceId('features\u00017', 0, 1000), 0, referenceId('features\u00012', 0, 1000), 0, 0]);
    expect(Array.from(batch.values)).toEqual([1, 0.5, 0, 1, 0, 0]);
  });

  it('rejects a broken field map with the line number', () => {
    expect(() => parseFieldMap('weekday:1\t0\nnocolon\t1\n')).toThrow(/field map line 2/);
    expect(() => parseFieldMap('a:1\t0\na:2\t0\n')).toThrow(/index 0 is listed twice/);
    expect(() => parseFieldMap('a:1\tzero\n')).toThrow(expect.objectContaining({ code: 'E_PARSE' }));
  });

  const index = sharedDataFile('ipinyou/onehot/featindex.fm.txt', 'features: the libsvm reader and field map on the iPinYou one-hot sample');
  const train = sharedDataFile('ipinyou/onehot/train.fm.txt', 'features: the libsvm reader and field map on the iPinYou one-hot sample');
  it.skipIf(index === undefined || train === undefined)('maps iPinYou one-hot rows back to their 16 fields', async () => {
    const map = parseFieldMap(readFileSync(index as string, 'utf8'));
    expect(map.fields).toEqual(['weekday', 'hour', 'useragent', 'IP', 'region', 'city', 'adexchange', 'domain', 'slotid', 'slotwidth', 'slotheight', 'slotvisibility', 'slotformat', 'creative', 'advertiser', 'slotprice']);
    const reader = readLibsvm(createReadStream(train as string), { fieldMap: map });
    const chunks = await collect(reader);
    expect(reader.stats).toMatchObject({ rows: 26_773, malformed: 0, positives: 255 });
    const first = chunks[0] as LogChunk;
    // Line 1: 0 1:1 6:1 31:1 45:1 … → weekday, hour, useragent, IP … as featindex names them.
    const firstLine = (readFileSync(train as string, 'utf8').split('\n')[0] as string).split(' ').slice(1).map((pair) => Number(pair.split(':')[0]));
    for (const idx of firstLine) {
      const field = map.fields[map.fieldOf.get(idx) as number] as string;
      expect((first.columns.find((c) => c.name === field) as StringColumn).data[0]).toBe(map.valueOf.get(idx));
    }
    const fields = map.fields.map((name) => ({ name, kind: 'categorical' as const, source: 'context' as const, path: `attributes.${name}` }));
    const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 18, fields });
    const batch = encoder.encodeChunk(first);
    expect(batch.ids[0]).toBe(referenceId(`weekday\u0001${map.valueOf.get(firstLine[0] as number)}`, 0, 1 << 18));
    expect(encoder.stats().missing.weekday).toBe(0);
  });
});
