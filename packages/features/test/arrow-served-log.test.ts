import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock, type ServedRow } from '@ctrkit/core';
import { createArrowServedLog, listServedLogFiles, readArrowLogFile, readServedLog, servedRowsOfBatch } from '../src/node.js';
import { spawnSource } from '@ctrkit/test-support';
import { crashLayout, crashRow } from './fixtures/served-rows.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'ctrkit-served-log-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `d${dirs++}`);

async function readAll(dir: string): Promise<ServedRow[]> {
  const rows: ServedRow[] = [];
  for await (const item of readServedLog(dir, crashLayout)) rows.push(...servedRowsOfBatch(item));
  return rows;
}

function sameRow(a: ServedRow, b: ServedRow): void {
  expect({ ...a, ids: Array.from(a.ids), values: Array.from(a.values), dense: Array.from(a.dense), sequenceIds: Array.from(a.sequenceIds), sequenceLengths: Array.from(a.sequenceLengths) }).toEqual({
    ...b,
    ids: Array.from(b.ids),
    values: Array.from(b.values),
    dense: Array.from(b.dense),
    sequenceIds: Array.from(b.sequenceIds),
    sequenceLengths: Array.from(b.sequenceLengths),
  });
}

describe('Arrow served log', () => {
  it('writes the served bits and reads them back, through readServedLog and the training reader', async () => {
    const dir = freshDir();
    const log = createArrowServedLog({ dir, layout: crashLayout, checkIntervalMs: 0, batchRows: 7 });
    const rows = Array.from({ length: 20 }, (_, i) => crashRow(i));
    for (const row of rows) log.append(row);
    expect(log.buffered).toBe(20);
    expect(await listServedLogFiles(dir)).toEqual([]);
    await log.close();
    expect(log.stats()).toMatchObject({ appended: 20, persisted: 20, files: 1, failedRows: 0 });
    const back = await readAll(dir);
    expect(back).toHaveLength(20);
    back.forEach((row, i) => sameRow(row, rows[i] as ServedRow));
    // The same file feeds offline training: the FeatureBatch reader sees row-major Int32 ids.
    const [file] = await listServedLogFiles(dir);
    let training = 0;
    for await (const { batch, labels } of readArrowLogFile(file as string, crashLayout)) {
      expect(labels).toBeUndefined();
      expect(Array.from(batch.ids.subarray(0, 3))).toEqual(Array.from((rows[training] as ServedRow).ids));
      training += batch.rows;
    }
    expect(training).toBe(20);
  });

  it('rolls by size and by age (injected clock), in order, and keeps labels in a labeled log', async () => {
    const dir = freshDir();
    const clock = createManualClock(5_000);
    const log = createArrowServedLog({ dir, layout: crashLayout, maxFileBytes: 2048, maxFileAgeMs: 1_000, clock, checkIntervalMs: 0, labeled: true });
    for (let i = 0; i < 60; i++) log.append(crashRow(i), i % 2);
    await log.flush();
    const bySize = (await listServedLogFiles(dir)).length;
    expect(bySize).toBeGreaterThan(2);
    log.append(crashRow(60), 1);
    clock.advance(999);
    log.append(crashRow(61), 0);
    expect(log.buffered).toBe(2);
    clock.advance(1);
    log.append(crashRow(62), 1); // the buffer's first row is now 1,000 ms old: it rolls
    expect(log.buffered).toBe(0);
    await log.close();
    expect((await listServedLogFiles(dir)).length).toBe(bySize + 1);
    let labels: number[] = [];
    const ids: string[] = [];
    for await (const item of readServedLog(dir, crashLayout)) {
      labels = labels.concat(Array.from(item.labels ?? []));
      ids.push(...item.eventIds);
    }
    expect(ids).toEqual(Array.from({ length: 63 }, (_, i) => `imp-${i}`));
    expect(labels).toEqual([...Array.from({ length: 60 }, (_, i) => i % 2), 1, 0, 1]);
  });

  it('refuses bad rows and labels without buffering them, and reports write failures from flush', async () => {
    const dir = freshDir();
    const log = createArrowServedLog({ dir, layout: crashLayout, checkIntervalMs: 0 });
    expect(() => log.append({ ...crashRow(0), fingerprint: 'other' })).toThrowError(/one log holds one spec/);
    expect(() => log.append(crashRow(0), 1)).toThrowError(/labeled: true/);
    expect(log.buffered).toBe(0);
    log.append(crashRow(1));
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    await expect(log.flush()).rejects.toMatchObject({ code: 'E_IO' });
    expect(log.stats()).toMatchObject({ appended: 1, persisted: 0, failedRows: 1 });
    await log.close();
    expect(() => log.append(crashRow(2))).toThrowError(expect.objectContaining({ code: 'E_STATE' }) as never);
    expect(() => createArrowServedLog({ dir: freshDir(), layout: crashLayout, prefix: '../x' })).toThrowError(/prefix/);
    expect(() => createArrowServedLog({ dir: freshDir(), layout: crashLayout, maxFileBytes: 10 })).toThrowError(/maxFileBytes/);
  });

  it('bounds what waits for the disk: past maxQueuedFiles a roll drops its rows and counts them', async () => {
    const dir = freshDir();
    const log = createArrowServedLog({ dir, layout: crashLayout, maxFileBytes: 1024, maxQueuedFiles: 2, checkIntervalMs: 0 });
    // Synchronous appends give the disk no turn: the third and later full buffers are dropped.
    for (let i = 0; i < 200; i++) log.append(crashRow(i));
    expect(log.queuedFiles).toBe(2);
    await log.close();
    const { appended, dropped, persisted } = log.stats();
    expect(appended).toBe(200);
    expect(dropped).toBeGreaterThan(0);
    expect(persisted + dropped).toBe(200);
    expect((await readAll(dir)).length).toBe(persisted);
    expect(log.queuedFiles).toBe(0);
  });

  it('survives SIGKILL mid-write: every closed file reads back whole, only the open buffer is lost', async () => {
    const dir = freshDir();
    const child = spawnSource(path.join(here, 'fixtures/served-log-writer.ts'), [dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastReported = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const all = [...text.matchAll(/persisted (\d+)/g)];
        lastReported = Number(all.at(-1)?.[1] ?? 0);
        if (all.length >= 5) resolve();
      });
      child.on('exit', () => reject(new Error('the writer exited before it was killed')));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const files = await listServedLogFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(5);
    const rows = await readAll(dir);
    // Files close in order, so what survives is a prefix of what was appended, bit for bit, and
    // holds at least what the writer had reported closed before it died.
    expect(rows.length).toBeGreaterThanOrEqual(lastReported);
    rows.forEach((row, i) => sameRow(row, crashRow(i)));
    // Anything else in the directory is a hidden temporary file the readers skip.
    for (const name of readdirSync(dir)) expect(name.endsWith('.arrow') || (name.startsWith('.') && name.endsWith('.tmp'))).toBe(true);
  }, 60_000);
});
