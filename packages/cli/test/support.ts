import { createManualClock, type ManualClock } from '@ctrkit/core';
import type { CliIo } from '../src/index.js';

export interface CapturedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
  readonly clock: ManualClock;
}

/** An in-memory CliIo: captures stdout and stderr, fixes the clock. */
export function captureIo(options: { cwd?: string; tty?: boolean; env?: Record<string, string> } = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text), isTTY: options.tty ?? false, columns: 120 },
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? {},
    clock: createManualClock(0),
    out: () => out,
    err: () => err,
  };
}
