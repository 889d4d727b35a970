import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { sharedDataFile } from '@ctrkit/test-support';
import { captureIo } from './fixtures/captured-io.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const IPINYOU_FILE = sharedDataFile('ipinyou/rtb/2997.log.txt', 'cli: simulate on the iPinYou 2997 log');
const haveIpinyou = IPINYOU_FILE !== undefined;
const IPINYOU = IPINYOU_FILE ?? '';

const dir = mkdtempSync(path.join(tmpdir(), 'ctrkit-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const small = path.join(dir, 'small.log.txt');
writeFileSync(small, Array.from({ length: 4_000 }, (_, i) => `${i % 53 === 0 ? 1 : 0} ${5 + ((i * 37) % 90)} ${(0.001 + ((i * 13) % 17) / 4000).toFixed(6)}`).join('\n'));
const KEYS = ['auctions', 'budget', 'spend', 'impressions', 'clicks', 'overspend', 'utilization', 'optimal_clicks'];

async function simulate(...argv: string[]) {
  const io = captureIo({ cwd: dir });
  const status = await runCli(['simulate', ...argv], io);
  return { status, out: io.out(), err: io.err() };
}

describe('ctrkit simulate', () => {
  it('--json prints exactly one JSON object with the eight keys, and nothing else on stdout', async () => {
    const { status, out, err } = await simulate('--log', 'small.log.txt', '--format', 'ipinyou', '--budget-ratio', '1/8', '--pacer', 'dual', '--json');
    expect(status).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(out) as Record<string, number>;
    expect(Object.keys(result)).toEqual(KEYS);
    expect(result.auctions).toBe(4_000);
    expect(result.overspend).toBe(0);
    expect(result.spend).toBeLessThanOrEqual(result.budget as number);
    expect(result.utilization).toBeCloseTo((result.spend as number) / (result.budget as number), 12);
    for (const key of KEYS) expect(Number.isFinite(result[key])).toBe(true);
    expect(err).toMatch(/replaying: 4,000 auctions/); // progress goes to stderr
  });

  it('every pacer runs without overspending and uses the budget', async () => {
    for (const pacer of ['throttle', 'pid', 'dual', 'none']) {
      const { status, out } = await simulate('--log', small, '--budget-ratio', '0.1', '--pacer', pacer, '--json', '--quiet');
      expect(status).toBe(0);
      const result = JSON.parse(out) as Record<string, number>;
      expect(result.overspend).toBe(0);
      expect(result.utilization).toBeGreaterThan(0.9);
    }
  });

  it('prints a readable summary with CPC and both hindsight references', async () => {
    const { status, out, err } = await simulate('--log', small, '--budget-ratio', '1/4', '--pacer', 'pid', '--quiet');
    expect(status).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/ctrkit simulate — small\.log\.txt: 4,000 auctions, pacer pid, plan even/);
    for (const label of ['budget', 'spend', 'overspend', 'impressions', 'clicks', 'CPC', 'greedy optimum', 'best fixed bid']) expect(out).toMatch(new RegExp(`^  ${label} `, 'm'));
    expect(out).toMatch(/\(1\/4 of the log's market cost/);
  });

  it('replays synthetic traffic, with a traffic-shaped plan learned from the previous day, and writes a plot', async () => {
    const plot = path.join(dir, 'spend.svg');
    const { status, out, err } = await simulate('--log', 'synthetic:20000:7', '--budget-ratio', '1/8', '--pacer', 'dual', '--plan', 'traffic', '--plot', plot, '--json');
    expect(status).toBe(0);
    const result = JSON.parse(out) as Record<string, number>;
    expect(result.auctions).toBe(20_000);
    expect(result.overspend).toBe(0);
    expect(result.utilization).toBeGreaterThan(0.95);
    expect(err).toMatch(/learning the traffic curve/);
    expect(err).toContain(`written to ${plot}`);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('plan traffic');
    const html = path.join(dir, 'spend.html');
    expect((await simulate('--log', 'synthetic:5000', '--budget-ratio', '0.2', '--pacer', 'throttle', '--plot', html, '--quiet')).status).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<svg[\s\S]*<table>/);
  });

  it('exits 2 with one line and a --help hint on bad arguments, before doing any work', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--budget-ratio', '1/8', '--pacer', 'dual'], /missing required option --log/],
      [['--log', small, '--budget-ratio', '0', '--pacer', 'dual'], /--budget-ratio must be greater than 0/],
      [['--log', small, '--budget-ratio', '1/8', '--pacer', 'fast'], /--pacer must be one of throttle, pid, dual, none/],
      [['--log', small, '--budget-ratio', '1/8', '--pacer', 'dual', '--format', 'criteo'], /--format must be one of ipinyou/],
      [['--log', small, '--budget-ratio', '1/8', '--pacer', 'dual', '--plan', 'traffic'], /--plan traffic learns the traffic curve from past days/],
      [['--log', small, '--budget-ratio', '1/8', '--pacer', 'dual', '--plot', 'out.png'], /name an \.svg or \.html file/],
      [['--log', 'synthetic:lots', '--budget-ratio', '1/8', '--pacer', 'dual'], /synthetic:ROWS\[:SEED\] needs a whole number of rows/],
      [['--log', small, '--budget-ratio', '1/8', '--pacr', 'dual'], /unknown option --pacr; did you mean --pacer\?/],
    ];
    for (const [argv, message] of cases) {
      const { status, out, err } = await simulate(...argv);
      expect(status, argv.join(' ')).toBe(2);
      expect(out).toBe('');
      const lines = err.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^ctrkit simulate: /);
      expect(lines[0]).toMatch(message);
      expect(lines[1]).toBe('run `ctrkit simulate --help` for usage');
      expect(err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('exits 1 with the file and the line when the log cannot be read or parsed', async () => {
    const missing = await simulate('--log', 'nope.txt', '--budget-ratio', '1/8', '--pacer', 'dual');
    expect(missing.status).toBe(1);
    expect(missing.err).toMatch(/^ctrkit simulate: cannot read --log nope\.txt \(.*nope\.txt\): no such file \[E_IO\]\n$/);
    const bad = path.join(dir, 'bad.log.txt');
    writeFileSync(bad, '0 70 0.002\n0 70 0.002\n1 seventy 0.01\n');
    const parsed = await simulate('--log', bad, '--budget-ratio', '1/8', '--pacer', 'dual', '--quiet');
    expect(parsed.status).toBe(1);
    expect(parsed.err).toMatch(/bad\.log\.txt, line 3: market_price must be a finite number ≥ 0, got "seventy".*\[E_PARSE\]/);
    const empty = path.join(dir, 'empty.log.txt');
    writeFileSync(empty, '\n');
    expect((await simulate('--log', empty, '--budget-ratio', '1/8', '--pacer', 'dual', '--quiet')).err).toMatch(/holds no auction.*\[E_INPUT\]/);
    const unwritable = await simulate('--log', small, '--budget-ratio', '1/8', '--pacer', 'dual', '--quiet', '--plot', path.join(dir, 'no/such/dir/p.svg'));
    expect(unwritable.status).toBe(1);
    expect(unwritable.err).toMatch(/cannot write --plot .*its directory does not exist \[E_IO\]/);
  });

  it.skipIf(!haveIpinyou)('on iPinYou 2997 at 1/8 the dual pacer reaches the target clicks without overspending', async () => {
    const { status, out } = await simulate('--log', IPINYOU, '--format', 'ipinyou', '--budget-ratio', '1/8', '--pacer', 'dual', '--json', '--quiet');
    expect(status).toBe(0);
    const result = JSON.parse(out) as Record<string, number>;
    expect(result.auctions).toBe(156_063);
    expect(result.clicks).toBeGreaterThanOrEqual(0.95 * 159);
    expect(result.utilization).toBeGreaterThanOrEqual(0.95);
    expect(result.overspend).toBe(0);
  }, 30_000);
});

describe('ctrkit dispatcher', () => {
  it('lists commands, shows command help, suggests near misses', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out()).toMatch(/commands:\n  simulate  replay an auction log/);
    const help = captureIo();
    expect(await runCli(['simulate', '--help'], help)).toBe(0);
    expect(help.out()).toMatch(/usage: ctrkit simulate --log FILE\|synthetic:ROWS\[:SEED\]/);
    expect(help.out()).toMatch(/--budget-ratio R\s+daily budget as a share .*\(required\)/);
    const also = captureIo();
    expect(await runCli(['help', 'simulate'], also)).toBe(0);
    expect(also.out()).toBe(help.out());
    const typo = captureIo();
    expect(await runCli(['simulat'], typo)).toBe(2);
    expect(typo.err()).toMatch(/^ctrkit: unknown command "simulat"; did you mean simulate\? \(commands: simulate, train, eval, report\) \[E_INPUT\]\nrun `ctrkit --help` for usage\n$/);
    const none = captureIo();
    expect(await runCli([], none)).toBe(2);
    expect(none.out()).toMatch(/usage: ctrkit <command>/);
  });

  it('the real binary: JSON on stdout, status 0; a bad argument gives one line and status 2', () => {
    const bin = path.join(repoRoot, 'packages/cli/src/bin.ts');
    const run = (...argv: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@ctrkit/source', bin, ...argv], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    const ok = run('simulate', '--log', small, '--budget-ratio', '1/8', '--pacer', 'pid', '--json');
    expect(ok.status).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout) as object)).toEqual(KEYS);
    const bad = run('simulate', '--log', small, '--budget-ratio', 'lots', '--pacer', 'pid');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^ctrkit simulate: --budget-ratio needs a number or a fraction such as 1\/32, got "lots" \[E_INPUT\]\nrun `ctrkit simulate --help` for usage\n$/);
  }, 60_000);
});
