import { CtrkitError } from '@ctrkit/core';
import { ensure } from '@ctrkit/core/internal';

/**
 * A log of auctions to replay, struct-of-arrays: for auction `i`, whether the shown ad was
 * clicked, the market price (the price to beat, which the winner pays) and the bidder's pCTR.
 *
 * Prices are CPM, per thousand impressions, as in the iPinYou logs: a won auction costs
 * `prices[i] / 1000`.
 *
 * @example
 * ```ts
 * import type { AuctionLog } from '@ctrkit/pacing';
 * const log: AuctionLog = {
 *   source: 'inline', size: 2,
 *   clicks: Uint8Array.of(0, 1), prices: Float64Array.of(70, 30), pctrs: Float64Array.of(0.002, 0.004),
 * };
 * ```
 */
export interface AuctionLog {
  /** Where it came from (a file name, `synthetic:…`). */
  readonly source: string;
  /** Number of auctions. */
  readonly size: number;
  /** 1 when the impression was clicked. */
  readonly clicks: Uint8Array;
  /** Market (winning second) price, CPM, ≥ 0. */
  readonly prices: Float64Array;
  /** Predicted click probability, in [0, 1]. */
  readonly pctrs: Float64Array;
  /** Arrival times, epoch ms, non-decreasing; when absent the replay spreads auctions evenly over one day in log order. */
  readonly timestamps?: Float64Array;
}

/**
 * Options for {@link parseIpinyouLog}.
 *
 * @example
 * ```ts
 * import type { ParseOptions } from '@ctrkit/pacing';
 * const options: ParseOptions = { source: '2997.log.txt', onProgress: (lines) => console.log(lines) };
 * ```
 */
export interface ParseOptions {
  /** A name for the log, used in error messages (default `ipinyou`). */
  readonly source?: string;
  /** Called every 65,536 lines with the count parsed so far. */
  readonly onProgress?: (lines: number) => void;
}

const PROGRESS_EVERY = 65_536;

function grow<T extends Uint8Array | Float64Array>(array: T, size: number): T {
  const next = new (array.constructor as new (n: number) => T)(size);
  next.set(array);
  return next;
}

/**
 * Parses an iPinYou real-time-bidding log: one auction a line, `click market_price pCTR`
 * separated by spaces or tabs. Blank lines are skipped; anything else malformed is rejected with
 * its line number, so a truncated or mixed-up file never replays silently.
 *
 * @param text - The file's content.
 * @param options - A name for messages, a progress callback.
 * @returns The log (arrays grown by doubling, then trimmed to size).
 * @throws CtrkitError `E_PARSE` naming the line when a line does not have three fields, the
 * click is not 0 or 1, the price is not a finite number ≥ 0, or the pCTR is not in [0, 1];
 * `E_INPUT` when the text holds no auction at all.
 * @example
 * ```ts
 * import { parseIpinyouLog } from '@ctrkit/pacing';
 * const log = parseIpinyouLog('0 70 0.0021\n1 30 0.0043\n');
 * console.log(log.size, log.clicks[1], log.prices[0]); // 2 1 70
 * ```
 */
