/**
 * A lookup's commands written straight into one buffer of RESP each: its `MGET`, whose key names
 * are never built as strings, and its script calls. Given ninety key names as arguments, ioredis
 * builds a command by concatenating strings (about 200 bytes of young-generation garbage an
 * argument) after the names themselves were built, and a cluster lookup allocated 100 KiB, so a
 * scavenge (about a millisecond on a busy two-core machine) landed in one lookup of a hundred;
 * written here, a command costs one buffer, outside the JavaScript heap when it is large.
 *
 * @internal
 */
import { Command } from 'ioredis';
import { type LookupIds } from './redis-keys.js';
import { utf8Length } from './utf8.js';

/** What sending a command needs of a connection (ioredis' `Redis`; not a `Cluster`, which routes by the command's keys). */
export interface CommandConnection {
  sendCommand(command: Command): unknown;
  /** ioredis' own writing of a command (which applies the client's `keyPrefix`). */
  callBuffer(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * The `keyPrefix` an ioredis client (`Redis`, or `Cluster` and its `redisOptions`) puts before
 * every key it is given; `''` when none. The commands written here do not know which arguments
 * are keys, so a client with a prefix gets ioredis' own writing.
 */
export function keyPrefixOf(client: unknown): string {
  const options = (client as { options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } } }).options;
  const prefix = options?.keyPrefix ?? options?.redisOptions?.keyPrefix;
  return typeof prefix === 'string' ? prefix : '';
}

/** A command whose RESP bytes are ready: ioredis writes them as they are and parses the reply as buffers. */
class EncodedCommand extends Command {
  private readonly encoded: Buffer;

  constructor(name: string, encoded: Buffer) {
    super(name, [], { replyEncoding: null });
    this.encoded = encoded;
  }

