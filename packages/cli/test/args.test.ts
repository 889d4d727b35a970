import { createManualClock } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createProgress, parseArgs, suggest, type OptionSpecs } from '../src/index.js';

const specs: OptionSpecs = {
  log: { type: 'string', required: true, description: 'log file' },
  'budget-ratio': { type: 'number', required: true, fraction: true, min: 0, exclusiveMin: true, max: 1000, description: 'ratio' },
  pacer: { type: 'string', choices: ['throttle', 'pid', 'dual', 'none'], default: 'dual', description: 'pacer' },
  rows: { type: 'number', integer: true, min: 1, description: 'rows' },
  json: { type: 'boolean', description: 'JSON' },
};

const usage = (argv: string[]) => {
  try {
    parseArgs(argv, specs, 'simulate');
  } catch (error) {
    return error as { code: string; message: string; details?: { usage?: string } };
  }
  throw new Error('expected a usage error');
};

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags, fractions and defaults', () => {
    const args = parseArgs(['--log', 'a.txt', '--budget-ratio=1/32', '--json', '--rows', '1_000'], specs, 'simulate');
    expect(args.string('log')).toBe('a.txt');
    expect(args.number('budget-ratio')).toBe(1 / 32);
    expect(args.flag('json')).toBe(true);
    expect(args.number('rows')).toBe(1000);
    expect(args.string('pacer')).toBe('dual');
    expect(args.given('pacer')).toBe(false);
    expect(parseArgs(['--log', 'x', '--budget-ratio', '0.25'], specs, 'simulate').number('budget-ratio')).toBe(0.25);
  });

  it('explains every mistake in one sentence, marked as a usage error', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--budget-ratio', '1/8'], /missing required option --log/],
      [['--log', 'x'], /missing required option --budget-ratio/],
      [['--log', 'x', '--budget-ration', '1/8'], /unknown option --budget-ration; did you mean --budget-ratio\?/],
      [['--log', 'x', '--budget-ratio', 'abc'], /--budget-ratio needs a number or a fraction such as 1\/32, got "abc"/],
      [['--log', 'x', '--budget-ratio', '0'], /--budget-ratio must be greater than 0/],
      [['--log', 'x', '--budget-ratio', '-1/8'], /greater than 0/],
      [['--log', 'x', '--budget-ratio', 'NaN'], /needs a number/],
      [['--log', 'x', '--budget-ratio', '1/8', '--pacer', 'fast'], /--pacer must be one of throttle, pid, dual, none; got "fast"/],
      [['--log', 'x', '--budget-ratio', '1/8', '--pacer', 'dul'], /did you mean dual\?/],
      [['--log', 'x', '--budget-ratio', '1/8', '--rows', '2.5'], /--rows needs a whole number/],
      [['--log'], /--log needs a value/],
      [['--log', '--json'], /--log needs a value/],
      [['--log', 'x', '--log', 'y', '--budget-ratio', '1'], /--log is given twice/],
      [['--log', 'x', '--budget-ratio', '1', 'extra'], /unexpected argument "extra"/],
      [['--log', 'x', '--budget-ratio', '1', '--json=yes'], /--json is a flag and takes no value/],
    ];
    for (const [argv, message] of cases) {
      const error = usage(argv);
      expect(error.code).toBe('E_INPUT');
      expect(error.message).toMatch(message);
      expect(error.details?.usage).toBe('simulate');
    }
  });

  it('skips the required check when --help is asked for', () => {
    expect(parseArgs(['--help'], specs, 'simulate').help).toBe(true);
  });

  it('suggests near misses only', () => {
    expect(suggest('simulat', ['simulate', 'train'])).toBe('simulate');
    expect(suggest('zzz', ['simulate', 'train'])).toBeUndefined();
  });
});

describe('progress on stderr', () => {
  it('redraws one line with a bar, rate and ETA on a terminal', () => {
    let text = '';
    const clock = createManualClock(0);
    const progress = createProgress({ label: 'replaying', total: 1_000, unit: 'auctions', stream: { write: (t) => (text += t), isTTY: true, columns: 100 }, clock });
    clock.advance(1_000);
    progress.update(250);
    clock.advance(50);
    progress.update(260); // within 100 ms: not redrawn
    clock.advance(1_000);
    progress.update(500);
    progress.finish();
    const frames = text.split('\r').filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^replaying \[█+░+\] 250\/1,000 auctions \(25\.0 %\), 250 auctions\/s, ETA 0:03/);
    expect(frames[2]).toMatch(/^replaying: 1,000 auctions in 2\.0 s, 488 auctions\/s\s*\n$/);
  });

  it('prints plain lines every couple of seconds elsewhere, and nothing when disabled', () => {
    let text = '';
    const clock = createManualClock(0);
    const progress = createProgress({ label: 'reading', total: 0, unit: 'lines', stream: { write: (t) => (text += t), isTTY: false }, clock });
    for (let i = 1; i <= 10; i++) {
      clock.advance(500);
      progress.update(i * 100);
    }
    progress.finish(1_000);
    expect(text.split('\n').filter(Boolean)).toEqual(['reading: 400 lines, 200 lines/s', 'reading: 800 lines, 200 lines/s', 'reading: 1,000 lines in 5.0 s, 200 lines/s']);
    expect(text).not.toContain('\r');
    let silent = '';
    const off = createProgress({ label: 'x', total: 1, unit: 'u', stream: { write: (t) => (silent += t) }, clock, enabled: false });
    off.update(1);
    off.finish();
    expect(silent).toBe('');
  });
});
