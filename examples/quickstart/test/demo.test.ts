/**
 * A short run of `npm run demo`, as a newcomer would start it (through the package's start
 * script's entry point), checking what it prints and the report it writes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const tsx = path.resolve(root, '../../node_modules/.bin/tsx');

function demo(args: string[]) {
  return spawnSync(tsx, ['--conditions=@ctrkit/source', 'src/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 });
}

describe('npm run demo (short)', () => {
  it('prints quality beside the Bayes optimum, serving figures, latency and campaigns, and writes an HTML report', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-demo-'));
    try {
      const report = path.join(dir, 'report.html');
      const run = demo(['--rows', '20000', '--requests', '400', '--users', '800', '--report', report]);
      expect(run.status, run.stderr).toBe(0);
      const out = run.stdout;
      for (const text of ['Bayes optimum', 'FTRL-LR', 'DCN-v2', 'day two:', 'latency per stage', 'campaigns (', 'why the top ad won', 'report:']) expect(out).toContain(text);
      expect(out).toMatch(/clicks \d+ — the model expected [\d.]+, the true click probabilities add up to [\d.]+/);
      // Progress goes to stderr as plain lines when it is not a terminal.
      expect(run.stderr).toMatch(/replaying the day-one log: \d+%/);
      expect(existsSync(report)).toBe(true);
      const html = readFileSync(report, 'utf8');
      expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
      expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('--json prints exactly one JSON object on stdout, and the rest on stderr', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-demo-'));
    try {
      const run = demo(['--json', '--rows', '6000', '--requests', '300', '--users', '500', '--report', path.join(dir, 'report.html')]);
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as Record<string, any>;
      expect(out.quality.models.map((m: { name: string }) => m.name)).toEqual(['FTRL-LR', 'DCN-v2']);
      for (const figures of [...out.quality.models, out.quality.bayes]) {
        expect(figures.auc).toBeGreaterThan(0);
        expect(figures.auc).toBeLessThanOrEqual(1);
        expect(figures.logloss).toBeGreaterThan(0);
      }
      expect(out.log.rows).toBe(6000);
      expect(out.serving.requests).toBe(300);
      expect(out.serving.winners).toBeGreaterThan(0);
      // The loop: frozen, online and Bayes on the same served impressions, and what the refresher did.
      for (const figures of [out.loop.frozen, out.loop.online, out.loop.bayes]) {
        expect(figures.auc).toBeGreaterThan(0);
        expect(figures.auc).toBeLessThanOrEqual(1);
        expect(figures.logloss).toBeGreaterThan(0);
      }
      expect(out.loop.rows).toBe(out.serving.winners);
      expect(out.loop.bayes.logloss).toBeLessThan(out.loop.frozen.logloss);
      expect(Number.isInteger(out.loop.swaps)).toBe(true);
      expect(Number.isInteger(out.loop.refusedSwaps)).toBe(true);
      expect(out.loop.joined.positives + out.loop.joined.negatives).toBe(out.loop.rows);
      // The tables a person reads, and the progress, went to stderr.
      expect(run.stderr).toContain('model quality on the held-out log');
      expect(run.stderr).toMatch(/training DCN-v2: \d+%/);
      expect(existsSync(path.join(dir, 'report.html'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('refuses bad options with one line and a non-zero exit', () => {
    const run = demo(['--rows', 'many']);
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/rows/);
    const missing = demo(['--data', '/nonexistent/log.tsv', '--format', 'criteo']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/nonexistent/);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