export function parseIpinyouLog(text: string, options: ParseOptions = {}): AuctionLog {
  const source = options.source ?? 'ipinyou';
  ensure(typeof text === 'string', 'E_INPUT', () => `${source}: expected the log's text as a string`);
  let capacity = 1024;
  let clicks = new Uint8Array(capacity);
  let prices = new Float64Array(capacity);
  let pctrs = new Float64Array(capacity);
  let size = 0;
  let lineNumber = 0;
  let start = 0;
  const fail = (message: string, line: string): never => {
    throw new CtrkitError('E_PARSE', `${source}, line ${lineNumber}: ${message} (got ${JSON.stringify(line.slice(0, 80))}); each line must be "click market_price pCTR", e.g. "0 70 0.0021"`, {
      details: { source, line: lineNumber },
    });
  };
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0) continue;
    const fields = line.split(/[ \t]+/);
    if (fields.length !== 3) fail(`expected 3 fields, found ${fields.length}`, line);
    const [clickText, priceText, pctrText] = fields as [string, string, string];
    if (clickText !== '0' && clickText !== '1') fail(`click must be 0 or 1, got ${JSON.stringify(clickText)}`, line);
    const price = Number(priceText);
    if (!Number.isFinite(price) || price < 0 || priceText === '') fail(`market_price must be a finite number ≥ 0, got ${JSON.stringify(priceText)}`, line);
    const pctr = Number(pctrText);
    if (!Number.isFinite(pctr) || pctr < 0 || pctr > 1 || pctrText === '') fail(`pCTR must be a probability in [0, 1], got ${JSON.stringify(pctrText)}`, line);
    if (size === capacity) {
      capacity *= 2;
      clicks = grow(clicks, capacity);
      prices = grow(prices, capacity);
      pctrs = grow(pctrs, capacity);
    }
    clicks[size] = clickText === '1' ? 1 : 0;
    prices[size] = price;
    pctrs[size] = pctr;
    size++;
    if (options.onProgress !== undefined && size % PROGRESS_EVERY === 0) options.onProgress(size);
  }
  ensure(size > 0, 'E_INPUT', () => `${source}: the log holds no auction; pass a file with lines "click market_price pCTR"`);
  return { source, size, clicks: clicks.slice(0, size), prices: prices.slice(0, size), pctrs: pctrs.slice(0, size) };
}

/**
 * Checks a log built by hand (or by another reader) before replaying it.
 *
 * @param log - The log.
 * @returns The same log.
 * @throws CtrkitError `E_INPUT` naming the first bad auction: arrays of the wrong length, a
 * click not 0/1, a negative or non-finite price, a pCTR outside [0, 1], decreasing timestamps.
 * @example
 * ```ts
 * import { checkAuctionLog } from '@ctrkit/pacing';
 * checkAuctionLog({ source: 'x', size: 1, clicks: Uint8Array.of(0), prices: Float64Array.of(5), pctrs: Float64Array.of(0.01) });
 * ```
 */
export function checkAuctionLog(log: AuctionLog): AuctionLog {
  ensure(typeof log === 'object' && log !== null, 'E_INPUT', () => 'an auction log must be an object');
  const n = log.size;
  ensure(Number.isInteger(n) && n > 0, 'E_INPUT', () => `${log.source}: size must be a positive integer, got ${String(n)}`);
  ensure(
    log.clicks?.length >= n && log.prices?.length >= n && log.pctrs?.length >= n && (log.timestamps === undefined || log.timestamps.length >= n),
    'E_INPUT',
    () => `${log.source}: clicks, prices, pctrs (and timestamps) must each hold ${n} values`,
  );
  for (let i = 0; i < n; i++) {
    const click = log.clicks[i];
    const price = log.prices[i] as number;
    const pctr = log.pctrs[i] as number;
    if ((click !== 0 && click !== 1) || !(price >= 0 && price < Number.POSITIVE_INFINITY) || !(pctr >= 0 && pctr <= 1)) {
      throw new CtrkitError('E_INPUT', `${log.source}: auction ${i} is malformed (click ${String(click)}, price ${price}, pCTR ${pctr}); clicks are 0/1, prices finite ≥ 0, pCTRs in [0, 1]`, {
        details: { auction: i },
      });
    }
    if (log.timestamps !== undefined) {
      const t = log.timestamps[i] as number;
      if (!Number.isFinite(t) || (i > 0 && t < (log.timestamps[i - 1] as number))) {
        throw new CtrkitError('E_INPUT', `${log.source}: timestamp of auction ${i} is not finite or goes back in time (${t}); sort the log by time`, { details: { auction: i } });
      }
    }
  }
  return log;
}