  override toWritable(): Buffer {
    return this.encoded;
  }
}

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes `n` in decimal at `at`; returns the offset after it. */
function writeUint(out: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

/** Writes `text` (`bytes` long in UTF-8) at `at`; returns the offset after it. */
function writeText(out: Buffer, at: number, text: string, bytes: number): number {
  if (bytes !== text.length) return at + out.write(text, at, bytes, 'utf8');
  for (let i = 0; i < bytes; i++) out[at + i] = text.charCodeAt(i);
  return at + bytes;
}

/** Writes the bytes of `text`, ASCII only (the command's own separators), at `at`; returns the offset after it. */
function writeAscii(out: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Key kinds of a lookup (see {@link LookupIds}): the user, an ad, a user × ad, × category, × advertiser pair. */
const USER = 0;
const AD = 1;
/** The separator after the user key of each pair kind (2, 3, 4). */
const PAIR_SEPARATOR = ['', '', '|a|', '|c|', '|v|'] as const;

/** The kind of key `i` of a lookup. */
function kindOf(ids: LookupIds, i: number): number {
  const nA = ids.ads.length;
  const nC = ids.categories.length;
  if (i === 0) return USER;
  if (i <= nA) return AD;
  if (i <= 2 * nA) return 2;
  return i <= 2 * nA + nC ? 3 : 4;
}

/** The id in key `i` of a lookup (`''` for the user's own key). */
function idOf(ids: LookupIds, i: number): string {
  const nA = ids.ads.length;
  const nC = ids.categories.length;
  if (i === 0) return '';
  if (i <= nA) return ids.ads[i - 1] as string;
  if (i <= 2 * nA) return ids.ads[i - 1 - nA] as string;
  if (i <= 2 * nA + nC) return ids.categories[i - 1 - 2 * nA] as string;
  return ids.advertisers[i - 1 - 2 * nA - nC] as string;
}

/**
 * The RESP bytes of `MGET` of the keys `order` of a lookup, named as `lookupKeyName` names them:
 * the user `userKey`, an ad `<prefix>{a:<id>}`, a pair `<userKey>|a|<bytes>:<id>` (`|c|`, `|v|`).
 */
export function encodeLookupMget(prefix: string, userKey: string, ids: LookupIds, order: readonly number[]): Buffer {
  const P = utf8Length(prefix);
  const U = utf8Length(userKey);
  const keyBytes = (kind: number, L: number): number => (kind === USER ? U : kind === AD ? P + 4 + L : U + 3 + digits(L) + 1 + L);
  let total = 1 + digits(order.length + 1) + 2 + 10; // *N\r\n $4\r\nmget\r\n
  for (const i of order) {
    const key = keyBytes(kindOf(ids, i), utf8Length(idOf(ids, i)));
    total += 1 + digits(key) + 2 + key + 2;
  }
  const out = Buffer.allocUnsafe(total);
  let at = writeAscii(out, 0, '*');
  at = writeUint(out, at, order.length + 1);
  at = writeAscii(out, at, '\r\n$4\r\nmget\r\n');
  let userAt = -1; // where the user key's bytes were first written, copied from then on
  for (const i of order) {
    const kind = kindOf(ids, i);
    const id = idOf(ids, i);
    const L = utf8Length(id);
    at = writeAscii(out, at, '$');
    at = writeUint(out, at, keyBytes(kind, L));
    at = writeAscii(out, at, '\r\n');
    if (kind === AD) {
      at = writeText(out, at, prefix, P);
      at = writeAscii(out, at, '{a:');
      at = writeText(out, at, id, L);
      at = writeAscii(out, at, '}');
    } else {
      if (userAt < 0) {
        userAt = at;
        at = writeText(out, at, userKey, U);
      } else {
        out.copyWithin(at, userAt, userAt + U); // no view, unlike Buffer#copy of a range
        at += U;
      }
      if (kind !== USER) {
        at = writeAscii(out, at, PAIR_SEPARATOR[kind] as string);
        at = writeUint(out, at, L);
        at = writeAscii(out, at, ':');
        at = writeText(out, at, id, L);
      }
    }
    at = writeAscii(out, at, '\r\n');
  }
  return out;
}

/** Sends `command` on `connection` and answers its reply. */
function send<T>(connection: CommandConnection, command: EncodedCommand): Promise<T> {
  connection.sendCommand(command);
  return command.promise as Promise<T>;
}

/** Sends `MGET` of the keys `order` of a lookup on `connection`; answers a buffer per key, `null` for an absent one. */
export function sendLookupMget(connection: CommandConnection, prefix: string, userKey: string, ids: LookupIds, order: readonly number[]): Promise<(Buffer | null)[]> {
  return send(connection, new EncodedCommand('mget', encodeLookupMget(prefix, userKey, ids, order)));
}

/** Whether `n` is written by its digits alone (a non-negative safe integer). */
function isPlainUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * The RESP bytes of the command `name` (ASCII) with `args`, as ioredis writes it: a string as its
 * UTF-8 bytes, a number as `String(n)`.
 */
export function encodeCommand(name: string, args: readonly (string | number)[]): Buffer {
  let total = 1 + digits(args.length + 1) + 2 + 1 + digits(name.length) + 2 + name.length + 2;
  for (const arg of args) {
    const bytes = typeof arg === 'number' ? (isPlainUint(arg) ? digits(arg) : String(arg).length) : utf8Length(arg);
    total += 1 + digits(bytes) + 2 + bytes + 2;
  }
  const out = Buffer.allocUnsafe(total);
  let at = writeAscii(out, 0, '*');
  at = writeUint(out, at, args.length + 1);
  at = writeAscii(out, at, '\r\n$');
  at = writeUint(out, at, name.length);
  at = writeAscii(out, at, '\r\n');
  at = writeAscii(out, at, name);
  at = writeAscii(out, at, '\r\n');
  for (const arg of args) {
    at = writeAscii(out, at, '$');
    if (typeof arg === 'number' && isPlainUint(arg)) {
      at = writeUint(out, at, digits(arg));
      at = writeAscii(out, at, '\r\n');
      at = writeUint(out, at, arg);
    } else {
      const text = typeof arg === 'number' ? String(arg) : arg;
      const bytes = typeof arg === 'number' ? text.length : utf8Length(text);
      at = writeUint(out, at, bytes);
      at = writeAscii(out, at, '\r\n');
      at = writeText(out, at, text, bytes);
    }
    at = writeAscii(out, at, '\r\n');
  }
  return out;
}

/** Sends the command `name` with `args` on `connection`, written by {@link encodeCommand}; answers its reply, strings as buffers. */
export function sendCommandBuffer<T>(connection: CommandConnection, name: string, args: readonly (string | number)[]): Promise<T> {
  return send(connection, new EncodedCommand(name.toLowerCase(), encodeCommand(name, args)));
}
