import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { captureIo } from './fixtures/captured-io.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ctrkit(...argv: string[]) {
  const io = captureIo({ cwd: dir });
  const status = await runCli(argv, io);
  return { status, out: io.out(), err: io.err() };
}

const SMALL = ['--data', 'synthetic:3000:4', '--model', 'dcnv2', '--epochs', '1', '--embedding-dim', '4', '--deep', '32', '--low-rank', '8', '--id-space', '16384', '--batch-size', '128', '--json', '--quiet'];

describe('ctrkit train --threads', () => {
  it('trains the same model on 1 and 2 threads (same bytes), and the manifest does not record the thread count', { timeout: 60_000 }, async () => {
    const one = await ctrkit('train', ...SMALL, '--threads', '1', '--out', 'one');
    const two = await ctrkit('train', ...SMALL, '--threads', '2', '--out', 'two');
    expect(one.status).toBe(0);
    expect(two.status).toBe(0);
    expect(readFileSync(path.join(dir, 'two', 'model.onnx')).equals(readFileSync(path.join(dir, 'one', 'model.onnx')))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'two', 'model.json'), 'utf8')) as { config: { hyperParameters: Record<string, unknown> } };
    expect(manifest.config.hyperParameters).toMatchObject({ embeddingDim: 4, lowRank: 8 });
    expect(manifest.config.hyperParameters).not.toHaveProperty('threads');
    expect((JSON.parse(two.out) as { validAuc: number }).validAuc).toBe((JSON.parse(one.out) as { validAuc: number }).validAuc);
  });

  it('is a usage error outside [1, 64] or for a model that has no dense products; --help says what it changes', async () => {
    expect((await ctrkit('train', ...SMALL, '--threads', '0', '--out', 'x')).status).toBe(2);
    expect((await ctrkit('train', '--data', 'synthetic:3000:4', '--model', 'lr', '--threads', '2', '--out', 'x', '--quiet')).err).toMatch(/--threads applies to --model dcnv2 or deepfm/);
    expect((await ctrkit('train', '--help')).out).toMatch(/--threads[\s\S]*same model for any N/);
  });
});
