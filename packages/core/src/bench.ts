/**
 * A small benchmark harness used by every package's `bench/` scripts: warm up, time many calls,
 * report throughput and latency percentiles, and compare against a baseline measured in the
 * same run (the machine is shared, so only same-run ratios mean anything).
 *
 * @packageDocumentation
 */
import { systemClock } from './clock.js';
import { createLatencyHistogram } from './histogram.js';

/** What {@link measure} and {@link measureAsync} report.
 *
 * @example
 * ```ts
 * import type { BenchResult } from '@ctrkit/core/bench';
 * const print = (r: BenchResult) => console.log(r.name, r.opsPerSecond);
 * ```
 */
export interface BenchResult {
  /** The case's name. */
  readonly name: string;
  /** Calls timed (after warm-up). */
  readonly calls: number;
  /** Calls per second. */
  readonly opsPerSecond: number;
  /** Rows per second, when `rowsPerCall` was given. */
  readonly rowsPerSecond: number;
  /** Median latency of one call, ms. */
  readonly p50Ms: number;
  /** 99th-percentile latency of one call, ms. */
  readonly p99Ms: number;
  /** Mean latency of one call, ms. */
  readonly meanMs: number;
}

/** Options for {@link measure}.
 *
 * @example
 * ```ts
 * import type { MeasureOptions } from '@ctrkit/core/bench';
 * const options: MeasureOptions = { minTimeMs: 500, rowsPerCall: 100 };
 * ```
 */
export interface MeasureOptions {
  /** Time spent calling before measuring (default 200 ms). */
  readonly warmupMs?: number;
  /** Keep calling until this much time has been measured (default 1,000 ms). */
  readonly minTimeMs?: number;
  /** Rows each call processes, for rows/s (default 1). */
  readonly rowsPerCall?: number;
  /**
   * Calls between two clock reads (default 1). Raise it for calls under a microsecond so the
   * clock does not dominate; percentiles are then per-call averages over each group.
   */
  readonly callsPerSample?: number;
}

function summarize(name: string, samples: number[], calls: number, elapsedMs: number, rowsPerCall: number, perSample: number): BenchResult {
  const histogram = createLatencyHistogram({ lowestMs: 1e-6, highestMs: 60_000 });
  for (const sample of samples) histogram.record(sample / perSample);
  const opsPerSecond = (calls / elapsedMs) * 1000;
  return {
    name,
    calls,
    opsPerSecond,
    rowsPerSecond: opsPerSecond * rowsPerCall,
    p50Ms: histogram.percentile(0.5),
    p99Ms: histogram.percentile(0.99),
    meanMs: elapsedMs / calls,
  };
}

/**
 * Times a synchronous function.
 *
 * @param name - The case's name.
 * @param fn - What to time; its result is kept alive so the engine cannot drop the call.
 * @param options - Warm-up, duration, rows per call, calls per sample.
 * @returns Throughput and latency figures.
 * @example
 * ```ts
 * import { measure } from '@ctrkit/core/bench';
 * const result = measure('sum', () => [1, 2, 3].reduce((a, b) => a + b), { minTimeMs: 50, warmupMs: 10 });
 * console.log(result.opsPerSecond > 0); // true
 * ```
 */
export function measure(name: string, fn: () => unknown, options: MeasureOptions = {}): BenchResult {
  const { warmupMs = 200, minTimeMs = 1000, rowsPerCall = 1, callsPerSample = 1 } = options;
  let sink: unknown;
  const warmEnd = systemClock.now() + warmupMs;
  while (systemClock.now() < warmEnd) for (let i = 0; i < callsPerSample; i++) sink = fn();
  const samples: number[] = [];
  let calls = 0;
  const start = systemClock.now();
  let now = start;
  while (now - start < minTimeMs) {
    const t0 = now;
    for (let i = 0; i < callsPerSample; i++) sink = fn();
    now = systemClock.now();
    samples.push(now - t0);
    calls += callsPerSample;
  }
  keep(sink);
  return summarize(name, samples, calls, now - start, rowsPerCall, callsPerSample);
}

/**
 * Times an asynchronous function, one call at a time.
 *
 * @param name - The case's name.
 * @param fn - What to time.
 * @param options - Warm-up, duration and rows per call (`callsPerSample` is ignored).
 * @returns Throughput and latency figures.
 * @example
 * ```ts
 * import { measureAsync } from '@ctrkit/core/bench';
 * const result = await measureAsync('tick', () => Promise.resolve(1), { minTimeMs: 50, warmupMs: 10 });
 * console.log(result.calls > 0); // true
 * ```
 */
export async function measureAsync(name: string, fn: () => Promise<unknown>, options: MeasureOptions = {}): Promise<BenchResult> {
  const { warmupMs = 200, minTimeMs = 1000, rowsPerCall = 1 } = options;
  const warmEnd = systemClock.now() + warmupMs;
  while (systemClock.now() < warmEnd) await fn();
  const samples: number[] = [];
  const start = systemClock.now();
  let now = start;
  while (now - start < minTimeMs) {
    const t0 = now;
    await fn();
    now = systemClock.now();
    samples.push(now - t0);
  }
  return summarize(name, samples, samples.length, now - start, rowsPerCall, 1);
}

let blackhole: unknown;
function keep(value: unknown): void {
  blackhole = value;
  if (blackhole === keep) console.log('unreachable');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  if (value >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/**
 * Formats results as an aligned text table; with `baseline`, adds each case's throughput as a
 * ratio to the baseline case's (same run).
 *
 * @param title - A heading.
 * @param results - The cases.
 * @param baseline - Name of the case the others are compared with.
 * @returns The table.
 * @example
 * ```ts
 * import { formatBenchTable, measure } from '@ctrkit/core/bench';
 * const a = measure('a', () => 1, { minTimeMs: 20, warmupMs: 5 });
 * console.log(formatBenchTable('demo', [a], 'a'));
 * ```
 */
export function formatBenchTable(title: string, results: readonly BenchResult[], baseline?: string): string {
  const base = baseline === undefined ? undefined : results.find((r) => r.name === baseline);
  const header = ['case', 'ops/s', 'rows/s', 'p50 ms', 'p99 ms', 'mean ms', ...(base ? ['vs ' + base.name] : [])];
  const rows = results.map((r) => [
    r.name,
    formatNumber(r.opsPerSecond),
    formatNumber(r.rowsPerSecond),
    formatNumber(r.p50Ms),
    formatNumber(r.p99Ms),
    formatNumber(r.meanMs),
    ...(base ? [`${(r.opsPerSecond / base.opsPerSecond).toFixed(2)}×`] : []),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');
  return [`## ${title}`, line(header), ...rows.map(line)].join('\n');
}
